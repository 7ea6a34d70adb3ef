#pragma once
// What a results file holds, for `coopsweep inspect`: its dimensions, variables
// and root attributes, read without knowing the model.

#include <coopsweep/io/results_file.hpp>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace coopsweep::io {

struct Dimension {
  std::string name;
  std::int64_t size = 0;
};

struct VariableInfo {
  std::string name;
  std::vector<std::string> dims;  // names of the attached dimension scales ("" where none)
  std::vector<std::int64_t> shape;
  std::string long_name;
  std::string units;
};

struct FileInfo {
  std::vector<Dimension> dimensions;     // coordinate variables (dimension scales), in creation order
  std::vector<VariableInfo> variables;   // the other datasets, in creation order
  std::vector<Attribute> attributes;     // root attributes, in creation order
  bool completed = false;                // root attribute `completed` is 1
};

// An attribute's value as text: a string as it is, an integer in decimal, a
// double in the shortest form that reads back to it ("0.1", "1e-05").
std::string attribute_text(const AttributeValue& value);

// Reads the structure and root attributes of a results file (any HDF5 file laid
// out with dimension scales). Opens it read-only and without HDF5's file lock,
// so that a partial file can be read while a sweep writes it. Throws
// ResultsFileError naming the file if it is missing or not HDF5.
// Thread-safe (HDF5's global lock).
FileInfo read_file_info(const std::filesystem::path& path);

// A numeric variable's values, row-major over its dimensions.
struct VariableData {
  std::vector<std::string> dims;  // names of the attached dimension scales ("" where none)
  std::vector<std::int64_t> shape;
  std::vector<double> values;     // integers converted (exactly, below 2^53)
};

// Reads the numeric variable `name` of a results file whole, as float64.
// Opens the file as read_file_info does. Throws ResultsFileError naming the
// file and the variable if it is missing or not numeric. Thread-safe (HDF5's
// global lock).
VariableData read_variable(const std::filesystem::path& path, std::string_view name);

}  // namespace coopsweep::io
