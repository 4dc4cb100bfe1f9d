#!/bin/sh
# Builds one libFuzzer target with clang in BUILD (a standalone CMake
# project, tests/fuzz/CMakeLists.txt) and runs it for SECONDS over a scratch
# copy of its seed corpus, tests/fixtures/fuzz/TARGET/ (the tree is never
# written). Exit 0 when no crash, leak or timeout was found, 77 (ctest SKIP)
# when clang++-14 or libFuzzer is missing, anything else on a finding or a
# build failure.
#
#   tests/fuzz/run-fuzz.sh BUILD TARGET [SECONDS]      TARGET: config, model, replay
set -eu
[ "$#" -ge 2 ] || { echo "usage: $0 BUILD TARGET [SECONDS]" >&2; exit 2; }
root=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$1"
build=$(cd "$1" && pwd) target=$2 seconds=${3:-30}
corpus="$root/tests/fixtures/fuzz/$target"
[ -d "$corpus" ] || { echo "no seed corpus $corpus" >&2; exit 2; }

cxx=$(command -v clang++-14 || true)
probe=$(mktemp -d /tmp/heal-fuzz.XXXXXX)
trap 'rm -rf "$probe"' EXIT INT TERM
echo 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }' >"$probe/probe.cpp"
if [ -z "$cxx" ] || ! "$cxx" -fsanitize=fuzzer,address,undefined "$probe/probe.cpp" -o "$probe/probe" 2>/dev/null; then
    echo "SKIP: clang++-14 with libFuzzer is not installed (Debian: clang-14 libclang-rt-14-dev libfuzzer-14-dev)"
    exit 77
fi

# The three tests may run at once: one configures and builds at a time.
(
    flock 9
    if [ ! -f "$build/CMakeCache.txt" ]; then
        launcher=$(command -v ccache || true)
        cmake -S "$root/tests/fuzz" -B "$build" -DCMAKE_CXX_COMPILER="$cxx" \
            ${launcher:+-DCMAKE_CXX_COMPILER_LAUNCHER="$launcher"} >"$build/configure.log"
    fi
    cmake --build "$build" --target "${target}_fuzz" -j"$(nproc)"
) 9>"$build/.lock"

cp -r "$corpus" "$probe/corpus"
mkdir "$probe/artifacts"
cd "$probe"
# A finding makes libFuzzer exit non-zero and write the input to artifacts/.
if ! "$build/${target}_fuzz" -max_total_time="$seconds" -timeout=5 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$probe/artifacts/" corpus; then
    for input in artifacts/*; do
        [ -e "$input" ] || continue
        echo "finding: $input ($(wc -c <"$input") bytes), base64:"
        head -c 4096 "$input" | base64
    done
    exit 1
fi
