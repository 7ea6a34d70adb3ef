#include "coopsweep/io/results_file.hpp"

#include "hdf5.hpp"

#include <hdf5.h>
#include <hdf5_hl.h>

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <optional>
#include <set>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>

namespace coopsweep::io {

namespace fs = std::filesystem;
using detail::Checker;
using detail::Handle;
using detail::SilenceHdf5Errors;

namespace {

// Chunks of the finished file hold at most 64Ki float64 (512 KiB), so that the
// default 1 MiB chunk cache of HDF5 readers holds one; deflate level 1 without
// byte shuffle. Measured on a 10-million-run sweep (docs/results-store.md):
// 34% of the raw size, any slice read cold in under 0.35 s; shuffle made the
// file 8% larger and slices slower, level 4 saved 2% for 1.5x the writing
// time, 16Ki or 256Ki chunks changed the size by under 1%, and LZ4 (a
// plugin most readers lack) wrote 3.6x faster but stored 18% more.
constexpr std::int64_t kChunkElements = std::int64_t{1} << 16;
constexpr unsigned kDeflateLevel = 1;

constexpr std::string_view kPartialSuffix = ".partial";
constexpr std::string_view kJournalSuffix = ".partial.journal";
constexpr std::string_view kFinishingSuffix = ".finishing";
constexpr const char* kCompletedAttribute = "completed";

// What a dataset is written for: the partial file (contiguous, allocated and
// filled in full when created, so that storing runs never changes metadata) or
// the finished file (chunked and compressed).
enum class Storage { partial, finished };

// ---------------------------------------------------------------------------
// Attributes and datasets

// `completed` is an int8 flag (0 or 1), not HDF5's bool enum: netCDF has no
// boolean, and xarray's to_netcdf refuses a numpy.bool_ attribute, so a flag
// keeps a loaded dataset re-savable while bool(attrs["completed"]) still works.
void write_completed(const Checker& check, hid_t file, bool completed, bool create) {
  const std::int8_t value = completed ? 1 : 0;
  if (create) {
    detail::write_attribute(check, file, kCompletedAttribute, H5T_STD_I8LE, H5T_NATIVE_INT8, &value);
    return;
  }
  const Handle attribute = check.id(H5Aopen(file, kCompletedAttribute, H5P_DEFAULT), H5Aclose,
                                    "marking the file completed");
  check.status(H5Awrite(attribute.get(), H5T_NATIVE_INT8, &value), "marking the file completed");
}

void write_description(const Checker& check, hid_t object, const std::string& long_name,
                       const std::string& units) {
  if (!long_name.empty()) detail::write_string_attribute(check, object, "long_name", long_name);
  if (!units.empty()) detail::write_string_attribute(check, object, "units", units);
}

// NetCDF readers order variables and attributes by creation; without this
// tracking they would come back alphabetically.
Handle creation_ordered_dataset_properties(const Checker& check) {
  Handle dcpl = check.id(H5Pcreate(H5P_DATASET_CREATE), H5Pclose, "creating dataset properties");
  check.status(H5Pset_attr_creation_order(dcpl.get(), H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED),
               "creating dataset properties");
  return dcpl;
}

Handle creation_ordered_file_properties(const Checker& check) {
  Handle fcpl = check.id(H5Pcreate(H5P_FILE_CREATE), H5Pclose, "creating file properties");
  check.status(H5Pset_link_creation_order(fcpl.get(), H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED),
               "creating file properties");
  check.status(H5Pset_attr_creation_order(fcpl.get(), H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED),
               "creating file properties");
  return fcpl;
}

// Full trailing dimensions first, so that a chunk holds whole replicate sets and
// whole rows of the fastest axes: that is the order in which runs are written.
// The dimension where the chunk stops being full is split into equal parts, so
// that no chunk at its end is mostly padding (a 40 split as 13 + 13 + 13 + 1
// stored 30% more of an uncompressed file; as 4 x 10, nothing).
std::vector<hsize_t> chunk_shape(std::span<const std::int64_t> dims) {
  std::vector<hsize_t> chunk(dims.size(), 1);
  std::int64_t elements = 1;
  for (std::size_t i = dims.size(); i-- > 0;) {
    if (dims[i] <= kChunkElements / elements) {
      chunk[i] = static_cast<hsize_t>(dims[i]);
      elements *= dims[i];
    } else {
      const std::int64_t most = std::max<std::int64_t>(1, kChunkElements / elements);
      const std::int64_t parts = (dims[i] + most - 1) / most;
      chunk[i] = static_cast<hsize_t>((dims[i] + parts - 1) / parts);
      break;
    }
  }
  return chunk;
}

// The finished file's filter, also used for the size estimate.
void set_compression(const Checker& check, hid_t dcpl, std::string_view operation) {
  check.status(H5Pset_deflate(dcpl, kDeflateLevel), operation);
}

template <typename T>
Handle create_coordinate(const Checker& check, hid_t file, const std::string& name,
                         hid_t file_type, hid_t memory_type, const std::vector<T>& values) {
  const std::string operation = "writing coordinate '" + name + "'";
  const std::int64_t size = static_cast<std::int64_t>(values.size());
  const Handle space = detail::simple_space(check, std::span(&size, 1));
  const Handle dcpl = creation_ordered_dataset_properties(check);
  Handle dataset = check.id(H5Dcreate2(file, name.c_str(), file_type, space.get(), H5P_DEFAULT,
                                       dcpl.get(), H5P_DEFAULT),
                            H5Dclose, operation);
  check.status(H5Dwrite(dataset.get(), memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()),
               operation);
  check.status(H5DSset_scale(dataset.get(), name.c_str()), operation);
  return dataset;
}

Handle create_axis(const Checker& check, hid_t file, const Axis& axis) {
  Handle dataset = std::visit(
      [&](const auto& values) {
        using T = typename std::decay_t<decltype(values)>::value_type;
        if constexpr (std::is_same_v<T, double>) {
          return create_coordinate(check, file, axis.name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE,
                                   values);
        } else if constexpr (std::is_same_v<T, std::int64_t>) {
          return create_coordinate(check, file, axis.name, H5T_STD_I64LE, H5T_NATIVE_INT64,
                                   values);
        } else {
          std::vector<const char*> pointers(values.size());
          std::transform(values.begin(), values.end(), pointers.begin(),
                         [](const std::string& s) { return s.c_str(); });
          const Handle type = detail::utf8_string_type(check);
          return create_coordinate(check, file, axis.name, type.get(), type.get(), pointers);
        }
      },
      axis.values);
  write_description(check, dataset.get(), axis.long_name, axis.units);
  return dataset;
}

std::vector<std::int64_t> counting_from(std::int64_t first, std::int64_t count) {
  std::vector<std::int64_t> values(static_cast<std::size_t>(count));
  for (std::size_t i = 0; i < values.size(); ++i) values[i] = first + static_cast<std::int64_t>(i);
  return values;
}

Handle create_variable(const Checker& check, hid_t file, const std::string& name,
                       std::span<const std::int64_t> dims, std::span<const hid_t> scales,
                       const std::string& long_name, const std::string& units, Storage storage) {
  const std::string operation = "creating variable '" + name + "'";
  const Handle space = detail::simple_space(check, dims);
  const Handle dcpl = creation_ordered_dataset_properties(check);
  const double fill = std::numeric_limits<double>::quiet_NaN();
  if (storage == Storage::partial) {
    // Allocated and filled with NaN now: storing runs later writes raw data
    // only, so a kill mid-write cannot damage the file's structure, and runs
    // not yet stored read as NaN.
    check.status(H5Pset_layout(dcpl.get(), H5D_CONTIGUOUS), operation);
    check.status(H5Pset_alloc_time(dcpl.get(), H5D_ALLOC_TIME_EARLY), operation);
  } else if (!dims.empty()) {  // a scalar dataset cannot be chunked
    const std::vector<hsize_t> chunk = chunk_shape(dims);
    check.status(H5Pset_chunk(dcpl.get(), static_cast<int>(chunk.size()), chunk.data()), operation);
    set_compression(check, dcpl.get(), operation);
  }
  check.status(H5Pset_fill_value(dcpl.get(), H5T_NATIVE_DOUBLE, &fill), operation);
  check.status(H5Pset_fill_time(dcpl.get(), H5D_FILL_TIME_ALLOC), operation);
  Handle dataset = check.id(H5Dcreate2(file, name.c_str(), H5T_IEEE_F64LE, space.get(),
                                       H5P_DEFAULT, dcpl.get(), H5P_DEFAULT),
                            H5Dclose, operation);
  for (std::size_t i = 0; i < scales.size(); ++i) {
    check.status(H5DSattach_scale(dataset.get(), scales[i], static_cast<unsigned>(i)), operation);
  }
  // xarray ignores the HDF5 fill value; this attribute is what makes it mask
  // unwritten elements.
  detail::write_attribute(check, dataset.get(), "_FillValue", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &fill);
  write_description(check, dataset.get(), long_name, units);
  return dataset;
}

// An int64 variable of counts, 0 where not written. No _FillValue: 0 is a
// count like any other (nothing done yet), and the values stay integers in xarray.
Handle create_count_variable(const Checker& check, hid_t file, const Variable& count, std::span<const std::int64_t> dims,
                             std::span<const hid_t> scales, Storage storage) {
  const std::string operation = "creating variable '" + count.name + "'";
  const Handle space = detail::simple_space(check, dims);
  const Handle dcpl = creation_ordered_dataset_properties(check);
  const std::int64_t zero = 0;
  if (storage == Storage::partial) {
    check.status(H5Pset_layout(dcpl.get(), H5D_CONTIGUOUS), operation);
    check.status(H5Pset_alloc_time(dcpl.get(), H5D_ALLOC_TIME_EARLY), operation);
  } else if (!dims.empty()) {
    const std::vector<hsize_t> chunk = chunk_shape(dims);
    check.status(H5Pset_chunk(dcpl.get(), static_cast<int>(chunk.size()), chunk.data()), operation);
    set_compression(check, dcpl.get(), operation);
  }
  check.status(H5Pset_fill_value(dcpl.get(), H5T_NATIVE_INT64, &zero), operation);
  check.status(H5Pset_fill_time(dcpl.get(), H5D_FILL_TIME_ALLOC), operation);
  Handle dataset = check.id(H5Dcreate2(file, count.name.c_str(), H5T_STD_I64LE, space.get(), H5P_DEFAULT, dcpl.get(),
                                       H5P_DEFAULT),
                            H5Dclose, operation);
  for (std::size_t i = 0; i < scales.size(); ++i) {
    check.status(H5DSattach_scale(dataset.get(), scales[i], static_cast<unsigned>(i)), operation);
  }
  write_description(check, dataset.get(), count.long_name, count.units);
  return dataset;
}

// An auxiliary coordinate: a 1-D variable of the axis type along `scale`, not a scale itself.
Handle create_auxiliary(const Checker& check, hid_t file, const AuxiliaryCoordinate& coordinate, hid_t scale) {
  const std::string operation = "writing coordinate '" + coordinate.name + "'";
  Handle dataset = std::visit(
      [&](const auto& values) {
        using T = typename std::decay_t<decltype(values)>::value_type;
        const std::int64_t size = static_cast<std::int64_t>(values.size());
        const Handle space = detail::simple_space(check, std::span(&size, 1));
        const Handle dcpl = creation_ordered_dataset_properties(check);
        const auto create = [&](hid_t type) {
          return check.id(H5Dcreate2(file, coordinate.name.c_str(), type, space.get(), H5P_DEFAULT, dcpl.get(),
                                     H5P_DEFAULT),
                          H5Dclose, operation);
        };
        if constexpr (std::is_same_v<T, double>) {
          Handle d = create(H5T_IEEE_F64LE);
          check.status(H5Dwrite(d.get(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()), operation);
          return d;
        } else if constexpr (std::is_same_v<T, std::int64_t>) {
          Handle d = create(H5T_STD_I64LE);
          check.status(H5Dwrite(d.get(), H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()), operation);
          return d;
        } else {
          std::vector<const char*> pointers(values.size());
          std::transform(values.begin(), values.end(), pointers.begin(), [](const std::string& x) { return x.c_str(); });
          const Handle type = detail::utf8_string_type(check);
          Handle d = create(type.get());
          check.status(H5Dwrite(d.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, pointers.data()), operation);
          return d;
        }
      },
      coordinate.values);
  check.status(H5DSattach_scale(dataset.get(), scale, 0), operation);
  write_description(check, dataset.get(), coordinate.long_name, coordinate.units);
  return dataset;
}

// ---------------------------------------------------------------------------
// Layout

std::int64_t axis_size(const Axis& axis) {
  return std::visit([](const auto& v) { return static_cast<std::int64_t>(v.size()); },
                    axis.values);
}

bool valid_object_name(const std::string& name) {
  return !name.empty() && name != "." && name.find('/') == std::string::npos &&
         name.find('\0') == std::string::npos;
}

[[noreturn]] void throw_invalid_layout(const fs::path& path, const std::string& why) {
  throw ResultsFileError("results file '" + path.string() + "': invalid layout: " + why);
}

void validate_layout(const fs::path& path, const ResultsLayout& layout) {
  if (layout.replicates < 1) {
    throw_invalid_layout(path, "replicates must be at least 1, got " +
                                   std::to_string(layout.replicates));
  }
  if (!layout.replicate_dimension && layout.replicates != 1) {
    throw_invalid_layout(path, "a layout without a replicate dimension has one replicate, not " +
                                   std::to_string(layout.replicates));
  }
  if (layout.series_length < 0 || (layout.series_length == 0) != layout.series.empty()) {
    throw_invalid_layout(path, "series need a positive series_length, and a series_length needs series");
  }
  std::set<std::string> datasets;
  const auto add_dataset = [&](const std::string& name, const char* what) {
    if (!valid_object_name(name)) {
      throw_invalid_layout(path, std::string(what) + " name '" + name +
                                     "' is empty or contains '/' or NUL");
    }
    if (!datasets.insert(name).second) {
      throw_invalid_layout(path, "the name '" + name + "' is used twice (" + what + ")");
    }
  };
  std::int64_t runs = layout.replicates;
  for (const Axis& axis : layout.axes) {
    add_dataset(axis.name, "axis");
    const std::int64_t size = axis_size(axis);
    if (size < 1) throw_invalid_layout(path, "axis '" + axis.name + "' has no values");
    if (runs > std::numeric_limits<std::int64_t>::max() / size) {
      throw_invalid_layout(path, "too many runs for a 64-bit index");
    }
    runs *= size;
  }
  if (layout.replicate_dimension) add_dataset("replicate", "axis");
  for (const AuxiliaryCoordinate& coordinate : layout.coordinates) {
    add_dataset(coordinate.name, "coordinate");
    const auto axis = std::find_if(layout.axes.begin(), layout.axes.end(),
                                   [&](const Axis& a) { return a.name == coordinate.dimension; });
    if (axis == layout.axes.end()) {
      throw_invalid_layout(path, "coordinate '" + coordinate.name + "' is along '" + coordinate.dimension +
                                     "', which is not an axis");
    }
    const auto size = std::visit([](const auto& v) { return static_cast<std::int64_t>(v.size()); }, coordinate.values);
    if (size != axis_size(*axis)) {
      throw_invalid_layout(path, "coordinate '" + coordinate.name + "' has " + std::to_string(size) +
                                     " values for the " + std::to_string(axis_size(*axis)) + " of axis '" +
                                     coordinate.dimension + "'");
    }
  }
  for (const Variable& count : layout.counts) add_dataset(count.name, "count");
  if (!layout.series.empty()) {
    add_dataset(layout.series_dimension, "series dimension");
    if (runs > std::numeric_limits<std::int64_t>::max() / layout.series_length) {
      throw_invalid_layout(path, "too many series values for a 64-bit index");
    }
  }
  for (const Variable& metric : layout.metrics) {
    add_dataset(metric.name, "metric");
    if (!layout.summaries) continue;
    add_dataset(metric.name + "_mean", "metric summary");
    add_dataset(metric.name + "_std", "metric summary");
  }
  for (const Variable& series : layout.series) add_dataset(series.name, "series");
  std::set<std::string> attributes{kCompletedAttribute};
  for (const Attribute& attribute : layout.attributes) {
    if (attribute.name.empty() || attribute.name.find('\0') != std::string::npos) {
      throw_invalid_layout(path, "attribute names must be non-empty and contain no NUL");
    }
    if (!attributes.insert(attribute.name).second) {
      throw_invalid_layout(path, "the attribute '" + attribute.name + "' is given twice or is reserved");
    }
  }
}

// The shapes of a layout's variables.
struct Shapes {
  std::vector<std::int64_t> configuration;  // axis sizes...
  std::vector<std::int64_t> run;            // axis sizes..., replicates (if a dimension)
  std::vector<std::int64_t> series;         // axis sizes..., replicates (same), series_length
  std::int64_t configurations = 1;
  std::int64_t runs = 0;

  explicit Shapes(const ResultsLayout& layout) {
    for (const Axis& axis : layout.axes) configuration.push_back(axis_size(axis));
    for (std::int64_t size : configuration) configurations *= size;
    run = configuration;
    if (layout.replicate_dimension) run.push_back(layout.replicates);
    series = run;
    series.push_back(layout.series_length);
    runs = configurations * layout.replicates;
  }
};

// The open datasets of a laid-out file, grouped as write_range addresses them.
struct Variables {
  std::vector<Handle> values;  // per metric
  std::vector<Handle> means;
  std::vector<Handle> stds;
  std::vector<Handle> series;  // per series
  std::vector<Handle> counts;  // per count
};

// The groups of a file's variables, in the order they are flushed and closed.
std::array<std::vector<Handle>*, 5> groups_of(Variables& variables) noexcept {
  return {&variables.values, &variables.means, &variables.stds, &variables.series, &variables.counts};
}

std::string summary_long_name(const Variable& metric, const char* suffix) {
  // Summaries always get a long_name so plots of them say what was averaged.
  return (metric.long_name.empty() ? metric.name : metric.long_name) + " " + suffix;
}

// Writes the attributes, coordinates and (empty) variables of `layout` into `file`.
Variables lay_out(const Checker& check, hid_t file, const ResultsLayout& layout,
                  std::span<const Attribute> attributes, Storage storage) {
  const Shapes shapes(layout);
  for (const Attribute& attribute : attributes) {
    detail::write_attribute_value(check, file, attribute.name, attribute.value);
  }
  write_completed(check, file, false, true);

  std::vector<Handle> scales;
  for (const Axis& axis : layout.axes) scales.push_back(create_axis(check, file, axis));
  if (layout.replicate_dimension) {
    scales.push_back(create_coordinate(check, file, "replicate", H5T_STD_I64LE, H5T_NATIVE_INT64,
                                       counting_from(0, layout.replicates)));
  }
  if (!layout.series.empty()) {
    scales.push_back(create_coordinate(check, file, layout.series_dimension, H5T_STD_I64LE,
                                       H5T_NATIVE_INT64, counting_from(1, layout.series_length)));
  }
  std::vector<hid_t> scale_ids;
  for (const Handle& scale : scales) scale_ids.push_back(scale.get());
  const std::span<const hid_t> series_scales(scale_ids);
  const std::span<const hid_t> run_scales = series_scales.first(shapes.run.size());
  const std::span<const hid_t> configuration_scales = run_scales.first(layout.axes.size());

  Variables variables;
  for (const Variable& metric : layout.metrics) {
    variables.values.push_back(create_variable(check, file, metric.name, shapes.run, run_scales,
                                               metric.long_name, metric.units, storage));
    if (!layout.summaries) continue;
    variables.means.push_back(create_variable(
        check, file, metric.name + "_mean", shapes.configuration, configuration_scales,
        summary_long_name(metric, "(mean over replicates)"), metric.units, storage));
    variables.stds.push_back(create_variable(
        check, file, metric.name + "_std", shapes.configuration, configuration_scales,
        summary_long_name(metric, "(standard deviation over replicates)"), metric.units, storage));
  }
  for (const Variable& series : layout.series) {
    variables.series.push_back(create_variable(check, file, series.name, shapes.series, series_scales,
                                               series.long_name, series.units, storage));
  }
  for (const Variable& count : layout.counts) {
    variables.counts.push_back(create_count_variable(check, file, count, shapes.configuration, configuration_scales,
                                                     storage));
  }
  if (!layout.coordinates.empty()) {
    // Every variable has every axis, so each carries every auxiliary coordinate.
    std::string names;
    for (const AuxiliaryCoordinate& coordinate : layout.coordinates) {
      const auto axis = std::find_if(layout.axes.begin(), layout.axes.end(),
                                     [&](const Axis& a) { return a.name == coordinate.dimension; });
      (void)create_auxiliary(check, file, coordinate, scale_ids[static_cast<std::size_t>(axis - layout.axes.begin())]);
      names += (names.empty() ? "" : " ") + coordinate.name;
    }
    for (auto* group : groups_of(variables)) {
      for (const Handle& dataset : *group) detail::write_string_attribute(check, dataset.get(), "coordinates", names);
    }
  }
  return variables;
}

// ---------------------------------------------------------------------------
// Comparing a file with a layout, for resume

bool same_value(const AttributeValue& a, const AttributeValue& b) { return a == b; }

std::string shape_text(std::span<const std::int64_t> dims) {
  std::string text = "(";
  for (std::size_t i = 0; i < dims.size(); ++i) text += (i ? ", " : "") + std::to_string(dims[i]);
  return text + ")";
}

// Throws ResumeMismatch naming the first way in which `file` was not made for `layout`.
void check_matches(const Checker& check, hid_t file, const fs::path& shown, const ResultsLayout& layout) {
  const auto refuse = [&](const std::string& why) {
    throw ResumeMismatch("cannot resume '" + shown.string() + "': " + why +
                         "; allowed: the spec it was made from, or --force to start over");
  };
  for (const Attribute& attribute : layout.attributes) {
    if (attribute.provenance) continue;
    const std::string& name = attribute.name;
    if (H5Aexists(file, name.c_str()) <= 0) {
      refuse("it has no attribute '" + name + "' (this run has " + name + " = " +
             detail::format_attribute(attribute.value) + ")");
    }
    const Handle handle = check.id(H5Aopen(file, name.c_str(), H5P_DEFAULT), H5Aclose,
                                   "reading attribute '" + name + "'");
    const AttributeValue stored = detail::read_attribute(check, handle.get(), name);
    if (!same_value(stored, attribute.value)) {
      refuse("it was made with " + name + " = " + detail::format_attribute(stored) + ", this run has " +
             name + " = " + detail::format_attribute(attribute.value));
    }
  }
  const auto open_dataset = [&](const std::string& name, const char* what) {
    if (H5Lexists(file, name.c_str(), H5P_DEFAULT) <= 0) refuse("it has no " + std::string(what) + " '" + name + "'");
    return check.id(H5Dopen2(file, name.c_str(), H5P_DEFAULT), H5Dclose, "opening '" + name + "'");
  };
  for (const Axis& axis : layout.axes) {
    const Handle dataset = open_dataset(axis.name, "grid axis");
    const AxisValues stored = detail::read_axis_values(check, dataset.get(), axis.name);
    if (stored != axis.values) {
      const auto size = std::visit([](const auto& v) { return v.size(); }, stored);
      refuse("its grid axis '" + axis.name + "' has other values (" + std::to_string(size) +
             " in the file, " + std::to_string(axis_size(axis)) + " in this run)");
    }
  }
  for (const AuxiliaryCoordinate& coordinate : layout.coordinates) {
    const Handle dataset = open_dataset(coordinate.name, "coordinate");
    if (detail::read_axis_values(check, dataset.get(), coordinate.name) != coordinate.values) {
      refuse("its coordinate '" + coordinate.name + "' along '" + coordinate.dimension + "' has other values");
    }
  }
  const Shapes shapes(layout);
  const auto check_shape = [&](const std::string& name, const char* what, std::span<const std::int64_t> dims) {
    const Handle dataset = open_dataset(name, what);
    const std::vector<std::int64_t> stored = detail::dataset_dims(check, dataset.get(), name);
    if (!std::equal(stored.begin(), stored.end(), dims.begin(), dims.end())) {
      refuse("its variable '" + name + "' has the shape " + shape_text(stored) + ", this run " + shape_text(dims));
    }
  };
  if (layout.replicate_dimension) {
    check_shape("replicate", "coordinate", std::span(shapes.run).last(1));
  } else if (H5Lexists(file, "replicate", H5P_DEFAULT) > 0) {
    refuse("it has a replicate dimension, this run has none");
  }
  for (const Variable& metric : layout.metrics) {
    check_shape(metric.name, "metric", shapes.run);
    if (!layout.summaries) continue;
    check_shape(metric.name + "_mean", "metric summary", shapes.configuration);
    check_shape(metric.name + "_std", "metric summary", shapes.configuration);
  }
  const bool file_has_series = H5Lexists(file, layout.series_dimension.c_str(), H5P_DEFAULT) > 0;
  if (file_has_series != !layout.series.empty()) {
    refuse(file_has_series ? "it stores series ('" + layout.series_dimension + "'), this run does not"
                           : "this run stores series ('" + layout.series_dimension + "'), the file does not");
  }
  for (const Variable& series : layout.series) check_shape(series.name, "series", shapes.series);
  for (const Variable& count : layout.counts) check_shape(count.name, "count", shapes.configuration);
}

bool file_is_completed(const Checker& check, hid_t file) {
  if (H5Aexists(file, kCompletedAttribute) <= 0) return false;
  const Handle attribute = check.id(H5Aopen(file, kCompletedAttribute, H5P_DEFAULT), H5Aclose,
                                    "reading attribute 'completed'");
  const AttributeValue value = detail::read_attribute(check, attribute.get(), kCompletedAttribute);
  return std::holds_alternative<std::int64_t>(value) && std::get<std::int64_t>(value) == 1;
}

// True if `path` is a finished results file of `layout`; throws ResumeMismatch
// if it is a results file of another layout.
bool holds_finished_results(const fs::path& path, const ResultsLayout& layout) {
  const SilenceHdf5Errors silence;
  const Checker check(path);
  if (H5Fis_hdf5(path.c_str()) <= 0) return false;
  const Handle file = check.id(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose, "opening");
  check_matches(check, file.get(), path, layout);
  return file_is_completed(check, file.get());
}

// ---------------------------------------------------------------------------
// Files on disk

// The page cache may still hold the data after H5Fclose; the rename must not
// become durable before the contents it promises are.
void sync_to_disk(const fs::path& file) {
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 || ::fsync(fd) != 0) {
    const int error = errno;
    if (fd >= 0) ::close(fd);
    throw ResultsFileError("results file '" + file.string() + "': syncing to disk failed: " +
                           std::strerror(error));
  }
  ::close(fd);
}

[[noreturn]] void throw_exists(const fs::path& path, const std::string& more = "") {
  throw ResultsFileError("results file '" + path.string() + "' exists; use --force to overwrite" + more);
}

// Renames without ever replacing `to`, atomically where the kernel allows it, so
// that a file that appeared while the sweep ran is not clobbered.
void rename_no_replace(const fs::path& from, const fs::path& to, const std::string& more) {
#if defined(__linux__) && defined(RENAME_NOREPLACE)
  if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0) return;
  const int error = errno;
  if (error == EEXIST) throw_exists(to, more);
  if (error != EINVAL && error != ENOSYS && error != ENOTSUP) {
    throw ResultsFileError("results file '" + to.string() + "': renaming '" + from.string() +
                           "' failed: " + std::strerror(error));
  }
#endif
  std::error_code ec;
  if (fs::exists(fs::symlink_status(to, ec))) throw_exists(to, more);
  fs::rename(from, to, ec);
  if (ec) {
    throw ResultsFileError("results file '" + to.string() + "': renaming '" + from.string() +
                           "' failed: " + ec.message());
  }
}

void remove_quietly(const fs::path& path) {
  std::error_code ignored;
  fs::remove(path, ignored);
}

fs::path directory_of(const fs::path& path) {
  return path.has_parent_path() ? path.parent_path() : fs::path(".");
}

// Points the sec2 driver's descriptor at a scratch file, so that HDF5 can write
// out its caches and close cleanly when the real file no longer accepts writes.
// The scratch file must accept ftruncate (HDF5 extends the file to its end of
// allocation on close), which /dev/null does not; memfd does.
void discard_pending_writes(hid_t file) noexcept {
  const hid_t fapl = H5Fget_access_plist(file);
  if (fapl < 0) return;
  void* handle = nullptr;
  const bool found = H5Pget_driver(fapl) == H5FD_SEC2 &&
                     H5Fget_vfd_handle(file, fapl, &handle) >= 0 && handle != nullptr;
  H5Pclose(fapl);
  if (!found) return;
#ifdef __linux__
  const int scratch = ::memfd_create("coopsweep-discarded-writes", MFD_CLOEXEC);
#else
  const int scratch = ::open("/dev/null", O_RDWR | O_CLOEXEC);
#endif
  if (scratch < 0) return;
  (void)::dup2(scratch, *static_cast<const int*>(handle));
  ::close(scratch);
}

// fsync(2) on the descriptor HDF5's sec2 driver writes through; errno on failure.
int sync_hdf5_file(hid_t file) noexcept {
  const hid_t fapl = H5Fget_access_plist(file);
  if (fapl < 0) return EIO;
  void* handle = nullptr;
  const bool found = H5Fget_vfd_handle(file, fapl, &handle) >= 0 && handle != nullptr;
  H5Pclose(fapl);
  if (!found) return EIO;
  return ::fsync(*static_cast<const int*>(handle)) == 0 ? 0 : errno;
}

// Raw data flushed first: if it cannot reach the disk (disk full, I/O error),
// all further writes go to a scratch file, so that the closes that follow
// succeed (HDF5 1.10 cannot survive a failed close: the id stays registered but
// half destroyed, and the library crashes on it at exit). Returns
// "<operation> failed: <HDF5 error>" for the first failure, or "".
std::string flush_data(hid_t file, std::span<std::vector<Handle>* const> groups) noexcept {
  for (auto* group : groups) {
    for (Handle& dataset : *group) {
      if (dataset.get() >= 0 && H5Dflush(dataset.get()) < 0) {
        std::string error;
        try {
          error = "writing data failed: " + detail::innermost_hdf5_error();
        } catch (...) {
          error = "writing data failed";
        }
        discard_pending_writes(file);
        return error;
      }
    }
  }
  return "";
}

// Closes the datasets, then the file; returns the first failure as flush_data does.
std::string close_file(Handle& file, std::span<std::vector<Handle>* const> groups,
                       bool flush_metadata) noexcept {
  std::string error;
  const auto note_failure = [&](const char* operation) {
    if (!error.empty()) return;
    try {
      error = std::string(operation) + " failed: " + detail::innermost_hdf5_error();
    } catch (...) {
      error = "closing failed";
    }
  };
  if (file.get() >= 0) {
    error = flush_data(file.get(), groups);
    // A metadata flush that fails leaves HDF5 1.10's cache unable to close
    // (it crashes at exit): after a failure the writes go to a scratch file
    // and the flush is repeated there, so that the closes that follow succeed.
    if (flush_metadata && H5Fflush(file.get(), H5F_SCOPE_LOCAL) < 0) {
      note_failure("flushing");
      discard_pending_writes(file.get());
      (void)H5Fflush(file.get(), H5F_SCOPE_LOCAL);
    }
  }
  // Datasets first: with the default (weak) close degree the file would stay
  // open, and its final flush unreported, while any dataset is still open.
  for (auto* group : groups) {
    for (Handle& dataset : *group) {
      if (dataset.close() < 0) note_failure("closing a variable");
    }
  }
  if (file.close() < 0) note_failure("closing");
  return error;
}

// File access for the partial file: raw data 8-byte aligned, so that a write
// cut short by a kill (the kernel stops between pages) never leaves half a
// float64; and no HDF5 file lock, so that h5py and `coopsweep inspect` can read
// it while it is being written (its metadata no longer changes by then), while
// the journal's lock keeps out a second writer.
Handle partial_access_properties(const Checker& check) {
  Handle fapl = check.id(H5Pcreate(H5P_FILE_ACCESS), H5Pclose, "creating file access properties");
  check.status(H5Pset_alignment(fapl.get(), 1, sizeof(double)), "creating file access properties");
  check.status(H5Pset_file_locking(fapl.get(), false, true), "creating file access properties");
  return fapl;
}

// Copies one dataset of equal shape from `source` to `target` chunk by chunk of
// the target, so that each compressed chunk is written once and whole.
void copy_dataset(const Checker& check, hid_t source, hid_t target, std::span<const std::int64_t> dims,
                  const std::string& name) {
  const std::string operation = "copying '" + name + "' into the finished file";
  if (dims.empty()) {
    double value = 0.0;
    check.status(H5Dread(source, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, &value), operation);
    check.status(H5Dwrite(target, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, &value), operation);
    return;
  }
  for (std::int64_t size : dims) {
    if (size == 0) return;
  }
  const std::vector<hsize_t> chunk = chunk_shape(dims);
  const std::size_t rank = dims.size();
  const Handle source_space = check.id(H5Dget_space(source), H5Sclose, operation);
  const Handle target_space = check.id(H5Dget_space(target), H5Sclose, operation);
  std::vector<hsize_t> start(rank, 0), count(rank);
  std::vector<double> buffer;
  while (true) {
    hsize_t elements = 1;
    for (std::size_t d = 0; d < rank; ++d) {
      count[d] = std::min<hsize_t>(chunk[d], static_cast<hsize_t>(dims[d]) - start[d]);
      elements *= count[d];
    }
    buffer.resize(elements);
    check.status(H5Sselect_hyperslab(source_space.get(), H5S_SELECT_SET, start.data(), nullptr, count.data(),
                                     nullptr),
                 operation);
    check.status(H5Sselect_hyperslab(target_space.get(), H5S_SELECT_SET, start.data(), nullptr, count.data(),
                                     nullptr),
                 operation);
    const Handle memory = check.id(H5Screate_simple(1, &elements, nullptr), H5Sclose, operation);
    check.status(H5Dread(source, H5T_NATIVE_DOUBLE, memory.get(), source_space.get(), H5P_DEFAULT, buffer.data()),
                 operation);
    check.status(H5Dwrite(target, H5T_NATIVE_DOUBLE, memory.get(), target_space.get(), H5P_DEFAULT, buffer.data()),
                 operation);
    // Next chunk in row-major order of the chunk grid.
    std::size_t d = rank;
    while (d > 0) {
      --d;
      start[d] += chunk[d];
      if (start[d] < static_cast<hsize_t>(dims[d])) break;
      start[d] = 0;
      if (d == 0) return;
    }
  }
}

// The layout's attributes with `changes` applied: same name replaces, new names follow.
std::vector<Attribute> merged_attributes(std::span<const Attribute> attributes, std::span<const Attribute> changes) {
  std::vector<Attribute> out(attributes.begin(), attributes.end());
  for (const Attribute& change : changes) {
    const auto same = std::find_if(out.begin(), out.end(), [&](const Attribute& a) { return a.name == change.name; });
    if (same != out.end()) {
      same->value = change.value;
    } else {
      out.push_back(change);
    }
  }
  return out;
}

}  // namespace

