# shellcheck shell=sh disable=SC2154 # ct_tag and DEMO are the caller's
# The container plumbing shared by the system test (healerd-system-test.sh)
# and the container benchmark (tests/bench/container-bench.sh), sourced by
# both: this host's /usr booted as a throwaway systemd container
# (systemd-nspawn --volatile=yes: tmpfs root, fresh /etc, real journald and
# system D-Bus), healerd installed in it from a DESTDIR, the demo service
# broken on purpose, and healerd's journal record read back. The container is
# always powered off, also when a check fails or the caller is interrupted.
#
# The caller sets ct_tag (its name in messages) and DEMO (the unit healerd
# heals), sources this file, then calls ct_setup BUILD_DIR. Messages go to
# stdout, failures to stderr.

BOOT_TIMEOUT=120      # seconds for the container to boot
MODE_TIMEOUT=60       # seconds for healerd to detect and recover one failure

# healerd's journal MESSAGE_IDs (healerd(8)).
ID_FAILURE_DETECTED=65deafd6e8fa45a6aae003ff1d58906e
ID_RECOVERY_STARTED=55f0167693b441518f3b52c34512d162
ID_RECOVERY_FINISHED=89fcb0b3257f48948fe41c8dd9168be9

say() { echo "$ct_tag: $*"; }
failures=0
check_failed() { echo "$ct_tag: FAIL: $*" >&2; failures=$((failures + 1)); }
die() { echo "$ct_tag: FAIL: $*" >&2; exit 1; }

now_us() { date +%s%6N; }
seconds_since() { awk -v from="$1" -v to="$2" 'BEGIN { printf "%.1f", (to - from) / 1e6 }'; }

# Waits up to $1 seconds for the command in the remaining arguments to succeed.
wait_for() { wait_every 0.25 "$@"; }

# wait_every STEP LIMIT COMMAND...: wait_for, looking every STEP seconds.
wait_every() {
    step=$1
    limit=$2
    shift 2
    deadline=$(($(date +%s) + limit))
    until "$@" >/dev/null 2>&1; do
        [ "$(date +%s)" -lt "$deadline" ] || return 1
        sleep "$step"
    done
}

# ct_finish: prints the per-scenario lines collected in $work/results and
# ends the caller with its verdict.
ct_finish() {
    say "per scenario:"
    sed 's/^/    /' "$work/results"
    if [ "$failures" -ne 0 ]; then
        say "$failures check(s) failed"
        exit 1
    fi
    say "all checks passed"
}

# ct_setup BUILD_DIR: checks that a container can be booted from this build
# (exits 77, skipped, when not root), makes the work directory $work and
# installs the cleanup trap. Needs systemd-nspawn (Debian: systemd-container)
# and an install prefix that is not /usr (the default /usr/local is bound over
# the container's).
ct_setup() {
    BUILD=$(cd "$1" && pwd)
    if [ "$(id -u)" -ne 0 ]; then
        echo "$ct_tag: skipped: needs root (systemd-nspawn)"
        exit 77
    fi
    command -v systemd-nspawn >/dev/null || die "systemd-nspawn is missing (Debian package systemd-container)"
    prefix=$(sed -n 's/^CMAKE_INSTALL_PREFIX:[A-Z]*=//p' "$BUILD/CMakeCache.txt")
    [ -n "$prefix" ] || die "no CMAKE_INSTALL_PREFIX in $BUILD/CMakeCache.txt"
    [ "$prefix" != /usr ] || die "the install prefix is /usr; configure the build with another (e.g. the default /usr/local)"
    work=$(mktemp -d "/tmp/healerd-$ct_tag.XXXXXX")
    nspawn_pid=""
    pid1=""
    trap ct_cleanup EXIT
    trap 'exit 130' INT TERM
}

in_ct() {
    nsenter -t "$pid1" -a env -i PATH="$prefix/bin:$prefix/sbin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
        LANG=C.UTF-8 "$@"
}
# healctl with a time limit: a stuck healerd must fail the caller, not hang it.
healctl() { in_ct timeout 60 healctl "$@"; }
as_nobody() { in_ct setpriv --reuid=65534 --regid=65534 --clear-groups timeout 60 "$@"; }
# put HOST_FILE CONTAINER_FILE: copies a host file into the container.
# shellcheck disable=SC2016 # $1 is expanded by the shell inside the container
put() { in_ct sh -c 'mkdir -p "$(dirname "$1")" && cat > "$1"' put "$2" <"$1"; }

