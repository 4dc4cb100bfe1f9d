#!/bin/sh
# healerd next to the alternatives, in one throwaway systemd container booted
# from this host's /usr (the system test's plumbing: tests/system/container.sh):
#   1. daemon overhead: healerd (SampleIntervalSec=1s), earlyoom (Debian's
#      default arguments) and monit (`set daemon 5`, cpu and totalmem checks
#      with systemctl start/stop programs) all watch the same three idle
#      services (healerd with an exec probe of each, /bin/true every 10 s); after --warmup, each daemon's peak VmRSS and VmHWM (sampled
#      every second from the host's /proc) and its CPU time over --duration
#      (schedstat's nanoseconds), also per cycle for healerd and monit;
#   2. detection and recovery latency per failure mode, injected the way
#      `healctl simulate-failure` does (a signal to the demo's main process):
#      healerd healing its demo (the system test's measurement: fault to the
#      journal's detection and recovery-finished events, but with the default
#      SampleIntervalSec=1s where the system test samples at 500ms); systemd alone
#      (Restart=on-failure and the demo's WatchdogSec=3s) and monit's 5 s
#      cycle, both measured as fault to the unit active again with a new main
#      PID; monit's packaged 120 s cycle computed from the cycles its rule
#      needs. "n/a" where that tool has nothing that sees the fault.
# earlyoom and monit are Debian's packages, fetched with `apt-get download`
# into BUILD_DIR/bench-pkgs (reused) and unpacked there, never installed on
# this host (their packages would enable and start them here), and bound
# read-only into the container at /opt/heal-bench.
#
# usage: container-bench.sh BUILD_DIR [--duration S] [--warmup S]
# Each figure is one stdout line "name value unit"; progress goes to stderr.
# Needs root and systemd-nspawn like the system test; exits 77 when not root.
set -eu

usage() { echo "usage: container-bench.sh BUILD_DIR [--duration S] [--warmup S]" >&2; exit 2; }
[ $# -ge 1 ] || usage
build_arg=$1
shift
duration=60
warmup=15
while [ $# -gt 0 ]; do
    [ $# -ge 2 ] || usage
    case $1 in
        --duration) duration=$2 ;;
        --warmup) warmup=$2 ;;
        *) usage ;;
    esac
    shift 2
done
for seconds in "$duration" "$warmup"; do
    case $seconds in '' | *[!0-9]*) usage ;; esac
done
[ "$duration" -gt 0 ] || usage

# The figures go to the caller's stdout (kept as fd 3), everything else,
# including the shared plumbing's messages, to stderr.
exec 3>&1 1>&2
figure() { echo "$1 $2 $3" >&3; }

ct_tag=container-bench
DEMO=healerd-demo.service
# shellcheck source-path=SCRIPTDIR source=../system/container.sh
. "$(dirname "$0")/../system/container.sh"
ct_setup "$build_arg"

BENCH_UNITS="heal-bench-1.service heal-bench-2.service heal-bench-3.service"
SYSTEMD_UNIT=heal-bench-systemd.service  # Restart=on-failure, watched by no daemon
TOOLS=/opt/heal-bench                    # the unpacked packages, in the container
HEALERD_INTERVAL=1                       # healerd's SampleIntervalSec=, in seconds
MONIT_CYCLE=5                            # the measured monit's `set daemon`
MONIT_DEFAULT_CYCLE=120                  # `set daemon` in Debian's packaged monitrc
# monit's CPU threshold, in its percent of all cores: healerd's Floor= (50% of
# one CPU) on this machine.
cores=$(nproc)
MONIT_CPU_PCT=$(((50 + cores - 1) / cores))

# ---- earlyoom and monit from Debian's packages ---------------------------------------

pkgs=$BUILD/bench-pkgs
mkdir -p "$pkgs/debs"
if ! ls "$pkgs"/debs/earlyoom_*.deb "$pkgs"/debs/monit_*.deb >/dev/null 2>&1; then
    say "fetching earlyoom and monit (apt-get download) into $pkgs/debs"
    # The download runs as root into a root-owned directory: no _apt sandbox.
    download() { (cd "$pkgs/debs" && apt-get -q -o APT::Sandbox::User=root download earlyoom monit); }
    download || { apt-get -q update && download; } || die "apt-get download earlyoom monit failed"