fs::path partial_path_of(const fs::path& path) { return fs::path(path.string() + std::string(kPartialSuffix)); }
fs::path journal_path_of(const fs::path& path) { return fs::path(path.string() + std::string(kJournalSuffix)); }
fs::path finishing_path_of(const fs::path& path) {
  return fs::path(path.string() + std::string(kFinishingSuffix));
}

// ---------------------------------------------------------------------------

struct ResultsFile::Impl {
  fs::path path;
  fs::path partial;
  fs::path journal_file;
  ResultsLayout layout;
  bool overwrite = false;
  Shapes shapes;
  std::size_t metric_count = 0;
  Handle file;
  Variables variables;
  std::optional<Journal> journal;
  std::vector<JournalSession> sessions;
  std::int64_t committed = 0;
  std::chrono::steady_clock::time_point session_start = std::chrono::steady_clock::now();
  bool open = false;
  bool complete = false;

  Impl(const fs::path& p, const ResultsLayout& l)
      : path(p), partial(partial_path_of(p)), journal_file(journal_path_of(p)), layout(l), shapes(l),
        metric_count(l.metrics.size()) {}
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;
  ~Impl() {
    if (!open) return;
    const SilenceHdf5Errors silence;
    (void)close_all();  // leaves the partial file, marked completed = 0, and its journal as it is
  }

