#include "coopsweep/io/journal.hpp"

#include "coopsweep/io/errors.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iterator>
#include <sstream>
#include <utility>

namespace coopsweep::io {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view kMagic = "coopsweep-journal 1";

[[noreturn]] void throw_errno(const fs::path& path, std::string_view operation, int error) {
  throw ResultsFileError("journal '" + path.string() + "': " + std::string(operation) +
                         " failed: " + std::strerror(error));
}

constexpr std::array<std::uint32_t, 256> crc_table() {
  std::array<std::uint32_t, 256> table{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1U) ? 0xEDB88320U ^ (c >> 1) : c >> 1;
    table[i] = c;
  }
  return table;
}

std::string hex8(std::uint32_t value) {
  char text[9];
  std::snprintf(text, sizeof text, "%08x", value);
  return text;
}

bool parse_int(std::string_view text, std::int64_t& out) {
  const auto result = std::from_chars(text.data(), text.data() + text.size(), out);
  return result.ec == std::errc() && result.ptr == text.data() + text.size();
}

bool parse_double(std::string_view text, double& out) {
  const auto result = std::from_chars(text.data(), text.data() + text.size(), out);
  return result.ec == std::errc() && result.ptr == text.data() + text.size();
}

// "key=value" with the expected key.
bool parse_field(std::string_view word, std::string_view key, std::int64_t& out) {
  if (word.size() <= key.size() + 1 || word.substr(0, key.size()) != key || word[key.size()] != '=') {
    return false;
  }
  return parse_int(word.substr(key.size() + 1), out);
}

std::vector<std::string_view> split_words(std::string_view text, std::size_t max_words) {
  std::vector<std::string_view> words;
  while (!text.empty() && words.size() + 1 < max_words) {
    const std::size_t space = text.find(' ');
    if (space == std::string_view::npos) break;
    words.push_back(text.substr(0, space));
    text.remove_prefix(space + 1);
  }
  words.push_back(text);
  return words;
}

// Applies one intact record to the state; false if it is not a record this
// version writes (then it ends the intact prefix like a damaged line).
bool apply_record(std::string_view payload, JournalState& state) {
  if (!state.valid) {
    if (payload.substr(0, kMagic.size()) != kMagic) return false;
    const auto words = split_words(payload.substr(std::min(payload.size(), kMagic.size() + 1)), 4);
    std::int64_t overwrite = 0;
    if (words.size() != 3 || !parse_field(words[0], "runs", state.runs) ||
        !parse_field(words[1], "configurations", state.configurations) ||
        !parse_field(words[2], "overwrite", overwrite)) {
      return false;
    }
    state.overwrite = overwrite != 0;
    state.valid = true;
    return true;
  }
  const auto words = split_words(payload, 3);
  if (words[0] == "session" && words.size() >= 2) {
    JournalSession session;
    session.started = std::string(words[1]);
    session.note = words.size() == 3 ? std::string(words[2]) : std::string();
    session.first_run = state.runs_done;
    session.runs_done = state.runs_done;
    state.sessions.push_back(std::move(session));
    return true;
  }
  if (words[0] == "ready" && words.size() == 1) {
    state.ready = true;
    return true;
  }
  if (words[0] == "done" && words.size() == 3) {
    std::int64_t runs = 0;
    double seconds = 0.0;
    if (!parse_int(words[1], runs) || !parse_double(words[2], seconds) || runs < state.runs_done ||
        runs > state.runs || !state.ready) {
      return false;
    }
    state.runs_done = runs;
    if (!state.sessions.empty()) {
      state.sessions.back().runs_done = runs;
      state.sessions.back().seconds = seconds;
    }
    return true;
  }
  return false;
}

std::string session_record(const std::string& note) {
  std::string line = note;
  std::replace(line.begin(), line.end(), '\n', ' ');
  return "session " + utc_now() + (line.empty() ? "" : " " + line);
}

}  // namespace

std::uint32_t crc32(const std::string& text) {
  static constexpr auto table = crc_table();
  std::uint32_t c = 0xFFFFFFFFU;
  for (const unsigned char byte : text) c = table[(c ^ byte) & 0xFFU] ^ (c >> 8);
  return c ^ 0xFFFFFFFFU;
}

