#include "analyze.hpp"

#include "commands.hpp"

#include <coopsweep/io/file_info.hpp>
#include <coopsweep/kernels/metrics.hpp>
#include <coopsweep/sweep/design.hpp>
#include <coopsweep/sweep/parameters.hpp>
#include <coopsweep/sweep/sensitivity.hpp>
#include <coopsweep/sweep/spec.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

namespace coopsweep::cli {
namespace {

namespace fs = std::filesystem;

const io::AttributeValue* find_attribute(const io::FileInfo& info, std::string_view name) {
  for (const auto& a : info.attributes) {
    if (a.name == name) return &a.value;
  }
  return nullptr;
}

std::string json_number(double x) {
  if (!std::isfinite(x)) return "null";
  char text[32];
  const auto result = std::to_chars(text, text + sizeof text, x);
  return std::string(text, result.ptr);
}

std::string json_string(std::string_view text) {
  std::string out = "\"";
  for (const char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\u%04x", static_cast<unsigned>(c));
      out += escaped;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string json_array(const std::vector<double>& values) {
  std::string out = "[";
  for (std::size_t i = 0; i < values.size(); ++i) out += (i ? ", " : "") + json_number(values[i]);
  return out + "]";
}

std::string json_value(const sweep::ParameterValue& value) {
  return std::visit(
      [](const auto& v) -> std::string {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::string>) {
          return json_string(v);
        } else if constexpr (std::is_same_v<T, bool>) {
          return v ? "true" : "false";
        } else if constexpr (std::is_same_v<T, double>) {
          return json_number(v);
        } else {
          return std::to_string(v);
        }
      },
      value);
}

// 'text', built by appending: GCC 12 warns falsely (-Wrestrict, bug 105329)
// about "'" + std::string.
std::string in_quotes(std::string_view text) {
  std::string out = "'";
  out.append(text);
  out += "'";
  return out;
}

double as_number(const sweep::ParameterValue& v) {
  return std::holds_alternative<double>(v) ? std::get<double>(v) : static_cast<double>(std::get<std::int64_t>(v));
}

template <typename Member>
std::vector<double> bounds(const std::vector<sweep::Interval>& intervals, Member member) {
  std::vector<double> out;
  for (const auto& interval : intervals) out.push_back(interval.*member);
  return out;
}

// "  0.3123  [0.2891, 0.3350]" with NaN as "nan".
std::string estimate_text(double value, const sweep::Interval& interval) {
  char text[96];
  std::snprintf(text, sizeof text, "%8.4f  [%7.4f, %7.4f]", value, interval.low, interval.high);
  return text;
}

}  // namespace

int analyze_command(const AnalyzeArgs& args) {
  const auto bad_input = [](const std::string& message) {
    std::cerr << "coopsweep: error: " << message << "\n";
    return exit_bad_input;
  };
  if (args.bootstrap < 0 || !(args.confidence > 0.0 && args.confidence < 1.0)) {
    return bad_input("--bootstrap must be >= 0 and --confidence lie in (0, 1)");
  }
  const fs::path path(args.file);
  const std::string file = in_quotes(path.string());
  io::FileInfo info;
  try {
    info = io::read_file_info(path);
  } catch (const io::ResultsFileError& error) {
    return bad_input(error.what());
  }
  const auto* design_attribute = find_attribute(info, "sample_design");
  const std::string design_name =
      design_attribute != nullptr ? io::attribute_text(*design_attribute) : std::string("none");
  if (design_name != "saltelli" && design_name != "morris") {
    return bad_input(file + " holds a " +
                     (design_attribute ? in_quotes(design_name) + " design" : std::string("grid without [sample]")) +
                     "; allowed: the results of a sweep with [sample] design = 'saltelli' (Sobol' indices) or "
                     "'morris' (elementary effects)");
  }
  if (!info.completed) {
    return bad_input(file + " is incomplete (completed = 0); allowed: a finished file (continue the " +
                     "sweep with `coopsweep run SPEC -o FILE --resume`)");
  }
  std::string metrics;
  for (const auto& metric : kernels::metric_info) metrics += (metrics.empty() ? "" : ", ") + std::string(metric.name);
  if (std::none_of(kernels::metric_info.begin(), kernels::metric_info.end(),
                   [&](const kernels::MetricInfo& m) { return m.name == args.metric; })) {
    return bad_input("unknown metric " + in_quotes(args.metric) + "; allowed: " + metrics);
  }
  const auto* spec_text = find_attribute(info, "spec");
  const auto* spec_source = find_attribute(info, "spec_source");
  if (spec_text == nullptr) return bad_input(file + " has no 'spec' attribute to read its design from");

  try {
    // The stored spec gives the design: its ranges, sizes and grid; the
    // values come from the file.
    const sweep::SweepSpec spec =
        sweep::parse_spec(io::attribute_text(*spec_text), spec_source ? io::attribute_text(*spec_source) : "<file>");
    const sweep::Design design(spec);
    const auto d = static_cast<std::int64_t>(design.sampled().size());
    const std::int64_t points = design.sample_count();
    const std::string variable = args.metric + "_mean";
    const io::VariableData data = io::read_variable(path, variable);
    if (data.dims.empty() || data.dims.back() != "sample" || data.shape.back() != points ||
        static_cast<std::int64_t>(data.values.size()) != points * design.grid_count()) {
      return bad_input(file + ": variable '" + variable + "' does not have the " +
                       std::to_string(design.grid_count()) + " x " + std::to_string(points) +
                       " values of its spec's design");
    }
    sweep::BootstrapOptions options;
    options.resamples = args.bootstrap;
    options.confidence = args.confidence;
    options.seed = args.seed;

    // Morris effects are measured on each parameter's range, from the stored values.
    sweep::UnitPoints scaled;
    if (design_name == "morris") {
      scaled.count = points;
      scaled.dimensions = d;
      scaled.values.resize(static_cast<std::size_t>(points * d));
      for (std::int64_t j = 0; j < d; ++j) {
        const sweep::SampledParameter& p = design.sampled()[static_cast<std::size_t>(j)];
        const io::VariableData coordinate = io::read_variable(path, p.name);
        const double low = as_number(p.low), high = as_number(p.high);
        for (std::int64_t s = 0; s < points; ++s) {
          scaled.values[static_cast<std::size_t>(s * d + j)] = (coordinate.values[static_cast<std::size_t>(s)] - low) / (high - low);
        }
      }
    }

    const auto* replicates = find_attribute(info, "replicates");
    const bool adaptive = find_attribute(info, "replication_target_ci") != nullptr;
    const int percent = static_cast<int>(std::lround(100.0 * args.confidence));
    std::string json;
    if (args.json) {
      json = "{\"file\": " + json_string(path.string()) + ", \"metric\": " + json_string(args.metric) +
             ", \"variable\": " + json_string(variable) + ", \"design\": " + json_string(design_name) +
             ", \"parameters\": [";
      for (std::int64_t j = 0; j < d; ++j) json += (j ? ", " : "") + json_string(design.sampled()[static_cast<std::size_t>(j)].name);
      json += "], \"confidence\": " + json_number(args.confidence) + ", \"resamples\": " + std::to_string(args.bootstrap) +
              ", \"cells\": [";
    } else {
      std::printf("%s of %s (replicate mean) in %s\n",
                  design_name == "saltelli" ? "Sobol' indices" : "Morris elementary effects", args.metric.c_str(),
                  path.string().c_str());
      if (design_name == "saltelli") {
        std::printf("saltelli design: %lld base samples x (%lld parameters + 2) = %lld points", static_cast<long long>(spec.sample.samples),
                    static_cast<long long>(d), static_cast<long long>(points));
      } else {
        std::printf("morris design: %lld trajectories x (%lld parameters + 1) = %lld points, %lld levels",
                    static_cast<long long>(spec.sample.trajectories), static_cast<long long>(d),
                    static_cast<long long>(points), static_cast<long long>(spec.sample.levels));
      }
      std::printf(", %s%s replicates each; %d%% percentile bootstrap intervals (%lld resamples)\n",
                  adaptive ? "at most " : "", replicates ? io::attribute_text(*replicates).c_str() : "?", percent,
                  static_cast<long long>(args.bootstrap));
    }

    std::size_t width = 9;
    for (const auto& p : design.sampled()) width = std::max(width, p.name.size());
    for (std::int64_t cell = 0; cell < design.grid_count(); ++cell) {
      const std::span<const double> y(data.values.data() + cell * points, static_cast<std::size_t>(points));
      // The grid values of this cell: the grid coordinates of its first configuration.
      const auto coords = design.coordinates(cell * points);
      std::string label, grid_json;
      for (std::size_t a = 0; a < design.axes().size(); ++a) {
        const auto& value = design.axes()[a].values[static_cast<std::size_t>(coords[a])];
        label += (label.empty() ? "" : ", ") + design.axes()[a].name + "=" + sweep::format_value(value);
        grid_json += (grid_json.empty() ? "" : ", ") + json_string(design.axes()[a].name) + ": " + json_value(value);
      }
      if (args.json) json += std::string(cell ? ", " : "") + "{\"grid\": {" + grid_json + "}, ";
      if (!args.json && !label.empty()) std::printf("\nat %s:\n", label.c_str());

      if (design_name == "saltelli") {
        sweep::SobolIndices indices;
        try {
          indices = sweep::sobol_indices(y, d, options);
        } catch (const std::invalid_argument& error) {
          return bad_input(file + (label.empty() ? "" : " at " + label) + ": " + error.what());
        }
        if (args.json) {
          json += "\"base_samples\": " + std::to_string(indices.base_samples) + ", \"dropped\": " +
                  std::to_string(indices.dropped) + ", \"variance\": " + json_number(indices.variance) +
                  ", \"S1\": " + json_array(indices.first_order) +
                  ", \"S1_low\": " + json_array(bounds(indices.first_order_ci, &sweep::Interval::low)) +
                  ", \"S1_high\": " + json_array(bounds(indices.first_order_ci, &sweep::Interval::high)) +
                  ", \"ST\": " + json_array(indices.total) +
                  ", \"ST_low\": " + json_array(bounds(indices.total_ci, &sweep::Interval::low)) +
                  ", \"ST_high\": " + json_array(bounds(indices.total_ci, &sweep::Interval::high)) + "}";
          continue;
        }
        if (indices.dropped > 0) {
          std::printf("(%lld of %lld base samples left out: the metric is NaN at one of their points)\n",
                      static_cast<long long>(indices.dropped),
                      static_cast<long long>(indices.dropped + indices.base_samples));
        }
        if (!(indices.variance > 0.0)) {
          std::printf("%s does not vary over the sample: no indices\n", args.metric.c_str());
          continue;
        }
        std::printf("%-*s  %8s  %-18s  %8s  %-18s\n", static_cast<int>(width), "parameter", "S1",
                    (std::to_string(percent) + "% interval").c_str(), "ST", (std::to_string(percent) + "% interval").c_str());
        double sum = 0.0;
        for (std::size_t j = 0; j < static_cast<std::size_t>(d); ++j) {
          std::printf("%-*s  %s  %s\n", static_cast<int>(width), design.sampled()[j].name.c_str(),
                      estimate_text(indices.first_order[j], indices.first_order_ci[j]).c_str(),
                      estimate_text(indices.total[j], indices.total_ci[j]).c_str());
          sum += indices.first_order[j];
        }
        std::printf("sum of S1: %.4f (1 - sum: the share of the variance in interactions); variance %.6g\n", sum,
                    indices.variance);
      } else {
        sweep::MorrisIndices indices;
        try {
          indices = sweep::morris_indices(y, scaled, options);
        } catch (const std::invalid_argument& error) {
          return bad_input(file + (label.empty() ? "" : " at " + label) + ": " + error.what());
        }
        if (args.json) {
          json += "\"trajectories\": " + std::to_string(indices.trajectories) + ", \"dropped\": " +
                  std::to_string(indices.dropped) + ", \"mu\": " + json_array(indices.mu) +
                  ", \"mu_star\": " + json_array(indices.mu_star) +
                  ", \"mu_star_low\": " + json_array(bounds(indices.mu_star_ci, &sweep::Interval::low)) +
                  ", \"mu_star_high\": " + json_array(bounds(indices.mu_star_ci, &sweep::Interval::high)) +
                  ", \"sigma\": " + json_array(indices.sigma) + "}";
          continue;
        }
        if (indices.dropped > 0) {
          std::printf("(%lld of %lld trajectories left out: the metric is NaN at one of their points)\n",
                      static_cast<long long>(indices.dropped),
                      static_cast<long long>(indices.dropped + indices.trajectories));
        }
        std::printf("%-*s  %8s  %-18s  %8s  %8s\n", static_cast<int>(width), "parameter", "mu*",
                    (std::to_string(percent) + "% interval").c_str(), "mu", "sigma");
        for (std::size_t j = 0; j < static_cast<std::size_t>(d); ++j) {
          std::printf("%-*s  %s  %8.4g  %8.4g\n", static_cast<int>(width), design.sampled()[j].name.c_str(),
                      estimate_text(indices.mu_star[j], indices.mu_star_ci[j]).c_str(), indices.mu[j], indices.sigma[j]);
        }
        std::printf("effects are changes of %s per whole range of each parameter\n", args.metric.c_str());
      }
    }
    if (args.json) std::printf("%s]}\n", json.c_str());
  } catch (const sweep::InputError& error) {
    return bad_input("cannot read the design of " + file + " from its spec: " + error.what());
  } catch (const io::ResultsFileError& error) {
    return bad_input(error.what());
  }
  return exit_ok;
}

}  // namespace coopsweep::cli
