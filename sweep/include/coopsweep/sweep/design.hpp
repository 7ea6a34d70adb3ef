#pragma once
// The design of a spec as a flat index space: the full-factorial grid of its
// [grid] axes crossed with the points of its [sample] design. Configuration c
// has the row-major coordinates (grid axes..., sample point), the first axis
// varying slowest and the sample point fastest, and run r = c * replicates +
// replicate. Everything downstream (the runner, the store, resume) sees only
// configuration_count() and configuration(c), whatever the design.

#include <coopsweep/kernels/model_params.hpp>
#include <coopsweep/sweep/sampling.hpp>
#include <coopsweep/sweep/spec.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace coopsweep::sweep {

class Design {
 public:
  // Keeps a copy of the spec's axes and fixed parameters and makes the sample
  // points of its [sample] design (seeded by the spec's seed: the same spec
  // always gives the same points). Cheap for grids; for samples, linear in
  // points x sampled parameters. Does not validate the configurations (see
  // validate_all). Throws InputError for a design the sampler refuses (a spec
  // from parse_spec never has one).
  explicit Design(const SweepSpec& spec);

  // Grid points x sample points (1 x ... without [grid] or [sample]).
  std::int64_t configuration_count() const noexcept { return configuration_count_; }
  // Replicates per configuration; with adaptive replication, the most.
  std::int64_t replicates() const noexcept { return replicates_; }
  std::int64_t run_count() const noexcept { return configuration_count_ * replicates_; }
  const std::vector<GridAxis>& axes() const noexcept { return axes_; }
  // One size per grid axis, then the number of sample points when sampled.
  std::vector<std::int64_t> shape() const;

  // The per-axis value indices of a configuration (row-major), then its
  // sample point when sampled.
  std::vector<std::int64_t> coordinates(std::int64_t configuration) const;

  // The sampled design: none without [sample].
  SampleDesign sample_design() const noexcept { return sample_.design; }
  const SampleSpec& sample() const noexcept { return sample_; }
  const std::vector<SampledParameter>& sampled() const noexcept { return sample_.parameters; }
  // Sample points (0 without [sample]) and grid points.
  std::int64_t sample_count() const noexcept { return points_.count; }
  std::int64_t grid_count() const noexcept { return grid_count_; }
  // The design's points in the unit cube, one coordinate per sampled
  // parameter, before they are mapped to the parameters' ranges.
  const UnitPoints& unit_points() const noexcept { return points_; }

  // The value of sampled parameter `parameter` at sample point `point`: a
  // real parameter takes lerp(low, high, u), an integer one the integer of
  // [low, high] under u (stratified designs spread the integers evenly:
  // integer_from_unit; Morris levels round to the nearest integer).
  ParameterValue sample_value(std::int64_t point, std::size_t parameter) const;
  // That value as a share of its range, (value - low) / (high - low) in [0, 1]:
  // the scale on which elementary effects are measured.
  double scaled_sample_value(std::int64_t point, std::size_t parameter) const;

  // The resolved parameters of a configuration. Throws InputError when the
  // combination breaks a rule of MODEL.md; the message names the parameter,
  // the value, what is allowed and the configuration (its grid values and
  // sample point).
  kernels::ModelParams configuration(std::int64_t configuration) const;

  // "scope=0.5, partners=4" (and "sample=12, benefit=2.5, ...") for messages
  // and summaries; sampled reals to `digits` significant digits when > 0,
  // else exactly (the shortest text that reads back to the value).
  std::string describe(std::int64_t configuration, int digits = 0) const;

  // Resolves every configuration whose parameters a rule of MODEL.md ties
  // together, so that a sweep never starts with a bad one among its millions.
  // Throws InputError on the first bad configuration.
  void validate_all() const;

 private:
  kernels::ModelParams base_;
  std::vector<GridAxis> axes_;
  SampleSpec sample_;
  UnitPoints points_;
  std::int64_t strata_ = 0;  // intervals per dimension of a stratified design, for integers
  std::int64_t replicates_;
  std::int64_t grid_count_ = 1;
  std::int64_t configuration_count_ = 1;
};

// The name of the grid-only design of earlier versions: a Design without [sample].
using GridDesign = Design;

}  // namespace coopsweep::sweep
