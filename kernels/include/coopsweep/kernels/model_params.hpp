#pragma once
// The parameters of one configuration of the co-opetitive network model
// (shared/MODEL.md, "Parameters"), as plain data the kernels read.
//
// Kernels assume the values are valid; coopsweep::sweep validates them against
// MODEL.md's domains before anything runs.

#include <cstdint>

namespace coopsweep::kernels {

enum class Topology : std::uint8_t { ring, regular, small_world, scale_free, random, complete };
enum class Strategy : std::uint8_t { conditional = 0, cooperator = 1, defector = 2 };
enum class UpdateRule : std::uint8_t { none, fermi, death_birth };

struct ModelParams {
  std::int64_t firms = 100;
  std::int64_t partners = 4;
  Topology topology = Topology::regular;
  double rewire = 0.1;
  std::int64_t rounds = 200;
  std::int64_t window = 50;
  double scope = 0.5;
  double benefit = 3.0;
  double cost = 1.0;
  double synergy = 0.5;
  double market = 10.0;
  double upkeep = 0.2;
  double leakage = 0.05;
  double innovation = 0.1;
  double size_spread = 0.0;
  double trust_init = 0.6;
  double trust_threshold = 0.5;
  double trust_gain = 0.3;
  double trust_loss = 0.3;
  double trust_decay = 0.02;
  double exit_threshold = 0.05;
  double error = 0.0;
  double defectors = 0.1;
  double cooperators = 0.0;
  UpdateRule update_rule = UpdateRule::none;
  std::int64_t update_every = 10;
  std::int64_t births = 1;
  double selection = 1.0;
  double mutation = 0.0;
  bool stop_on_fixation = false;
};

// v(s) = s (2 - s): the value of cooperation at scope s, with diminishing returns
// because partners pool their most complementary activities first (MODEL.md, step 2).
constexpr double cooperation_value(double scope) noexcept { return scope * (2.0 - scope); }

}  // namespace coopsweep::kernels
