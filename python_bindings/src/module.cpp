// coopsweep._core: the pybind11 glue between the `coopsweep` Python package and
// coopsweep::sweep. Everything user-facing (argument checks, docstrings, the
// spec as a dict, progress bars, xarray) lives in the Python package; this file
// converts values, runs the engine with the GIL released and maps errors:
//   sweep::InputError -> ValueError, io::ResultsFileError -> OSError,
//   sweep::Interrupted -> KeyboardInterrupt.

#include <coopsweep/io/results_file.hpp>
#include <coopsweep/kernels/metrics.hpp>
#include <coopsweep/sweep/design.hpp>
#include <coopsweep/sweep/parameters.hpp>
#include <coopsweep/sweep/runner.hpp>
#include <coopsweep/sweep/sampling.hpp>
#include <coopsweep/sweep/sensitivity.hpp>
#include <coopsweep/sweep/spec.hpp>
#include <coopsweep/version.hpp>

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/info.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace py = pybind11;

namespace {

using coopsweep::kernels::metric_count;
using coopsweep::kernels::metric_info;
namespace sweep = coopsweep::sweep;
namespace io = coopsweep::io;

// How often the calling thread wakes to report progress and to run Python's
// signal handlers while a run works: short enough that Ctrl-C stops a run well
// within a second, long enough that taking the GIL costs nothing measurable.
constexpr auto poll_interval = std::chrono::milliseconds(50);

py::object to_python(const sweep::ParameterValue& value) {
  return std::visit(
      [](const auto& v) -> py::object {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, bool>) {
          return py::bool_(v);
        } else if constexpr (std::is_same_v<T, std::int64_t>) {
          return py::int_(v);
        } else if constexpr (std::is_same_v<T, double>) {
          return py::float_(v);
        } else {
          return py::str(v);
        }
      },
      value);
}

// A Python bool, int, float or str as a parameter value (the package turns
// NumPy scalars into these first). Other types raise TypeError naming `name`.
sweep::ParameterValue from_python(const std::string& name, py::handle value) {
  PyObject* object = value.ptr();
  if (PyBool_Check(object)) return object == Py_True;
  if (PyLong_Check(object)) {
    int overflow = 0;
    const long long v = PyLong_AsLongLongAndOverflow(object, &overflow);
    if (overflow != 0) {
      const sweep::ParameterInfo& info = sweep::find_parameter(name);
      throw sweep::InputError("parameter '" + name + "' = " + py::str(value).cast<std::string>() +
                              " is not allowed; allowed: " + std::string(info.domain));
    }
    return static_cast<std::int64_t>(v);
  }
  if (PyFloat_Check(object)) return PyFloat_AsDouble(object);
  if (PyUnicode_Check(object)) return value.cast<std::string>();
  throw py::type_error("parameter '" + name + "' must be a number, a boolean or a string, not " +
                       std::string(Py_TYPE(object)->tp_name));
}

// Runs `job` on a thread of its own, without the GIL, while the calling thread
// waits in steps of poll_interval. Between steps it takes the GIL briefly to
// pass progress to `progress` (a callable(done, total) or None) and to run
// Python's signal handlers (PyErr_CheckSignals, which works only on the main
// thread: that is where Python delivers Ctrl-C). When either raises, the job is
// asked to stop through ExecutionOptions::stop, blocks in flight finish and are
// written, and the Python exception propagates once the job has returned.
// Engine threads never touch Python objects.
class WatchedRun {
 public:
  using Job = std::function<void(const sweep::ExecutionOptions&)>;

  WatchedRun(int threads, std::int64_t block_size, py::object progress)
      : threads_(threads), block_size_(block_size), progress_(std::move(progress)) {}

