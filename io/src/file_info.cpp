#include "coopsweep/io/file_info.hpp"

#include "hdf5.hpp"

#include <hdf5.h>
#include <hdf5_hl.h>

#include <charconv>
#include <type_traits>
#include <utility>

namespace coopsweep::io {

namespace fs = std::filesystem;
using detail::Checker;
using detail::Handle;

namespace {

// C callbacks: they collect names only, and never let an exception through HDF5.
herr_t collect_link(hid_t, const char* name, const H5L_info_t*, void* data) noexcept {
  try {
    static_cast<std::vector<std::string>*>(data)->emplace_back(name);
    return 0;
  } catch (...) {
    return -1;
  }
}

herr_t collect_attribute(hid_t, const char* name, const H5A_info_t*, void* data) noexcept {
  try {
    static_cast<std::vector<std::string>*>(data)->emplace_back(name);
    return 0;
  } catch (...) {
    return -1;
  }
}

herr_t scale_name(hid_t, unsigned, hid_t scale, void* data) noexcept {
  char name[256] = {};
  if (H5DSget_scale_name(scale, name, sizeof name) < 0) return 0;
  try {
    *static_cast<std::string*>(data) = name;
  } catch (...) {
    return -1;
  }
  return 1;  // the first scale names the dimension
}

std::string string_attribute(const Checker& check, hid_t object, const char* name) {
  if (H5Aexists(object, name) <= 0) return "";
  const Handle attribute = check.id(H5Aopen(object, name, H5P_DEFAULT), H5Aclose, "reading attribute");
  const AttributeValue value = detail::read_attribute(check, attribute.get(), name);
  const auto* text = std::get_if<std::string>(&value);
  return text ? *text : detail::format_attribute(value);
}

}  // namespace

std::string attribute_text(const AttributeValue& value) {
  return std::visit(
      [](const auto& v) -> std::string {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::string>) {
          return v;
        } else if constexpr (std::is_same_v<T, std::int64_t>) {
          return std::to_string(v);
        } else {
          char text[32];
          const auto result = std::to_chars(text, text + sizeof text, v);
          return std::string(text, result.ptr);
        }
      },
      value);
}

FileInfo read_file_info(const fs::path& path) {
  const detail::SilenceHdf5Errors silence;
  const Checker check(path);
  std::error_code ec;
  if (!fs::exists(path, ec)) throw ResultsFileError("results file '" + path.string() + "' does not exist");
  if (H5Fis_hdf5(path.c_str()) <= 0) {
    throw ResultsFileError("results file '" + path.string() + "' is not an HDF5 file");
  }
  const Handle fapl = check.id(H5Pcreate(H5P_FILE_ACCESS), H5Pclose, "opening");
  check.status(H5Pset_file_locking(fapl.get(), false, true), "opening");
  const Handle file = check.id(H5Fopen(path.c_str(), H5F_ACC_RDONLY, fapl.get()), H5Fclose, "opening");

  FileInfo info;
  std::vector<std::string> names;
  // Creation order where the file tracks it (coopsweep's files do), else by name.
  const Handle root = check.id(H5Gopen2(file.get(), "/", H5P_DEFAULT), H5Gclose, "opening the root group");
  if (H5Literate(root.get(), H5_INDEX_CRT_ORDER, H5_ITER_INC, nullptr, collect_link, &names) < 0) {
    names.clear();
    check.status(H5Literate(root.get(), H5_INDEX_NAME, H5_ITER_INC, nullptr, collect_link, &names),
                 "listing variables");
  }
  const std::vector<std::string> links = std::exchange(names, {});
  for (const std::string& name : links) {
    H5O_info_t object{};
    if (H5Oget_info_by_name(file.get(), name.c_str(), &object, H5P_DEFAULT) < 0 || object.type != H5O_TYPE_DATASET) {
      continue;
    }
    const Handle dataset = check.id(H5Dopen2(file.get(), name.c_str(), H5P_DEFAULT), H5Dclose, "opening '" + name + "'");
    const std::vector<std::int64_t> shape = detail::dataset_dims(check, dataset.get(), name);
    if (H5DSis_scale(dataset.get()) > 0) {
      info.dimensions.push_back({name, shape.empty() ? 1 : shape[0]});
      continue;
    }
    VariableInfo variable;
    variable.name = name;
    variable.shape = shape;
    for (unsigned d = 0; d < shape.size(); ++d) {
      std::string dim;
      if (H5DSget_num_scales(dataset.get(), d) > 0) {
        int index = 0;
        H5DSiterate_scales(dataset.get(), d, &index, scale_name, &dim);
      }
      variable.dims.push_back(dim);
    }
    variable.long_name = string_attribute(check, dataset.get(), "long_name");
    variable.units = string_attribute(check, dataset.get(), "units");
    info.variables.push_back(std::move(variable));
  }

  if (H5Aiterate2(root.get(), H5_INDEX_CRT_ORDER, H5_ITER_INC, nullptr, collect_attribute, &names) < 0) {
    names.clear();
    check.status(H5Aiterate2(root.get(), H5_INDEX_NAME, H5_ITER_INC, nullptr, collect_attribute, &names),
                 "listing attributes");
  }
  for (const std::string& name : names) {
    const Handle attribute = check.id(H5Aopen(file.get(), name.c_str(), H5P_DEFAULT), H5Aclose,
                                      "reading attribute '" + name + "'");
    Attribute entry{name, detail::read_attribute(check, attribute.get(), name)};
    if (name == "completed") {
      const auto* flag = std::get_if<std::int64_t>(&entry.value);
      info.completed = flag != nullptr && *flag == 1;
    }
    info.attributes.push_back(std::move(entry));
  }
  return info;
}

