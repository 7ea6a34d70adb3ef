#include "coopsweep/io/results_file.hpp"

#include <hdf5.h>
#include <hdf5_hl.h>

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>
#include <set>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>

namespace coopsweep::io {

namespace fs = std::filesystem;

namespace {

// Keeps a chunk near 512 KiB of float64: big enough for sequential I/O, small
// enough that the default 1 MiB per-dataset chunk cache holds a whole chunk.
constexpr std::int64_t kChunkElements = std::int64_t{1} << 16;

constexpr std::string_view kPartialSuffix = ".partial";
constexpr const char* kCompletedAttribute = "completed";

// ---------------------------------------------------------------------------
// HDF5 handles and errors

class Handle {
 public:
  using Closer = herr_t (*)(hid_t);

  Handle() noexcept = default;
  Handle(hid_t id, Closer closer) noexcept : id_(id), closer_(closer) {}
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  Handle(Handle&& other) noexcept
      : id_(std::exchange(other.id_, H5I_INVALID_HID)), closer_(other.closer_) {}
  Handle& operator=(Handle&& other) noexcept {
    if (this != &other) {
      reset();
      id_ = std::exchange(other.id_, H5I_INVALID_HID);
      closer_ = other.closer_;
    }
    return *this;
  }
  ~Handle() { reset(); }

  hid_t get() const noexcept { return id_; }

  // Closing can be where buffered data reaches the disk, so callers that care
  // about durability check this status instead of letting the destructor drop it.
  herr_t close() noexcept {
    if (id_ < 0) return 0;
    return closer_(std::exchange(id_, H5I_INVALID_HID));
  }
  void reset() noexcept { (void)close(); }

 private:
  hid_t id_ = H5I_INVALID_HID;
  Closer closer_ = nullptr;
};

// HDF5 prints its error stack to stderr by default; we report errors through
// exceptions instead. The previous handler is restored so that code elsewhere in
// the process (which may rely on the printout) is unaffected.
class SilenceHdf5Errors {
 public:
  SilenceHdf5Errors() noexcept {
    saved_ = H5Eget_auto2(H5E_DEFAULT, &func_, &data_) >= 0;
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  }
  SilenceHdf5Errors(const SilenceHdf5Errors&) = delete;
  SilenceHdf5Errors& operator=(const SilenceHdf5Errors&) = delete;
  ~SilenceHdf5Errors() {
    if (saved_) H5Eset_auto2(H5E_DEFAULT, func_, data_);
  }

 private:
  H5E_auto2_t func_ = nullptr;
  void* data_ = nullptr;
  bool saved_ = false;
};

struct InnermostError {
  bool found = false;
  hid_t minor = H5I_INVALID_HID;
  std::string description;
};

// A C callback: it must not let an exception (bad_alloc) unwind through HDF5.
herr_t record_innermost(unsigned n, const H5E_error2_t* error, void* client_data) noexcept {
  // Walking upward, entry 0 is the most specific one (e.g. the failed write(2)
  // with its errno text); the outer entries only repeat "unable to ..." chains.
  if (n != 0 || error == nullptr) return 0;
  auto* innermost = static_cast<InnermostError*>(client_data);
  innermost->found = true;
  innermost->minor = error->min_num;
  try {
    innermost->description = error->desc != nullptr ? error->desc : "";
    // I/O errors embed ctime(), whose trailing newline would split the message.
    std::erase(innermost->description, '\n');
  } catch (...) {
    innermost->description.clear();
  }
  return 0;
}

// Must run before any other HDF5 call, since every API call clears the stack.
std::string innermost_hdf5_error() {
  InnermostError innermost;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, record_innermost, &innermost);
  if (!innermost.found) return "unknown HDF5 error";
  std::string text;
  char minor[256] = {};
  H5E_type_t type{};
  if (H5Eget_msg(innermost.minor, &type, minor, sizeof minor) > 0) text = minor;
  if (!innermost.description.empty()) {
    if (!text.empty()) text += ": ";
    text += innermost.description;
  }
  return text.empty() ? std::string("unknown HDF5 error") : text;
}

[[noreturn]] void throw_hdf5_error(const fs::path& file, std::string_view operation) {
  std::string detail = innermost_hdf5_error();
  throw ResultsFileError("results file '" + file.string() + "': " + std::string(operation) +
                         " failed: " + detail);
}

class Checker {
 public:
  explicit Checker(const fs::path& file) : file_(file) {}

