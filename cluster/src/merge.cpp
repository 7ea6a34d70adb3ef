#include <coopsweep/cluster/merge.hpp>

#include <coopsweep/cluster/shard.hpp>
#include <coopsweep/io/file_info.hpp>
#include <coopsweep/io/results_file.hpp>
#include <coopsweep/io/results_reader.hpp>
#include <coopsweep/kernels/metrics.hpp>
#include <coopsweep/sweep/parameters.hpp>
#include <coopsweep/sweep/spec.hpp>

#include <algorithm>
#include <map>
#include <optional>
#include <sstream>

namespace coopsweep::cluster {
namespace {

namespace fs = std::filesystem;
using sweep::InputError;

const io::AttributeValue* find_attribute(const io::FileInfo& info, std::string_view name) {
  for (const io::Attribute& attribute : info.attributes) {
    if (attribute.name == name) return &attribute.value;
  }
  return nullptr;
}

std::optional<std::int64_t> integer_attribute(const io::FileInfo& info, std::string_view name) {
  const io::AttributeValue* value = find_attribute(info, name);
  if (value == nullptr || !std::holds_alternative<std::int64_t>(*value)) return std::nullopt;
  return std::get<std::int64_t>(*value);
}

std::string text_attribute(const io::FileInfo& info, std::string_view name) {
  const io::AttributeValue* value = find_attribute(info, name);
  return value != nullptr ? io::attribute_text(*value) : std::string();
}

std::string quoted(const fs::path& path) { return "'" + path.string() + "'"; }

std::string shard_name(const ShardFile& shard) {
  return std::to_string(shard.index) + "/" + std::to_string(shard.count);
}

std::vector<std::string> metric_names() {
  std::vector<std::string> names;
  for (const auto& info : kernels::metric_info) names.emplace_back(info.name);
  return names;
}

std::vector<std::string> series_variable_names() {
  return {sweep::series_names.begin(), sweep::series_names.end()};
}

std::string axis_text(const io::AxisValues& values) {
  return std::visit(
      [](const auto& v) {
        std::string text;
        for (std::size_t i = 0; i < v.size(); ++i) {
          if (i == 4 && v.size() > 6) {
            text += ", ...";
            i = v.size() - 1;
          }
          std::ostringstream one;
          one << v[i];
          text += (i ? ", " : "") + one.str();
        }
        return "[" + text + "]";
      },
      values);
}

// The first way in which the results of layouts `a` and `b` differ (grid,
// replicates, series, or an attribute that identifies results), or nothing.
std::optional<std::string> layout_difference(const io::ResultsLayout& a, const io::ResultsLayout& b,
                                             const std::string& in_a, const std::string& in_b) {
  const auto axis_names = [](const io::ResultsLayout& layout) {
    std::string names;
    for (const io::Axis& axis : layout.axes) names += (names.empty() ? "" : " ") + axis.name;
    return names.empty() ? std::string("(none)") : names;
  };
  if (a.axes.size() != b.axes.size() ||
      !std::equal(a.axes.begin(), a.axes.end(), b.axes.begin(),
                  [](const io::Axis& x, const io::Axis& y) { return x.name == y.name; })) {
    return "grid axes " + axis_names(a) + " in " + in_a + ", " + axis_names(b) + " in " + in_b;
  }
  for (std::size_t i = 0; i < a.axes.size(); ++i) {
    if (a.axes[i].values != b.axes[i].values) {
      return "grid axis '" + a.axes[i].name + "' = " + axis_text(a.axes[i].values) + " in " + in_a + ", " +
             axis_text(b.axes[i].values) + " in " + in_b;
    }
  }
  if (a.replicates != b.replicates) {
    return "replicates = " + std::to_string(a.replicates) + " in " + in_a + ", " + std::to_string(b.replicates) +
           " in " + in_b;
  }
  if (a.series_length != b.series_length) {
    return "time series of " + std::to_string(a.series_length) + " rounds in " + in_a + ", " +
           std::to_string(b.series_length) + " in " + in_b;
  }
  for (const io::Attribute& x : a.attributes) {
    if (x.provenance) continue;
    const auto y = std::find_if(b.attributes.begin(), b.attributes.end(),
                                [&](const io::Attribute& candidate) { return candidate.name == x.name; });
    if (y == b.attributes.end()) return x.name + " = " + io::attribute_text(x.value) + " in " + in_a + ", none in " + in_b;
    if (y->value != x.value) {
      return x.name + " = " + io::attribute_text(x.value) + " in " + in_a + ", " + io::attribute_text(y->value) +
             " in " + in_b;
    }
  }
  for (const io::Attribute& y : b.attributes) {
    if (y.provenance) continue;
    const bool in_first = std::any_of(a.attributes.begin(), a.attributes.end(),
                                      [&](const io::Attribute& candidate) { return candidate.name == y.name; });
    if (!in_first) return y.name + " = " + io::attribute_text(y.value) + " in " + in_b + ", none in " + in_a;
  }
  return std::nullopt;
}

io::ResultsLayout sweep_layout(const ShardFile& shard) {
  return sweep::results_layout(shard.spec, sweep::StoreOptions{}, 1);
}

// Reads blocks of the sweep's runs, in order, from the shard files that hold them.
class ShardSource {
 public:
  ShardSource(const std::vector<ShardFile>& shards, std::int64_t runs, std::int64_t series_length)
      : runs_(runs), shards_(static_cast<std::int64_t>(shards.size())), length_(series_length),
        stripe_(shard_stripe(runs, shards_)), metrics_(metric_names()),
        series_(series_length > 0 ? series_variable_names() : std::vector<std::string>{}) {
    for (const ShardFile& shard : shards) readers_.emplace_back(shard.path);
    // Blocks of at most about 32 MiB of values, so that memory stays flat
    // whatever the series length.
    const std::int64_t per_run = static_cast<std::int64_t>(metrics_.size() + series_.size()) * std::max<std::int64_t>(length_, 1);
    max_block_ = std::clamp<std::int64_t>((std::int64_t{4} << 20) / per_run, 1, std::int64_t{1} << 16);
  }