  // Returns when the job has finished. Throws the job's exception, or the
  // Python exception that stopped it; a KeyboardInterrupt that stopped the job
  // carries `describe_interrupt` of the engine's Interrupted as its message.
  void run(const Job& job, const std::function<std::string(const sweep::Interrupted&)>& describe_interrupt) {
    sweep::ExecutionOptions options;
    options.threads = threads_;
    options.block_size = block_size_;
    options.stop = &stop_;
    options.on_progress = [this](std::int64_t done, std::int64_t total) {
      const std::lock_guard lock(mutex_);
      done_ = done;
      total_ = total;
    };

    std::thread worker([this, &job, options] {
      try {
        // The process-wide limit is the entry point's to set; it is raised only
        // to let `threads` exceed the core count (task_arena caps the rest).
        std::optional<tbb::global_control> limit;
        if (threads_ > tbb::info::default_concurrency()) {
          limit.emplace(tbb::global_control::max_allowed_parallelism, static_cast<std::size_t>(threads_));
        }
        job(options);
      } catch (...) {
        failure_ = std::current_exception();
      }
      {
        const std::lock_guard lock(mutex_);
        finished_ = true;
      }
      finished_signal_.notify_all();
    });

    std::optional<py::error_already_set> python_error;
    std::exception_ptr other_error;
    std::int64_t reported = -1;
    for (;;) {
      std::int64_t done = 0, total = 0;
      bool finished = false;
      {
        py::gil_scoped_release release;
        std::unique_lock lock(mutex_);
        finished_signal_.wait_for(lock, poll_interval, [this] { return finished_; });
        finished = finished_;
        done = done_;
        total = total_;
      }
      if (finished) break;
      if (stop_.load()) continue;  // winding down: the blocks in flight finish and are written
      try {
        if (!progress_.is_none() && done != reported && total > 0) {
          reported = done;
          progress_(done, total);
        }
        if (PyErr_CheckSignals() != 0) throw py::error_already_set();
      } catch (py::error_already_set& error) {
        python_error.emplace(std::move(error));
        stop_.store(true);
      } catch (...) {
        other_error = std::current_exception();
        stop_.store(true);
      }
    }
    {
      py::gil_scoped_release release;
      worker.join();
    }

    if (python_error) {
      if (python_error->matches(PyExc_KeyboardInterrupt) && failure_) {
        try {
          std::rethrow_exception(failure_);
        } catch (const sweep::Interrupted& interrupted) {
          PyErr_SetString(PyExc_KeyboardInterrupt, describe_interrupt(interrupted).c_str());
          throw py::error_already_set();
        } catch (...) {
          // Another failure won the race with the interrupt; report that one.
        }
      }
      if (!failure_ || !python_error->matches(PyExc_KeyboardInterrupt)) throw *python_error;
    }
    if (other_error) std::rethrow_exception(other_error);
    if (failure_) std::rethrow_exception(failure_);
    if (!progress_.is_none() && done_ != reported && total_ > 0) progress_(done_, total_);
  }

 private:
  int threads_;
  std::int64_t block_size_;
  py::object progress_;
  std::atomic<bool> stop_{false};
  std::mutex mutex_;
  std::condition_variable finished_signal_;
  bool finished_ = false;
  std::int64_t done_ = 0;
  std::int64_t total_ = 0;
  std::exception_ptr failure_;
};

std::string kind_name(sweep::ParameterKind kind) {
  switch (kind) {
    case sweep::ParameterKind::integer: return "integer";
    case sweep::ParameterKind::real: return "real";
    case sweep::ParameterKind::boolean: return "boolean";
    case sweep::ParameterKind::choice: return "choice";
  }
  return "";
}

py::list parameter_table() {
  const coopsweep::kernels::ModelParams defaults;
  py::list out;
  for (const auto& info : sweep::parameter_table()) {
    py::tuple choices(info.choices.size());
    for (std::size_t i = 0; i < info.choices.size(); ++i) choices[i] = py::str(std::string(info.choices[i]));
    out.append(py::make_tuple(std::string(info.name), std::string(info.symbol), kind_name(info.kind),
                              std::string(info.domain), to_python(sweep::get_parameter(defaults, info.name)),
                              std::string(info.meaning), choices));
  }
  return out;
}

