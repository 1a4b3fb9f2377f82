// The MLP trained by axon from weights it saves to argv[1], on unshuffled batches: the
// losses to hold against bench/mlp_same_weights_torch.py, which loads those same weights into
// PyTorch. Run both with bench/mlp_same_weights.sh.
#include <cstdio>
#include "axon/axon.h"
using namespace axon;
int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: bench_mlp_same_weights INIT.safetensors\n");
    return 2;
  }
  const auto data = datasets::fashion_mnist();
  manual_seed(0);
  Sequential model(Shape{784});
  model.add(Dense(256, "relu"));
  model.add(Dense(128, "relu"));
  model.add(Dense(10, "softmax"));
  model.compile(Adam(1e-3), "sparse_categorical_crossentropy", {"accuracy"});
  save_weights(model, argv[1]);
  auto rec = std::make_shared<LambdaCallback>();
  int step = 0;
  rec->batch_end = [&](int64_t b, const Logs& logs) {
    if (b < 3 || b == 468) std::printf("batch %lld running loss %.6f\n", (long long)b, logs.at("loss"));
    ++step;
  };
  for (int e = 0; e < 3; ++e) {
    model.fit(data.x_train, data.y_train,
              {.epochs = 1, .batch_size = 128, .shuffle = false, .callbacks = {rec}, .verbose = 0});
    std::printf("epoch %d test %s\n", e + 1, model.evaluate(data.x_test, data.y_test, 1000).str().c_str());
  }
}
