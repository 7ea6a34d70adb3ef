#include <coopsweep/sweep/progress.hpp>

#include <cmath>
#include <cstdio>

namespace coopsweep::sweep {

ProgressLine::ProgressLine(std::ostream& out, bool interactive, std::chrono::duration<double> delay,
                           std::chrono::duration<double> quiet_interval)
    : out_(out),
      interactive_(interactive),
      delay_(delay),
      interval_(interactive ? std::chrono::duration<double>(0.25) : quiet_interval),
      started_(std::chrono::steady_clock::now()),
      last_print_(started_) {}

std::string ProgressLine::format_duration(double seconds) {
  if (!std::isfinite(seconds)) return "?";
  const auto total = static_cast<long long>(std::llround(seconds));
  char text[32];
  if (total >= 3600) {
    std::snprintf(text, sizeof text, "%lldh%02lldm", total / 3600, (total % 3600) / 60);
  } else if (total >= 60) {
    std::snprintf(text, sizeof text, "%lldm%02llds", total / 60, total % 60);
  } else {
    std::snprintf(text, sizeof text, "%llds", total);
  }
  return text;
}

std::string ProgressLine::format_rate(double per_second) {
  char text[32];
  if (per_second >= 1e6) {
    std::snprintf(text, sizeof text, "%.1fM", per_second / 1e6);
  } else if (per_second >= 1e3) {
    std::snprintf(text, sizeof text, "%.1fk", per_second / 1e3);
  } else {
    std::snprintf(text, sizeof text, "%.1f", per_second);
  }
  return text;
}

void ProgressLine::update(std::int64_t done, std::int64_t total) {
  const auto now = std::chrono::steady_clock::now();
  const std::chrono::duration<double> elapsed = now - started_;
  if (elapsed < delay_ || (drawn_ && now - last_print_ < interval_ && done < total)) return;
  last_print_ = now;
  const double rate = static_cast<double>(done - baseline_) / elapsed.count();
  const double left = rate > 0 ? static_cast<double>(total - done) / rate : NAN;
  char line[160];
  std::snprintf(line, sizeof line, "%lld/%lld runs (%.1f%%)  %s runs/s  elapsed %s  left %s",
                static_cast<long long>(done), static_cast<long long>(total),
                total > 0 ? 100.0 * static_cast<double>(done) / static_cast<double>(total) : 100.0,
                format_rate(rate).c_str(), format_duration(elapsed.count()).c_str(), format_duration(left).c_str());
  out_ << (interactive_ ? "\r" : "") << line << (interactive_ ? "\x1b[K" : "\n") << std::flush;
  drawn_ = true;
}

void ProgressLine::finish() {
  if (drawn_ && interactive_) out_ << "\n" << std::flush;
  drawn_ = false;
}

}  // namespace coopsweep::sweep
