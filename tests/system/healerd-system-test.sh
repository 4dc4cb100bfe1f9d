#!/bin/sh
# healerd's system test: installs the build into a DESTDIR, boots this host's
# /usr as a throwaway systemd container (systemd-nspawn --volatile=yes: tmpfs
# root, fresh /etc, real journald and system D-Bus), installs healerd in it and
# checks, against the real PID 1, that healerd
#   1. starts as a Type=notify service and answers healctl;
#   2. detects each failure mode of the demo service and recovers it with the
#      right kind of action (from `healctl actions --json` and from the
#      structured fields of `journalctl -u healerd`), printing per mode
#        mode=M action=A detect_s=D recover_s=R result=recovered|failed
#   3. raises MemoryMax (`systemctl show -p MemoryMax` before and after);
#   4. runs a configured rollback hook as a transient unit;
#   5. serves unprivileged readers and refuses them the mutating methods;
#   6. keeps its history across `systemctl restart`, and stops cleanly;
# plus its sandbox's `systemd-analyze security` exposure and read-only /run,
# and the recovery executors' own live tests. The container is always powered
# off, also when a check fails or the test is interrupted. The container
# plumbing is shared with the container benchmark: container.sh.
#
# usage: healerd-system-test.sh BUILD_DIR
# Needs root, systemd-nspawn (Debian: systemd-container) and a build whose
# install prefix is not /usr (the default /usr/local is bound over the
# container's). Exits 77 (skipped) when not root.
set -eu

ct_tag=system-test
DEMO=healerd-demo.service
EXPOSURE_LIMIT=2.5    # systemd-analyze security score healerd.service must not exceed
# shellcheck source-path=SCRIPTDIR source=container.sh
. "$(dirname "$0")/container.sh"
ct_setup "${1:?usage: healerd-system-test.sh BUILD_DIR}"

# ---- 0. install into a DESTDIR; 1. boot ---------------------------------------------

ct_stage
# shellcheck disable=SC2119 # no nspawn options of its own
ct_boot

# ---- 2. install healerd in the container -----------------------------------------

ct_install_healerd 500ms "$DEMO"

# ---- 3. failure modes -------------------------------------------------------------

wait_detector_warm
: >"$work/results"
run_mode cpu_runaway restart
run_mode memory_leak scale_up
run_mode crash restart
run_mode hang restart

# ---- 4. a bad deploy: rolled back through the configured hook ----------------------------

run_bad_deploy

# ---- 5. unprivileged callers -------------------------------------------------------

for command in status metrics incidents summary; do
    if as_nobody healctl "$command" >/dev/null 2>"$work/err"; then
        say "as nobody: healctl $command works"
    else
        check_failed "as nobody: healctl $command failed: $(cat "$work/err")"
    fi
done
for command in "recover --unit $DEMO --action restart" "train --episodes 1" "simulate-failure --kind crash --unit $DEMO"; do
    # Word splitting of $command is intended.
    # shellcheck disable=SC2086
    if as_nobody healctl $command >/dev/null 2>"$work/err"; then
        check_failed "as nobody: healctl $command was allowed"
    elif grep -q "D-Bus policy" "$work/err"; then
        say "as nobody: healctl ${command%% *} refused: $(cat "$work/err")"
    else
        check_failed "as nobody: healctl $command failed without naming the D-Bus policy: $(cat "$work/err")"
    fi
done
[ "$(in_ct systemctl is-active "$DEMO")" = active ] || check_failed "a refused call still touched $DEMO"

# ---- 6. restart keeps the history; stop is clean --------------------------------------

before=$(actions | wc -l)
in_ct systemctl restart healerd || check_failed "systemctl restart healerd failed"
after=$(actions | wc -l)
if [ "$before" -gt 0 ] && [ "$after" -ge "$before" ]; then
    say "history kept across systemctl restart healerd ($before recoveries before, $after after)"
else
    check_failed "history lost across restart ($before recoveries before, $after after)"
fi
in_ct systemd-analyze security healerd.service --no-pager >"$work/security" 2>&1 || true
exposure=$(sed -n 's/.*Overall exposure level for healerd.service: \([0-9.]*\).*/\1/p' "$work/security")
say "systemd-analyze security healerd.service: $(grep 'Overall exposure' "$work/security" || echo '?')"
awk -v e="$exposure" -v limit="$EXPOSURE_LIMIT" 'BEGIN { exit !(e != "" && e <= limit) }' ||
    check_failed "healerd.service's exposure ${exposure:-?} is above $EXPOSURE_LIMIT"
# ReadOnlyPaths=/run: ProtectSystem=strict alone leaves /run writable beside
# ProtectKernelTunables= (docs/security.md).
main_pid=$(in_ct systemctl show healerd -P MainPID)
run_mount=$(in_ct cut -d' ' -f5,6 "/proc/$main_pid/mountinfo" | grep '^/run ' || true)
case "$run_mount" in
    "/run ro"*) say "healerd's /run is read-only ($run_mount)" ;;
    *) check_failed "healerd can write /run (its mount: '${run_mount:-none}')" ;;
esac
in_ct systemctl stop healerd
stopped=$(for property in ActiveState Result ExecMainStatus; do
              printf '%s=%s ' "$property" "$(in_ct systemctl show healerd -P "$property")"
          done)
say "systemctl stop healerd: $stopped"
[ "$stopped" = "ActiveState=inactive Result=success ExecMainStatus=0 " ] ||
    check_failed "healerd did not stop cleanly ($stopped)"

# ---- 7. the executors' live unit tests, against this PID 1 ------------------------------

unit_tests=$(find "$BUILD" -path '*/tests/heal-unit-systemd' -type f -perm -u+x -print -quit)
if [ -z "$unit_tests" ]; then
    check_failed "no tests/heal-unit-systemd in $BUILD: the live executor tests did not run"
elif ! in_ct timeout 300 "$unit_tests" "[live]" >"$work/live" 2>&1; then
    cat "$work/live" >&2
    check_failed "live executor tests failed"
elif grep -q "HEAL_TEST_SKIPPED" "$work/live"; then
    check_failed "live executor tests skipped in the container: $(grep "HEAL_TEST_SKIPPED" "$work/live" | sort -u)"
else
    say "live executor tests (heal-unit-systemd [live]): $(grep -E "test cases" "$work/live" | tail -n 1)"
fi

# ---- verdict ----------------------------------------------------------------------

say "per mode:"
sed 's/^/    /' "$work/results"
if [ "$failures" -ne 0 ]; then
    say "$failures check(s) failed"
    exit 1
fi
say "all checks passed"
