// The reference kernel's optional round-by-round output (RoundSeries): it must
// not change the metrics, and the window metrics must be its window averages.

#include <coopsweep/kernels/reference.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <numeric>

using namespace coopsweep::kernels;

namespace {

double window_mean(const std::vector<double>& values, std::int64_t window) {
  const auto first = values.end() - static_cast<std::ptrdiff_t>(window);
  return std::accumulate(first, values.end(), 0.0) / static_cast<double>(window);
}

}  // namespace

TEST_CASE("round series leave the metrics unchanged and average to the window metrics", "[reference][series]") {
  ModelParams p;
  p.firms = 40;
  p.rounds = 60;
  p.window = 20;
  p.error = 0.05;
  p.defectors = 0.2;
  p.size_spread = 0.4;
  SECTION("no strategy evolution") {}
  SECTION("fermi updating") {
    p.update_rule = UpdateRule::fermi;
    p.update_every = 5;
  }
  SECTION("a run ended early by fixation") {
    p.update_rule = UpdateRule::fermi;
    p.update_every = 1;
    p.selection = 5.0;
    p.defectors = 0.5;
    p.stop_on_fixation = true;
  }
  SECTION("no alliances at all") {
    p.topology = Topology::random;
    p.partners = 1;
    p.firms = 2;
  }
  for (std::uint64_t replicate = 0; replicate < 4; ++replicate) {
    INFO("replicate " << replicate);
    const ReplicateStream stream(9, 3, replicate);
    ReplicateState state;
    const RunMetrics plain = simulate_reference(p, stream, state);
    RoundSeries series;
    series.cooperation.assign(3, 99.0);  // replaced, not appended to
    const RunMetrics with_series = simulate_reference(p, stream, state, &series);
    CHECK(std::memcmp(plain.data(), with_series.data(), sizeof plain) == 0);

    const auto rounds = static_cast<std::int64_t>(at(plain, Metric::rounds_run));
    const std::int64_t window = std::min(p.window, rounds);
    REQUIRE(static_cast<std::int64_t>(series.cooperation.size()) == rounds);
    REQUIRE(series.trust.size() == series.cooperation.size());
    REQUIRE(series.payoff.size() == series.cooperation.size());
    REQUIRE(series.alliances.size() == series.cooperation.size());
    CHECK(window_mean(series.cooperation, window) == Approx(at(plain, Metric::cooperation)).margin(1e-12));
    CHECK(window_mean(series.trust, window) == Approx(at(plain, Metric::trust)).margin(1e-12));
    CHECK(window_mean(series.payoff, window) == Approx(at(plain, Metric::payoff)).epsilon(1e-12).margin(1e-12));
    if (p.update_rule != UpdateRule::death_birth) {
      CHECK(series.alliances.back() == at(plain, Metric::alliances));
    }
    // The first round below 5% cooperation is the breakdown round.
    const auto below = std::find_if(series.cooperation.begin(), series.cooperation.end(),
                                    [](double c) { return c < 0.05; });
    const double breakdown = below == series.cooperation.end()
                                 ? static_cast<double>(p.rounds + 1)
                                 : static_cast<double>(below - series.cooperation.begin() + 1);
    CHECK(breakdown == at(plain, Metric::breakdown_round));
    for (std::size_t t = 0; t < series.cooperation.size(); ++t) {
      CHECK((series.cooperation[t] >= 0.0 && series.cooperation[t] <= 1.0));
      CHECK((series.alliances[t] >= 0.0 && series.alliances[t] <= 1.0));
      if (t > 0 && p.update_rule == UpdateRule::none) CHECK(series.alliances[t] <= series.alliances[t - 1]);
    }
  }
}