ct_cleanup() {
    status=$?
    trap - EXIT INT TERM
    if [ -n "$pid1" ] && kill -0 "$pid1" 2>/dev/null; then
        if [ "$status" -ne 0 ] || [ "$failures" -ne 0 ]; then
            say "last healerd log lines:"
            in_ct journalctl -u healerd -u "$DEMO" -n 60 --no-pager -o short-monotonic 2>/dev/null | sed 's/^/    /' || true
        fi
        # HEAL_CT_JOURNAL=FILE keeps the container's whole journal for a post-mortem.
        if [ -n "${HEAL_CT_JOURNAL:-}" ]; then
            in_ct journalctl --no-pager -o short-monotonic >"$HEAL_CT_JOURNAL" 2>&1 || true
        fi
        in_ct systemctl poweroff --no-block >/dev/null 2>&1 || true
    fi
    if [ -n "$nspawn_pid" ]; then
        # A clean poweroff first, then SIGTERM (nspawn powers the container
        # off), then SIGKILL: the container never outlives its caller.
        for signal in "" TERM KILL; do
            [ -z "$signal" ] || kill -s "$signal" "$nspawn_pid" 2>/dev/null || true
            i=0
            while kill -0 "$nspawn_pid" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.2; i=$((i + 1)); done
            kill -0 "$nspawn_pid" 2>/dev/null || break
        done
        say "container stopped"
    fi
    rm -rf "$work"
    exit "$status"
}

# ---- install into a DESTDIR -------------------------------------------------------

# ct_stage: installs the build into the DESTDIR $stage and checks it holds
# everything the container needs.
ct_stage() {
    stage=$work/stage
    say "installing $BUILD into DESTDIR=$stage (prefix $prefix)"
    DESTDIR=$stage cmake --install "$BUILD" >"$work/install.log" 2>&1 || { cat "$work/install.log" >&2; die "cmake --install failed"; }
    for file in sbin/healerd bin/healctl libexec/healerd/healerd-demo \
        lib/systemd/system/healerd.service lib/systemd/system/healerd-demo.service \
        share/dbus-1/system.d/org.healerd.Healer1.conf lib/sysusers.d/healerd.conf \
        share/healerd/rollback-hooks/apt-previous-version; do
        [ -n "$(installed "$file")" ] || die "cmake --install put no $prefix/$file into the DESTDIR (is systemd/ part of the build?)"
    done
    [ -n "$(find "$stage" -path '*/etc/healerd/rollback.d' -type d -print -quit)" ] ||
        die "cmake --install created no etc/healerd/rollback.d"
    grep -q "^ExecStart=$prefix/sbin/healerd\$" "$(installed lib/systemd/system/healerd.service)" ||
        die "the installed healerd.service does not start $prefix/sbin/healerd"
    # HEAL_CT_STAGED=FILE is created once the container has its own copy of
    # the build, for a caller that changes the build meanwhile (scripts/test.sh
    # runs the mutants beside the detection test).
    [ -z "${HEAL_CT_STAGED:-}" ] || : >"$HEAL_CT_STAGED"
}
installed() { find "$stage" -path "*/$1" -print -quit; }

# ---- boot -------------------------------------------------------------------------

# ct_boot [NSPAWN_OPTION...]: boots the container with the DESTDIR's prefix
# (when ct_stage made one) and the build bound read-only, and waits until
# PID 1 ($pid1, a host PID) is up.
ct_boot() {
    say "booting a throwaway systemd container"
    boot_start=$(now_us)
    staged=""
    [ -z "${stage:-}" ] || staged="--bind-ro=$stage$prefix:$prefix"
    # Word splitting of $staged is intended: no option, or one.
    # shellcheck disable=SC2086
    systemd-nspawn -D / --volatile=yes --boot --register=no --keep-unit --console=passive \
        --machine="healerd-$ct_tag-$$" $staged --bind-ro="$BUILD" "$@" \
        -- systemd.firstboot=off >"$work/nspawn.log" 2>&1 &
    nspawn_pid=$!
    wait_for "$BOOT_TIMEOUT" find_pid1 || { cat "$work/nspawn.log" >&2; die "no systemd in the container after ${BOOT_TIMEOUT}s"; }
    find_pid1
    wait_for "$BOOT_TIMEOUT" booted || die "the container did not finish booting (state '${state:-unknown}')"
    booted
    say "container PID 1 is host PID $pid1; booted in $(seconds_since "$boot_start" "$(now_us)")s ($state)"
}
find_pid1() { pid1=$(pgrep -P "$nspawn_pid" -x systemd) && [ -n "$pid1" ]; }
# PID 1 answers on its private socket before anything else is up.
booted() {
    state=$(in_ct systemctl is-system-running 2>/dev/null) || true
    [ "$state" = running ] || [ "$state" = degraded ]
}