  Handle id(hid_t raw, Handle::Closer closer, std::string_view operation) const {
    if (raw < 0) throw_hdf5_error(file_, operation);
    return Handle(raw, closer);
  }
  void status(herr_t status, std::string_view operation) const {
    if (status < 0) throw_hdf5_error(file_, operation);
  }

 private:
  const fs::path& file_;
};

// ---------------------------------------------------------------------------
// Types and attributes

Handle utf8_string_type(const Checker& check) {
  Handle type = check.id(H5Tcopy(H5T_C_S1), H5Tclose, "creating a string type");
  check.status(H5Tset_size(type.get(), H5T_VARIABLE), "creating a string type");
  check.status(H5Tset_cset(type.get(), H5T_CSET_UTF8), "creating a string type");
  return type;
}

// `completed` is an int8 flag (0 or 1), not HDF5's bool enum: netCDF has no
// boolean, and xarray's to_netcdf refuses a numpy.bool_ attribute, so a flag
// keeps a loaded dataset re-savable while bool(attrs["completed"]) still works.
Handle flag_type(const Checker& check) {
  return check.id(H5Tcopy(H5T_STD_I8LE), H5Tclose, "creating the flag type");
}

Handle scalar_space(const Checker& check) {
  return check.id(H5Screate(H5S_SCALAR), H5Sclose, "creating a dataspace");
}

void write_attribute(const Checker& check, hid_t object, const std::string& name,
                     hid_t file_type, hid_t memory_type, const void* value) {
  const std::string operation = "writing attribute '" + name + "'";
  const Handle space = scalar_space(check);
  const Handle attribute = check.id(
      H5Acreate2(object, name.c_str(), file_type, space.get(), H5P_DEFAULT, H5P_DEFAULT),
      H5Aclose, operation);
  check.status(H5Awrite(attribute.get(), memory_type, value), operation);
}

void write_string_attribute(const Checker& check, hid_t object, const std::string& name,
                            const std::string& value) {
  const Handle type = utf8_string_type(check);
  const char* text = value.c_str();
  write_attribute(check, object, name, type.get(), type.get(), &text);
}

void write_attribute_value(const Checker& check, hid_t object, const std::string& name,
                           const AttributeValue& value) {
  std::visit(
      [&](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::string>) {
          write_string_attribute(check, object, name, v);
        } else if constexpr (std::is_same_v<T, std::int64_t>) {
          write_attribute(check, object, name, H5T_STD_I64LE, H5T_NATIVE_INT64, &v);
        } else {
          write_attribute(check, object, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &v);
        }
      },
      value);
}

void write_description(const Checker& check, hid_t object, const std::string& long_name,
                       const std::string& units) {
  if (!long_name.empty()) write_string_attribute(check, object, "long_name", long_name);
  if (!units.empty()) write_string_attribute(check, object, "units", units);
}

// ---------------------------------------------------------------------------
// Datasets

// NetCDF readers order variables and attributes by creation; without this
// tracking they would come back alphabetically.
Handle creation_ordered_dataset_properties(const Checker& check) {
  Handle dcpl = check.id(H5Pcreate(H5P_DATASET_CREATE), H5Pclose, "creating dataset properties");
  check.status(H5Pset_attr_creation_order(dcpl.get(), H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED),
               "creating dataset properties");
  return dcpl;
}

std::vector<hsize_t> to_hsize(std::span<const std::int64_t> values) {
  std::vector<hsize_t> out(values.size());
  std::transform(values.begin(), values.end(), out.begin(),
                 [](std::int64_t v) { return static_cast<hsize_t>(v); });
  return out;
}

