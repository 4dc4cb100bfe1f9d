#!/bin/sh
# detect-smoke.sh HEAL_BENCH [SOAK_DAYS]: runs `heal-bench detect` on the
# repository's corpus (and, given SOAK_DAYS, its healthy soak), shows its
# output, and passes when it exits 0 and prints the default and the original
# detector's lines (and soak lines). The figures are not judged: they are
# printed, never asserted.
set -u
bench=$1
soak_days=${2:-0}
out=$("$bench" detect --soak-days "$soak_days")
status=$?
printf '%s\n' "$out"
[ "$status" -eq 0 ] || { echo "detect-smoke.sh: heal-bench detect exited $status" >&2; exit 1; }
for name in default original; do
    printf '%s\n' "$out" | grep -q "^detector=$name precision=" ||
        { echo "detect-smoke.sh: no detector=$name line" >&2; exit 1; }
    [ "$soak_days" = 0 ] || printf '%s\n' "$out" | grep -q "^soak detector=$name target_weeks=" ||
        { echo "detect-smoke.sh: no soak detector=$name line" >&2; exit 1; }
done
