#pragma once
// Several tensors of n rows as one (n, total) float32 tensor and back, so the DataLoader
// can shuffle and batch the inputs (or targets) of a model of several inputs (outputs)
// like any other: pack once before training, unpack each batch (a copy of its rows).
#include <vector>

#include "axon/tensor.h"

namespace axon::detail {

Tensor pack_rows(const std::vector<Tensor>& parts);
// The parts of rows packed by pack_rows, each (rows, shape...) of its example shape.
std::vector<Tensor> unpack_rows(const Tensor& packed, const std::vector<Shape>& shapes);

}  // namespace axon::detail
