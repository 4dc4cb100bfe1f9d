#!/bin/sh
# detect-smoke.sh HEAL_BENCH: runs `heal-bench detect` on the repository's
# corpus, shows its output, and passes when it exits 0 and prints the
# default and the original detector's lines. The figures are not judged:
# they are printed, never asserted.
set -u
out=$("$1" detect)
status=$?
printf '%s\n' "$out"
[ "$status" -eq 0 ] || { echo "detect-smoke.sh: heal-bench detect exited $status" >&2; exit 1; }
for name in default original; do
    printf '%s\n' "$out" | grep -q "^detector=$name precision=" ||
        { echo "detect-smoke.sh: no detector=$name line" >&2; exit 1; }
done
