#pragma once
// Random image augmentation for training batches of (N, C, H, W) images, as torchvision's
// RandomHorizontalFlip / RandomCrop(padding=p) or Keras's RandomFlip / RandomTranslation:
//
//   model.fit(x, y, {.epochs = 10, .augment = {std::make_shared<RandomFlip>(),
//                                              std::make_shared<RandomTranslation>(2)}});
//
// fit's DataLoader applies them, in order, to each training batch (its own copy of the
// examples); validation, evaluate and predict never see them. The draws depend only on
// the seed, the epoch and the batch, so a run, and a resumed run, repeats exactly.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "axon/config.h"
#include "axon/random.h"
#include "axon/tensor.h"

namespace axon {

class Augmentation {
 public:
  virtual ~Augmentation() = default;
  // Transforms `images` (N, C, H, W) float32 in place, drawing from `generator`.
  virtual void apply(Tensor& images, Generator& generator) const = 0;
  virtual std::string name() const = 0;  // as in the JSON spec: "random_flip"
  // Its settings; rebuilt through its registered from_config (see registry.h).
  virtual Config config() const = 0;
};

// Mirrors each image with probability 1/2: left-right ("horizontal"), top-bottom
// ("vertical"), or each independently ("horizontal_and_vertical").
class RandomFlip : public Augmentation {
 public:
  explicit RandomFlip(const std::string& mode = "horizontal");
  void apply(Tensor& images, Generator& generator) const override;
  std::string name() const override { return "random_flip"; }
  Config config() const override { return Config::object().set("mode", mode_); }
  static std::shared_ptr<RandomFlip> from_config(const ConfigReader& config);
  const std::string& mode() const { return mode_; }

 private:
  std::string mode_;
  bool horizontal_, vertical_;
};

// Shifts each image by (dy, dx), each uniform in [-pixels, pixels], filling the uncovered
// border with zeros: a random H x W crop of the image padded by `pixels` on every side.
class RandomTranslation : public Augmentation {
 public:
  explicit RandomTranslation(int64_t pixels);
  void apply(Tensor& images, Generator& generator) const override;
  std::string name() const override { return "random_translation"; }
  Config config() const override { return Config::object().set("pixels", pixels_); }
  static std::shared_ptr<RandomTranslation> from_config(const ConfigReader& config);
  int64_t pixels() const { return pixels_; }

 private:
  int64_t pixels_;
};

using Augmentations = std::vector<std::shared_ptr<const Augmentation>>;

}  // namespace axon