py::list metric_table() {
  py::list out;
  for (const auto& info : metric_info) {
    out.append(py::make_tuple(std::string(info.name), std::string(info.long_name), std::string(info.units)));
  }
  return out;
}

py::array_t<double> simulate(const std::vector<std::pair<std::string, py::object>>& assignments,
                             std::int64_t replicates, std::uint64_t seed, std::int64_t configuration, int threads,
                             py::object progress) {
  coopsweep::kernels::ModelParams params;
  for (const auto& [name, value] : assignments) {
    sweep::set_parameter(params, name, from_python(name, value));
  }
  params = sweep::resolve_model(params);

  // Metric-major, so that each metric is one contiguous row the package hands
  // out as a NumPy view; the buffer is given to NumPy without a copy.
  auto values = std::make_unique<std::vector<double>>(metric_count * static_cast<std::size_t>(replicates));
  std::vector<double>& out = *values;
  WatchedRun(threads, 0, std::move(progress))
      .run(
          [&](const sweep::ExecutionOptions& options) {
            const auto runs = sweep::simulate(params, seed, replicates, configuration, options);
            for (std::size_t r = 0; r < runs.size(); ++r) {
              for (std::size_t m = 0; m < metric_count; ++m) out[m * runs.size() + r] = runs[r][m];
            }
          },
          [](const sweep::Interrupted& interrupted) { return std::string("interrupted: ") + interrupted.what(); });

  auto* raw = values.release();
  py::capsule owner(raw, [](void* p) { delete static_cast<std::vector<double>*>(p); });
  const auto n = static_cast<py::ssize_t>(replicates);
  return py::array_t<double>({static_cast<py::ssize_t>(metric_count), n},
                             {n * static_cast<py::ssize_t>(sizeof(double)), static_cast<py::ssize_t>(sizeof(double))},
                             raw->data(), owner);
}

py::dict check_spec(const std::string& text, const std::string& source) {
  sweep::SweepSpec spec;
  std::int64_t configurations = 0, runs = 0;
  {
    py::gil_scoped_release release;  // validating millions of configurations takes a while
    spec = sweep::parse_spec(text, source);
    const sweep::GridDesign design(spec);
    design.validate_all();
    configurations = design.configuration_count();
    runs = design.run_count();
  }
  py::list axes;
  for (const auto& axis : spec.axes) axes.append(py::make_tuple(axis.name, axis.values.size()));
  py::dict out;
  out["configurations"] = configurations;
  out["replicates"] = spec.replicates;
  out["sample_design"] = std::string(sweep::design_name(spec.sample.design));
  out["sample_points"] = spec.sample.points();
  out["adaptive"] = spec.replication.adaptive();
  out["runs"] = runs;
  out["seed"] = spec.seed;
  out["axes"] = axes;
  out["output_path"] = spec.output_path;
  return out;
}

py::dict run_spec(const std::string& text, const std::string& source, const std::string& path, bool overwrite,
                  bool resume, int threads, std::int64_t block_size, py::object progress) {
  const sweep::SweepSpec spec = sweep::parse_spec(text, source);
  sweep::SweepReport report;
  sweep::StoreOptions store;
  store.overwrite = overwrite;
  store.resume = resume;
  WatchedRun(threads, block_size, std::move(progress))
      .run([&](const sweep::ExecutionOptions& options) { report = sweep::write_sweep(spec, path, store, options); },
           [&](const sweep::Interrupted& interrupted) {
             return std::string("interrupted: ") + interrupted.what() + "; finished runs are in '" + path +
                    ".partial', marked completed = 0";
           });
  py::dict out;
  out["configurations"] = report.configurations;
  out["runs"] = report.runs;
  out["seconds"] = report.seconds;
  return out;
}

// A (count, dimensions) float64 array that owns a copy of the points.
py::array_t<double> to_array(const sweep::UnitPoints& points) {
  py::array_t<double> out({static_cast<py::ssize_t>(points.count), static_cast<py::ssize_t>(points.dimensions)});
  std::copy(points.values.begin(), points.values.end(), out.mutable_data());
  return out;
}