  void produce(std::span<const sweep::RunRange> spans, const sweep::BlockSink& sink,
               const sweep::ExecutionOptions& options) {
    std::vector<kernels::RunMetrics> rows;
    for (const sweep::RunRange& span : spans) {
      for (std::int64_t run = span.first; run < span.first + span.count;) {
        if (options.stop != nullptr && options.stop->load(std::memory_order_relaxed)) {
          throw sweep::Interrupted("stopped");
        }
        const ShardPosition at = shard_position(runs_, shards_, run);
        const std::int64_t stripe_end = (run / stripe_ + 1) * stripe_;
        const std::int64_t count = std::min({span.first + span.count, stripe_end, run + max_block_}) - run;
        io::ResultsReader& reader = readers_[static_cast<std::size_t>(at.shard)];
        const std::vector<double> values = reader.read(metrics_, at.index, count);
        rows.resize(static_cast<std::size_t>(count));
        for (std::size_t i = 0; i < rows.size(); ++i) {
          for (std::size_t m = 0; m < kernels::metric_count; ++m) rows[i][m] = values[m * rows.size() + i];
        }
        std::vector<double> series;
        if (!series_.empty()) series = reader.read(series_, at.index * length_, count * length_);
        sink(sweep::BlockResults{run, rows, series, {}});
        run += count;
      }
    }
  }

 private:
  std::int64_t runs_;
  std::int64_t shards_;
  std::int64_t length_;
  std::int64_t stripe_;
  std::int64_t max_block_ = 1;
  std::vector<std::string> metrics_;
  std::vector<std::string> series_;
  std::vector<io::ResultsReader> readers_;
};

}  // namespace

ShardFile read_shard(const fs::path& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) {
    if (fs::exists(io::partial_path_of(path), ec)) {
      throw InputError("shard " + quoted(path) + " is unfinished: only " + quoted(io::partial_path_of(path)) +
                       " exists; finish it with `coopsweep run SPEC --shard I/N -o " + path.string() + " --resume`");
    }
    throw InputError("shard " + quoted(path) + " does not exist");
  }
  io::FileInfo info;
  try {
    info = io::read_file_info(path);
  } catch (const io::ResultsFileError& error) {
    throw InputError(std::string("shard ") + quoted(path) + ": " + error.what());
  }
  ShardFile shard;
  shard.path = path;
  const auto index = integer_attribute(info, "shard_index");
  const auto count = integer_attribute(info, "shard_count");
  if (!index || !count) {
    throw InputError(quoted(path) + " is not a shard (it has no attributes shard_index and shard_count); allowed: "
                     "the files of `coopsweep run SPEC --shard I/N`");
  }
  shard.index = *index;
  shard.count = *count;
  if (!info.completed) {
    throw InputError("shard " + quoted(path) + " (" + shard_name(shard) +
                     ") is unfinished (completed = 0); finish its run with --resume and merge the finished file");
  }
  try {
    shard.spec = sweep::parse_spec(text_attribute(info, "spec"), text_attribute(info, "spec_source"));
  } catch (const InputError& error) {
    throw InputError("shard " + quoted(path) + ": its spec attribute is not a spec this coopsweep reads: " +
                     error.what());
  }
  shard.processes = integer_attribute(info, "processes").value_or(1);
  shard.threads = integer_attribute(info, "threads").value_or(1);
  if (const auto* seconds = find_attribute(info, "wall_time_seconds"); seconds && std::holds_alternative<double>(*seconds)) {
    shard.wall_time_seconds = std::get<double>(*seconds);
  }
  shard.history = text_attribute(info, "history");

