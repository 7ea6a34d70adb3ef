#include <coopsweep/sweep/design.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iterator>
#include <stdexcept>
#include <string_view>

namespace coopsweep::sweep {
namespace {

UnitPoints make_points(const SampleSpec& sample, std::uint64_t seed) {
  const auto d = static_cast<std::int64_t>(sample.parameters.size());
  try {
    switch (sample.design) {
      case SampleDesign::none: return {};
      case SampleDesign::lhs: return latin_hypercube(sample.samples, d, seed);
      case SampleDesign::sobol: return scrambled_sobol(sample.samples, d, seed);
      case SampleDesign::random: return uniform_random(sample.samples, d, seed);
      case SampleDesign::saltelli: return saltelli_points(sample.samples, d, seed);
      case SampleDesign::morris: return morris_points(sample.trajectories, d, sample.levels, seed);
    }
  } catch (const std::invalid_argument& error) {
    throw InputError(std::string("[sample] ") + error.what());
  }
  return {};
}

// Intervals per dimension in which a design puts exactly one point each (0
// for none): integer parameters are then read from the interval, so that they
// keep the design's balance (integer_from_unit).
std::int64_t strata_of(const SampleSpec& sample) {
  switch (sample.design) {
    case SampleDesign::lhs:
    case SampleDesign::sobol:
    case SampleDesign::saltelli:  // each column of A and of B: `samples` Sobol' points
      return sample.samples;
    default: return 0;
  }
}

double as_number(const ParameterValue& v) {
  return std::holds_alternative<double>(v) ? std::get<double>(v) : static_cast<double>(std::get<std::int64_t>(v));
}

}  // namespace

Design::Design(const SweepSpec& spec)
    : base_(spec.model),
      axes_(spec.axes),
      sample_(spec.sample),
      points_(make_points(spec.sample, spec.seed)),
      strata_(strata_of(spec.sample)),
      replicates_(spec.replicates) {
  for (const auto& axis : axes_) grid_count_ *= static_cast<std::int64_t>(axis.values.size());
  configuration_count_ = grid_count_ * (sample_.design == SampleDesign::none ? 1 : points_.count);
}

std::vector<std::int64_t> Design::shape() const {
  std::vector<std::int64_t> out;
  out.reserve(axes_.size() + 1);
  for (const auto& axis : axes_) out.push_back(static_cast<std::int64_t>(axis.values.size()));
  if (sample_.design != SampleDesign::none) out.push_back(points_.count);
  return out;
}

std::vector<std::int64_t> Design::coordinates(std::int64_t configuration) const {
  const bool sampled = sample_.design != SampleDesign::none;
  std::vector<std::int64_t> out(axes_.size() + (sampled ? 1 : 0));
  if (sampled) {
    out.back() = configuration % points_.count;
    configuration /= points_.count;
  }
  for (std::size_t a = axes_.size(); a-- > 0;) {
    const auto size = static_cast<std::int64_t>(axes_[a].values.size());
    out[a] = configuration % size;
    configuration /= size;
  }
  return out;
}

ParameterValue Design::sample_value(std::int64_t point, std::size_t parameter) const {
  const SampledParameter& p = sample_.parameters[parameter];
  const double u = points_.at(point, static_cast<std::int64_t>(parameter));
  if (const auto* low = std::get_if<std::int64_t>(&p.low)) {
    const std::int64_t high = std::get<std::int64_t>(p.high);
    if (sample_.design == SampleDesign::morris) {
      return *low + static_cast<std::int64_t>(std::llround(u * static_cast<double>(high - *low)));
    }
    return integer_from_unit(u, *low, high, strata_);
  }
  // lerp gives low at u = 0 and exactly high at u = 1 (a Morris level), never outside.
  return std::lerp(std::get<double>(p.low), std::get<double>(p.high), u);
}

double Design::scaled_sample_value(std::int64_t point, std::size_t parameter) const {
  const SampledParameter& p = sample_.parameters[parameter];
  const double low = as_number(p.low);
  return (as_number(sample_value(point, parameter)) - low) / (as_number(p.high) - low);
}

std::string Design::describe(std::int64_t configuration, int digits) const {
  const auto coords = coordinates(configuration);
  std::string out;
  for (std::size_t a = 0; a < axes_.size(); ++a) {
    if (a > 0) out += ", ";
    out += axes_[a].name + "=" + format_value(axes_[a].values[static_cast<std::size_t>(coords[a])]);
  }
  if (sample_.design != SampleDesign::none) {
    const std::int64_t point = coords.back();
    out += (out.empty() ? "sample=" : ", sample=") + std::to_string(point);
    for (std::size_t j = 0; j < sample_.parameters.size(); ++j) {
      const ParameterValue value = sample_value(point, j);
      std::string text = format_value(value);
      if (digits > 0 && std::holds_alternative<double>(value)) {
        char rounded[32];
        std::snprintf(rounded, sizeof rounded, "%.*g", digits, std::get<double>(value));
        text = rounded;
      }
      out += ", " + sample_.parameters[j].name + "=" + text;
    }
  }
  return out;
}

kernels::ModelParams Design::configuration(std::int64_t configuration) const {
  kernels::ModelParams params = base_;
  const auto coords = coordinates(configuration);
  for (std::size_t a = 0; a < axes_.size(); ++a) {
    set_parameter(params, axes_[a].name, axes_[a].values[static_cast<std::size_t>(coords[a])]);
  }
  if (sample_.design != SampleDesign::none) {
    for (std::size_t j = 0; j < sample_.parameters.size(); ++j) {
      set_parameter(params, sample_.parameters[j].name, sample_value(coords.back(), j));
    }
  }
  try {
    return resolve_model(params);
  } catch (const InputError& error) {
    if (axes_.empty() && sample_.design == SampleDesign::none) throw;
    throw InputError(std::string(error.what()) + " (in the configuration " + describe(configuration) + ")");
  }
}

void Design::validate_all() const {
  // Every axis value and every sampled range already passed its own domain
  // check in parse_spec (a sampled value lies inside its range), and each rule
  // of resolve_model ties together parameters of one group only, so a design
  // is valid when, for each group, every combination of that group's grid
  // axes is, crossed with every sample point when a sampled parameter is in
  // the group (the other axes at their first value, the sample at its first
  // point otherwise). This keeps validation in proportion to the axes' sizes
  // and the sample rather than to the whole design.
  static constexpr std::string_view rule_groups[][3] = {
      {"firms", "partners", "topology"}, {"rounds", "window", ""}, {"cooperators", "defectors", ""}};
  constexpr std::int64_t max_combinations = 100'000'000;
  const bool sampled = sample_.design != SampleDesign::none;
  const std::int64_t samples = sampled ? points_.count : 1;
  std::vector<std::int64_t> strides(axes_.size(), samples);
  for (std::size_t a = axes_.size(); a-- > 1;) {
    strides[a - 1] = strides[a] * static_cast<std::int64_t>(axes_[a].values.size());
  }
  for (const auto& group : rule_groups) {
    const auto in_group = [&](const std::string& name) {
      return std::find(std::begin(group), std::end(group), name) != std::end(group);
    };
    std::vector<std::size_t> group_axes;
    std::int64_t combinations = 1;
    const auto grow = [&](std::int64_t size) {
      combinations *= size;
      if (combinations > max_combinations) {
        throw InputError("grid axes and sampled parameters " + std::string(group[0]) + ", " + std::string(group[1]) +
                         (group[2].empty() ? "" : ", " + std::string(group[2])) +
                         " span more than 10^8 combinations; allowed: at most 10^8");
      }
    };
    for (std::size_t a = 0; a < axes_.size(); ++a) {
      if (in_group(axes_[a].name)) {
        group_axes.push_back(a);
        grow(static_cast<std::int64_t>(axes_[a].values.size()));
      }
    }
    const bool group_sampled = std::any_of(sample_.parameters.begin(), sample_.parameters.end(),
                                           [&](const SampledParameter& p) { return in_group(p.name); });
    const std::int64_t points = group_sampled ? samples : 1;
    grow(points);
    for (std::int64_t k = 0; k < combinations; ++k) {
      std::int64_t rest = k / points;
      std::int64_t configuration_index = k % points;
      for (std::size_t r = group_axes.size(); r-- > 0;) {
        const auto size = static_cast<std::int64_t>(axes_[group_axes[r]].values.size());
        configuration_index += (rest % size) * strides[group_axes[r]];
        rest /= size;
      }
      configuration(configuration_index);
    }
  }
}

}  // namespace coopsweep::sweep
