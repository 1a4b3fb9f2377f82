// A tiny training through the installed headers only: y = x0 - x1 learned by a Dense
// layer. Prints the version and the loss before and after; exits 1 unless it fell.
#include <axon/axon.h>

#include <cstdio>

int main() {
  using namespace axon;
  manual_seed(1);
  Tensor x = Tensor::empty({64, 2}), y = Tensor::empty({64, 1});
  Generator generator(2);
  for (int64_t i = 0; i < 64; ++i) {
    const float a = static_cast<float>(generator.normal()), b = static_cast<float>(generator.normal());
    x.data<float>()[2 * i] = a;
    x.data<float>()[2 * i + 1] = b;
    y.data<float>()[i] = a - b;
  }
  Sequential model(Shape{2});
  model.add(Dense(1));
  model.compile(SGD(0.1), "mse");
  const double before = model.evaluate(x, y).at("loss");
  model.fit(x, y, {.epochs = 20, .batch_size = 16, .verbose = 0});
  const double after = model.evaluate(x, y).at("loss");
  std::printf("axon %s (headers %s): loss %.4f -> %.6f\n", version(), AXON_VERSION, before, after);
  return after < before / 100 ? 0 : 1;
}
