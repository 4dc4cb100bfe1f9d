#!/bin/sh
# Runs every test: unit, integration, benchmarks' checks, the system tests in
# a booted systemd and the fuzzers (ctest), then the unit tests again under
# ASan+UBSan, then the mutants (tests/mutants/run). Ends with one line of
# counts, "healerd: N passed, N failed, N skipped", after a line naming each
# skipped test. Exits non-zero on any failure, and when run as root, if a
# root-only test (label system) was skipped.
# Run as root on Debian 12.
set -eu
cd "$(dirname "$0")/.."
# nginx is the system tests' service not written for healerd; node_exporter
# reads the Prometheus textfile export in an integration test.
HEAL_EXTRA_PACKAGES="nginx-light prometheus-node-exporter"
. scripts/deps.sh
jobs=$(nproc)
results=$(mktemp -d /tmp/healerd-test-results.XXXXXX)
trap 'rm -rf "$results"' EXIT
status=0

cmake -S . -B build -DHEAL_WERROR=ON
cmake --build build -j"$jobs"
# The sanitizer build runs beside the main tests, at the lowest priority:
# those mostly wait (daemons, containers, timeouts), and the tests keep the
# CPU whenever they want it.
cmake -S . -B build-asan -DHEAL_WERROR=ON -DHEAL_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug >"$results/asan-build.log"
nice -n 19 cmake --build build-asan -j"$jobs" --target heal-unit-tests >>"$results/asan-build.log" 2>&1 &
asan_build=$!
(cd build && ctest --output-on-failure -j1 --output-junit "$results/main.xml") || status=1

if wait "$asan_build"; then
    (cd build-asan && ctest --output-on-failure -L unit -j"$jobs" --output-junit "$results/asan.xml") || status=1
else
    cat "$results/asan-build.log"
    echo "scripts/test.sh: the sanitizer build failed" >&2
    status=1
fi

tests/mutants/run --build build --junit "$results/mutants.xml" || status=1

scripts/test-summary.sh "$results"/*.xml || status=1
exit "$status"