fi
rm -rf "$pkgs/root"
missing=""
for deb in "$pkgs"/debs/*.deb; do
    dpkg-deb -x "$deb" "$pkgs/root"
    say "using $(dpkg-deb -f "$deb" Package) $(dpkg-deb -f "$deb" Version)"
    # Their shared libraries (libraries only: the packages themselves stay
    # uninstalled); the container runs this host's /usr.
    for lib in $(dpkg-deb -f "$deb" Depends | tr -s ',|' '\n' | awk '$1 ~ /^(lib|zlib)/ { print $1 }'); do
        dpkg-query -W -f '${Status}\n' "$lib" 2>/dev/null | grep -q "ok installed" || missing="$missing $lib"
    done
done
if [ -n "$missing" ]; then
    say "installing the libraries they need:$missing"
    # shellcheck disable=SC2086 # one word per package
    apt-get -q install -y $missing >"$work/apt.log" 2>&1 || { cat "$work/apt.log"; die "apt-get install$missing failed"; }
fi

# ---- the container ------------------------------------------------------------------

ct_stage
ct_boot --bind-ro="$pkgs/root:$TOOLS"

# bench_unit NAME SED_SCRIPT: NAME.service in the container, a copy of the
# installed demo unit edited by SED_SCRIPT. Each copy runs the demo with argv[0]
# set to NAME (ExecStart=@), so monit can tell the processes apart, and spins
# as many threads in a CPU runaway as healerd's demo (ct_install_healerd).
bench_unit() {
    sed -e "s|^ExecStart=\\([^ ]*\\)|Environment=HEALERD_DEMO_SPIN_THREADS=8\\nExecStart=@\\1 $1|" -e "$2" \
        "$(installed lib/systemd/system/healerd-demo.service)" >"$work/$1.service"
    put "$work/$1.service" "/etc/systemd/system/$1.service"
}
for unit in $BENCH_UNITS; do
    bench_unit "${unit%.service}" ""
done
bench_unit "${SYSTEMD_UNIT%.service}" "s/^Restart=no$/Restart=on-failure/"

# Debian's earlyoom.service, run from the unpacked package.
sed -e "s|/usr/bin/earlyoom|$TOOLS/usr/bin/earlyoom|" -e "s|/etc/default/earlyoom|$TOOLS/etc/default/earlyoom|" \
    "$pkgs/root/lib/systemd/system/earlyoom.service" >"$work/earlyoom.service"
put "$work/earlyoom.service" /etc/systemd/system/earlyoom.service

# monit checking the three services as healerd does: CPU and memory, each rule
# for 2 cycles against spikes (healerd's detector wants 3 samples in a row).
# The demo's CPU runaway takes every core it gets, its leak 88 MiB.
{
    echo "set daemon $MONIT_CYCLE"
    echo "set log syslog"
    echo "set pidfile /run/heal-bench-monit.pid"
    echo "set idfile /var/lib/heal-bench-monit/id"
    echo "set statefile /var/lib/heal-bench-monit/state"
    for unit in $BENCH_UNITS; do
        cat <<EOF
check process ${unit%.service} matching "^${unit%.service} "
    start program = "/bin/systemctl start $unit"
    stop program = "/bin/systemctl stop $unit"
    if cpu > $MONIT_CPU_PCT% for 2 cycles then restart
    if totalmem > 64 MB for 2 cycles then restart
EOF
    done
} >"$work/monitrc"
in_ct sh -c 'mkdir -p /etc/heal-bench && umask 077 && cat > /etc/heal-bench/monitrc' <"$work/monitrc"
in_ct sh -c 'cat > /etc/systemd/system/heal-bench-monit.service' <<EOF
[Unit]
Description=monit from Debian's package (benchmark)

[Service]
ExecStart=$TOOLS/usr/bin/monit -I -c /etc/heal-bench/monitrc
StateDirectory=heal-bench-monit
# It logs to syslog (the journal) already.
StandardOutput=null
EOF
in_ct systemctl daemon-reload
# monit after the services, so it never finds them not running yet.
# shellcheck disable=SC2086 # one word per unit
in_ct systemctl start $BENCH_UNITS "$SYSTEMD_UNIT" || die "the benchmark's services did not start"
in_ct systemctl start earlyoom.service heal-bench-monit.service || die "earlyoom or monit did not start"

# One health probe per unit, as the overhead goal sets it: an exec probe,
# the dearest kind for healerd (a fork every ProbeIntervalSec=, default 10 s).
for unit in $BENCH_UNITS; do
    printf '[Probe]\nProbe=exec /bin/true\n' >"$work/$unit.conf"
    put "$work/$unit.conf" "/etc/healerd/units.d/$unit.conf"
done
# healerd last, so it never sees its units not running yet.
# shellcheck disable=SC2086 # one word per unit
ct_install_healerd "${HEALERD_INTERVAL}s" $BENCH_UNITS
probes=$(healctl detect | grep -c "exec probe /bin/true" || true)
[ "$probes" -ge 3 ] || die "healctl detect shows $probes of the 3 exec probes"
say "healctl detect shows the 3 exec probes"

# ---- 1. daemon overhead ---------------------------------------------------------------

# host_pid UNIT: the host PID of UNIT's main process in the container.
host_pid() {
    ct_pid=$(in_ct systemctl show -P MainPID "$1")
    ns=$(readlink "/proc/$pid1/ns/pid")
    for dir in /proc/[0-9]*; do
        [ "$(readlink "$dir/ns/pid" 2>/dev/null)" = "$ns" ] || continue
        if [ "$(awk '$1 == "NSpid:" { print $NF }' "$dir/status" 2>/dev/null)" = "$ct_pid" ]; then
            echo "${dir#/proc/}"
            return
        fi
    done
    die "no host process for $1 (main PID $ct_pid in the container)"
}
# utime + stime of a process, in clock ticks (fields 14 and 15; the comm
# before them may hold spaces): whole-process, exited threads included, but
# 10 ms coarse, too coarse for an idle daemon's minute.
cpu_ticks() { sed 's/.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'; }
# The process's start time (field 22), which tells a reused PID apart.
start_time() { sed 's/.*) //' "/proc/$1/stat" | awk '{ print $20 }'; }
# cpu_ns PID: nanoseconds PID's threads ran, from schedstat's first field
# (CONFIG_SCHED_INFO), summed over the threads: /proc/PID/schedstat counts
# the main thread only. Without schedstat, utime + stime in ns.
tck=$(getconf CLK_TCK)
if [ -r /proc/self/schedstat ]; then
    cpu_ns() { cat "/proc/$1"/task/*/schedstat 2>/dev/null | awk '{ ns += $1 } END { printf "%.0f\n", ns }'; }