  // Its contents: exactly the runs of its shard, with every variable.
  std::vector<sweep::RunRange> ranges;
  try {
    ranges = shard_ranges(sweep::run_count(shard.spec), {shard.index, shard.count});
  } catch (const InputError& error) {
    throw InputError("shard " + quoted(path) + ": " + error.what());
  }
  std::int64_t runs = 0;
  for (const sweep::RunRange& range : ranges) runs += range.count;
  const std::int64_t length = sweep::series_length(shard.spec);
  const auto refuse = [&](const std::string& why) {
    throw InputError("shard " + quoted(path) + " (" + shard_name(shard) + ") " + why +
                     "; allowed: a shard file as `coopsweep run --shard` wrote it");
  };
  const auto check_shape = [&](const std::string& name, std::vector<std::int64_t> shape) {
    const auto found = std::find_if(info.variables.begin(), info.variables.end(),
                                    [&](const io::VariableInfo& v) { return v.name == name; });
    if (found == info.variables.end()) refuse("has no variable '" + name + "'");
    if (found->shape != shape) refuse("has a variable '" + name + "' of another shape than its runs need");
  };
  for (const std::string& name : metric_names()) check_shape(name, {runs});
  if (length > 0) {
    for (const std::string& name : series_variable_names()) check_shape(name, {runs, length});
  }
  try {
    io::ResultsReader reader(path);
    const std::vector<std::int64_t> stored = reader.read_integers("run");
    std::size_t i = 0;
    bool same = static_cast<std::int64_t>(stored.size()) == runs;
    for (const sweep::RunRange& range : ranges) {
      for (std::int64_t r = range.first; same && r < range.first + range.count; ++r, ++i) same = stored[i] == r;
    }
    if (!same) refuse("holds other runs than shard " + shard_name(shard) + " of its sweep");
  } catch (const io::ResultsFileError& error) {
    refuse(std::string("cannot be read: ") + error.what());
  }
  return shard;
}

std::vector<ShardFile> check_shards(std::vector<ShardFile> shards) {
  if (shards.empty()) throw InputError("merge: no shard files given; allowed: the N files of shards 0/N ... N-1/N");
  const ShardFile& first = shards.front();
  const io::ResultsLayout reference = sweep_layout(first);
  for (const ShardFile& shard : shards) {
    if (&shard == &first) continue;
    if (const auto difference = layout_difference(reference, sweep_layout(shard), quoted(first.path), quoted(shard.path))) {
      throw InputError("shards " + quoted(first.path) + " and " + quoted(shard.path) + " are of different sweeps: " +
                       *difference + "; allowed: the shards of one sweep");
    }
    if (shard.count != first.count) {
      throw InputError("shard " + quoted(first.path) + " is " + shard_name(first) + " but " + quoted(shard.path) +
                       " is " + shard_name(shard) + "; allowed: the shards of one job array, all of one count N");
    }
  }
  std::map<std::int64_t, const ShardFile*> by_index;
  for (const ShardFile& shard : shards) {
    const auto [at, inserted] = by_index.emplace(shard.index, &shard);
    if (!inserted) {
      throw InputError("shards " + quoted(at->second->path) + " and " + quoted(shard.path) + " are both shard " +
                       shard_name(shard) + "; allowed: each shard once");
    }
  }
  std::string missing;
  std::int64_t missing_count = 0;
  for (std::int64_t index = 0; index < first.count; ++index) {
    if (by_index.count(index) != 0) continue;
    if (++missing_count <= 10) missing += (missing.empty() ? "" : ", ") + std::to_string(index);
  }
  if (missing_count > 0) {
    if (missing_count > 10) missing += ", ...";
    throw InputError(std::to_string(missing_count) + " of " + std::to_string(first.count) + " shards missing: " +
                     (missing_count == 1 ? "shard " : "shards ") + missing + " of " + std::to_string(first.count) +
                     "; allowed: all " + std::to_string(first.count) + " shards of the sweep (" +
                     std::to_string(shards.size()) + " given)");
  }
  std::sort(shards.begin(), shards.end(), [](const ShardFile& a, const ShardFile& b) { return a.index < b.index; });
  return shards;
}

sweep::SweepReport merge_shards(std::span<const fs::path> paths, const fs::path& path, sweep::StoreOptions store,
                                const sweep::ExecutionOptions& options) {
  std::vector<ShardFile> shards;
  std::error_code ec;
  for (const fs::path& shard : paths) {
    if (fs::exists(path, ec) && fs::equivalent(shard, path, ec)) {
      throw InputError("the output " + quoted(path) + " is one of the shards; allowed: a new path");
    }
    shards.push_back(read_shard(shard));
  }
  shards = check_shards(std::move(shards));
  const sweep::SweepSpec& spec = shards.front().spec;

  store.processes = 0;
  store.threads = 0;
  store.prior_seconds = 0.0;
  store.prior_history.clear();
  store.subset.clear();
  store.attributes.clear();
  for (const ShardFile& shard : shards) {
    store.processes += static_cast<int>(shard.processes);
    store.threads += static_cast<int>(shard.threads);
    store.prior_seconds += shard.wall_time_seconds;
    std::istringstream lines(shard.history);
    for (std::string line; std::getline(lines, line);) store.prior_history.push_back("shard " + shard_name(shard) + ": " + line);
  }
  store.note = "merge of " + std::to_string(shards.size()) + " shards";

  ShardSource source(shards, sweep::run_count(spec), sweep::series_length(spec));
  return sweep::write_sweep(spec, path, store, options,
                            [&](std::span<const sweep::RunRange> spans, const sweep::BlockSink& sink) {
                              source.produce(spans, sink, options);
                            });
}

}  // namespace coopsweep::cluster