// Full trailing dimensions first, so that a chunk holds whole replicate sets and
// whole rows of the fastest axes: that is the order in which runs are written.
std::vector<hsize_t> chunk_shape(std::span<const std::int64_t> dims) {
  std::vector<hsize_t> chunk(dims.size(), 1);
  std::int64_t elements = 1;
  for (std::size_t i = dims.size(); i-- > 0;) {
    if (dims[i] <= kChunkElements / elements) {
      chunk[i] = static_cast<hsize_t>(dims[i]);
      elements *= dims[i];
    } else {
      chunk[i] = static_cast<hsize_t>(std::max<std::int64_t>(1, kChunkElements / elements));
      break;
    }
  }
  return chunk;
}

Handle simple_space(const Checker& check, std::span<const std::int64_t> dims) {
  if (dims.empty()) return scalar_space(check);
  const std::vector<hsize_t> extent = to_hsize(dims);
  return check.id(H5Screate_simple(static_cast<int>(extent.size()), extent.data(), nullptr),
                  H5Sclose, "creating a dataspace");
}

template <typename T>
Handle create_coordinate(const Checker& check, hid_t file, const std::string& name,
                         hid_t file_type, hid_t memory_type, const std::vector<T>& values) {
  const std::string operation = "writing coordinate '" + name + "'";
  const std::int64_t size = static_cast<std::int64_t>(values.size());
  const Handle space = simple_space(check, std::span(&size, 1));
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
          const Handle type = utf8_string_type(check);
          return create_coordinate(check, file, axis.name, type.get(), type.get(), pointers);
        }
      },
      axis.values);
  write_description(check, dataset.get(), axis.long_name, axis.units);
  return dataset;
}

Handle create_metric_dataset(const Checker& check, hid_t file, const std::string& name,
                             std::span<const std::int64_t> dims, std::span<const hid_t> scales,
                             const std::string& long_name, const std::string& units) {
  const std::string operation = "creating variable '" + name + "'";
  const Handle space = simple_space(check, dims);
  const Handle dcpl = creation_ordered_dataset_properties(check);
  const double fill = std::numeric_limits<double>::quiet_NaN();
  // Chunks are allocated only when first written, so unwritten runs cost no disk
  // and read back as the fill value; FILL_TIME_ALLOC also fills the rest of a
  // chunk that is written only in part. A scalar dataset cannot be chunked.
  if (!dims.empty()) {
    const std::vector<hsize_t> chunk = chunk_shape(dims);
    check.status(H5Pset_chunk(dcpl.get(), static_cast<int>(chunk.size()), chunk.data()), operation);
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
  write_attribute(check, dataset.get(), "_FillValue", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &fill);
  write_description(check, dataset.get(), long_name, units);
  return dataset;
}

// ---------------------------------------------------------------------------
// Layout checks

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
  add_dataset("replicate", "axis");
  for (const Variable& metric : layout.metrics) {
    add_dataset(metric.name, "metric");
    add_dataset(metric.name + "_mean", "metric summary");
    add_dataset(metric.name + "_std", "metric summary");
  }
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

[[noreturn]] void throw_exists(const fs::path& path) {
  throw ResultsFileError("results file '" + path.string() + "' exists; use --force to overwrite");
}

// Renames without ever replacing `to`, atomically where the kernel allows it, so
// that a file that appeared while the sweep ran is not clobbered.
void rename_no_replace(const fs::path& from, const fs::path& to) {
#if defined(__linux__) && defined(RENAME_NOREPLACE)
  if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0) return;
  const int error = errno;
  if (error == EEXIST) throw_exists(to);
  if (error != EINVAL && error != ENOSYS && error != ENOTSUP) {
    throw ResultsFileError("results file '" + to.string() + "': renaming '" + from.string() +
                           "' failed: " + std::strerror(error));
  }
#endif
  std::error_code ec;
  if (fs::exists(fs::symlink_status(to, ec))) throw_exists(to);
  fs::rename(from, to, ec);
  if (ec) {
    throw ResultsFileError("results file '" + to.string() + "': renaming '" + from.string() +
                           "' failed: " + ec.message());
  }
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

}  // namespace

