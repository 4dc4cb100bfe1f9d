#!/bin/sh
# Builds healerd's Debian package: a fresh build directory configured for
# /usr (never one whose cached prefix is another), then CPack's DEB
# generator. Prints the .deb's path on its last line.
#
#   scripts/package.sh [BUILD_DIR]     (default: build-deb)
#
# Install it with `apt-get install ./build-deb/healerd_*.deb`.
set -eu
cd "$(dirname "$0")/.."
HEAL_EXTRA_PACKAGES="${HEAL_EXTRA_PACKAGES:-} dpkg-dev file"
. scripts/deps.sh
dir=${1:-build-deb}
cmake -S . -B "$dir" -DCMAKE_INSTALL_PREFIX=/usr -DHEAL_BUILD_TESTS=OFF ${HEAL_PACKAGE_CMAKE_OPTIONS:-} >/dev/null
cmake --build "$dir" -j"$(nproc)" >/dev/null
(cd "$dir" && cpack -G DEB >/dev/null)
ls "$(cd "$dir" && pwd)"/healerd_*.deb
