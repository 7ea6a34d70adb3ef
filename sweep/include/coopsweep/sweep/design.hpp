#pragma once
// The full-factorial grid of a spec as an index space: configuration c has the
// row-major coordinates of its axis values (the first axis varies slowest), and
// run r = c * replicates + replicate.

#include <coopsweep/kernels/model_params.hpp>
#include <coopsweep/sweep/spec.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace coopsweep::sweep {

class GridDesign {
 public:
  // Keeps a copy of the spec's axes and fixed parameters. Cheap; does not
  // validate the configurations (see validate_all).
  explicit GridDesign(const SweepSpec& spec);

  std::int64_t configuration_count() const noexcept { return configuration_count_; }
  std::int64_t replicates() const noexcept { return replicates_; }
  std::int64_t run_count() const noexcept { return configuration_count_ * replicates_; }
  const std::vector<GridAxis>& axes() const noexcept { return axes_; }
  std::vector<std::int64_t> shape() const;  // one size per axis

  // The per-axis value indices of a configuration (row-major).
  std::vector<std::int64_t> coordinates(std::int64_t configuration) const;

  // The resolved parameters of a configuration. Throws InputError when the
  // combination breaks a rule of MODEL.md; the message names the axis values.
  kernels::ModelParams configuration(std::int64_t configuration) const;

  // "scope=0.5, partners=4" for messages and summaries.
  std::string describe(std::int64_t configuration) const;

  // Resolves every configuration, so that a sweep never starts with a bad one
  // among its millions. Throws InputError on the first bad configuration.
  void validate_all() const;

 private:
  kernels::ModelParams base_;
  std::vector<GridAxis> axes_;
  std::int64_t replicates_;
  std::int64_t configuration_count_;
};

}  // namespace coopsweep::sweep
