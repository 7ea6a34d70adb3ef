#pragma once
// COOPSWEEP_SIMD_CLONES: compiles a SIMD function for x86-64-v3 (AVX2) and for
// the baseline, chosen at load time (why, and what was measured: the comment
// at the top of vectorized.cpp). Off under ThreadSanitizer
// (COOPSWEEP_NO_SIMD_CLONES, see kernels/CMakeLists.txt) and off the compilers
// that lack target_clones.

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(COOPSWEEP_NO_SIMD_CLONES)
#define COOPSWEEP_SIMD_CLONES [[gnu::target_clones("arch=x86-64-v3", "default")]]
#else
#define COOPSWEEP_SIMD_CLONES
#endif
