#!/usr/bin/env bash
# Builds oneTBB with ThreadSanitizer from Debian's own source package (the
# version of the installed libtbb-dev, Debian's patches applied) into
# build-tsan-tbb/prefix, for the COOPSWEEP_SANITIZE=thread build only.
#
# Debian's libtbb12 is compiled without -fsanitize=thread, so TSan cannot see
# the synchronisation inside oneTBB's scheduler and pipeline and reports the
# hand-offs it makes as races (docs/reliability.md). An instrumented libtbb
# removes those false reports without suppressing anything in our code.
#
# Only the tbb library is built (no tbbmalloc, tbbbind, tests or examples): a few
# minutes on two cores. Idempotent: a second run with the same source version
# and flags does nothing. Needs the deb-src entry for bookworm, which this script
# adds (/etc/apt/sources.list.d/coopsweep-deb-src.sources) when apt has none.
#   scripts/build-tsan-tbb.sh            prints the prefix on its last line
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD/build-tsan-tbb
prefix=$root/prefix
jobs=${COOPSWEEP_JOBS:-2}

version=$(dpkg-query -W -f='${source:Version}' libtbb-dev 2>/dev/null || true)
if [ -z "$version" ]; then
  echo "build-tsan-tbb: libtbb-dev is not installed; run scripts/install-deps.sh first" >&2
  exit 1
fi
# The compiler is part of the key: the TSan runtime of gcc and of clang differ.
cc=${CC:-gcc}
cxx=${CXX:-g++}
key="onetbb $version; $($cxx --version | head -1); TBB_SANITIZE=thread RelWithDebInfo"
if [ -f "$prefix/.built" ] && [ "$(cat "$prefix/.built")" = "$key" ]; then
  echo "build-tsan-tbb: up to date ($key)"
  echo "$prefix"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
if ! apt-cache showsrc onetbb 2>/dev/null | grep -q "^Version: $version\$"; then
  echo "build-tsan-tbb: adding the deb-src entry for bookworm and updating apt"
  $SUDO tee /etc/apt/sources.list.d/coopsweep-deb-src.sources >/dev/null <<'EOF'
# Debian's source packages, for scripts/build-tsan-tbb.sh (coopsweep): oneTBB
# rebuilt with ThreadSanitizer.
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  $SUDO apt-get update -qq
fi

upstream=${version#*:}
upstream=${upstream%-*}
src=$root/src/onetbb-$upstream
if [ ! -f "$src/CMakeLists.txt" ]; then
  rm -rf "$root/src"
  mkdir -p "$root/src"
  # apt-get source runs dpkg-source -x, which applies Debian's patches.
  (cd "$root/src" && apt-get source -qq "onetbb=$version")
fi

rm -rf "$root/build" "$prefix"
# TBB_SANITIZE is oneTBB's own option: -fsanitize=thread on its sources and link,
# and it turns off IPO, under which gcc does not instrument.
cmake -S "$src" -B "$root/build" -G "Unix Makefiles" \
  -DCMAKE_C_COMPILER="$cc" -DCMAKE_CXX_COMPILER="$cxx" \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_INSTALL_PREFIX="$prefix" -DCMAKE_INSTALL_LIBDIR=lib \
  -DTBB_SANITIZE=thread -DTBB_TEST=OFF -DTBB_EXAMPLES=OFF -DTBB_STRICT=OFF \
  -DTBBMALLOC_BUILD=OFF -DTBB4PY_BUILD=OFF -DTBB_DISABLE_HWLOC_AUTOMATIC_SEARCH=ON >/dev/null
cmake --build "$root/build" --parallel "$jobs" --target tbb
cmake --install "$root/build" >/dev/null
echo "$key" >"$prefix/.built"
echo "build-tsan-tbb: built $key"
echo "$prefix"