// ---------------------------------------------------------------------------

struct ResultsFile::Impl {
  fs::path path;
  fs::path partial;
  bool overwrite = false;
  std::vector<std::int64_t> run_shape;            // axis sizes..., replicates
  std::vector<std::int64_t> configuration_shape;  // axis sizes...
  std::int64_t runs = 0;
  std::int64_t configurations = 0;
  std::size_t metric_count = 0;
  Handle file;
  std::vector<Handle> values;
  std::vector<Handle> means;
  std::vector<Handle> stds;
  bool open = false;

  Impl() = default;
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;
  ~Impl() {
    if (!open) return;
    const SilenceHdf5Errors silence;
    (void)close_all();  // leaves the partial file, marked completed = false
  }

  // Closes every handle; returns "<operation> failed: <HDF5 error>" for the
  // first failure, or "" if the file reached the disk intact.
  //
  // HDF5 1.10 cannot survive a failed close: the id stays registered but half
  // destroyed, and the library crashes on it at exit. Raw data is the bulk of
  // what is pending, and a failure to write it leaves HDF5 consistent; so it is
  // flushed first, and if it cannot reach the disk (disk full, I/O error), all
  // further writes go to a scratch file instead so that the closes succeed; the
  // partial file is lost either way. A failed metadata flush (H5Fflush after the
  // raw data went through) is not recoverable in HDF5 1.10: it is reported, but
  // the library may still crash at exit.
  std::string close_all() noexcept {
    std::string error;
    const auto note_failure = [&](const char* operation) {
      if (!error.empty()) return;
      try {
        error = std::string(operation) + " failed: " + innermost_hdf5_error();
      } catch (...) {
        error = "closing failed";
      }
    };
    if (file.get() >= 0) {
      for (auto* group : {&values, &means, &stds}) {
        for (Handle& dataset : *group) {
          if (error.empty() && dataset.get() >= 0 && H5Dflush(dataset.get()) < 0) {
            note_failure("writing data");
            discard_pending_writes(file.get());
          }
        }
      }
      if (H5Fflush(file.get(), H5F_SCOPE_LOCAL) < 0) note_failure("flushing");
    }
    // Datasets first: with the default (weak) close degree the file would stay
    // open, and its final flush unreported, while any dataset is still open.
    for (auto* group : {&values, &means, &stds}) {
      for (Handle& dataset : *group) {
        if (dataset.close() < 0) note_failure("closing a variable");
      }
    }
    if (file.close() < 0) note_failure("closing");
    open = false;
    return error;
  }

  void require_open(std::string_view operation) const {
    if (!open) {
      throw ResultsFileError("results file '" + partial.string() + "': " +
                             std::string(operation) + " after the file was finished or failed");
    }
  }

  // One metric-major buffer destined for one dataset per metric.
  struct Target {
    const std::vector<Handle>* datasets;
    std::span<const double> data;
  };

  void write_range(std::span<const std::int64_t> shape, std::int64_t total, std::int64_t first,
                   std::int64_t count, const char* unit, std::span<const Target> targets);
};

