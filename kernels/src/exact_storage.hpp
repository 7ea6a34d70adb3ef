#pragma once
// Growing the vectors of a replicate's state to exactly the size asked for.

#include <cstddef>
#include <type_traits>
#include <vector>

namespace coopsweep::kernels::detail {

// v.assign(n, value), except that when n exceeds the capacity the old storage
// is released before exactly n elements are allocated. std::vector's assign
// would hold the old and the new storage at once, and resize would double the
// capacity: for a graph of 10^9 edges either costs gigabytes more than
// kernels::replicate_memory allows for.
template <class T>
void assign_exactly(std::vector<T>& v, std::size_t n, const std::type_identity_t<T>& value) {
  if (n > v.capacity()) {
    std::vector<T>().swap(v);
    v.reserve(n);
  }
  v.assign(n, value);
}

}  // namespace coopsweep::kernels::detail