  // Closes every handle of the partial file; returns "" or the first failure.
  // Only raw data can be pending: the metadata was written when the file was laid out.
  std::string close_all() noexcept {
    auto all = groups_of(variables);
    std::string error = close_file(file, all, false);
    open = false;
    return error;
  }

  void fail(const std::string& error) {
    throw ResultsFileError("results file '" + partial.string() + "': " + error);
  }

  void require_open(std::string_view operation) const {
    if (!open) {
      throw ResultsFileError("results file '" + partial.string() + "': " +
                             std::string(operation) + " after the file was finished or failed");
    }
  }

  void create_partial(const OpenOptions& options);
  void resume_partial(const OpenOptions& options);
  // Opens the laid-out partial file and its variables, after comparing it
  // with the layout when asked to (throws ResumeMismatch).
  void open_partial(bool check_layout);
  void write_finished(std::span<const Attribute> final_attributes);

  // One buffer destined for a group of datasets, variable-major.
  struct Target {
    std::vector<Handle>* datasets;
    std::span<double> data;
  };

  // Writes (or reads) the row-major flat range [first, first + count) of
  // arrays of `shape` holding `total` elements, for each target's datasets.
  void transfer_range(bool write, std::span<const std::int64_t> shape, std::int64_t total, std::int64_t first,
                      std::int64_t count, const char* unit, std::span<const Target> targets);
};

