#pragma once
// The fusion planner: which two consecutive layer calls run as one op. A model's
// graph asks it once, when the model is built (see train/graph.h); layers stay plain.
//   Conv2D (relu or linear) -> MaxPool2D   one conv2d_max_pool2d op: the convolution's
//                                          output is never stored whole
//   QuantizedConv2D (relu or linear)       pooled on the int8 GEMM's output rows
//     -> MaxPool2D
#include <functional>
#include <optional>

#include "axon/module.h"

namespace axon {

using FusedCall = std::function<Variable(const Variable&)>;

// consumer(producer(x)) as one call, when the consumer alone reads the producer's output
// and a fusion exists for the pair; nothing otherwise.
std::optional<FusedCall> fuse(Module& producer, Module& consumer);

}  // namespace axon