py::array_t<double> sobol_sequence(std::int64_t count, std::int64_t dimensions) {
  sweep::UnitPoints points;
  {
    py::gil_scoped_release release;
    points = sweep::sobol_sequence(count, dimensions);
  }
  return to_array(points);
}

py::array_t<double> design_points(const std::string& design, std::int64_t count, std::int64_t dimensions,
                                  std::uint64_t seed, std::int64_t levels) {
  sweep::UnitPoints points;
  {
    py::gil_scoped_release release;
    if (design == "lhs") {
      points = sweep::latin_hypercube(count, dimensions, seed);
    } else if (design == "sobol") {
      points = sweep::scrambled_sobol(count, dimensions, seed);
    } else if (design == "random") {
      points = sweep::uniform_random(count, dimensions, seed);
    } else if (design == "saltelli") {
      points = sweep::saltelli_points(count, dimensions, seed);
    } else if (design == "morris") {
      points = sweep::morris_points(count, dimensions, levels, seed);
    } else {
      throw std::invalid_argument("design '" + design + "' is not one of 'lhs', 'sobol', 'random', 'saltelli', 'morris'");
    }
  }
  return to_array(points);
}

py::tuple interval_arrays(const std::vector<sweep::Interval>& intervals) {
  py::array_t<double> low(static_cast<py::ssize_t>(intervals.size())), high(static_cast<py::ssize_t>(intervals.size()));
  for (std::size_t i = 0; i < intervals.size(); ++i) {
    low.mutable_data()[i] = intervals[i].low;
    high.mutable_data()[i] = intervals[i].high;
  }
  return py::make_tuple(low, high);
}

sweep::BootstrapOptions bootstrap_options(std::int64_t resamples, double confidence, std::uint64_t seed) {
  sweep::BootstrapOptions options;
  options.resamples = resamples;
  options.confidence = confidence;
  options.seed = seed;
  return options;
}

py::dict sobol_analyze(const py::array_t<double, py::array::c_style | py::array::forcecast>& y, std::int64_t dimensions,
                       std::int64_t resamples, double confidence, std::uint64_t seed) {
  if (y.ndim() != 1) throw std::invalid_argument("outputs must be a one-dimensional array");
  const std::span<const double> values(y.data(), static_cast<std::size_t>(y.size()));
  sweep::SobolIndices indices;
  {
    py::gil_scoped_release release;
    indices = sweep::sobol_indices(values, dimensions, bootstrap_options(resamples, confidence, seed));
  }
  py::dict out;
  out["S1"] = py::array_t<double>(static_cast<py::ssize_t>(indices.first_order.size()), indices.first_order.data());
  out["ST"] = py::array_t<double>(static_cast<py::ssize_t>(indices.total.size()), indices.total.data());
  out["S1_conf"] = interval_arrays(indices.first_order_ci);
  out["ST_conf"] = interval_arrays(indices.total_ci);
  out["variance"] = indices.variance;
  out["base_samples"] = indices.base_samples;
  out["dropped"] = indices.dropped;
  return out;
}

py::dict morris_analyze(const py::array_t<double, py::array::c_style | py::array::forcecast>& y,
                        const py::array_t<double, py::array::c_style | py::array::forcecast>& points,
                        std::int64_t resamples, double confidence, std::uint64_t seed) {
  if (y.ndim() != 1 || points.ndim() != 2) {
    throw std::invalid_argument("outputs must be one-dimensional and points a (points, parameters) array");
  }
  sweep::UnitPoints scaled;
  scaled.count = points.shape(0);
  scaled.dimensions = points.shape(1);
  scaled.values.assign(points.data(), points.data() + points.size());
  const std::span<const double> values(y.data(), static_cast<std::size_t>(y.size()));
  sweep::MorrisIndices indices;
  {
    py::gil_scoped_release release;
    indices = sweep::morris_indices(values, scaled, bootstrap_options(resamples, confidence, seed));
  }
  const auto array = [](const std::vector<double>& v) { return py::array_t<double>(static_cast<py::ssize_t>(v.size()), v.data()); };
  py::dict out;
  out["mu"] = array(indices.mu);
  out["mu_star"] = array(indices.mu_star);
  out["sigma"] = array(indices.sigma);
  out["mu_star_conf"] = interval_arrays(indices.mu_star_ci);
  out["trajectories"] = indices.trajectories;
  out["dropped"] = indices.dropped;
  return out;
}

}  // namespace

