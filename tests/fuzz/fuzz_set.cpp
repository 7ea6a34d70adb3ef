// libFuzzer target for `simulate --set` values (see fuzz_inputs.hpp).
#include "fuzz_inputs.hpp"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  coopsweep::fuzz::set_input({reinterpret_cast<const char*>(data), size});
  return 0;
}
