#pragma once
// The bodies of the fuzz targets, shared by the libFuzzer programs and by the
// regression test that replays the corpus and every crash ever found.

#include <string_view>

namespace coopsweep::fuzz {

// Any text as a sweep spec: a valid design or an InputError, nothing else.
void spec_input(std::string_view text);

// NAME=VALUE lines as `simulate --set` arguments: resolved parameters or an
// InputError; small valid configurations also run through the kernel.
void set_input(std::string_view text);

}  // namespace coopsweep::fuzz
