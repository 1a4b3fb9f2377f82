// Learns XOR with a 2-8-1 network: tanh hidden layer, sigmoid output, binary
// cross-entropy, Adam. Prints the loss as it trains and the final predictions.
#include <chrono>
#include <cstdio>

#include "axon/axon.h"

int main() {
  using namespace axon;
  const Tensor x = Tensor::from(std::vector<float>{0, 0, 0, 1, 1, 0, 1, 1}, {4, 2});
  const Tensor y = Tensor::from(std::vector<float>{0, 1, 1, 0}, {4, 1});

  manual_seed(42);
  Dense hidden(8, "tanh");
  Dense output(1, "sigmoid");
  Adam optimizer(0.05);
  const Variable input(x);
  hidden(input);  // first call builds the weights so the optimizer can see them
  output(hidden(input));
  std::vector<Variable> parameters = hidden.parameters();
  for (const Variable& p : output.parameters()) parameters.push_back(p);
  optimizer.set_parameters(parameters);

  const auto start = std::chrono::steady_clock::now();
  int step = 0;
  double loss_value = 1.0;
  for (; step < 2000 && loss_value > 0.01; ++step) {
    optimizer.zero_grad();
    Variable loss = binary_crossentropy(output(hidden(input)), y);
    loss.backward();
    optimizer.step();
    loss_value = loss.item();
    if (step % 100 == 0) std::printf("step %4d  loss %.4f\n", step, loss_value);
  }
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();

  NoGrad no_grad;
  const Tensor prediction = output(hidden(input)).value();
  int correct = 0;
  for (int i = 0; i < 4; ++i) {
    const int predicted = prediction.at({i, 0}) > 0.5 ? 1 : 0;
    correct += predicted == static_cast<int>(y.at({i, 0}));
    std::printf("%g xor %g -> %.3f (%d)\n", x.at({i, 0}), x.at({i, 1}), prediction.at({i, 0}), predicted);
  }
  std::printf("accuracy %d/4 after %d steps in %.1f ms (loss %.4f)\n", correct, step, ms, loss_value);
  return correct == 4 ? 0 : 1;
}
