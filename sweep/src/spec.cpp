#include <coopsweep/sweep/spec.hpp>

#include <coopsweep/kernels/metrics.hpp>

#include <toml++/toml.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <fstream>
#include <sstream>

namespace coopsweep::sweep {
namespace {

std::string where(const toml::node& node) {
  const auto& begin = node.source().begin;
  return " (line " + std::to_string(begin.line) + ")";
}

std::string type_name(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::string: return "string";
    case toml::node_type::integer: return "integer";
    case toml::node_type::floating_point: return "float";
    case toml::node_type::boolean: return "boolean";
    case toml::node_type::array: return "array";
    case toml::node_type::table: return "table";
    default: return "date/time";
  }
}

// A TOML scalar as a parameter value; arrays, tables and dates are not values.
ParameterValue to_value(const std::string& key, const toml::node& node) {
  if (const auto* v = node.as_integer()) return v->get();
  if (const auto* v = node.as_floating_point()) return v->get();
  if (const auto* v = node.as_boolean()) return v->get();
  if (const auto* v = node.as_string()) return v->get();
  throw InputError("'" + key + "'" + where(node) + " must be a number, a boolean or a string");
}

std::int64_t integer_key(const toml::table& table, std::string_view key, std::int64_t fallback, std::int64_t lower,
                         std::int64_t upper, std::string_view allowed) {
  const toml::node* node = table.get(key);
  if (node == nullptr) return fallback;
  const auto* v = node->as_integer();
  if (v == nullptr || v->get() < lower || v->get() > upper) {
    const std::string shown = v ? std::to_string(v->get()) : "a value of type " + type_name(*node);
    throw InputError("'" + std::string(key) + "' = " + shown + where(*node) + " is not allowed; allowed: " +
                     std::string(allowed));
  }
  return v->get();
}

// Values of a { start, stop, num } axis, as numpy.linspace computes them.
std::vector<ParameterValue> linspace_axis(const std::string& name, const toml::table& range) {
  const ParameterInfo& info = find_parameter(name);
  for (auto&& [key, node] : range) {
    if (key != "start" && key != "stop" && key != "num") {
      throw InputError("grid axis '" + name + "' has unknown key '" + std::string(key.str()) + "'" + where(node) +
                       "; allowed: start, stop, num");
    }
  }
  const auto number = [&](std::string_view key) {
    const toml::node* node = range.get(key);
    if (node == nullptr) {
      throw InputError("grid axis '" + name + "' needs '" + std::string(key) + "'; allowed: { start = ..., stop = ..., num = ... }");
    }
    if (const auto* i = node->as_integer()) return static_cast<double>(i->get());
    if (const auto* f = node->as_floating_point()) return f->get();
    throw InputError("grid axis '" + name + "' key '" + std::string(key) + "'" + where(*node) + " must be a number");
  };
  if (info.kind != ParameterKind::integer && info.kind != ParameterKind::real) {
    throw InputError("grid axis '" + name + "' cannot be a { start, stop, num } range; allowed: a list of values (" +
                     std::string(info.domain) + ")");
  }
  const double start = number("start");
  const double stop = number("stop");
  const toml::node* num_node = range.get("num");
  const auto* num = num_node ? num_node->as_integer() : nullptr;
  if (num == nullptr || num->get() < 1 || num->get() > max_axis_values) {
    throw InputError("grid axis '" + name + "' key 'num'" + (num_node ? where(*num_node) : std::string()) +
                     " is not allowed; allowed: an integer, 1 to 10^6");
  }
  const std::int64_t count = num->get();
  std::vector<ParameterValue> values;
  values.reserve(static_cast<std::size_t>(count));
  const double step = count > 1 ? (stop - start) / static_cast<double>(count - 1) : 0.0;
  for (std::int64_t i = 0; i < count; ++i) {
    const double x = i == count - 1 && count > 1 ? stop : start + static_cast<double>(i) * step;
    if (info.kind == ParameterKind::integer) {
      const double rounded = std::round(x);
      if (std::abs(x - rounded) > 1e-9 * std::max(1.0, std::abs(x))) {
        throw InputError("grid axis '" + name + "' = { start = " + format_value(start) + ", stop = " +
                         format_value(stop) + ", num = " + std::to_string(count) + " } gives " + format_value(x) +
                         ", not an integer; allowed: " + std::string(info.domain));
      }
      values.emplace_back(static_cast<std::int64_t>(rounded));
    } else {
      values.emplace_back(x);
    }
  }
  return values;
}

GridAxis parse_axis(const std::string& name, const toml::node& node) {
  find_parameter(name);  // unknown names fail here, with a suggestion
  GridAxis axis{name, {}};
  if (const auto* list = node.as_array()) {
    for (const auto& element : *list) axis.values.push_back(to_value(name, element));
  } else if (const auto* range = node.as_table()) {
    axis.values = linspace_axis(name, *range);
  } else {
    throw InputError("grid axis '" + name + "'" + where(node) +
                     " must be a list of values or { start = ..., stop = ..., num = ... }");
  }
  if (axis.values.empty()) {
    throw InputError("grid axis '" + name + "'" + where(node) + " is empty; allowed: at least one value");
  }
  kernels::ModelParams scratch;
  for (std::size_t i = 0; i < axis.values.size(); ++i) {
    set_parameter(scratch, name, axis.values[i]);
    for (std::size_t j = 0; j < i; ++j) {
      if (axis.values[j] == axis.values[i]) {
        throw InputError("grid axis '" + name + "'" + where(node) + " repeats the value " +
                         format_value(axis.values[i]) + "; allowed: distinct values");
      }
    }
  }
  return axis;
}

template <typename Visit>
void for_each_in_file_order(const toml::table& table, Visit&& visit) {
  // toml++ keeps keys sorted; the spec's own order decides the order of dimensions.
  std::vector<std::pair<std::string, const toml::node*>> entries;
  for (auto&& [key, node] : table) entries.emplace_back(std::string(key.str()), &node);
  std::stable_sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
    const auto& pa = a.second->source().begin;
    const auto& pb = b.second->source().begin;
    return pa.line != pb.line ? pa.line < pb.line : pa.column < pb.column;
  });
  for (const auto& [key, node] : entries) visit(key, *node);
}

