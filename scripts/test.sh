#!/bin/sh
# Runs every test: unit, integration, benchmarks' checks, the system tests in
# a booted systemd and the fuzzers (ctest), then the unit tests again under
# ASan+UBSan, then the mutants (tests/mutants/run) with the detection system
# test (ctest label detection: 11 minutes, mostly waiting) beside them. Ends with one line of
# counts, "healerd: N passed, N failed, N skipped", after a line naming each
# skipped test. Exits non-zero on any failure, and when run as root, if a
# root-only test (label system) was skipped.
# Run as root on Debian 12.
set -eu
cd "$(dirname "$0")/.."
# nginx is the system tests' service not written for healerd; node_exporter
# reads the Prometheus textfile export in an integration test; bash-completion
# and zsh run healctl's completions; ccache makes
# the mutants' rebuilds cheap (putting a file back compiles what is cached);
# dpkg-dev and file let CPack find the package's dependencies.
HEAL_EXTRA_PACKAGES="nginx-light prometheus-node-exporter bash-completion zsh ccache dpkg-dev file"
. scripts/deps.sh
# The package's build (tests/system/package-test.sh) compiles the same
# sources in another directory: without the directory in ccache's key, it
# reuses build/'s objects.
export CCACHE_NOHASHDIR=true
jobs=$(nproc)
results=$(mktemp -d /tmp/healerd-test-results.XXXXXX)
trap 'rm -rf "$results"' EXIT
status=0

cmake -S . -B build -DHEAL_WERROR=ON -DCMAKE_CXX_COMPILER_LAUNCHER=ccache
cmake --build build -j"$jobs"
# The sanitizer build runs beside the main tests, at the lowest priority:
# those mostly wait (daemons, containers, timeouts), and the tests keep the
# CPU whenever they want it.
cmake -S . -B build-asan -DHEAL_WERROR=ON -DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DHEAL_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug >"$results/asan-build.log"
nice -n 19 cmake --build build-asan -j"$jobs" --target heal-unit-tests >>"$results/asan-build.log" 2>&1 &
asan_build=$!
# The system tests boot containers (one at a time) and mostly wait: they
# run in a ctest of their own beside the rest, whose integration tests and
# soak still run one at a time (RUN_SERIAL).
(cd build && ctest --output-on-failure -j1 -L system -LE detection --output-junit "$results/system.xml") \
    >"$results/system.log" 2>&1 &
system_tests=$!
trap 'kill "$system_tests" 2>/dev/null || true; rm -rf "$results"' EXIT
(cd build && ctest --output-on-failure -j"$jobs" -LE 'system|detection' --output-junit "$results/main.xml") || status=1
wait "$system_tests" || status=1
trap 'rm -rf "$results"' EXIT
echo "scripts/test.sh: the system tests (ctest -L system -LE detection), run beside the others:"
cat "$results/system.log"

if wait "$asan_build"; then
    (cd build-asan && ctest --output-on-failure -L unit -j"$jobs" --output-junit "$results/asan.xml") || status=1
else
    cat "$results/asan-build.log"
    echo "scripts/test.sh: the sanitizer build failed" >&2
    status=1
fi

# The detection test watches services for 10 minutes at little CPU: it runs
# beside the mutants. The mutants rebuild build/ with their patches applied,
# so they start once the test has its own copy of the build (container.sh
# creates $HEAL_CT_STAGED then, or the test has ended).
(cd build && HEAL_CT_STAGED="$results/detection.staged" \
    ctest -V -L detection --output-junit "$results/detection.xml") >"$results/detection.log" 2>&1 &
detection=$!
mutants=""
trap 'kill $mutants "$detection" 2>/dev/null || true; rm -rf "$results"' EXIT
trap 'exit 130' INT TERM
while [ ! -e "$results/detection.staged" ] && kill -0 "$detection" 2>/dev/null; do sleep 1; done

# The mutants' builds yield the CPU to the test's services, whose runaway
# must get a full core to be judged saturated. With autogroups (one per
# session, /proc/sys/kernel/sched_autogroup_enabled) a process's nice does not
# weigh against other sessions, and each service of the container is a
# session: the mutants run in a session of their own at autogroup nice 19.
# shellcheck disable=SC2016 # "$@" is the inner shell's
setsid -w sh -c 'echo 19 >/proc/self/autogroup 2>/dev/null || true; exec nice -n 19 "$@"' mutants \
    tests/mutants/run --build build --junit "$results/mutants.xml" &
mutants=$!
wait "$mutants" || status=1
mutants=""

detection_status=0
wait "$detection" || detection_status=$?
trap 'rm -rf "$results"' EXIT
echo "scripts/test.sh: the detection system test (ctest -V -L detection), run beside the mutants:"
cat "$results/detection.log"
if [ "$detection_status" -ne 0 ]; then
    echo "scripts/test.sh: the detection system test failed (ctest exited $detection_status)" >&2
    status=1
fi
# No report counts as a failed test in the summary.
[ -s "$results/detection.xml" ] || : >"$results/detection.xml"

scripts/test-summary.sh "$results"/*.xml || status=1
exit "$status"