PYBIND11_MODULE(_core, m) {
  m.doc() =
      "Bindings of the coopsweep engine; use the `coopsweep` package, which checks arguments and documents "
      "them, rather than this module.";

  py::register_exception_translator([](std::exception_ptr error) {
    try {
      if (error) std::rethrow_exception(error);
    } catch (const sweep::InputError& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
    } catch (const io::ResultsFileError& e) {
      PyErr_SetString(PyExc_OSError, e.what());
    } catch (const sweep::Interrupted& e) {
      PyErr_SetString(PyExc_KeyboardInterrupt, e.what());
    }
  });

  m.attr("engine_version") = coopsweep::engine_version;
  m.attr("model_version") = coopsweep::model_version;
  m.attr("max_replicates") = sweep::max_replicates;

  m.def("parameter_table", &parameter_table,
        "Every model parameter as (name, symbol, kind, domain, default, meaning, choices), in MODEL.md's order.");
  m.def("metric_table", &metric_table, "Every metric as (name, long_name, units), in stored order.");
  m.def("simulate", &simulate, py::arg("assignments"), py::arg("replicates"), py::arg("seed"),
        py::arg("configuration"), py::arg("threads"), py::arg("progress"),
        "Runs replicates of one configuration; returns a (metrics, replicates) float64 array. Releases the GIL; "
        "Ctrl-C and exceptions from `progress` stop it.");
  m.def("check_spec", &check_spec, py::arg("text"), py::arg("source"),
        "Parses a TOML spec and validates every configuration; returns sizes, axes and the output path. Releases "
        "the GIL.");
  m.def("sobol_sequence", &sobol_sequence, py::arg("count"), py::arg("dimensions"),
        "The first points of Sobol's sequence (Joe and Kuo's direction numbers), unscrambled, as a (count, "
        "dimensions) array. Releases the GIL.");
  m.def("design_points", &design_points, py::arg("design"), py::arg("count"), py::arg("dimensions"), py::arg("seed"),
        py::arg("levels"),
        "Points of a design ('lhs', 'sobol', 'random', 'saltelli' with count base samples, 'morris' with count "
        "trajectories) in the unit cube, as a (points, dimensions) array. Releases the GIL.");
  m.def("sobol_analyze", &sobol_analyze, py::arg("y"), py::arg("dimensions"), py::arg("resamples"),
        py::arg("confidence"), py::arg("seed"),
        "Sobol' indices of outputs of Saltelli's design: S1, ST, their intervals (low, high), the variance and the "
        "base samples used and dropped. Releases the GIL.");
  m.def("morris_analyze", &morris_analyze, py::arg("y"), py::arg("points"), py::arg("resamples"),
        py::arg("confidence"), py::arg("seed"),
        "Morris elementary effects of outputs at trajectory points (on their ranges' scale): mu, mu_star, sigma, "
        "the interval of mu_star, the trajectories used and dropped. Releases the GIL.");
  m.def("run_spec", &run_spec, py::arg("text"), py::arg("source"), py::arg("path"), py::arg("overwrite"), py::arg("resume"),
        py::arg("threads"), py::arg("block_size"), py::arg("progress"),
        "Runs a TOML spec into the results file `path` (written as path.partial until complete). Releases the "
        "GIL; Ctrl-C and exceptions from `progress` stop it and leave the partial file.");
}
