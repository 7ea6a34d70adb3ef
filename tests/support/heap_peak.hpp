#pragma once
// The peak of the bytes allocated with operator new, for tests that hold a
// memory estimate to what the code really allocates. Linking heap_peak.cpp into
// a test program replaces the global operator new and delete of that program
// (every allocation carries its size in a 16-byte header); nothing else changes.

#include <cstddef>

namespace coopsweep::testing {

// Bytes allocated with operator new and not yet deleted, by every thread.
std::size_t heap_live_bytes() noexcept;

// Restarts the peak at the current live bytes; returns them.
std::size_t reset_heap_peak() noexcept;

// The largest heap_live_bytes() since the last reset_heap_peak().
std::size_t heap_peak_bytes() noexcept;

}  // namespace coopsweep::testing