const toml::table& section(const toml::table& root, std::string_view name) {
  static const toml::table empty;
  const toml::node* node = root.get(name);
  if (node == nullptr) return empty;
  if (const auto* table = node->as_table()) return *table;
  throw InputError("'" + std::string(name) + "'" + where(*node) + " must be a table ([" + std::string(name) + "])");
}

bool contains(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

constexpr std::pair<std::string_view, SampleDesign> design_names[] = {
    {"lhs", SampleDesign::lhs},           {"sobol", SampleDesign::sobol},   {"random", SampleDesign::random},
    {"saltelli", SampleDesign::saltelli}, {"morris", SampleDesign::morris},
};

// One [sample.ranges] entry: [low, high] of an integer or real parameter,
// each bound inside the parameter's domain (set_parameter's message names the
// parameter, the value and the domain), low below high.
SampledParameter parse_range(const std::string& name, const toml::node& node, SampleDesign design,
                             std::int64_t levels) {
  const ParameterInfo& info = find_parameter(name);  // unknown names fail here, with a suggestion
  if (info.kind != ParameterKind::integer && info.kind != ParameterKind::real) {
    throw InputError("parameter '" + name + "'" + where(node) + " cannot be sampled; allowed: integer and real " +
                     "parameters (a " + (info.kind == ParameterKind::choice ? "choice" : "boolean") +
                     " takes its values from [grid])");
  }
  const auto* pair = node.as_array();
  if (pair == nullptr || pair->size() != 2) {
    throw InputError("'[sample.ranges] " + name + "'" + where(node) + " must be [low, high]");
  }
  SampledParameter out{name, to_value(name, *pair->get(0)), to_value(name, *pair->get(1))};
  kernels::ModelParams scratch;
  set_parameter(scratch, name, out.low);
  set_parameter(scratch, name, out.high);
  if (info.kind == ParameterKind::real) {
    // Stored as doubles whether written 1 or 1.0.
    for (ParameterValue* bound : {&out.low, &out.high}) {
      if (const auto* i = std::get_if<std::int64_t>(bound)) *bound = static_cast<double>(*i);
    }
  }
  const auto number = [](const ParameterValue& v) {
    return std::holds_alternative<double>(v) ? std::get<double>(v) : static_cast<double>(std::get<std::int64_t>(v));
  };
  if (!(number(out.low) < number(out.high))) {
    throw InputError("'[sample.ranges] " + name + "' = [" + format_value(out.low) + ", " + format_value(out.high) +
                     "]" + where(node) + " is not allowed; allowed: [low, high] with low < high");
  }
  if (design == SampleDesign::morris && info.kind == ParameterKind::integer &&
      std::get<std::int64_t>(out.high) - std::get<std::int64_t>(out.low) < levels - 1) {
    throw InputError("'[sample.ranges] " + name + "' = [" + format_value(out.low) + ", " + format_value(out.high) +
                     "]" + where(node) + " has fewer integers than the " + std::to_string(levels) +
                     " Morris levels; allowed: high - low >= levels - 1");
  }
  return out;
}

SampleSpec parse_sample(const toml::table& table, const SweepSpec& spec) {
  SampleSpec sample;
  for (auto&& [key, node] : table) {
    const std::string_view k = key.str();
    if (k != "design" && k != "samples" && k != "trajectories" && k != "levels" && k != "ranges") {
      throw InputError("unknown key '" + std::string(k) + "' in [sample]" + where(node) +
                       "; allowed: design, samples, trajectories, levels, [sample.ranges]");
    }
  }
  const toml::node* design = table.get("design");
  const auto* design_text = design ? design->as_string() : nullptr;
  if (design_text != nullptr) {
    for (const auto& [name, value] : design_names) {
      if (design_text->get() == name) sample.design = value;
    }
  }
  if (sample.design == SampleDesign::none) {
    const std::string shown = design == nullptr      ? std::string("missing")
                              : design_text != nullptr ? "'" + design_text->get() + "'"
                                                       : "a value of type " + type_name(*design);
    throw InputError("'[sample] design' = " + shown + (design ? where(*design) : std::string()) +
                     " is not allowed; allowed: 'lhs', 'sobol', 'random', 'saltelli', 'morris'");
  }
  const std::string design_label = "'" + std::string(design_name(sample.design)) + "'";
  const auto refuse_key = [&](std::string_view key, std::string_view instead) {
    if (const toml::node* node = table.get(key)) {
      throw InputError("'[sample] " + std::string(key) + "'" + where(*node) + " does not apply to design " +
                       design_label + "; allowed: " + std::string(instead));
    }
  };
  if (sample.design == SampleDesign::morris) {
    refuse_key("samples", "trajectories and levels");
    if (table.get("trajectories") == nullptr) {
      throw InputError("design 'morris' needs '[sample] trajectories'; allowed: an integer >= 1");
    }
    sample.trajectories = integer_key(table, "trajectories", 0, 1, max_sample_points, "an integer, 1 to 2^22");
    sample.levels = integer_key(table, "levels", 4, 2, 1024, "an even integer, 2 to 1024");
    if (sample.levels % 2 != 0) {
      throw InputError("'[sample] levels' = " + std::to_string(sample.levels) + where(*table.get("levels")) +
                       " is not allowed; allowed: an even integer, 2 to 1024");
    }
  } else {
    refuse_key("trajectories", "samples");
    refuse_key("levels", "samples");
    if (table.get("samples") == nullptr) {
      throw InputError("design " + design_label + " needs '[sample] samples'; allowed: an integer >= 1");
    }
    sample.samples = integer_key(table, "samples", 0, 1, max_sample_points, "an integer, 1 to 2^22");
    if ((sample.design == SampleDesign::sobol || sample.design == SampleDesign::saltelli) &&
        !std::has_single_bit(static_cast<std::uint64_t>(sample.samples))) {
      throw InputError("'[sample] samples' = " + std::to_string(sample.samples) + where(*table.get("samples")) +
                       " is not allowed for design " + design_label +
                       "; allowed: a power of 2 (Sobol' points are balanced only then), e.g. " +
                       std::to_string(std::bit_floor(static_cast<std::uint64_t>(sample.samples))) + " or " +
                       std::to_string(std::bit_ceil(static_cast<std::uint64_t>(sample.samples))));
    }
  }

  const toml::node* ranges_node = table.get("ranges");
  const auto* ranges = ranges_node ? ranges_node->as_table() : nullptr;
  if (ranges == nullptr || ranges->empty()) {
    throw InputError("[sample] needs [sample.ranges] with at least one parameter = [low, high]");
  }
  for_each_in_file_order(*ranges, [&](const std::string& name, const toml::node& node) {
    if (contains(spec.fixed, name)) {
      throw InputError("parameter '" + name + "'" + where(node) +
                       " is both fixed in [model] and sampled in [sample.ranges]; allowed: one of the two");
    }
    if (std::any_of(spec.axes.begin(), spec.axes.end(), [&](const GridAxis& a) { return a.name == name; })) {
      throw InputError("parameter '" + name + "'" + where(node) +
                       " is both swept in [grid] and sampled in [sample.ranges]; allowed: one of the two");
    }
    sample.parameters.push_back(parse_range(name, node, sample.design, sample.levels));
  });
  if (sample.points() > max_sample_points) {
    throw InputError("[sample] has " + std::to_string(sample.points()) + " points (" +
                     std::to_string(sample.parameters.size()) + " parameters); allowed: at most 2^22");
  }
  return sample;
}

ReplicationSpec parse_replication(const toml::table& table) {
  ReplicationSpec rule;
  for (auto&& [key, node] : table) {
    const std::string_view k = key.str();
    if (k != "target_ci" && k != "metrics" && k != "min" && k != "max" && k != "step") {
      throw InputError("unknown key '" + std::string(k) + "' in [replication]" + where(node) +
                       "; allowed: target_ci, metrics, min, max, step");
    }
  }
  const toml::node* target = table.get("target_ci");
  const auto* integer = target ? target->as_integer() : nullptr;
  const auto* real = target ? target->as_floating_point() : nullptr;
  const double width = integer ? static_cast<double>(integer->get()) : real ? real->get() : -1.0;
  if (target == nullptr || (integer == nullptr && real == nullptr) || !std::isfinite(width) || width <= 0.0) {
    throw InputError("'[replication] target_ci'" + (target ? where(*target) : std::string(" (missing)")) +
                     " is not allowed; allowed: a number > 0, the full width of the 95% confidence interval");
  }
  rule.target_ci = width;
  std::string known;
  for (const auto& info : kernels::metric_info) known += (known.empty() ? "" : ", ") + std::string(info.name);
  if (const toml::node* node = table.get("metrics")) {
    const auto* list = node->as_array();
    if (list == nullptr || list->empty()) {
      throw InputError("'[replication] metrics'" + where(*node) + " must be a non-empty list of metric names");
    }
    for (const auto& element : *list) {
      const auto* name = element.as_string();
      const bool valid = name != nullptr && std::any_of(kernels::metric_info.begin(), kernels::metric_info.end(),
                                                        [&](const auto& info) { return info.name == name->get(); });
      if (!valid) {
        throw InputError("'[replication] metrics' has " +
                         (name ? "the unknown metric '" + name->get() + "'" : "a " + type_name(element)) +
                         where(element) + "; allowed: " + known);
      }
      if (contains(rule.metrics, name->get())) {
        throw InputError("'[replication] metrics' repeats '" + name->get() + "'" + where(element) +
                         "; allowed: distinct metrics");
      }
      rule.metrics.push_back(name->get());
    }
  } else {
    rule.metrics = {"cooperation"};
  }
  rule.min = integer_key(table, "min", 8, 2, max_replicates, "an integer, 2 to 2^32");
  rule.max = integer_key(table, "max", std::max<std::int64_t>(1024, rule.min), 2, max_replicates,
                         "an integer, 2 to 2^32");
  if (rule.max < rule.min) {
    throw InputError("'[replication] max' = " + std::to_string(rule.max) + where(*table.get("max")) +
                     " is not allowed; allowed: at least min = " + std::to_string(rule.min));
  }
  rule.step = integer_key(table, "step", 0, 1, max_replicates, "an integer, 1 to 2^32 (leave it out to double)");
  return rule;
}

}  // namespace

