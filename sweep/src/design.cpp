#include <coopsweep/sweep/design.hpp>

#include <algorithm>
#include <iterator>
#include <string_view>

namespace coopsweep::sweep {

GridDesign::GridDesign(const SweepSpec& spec)
    : base_(spec.model), axes_(spec.axes), replicates_(spec.replicates), configuration_count_(1) {
  for (const auto& axis : axes_) configuration_count_ *= static_cast<std::int64_t>(axis.values.size());
}

std::vector<std::int64_t> GridDesign::shape() const {
  std::vector<std::int64_t> out;
  out.reserve(axes_.size());
  for (const auto& axis : axes_) out.push_back(static_cast<std::int64_t>(axis.values.size()));
  return out;
}

std::vector<std::int64_t> GridDesign::coordinates(std::int64_t configuration) const {
  std::vector<std::int64_t> out(axes_.size());
  for (std::size_t a = axes_.size(); a-- > 0;) {
    const auto size = static_cast<std::int64_t>(axes_[a].values.size());
    out[a] = configuration % size;
    configuration /= size;
  }
  return out;
}

std::string GridDesign::describe(std::int64_t configuration) const {
  const auto coords = coordinates(configuration);
  std::string out;
  for (std::size_t a = 0; a < axes_.size(); ++a) {
    if (a > 0) out += ", ";
    out += axes_[a].name + "=" + format_value(axes_[a].values[static_cast<std::size_t>(coords[a])]);
  }
  return out;
}

kernels::ModelParams GridDesign::configuration(std::int64_t configuration) const {
  kernels::ModelParams params = base_;
  const auto coords = coordinates(configuration);
  for (std::size_t a = 0; a < axes_.size(); ++a) {
    set_parameter(params, axes_[a].name, axes_[a].values[static_cast<std::size_t>(coords[a])]);
  }
  try {
    return resolve_model(params);
  } catch (const InputError& error) {
    if (axes_.empty()) throw;
    throw InputError(std::string(error.what()) + " (in the configuration " + describe(configuration) + ")");
  }
}

void GridDesign::validate_all() const {
  // Every axis value already passed its own domain check in parse_spec, and each
  // rule of resolve_model ties together parameters of one group only, so a grid
  // is valid when, for each group, every combination of that group's axes is
  // (the other axes at their first value). This keeps validation in proportion
  // to the axes' sizes rather than to the whole grid.
  static constexpr std::string_view rule_groups[][3] = {
      {"firms", "partners", "topology"}, {"rounds", "window", ""}, {"cooperators", "defectors", ""}};
  constexpr std::int64_t max_combinations = 100'000'000;
  std::vector<std::int64_t> strides(axes_.size(), 1);
  for (std::size_t a = axes_.size(); a-- > 1;) {
    strides[a - 1] = strides[a] * static_cast<std::int64_t>(axes_[a].values.size());
  }
  for (const auto& group : rule_groups) {
    std::vector<std::size_t> group_axes;
    std::int64_t combinations = 1;
    for (std::size_t a = 0; a < axes_.size(); ++a) {
      if (std::find(std::begin(group), std::end(group), axes_[a].name) != std::end(group)) {
        group_axes.push_back(a);
        combinations *= static_cast<std::int64_t>(axes_[a].values.size());
        if (combinations > max_combinations) {
          throw InputError("grid axes " + std::string(group[0]) + ", " + std::string(group[1]) +
                           (group[2].empty() ? "" : ", " + std::string(group[2])) +
                           " span more than 10^8 combinations; allowed: at most 10^8");
        }
      }
    }
    for (std::int64_t k = 0; k < combinations; ++k) {
      std::int64_t rest = k;
      std::int64_t configuration_index = 0;
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