else
    say "note: no /proc/PID/schedstat (kernel without CONFIG_SCHED_INFO): CPU figures from utime+stime," \
        "in $((1000 / tck)) ms ticks"
    cpu_ns() { awk -v t="$(cpu_ticks "$1")" -v hz="$tck" 'BEGIN { printf "%.0f\n", t * 1e9 / hz }'; }
fi
# all_threads_left PID TID_FILE: whether PID's threads listed in TID_FILE all
# still run.
all_threads_left() {
    while read -r tid; do
        [ -d "/proc/$1/task/$tid" ] || return 1
    done <"$2"
}

say "warming up for ${warmup}s"
sleep "$warmup"
daemons="healerd earlyoom monit"
status_files=""
for daemon in $daemons; do
    unit=$daemon.service
    [ "$daemon" != monit ] || unit=heal-bench-monit.service
    echo "$unit" >"$work/$daemon.unit"
    pid=$(host_pid "$unit")
    echo "$pid" >"$work/$daemon.pid"
    # What the end of the window checks, so a restarted daemon is an error
    # rather than another process's figure.
    echo "$(in_ct systemctl show -P MainPID "$unit") $(start_time "$pid")" >"$work/$daemon.id"
    status_files="$status_files /proc/$pid/status"
    say "$daemon: host PID $pid ($(tr '\0' ' ' <"/proc/$pid/cmdline"))"
done
say "measuring for ${duration}s"
for daemon in $daemons; do
    pid=$(cat "$work/$daemon.pid")
    ls "/proc/$pid/task" >"$work/$daemon.tids"
    echo "$(cpu_ns "$pid") $(cpu_ticks "$pid")" >"$work/$daemon.cpu"
done
start=$(now_us)
end=$((start + duration * 1000000))
while [ "$(now_us)" -lt "$end" ]; do
    # shellcheck disable=SC2086 # one word per file
    awk '$1 == "VmRSS:" || $1 == "VmHWM:" { print FILENAME, $1, $2 }' $status_files >>"$work/memory" ||
        die "a daemon exited while it was measured"
    sleep 1
