#include <coopsweep/sweep/memory.hpp>

#include <coopsweep/kernels/vectorized.hpp>
#include <coopsweep/sweep/parameters.hpp>

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <limits>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace coopsweep::sweep {
namespace {

// The number in a one-line file ("max" or anything unreadable: none).
std::optional<double> read_number(const std::string& path) {
  std::ifstream in(path);
  double value = 0.0;
  if (!(in >> value)) return std::nullopt;
  return value;
}

// MemAvailable of /proc/meminfo, in bytes.
std::optional<double> meminfo_available() {
  std::ifstream in("/proc/meminfo");
  std::string key;
  double kib = 0.0;
  std::string unit;
  while (in >> key >> kib >> unit) {
    if (key == "MemAvailable:") return kib * 1024.0;
  }
  return std::nullopt;
}

// The tightest cgroup v2 limit over the process's cgroup and its ancestors:
// memory.max - memory.current of each that has a limit.
std::optional<std::pair<double, std::string>> cgroup_available() {
  std::ifstream in("/proc/self/cgroup");
  std::string line;
  std::string path;
  while (std::getline(in, line)) {
    if (line.rfind("0::", 0) == 0) path = line.substr(3);
  }
  if (path.empty()) return std::nullopt;
  std::optional<std::pair<double, std::string>> best;
  while (true) {
    const std::string directory = "/sys/fs/cgroup" + (path == "/" ? std::string() : path);
    const auto max = read_number(directory + "/memory.max");
    const auto current = read_number(directory + "/memory.current");
    if (max && current) {
      const double left = std::max(0.0, *max - *current);
      if (!best || left < best->first) best = {{left, directory + "/memory.max"}};
    }
    if (path == "/" || path.empty()) break;
    const auto slash = path.rfind('/');
    path = slash == 0 ? "/" : path.substr(0, slash);
  }
  return best;
}

// "12.3 GB", "512 MB": decimal units, three significant digits.
std::string gigabytes(double bytes) {
  char text[32];
  if (bytes >= 1e9) {
    std::snprintf(text, sizeof text, "%.3g GB", bytes / 1e9);
  } else {
    std::snprintf(text, sizeof text, "%.3g MB", bytes / 1e6);
  }
  return text;
}

double as_double(const ParameterValue& value) {
  if (std::holds_alternative<double>(value)) return std::get<double>(value);
  return static_cast<double>(std::get<std::int64_t>(value));
}

}  // namespace

MemoryBudget available_memory() {
  MemoryBudget budget;
  if (const auto available = meminfo_available()) {
    budget = {*available, "MemAvailable in /proc/meminfo"};
  } else {
    const long pages = sysconf(_SC_PHYS_PAGES);
    const long page_size = sysconf(_SC_PAGESIZE);
    budget = {pages > 0 && page_size > 0 ? static_cast<double>(pages) * static_cast<double>(page_size)
                                         : std::numeric_limits<double>::infinity(),
              "the physical memory"};
  }
  if (const auto cgroup = cgroup_available(); cgroup && cgroup->first < budget.bytes) {
    budget = {cgroup->first, "the cgroup limit " + cgroup->second + " less its use"};
  }
  return budget;
}

MemoryNeed memory_need(const kernels::ModelParams& params, std::int64_t runs, bool series, int threads) {
  MemoryNeed need;
  need.bytes_per_run = kernels::vectorized_memory(params, series).total();
  need.largest = params;
  need.series = series;
  need.held = std::max<std::int64_t>(1, std::min<std::int64_t>(threads, runs));
  return need;
}

MemoryNeed memory_need(const GridDesign& design, bool series, int threads) {
  // Memory grows with rounds, window and rewire and where a run may stop at
  // fixation (mutation 0), whatever firms, partners and topology are: those
  // take the design's largest values (of an axis or a sampled range), and only
  // the firms x partners x topology combinations are visited, crossed with the
  // sample points where firms or partners are sampled, as validate_all visits them.
  const auto& axes = design.axes();
  const bool sampled = design.sample_design() != SampleDesign::none;
  const std::int64_t samples = sampled ? design.sample_count() : 1;
  const kernels::ModelParams first = design.configuration(0);
  std::int64_t rounds = first.rounds;
  std::int64_t window = first.window;
  double rewire = first.rewire;
  bool stops = first.stop_on_fixation;
  bool no_mutation = first.mutation == 0.0;
  // Configuration c is (grid point) * samples + sample point.
  std::vector<std::int64_t> strides(axes.size(), samples);
  for (std::size_t a = axes.size(); a-- > 1;) {
    strides[a - 1] = strides[a] * static_cast<std::int64_t>(axes[a].values.size());
  }
  const auto in_graph_group = [](const std::string& name) {
    return name == "firms" || name == "partners" || name == "topology";
  };
  std::vector<std::size_t> group;
  std::int64_t combinations = 1;
  for (std::size_t a = 0; a < axes.size(); ++a) {
    const std::string& name = axes[a].name;
    for (const auto& value : axes[a].values) {
      if (name == "rounds") rounds = std::max(rounds, std::get<std::int64_t>(value));
      if (name == "window") window = std::max(window, std::get<std::int64_t>(value));
      if (name == "rewire") rewire = std::max(rewire, as_double(value));
      if (name == "stop_on_fixation") stops = stops || std::get<bool>(value);
      if (name == "mutation") no_mutation = no_mutation || as_double(value) == 0.0;
    }
    if (in_graph_group(name)) {
      group.push_back(a);
      combinations *= static_cast<std::int64_t>(axes[a].values.size());
    }
  }
  bool graph_sampled = false;
  for (const SampledParameter& parameter : design.sampled()) {
    // A sampled value lies in [low, high]; a design's first point may sit on low.
    const std::string& name = parameter.name;
    if (name == "rounds") rounds = std::max(rounds, std::get<std::int64_t>(parameter.high));
    if (name == "window") window = std::max(window, std::get<std::int64_t>(parameter.high));
    if (name == "rewire") rewire = std::max(rewire, as_double(parameter.high));
    if (name == "mutation") no_mutation = no_mutation || as_double(parameter.low) == 0.0;
    graph_sampled = graph_sampled || in_graph_group(name);
  }
  const std::int64_t points = graph_sampled ? samples : 1;
  combinations *= points;

  // A worker's state keeps each part's largest storage from configuration to
  // configuration: the bound is the sum of the parts' maxima. The runner runs
  // simulate_vectorized, whose state holds the reference's and its layout.
  MemoryNeed need;
  need.series = series;
  kernels::ReplicateMemory most;
  double largest = -1.0;
  for (std::int64_t k = 0; k < combinations; ++k) {
    std::int64_t rest = k / points;
    std::int64_t index = k % points;
    for (std::size_t r = group.size(); r-- > 0;) {
      const auto size = static_cast<std::int64_t>(axes[group[r]].values.size());
      index += (rest % size) * strides[group[r]];
      rest /= size;
    }
    kernels::ModelParams params = design.configuration(index);
    params.rounds = rounds;
    params.window = std::min(window, rounds);
    params.rewire = rewire;
    params.stop_on_fixation = stops;
    params.mutation = no_mutation ? 0.0 : params.mutation;
    const kernels::ReplicateMemory memory = kernels::vectorized_memory(params, series);
    most.graph = std::max(most.graph, memory.graph);
    most.build = std::max(most.build, memory.build);
    most.edges = std::max(most.edges, memory.edges);
    most.firms = std::max(most.firms, memory.firms);
    most.window = std::max(most.window, memory.window);
    most.series = std::max(most.series, memory.series);
    most.slots = std::max(most.slots, memory.slots);
    if (memory.total() > largest) {
      largest = memory.total();
      need.largest = params;
    }
  }
  need.bytes_per_run = most.total();
  need.held = std::max<std::int64_t>(1, std::min<std::int64_t>(threads, design.run_count()));
  return need;
}

void check_memory(const MemoryNeed& need, double limit_bytes) {
  const MemoryBudget budget =
      limit_bytes > 0.0 ? MemoryBudget{limit_bytes, "the memory limit asked for"} : available_memory();
  if (need.total() <= budget.bytes) return;
  const kernels::ModelParams& p = need.largest;
  std::string what = "parameters firms = " + std::to_string(p.firms) + ", partners = " + std::to_string(p.partners) +
                     ", topology = " + format_value(get_parameter(p, "topology"));
  if (p.stop_on_fixation && p.mutation == 0.0) {
    what += ", window = " + std::to_string(p.window) + " (stop_on_fixation keeps it per firm)";
  }
  if (need.series) what += ", rounds = " + std::to_string(p.rounds) + " (timeseries)";
  std::string total = gigabytes(need.bytes_per_run) + " of memory per run";
  if (need.held > 1) {
    total += ", " + gigabytes(need.total()) + " for the " + std::to_string(need.held) + " runs that " +
             std::to_string(need.held) + " threads hold at once";
  }
  throw InputError(what + " need about " + total + "; allowed: at most " + gigabytes(budget.bytes) + " (" +
                   budget.source + "); fewer threads, firms or partners need less");
}

}  // namespace coopsweep::sweep