void ResultsFile::Impl::open_partial(bool check_layout) {
  const SilenceHdf5Errors silence;
  const Checker check(partial);
  const Handle fapl = partial_access_properties(check);
  if (check_layout) {
    // Read-only first: a refused resume must not change a byte of the file
    // (opening it for writing would rewrite its superblock's flags).
    try {
      const Handle reading = check.id(H5Fopen(partial.c_str(), H5F_ACC_RDONLY, fapl.get()), H5Fclose, "opening");
      check_matches(check, reading.get(), partial, layout);
    } catch (const ResumeMismatch&) {
      throw;
    } catch (const ResultsFileError& error) {
      // Truncated, emptied or overwritten since the interruption: what its
      // journal records cannot be trusted, and only the user can tell why.
      throw ResumeMismatch("cannot resume '" + partial.string() + "': it is not the readable partial file its journal '" +
                           journal_file.string() + "' describes (truncated or damaged? " + error.what() +
                           "); allowed: --force to start over");
    }
  }
  file = check.id(H5Fopen(partial.c_str(), H5F_ACC_RDWR, fapl.get()), H5Fclose, "opening");
  open = true;
  const auto open_group = [&](std::vector<Handle>& group, const std::string& name) {
    group.push_back(check.id(H5Dopen2(file.get(), name.c_str(), H5P_DEFAULT), H5Dclose, "opening '" + name + "'"));
  };
  for (const Variable& metric : layout.metrics) {
    open_group(variables.values, metric.name);
    if (!layout.summaries) continue;
    open_group(variables.means, metric.name + "_mean");
    open_group(variables.stds, metric.name + "_std");
  }
  for (const Variable& series : layout.series) open_group(variables.series, series.name);
  for (const Variable& count : layout.counts) open_group(variables.counts, count.name);
}