void ResultsFile::Impl::write_range(std::span<const std::int64_t> shape, std::int64_t total,
                                    std::int64_t first, std::int64_t count, const char* unit,
                                    std::span<const Target> targets) {
  const std::string range = std::string(unit) + " [" + std::to_string(first) + ", " +
                            std::to_string(first) + " + " + std::to_string(count) + ")";
  require_open("writing " + range);
  if (first < 0 || count < 0 || first > total || count > total - first) {
    throw ResultsFileError("results file '" + partial.string() + "': " + range +
                           " is outside the layout's " + std::to_string(total) + " " + unit);
  }
  const std::size_t expected = metric_count * static_cast<std::size_t>(count);
  for (const Target& target : targets) {
    if (target.data.size() != expected) {
      throw ResultsFileError("results file '" + partial.string() + "': writing " + range + " of " +
                             std::to_string(metric_count) + " metrics needs " +
                             std::to_string(expected) + " values, got " +
                             std::to_string(target.data.size()));
    }
  }
  if (count == 0 || metric_count == 0) return;

  const SilenceHdf5Errors silence;
  const Checker check(partial);
  const std::string operation = "writing " + range;
  Handle file_space = simple_space(check, shape);
  if (!shape.empty()) {
    // HDF5 transfers a hyperslab union in row-major order of the file, which is
    // exactly the order of the flat range, so a 1-D memory buffer lines up.
    H5S_seloper_t op = H5S_SELECT_SET;
    for (const Box& box : boxes_for_flat_range(shape, first, first + count)) {
      const std::vector<hsize_t> start = to_hsize(box.start);
      const std::vector<hsize_t> block = to_hsize(box.count);
      check.status(H5Sselect_hyperslab(file_space.get(), op, start.data(), nullptr, block.data(),
                                       nullptr),
                   operation);
      op = H5S_SELECT_OR;
    }
  }
  const hsize_t n = static_cast<hsize_t>(count);
  const Handle memory_space =
      check.id(H5Screate_simple(1, &n, nullptr), H5Sclose, "creating a dataspace");
  for (const Target& target : targets) {
    for (std::size_t m = 0; m < metric_count; ++m) {
      const double* buffer = target.data.data() + m * static_cast<std::size_t>(count);
      check.status(H5Dwrite((*target.datasets)[m].get(), H5T_NATIVE_DOUBLE, memory_space.get(),
                            file_space.get(), H5P_DEFAULT, buffer),
                   operation);
    }
  }
}

ResultsFile ResultsFile::create(const fs::path& path, const ResultsLayout& layout,
                                bool overwrite) {
  validate_layout(path, layout);
  std::error_code ec;
  if (!overwrite && fs::exists(fs::symlink_status(path, ec))) throw_exists(path);

  auto impl = std::make_unique<Impl>();
  impl->path = path;
  impl->partial = fs::path(path.string() + std::string(kPartialSuffix));
  impl->overwrite = overwrite;
  for (const Axis& axis : layout.axes) impl->configuration_shape.push_back(axis_size(axis));
  impl->run_shape = impl->configuration_shape;
  impl->run_shape.push_back(layout.replicates);
  impl->configurations = 1;
  for (std::int64_t size : impl->configuration_shape) impl->configurations *= size;
  impl->runs = impl->configurations * layout.replicates;
  impl->metric_count = layout.metrics.size();

  const SilenceHdf5Errors silence;
  const Checker check(impl->partial);
  {
    const Handle fcpl =
        check.id(H5Pcreate(H5P_FILE_CREATE), H5Pclose, "creating file properties");
    check.status(H5Pset_link_creation_order(fcpl.get(),
                                            H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED),
                 "creating file properties");
    check.status(H5Pset_attr_creation_order(fcpl.get(),
                                            H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED),
                 "creating file properties");
    // TRUNC replaces a stale partial file left by a crashed run.
    impl->file = check.id(
        H5Fcreate(impl->partial.c_str(), H5F_ACC_TRUNC, fcpl.get(), H5P_DEFAULT), H5Fclose,
        "creating the file");
  }
  impl->open = true;

  try {
    const hid_t file = impl->file.get();
    for (const Attribute& attribute : layout.attributes) {
      write_attribute_value(check, file, attribute.name, attribute.value);
    }
    {
      const Handle type = flag_type(check);
      const std::int8_t completed = 0;
      write_attribute(check, file, kCompletedAttribute, type.get(), H5T_NATIVE_INT8, &completed);
    }

    std::vector<Handle> scales;
    for (const Axis& axis : layout.axes) scales.push_back(create_axis(check, file, axis));
    {
      std::vector<std::int64_t> replicate(static_cast<std::size_t>(layout.replicates));
      for (std::size_t i = 0; i < replicate.size(); ++i) {
        replicate[i] = static_cast<std::int64_t>(i);
      }
      scales.push_back(create_coordinate(check, file, "replicate", H5T_STD_I64LE,
                                         H5T_NATIVE_INT64, replicate));
    }
    std::vector<hid_t> scale_ids;
    for (const Handle& scale : scales) scale_ids.push_back(scale.get());
    const std::span<const hid_t> run_scales(scale_ids);
    const std::span<const hid_t> configuration_scales = run_scales.first(layout.axes.size());

    for (const Variable& metric : layout.metrics) {
      impl->values.push_back(create_metric_dataset(check, file, metric.name, impl->run_shape,
                                                   run_scales, metric.long_name, metric.units));
      // Summaries always get a long_name so plots of them say what was averaged.
      const auto summary_name = [&](const char* suffix) {
        return (metric.long_name.empty() ? metric.name : metric.long_name) + " " + suffix;
      };
      impl->means.push_back(create_metric_dataset(
          check, file, metric.name + "_mean", impl->configuration_shape, configuration_scales,
          summary_name("(mean over replicates)"), metric.units));
      impl->stds.push_back(create_metric_dataset(
          check, file, metric.name + "_std", impl->configuration_shape, configuration_scales,
          summary_name("(standard deviation over replicates)"), metric.units));
    }
  } catch (...) {
    // The half-laid-out file is ours (we just truncated it) and of no use.
    (void)impl->close_all();
    std::error_code ignored;
    fs::remove(impl->partial, ignored);
    throw;
  }
  return ResultsFile(std::move(impl));
}

