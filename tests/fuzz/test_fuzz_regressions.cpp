// Replays the fuzz corpus and every input a fuzzer ever crashed on, in the
// ordinary test suite: each must end in a result or an InputError.

#include "fuzz_inputs.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace {

std::string read(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

void replay(const std::string& folder, void (*body)(std::string_view)) {
  const std::filesystem::path root(COOPSWEEP_FUZZ_DIR);
  int replayed = 0;
  for (const auto* kind : {"corpus", "regressions"}) {
    const auto dir = root / kind / folder;
    if (!std::filesystem::is_directory(dir)) continue;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
      INFO(entry.path().string());
      CHECK_NOTHROW(body(read(entry.path())));
      ++replayed;
    }
  }
  CHECK(replayed > 0);
}

}  // namespace

TEST_CASE("the spec fuzz corpus and its regressions parse or fail cleanly", "[fuzz]") {
  replay("spec", coopsweep::fuzz::spec_input);
}

TEST_CASE("the set fuzz corpus and its regressions resolve or fail cleanly", "[fuzz]") {
  replay("set", coopsweep::fuzz::set_input);
}