void ResultsFile::Impl::create_partial(const OpenOptions& options) {
  remove_quietly(partial);
  remove_quietly(finishing_path_of(path));
  journal->start(shapes.runs, shapes.configurations, options.overwrite, options.session);
  {
    const SilenceHdf5Errors silence;
    const Checker check(partial);
    Handle created;
    Variables laid_out;
    try {
      const Handle fcpl = creation_ordered_file_properties(check);
      const Handle fapl = partial_access_properties(check);
      // TRUNC replaces a stale partial file left by a crashed run.
      created = check.id(H5Fcreate(partial.c_str(), H5F_ACC_TRUNC, fcpl.get(), fapl.get()), H5Fclose,
                         "creating the file");
      laid_out = lay_out(check, created.get(), layout, layout.attributes, Storage::partial);
    } catch (...) {
      auto all = groups_of(laid_out);
      (void)close_file(created, all, false);
      // The half-laid-out file is ours (we just truncated it) and of no use.
      remove_quietly(partial);
      throw;
    }
    // Closed once, so that every byte of metadata is on disk before any run is stored.
    auto all = groups_of(laid_out);
    if (const std::string error = close_file(created, all, true); !error.empty()) {
      remove_quietly(partial);
      fail(error);
    }
  }
  sync_to_disk(partial);
  sync_directory(directory_of(partial));
  open_partial(false);
  journal->mark_ready();
  committed = 0;
}

void ResultsFile::Impl::resume_partial(const OpenOptions& options) {
  open_partial(true);
  journal->discard_damaged_tail();
  journal->begin_session(options.session);
  overwrite = options.overwrite || journal->state().overwrite;
  committed = journal->state().runs_done;
}