# ---- install healerd in the container ------------------------------------------------

# healerd_settings SAMPLE_INTERVAL UNIT...: writes the caller's settings as a
# drop-in over the shipped configuration. The package-change window is 0: the
# demo was installed seconds ago, and a "recent deploy" would rightly make
# healerd roll back instead of restart. StableSec is short so that each
# failure mode is an incident of its own, not a relapse of the one before.
# The memory ceiling is finite so that a raise can be checked against it.
MEMORY_CEILING=1073741824   # MemoryMaxCeiling=, bytes
healerd_settings() {
    interval=$1
    shift
    printf '[Monitor]\nSampleIntervalSec=%s\nUnits=%s\n[Recovery]\nAutoRecover=yes\nRecoveryTimeoutSec=20s\nPackageChangeWindowSec=0\nStableSec=5s\nMemoryMaxCeiling=%s\n' \
        "$interval" "$*" "$MEMORY_CEILING" | in_ct sh -c "cat > /etc/healerd/healerd.conf.d/$ct_tag.conf"
}

# ct_install_healerd SAMPLE_INTERVAL UNIT...: installs healerd, its D-Bus
# policy, user and configuration (with $DEMO's units.d/ opt-in to fault
# injection) with healerd_settings over it, a rollback
# hook for $DEMO, starts $DEMO and healerd, and checks that healctl answers.
ct_install_healerd() {
    # A fresh /etc makes systemd apply its presets at boot, which enabled and
    # started the units it found under the bound prefix, before their D-Bus
    # policy and configuration were in place: stop them and start over from a
    # clean state.
    in_ct systemctl stop healerd.service healerd-demo.service 2>/dev/null || true
    in_ct systemctl reset-failed healerd.service healerd-demo.service 2>/dev/null || true
    in_ct rm -rf /var/lib/healerd
    put "$(installed lib/systemd/system/healerd.service)" /etc/systemd/system/healerd.service
    put "$(installed lib/systemd/system/healerd-demo.service)" /etc/systemd/system/healerd-demo.service
    put "$(installed share/dbus-1/system.d/org.healerd.Healer1.conf)" /etc/dbus-1/system.d/org.healerd.Healer1.conf
    put "$(installed lib/sysusers.d/healerd.conf)" /etc/sysusers.d/healerd.conf
    in_ct systemd-sysusers
    in_ct systemctl reload dbus
    config=$(installed etc/healerd/healerd.conf)
    [ -z "$config" ] || put "$config" /etc/healerd/healerd.conf
    # healerd injects real faults only into units that opt in; run_mode
    # breaks $DEMO with them, so it needs the shipped opt-in, as installed.
    opt_in=$(installed "etc/healerd/units.d/$DEMO.conf")
    [ -n "$opt_in" ] || die "cmake --install put no etc/healerd/units.d/$DEMO.conf (the demo's opt-in to fault injection)"
    put "$opt_in" "/etc/healerd/units.d/$DEMO.conf"
    in_ct mkdir -p /etc/healerd/healerd.conf.d /etc/healerd/rollback.d
    healerd_settings "$@"
    # A rollback hook for the demo, to see the rollback executor run one.
    in_ct sh -c 'cat > /etc/healerd/rollback.d/'"$DEMO"' && chmod 0755 /etc/healerd/rollback.d/'"$DEMO" <<'EOF'
#!/bin/sh
echo "test hook: rolling back $1 ($HEALERD_FAILURE_KIND)"
systemctl restart "$1"
EOF
    # Enough busy threads that the CPU runaway stands out even on a loaded machine.
    in_ct mkdir -p "/etc/systemd/system/$DEMO.d"
    in_ct sh -c "printf '[Service]\nEnvironment=HEALERD_DEMO_SPIN_THREADS=8\n' > /etc/systemd/system/$DEMO.d/$ct_tag.conf"
    in_ct systemctl daemon-reload

    in_ct systemctl start "$DEMO"
    in_ct systemctl start healerd || check_failed "systemctl start healerd failed"
    active=$(in_ct systemctl is-active healerd || true)
    say "systemctl is-active healerd: $active"
    [ "$active" = active ] || die "healerd is not active"
    healctl status >"$work/status" || die "healctl status did not answer"
    say "healctl status answers:"
    sed 's/^/    /' "$work/status"
}

