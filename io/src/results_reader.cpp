#include "coopsweep/io/results_reader.hpp"

#include "coopsweep/io/results_file.hpp"

#include "hdf5.hpp"

#include <hdf5.h>

#include <algorithm>
#include <map>
#include <string_view>

namespace coopsweep::io {

namespace fs = std::filesystem;
using detail::Checker;
using detail::Handle;
using detail::SilenceHdf5Errors;

struct ResultsReader::Impl {
  fs::path path;
  Handle file;
  struct Open {
    Handle dataset;
    std::vector<std::int64_t> shape;
    std::int64_t elements = 1;
  };
  std::map<std::string, Open, std::less<>> variables;

  Open& variable(const Checker& check, const std::string& name) {
    if (const auto found = variables.find(name); found != variables.end()) return found->second;
    if (H5Lexists(file.get(), name.c_str(), H5P_DEFAULT) <= 0) {
      throw ResultsFileError("results file '" + path.string() + "' has no variable '" + name + "'");
    }
    Open open;
    open.dataset = check.id(H5Dopen2(file.get(), name.c_str(), H5P_DEFAULT), H5Dclose, "opening '" + name + "'");
    open.shape = detail::dataset_dims(check, open.dataset.get(), name);
    for (const std::int64_t size : open.shape) open.elements *= size;
    return variables.emplace(name, std::move(open)).first->second;
  }
};

ResultsReader::ResultsReader(const fs::path& path) : impl_(std::make_unique<Impl>()) {
  impl_->path = path;
  const SilenceHdf5Errors silence;
  const Checker check(impl_->path);
  std::error_code ec;
  if (!fs::exists(path, ec)) throw ResultsFileError("results file '" + path.string() + "' does not exist");
  if (H5Fis_hdf5(path.c_str()) <= 0) throw ResultsFileError("results file '" + path.string() + "' is not an HDF5 file");
  const Handle fapl = check.id(H5Pcreate(H5P_FILE_ACCESS), H5Pclose, "opening");
  check.status(H5Pset_file_locking(fapl.get(), false, true), "opening");
  impl_->file = check.id(H5Fopen(path.c_str(), H5F_ACC_RDONLY, fapl.get()), H5Fclose, "opening");
}

ResultsReader::ResultsReader(ResultsReader&&) noexcept = default;
ResultsReader& ResultsReader::operator=(ResultsReader&&) noexcept = default;

ResultsReader::~ResultsReader() {
  if (!impl_) return;
  const SilenceHdf5Errors silence;
  impl_->variables.clear();  // datasets before the file
  impl_->file.reset();
}

const fs::path& ResultsReader::path() const noexcept { return impl_->path; }

std::vector<double> ResultsReader::read(std::span<const std::string> variables, std::int64_t first, std::int64_t count) {
  const SilenceHdf5Errors silence;
  const Checker check(impl_->path);
  std::vector<double> out(variables.size() * static_cast<std::size_t>(std::max<std::int64_t>(count, 0)));
  for (std::size_t v = 0; v < variables.size(); ++v) {
    Impl::Open& open = impl_->variable(check, variables[v]);
    if (first < 0 || count < 0 || first > open.elements || count > open.elements - first) {
      throw ResultsFileError("results file '" + impl_->path.string() + "': elements [" + std::to_string(first) +
                             ", " + std::to_string(first) + " + " + std::to_string(count) + ") lie outside '" +
                             variables[v] + "' (" + std::to_string(open.elements) + " elements)");
    }
    if (count == 0) continue;
    const std::string operation = "reading '" + variables[v] + "'";
    const Handle file_space = check.id(H5Dget_space(open.dataset.get()), H5Sclose, operation);
    if (!open.shape.empty()) {
      // A hyperslab union is transferred in row-major order of the file, the
      // order of the flat range, so a 1-D memory buffer lines up.
      H5S_seloper_t op = H5S_SELECT_SET;
      for (const Box& box : boxes_for_flat_range(open.shape, first, first + count)) {
        const std::vector<hsize_t> start = detail::to_hsize(box.start);
        const std::vector<hsize_t> block = detail::to_hsize(box.count);
        check.status(H5Sselect_hyperslab(file_space.get(), op, start.data(), nullptr, block.data(), nullptr), operation);
        op = H5S_SELECT_OR;
      }
    }
    const hsize_t n = static_cast<hsize_t>(count);
    const Handle memory_space = check.id(H5Screate_simple(1, &n, nullptr), H5Sclose, operation);
    check.status(H5Dread(open.dataset.get(), H5T_NATIVE_DOUBLE, memory_space.get(), file_space.get(), H5P_DEFAULT,
                         out.data() + v * static_cast<std::size_t>(count)),
                 operation);
  }
  return out;
}

std::vector<std::int64_t> ResultsReader::read_integers(const std::string& variable) {
  const SilenceHdf5Errors silence;
  const Checker check(impl_->path);
  Impl::Open& open = impl_->variable(check, variable);
  const std::string operation = "reading '" + variable + "'";
  const Handle type = check.id(H5Dget_type(open.dataset.get()), H5Tclose, operation);
  if (H5Tget_class(type.get()) != H5T_INTEGER) {
    throw ResultsFileError("results file '" + impl_->path.string() + "': variable '" + variable + "' is not integer");
  }
  std::vector<std::int64_t> out(static_cast<std::size_t>(open.elements));
  if (!out.empty()) {
    check.status(H5Dread(open.dataset.get(), H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()), operation);
  }
  return out;
}

std::vector<std::int64_t> ResultsReader::shape(const std::string& variable) {
  const SilenceHdf5Errors silence;
  const Checker check(impl_->path);
  return impl_->variable(check, variable).shape;
}

}  // namespace coopsweep::io