ResultsFile ResultsFile::create(const fs::path& path, const ResultsLayout& layout, bool overwrite) {
  OpenOptions options;
  options.overwrite = overwrite;
  return open(path, layout, options);
}

ResultsFile ResultsFile::open(const fs::path& path, const ResultsLayout& layout, const OpenOptions& options) {
  validate_layout(path, layout);
  std::error_code ec;
  const bool final_exists = fs::exists(fs::symlink_status(path, ec));
  if (!options.resume && !options.overwrite && final_exists) throw_exists(path);

  auto impl = std::make_unique<Impl>(path, layout);
  impl->overwrite = options.overwrite;
  const bool journal_existed = fs::exists(impl->journal_file, ec);
  impl->journal = Journal::lock(impl->journal_file);
  try {
    const JournalState& state = impl->journal->state();
    const bool partial_exists = fs::exists(fs::symlink_status(impl->partial, ec));
    // Nothing left to do when PATH already holds these results and what is
    // left beside it (a kill between the rename and the clean-up) is done too.
    const auto finished_already = [&] {
      if (!final_exists || (state.runs_done < state.runs && partial_exists)) return false;
      try {
        return holds_finished_results(path, layout);
      } catch (const ResumeMismatch&) {
        return false;  // an older file of other results, which this run replaces when it finishes
      }
    };
    if (!options.resume) {
      impl->create_partial(options);
    } else if (state.valid && state.ready) {
      if (finished_already()) {
        impl->complete = true;
      } else if (!partial_exists) {
        throw ResumeMismatch("cannot resume '" + impl->partial.string() + "': the file is missing, though its journal '" +
                             impl->journal_file.string() + "' records " + std::to_string(state.runs_done) +
                             " finished runs; allowed: --force to start over");
      } else {
        impl->resume_partial(options);
      }
    } else if (partial_exists && !state.valid) {
      throw ResumeMismatch("cannot resume '" + impl->partial.string() + "': it has no journal '" +
                           impl->journal_file.string() +
                           "' that records its finished runs; allowed: --force to start over");
    } else if (!partial_exists && final_exists && !state.valid) {
      // Throws ResumeMismatch for the results of another spec.
      if (!holds_finished_results(path, layout)) {
        throw ResumeMismatch("cannot resume '" + path.string() +
                             "': it is not a finished results file and there is no partial file; allowed: "
                             "--force to start over");
      }
      impl->complete = true;
    } else {
      // No partial file yet, or one whose layout was never finished (killed
      // while being created): nothing of value is lost by starting it anew,
      // with the intent to overwrite of the run that was killed.
      OpenOptions again = options;
      again.overwrite = options.overwrite || (state.valid && state.overwrite);
      impl->overwrite = again.overwrite;
      impl->create_partial(again);
    }
  } catch (...) {
    impl->journal.reset();
    if (!journal_existed) remove_quietly(impl->journal_file);
    throw;
  }
  if (impl->complete) {
    // Clean up what a finished run left beside PATH.
    impl->journal.reset();
    if (journal_existed) {
      remove_quietly(impl->partial);
    }
    remove_quietly(impl->journal_file);
    remove_quietly(finishing_path_of(path));
    impl->committed = impl->shapes.runs;
    return ResultsFile(std::move(impl));
  }
  impl->sessions = impl->journal->state().sessions;
  impl->session_start = std::chrono::steady_clock::now();
  return ResultsFile(std::move(impl));
}

void ResultsFile::Impl::transfer_range(bool write, std::span<const std::int64_t> shape, std::int64_t total,
                                       std::int64_t first, std::int64_t count, const char* unit,
                                       std::span<const Target> targets) {
  const std::string range = std::string(unit) + " [" + std::to_string(first) + ", " +
                            std::to_string(first) + " + " + std::to_string(count) + ")";
  const std::string operation = (write ? "writing " : "reading ") + range;
  require_open(operation);
  if (first < 0 || count < 0 || first > total || count > total - first) {
    throw ResultsFileError("results file '" + partial.string() + "': " + range +
                           " is outside the layout's " + std::to_string(total) + " " + unit);
  }
  for (const Target& target : targets) {
    const std::size_t expected = target.datasets->size() * static_cast<std::size_t>(count);
    if (target.data.size() != expected) {
      throw ResultsFileError("results file '" + partial.string() + "': " + operation + " of " +
                             std::to_string(target.datasets->size()) + " variables needs " +
                             std::to_string(expected) + " values, got " + std::to_string(target.data.size()));
    }
  }
  if (count == 0) return;

  const SilenceHdf5Errors silence;
  const Checker check(partial);
  Handle file_space = detail::simple_space(check, shape);
  if (!shape.empty()) {
    // HDF5 transfers a hyperslab union in row-major order of the file, which is
    // exactly the order of the flat range, so a 1-D memory buffer lines up.
    H5S_seloper_t op = H5S_SELECT_SET;
    for (const Box& box : boxes_for_flat_range(shape, first, first + count)) {
      const std::vector<hsize_t> start = detail::to_hsize(box.start);
      const std::vector<hsize_t> block = detail::to_hsize(box.count);
      check.status(H5Sselect_hyperslab(file_space.get(), op, start.data(), nullptr, block.data(), nullptr),
                   operation);
      op = H5S_SELECT_OR;
    }
  }
  const hsize_t n = static_cast<hsize_t>(count);
  const Handle memory_space = check.id(H5Screate_simple(1, &n, nullptr), H5Sclose, "creating a dataspace");
  for (const Target& target : targets) {
    for (std::size_t v = 0; v < target.datasets->size(); ++v) {
      double* buffer = target.data.data() + v * static_cast<std::size_t>(count);
      const hid_t dataset = (*target.datasets)[v].get();
      check.status(write ? H5Dwrite(dataset, H5T_NATIVE_DOUBLE, memory_space.get(), file_space.get(), H5P_DEFAULT,
                                    buffer)
                         : H5Dread(dataset, H5T_NATIVE_DOUBLE, memory_space.get(), file_space.get(), H5P_DEFAULT,
                                   buffer),
                   operation);
    }
  }
}

