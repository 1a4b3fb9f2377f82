// Text for Python: TextVectorization's adapt, vectorize and vocabulary, pad_sequences and
// generate (include/axon/{text,generation}.h).
#include <pybind11/stl.h>

#include "axon/generation.h"
#include "axon/text.h"
#include "bindings.h"
#include "numpy_tensor.h"

namespace axon::python {

namespace {

TextVectorization& text_layer(const std::shared_ptr<Module>& module) {
  auto* layer = dynamic_cast<TextVectorization*>(module.get());
  if (!layer) throw Error("not a TextVectorization layer");
  return *layer;
}

}  // namespace

void bind_text(py::module_& m) {
  m.def("text_adapt", [](const std::shared_ptr<Module>& layer, const std::vector<std::string>& texts) {
    py::gil_scoped_release release;
    text_layer(layer).adapt(texts);
  });
  m.def("text_vectorize", [](const std::shared_ptr<Module>& layer, const std::vector<std::string>& texts) {
    return to_numpy(text_layer(layer).vectorize(texts));
  });
  m.def("text_ids", [](const std::shared_ptr<Module>& layer, const std::string& text) {
    return text_layer(layer).ids(text);
  });
  m.def("text_vocabulary",
        [](const std::shared_ptr<Module>& layer) { return text_layer(layer).vocabulary(); });
  m.def("text_decode", [](const std::shared_ptr<Module>& layer, const std::vector<int64_t>& ids) {
    return text_layer(layer).decode(ids);
  });
  m.def("text_vectorization_of", [](const std::shared_ptr<Module>& model) {
    return std::static_pointer_cast<Module>(text_vectorization_of(*model));
  });
  m.def("pad_sequences", [](const std::vector<std::vector<int64_t>>& sequences, int64_t maxlen,
                            const std::string& padding, const std::string& truncating,
                            double value) { return to_numpy(pad_sequences(sequences, maxlen, padding, truncating, value)); });
  m.def("generate", [](const std::shared_ptr<Model>& model, const std::vector<int64_t>& prompt, int64_t tokens,
                       double temperature, int64_t top_k, uint64_t seed, bool cache) {
    py::gil_scoped_release release;
    return generate(*model, prompt,
                    {.tokens = tokens, .temperature = temperature, .top_k = top_k, .seed = seed, .cache = cache});
  });
}

}  // namespace axon::python
