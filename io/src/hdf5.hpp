#pragma once
// Private to coopsweep::io: RAII handles over the HDF5 C API, errors turned into
// ResultsFileError with HDF5's own innermost message, and the attribute and
// dataspace helpers that results_file.cpp and file_info.cpp share.

#include "coopsweep/io/results_file.hpp"

#include <hdf5.h>

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace coopsweep::io::detail {

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
// the process (which may rely on the printout) is unaffected. The handler is
// per thread in HDF5's thread-safe build, which Debian ships.
class SilenceHdf5Errors {
 public:
  SilenceHdf5Errors() noexcept;
  SilenceHdf5Errors(const SilenceHdf5Errors&) = delete;
  SilenceHdf5Errors& operator=(const SilenceHdf5Errors&) = delete;
  ~SilenceHdf5Errors();

 private:
  H5E_auto2_t func_ = nullptr;
  void* data_ = nullptr;
  bool saved_ = false;
};

// The most specific entry of HDF5's error stack ("<minor>: <description>").
// Must run before any other HDF5 call, since every API call clears the stack.
std::string innermost_hdf5_error();

[[noreturn]] void throw_hdf5_error(const std::filesystem::path& file, std::string_view operation);

class Checker {
 public:
  explicit Checker(const std::filesystem::path& file) : file_(file) {}

  Handle id(hid_t raw, Handle::Closer closer, std::string_view operation) const {
    if (raw < 0) throw_hdf5_error(file_, operation);
    return Handle(raw, closer);
  }
  void status(herr_t status, std::string_view operation) const {
    if (status < 0) throw_hdf5_error(file_, operation);
  }
  const std::filesystem::path& file() const noexcept { return file_; }

 private:
  const std::filesystem::path& file_;
};

std::vector<hsize_t> to_hsize(std::span<const std::int64_t> values);

Handle utf8_string_type(const Checker& check);
Handle scalar_space(const Checker& check);
// A simple dataspace of `dims`, or a scalar one when `dims` is empty.
Handle simple_space(const Checker& check, std::span<const std::int64_t> dims);
// The extent of a dataset; empty for a scalar.
std::vector<std::int64_t> dataset_dims(const Checker& check, hid_t dataset, std::string_view name);

void write_attribute(const Checker& check, hid_t object, const std::string& name, hid_t file_type,
                     hid_t memory_type, const void* value);
void write_string_attribute(const Checker& check, hid_t object, const std::string& name,
                            const std::string& value);
void write_attribute_value(const Checker& check, hid_t object, const std::string& name,
                           const AttributeValue& value);

// Reads a scalar attribute as a string, a 64-bit integer or a double by its
// type class (any integer width reads as int64, any float as double).
AttributeValue read_attribute(const Checker& check, hid_t attribute, std::string_view name);

// Reads a 1-D coordinate of any of the axis types.
AxisValues read_axis_values(const Checker& check, hid_t dataset, std::string_view name);

// "0.25", "42", "'ring'": for messages and `coopsweep inspect`.
std::string format_attribute(const AttributeValue& value);

}  // namespace coopsweep::io::detail