ResultsFile::ResultsFile(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ResultsFile::ResultsFile(ResultsFile&&) noexcept = default;
ResultsFile& ResultsFile::operator=(ResultsFile&&) noexcept = default;
ResultsFile::~ResultsFile() = default;

std::int64_t ResultsFile::run_count() const noexcept { return impl_ ? impl_->shapes.runs : 0; }

std::int64_t ResultsFile::configuration_count() const noexcept {
  return impl_ ? impl_->shapes.configurations : 0;
}

bool ResultsFile::complete() const noexcept { return impl_ && impl_->complete; }

std::int64_t ResultsFile::committed_runs() const noexcept { return impl_ ? impl_->committed : 0; }

const std::vector<JournalSession>& ResultsFile::sessions() const noexcept {
  static const std::vector<JournalSession> none;
  return impl_ ? impl_->sessions : none;
}

namespace {
// HDF5 only reads from write buffers; the const_cast lets one Target type serve both directions.
std::span<double> mutable_span(std::span<const double> data) {
  return {const_cast<double*>(data.data()), data.size()};
}
}  // namespace

void ResultsFile::write_runs(std::int64_t first_run, std::int64_t count, std::span<const double> values) {
  if (!impl_) throw ResultsFileError("write_runs on a moved-from ResultsFile");
  const Impl::Target targets[] = {{&impl_->variables.values, mutable_span(values)}};
  impl_->transfer_range(true, impl_->shapes.run, impl_->shapes.runs, first_run, count, "runs", targets);
}

void ResultsFile::write_summaries(std::int64_t first_configuration, std::int64_t count,
                                  std::span<const double> means, std::span<const double> stds) {
  if (!impl_) throw ResultsFileError("write_summaries on a moved-from ResultsFile");
  const Impl::Target targets[] = {{&impl_->variables.means, mutable_span(means)},
                                  {&impl_->variables.stds, mutable_span(stds)}};
  impl_->transfer_range(true, impl_->shapes.configuration, impl_->shapes.configurations, first_configuration,
                        count, "configurations", targets);
}

void ResultsFile::write_series(std::int64_t first_run, std::int64_t count, std::span<const double> values) {
  if (!impl_) throw ResultsFileError("write_series on a moved-from ResultsFile");
  const std::int64_t length = impl_->layout.series_length;
  if (length == 0) {
    throw ResultsFileError("results file '" + impl_->partial.string() + "': writing series, but the layout has none");
  }
  if (first_run < 0 || count < 0 || first_run > impl_->shapes.runs || count > impl_->shapes.runs - first_run) {
    throw ResultsFileError("results file '" + impl_->partial.string() + "': series of runs [" +
                           std::to_string(first_run) + ", " + std::to_string(first_run) + " + " +
                           std::to_string(count) + ") is outside the layout's " +
                           std::to_string(impl_->shapes.runs) + " runs");
  }
  const Impl::Target targets[] = {{&impl_->variables.series, mutable_span(values)}};
  impl_->transfer_range(true, impl_->shapes.series, impl_->shapes.runs * length, first_run * length,
                        count * length, "series values", targets);
}

std::vector<double> ResultsFile::read_runs(std::int64_t first_run, std::int64_t count) {
  if (!impl_) throw ResultsFileError("read_runs on a moved-from ResultsFile");
  std::vector<double> values(impl_->metric_count * static_cast<std::size_t>(std::max<std::int64_t>(count, 0)));
  const Impl::Target targets[] = {{&impl_->variables.values, values}};
  impl_->transfer_range(false, impl_->shapes.run, impl_->shapes.runs, first_run, count, "runs", targets);
  return values;
}

void ResultsFile::write_counts(std::int64_t first_configuration, std::int64_t count,
                               std::span<const std::int64_t> values) {
  if (!impl_) throw ResultsFileError("write_counts on a moved-from ResultsFile");
  // Written through doubles, which HDF5 converts to the file's int64 exactly
  // (counts stay far below 2^53), so that one transfer routine serves all.
  std::vector<double> converted(values.begin(), values.end());
  const Impl::Target targets[] = {{&impl_->variables.counts, converted}};
  impl_->transfer_range(true, impl_->shapes.configuration, impl_->shapes.configurations, first_configuration, count,
                        "configurations", targets);
}

std::vector<std::int64_t> ResultsFile::read_counts(std::int64_t first_configuration, std::int64_t count) {
  if (!impl_) throw ResultsFileError("read_counts on a moved-from ResultsFile");
  std::vector<double> values(impl_->variables.counts.size() * static_cast<std::size_t>(std::max<std::int64_t>(count, 0)));
  const Impl::Target targets[] = {{&impl_->variables.counts, values}};
  impl_->transfer_range(false, impl_->shapes.configuration, impl_->shapes.configurations, first_configuration, count,
                        "configurations", targets);
  return std::vector<std::int64_t>(values.begin(), values.end());
}

std::vector<double> ResultsFile::read_means(std::int64_t first_configuration, std::int64_t count) {
  if (!impl_) throw ResultsFileError("read_means on a moved-from ResultsFile");
  std::vector<double> values(impl_->metric_count * static_cast<std::size_t>(std::max<std::int64_t>(count, 0)));
  const Impl::Target targets[] = {{&impl_->variables.means, values}};
  impl_->transfer_range(false, impl_->shapes.configuration, impl_->shapes.configurations, first_configuration,
                        count, "configurations", targets);
  return values;
}

void ResultsFile::checkpoint(std::int64_t runs_done) {
  if (!impl_) throw ResultsFileError("checkpoint on a moved-from ResultsFile");
  Impl& impl = *impl_;
  impl.require_open("checkpointing");
  if (runs_done < impl.committed || runs_done > impl.shapes.runs) {
    throw ResultsFileError("results file '" + impl.partial.string() + "': checkpoint at " + std::to_string(runs_done) +
                           " runs, after " + std::to_string(impl.committed) + " of " +
                           std::to_string(impl.shapes.runs));
  }
  std::string error;
  {
    const SilenceHdf5Errors silence;
    auto all = groups_of(impl.variables);
    error = flush_data(impl.file.get(), all);
    if (error.empty()) {
      // Data before record: the journal must never promise bytes the disk may not hold.
      if (const int sync_error = sync_hdf5_file(impl.file.get()); sync_error != 0) {
        error = std::string("syncing to disk failed: ") + std::strerror(sync_error);
        discard_pending_writes(impl.file.get());
      }
    }
    if (!error.empty()) {
      (void)impl.close_all();
      impl.fail(error);
    }
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - impl.session_start).count();
  try {
    impl.journal->mark_done(runs_done, seconds);
  } catch (...) {
    const SilenceHdf5Errors silence;
    (void)impl.close_all();
    throw;
  }
  impl.committed = runs_done;
  impl.sessions = impl.journal->state().sessions;
}

void ResultsFile::Impl::write_finished(std::span<const Attribute> final_attributes) {
  const fs::path finishing = finishing_path_of(path);
  const SilenceHdf5Errors silence;
  const Checker check(finishing);
  Handle target;
  Variables created;
  auto all = groups_of(created);
  try {
    const Handle fcpl = creation_ordered_file_properties(check);
    target = check.id(H5Fcreate(finishing.c_str(), H5F_ACC_TRUNC, fcpl.get(), H5P_DEFAULT), H5Fclose,
                      "creating the file");
    const std::vector<Attribute> attributes = merged_attributes(layout.attributes, final_attributes);
    created = lay_out(check, target.get(), layout, attributes, Storage::finished);
    const auto copy_group = [&](std::vector<Handle>& from, std::vector<Handle>& to,
                                std::span<const std::int64_t> dims) {
      for (std::size_t v = 0; v < from.size(); ++v) {
        char name[256] = {};
        H5Iget_name(to[v].get(), name, sizeof name);
        copy_dataset(check, from[v].get(), to[v].get(), dims, name);
        // Closed as soon as it is copied: its compressed chunks leave the cache now.
        if (to[v].close() < 0) detail::throw_hdf5_error(finishing, std::string("writing '") + name + "'");
      }
    };
    copy_group(variables.values, created.values, shapes.run);
    copy_group(variables.means, created.means, shapes.configuration);
    copy_group(variables.stds, created.stds, shapes.configuration);
    copy_group(variables.series, created.series, shapes.series);
    // Counts pass through doubles, exactly: they stay far below 2^53.
    copy_group(variables.counts, created.counts, shapes.configuration);
    write_completed(check, target.get(), true, false);
  } catch (...) {
    discard_pending_writes(target.get());
    (void)close_file(target, all, false);
    remove_quietly(finishing);
    throw;
  }
  if (const std::string error = close_file(target, all, true); !error.empty()) {
    remove_quietly(finishing);
    throw ResultsFileError("results file '" + finishing.string() + "': " + error);
  }
}

void ResultsFile::finish(std::span<const Attribute> final_attributes) {
  if (!impl_) throw ResultsFileError("finish on a moved-from ResultsFile");
  Impl& impl = *impl_;
  if (impl.complete) return;
  impl.require_open("finishing");
  checkpoint(impl.shapes.runs);
  const fs::path finishing = finishing_path_of(impl.path);
  try {
    impl.write_finished(final_attributes);
    sync_to_disk(finishing);
    if (impl.overwrite) {
      std::error_code ec;
      fs::rename(finishing, impl.path, ec);
      if (ec) {
        throw ResultsFileError("results file '" + impl.path.string() + "': renaming '" + finishing.string() +
                               "' failed: " + ec.message());
      }
    } else {
      rename_no_replace(finishing, impl.path,
                        "; the finished runs stay in '" + impl.partial.string() +
                            "': move the file away and resume to finish them");
    }
  } catch (...) {
    remove_quietly(finishing);
    const SilenceHdf5Errors silence;
    (void)impl.close_all();
    impl.journal.reset();
    throw;
  }
  sync_directory(directory_of(impl.path));
  {
    // Nothing is pending (the checkpoint flushed it) and the file goes away.
    const SilenceHdf5Errors silence;
    (void)impl.close_all();
  }
  impl.sessions = impl.journal->state().sessions;
  impl.journal.reset();
  // The partial file before its journal: a journal left alone still says that
  // every run was done, and a resume then finds PATH complete and cleans up.
  remove_quietly(impl.partial);
  remove_quietly(impl.journal_file);
  sync_directory(directory_of(impl.path));
}

const fs::path& ResultsFile::path() const noexcept { return impl_->path; }

fs::path ResultsFile::partial_path() const { return impl_->partial; }

fs::path ResultsFile::journal_path() const { return impl_->journal_file; }

// ---------------------------------------------------------------------------

FileSizeEstimate estimate_file_size(const ResultsLayout& layout, std::int64_t sample_runs,
                                    std::span<const double> values, std::span<const double> series) {
  const fs::path shown("<size estimate>");
  validate_layout(shown, layout);
  const Shapes shapes(layout);
  const std::size_t metrics = layout.metrics.size();
  const std::size_t n = static_cast<std::size_t>(std::max<std::int64_t>(sample_runs, 0));
  const std::size_t length = static_cast<std::size_t>(layout.series_length);
  if (values.size() != metrics * n || (!series.empty() && series.size() != layout.series.size() * n * length)) {
    throw ResultsFileError("size estimate: the sample does not match the layout");
  }
  // Metadata: object headers, attributes, dimension-scale references; about
  // 4 KiB per variable was what the files of the test suite needed.
  std::int64_t metadata = 16384;
  for (const Attribute& attribute : layout.attributes) {
    metadata += 64 + static_cast<std::int64_t>(attribute.name.size());
    if (const auto* text = std::get_if<std::string>(&attribute.value)) metadata += static_cast<std::int64_t>(text->size());
  }
  metadata += 4096 * static_cast<std::int64_t>(3 * metrics + layout.series.size() + layout.axes.size() +
                                               layout.coordinates.size() + layout.counts.size() + 2);
  const auto bytes_of = [](const AxisValues& axis_values) {
    return std::visit(
        [](const auto& v) {
          std::int64_t bytes = 0;
          for (const auto& x : v) {
            if constexpr (std::is_same_v<std::decay_t<decltype(x)>, std::string>) {
              bytes += 16 + static_cast<std::int64_t>(x.size());
            } else {
              bytes += 8;
            }
          }
          return bytes;
        },
        axis_values);
  };
  std::int64_t coordinates = 8 * (layout.replicates + layout.series_length);
  for (const Axis& axis : layout.axes) coordinates += bytes_of(axis.values);
  for (const AuxiliaryCoordinate& coordinate : layout.coordinates) coordinates += bytes_of(coordinate.values);
  const double run_bytes = 8.0 * static_cast<double>(shapes.runs);
  const double configuration_bytes = 8.0 * static_cast<double>(shapes.configurations);
  const double series_bytes = run_bytes * static_cast<double>(layout.series_length);
  // Counts compress to little (they are small integers); counted whole, as an upper bound.
  const auto count_bytes = static_cast<std::int64_t>(static_cast<double>(layout.counts.size()) * configuration_bytes);
  coordinates += count_bytes;

  FileSizeEstimate estimate;
  estimate.partial_bytes = metadata + coordinates +
                           static_cast<std::int64_t>(static_cast<double>(metrics) * (run_bytes + 2 * configuration_bytes) +
                                                     static_cast<double>(layout.series.size()) * series_bytes);

  // Compressed fraction of each variable, from the sample compressed in memory
  // with the finished file's filters. The sample's runs are spread over the
  // grid, less alike than neighbours in a chunk, so this errs on the large side.
  const SilenceHdf5Errors silence;
  const Checker check(shown);
  const Handle fapl = check.id(H5Pcreate(H5P_FILE_ACCESS), H5Pclose, "estimating the size");
  check.status(H5Pset_fapl_core(fapl.get(), 1 << 20, false), "estimating the size");
  // A distinct name per call: HDF5 refuses to create a file it holds open, in memory or not.
  static std::atomic<std::uint64_t> calls{0};
  const std::string memory_name = "coopsweep-size-estimate-" + std::to_string(::getpid()) + "-" + std::to_string(calls++);
  const Handle memory_file = check.id(H5Fcreate(memory_name.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl.get()),
                                      H5Fclose, "estimating the size");
  int index = 0;
  const auto compressed_fraction = [&](std::span<const double> sample) {
    if (sample.empty()) return 1.0;
    const std::int64_t size = static_cast<std::int64_t>(sample.size());
    const Handle space = detail::simple_space(check, std::span(&size, 1));
    const Handle dcpl = check.id(H5Pcreate(H5P_DATASET_CREATE), H5Pclose, "estimating the size");
    const hsize_t chunk = static_cast<hsize_t>(std::min(size, kChunkElements));
    check.status(H5Pset_chunk(dcpl.get(), 1, &chunk), "estimating the size");
    set_compression(check, dcpl.get(), "estimating the size");
    const std::string name = "sample" + std::to_string(index++);
    const Handle dataset = check.id(
        H5Dcreate2(memory_file.get(), name.c_str(), H5T_IEEE_F64LE, space.get(), H5P_DEFAULT, dcpl.get(), H5P_DEFAULT),
        H5Dclose, "estimating the size");
    check.status(H5Dwrite(dataset.get(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, sample.data()),
                 "estimating the size");
    check.status(H5Dflush(dataset.get()), "estimating the size");
    const double stored = static_cast<double>(H5Dget_storage_size(dataset.get()));
    return std::min(1.0, stored / (8.0 * static_cast<double>(sample.size())));
  };
  double compressed = static_cast<double>(metadata + coordinates);
  for (std::size_t m = 0; m < metrics; ++m) {
    const double fraction = n > 0 ? compressed_fraction(values.subspan(m * n, n)) : 1.0;
    compressed += fraction * (run_bytes + 2 * configuration_bytes);
  }
  for (std::size_t s = 0; s < layout.series.size(); ++s) {
    const double fraction = !series.empty() && n > 0 ? compressed_fraction(series.subspan(s * n * length, n * length)) : 1.0;
    compressed += fraction * series_bytes;
  }
  estimate.final_bytes = static_cast<std::int64_t>(compressed);
  return estimate;
}

// ---------------------------------------------------------------------------

std::vector<Box> boxes_for_flat_range(std::span<const std::int64_t> shape, std::int64_t begin,
                                      std::int64_t end) {
  const std::size_t rank = shape.size();
  std::int64_t total = 1;
  for (std::int64_t size : shape) {
    if (size < 0) throw std::invalid_argument("boxes_for_flat_range: negative dimension");
    total = size == 0 ? 0 : total * size;
  }
  if (begin < 0 || begin > end || end > total) {
    throw std::invalid_argument("boxes_for_flat_range: range [" + std::to_string(begin) + ", " +
                                std::to_string(end) + ") is outside [0, " +
                                std::to_string(total) + ")");
  }
  std::vector<Box> boxes;
  if (begin == end) return boxes;
  if (rank == 0) {
    boxes.push_back(Box{});
    return boxes;
  }

  // stride[k]: elements in one step of dimension k (no zeros: total > 0 here).
  std::vector<std::int64_t> stride(rank, 1);
  for (std::size_t k = rank - 1; k > 0; --k) stride[k - 1] = stride[k] * shape[k];

  // A box at level k covers [from, from + length), where `from` is aligned to
  // stride[k], `length` is a multiple of it and the range stays inside one step
  // of dimension k - 1: dims before k fixed, a run along k, full dims after k.
  const auto emit = [&](std::size_t level, std::int64_t from, std::int64_t length) {
    Box box;
    box.start.resize(rank);
    box.count.resize(rank);
    for (std::size_t d = 0; d < rank; ++d) {
      if (d < level) {
        box.start[d] = (from / stride[d]) % shape[d];
        box.count[d] = 1;
      } else if (d == level) {
        box.start[d] = (from / stride[d]) % shape[d];
        box.count[d] = length / stride[d];
      } else {
        box.start[d] = 0;
        box.count[d] = shape[d];
      }
    }
    boxes.push_back(std::move(box));
  };

  // Climb: finish the partial steps of the finer dimensions until `cursor` is
  // aligned to a coarse step or the range ends inside the current step.
  std::int64_t cursor = begin;
  std::size_t level = rank - 1;  // invariant: cursor is aligned to stride[level]
  while (level > 0) {
    const std::int64_t coarse = stride[level - 1];
    if (cursor % coarse != 0) {
      const std::int64_t boundary = (cursor / coarse + 1) * coarse;
      if (boundary > end) break;
      emit(level, cursor, boundary - cursor);
      cursor = boundary;
    }
    --level;
  }
  // Descend: the largest aligned block at each level, then the finer remainders.
  for (std::size_t d = level; d < rank; ++d) {
    const std::int64_t length = (end - cursor) / stride[d] * stride[d];
    if (length > 0) {
      emit(d, cursor, length);
      cursor += length;
    }
  }
  return boxes;
}

}  // namespace coopsweep::io