SweepSpec parse_spec(std::string_view text, std::string_view source) {
  toml::table root;
  try {
    root = toml::parse(text, source);
  } catch (const toml::parse_error& error) {
    const auto& begin = error.source().begin;
    throw InputError("malformed TOML in " + std::string(source) + " at line " + std::to_string(begin.line) +
                     ", column " + std::to_string(begin.column) + ": " + std::string(error.description()));
  }

  SweepSpec spec;
  spec.text = std::string(text);
  spec.source = std::string(source);
  for (auto&& [key, node] : root) {
    const std::string_view k = key.str();
    if (k != "seed" && k != "replicates" && k != "model" && k != "grid" && k != "sample" && k != "replication" &&
        k != "output") {
      throw InputError("unknown key '" + std::string(k) + "' in " + spec.source + where(node) +
                       "; allowed: seed, replicates, [model], [grid], [sample], [replication], [output]");
    }
  }
  spec.seed = static_cast<std::uint64_t>(
      integer_key(root, "seed", 0, 0, std::numeric_limits<std::int64_t>::max(), "an integer >= 0"));
  spec.replicates = integer_key(root, "replicates", 1, 1, max_replicates, "an integer, 1 to 2^32");

  for_each_in_file_order(section(root, "model"), [&](const std::string& name, const toml::node& node) {
    set_parameter(spec.model, name, to_value(name, node));
    spec.fixed.push_back(name);
  });
  for_each_in_file_order(section(root, "grid"), [&](const std::string& name, const toml::node& node) {
    if (std::find(spec.fixed.begin(), spec.fixed.end(), name) != spec.fixed.end()) {
      throw InputError("parameter '" + name + "'" + where(node) +
                       " is both fixed in [model] and swept in [grid]; allowed: one of the two");
    }
    spec.axes.push_back(parse_axis(name, node));
  });
  if (root.get("sample") != nullptr) spec.sample = parse_sample(section(root, "sample"), spec);
  if (root.get("replication") != nullptr) {
    if (const toml::node* fixed = root.get("replicates")) {
      throw InputError("'replicates'" + where(*fixed) +
                       " and [replication] exclude each other; allowed: a fixed count, or [replication] with " +
                       "min and max");
    }
    spec.replication = parse_replication(section(root, "replication"));
    spec.replicates = spec.replication.max;
  }

  std::int64_t runs = spec.replicates;
  for (const auto& axis : spec.axes) {
    const auto size = static_cast<std::int64_t>(axis.values.size());
    if (runs > max_runs / size) {
      throw InputError("the grid has too many runs (configurations x replicates); allowed: at most 2^48");
    }
    runs *= size;
  }
  if (spec.sample.points() > 0 && runs > max_runs / spec.sample.points()) {
    throw InputError("the design has too many runs (grid points x sample points x replicates); allowed: at most 2^48");
  }

  const toml::table& output = section(root, "output");
  for (auto&& [key, node] : output) {
    if (key == "path") {
      const auto* path = node.as_string();
      if (path == nullptr || path->get().empty()) {
        throw InputError("'[output] path'" + where(node) + " must be a non-empty string");
      }
      spec.output_path = path->get();
    } else if (key == "timeseries") {
      const auto* flag = node.as_boolean();
      if (flag == nullptr) {
        throw InputError("'[output] timeseries'" + where(node) + " must be true or false");
      }
      spec.timeseries = flag->get();
    } else if (key == "timeseries_limit_gb") {
      const auto* integer = node.as_integer();
      const auto* real = node.as_floating_point();
      const double limit = integer ? static_cast<double>(integer->get()) : real ? real->get() : -1.0;
      if ((integer == nullptr && real == nullptr) || !std::isfinite(limit) || limit <= 0.0) {
        throw InputError("'[output] timeseries_limit_gb'" + where(node) +
                         " is not allowed; allowed: a number of gigabytes > 0");
      }
      spec.timeseries_limit_gb = limit;
    } else {
      throw InputError("unknown key '" + std::string(key.str()) + "' in [output]" + where(node) +
                       "; allowed: path, timeseries, timeseries_limit_gb");
    }
  }
  return spec;
}

std::string_view design_name(SampleDesign design) noexcept {
  for (const auto& [name, value] : design_names) {
    if (value == design) return name;
  }
  return "none";
}

std::int64_t SampleSpec::points() const noexcept {
  const auto d = static_cast<std::int64_t>(parameters.size());
  switch (design) {
    case SampleDesign::none: return 0;
    case SampleDesign::saltelli: return samples * (d + 2);
    case SampleDesign::morris: return trajectories * (d + 1);
    default: return samples;
  }
}

SweepSpec load_spec(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError("cannot read spec file '" + path.string() + "'");
  std::ostringstream text;
  text << in.rdbuf();
  return parse_spec(text.str(), path.string());
}

}  // namespace coopsweep::sweep
