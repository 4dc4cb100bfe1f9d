#!/bin/sh
# expect.sh STATUS REGEX COMMAND...: runs COMMAND, shows its output, and
# passes only if it exits with STATUS and its output (stdout and stderr)
# matches the extended REGEX. ctest's PASS_REGULAR_EXPRESSION alone ignores
# the exit status, so a refusal that exits 0 would pass.
set -u
[ "$#" -ge 3 ] || { echo "usage: expect.sh STATUS REGEX COMMAND..." >&2; exit 2; }
expected=$1 regex=$2
case "$expected" in '' | *[!0-9]*) echo "expect.sh: STATUS must be a number, not '$expected'" >&2; exit 2 ;; esac
shift 2
output=$("$@" 2>&1)
status=$?
printf '%s\n' "$output"
if [ "$status" -ne "$expected" ]; then
    echo "expect.sh: $1 exited $status, expected $expected" >&2
    exit 1
fi
if ! printf '%s\n' "$output" | grep -Eq -- "$regex"; then
    echo "expect.sh: the output of $1 does not match /$regex/" >&2
    exit 1
fi
