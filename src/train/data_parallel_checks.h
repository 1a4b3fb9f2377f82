#pragma once
// Checks that every rank of a data-parallel run was given the same thing: ranks that
// disagree on, say, the number of examples would wait for each other forever.
#include <initializer_list>

#include "axon/communicator.h"

namespace axon::detail {

// Fails on every rank, naming the first differing value's position, unless all ranks
// passed the same `values` (exact numbers: counts, options, seed halves).
void require_same_on_every_rank(Communicator& ranks, const char* what, std::initializer_list<double> values);

}  // namespace axon::detail