# ---- healerd's record ---------------------------------------------------------------

# healerd's journal entries since $1 (µs since the epoch), one per line:
# "REALTIME_US MESSAGE_ID UNIT ACTION RESULT".
journal_events() {
    in_ct journalctl -u healerd -o export --no-pager --since "@$(($1 / 1000000))" 2>/dev/null |
        awk -v since="$1" 'BEGIN { RS = ""; FS = "\n" }
            {
                delete f
                for (i = 1; i <= NF; i++) { eq = index($i, "="); if (eq) f[substr($i, 1, eq - 1)] = substr($i, eq + 1) }
                if (f["__REALTIME_TIMESTAMP"] + 0 > since + 0 && f["MESSAGE_ID"] != "")
                    print f["__REALTIME_TIMESTAMP"], f["MESSAGE_ID"], (f["UNIT"] == "" ? "-" : f["UNIT"]),
                          (f["ACTION"] == "" ? "-" : f["ACTION"]), (f["RESULT"] == "" ? "-" : f["RESULT"])
            }'
}

# The first journal event ($2: MESSAGE_ID, "|"-separated alternatives) for the
# demo since $1, as "REALTIME_US ACTION RESULT"; empty when none yet.
first_event() {
    journal_events "$1" | awk -v ids="$2" -v unit="$DEMO" '
        BEGIN { n = split(ids, list, "|"); for (i = 1; i <= n; i++) want[list[i]] = 1 }
        want[$2] && $3 == unit { print $1, $4, $5; exit }'
}
recovery_finished_since() { [ -n "$(first_event "$1" "$ID_RECOVERY_FINISHED")" ]; }

