#pragma once
// A progress line for long runs: runs done, rate and time left.

#include <chrono>
#include <cstdint>
#include <ostream>
#include <string>

namespace coopsweep::sweep {

class ProgressLine {
 public:
  // `interactive`: rewrite one line in place (a terminal); otherwise print a
  // new line at most every `quiet_interval` (a log file under Slurm).
  ProgressLine(std::ostream& out, bool interactive,
               std::chrono::duration<double> delay = std::chrono::seconds(1),
               std::chrono::duration<double> quiet_interval = std::chrono::seconds(30));

  // Reports progress; prints nothing during the first `delay`, so short runs stay silent.
  void update(std::int64_t done, std::int64_t total);

  // Runs already done before this process started (a resumed sweep): the rate
  // and the time left count only the runs after them.
  void set_baseline(std::int64_t done) noexcept { baseline_ = done; }

  // Ends the line if one was drawn.
  void finish();

  // "12.3k runs/s", "4m05s": the formatting, exposed for tests.
  static std::string format_duration(double seconds);
  static std::string format_rate(double per_second);

 private:
  std::ostream& out_;
  bool interactive_;
  std::chrono::duration<double> delay_;
  std::chrono::duration<double> interval_;
  std::chrono::steady_clock::time_point started_;
  std::chrono::steady_clock::time_point last_print_;
  bool drawn_ = false;
  std::int64_t baseline_ = 0;
};

}  // namespace coopsweep::sweep
