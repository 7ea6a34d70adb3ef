#pragma once
// The parameter table of MODEL.md: names, types, domains, defaults and meanings,
// and the validation every value passes before anything runs.

#include <coopsweep/kernels/model_params.hpp>

#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace coopsweep::sweep {

// Bad input: an unknown name, a wrong type, a value outside its domain, a
// malformed spec. The message is one line naming the parameter, the value and
// what is allowed. The CLI turns it into exit status 2.
class InputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class ParameterKind { integer, real, boolean, choice };

// A value as it arrives from TOML, the command line or Python.
using ParameterValue = std::variant<std::int64_t, double, bool, std::string>;

struct ParameterInfo {
  std::string_view name;
  std::string_view symbol;
  ParameterKind kind;
  std::string_view domain;   // as in MODEL.md, for messages and --help
  std::string_view meaning;
  double lower;              // inclusive bounds of integer and real parameters
  double upper;              // (+inf when unbounded)
  std::span<const std::string_view> choices;  // for choice parameters
};

// Every parameter of MODEL.md, in the table's order.
std::span<const ParameterInfo> parameter_table();

// The entry for `name`; throws InputError naming the unknown parameter (with
// the closest known name when there is one).
const ParameterInfo& find_parameter(std::string_view name);

// Sets one parameter, checking its type and its own domain (not the rules that
// involve other parameters; see validate_model). Real parameters accept
// integers; integer parameters accept only integers. Throws InputError.
void set_parameter(kernels::ModelParams& params, std::string_view name, const ParameterValue& value);

// Parses command-line text ("0.5", "regular", "true") for `name` into a typed
// value. Throws InputError when the text is not a value of the parameter's type.
ParameterValue parse_parameter_text(std::string_view name, std::string_view text);

// The current value of `name` in `params`.
ParameterValue get_parameter(const kernels::ModelParams& params, std::string_view name);

// Renders a value for messages and JSON ("0.5", "'ring'", "true").
std::string format_value(const ParameterValue& value);

// Checks the rules that tie parameters together (partners vs firms, window vs
// rounds, cooperators + defectors, the topology rules of MODEL.md) and the
// engine's own limits, and returns the resolved parameters (complete sets
// partners = firms - 1). Throws InputError.
kernels::ModelParams resolve_model(kernels::ModelParams params);

// The largest N * k the engine accepts: directed edges are indexed with 32 bits
// and a random graph may exceed its mean degree.
inline constexpr std::int64_t max_directed_edges = std::int64_t{1} << 30;

}  // namespace coopsweep::sweep