# `healctl actions --json` reduced to "UNIT ACTION RESULT" lines, newest first.
actions() {
    healctl actions --json --limit 1000 --reverse | awk '
        /^  \{/ { unit = ""; action = ""; result = "" }
        /"unit":/ { unit = $2 }
        /"action":/ { action = $2 }
        /"result":/ { result = $2 }
        /^  \}/ { gsub(/[",]/, "", unit); gsub(/[",]/, "", action); gsub(/[",]/, "", result); print unit, action, result }'
}
demo_actions() { actions | awk -v unit="$DEMO" '$1 == unit'; }

# samples_healthy UNIT LIMIT: of healerd's newest LIMIT samples, at least 6
# are UNIT's and none of those is Failed. A sample's fields are read up to
# its closing brace, so their order does not matter.
samples_healthy() {
    healctl metrics --json --limit "$2" | awk -v unit="\"$1\"" '
        /^      "unit":/ { u = $2 } /^      "status":/ { status = $2 }
        /^    \}/ { sub(/,$/, "", u); if (u == unit) { n++; if (status ~ /Failed/) bad++ } u = ""; status = "" }
        END { exit !(n >= 6 && bad == 0) }'
}
# healerd has judged the demo healthy for a while: it runs, and its newest samples are healthy.
demo_settled() {
    [ "$(in_ct systemctl is-active "$DEMO")" = active ] || return 1
    samples_healthy "$DEMO" 20
}

# healerd has no open incident on the demo.
demo_no_incident() { healctl policy --unit "$DEMO" --json | grep -q '"state": "none"'; }

reset_demo() {
    in_ct systemctl reset-failed "$DEMO" 2>/dev/null || true
    in_ct systemctl restart "$DEMO"
    wait_for 30 demo_settled || check_failed "the demo did not settle healthy within 30s"
    wait_for 30 demo_no_incident || check_failed "healerd's incident on the demo did not close within 30s"
}

# ---- failure modes ---------------------------------------------------------------------

wait_detector_warm() {
    say "waiting for healerd's detector to warm up on $DEMO"
    wait_for 60 demo_settled || die "healerd reported no healthy samples of $DEMO within 60s"
    sleep 5  # past the detector's warm-up (MinSamples), so it judges adaptively
}

# run_mode MODE EXPECTED_ACTION [INJECTED_KIND]: breaks the demo with healctl
# simulate-failure, waits for healerd to recover it and checks how. Prints and
# appends to $work/results "mode=M action=A detect_s=D recover_s=R
# result=recovered|failed", and leaves detect_s and recover_s ("-" for none)
# and t0 (the injection, µs since the epoch) set.
run_mode() {
    mode=$1
    expected=$2
    kind=${3:-$1}
    reset_demo
    before=$(demo_actions | wc -l)
    limit_before=$(in_ct systemctl show "$DEMO" -P MemoryMax)
    t0=$(now_us)
    healctl simulate-failure --kind "$kind" --unit "$DEMO" >"$work/inject" || check_failed "$mode: simulate-failure failed"
    say "$mode injected: $(cat "$work/inject")"
    wait_for "$MODE_TIMEOUT" recovery_finished_since "$t0" || true
    detected=$(first_event "$t0" "$ID_FAILURE_DETECTED|$ID_RECOVERY_STARTED")
    finished=$(first_event "$t0" "$ID_RECOVERY_FINISHED")
    detect_s=-
    recover_s=-
    action=-
    result=failed
    [ -z "$detected" ] || detect_s=$(seconds_since "$t0" "${detected%% *}")
    if [ -n "$finished" ]; then
        read -r finished_us action result <<EOF
$finished
EOF
        recover_s=$(seconds_since "$t0" "$finished_us")
    fi
    echo "mode=$mode action=$action detect_s=$detect_s recover_s=$recover_s result=$result" | tee -a "$work/results"
    limit_after=$(in_ct systemctl show "$DEMO" -P MemoryMax)
    [ "$expected" != scale_up ] || check_raised_limit "$mode" "$limit_before" "$limit_after"

    # The same outcome as healctl reports it, and a demo that runs again.
    after=$(demo_actions | wc -l)
    newest=$(demo_actions | head -n 1)
    if [ -z "$detected" ] || [ "$result" != recovered ]; then
        say "$mode: the journal since the injection:"
        in_ct journalctl -u healerd -u "$DEMO" --since "@$((t0 / 1000000))" --no-pager -o short-monotonic | sed 's/^/    /'
    fi
    if [ -z "$detected" ]; then
        check_failed "$mode: healerd did not detect the failure within ${MODE_TIMEOUT}s"
    elif [ "$result" != recovered ] || [ "$action" != "$expected" ]; then
        check_failed "$mode: expected $expected and recovered, the journal says $action and $result"
    elif [ "$after" -le "$before" ] || [ "$newest" != "$DEMO $action $result" ]; then
        check_failed "$mode: healctl actions --json does not show the recovery (newest: '$newest')"
    elif [ "$(in_ct systemctl is-active "$DEMO")" != active ]; then
        check_failed "$mode: $DEMO is not active after its recovery"
    fi
}

# check_raised_limit MODE BEFORE AFTER: scale_up raised MemoryMax= (bytes
# from systemctl show) above BEFORE, and to a limit (the ceiling is finite
# here: MemoryMaxCeiling= in healerd_settings).
check_raised_limit() {
    say "$1: MemoryMax before $2, after $3 (ceiling $MEMORY_CEILING)"
    case "$2$3" in
        *[!0-9]*) check_failed "$1: MemoryMax is not a number of bytes before and after (before $2, after $3)" ;;
        *) [ "$3" -gt "$2" ] && [ "$3" -le "$MEMORY_CEILING" ] ||
               check_failed "$1: scale_up did not raise MemoryMax within the ceiling (before $2, after $3)" ;;
    esac
}

# run_bad_deploy: the crash again, but with the demo's files (installed
# minutes ago) inside the package-change window: healerd should take it for a
# bad deploy and run the rollback hook, which restarts the unit.
run_bad_deploy() {
    in_ct sh -c 'printf "[Recovery]\nPackageChangeWindowSec=1h\n" > /etc/healerd/healerd.conf.d/zz-recent-deploy.conf'
    in_ct systemctl reload healerd
    run_mode bad_deploy rollback crash
    hook_line=$(in_ct journalctl -t healerd-rollback --since "@$((t0 / 1000000))" --no-pager -o cat | grep "test hook: rolling back $DEMO" || true)
    if [ -n "$hook_line" ]; then
        say "the rollback hook ran as a transient unit and logged: $hook_line"
    else
        check_failed "no output of the rollback hook in the journal (journalctl -t healerd-rollback)"
    fi
    in_ct rm /etc/healerd/healerd.conf.d/zz-recent-deploy.conf
    in_ct systemctl reload healerd
}
