#include "fuzz_inputs.hpp"

#include <coopsweep/kernels/reference.hpp>
#include <coopsweep/sweep/design.hpp>
#include <coopsweep/sweep/parameters.hpp>
#include <coopsweep/sweep/spec.hpp>

#include <algorithm>
#include <string>

namespace coopsweep::fuzz {

void spec_input(std::string_view text) {
  try {
    const auto spec = sweep::parse_spec(text, "fuzz.toml");
    const sweep::GridDesign design(spec);
    design.validate_all();
    design.configuration(design.configuration_count() - 1);
    design.describe(0);
  } catch (const sweep::InputError&) {
  }
}

void set_input(std::string_view text) {
  kernels::ModelParams params;
  try {
    std::size_t start = 0;
    while (start < text.size()) {
      const std::size_t end = std::min(text.find('\n', start), text.size());
      const std::string_view line = text.substr(start, end - start);
      start = end + 1;
      const std::size_t equals = line.find('=');
      if (equals == std::string_view::npos) continue;
      const std::string name(line.substr(0, equals));
      sweep::set_parameter(params, name, sweep::parse_parameter_text(name, line.substr(equals + 1)));
    }
    params = sweep::resolve_model(params);
  } catch (const sweep::InputError&) {
    return;
  }
  // Keep each input fast: the kernel runs only on small configurations.
  if (params.firms * (params.partners + 1) * params.rounds <= 200'000) {
    kernels::ReplicateState state;
    kernels::simulate_reference(params, kernels::ReplicateStream(1, 2, 3), state);
  }
}

}  // namespace coopsweep::fuzz
