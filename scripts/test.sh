#!/bin/sh
# Runs every test: unit, integration, benchmarks' checks, the system test in
# a booted systemd and the fuzzers (ctest), then the unit tests again under
# ASan+UBSan.
# Exits non-zero on any failure. Run as root on Debian 12.
set -eu
cd "$(dirname "$0")/.."
# nginx is the system test's service not written for healerd.
HEAL_EXTRA_PACKAGES="nginx-light"
. scripts/deps.sh
jobs=$(nproc)

cmake -S . -B build -DHEAL_WERROR=ON
cmake --build build -j"$jobs"
(cd build && ctest --output-on-failure -j1)

cmake -S . -B build-asan -DHEAL_WERROR=ON -DHEAL_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
cmake --build build-asan -j"$jobs" --target heal-unit-tests
(cd build-asan && ctest --output-on-failure -L unit -j"$jobs")
echo "healerd: all tests passed"
