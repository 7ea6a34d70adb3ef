#pragma once
// The single source of coopsweep's version; CMakeLists.txt reads these lines.

#define COOPSWEEP_VERSION_MAJOR 0
#define COOPSWEEP_VERSION_MINOR 1
#define COOPSWEEP_VERSION_PATCH 0
#define COOPSWEEP_VERSION_STRING "0.1.0"

// Version of shared/MODEL.md this engine implements; a change to the model's
// equations is a new model version, never a silent change of results.
#define COOPSWEEP_MODEL_VERSION 1

namespace coopsweep {
inline constexpr const char* engine_version = COOPSWEEP_VERSION_STRING;
inline constexpr int model_version = COOPSWEEP_MODEL_VERSION;
}  // namespace coopsweep
