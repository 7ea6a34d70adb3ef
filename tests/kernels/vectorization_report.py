"""The vectorized kernel's edge and firm loops are SIMD: compiles each of its
sources (kernels/src/vectorized.cpp, kernels/src/alliance_courses.cpp) with GCC's
vectorization report and checks that every loop marked "SIMD loop" is reported
vectorized with 32-byte vectors (the x86-64-v3 clone, AVX2). The baseline
clone's 16-byte SSE2 vectors are printed but not required: SSE2 lacks some of the
64-bit operations (the live-edge count does not vectorize there).

Usage: vectorization_report.py CXX SOURCE_DIR RANDOM123_INCLUDE_DIR"""

import re
import subprocess
import sys


SOURCES = ("vectorized.cpp", "alliance_courses.cpp")


def unvectorized_lines(cxx: str, source_dir: str, random123: str, name: str) -> list:
    """The lines marked "SIMD loop" in kernels/src/NAME that GCC did not vectorize with AVX2."""
    source = f"{source_dir}/kernels/src/{name}"
    marked = [number for number, line in enumerate(open(source), start=1) if "// SIMD loop" in line]
    if not marked:
        print(f"{name}: no loop is marked '// SIMD loop'")
        return ["none marked"]
    result = subprocess.run([cxx, "-std=c++20", "-O3", "-DNDEBUG", "-fno-trapping-math", "-ffp-contract=off",
                             "-Wno-psabi", f"-I{source_dir}/kernels/include", f"-idirafter{random123}",
                             "-fopt-info-vec-optimized", "-c", source, "-o", "/dev/null"],
                            capture_output=True, text=True)
    if result.returncode != 0:
        print(result.stderr)
        return ["compilation failed"]
    failures = []
    for number in marked:
        widths = set(re.findall(rf"{re.escape(name)}:{number}:\d+: optimized: loop vectorized using (\d+) byte vectors",
                                result.stderr))
        print(f"{name} line {number}: vectorized with {sorted(widths) or 'nothing'}-byte vectors")
        if "32" not in widths:
            failures.append(number)
    return failures


def main() -> int:
    cxx, source_dir, random123 = sys.argv[1:4]
    failed = False
    for name in SOURCES:
        failures = unvectorized_lines(cxx, source_dir, random123, name)
        if failures:
            print(f"{name}: not vectorized with 32-byte (AVX2) vectors: lines {failures}")
            failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