done
window_s=$(awk -v from="$start" -v to="$(now_us)" 'BEGIN { print (to - from) / 1e6 }')
for daemon in $daemons; do
    # Per cycle of work, the fair comparison between daemons that wake at
    # different rates (earlyoom's poll adapts to free memory: no fixed cycle).
    case $daemon in
        healerd) per_cycle=cpu_us_per_tick cycle_s=$HEALERD_INTERVAL ;;
        monit) per_cycle=cpu_us_per_cycle cycle_s=$MONIT_CYCLE ;;
        *) per_cycle="" ;;
    esac
    pid=$(cat "$work/$daemon.pid")
    cpu_end="$(cpu_ns "$pid") $(cpu_ticks "$pid" 2>/dev/null)"
    error=""
    if [ "$(in_ct systemctl show -P MainPID "$(cat "$work/$daemon.unit")") $(start_time "$pid" 2>/dev/null)" != \
        "$(cat "$work/$daemon.id")" ]; then
        error="its main process changed (restarted?) during the window"
    elif ! all_threads_left "$pid" "$work/$daemon.tids"; then
        # schedstat loses an exited thread's time.
        error="a thread exited during the window"
    elif [ -r /proc/self/schedstat ] && ! awk -v a="$(cat "$work/$daemon.cpu")" -v b="$cpu_end" -v hz="$tck" 'BEGIN {
            split(a, t0); split(b, t1)
            exit (t1[2] - t0[2] - 2) * 1e9 / hz > t1[1] - t0[1] }'; then
        # utime + stime count threads that came and went within the window.
        error="its threads' schedstat misses CPU time that utime+stime counts (short-lived threads?)"
    fi
    if [ -n "$error" ]; then
        check_failed "$daemon (host PID $pid): $error; no overhead figures"
        for spec in rss_mib:MiB hwm_mib:MiB cpu_pct:% cpu_s_per_min:s/min ${per_cycle:+$per_cycle:us}; do
            figure "${daemon}_${spec%:*}" failed "${spec#*:}"
        done
        continue
    fi
    cpu_s=$(awk -v a="$(cat "$work/$daemon.cpu")" -v b="$cpu_end" 'BEGIN { split(a, t0); split(b, t1); print (t1[1] - t0[1]) / 1e9 }')
    for field in VmRSS VmHWM; do
        name=rss
        [ "$field" = VmRSS ] || name=hwm
        figure "${daemon}_${name}_mib" "$(awk -v file="/proc/$pid/status" -v key="$field:" '
            $1 == file && $2 == key && $3 > max { max = $3 } END { printf "%.1f", max / 1024 }' "$work/memory")" MiB
    done
    figure "${daemon}_cpu_pct" "$(awk -v c="$cpu_s" -v w="$window_s" 'BEGIN { printf "%.4f", 100 * c / w }')" "%"
    figure "${daemon}_cpu_s_per_min" "$(awk -v c="$cpu_s" -v w="$window_s" 'BEGIN { printf "%.4f", 60 * c / w }')" s/min
    [ -z "$per_cycle" ] || figure "${daemon}_$per_cycle" "$(awk -v c="$cpu_s" -v w="$window_s" -v i="$cycle_s" '
        BEGIN { printf "%.1f", 1e6 * c / (w / i) }')" us
done

# ---- 2. detection and recovery latency --------------------------------------------------

MODES="cpu_runaway memory_leak crash hang bad_deploy"
# The signal healctl simulate-failure sends for each mode (fault_signal in
# lib/systemd/systemd_failure_injector.hpp).
signal_of() {
    case $1 in
        cpu_runaway) echo USR1 ;;
        memory_leak) echo USR2 ;;
        crash) echo KILL ;;
        hang) echo STOP ;;
    esac
}

# healerd, on its demo as in the system test: it stops watching the
# benchmark's units, which the others heal below.
say "healerd: detection and recovery of $DEMO"
healerd_settings 1s "$DEMO"
in_ct systemctl reload healerd
wait_detector_warm
# run_mode's detect_s and recover_s as figures ("-": not seen within MODE_TIMEOUT).
healerd_figures() {
    figure "healerd_${1}_detect_s" "$(echo "$detect_s" | sed 's/^-$/failed/')" s
    figure "healerd_${1}_recover_s" "$(echo "$recover_s" | sed 's/^-$/failed/')" s
}
run_mode cpu_runaway restart
healerd_figures cpu_runaway
run_mode memory_leak scale_up
healerd_figures memory_leak
run_mode crash restart
healerd_figures crash
run_mode hang restart
healerd_figures hang
run_bad_deploy
healerd_figures bad_deploy