ResultsFile::ResultsFile(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ResultsFile::ResultsFile(ResultsFile&&) noexcept = default;
ResultsFile& ResultsFile::operator=(ResultsFile&&) noexcept = default;
ResultsFile::~ResultsFile() = default;

std::int64_t ResultsFile::run_count() const noexcept { return impl_ ? impl_->runs : 0; }

std::int64_t ResultsFile::configuration_count() const noexcept {
  return impl_ ? impl_->configurations : 0;
}

void ResultsFile::write_runs(std::int64_t first_run, std::int64_t count,
                             std::span<const double> values) {
  if (!impl_) throw ResultsFileError("write_runs on a moved-from ResultsFile");
  const Impl::Target targets[] = {{&impl_->values, values}};
  impl_->write_range(impl_->run_shape, impl_->runs, first_run, count, "runs", targets);
}

void ResultsFile::write_summaries(std::int64_t first_configuration, std::int64_t count,
                                  std::span<const double> means, std::span<const double> stds) {
  if (!impl_) throw ResultsFileError("write_summaries on a moved-from ResultsFile");
  const Impl::Target targets[] = {{&impl_->means, means}, {&impl_->stds, stds}};
  impl_->write_range(impl_->configuration_shape, impl_->configurations, first_configuration,
                     count, "configurations", targets);
}

void ResultsFile::finish() {
  if (!impl_) throw ResultsFileError("finish on a moved-from ResultsFile");
  Impl& impl = *impl_;
  impl.require_open("finishing");
  {
    const SilenceHdf5Errors silence;
    const Checker check(impl.partial);
    try {
      const Handle attribute = check.id(H5Aopen(impl.file.get(), kCompletedAttribute, H5P_DEFAULT),
                                        H5Aclose, "marking the file completed");
      const std::int8_t completed = 1;
      check.status(H5Awrite(attribute.get(), H5T_NATIVE_INT8, &completed), "marking the file completed");
    } catch (...) {
      (void)impl.close_all();
      throw;
    }
    if (const std::string error = impl.close_all(); !error.empty()) {
      throw ResultsFileError("results file '" + impl.partial.string() + "': " + error);
    }
  }
  sync_to_disk(impl.partial);
  if (impl.overwrite) {
    std::error_code ec;
    fs::rename(impl.partial, impl.path, ec);
    if (ec) {
      throw ResultsFileError("results file '" + impl.path.string() + "': renaming '" +
                             impl.partial.string() + "' failed: " + ec.message());
    }
  } else {
    rename_no_replace(impl.partial, impl.path);
  }
}

const fs::path& ResultsFile::path() const noexcept { return impl_->path; }

fs::path ResultsFile::partial_path() const { return impl_->partial; }

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
