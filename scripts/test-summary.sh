#!/bin/sh
# test-summary.sh JUNIT_XML...: adds up ctest's JUnit reports (--output-junit)
# and prints each skipped test, each failed test with the "FAIL:" lines its
# output holds (the system tests' failed checks), then "healerd: N passed, N
# failed, N skipped": CI shows a log's head and tail, so the reason a long
# run failed must be in its last lines.
# Exits 1 if any test failed, or if, run as root, a root-only test (its name
# starts with "system:") was skipped.
set -eu
[ "$#" -gt 0 ] || { echo "usage: test-summary.sh JUNIT_XML..." >&2; exit 2; }
# The counts are attributes of each report's <testsuite>; a test's status is
# an attribute of its <testcase>.
attribute() { sed -n "s/^[[:space:]]*$1=\"\([0-9]*\)\".*/\1/p" "$2" | head -n 1; }
tests=0 failed=0 skipped=0 reports=""
for report in "$@"; do
    if [ ! -s "$report" ]; then
        # Counted as one failed test: the run that should have written it stopped early.
        echo "healerd: FAIL: no test report $report" >&2
        tests=$((tests + 1)) failed=$((failed + 1))
        continue
    fi
    reports="$reports $report"
    tests=$((tests + $(attribute tests "$report")))
    failed=$((failed + $(attribute failures "$report")))
    skipped=$((skipped + $(attribute skipped "$report") + $(attribute disabled "$report")))
done
unescape() { sed "s/&apos;/'/g; s/&quot;/\"/g; s/&amp;/\\&/g; s/&lt;/</g; s/&gt;/>/g"; }
# $reports: one path per word (mktemp names, no spaces).
# shellcheck disable=SC2086
skipped_names=$(sed -n 's/.*<testcase name="\([^"]*\)".*status="\(notrun\|disabled\|skipped\)".*/\1/p' $reports /dev/null |
                    unescape)
# shellcheck disable=SC2086
failed_names=$(sed -n 's/.*<testcase name="\([^"]*\)".*status="fail".*/\1/p' $reports /dev/null | unescape)
# shellcheck disable=SC2086
failed_checks=$(grep -h ': FAIL: ' $reports /dev/null | unescape | cut -c1-300 | head -n 40)
verdict=0
if [ -n "$skipped_names" ]; then
    echo "$skipped_names" | sed 's/^/healerd: skipped: /'
    if [ "$(id -u)" -eq 0 ] && echo "$skipped_names" | grep -q '^system:'; then
        echo "healerd: FAIL: a root-only test was skipped although this runs as root" >&2
        verdict=1
    fi
fi
if [ -n "$failed_names" ]; then
    echo "$failed_names" | sed 's/^/healerd: failed: /'
    [ -z "$failed_checks" ] || echo "$failed_checks" | sed 's/^[[:space:]]*/healerd: failed check: /'
fi
[ "$failed" -eq 0 ] || verdict=1
echo "healerd: $((tests - failed - skipped)) passed, $failed failed, $skipped skipped"
exit "$verdict"