# restart_s UNIT SIGNAL: sends SIGNAL to UNIT's main process (as healerd's
# injector does: KillUnit, main) and prints the seconds until UNIT is active
# again with another main PID, or "failed" after MODE_TIMEOUT. It polls
# inside the container, every 50 ms (where awk, an alternatives link in the
# fresh /etc, is missing).
restart_s() {
    in_ct systemctl reset-failed "$1" 2>/dev/null || true
    in_ct systemctl start "$1"
    # shellcheck disable=SC2016 # expanded by the shell inside the container
    in_ct timeout "$MODE_TIMEOUT" sh -c '
        pid() { systemctl show -P MainPID "$1"; }
        old=$(pid "$1")
        t0=$(date +%s%N)
        systemctl kill --kill-who=main -s "$2" "$1"
        until [ "$(systemctl is-active "$1")" = active ] && [ "$(pid "$1")" != "$old" ]; do sleep 0.05; done
        echo "$t0 $(date +%s%N)"' restart_s "$1" "$2" >"$work/restart" &&
        awk '{ printf "%.2f\n", ($2 - $1) / 1e9 }' "$work/restart" ||
        echo failed
}

say "systemd alone: $SYSTEMD_UNIT (Restart=on-failure, WatchdogSec=3s)"
for mode in $MODES; do
    case $mode in
        crash | hang) figure "systemd_${mode}_recover_s" "$(restart_s "$SYSTEMD_UNIT" "$(signal_of "$mode")")" s ;;
        *) figure "systemd_${mode}_recover_s" n/a s ;;
    esac
done
say "note: systemd sees no cpu_runaway; no bad_deploy (it restarts into the same version); and no memory_leak" \
    "here, where MemoryMax is recorded but not enforced (cgroup v1 memory is not delegated to the container):" \
    "on a pure cgroup v2 host the kernel OOM-kills the unit at MemoryMax and Restart=on-failure restarts it"

# monit, measured on the benchmark's units (one each, so a restart never
# overlaps the next fault), and computed for Debian's 120 s cycle. The fault
# comes at a uniformly random phase of the cycle, so the first check follows
# after half a cycle on average, and a rule "for 2 cycles" fires one cycle
# later: crash C/2, memory_leak C/2 + C. For the CPU the first check sees
# only the part of its cycle since the fault: with a runaway taking every
# core it counts when that part is over the threshold T (a fraction), with
# probability 1 - T, else the rule fires a cycle later: C/2 + C + T*C on
# average. Time to restart the unit itself is left out.
say "monit: heal-bench-1 (crash), -2 (cpu_runaway), -3 (memory_leak); set daemon $MONIT_CYCLE"
for mode in $MODES; do
    case $mode in
        crash) unit=heal-bench-1.service cycles=0.5 ;;
        cpu_runaway) unit=heal-bench-2.service cycles=$(awk -v t="$MONIT_CPU_PCT" 'BEGIN { print 1.5 + t / 100 }') ;;
        memory_leak) unit=heal-bench-3.service cycles=1.5 ;;
        *) unit="" ;;
    esac
    if [ -n "$unit" ]; then
        # A random wait first, so the fault falls at a random phase of monit's
        # cycle, as the computed figure assumes, not at one the script's own
        # timing would repeat.
        sleep "$(awk -v c="$MONIT_CYCLE" 'BEGIN { srand(); printf "%.2f", rand() * c }')"
        figure "monit_${mode}_recover_s" "$(restart_s "$unit" "$(signal_of "$mode")")" s
        figure "monit_default_${mode}_recover_s" "$(awk -v n="$cycles" -v c="$MONIT_DEFAULT_CYCLE" 'BEGIN { print n * c }')" s
    else
        figure "monit_${mode}_recover_s" n/a s
        figure "monit_default_${mode}_recover_s" n/a s
    fi
done
say "note: monit has no check that sees a hang (a stopped process still exists; only a protocol test would:" \
    "here the unit's own WatchdogSec= would kill it, and monit start it again), and restarts a bad deploy into" \
    "the same version"

[ "$failures" -eq 0 ] || say "note: $failures check(s) of healerd's recoveries failed (above)"
say "done"