JournalState parse_journal(const std::string& text) {
  JournalState state;
  std::size_t offset = 0;
  while (offset < text.size()) {
    const std::size_t end = text.find('\n', offset);
    if (end == std::string::npos) break;  // the last line was cut short
    const std::string_view line(text.data() + offset, end - offset);
    const std::size_t mark = line.rfind(" *");
    if (mark == std::string_view::npos || line.size() - mark != 10) break;
    const std::string payload(line.substr(0, mark));
    if (hex8(crc32(payload)) != line.substr(mark + 2)) break;
    if (!apply_record(payload, state)) break;
    offset = end + 1;
    state.valid_bytes = static_cast<std::int64_t>(offset);
  }
  return state;
}

JournalState read_journal(const fs::path& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return {};
  std::ifstream in(path, std::ios::binary);
  if (!in) throw_errno(path, "reading", errno);
  const std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  return parse_journal(text);
}

bool journal_locked(const fs::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool locked = ::flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
  ::close(fd);
  return locked;
}

std::string utc_now() {
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm utc{};
  gmtime_r(&now, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

void sync_directory(const fs::path& directory) {
  const fs::path dir = directory.empty() ? fs::path(".") : directory;
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0 || ::fsync(fd) != 0) {
    const int error = errno;
    if (fd >= 0) ::close(fd);
    throw ResultsFileError("directory '" + dir.string() + "': syncing failed: " + std::strerror(error));
  }
  ::close(fd);
}

Journal Journal::lock(const fs::path& path) {
  const int fd = ::open(path.c_str(), O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    const int error = errno;
    throw ResultsFileError("results file '" + path.string() + "': creating the journal failed: " +
                           std::strerror(error));
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int error = errno;
    ::close(fd);
    if (error == EWOULDBLOCK) {
      throw FileBusy("results file '" + path.string() +
                     "' is locked: another coopsweep process is writing these results");
    }
    throw_errno(path, "locking", error);
  }
  Journal journal(path, fd);
  journal.state_ = read_journal(path);
  return journal;
}

Journal::Journal(fs::path path, int fd) : path_(std::move(path)), fd_(fd) {}

Journal::Journal(Journal&& other) noexcept
    : path_(std::move(other.path_)), fd_(std::exchange(other.fd_, -1)), state_(std::move(other.state_)) {}

Journal& Journal::operator=(Journal&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    path_ = std::move(other.path_);
    fd_ = std::exchange(other.fd_, -1);
    state_ = std::move(other.state_);
  }
  return *this;
}

Journal::~Journal() {
  if (fd_ >= 0) ::close(fd_);  // closing releases the flock
}

void Journal::append(std::initializer_list<std::string> payloads) {
  std::string line;
  for (const std::string& payload : payloads) line += payload + " *" + hex8(crc32(payload)) + "\n";
  std::size_t written = 0;
  while (written < line.size()) {
    const ssize_t n = ::write(fd_, line.data() + written, line.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_errno(path_, "appending a record", errno);
    }
    written += static_cast<std::size_t>(n);
  }
  if (::fdatasync(fd_) != 0) throw_errno(path_, "syncing", errno);
  for (const std::string& payload : payloads) {
    if (!apply_record(payload, state_)) {
      throw ResultsFileError("journal '" + path_.string() + "': record '" + payload + "' does not follow");
    }
  }
  state_.valid_bytes += static_cast<std::int64_t>(line.size());
}

void Journal::start(std::int64_t runs, std::int64_t configurations, bool overwrite, const std::string& note) {
  if (::ftruncate(fd_, 0) != 0) throw_errno(path_, "truncating", errno);
  state_ = JournalState{};
  append({std::string(kMagic) + " runs=" + std::to_string(runs) + " configurations=" + std::to_string(configurations) +
              " overwrite=" + (overwrite ? "1" : "0"),
          session_record(note)});
  sync_directory(path_.parent_path());
}

void Journal::discard_damaged_tail() {
  // O_APPEND: later records go to the new end.
  if (::ftruncate(fd_, static_cast<off_t>(state_.valid_bytes)) != 0) throw_errno(path_, "truncating", errno);
}

void Journal::begin_session(const std::string& note) { append({session_record(note)}); }

void Journal::mark_ready() { append({"ready"}); }

void Journal::mark_done(std::int64_t runs_done, double seconds) {
  char text[32];
  std::snprintf(text, sizeof text, "%.3f", seconds);
  append({"done " + std::to_string(runs_done) + " " + text});
}

}  // namespace coopsweep::io