VariableData read_variable(const fs::path& path, std::string_view name) {
  const detail::SilenceHdf5Errors silence;
  const Checker check(path);
  std::error_code ec;
  if (!fs::exists(path, ec)) throw ResultsFileError("results file '" + path.string() + "' does not exist");
  if (H5Fis_hdf5(path.c_str()) <= 0) {
    throw ResultsFileError("results file '" + path.string() + "' is not an HDF5 file");
  }
  const Handle fapl = check.id(H5Pcreate(H5P_FILE_ACCESS), H5Pclose, "opening");
  check.status(H5Pset_file_locking(fapl.get(), false, true), "opening");
  const Handle file = check.id(H5Fopen(path.c_str(), H5F_ACC_RDONLY, fapl.get()), H5Fclose, "opening");
  const std::string variable(name);
  if (variable.empty() || H5Lexists(file.get(), variable.c_str(), H5P_DEFAULT) <= 0) {
    throw ResultsFileError("results file '" + path.string() + "' has no variable '" + variable + "'");
  }
  const std::string operation = "reading '" + variable + "'";
  const Handle dataset = check.id(H5Dopen2(file.get(), variable.c_str(), H5P_DEFAULT), H5Dclose, operation);
  const Handle type = check.id(H5Dget_type(dataset.get()), H5Tclose, operation);
  const H5T_class_t type_class = H5Tget_class(type.get());
  if (type_class != H5T_INTEGER && type_class != H5T_FLOAT) {
    throw ResultsFileError("results file '" + path.string() + "': variable '" + variable + "' is not numeric");
  }
  VariableData data;
  data.shape = detail::dataset_dims(check, dataset.get(), variable);
  std::int64_t elements = 1;
  for (std::int64_t size : data.shape) elements *= size;
  for (unsigned d = 0; d < data.shape.size(); ++d) {
    std::string dim;
    if (H5DSget_num_scales(dataset.get(), d) > 0) {
      int index = 0;
      H5DSiterate_scales(dataset.get(), d, &index, scale_name, &dim);
    }
    data.dims.push_back(dim);
  }
  data.values.resize(static_cast<std::size_t>(elements));
  if (elements > 0) {
    check.status(H5Dread(dataset.get(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, data.values.data()),
                 operation);
  }
  return data;
}

}  // namespace coopsweep::io
