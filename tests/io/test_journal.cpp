#include "coopsweep/io/journal.hpp"

#include "coopsweep/io/errors.hpp"

#include <catch2/catch.hpp>

#include "../support/temp_dir.hpp"

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>

namespace fs = std::filesystem;
using namespace coopsweep::io;

using coopsweep::testing::TempDir;

namespace {

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_text(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

// A record line as the journal writes it.
std::string record(const std::string& payload) {
  char crc[9];
  std::snprintf(crc, sizeof crc, "%08x", crc32(payload));
  return payload + " *" + crc + "\n";
}

}  // namespace

TEST_CASE("crc32 is the IEEE 802.3 checksum", "[io][journal]") {
  CHECK(crc32("") == 0x00000000U);
  CHECK(crc32("123456789") == 0xCBF43926U);  // the standard check value
  CHECK(crc32("a") == 0xE8B7BE43U);
}

TEST_CASE("a journal records sessions and checkpoints and reads them back", "[io][journal]") {
  const TempDir dir("coopsweep-test-journal");
  const fs::path path = dir / "results.h5.partial.journal";
  {
    Journal journal = Journal::lock(path);
    CHECK_FALSE(journal.state().valid);
    journal.start(48, 12, true, "first session, 2 threads");
    CHECK(journal.state().valid);
    CHECK_FALSE(journal.state().ready);
    journal.mark_ready();
    journal.mark_done(12, 0.5);
    journal.mark_done(24, 1.25);
    journal.begin_session("second\nsession");
    journal.mark_done(36, 0.75);
    CHECK(journal.state().runs_done == 36);
  }
  const JournalState state = read_journal(path);
  CHECK(state.valid);
  CHECK(state.runs == 48);
  CHECK(state.configurations == 12);
  CHECK(state.overwrite);
  CHECK(state.ready);
  CHECK(state.runs_done == 36);
  CHECK(state.valid_bytes == static_cast<std::int64_t>(fs::file_size(path)));
  REQUIRE(state.sessions.size() == 2);
  CHECK(state.sessions[0].note == "first session, 2 threads");
  CHECK(state.sessions[0].first_run == 0);
  CHECK(state.sessions[0].runs_done == 24);
  CHECK(state.sessions[0].seconds == 1.25);
  CHECK(state.sessions[0].started.size() == 20);  // 2024-06-01T12:00:00Z
  CHECK(state.sessions[0].started.back() == 'Z');
  CHECK(state.sessions[1].note == "second session");  // one line
  CHECK(state.sessions[1].first_run == 24);
  CHECK(state.sessions[1].runs_done == 36);
  CHECK(state.sessions[1].seconds == 0.75);
}

TEST_CASE("a missing journal reads as invalid", "[io][journal]") {
  const TempDir dir("coopsweep-test-journal");
  const JournalState state = read_journal(dir / "none.journal");
  CHECK_FALSE(state.valid);
  CHECK(state.runs_done == 0);
  CHECK(state.valid_bytes == 0);
}

TEST_CASE("a damaged tail ends the intact prefix", "[io][journal]") {
  const std::string header = record("coopsweep-journal 1 runs=10 configurations=5 overwrite=0") +
                             record("session 2024-06-01T12:00:00Z test") + record("ready") + record("done 4 0.100");
  const auto intact = static_cast<std::int64_t>(header.size());
  SECTION("a line cut short by a kill") {
    const std::string cut = record("done 6 0.200");
    for (std::size_t keep = 0; keep < cut.size(); ++keep) {
      INFO("kept " << keep << " bytes of the last line");
      const JournalState state = parse_journal(header + cut.substr(0, keep));
      CHECK(state.runs_done == 4);
      CHECK(state.valid_bytes == intact);
    }
    CHECK(parse_journal(header + cut).runs_done == 6);
  }
  SECTION("a checksum that does not match") {
    std::string line = record("done 6 0.200");
    line[5] = '8';  // "done 8 ..." under the checksum of "done 6 ..."
    const JournalState state = parse_journal(header + line + record("done 9 0.300"));
    CHECK(state.runs_done == 4);
    CHECK(state.valid_bytes == intact);
  }
  SECTION("records that cannot follow") {
    CHECK(parse_journal(header + record("done 3 0.1")).runs_done == 4);        // going back
    CHECK(parse_journal(header + record("done 11 0.1")).runs_done == 4);       // past the runs
    CHECK(parse_journal(header + record("done six 0.1")).runs_done == 4);      // not a number
    CHECK(parse_journal(header + record("finished")).valid_bytes == intact);   // unknown
    const std::string not_ready = record("coopsweep-journal 1 runs=10 configurations=5 overwrite=0") +
                                  record("done 4 0.1");
    CHECK(parse_journal(not_ready).runs_done == 0);  // data before the layout was ready
  }
  SECTION("a header that is not a journal's") {
    CHECK_FALSE(parse_journal(record("coopsweep-journal 2 runs=10 configurations=5 overwrite=0")).valid);
    CHECK_FALSE(parse_journal(record("coopsweep-journal 1 runs=10")).valid);
    CHECK_FALSE(parse_journal("garbage\n").valid);
    CHECK_FALSE(parse_journal("").valid);
  }
}

TEST_CASE("appends after a damaged tail follow the intact records", "[io][journal]") {
  const TempDir dir("coopsweep-test-journal");
  const fs::path path = dir / "journal";
  write_text(path, record("coopsweep-journal 1 runs=10 configurations=5 overwrite=0") + record("ready") +
                       record("done 4 0.1") + "done 6 0.2 *0000");
  {
    Journal journal = Journal::lock(path);
    CHECK(journal.state().runs_done == 4);
    journal.discard_damaged_tail();
    journal.mark_done(8, 0.3);
  }
  CHECK(read_journal(path).runs_done == 8);
  CHECK(read_text(path).find("*0000") == std::string::npos);
}

TEST_CASE("a journal is locked against a second writer", "[io][journal]") {
  const TempDir dir("coopsweep-test-journal");
  const fs::path path = dir / "journal";
  CHECK_FALSE(journal_locked(path));
  {
    Journal first = Journal::lock(path);
    CHECK(journal_locked(path));
    try {
      (void)Journal::lock(path);
      FAIL("a second lock was granted");
    } catch (const FileBusy& error) {
      CHECK_THAT(error.what(), Catch::Contains(path.string()) && Catch::Contains("another coopsweep process"));
    }
    Journal moved = std::move(first);
    CHECK(journal_locked(path));
  }
  CHECK_FALSE(journal_locked(path));
  CHECK_NOTHROW(Journal::lock(path));
}

TEST_CASE("a journal that cannot be created names the reason", "[io][journal]") {
  const TempDir dir("coopsweep-test-journal");
  const fs::path path = dir / "missing" / "journal";
  CHECK_THROWS_WITH(Journal::lock(path), Catch::Contains(path.string()) && Catch::Contains("No such file"));
}

TEST_CASE("utc_now is ISO 8601 in UTC", "[io][journal]") {
  const std::string now = utc_now();
  REQUIRE(now.size() == 20);
  CHECK(now[4] == '-');
  CHECK(now[10] == 'T');
  CHECK(now[19] == 'Z');
  CHECK(now.substr(0, 2) == "20");
}
