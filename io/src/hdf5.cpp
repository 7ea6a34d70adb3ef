#include "hdf5.hpp"

#include "coopsweep/io/file_info.hpp"

#include <algorithm>
#include <type_traits>

namespace coopsweep::io::detail {

namespace fs = std::filesystem;

SilenceHdf5Errors::SilenceHdf5Errors() noexcept {
  saved_ = H5Eget_auto2(H5E_DEFAULT, &func_, &data_) >= 0;
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
}

SilenceHdf5Errors::~SilenceHdf5Errors() {
  if (saved_) H5Eset_auto2(H5E_DEFAULT, func_, data_);
}

namespace {

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

}  // namespace

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

void throw_hdf5_error(const fs::path& file, std::string_view operation) {
  std::string detail = innermost_hdf5_error();
  throw ResultsFileError("results file '" + file.string() + "': " + std::string(operation) +
                         " failed: " + detail);
}

std::vector<hsize_t> to_hsize(std::span<const std::int64_t> values) {
  std::vector<hsize_t> out(values.size());
  std::transform(values.begin(), values.end(), out.begin(),
                 [](std::int64_t v) { return static_cast<hsize_t>(v); });
  return out;
}

Handle utf8_string_type(const Checker& check) {
  Handle type = check.id(H5Tcopy(H5T_C_S1), H5Tclose, "creating a string type");
  check.status(H5Tset_size(type.get(), H5T_VARIABLE), "creating a string type");
  check.status(H5Tset_cset(type.get(), H5T_CSET_UTF8), "creating a string type");
  return type;
}

Handle scalar_space(const Checker& check) {
  return check.id(H5Screate(H5S_SCALAR), H5Sclose, "creating a dataspace");
}

Handle simple_space(const Checker& check, std::span<const std::int64_t> dims) {
  if (dims.empty()) return scalar_space(check);
  const std::vector<hsize_t> extent = to_hsize(dims);
  return check.id(H5Screate_simple(static_cast<int>(extent.size()), extent.data(), nullptr),
                  H5Sclose, "creating a dataspace");
}

std::vector<std::int64_t> dataset_dims(const Checker& check, hid_t dataset, std::string_view name) {
  const std::string operation = "reading the shape of '" + std::string(name) + "'";
  const Handle space = check.id(H5Dget_space(dataset), H5Sclose, operation);
  const int rank = H5Sget_simple_extent_ndims(space.get());
  if (rank < 0) throw_hdf5_error(check.file(), operation);
  std::vector<hsize_t> dims(static_cast<std::size_t>(rank));
  if (rank > 0) check.status(H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr), operation);
  std::vector<std::int64_t> out(dims.size());
  std::transform(dims.begin(), dims.end(), out.begin(),
                 [](hsize_t d) { return static_cast<std::int64_t>(d); });
  return out;
}

void write_attribute(const Checker& check, hid_t object, const std::string& name, hid_t file_type,
                     hid_t memory_type, const void* value) {
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

AttributeValue read_attribute(const Checker& check, hid_t attribute, std::string_view name) {
  const std::string operation = "reading attribute '" + std::string(name) + "'";
  const Handle type = check.id(H5Aget_type(attribute), H5Tclose, operation);
  switch (H5Tget_class(type.get())) {
    case H5T_INTEGER: {
      std::int64_t value = 0;
      check.status(H5Aread(attribute, H5T_NATIVE_INT64, &value), operation);
      return value;
    }
    case H5T_FLOAT: {
      double value = 0.0;
      check.status(H5Aread(attribute, H5T_NATIVE_DOUBLE, &value), operation);
      return value;
    }
    case H5T_STRING: {
      if (H5Tis_variable_str(type.get()) > 0) {
        const Handle memory = utf8_string_type(check);
        char* raw = nullptr;
        check.status(H5Aread(attribute, memory.get(), &raw), operation);
        std::string value = raw != nullptr ? raw : "";
        H5free_memory(raw);
        return value;
      }
      const std::size_t size = H5Tget_size(type.get());
      std::string value(size, '\0');
      check.status(H5Aread(attribute, type.get(), value.data()), operation);
      value.resize(std::min(value.find('\0'), value.size()));
      return value;
    }
    default:
      return std::string("<unsupported type>");
  }
}

AxisValues read_axis_values(const Checker& check, hid_t dataset, std::string_view name) {
  const std::string operation = "reading coordinate '" + std::string(name) + "'";
  const std::vector<std::int64_t> dims = dataset_dims(check, dataset, name);
  const std::size_t size = dims.size() == 1 ? static_cast<std::size_t>(dims[0]) : 1;
  const Handle type = check.id(H5Dget_type(dataset), H5Tclose, operation);
  switch (H5Tget_class(type.get())) {
    case H5T_INTEGER: {
      std::vector<std::int64_t> values(size);
      check.status(H5Dread(dataset, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()),
                   operation);
      return values;
    }
    case H5T_FLOAT: {
      std::vector<double> values(size);
      check.status(H5Dread(dataset, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()),
                   operation);
      return values;
    }
    default: {
      const Handle memory = utf8_string_type(check);
      std::vector<char*> raw(size, nullptr);
      check.status(H5Dread(dataset, memory.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, raw.data()), operation);
      std::vector<std::string> values;
      values.reserve(size);
      for (char* text : raw) {
        values.emplace_back(text != nullptr ? text : "");
        H5free_memory(text);
      }
      return values;
    }
  }
}

std::string format_attribute(const AttributeValue& value) {
  const std::string text = attribute_text(value);
  return std::holds_alternative<std::string>(value) ? "'" + text + "'" : text;
}

}  // namespace coopsweep::io::detail
