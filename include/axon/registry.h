#pragma once
// Registry: type name -> factory, for every kind of object a model file describes
// (layers and models, optimizers, augmentations), as Keras's register_keras_serializable.
// A type joins from its own .cpp with one line:
//
//   AXON_REGISTER(Module, "dense", Dense);          // Dense::from_config(const ConfigReader&)
//
// and is then rebuilt from {"type": "dense", ...} by Registry<Module>::create, and named
// back by Registry<Module>::name_of(layer) when a model is written. A type without a
// from_config is made with its default constructor (a subclassed Model is then built
// for the input shape its config holds).
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <typeindex>
#include <vector>

#include "axon/config.h"

namespace axon {

// A C++ type name as written ("MyLayer", not "7MyLayer").
std::string demangle(const char* mangled_name);

template <class Base>
class Registry {
 public:
  using Factory = std::function<std::shared_ptr<Base>(const ConfigReader&)>;

  static Registry& instance() {
    static Registry registry;
    return registry;
  }

  template <class T>
  bool add(const std::string& name) {
    Factory factory;
    if constexpr (requires(const ConfigReader& c) { T::from_config(c); })
      factory = [](const ConfigReader& c) -> std::shared_ptr<Base> { return T::from_config(c); };
    else
      factory = [](const ConfigReader& c) -> std::shared_ptr<Base> {
        auto made = std::make_shared<T>();
        if constexpr (requires(T & t) { t.build_from_config(c); })
          made->build_from_config(c);  // a subclassed Model: its input shape
        return made;
      };
    add(name, std::type_index(typeid(T)), std::move(factory));
    return true;
  }
  void add(const std::string& name, std::type_index type, Factory factory) {
    if (factories_.contains(name)) fail("Registry: the type name '", name, "' is registered twice");
    factories_[name] = std::move(factory);
    names_.emplace(type, name);
  }

  bool contains(const std::string& name) const { return factories_.contains(name); }
  // The registered name of object's dynamic type; fails when it has none.
  std::string name_of(const Base& object) const {
    const auto it = names_.find(std::type_index(typeid(object)));
    if (it == names_.end())
      fail("'", demangle(typeid(object).name()), "' is not registered, so it cannot be described in a model file; add ",
           "AXON_REGISTER(<base>, \"<name>\", <type>) to its .cpp (weights alone: save_weights)");
    return it->second;
  }
  // Builds the object that config's "type" names, from the rest of config.
  std::shared_ptr<Base> create(const ConfigReader& config) const {
    const std::string type = config.string("type");
    const auto it = factories_.find(type);
    if (it == factories_.end()) config.at("type").bad("a registered type (" + known() + ")");
    std::shared_ptr<Base> made = config.named([&] { return it->second(config); });
    config.reject_unknown();
    return made;
  }
  std::vector<std::string> names() const {  // every registered type name, sorted
    std::vector<std::string> out;
    for (const auto& entry : factories_) out.push_back(entry.first);
    return out;
  }
  std::string known() const {
    std::string names;
    for (const auto& [name, factory] : factories_) names += (names.empty() ? "" : ", ") + name;
    return names;
  }

 private:
  std::map<std::string, Factory> factories_;
  std::map<std::type_index, std::string> names_;
};

#define AXON_REGISTER_CONCAT_(a, b) a##b
#define AXON_REGISTER_CONCAT(a, b) AXON_REGISTER_CONCAT_(a, b)
// Registers Type (derived from Base) under `name`, from the Type's own .cpp.
#define AXON_REGISTER(Base, name, Type)                                                    \
  [[maybe_unused]] static const bool AXON_REGISTER_CONCAT(axon_registered_, __COUNTER__) = \
      ::axon::Registry<Base>::instance().template add<Type>(name)

}  // namespace axon
