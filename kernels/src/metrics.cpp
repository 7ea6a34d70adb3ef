#include <coopsweep/kernels/metrics.hpp>

#include <algorithm>
#include <limits>

namespace coopsweep::kernels {

double payoff_gini(std::span<const double> window_payoffs, std::vector<double>& scratch) {
  const std::size_t n = window_payoffs.size();
  scratch.assign(window_payoffs.begin(), window_payoffs.end());
  std::sort(scratch.begin(), scratch.end());
  double total = 0.0;
  // For ascending y, sum_i sum_j |y_i - y_j| = 2 sum_k (2k - n + 1) y_k (k from 0).
  double weighted = 0.0;
  for (std::size_t k = 0; k < n; ++k) {
    total += scratch[k];
    weighted += (2.0 * static_cast<double>(k) - static_cast<double>(n) + 1.0) * scratch[k];
  }
  if (!(total > 0.0)) return std::numeric_limits<double>::quiet_NaN();
  return 2.0 * weighted / (2.0 * static_cast<double>(n) * total);
}

}  // namespace coopsweep::kernels
