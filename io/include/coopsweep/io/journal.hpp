#pragma once
// The progress journal of a results file: an append-only text file beside
// PATH.partial (PATH.partial.journal) that records how far the partial file's
// data can be trusted after a crash.
//
// HDF5 1.10 is not crash-consistent: a process killed while HDF5 writes can leave
// any mix of old and new bytes. The partial file is therefore laid out once, all
// of its space allocated and its metadata written and closed before any run is
// stored, so that afterwards only raw data bytes ever change (see
// results_file.hpp). The journal says which of those bytes are final: a `done N`
// record is appended, and synced, only after the data of runs [0, N) was flushed
// and synced, so everything before the last record survives a kill at any moment,
// and everything after it is written again by a resumed run.
//
// One record per line, `<payload> *<CRC-32 of payload, 8 hex digits>`:
//   coopsweep-journal 1 runs=<R> configurations=<C> overwrite=<0|1>   (first line)
//   session <UTC time> <one line about the process that wrote what follows>
//   ready                       (the partial file is laid out completely)
//   done <runs> <seconds>       (runs [0, runs) are durable; seconds since the session began)
// A line cut short by a kill fails its checksum; it and everything after it are
// ignored (and cut off before the next append).

#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <string>
#include <vector>

namespace coopsweep::io {

struct JournalSession {
  std::string started;         // UTC, ISO 8601 ("2024-06-01T12:00:00Z")
  std::string note;            // as given to Journal::begin_session
  std::int64_t first_run = 0;  // runs durable when the session began
  std::int64_t runs_done = 0;  // runs durable at its last checkpoint
  double seconds = 0.0;        // running time up to its last checkpoint
};

struct JournalState {
  bool valid = false;  // the header line is intact
  std::int64_t runs = 0;
  std::int64_t configurations = 0;
  bool overwrite = false;       // the run was started with --force
  bool ready = false;           // the partial file was laid out completely
  std::int64_t runs_done = 0;   // from the last `done` record
  std::vector<JournalSession> sessions;
  std::int64_t valid_bytes = 0;  // length of the intact prefix
};

// Parses a journal's text; never throws on content: a damaged line ends the intact prefix.
JournalState parse_journal(const std::string& text);

// Reads and parses a journal file. Returns an invalid state if the file does
// not exist. Throws ResultsFileError if it exists but cannot be read.
JournalState read_journal(const std::filesystem::path& path);

// True if a process holds the journal's lock, i.e. is writing those results
// now. False if the file is missing or unlocked.
bool journal_locked(const std::filesystem::path& path);

// The current time as UTC ISO 8601 with seconds ("2024-06-01T12:00:00Z").
std::string utc_now();

// An open, exclusively locked journal. Every append is synced (fdatasync)
// before it returns. Not thread-safe; the lock (flock) excludes other
// processes and other Journal objects on the same file.
class Journal {
 public:
  // Opens `path` (creating it if absent) and takes the lock. Throws
  // FileBusy if another process (or object) holds it, ResultsFileError if it
  // cannot be opened.
  static Journal lock(const std::filesystem::path& path);

  Journal(Journal&&) noexcept;
  Journal& operator=(Journal&&) noexcept;
  ~Journal();  // releases the lock; leaves the file

  // The journal's contents as found when it was locked.
  const JournalState& state() const noexcept { return state_; }

  // Replaces the contents with a new header and a first session record, and
  // syncs the file and its directory.
  void start(std::int64_t runs, std::int64_t configurations, bool overwrite, const std::string& note);
  // Cuts off a damaged tail (see JournalState::valid_bytes) so appends follow intact records.
  void discard_damaged_tail();
  void begin_session(const std::string& note);
  void mark_ready();
  void mark_done(std::int64_t runs_done, double seconds);

  const std::filesystem::path& path() const noexcept { return path_; }

 private:
  Journal(std::filesystem::path path, int fd);
  // Writes the records in one write(2) and syncs them.
  void append(std::initializer_list<std::string> payloads);

  std::filesystem::path path_;
  int fd_ = -1;
  JournalState state_;
};

// Syncs a directory, so that a file created, renamed or removed in it stays so
// after a power cut. Throws ResultsFileError.
void sync_directory(const std::filesystem::path& directory);

// The CRC-32 (IEEE 802.3, as zlib's crc32) of `text`. Exposed for tests.
std::uint32_t crc32(const std::string& text);

}  // namespace coopsweep::io
