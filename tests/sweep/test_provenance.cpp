#include <coopsweep/sweep/provenance.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cctype>
#include <string>

using namespace coopsweep;

TEST_CASE("build_info names the commit, the build type and the compiler", "[provenance]") {
  const sweep::BuildInfo build = sweep::build_info();
  const std::string commit(build.git_commit);
  if (commit != "unknown") {
    std::string hash = commit;
    if (hash.size() > 6 && hash.substr(hash.size() - 6) == "-dirty") hash.resize(hash.size() - 6);
    CHECK(hash.size() == 40);
    CHECK(std::all_of(hash.begin(), hash.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); }));
  }
  CHECK_FALSE(build.build_type.empty());
  CHECK(build.compiler.find(' ') != std::string_view::npos);  // "GNU 12.2.0"
}

TEST_CASE("host_name is this machine's name", "[provenance]") {
  const std::string name = sweep::host_name();
  CHECK_FALSE(name.empty());
  CHECK(name.find('\0') == std::string::npos);
}
