#include <coopsweep/kernels/metrics.hpp>

#include <algorithm>
#include <limits>

namespace coopsweep::kernels {

double payoff_gini(std::span<const double> window_payoffs, std::vector<double>& scratch) {
  const std::size_t n = window_payoffs.size();
  // Released first when it must grow, so that the old and the new copy are never
  // held at once (see exact_storage.hpp).
  if (n > scratch.capacity()) std::vector<double>().swap(scratch);
  scratch.assign(window_payoffs.begin(), window_payoffs.end());
  std::sort(scratch.begin(), scratch.end());
  double total = 0.0;
  for (double y : scratch) total += y;
  if (!(total > 0.0)) return std::numeric_limits<double>::quiet_NaN();
  // For ascending y, sum_i sum_j |y_i - y_j| = 2 sum_k k (n - k) (y_k - y_{k-1}):
  // a sum of non-negative gaps, so equal payoffs give exactly 0 and rounding
  // can never make the coefficient negative.
  double pairs = 0.0;
  for (std::size_t k = 1; k < n; ++k) {
    pairs += static_cast<double>(k) * static_cast<double>(n - k) * (scratch[k] - scratch[k - 1]);
  }
  return 2.0 * pairs / (2.0 * static_cast<double>(n) * total);
}

}  // namespace coopsweep::kernels
