#include <coopsweep/sweep/spec.hpp>

#include <toml++/toml.h>

#include <algorithm>
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
    if (k != "seed" && k != "replicates" && k != "model" && k != "grid" && k != "output") {
      throw InputError("unknown key '" + std::string(k) + "' in " + spec.source + where(node) +
                       "; allowed: seed, replicates, [model], [grid], [output]");
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

  std::int64_t runs = spec.replicates;
  for (const auto& axis : spec.axes) {
    const auto size = static_cast<std::int64_t>(axis.values.size());
    if (runs > max_runs / size) {
      throw InputError("the grid has too many runs (configurations x replicates); allowed: at most 2^48");
    }
    runs *= size;
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

SweepSpec load_spec(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError("cannot read spec file '" + path.string() + "'");
  std::ostringstream text;
  text << in.rdbuf();
  return parse_spec(text.str(), path.string());
}

}  // namespace coopsweep::sweep
