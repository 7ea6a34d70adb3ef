#pragma once
// Growing the vectors of a replicate's state to exactly the size asked for.

#include <cstddef>
#include <iterator>
#include <type_traits>
#include <vector>

namespace coopsweep::kernels::detail {

// v.assign(n, value), except that when n exceeds the capacity the old storage
// is released before exactly n elements are allocated. std::vector's assign
// would hold the old and the new storage at once, and resize would double the
// capacity: for a graph of 10^9 edges either costs gigabytes more than
// kernels::replicate_memory and vectorized_memory allow for.
template <class T>
void assign_exactly(std::vector<T>& v, std::size_t n, const std::type_identity_t<T>& value) {
  if (n > v.capacity()) {
    std::vector<T>().swap(v);
    v.reserve(n);
  }
  v.assign(n, value);
}

// v.assign(first, last) (forward iterators), growing as assign_exactly above.
template <class T, class Iterator>
void assign_exactly(std::vector<T>& v, Iterator first, Iterator last) {
  const auto n = static_cast<std::size_t>(std::distance(first, last));
  if (n > v.capacity()) {
    std::vector<T>().swap(v);
    v.reserve(n);
  }
  v.assign(first, last);
}

}  // namespace coopsweep::kernels::detail
