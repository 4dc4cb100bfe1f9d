#!/bin/sh
# healerd's detection with its DEFAULT settings ([Detection], [CpuSaturation],
# [MemoryLeak], ... untouched; the sample interval is 500ms as in the other
# system tests), against the real PID 1 of a throwaway systemd container
# (container.sh). One healerd watches four services written for this test,
# all at once, for WATCH_S (10 minutes), and a fifth that crash-loops:
#   burst.service    healthy: a child spins a full core for 8 s every 40 s,
#                    the whole time. It must get no action (no recovery_started
#                    in the journal, none in healctl actions --json). How often
#                    each of its signals fired is sampled from healctl detect
#                    --json every 2 s and printed.
#   web.service      nginx on 127.0.0.1:$WEB_PORT, 0 % CPU, with a units.d
#                    [Probe] (http, 1 s interval, 3 failures). At WEB_FAULT_S
#                    its processes are stopped (SIGSTOP): it runs, at 0 % CPU,
#                    and answers nothing. It must be detected by its probe
#                    (SIGNAL=probe) and restarted, and answer again. The delay
#                    is printed beside the issue's bar (interval x threshold +
#                    2 s = 5 s), not asserted.
#   leak.service     MemoryMax=300M, a small C program (compiled here) that
#                    holds 16 MiB, then from LEAK_FAULT_S grows 20 MiB/s until
#                    its RSS reaches 300 MiB, and holds there (the container
#                    does not enforce MemoryMax). It must be detected with
#                    SIGNAL=memory_leak while its memory (VALUE=) is below
#                    300 MiB; the program's own journal line says when its RSS
#                    reached 300 MiB. Prints the time to detection, the memory
#                    then and the predicted seconds left.
#   runaway.service  idle (baseline of RUNAWAY_FAULT_S, over 6 minutes) until
#                    its child starts spinning a full core for good. It must be
#                    detected with SIGNAL=cpu_saturation; the delay is printed
#                    beside the bar ForSec + 2 s = 62 s, not asserted.
#   crashloop.service  Restart=always, RestartSec=1: sleeps; from
#                    CRASH_FAULT_S each start exits 1 after 2 s, so it is
#                    never down for InactiveForSec. It must be detected with
#                    SIGNAL=crash_loop (systemd's NRestarts, 3 within 5 min);
#                    then the trigger goes (the fix) and it must run again.
# Then `healctl replay` judges the watch's stored history again with the
# same settings: it must raise nothing for burst and at least one failure for
# crashloop, web, leak and runaway (printed with what healerd stored).
# Last, healerd's own cost: its RSS, and its CPU time per tick over the watch
# (5 units, one probe, healctl detect every 2 s), beside the issue's bars
# (1 ms of CPU per tick, 8 MiB of RSS), printed, not asserted.
# The faults are staggered so that no two recoveries overlap (each incident
# has resolved, StableSec=60 after its action, before the next fault). The
# recovery settings are healerd's defaults but for PackageChangeWindowSec=0
# (container.sh: the units were written minutes ago and are no deploy) and
# the finite MemoryMaxCeiling of container.sh.
# Prints one line per scenario:
#   scenario=S ... (figures) and the issue's bar where it has one
#
# usage: detection-test.sh BUILD_DIR (root; exits 77, skipped, otherwise)
set -eu

ct_tag=detection-test
DEMO=healerd-demo.service
# shellcheck source-path=SCRIPTDIR source=container.sh
. "$(dirname "$0")/container.sh"
ct_setup "${1:?usage: detection-test.sh BUILD_DIR}"

BURST=burst.service
WEB=web.service
LEAK=leak.service
RUNAWAY=runaway.service
CRASH=crashloop.service
WEB_PORT=8097
WATCH_S=600          # seconds burst is watched, from the services' start
CRASH_FAULT_S=40     # when crashloop starts crashing
WEB_FAULT_S=150      # when web stops answering
LEAK_FAULT_S=270     # when leak starts leaking
RUNAWAY_FAULT_S=390  # when runaway starts spinning
LEAK_LIMIT=$((300 * 1024 * 1024))
DIR=/opt/heal-detection   # the services' programs, in the container

ct_stage
# shellcheck disable=SC2119 # no nspawn options of its own
ct_boot

# ---- the services ------------------------------------------------------------------------

# unit NAME BODY: writes a unit file into the container.
unit() { printf '%s\n' "$2" | in_ct sh -c "cat > /etc/systemd/system/$1"; }
# program NAME: the rest of stdin as an executable $DIR/NAME in the container.
program() { in_ct sh -c "mkdir -p $DIR && cat > $DIR/$1 && chmod 0755 $DIR/$1"; }

program burst <<'EOF'
#!/bin/sh
while :; do
    timeout 8 sh -c 'while :; do :; done'
    sleep 32
done
EOF
unit "$BURST" "[Service]
ExecStart=$DIR/burst"

program runaway <<'EOF'
#!/bin/sh
# Idle until the test creates the trigger, then a child spins one core for good.
while [ ! -e /run/heal-runaway.go ]; do sleep 0.5; done
rm -f /run/heal-runaway.go
echo "runaway: child spinning from now on"
sh -c 'while :; do :; done' &
wait
EOF
unit "$RUNAWAY" "[Service]
ExecStart=$DIR/runaway"

unit "$CRASH" "[Unit]
StartLimitIntervalSec=0
[Service]
Restart=always
RestartSec=1
ExecStart=/bin/sh -c 'if [ -e /run/heal-crash.go ]; then sleep 2; exit 1; fi; exec sleep infinity'"

# The leak: holds 16 MiB; once the trigger exists (it removes it: a restart
# does not leak again) touches 1 MiB blocks at PER_SEC MiB/s (paced by the
# clock) until its RSS reaches CAP MiB, says so and holds.
in_ct sh -c "mkdir -p $DIR && cat > $DIR/leak.c" <<'EOF'
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static long rss_bytes(void) {
    char line[256];
    long kib = 0;
    FILE *status = fopen("/proc/self/status", "r");
    if (!status) return 0;
    while (fgets(line, sizeof line, status))
        if (strncmp(line, "VmRSS:", 6) == 0) kib = atol(line + 6);
    fclose(status);
    return kib * 1024;
}

static void grow(long bytes) {
    char *block = malloc(bytes);
    if (!block) abort();
    memset(block, 1, bytes);
    __asm__ volatile("" : : "r"(block) : "memory");  /* kept: the compiler may not drop it */
}

int main(int argc, char **argv) {
    if (argc != 4) return 2;
    const char *trigger = argv[1];
    const long per_sec = atol(argv[2]) << 20, cap = atol(argv[3]) << 20, step = 1 << 20;
    setvbuf(stdout, NULL, _IOLBF, 0);
    grow(16 << 20);
    printf("leak: steady, rss %ld MiB\n", rss_bytes() >> 20);
    while (access(trigger, F_OK) != 0) usleep(200000);
    unlink(trigger);
    printf("leak: growing %ld MiB/s up to rss %ld MiB\n", per_sec >> 20, cap >> 20);
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    long grown = 0, reported = 0;
    for (;;) {
        const long rss = rss_bytes();
        if (rss >= cap) {
            printf("leak: rss reached %ld MiB (%ld bytes), holding\n", rss >> 20, rss);
            break;
        }
        if (rss - reported >= per_sec) {
            printf("leak: rss %ld MiB\n", rss >> 20);
            reported = rss;
        }
        /* Paced by the clock: per_sec bytes for every second since the start. */
        clock_gettime(CLOCK_MONOTONIC, &now);
        const double elapsed = (double)(now.tv_sec - start.tv_sec) + (double)(now.tv_nsec - start.tv_nsec) / 1e9;
        if ((double)grown < elapsed * (double)per_sec) {
            grow(step);
            grown += step;
        } else {
            usleep(10000);
        }
    }
    for (;;) pause();
}
EOF
in_ct gcc -O2 -Wall -o "$DIR/leak" "$DIR/leak.c" || die "cannot compile the leak program"
unit "$LEAK" "[Service]
MemoryMax=300M
ExecStart=$DIR/leak /run/heal-leak.go 20 300"

# nginx on loopback with its own configuration and state (/var is empty in
# the volatile container).
in_ct mkdir -p /etc/heal-web /var/log/heal-web /var/lib/nginx
printf '%s\n' 'pid /run/heal-web.pid;' 'error_log /var/log/heal-web/error.log;' 'events {}' \
    "http { access_log off; server { listen 127.0.0.1:$WEB_PORT; location / { return 200 \"ok\\n\"; } } }" |
    in_ct sh -c 'cat > /etc/heal-web/nginx.conf'
unit "$WEB" "[Service]
ExecStart=/usr/sbin/nginx -c /etc/heal-web/nginx.conf -g 'daemon off;'"

ct_install_healerd 500ms "$BURST" "$WEB" "$LEAK" "$RUNAWAY" "$CRASH"
# healerd's defaults again where healerd_settings departs from them for the
# demo (but PackageChangeWindowSec and the ceiling, see above).
in_ct sh -c 'printf "[Recovery]\nStableSec=60s\nRecoveryTimeoutSec=5s\n" > /etc/healerd/healerd.conf.d/zz-detection.conf'
in_ct mkdir -p /etc/healerd/units.d
printf '%s\n' '[Probe]' "Probe=http http://127.0.0.1:$WEB_PORT/" 'ProbeIntervalSec=1s' 'ProbeFailureThreshold=3' |
    in_ct sh -c "cat > /etc/healerd/units.d/$WEB.conf"
in_ct systemctl reload healerd
in_ct systemctl start "$BURST" "$WEB" "$LEAK" "$RUNAWAY" "$CRASH"
T0=$(now_us)
t0_s=$((T0 / 1000000))
say "$BURST, $WEB, $LEAK and $RUNAWAY started; faults at +${WEB_FAULT_S}s ($WEB), +${LEAK_FAULT_S}s ($LEAK), +${RUNAWAY_FAULT_S}s ($RUNAWAY); watching for ${WATCH_S}s"
web_answers() { in_ct curl -fsS --max-time 2 "http://127.0.0.1:$WEB_PORT/" >/dev/null; }
wait_for 10 web_answers || die "$WEB does not answer before the test"

# ---- healerd's record --------------------------------------------------------------------

# detections SINCE_US UNIT: healerd's failure_detected records on UNIT since
# SINCE_US, oldest first: "REALTIME_US SIGNAL VALUE THRESHOLD HELD_SEC MESSAGE".
detections() {
    in_ct journalctl -u healerd -o export --no-pager --since "@$(($1 / 1000000))" 2>/dev/null |
        awk -v since="$1" -v unit="$2" -v id="$ID_FAILURE_DETECTED" 'BEGIN { RS = ""; FS = "\n" }
            {
                delete f
                for (i = 1; i <= NF; i++) { eq = index($i, "="); if (eq) f[substr($i, 1, eq - 1)] = substr($i, eq + 1) }
                if (f["__REALTIME_TIMESTAMP"] + 0 > since + 0 && f["MESSAGE_ID"] == id && f["UNIT"] == unit)
                    print f["__REALTIME_TIMESTAMP"], f["SIGNAL"], f["VALUE"], f["THRESHOLD"], f["HELD_SEC"], f["MESSAGE"]
            }'
}
detected_since() { [ -n "$(detections "$1" "$2")" ]; }
# recoveries SINCE_US UNIT: the recovery_started records on UNIT since
# SINCE_US, oldest first: "REALTIME_US ACTION".
recoveries() { journal_events "$1" | awk -v id="$ID_RECOVERY_STARTED" -v unit="$2" '$2 == id && $3 == unit { print $1, $4 }'; }
recovered_since() { [ -n "$(recoveries "$1" "$2")" ]; }
# unit_line_us UNIT TEXT: when UNIT's own output first said TEXT (µs since the epoch).
unit_line_us() {
    in_ct journalctl -u "$1" -o export --no-pager 2>/dev/null |
        awk -v text="$2" 'BEGIN { RS = ""; FS = "\n" }
            {
                delete f
                for (i = 1; i <= NF; i++) { eq = index($i, "="); if (eq) f[substr($i, 1, eq - 1)] = substr($i, eq + 1) }
                if (index(f["MESSAGE"], text)) { print f["__REALTIME_TIMESTAMP"]; exit }
            }'
}
said() { [ -n "$(unit_line_us "$1" "$2")" ]; }
mib() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1048576 }'; }

# Each look (journalctl in the container) costs CPU that a spinning service,
# judged by whether it gets a full core, would miss: look every 5 s.
wait_slowly() { wait_every 5 "$@"; }

# at SECONDS: sleeps until SECONDS after the services' start.
at() {
    left=$((t0_s + $1 - $(date +%s)))
    [ "$left" -le 0 ] || sleep "$left"
}
# seconds_left SECONDS: how long until SECONDS after the services' start (at least 1).
seconds_left() {
    left=$((t0_s + $1 - $(date +%s)))
    [ "$left" -ge 1 ] || left=1
    echo "$left"
}

# Every 2 s, what healerd's signals of the watched units say, from healctl
# detect --json: "EPOCH_S METRIC FIRING VALUE" per verdict.
sample_signals() {
    while [ ! -e "$work/stop-sampling" ] && kill -0 "$pid1" 2>/dev/null; do
        healctl detect --json 2>/dev/null | awk -v t="$(date +%s)" '
            /"metric":/ { m = $2 } /"anomalous":/ { a = $2 } /"value":/ { v = $2 }
            /^ *\},?$/ { if (m != "") { s = t " " m " " a " " v; gsub(/[",]/, "", s); print s } m = a = v = "" }' \
            >>"$work/signals" || true
        sleep 2
    done
}
: >"$work/signals"
: >"$work/results"
sample_signals &
sampler=$!

# healerd_cpu_ticks: healerd's user + system CPU time so far, in clock ticks.
healerd_pid() { in_ct systemctl show -p MainPID --value healerd; }
healerd_cpu_ticks() { in_ct cat "/proc/$(healerd_pid)/stat" | awk '{ print $14 + $15 }'; }

# ---- crashloop: restarted by systemd, never down for long -------------------------------------

at "$CRASH_FAULT_S"
cpu_ticks0=$(healerd_cpu_ticks)
crash_t0=$(now_us)
in_ct touch /run/heal-crash.go
in_ct systemctl kill "$CRASH"
say "$CRASH killed; from now on each start exits 1 after 2 s, and Restart=always starts it again after 1 s"
wait_for 60 detected_since "$crash_t0" "$CRASH" || check_failed "$CRASH: the crash loop was not detected within 60s"
in_ct rm -f /run/heal-crash.go
read -r crash_us crash_signal _ _ _ crash_message <<EOF
$(detections "$crash_t0" "$CRASH" | head -n 1)
EOF
crash_restarts=$(in_ct systemctl show -p NRestarts --value "$CRASH")
crash_runs() { [ "$(in_ct systemctl is-active "$CRASH")" = active ] && in_ct pgrep -f '^sleep infinity' >/dev/null; }
wait_for 30 recovered_since "$crash_t0" "$CRASH" || check_failed "$CRASH: no recovery started within 30s of the detection"
wait_for 30 crash_runs || check_failed "$CRASH does not run again once its trigger is gone"
crash_action=$(recoveries "$crash_t0" "$CRASH" | head -n 1 | cut -d' ' -f2)
echo "scenario=crash_loop signal=${crash_signal:-none} detected_after_s=$(seconds_since "$crash_t0" "${crash_us:-$crash_t0}") nrestarts_then=$crash_restarts action=${crash_action:-none}" |
    tee -a "$work/results"
say "$CRASH detection: ${crash_message:-none}"
[ "${crash_signal:-}" = crash_loop ] || check_failed "$CRASH: detected by '${crash_signal:-nothing}', not crash_loop"

# ---- web: the probe sees a process that runs and answers nothing -------------------------------

at "$WEB_FAULT_S"
web_t0=$(now_us)
in_ct systemctl kill -s STOP "$WEB"
say "$WEB stopped with SIGSTOP (it runs, at 0 % CPU, and answers nothing)"
wait_for 30 detected_since "$web_t0" "$WEB" || check_failed "$WEB: the hang was not detected within 30s"
wait_for 30 recovered_since "$web_t0" "$WEB" || check_failed "$WEB: no recovery started within 30s of the hang"
wait_for 30 web_answers || check_failed "$WEB does not answer after its recovery"
read -r web_us web_signal _ _ _ _ <<EOF
$(detections "$web_t0" "$WEB" | head -n 1)
EOF
web_action=$(recoveries "$web_t0" "$WEB" | head -n 1 | cut -d' ' -f2)
echo "scenario=web_probe signal=${web_signal:-none} detected_after_s=$(seconds_since "$web_t0" "${web_us:-$web_t0}") bar_s=5.0 action=${web_action:-none} answers=$(web_answers && echo yes || echo no)" |
    tee -a "$work/results"
[ "${web_signal:-}" = probe ] || check_failed "$WEB: detected by '${web_signal:-nothing}', not its probe"
[ "${web_action:-}" = restart ] || check_failed "$WEB: the first action was '${web_action:-none}', not restart"

# ---- leak: predicted before it reaches MemoryMax ------------------------------------------------

at "$LEAK_FAULT_S"
leak_t0=$(now_us)
in_ct touch /run/heal-leak.go
say "$LEAK told to leak 20 MiB/s up to 300 MiB (its MemoryMax=300M)"
wait_slowly 60 detected_since "$leak_t0" "$LEAK" || check_failed "$LEAK: not detected within 60s of the leak's start"
wait_slowly 60 said "$LEAK" "leak: rss reached" || check_failed "$LEAK: the program never said its RSS reached 300 MiB"
wait_slowly 30 recovered_since "$leak_t0" "$LEAK" || check_failed "$LEAK: no recovery started within 30s"
start_us=$(unit_line_us "$LEAK" "leak: growing")
full_us=$(unit_line_us "$LEAK" "leak: rss reached")
read -r leak_us leak_signal leak_value _ leak_held leak_message <<EOF
$(detections "$leak_t0" "$LEAK" | head -n 1)
EOF
leak_left=$(echo "${leak_message:-}" | sed -n 's/.* in \([0-9.]*\) s, within.*/\1/p')
leak_action=$(recoveries "$leak_t0" "$LEAK" | head -n 1 | cut -d' ' -f2)
echo "scenario=memory_leak signal=${leak_signal:-none} detected_after_s=$(seconds_since "${start_us:-$leak_t0}" "${leak_us:-$leak_t0}") memory_mib=$(mib "${leak_value:-0}") limit_mib=300 predicted_left_s=${leak_left:--} held_s=${leak_held:--} reached_300_after_s=$(seconds_since "${start_us:-$leak_t0}" "${full_us:-$leak_t0}") action=${leak_action:-none}" |
    tee -a "$work/results"
say "$LEAK detection: ${leak_message:-none}"
[ "${leak_signal:-}" = memory_leak ] || check_failed "$LEAK: detected by '${leak_signal:-nothing}', not memory_leak"
awk -v v="${leak_value:-$LEAK_LIMIT}" -v limit="$LEAK_LIMIT" 'BEGIN { exit !(v + 0 < limit + 0) }' ||
    check_failed "$LEAK: detected at $(mib "${leak_value:-$LEAK_LIMIT}") MiB, not before 300 MiB"
if [ -n "${leak_us:-}" ] && [ -n "$full_us" ] && [ "$leak_us" -ge "$full_us" ]; then
    check_failed "$LEAK: detected $(seconds_since "$full_us" "$leak_us")s after its RSS reached 300 MiB"
fi

# ---- runaway: a child pinned on a core, above its baseline ---------------------------------------

at "$RUNAWAY_FAULT_S"
runaway_t0=$(now_us)
in_ct touch /run/heal-runaway.go
say "$RUNAWAY told to spin a core ($(seconds_since "$T0" "$runaway_t0")s of baseline)"
wait_slowly "$(seconds_left "$WATCH_S")" detected_since "$runaway_t0" "$RUNAWAY" ||
    check_failed "$RUNAWAY: not detected before the end of the watch"
spin_us=$(unit_line_us "$RUNAWAY" "runaway: child spinning")
read -r runaway_us runaway_signal _ _ runaway_held _ <<EOF
$(detections "$runaway_t0" "$RUNAWAY" | head -n 1)
EOF
wait_slowly "$(seconds_left "$WATCH_S")" recovered_since "$runaway_t0" "$RUNAWAY" ||
    check_failed "$RUNAWAY: no recovery started"
runaway_action=$(recoveries "$runaway_t0" "$RUNAWAY" | head -n 1 | cut -d' ' -f2)
# What cpu_saturation judged, from the sampler: runaway's demand (its CPU,
# or a full core while a thread of it is runnable) between its start and its
# detection (or now), in percent of one core.
runaway_demand=$(awk -v from="$(((${spin_us:-$runaway_t0} / 1000000) + 1))" -v to="$((${runaway_us:-$(now_us)} / 1000000))" \
        -v metric="unit:$RUNAWAY:cpu_saturation" '$2 == metric && $1 >= from && $1 <= to { print $4 }' "$work/signals" |
    sort -n | awk '{ v[NR] = $1; if ($1 >= 95) pinned++ }
        END { if (NR) printf "min=%.0f%%,median=%.0f%%,pinned=%d/%d", v[1], v[int((NR + 1) / 2)], pinned, NR; else printf "-" }')
echo "scenario=cpu_runaway signal=${runaway_signal:-none} detected_after_s=$(seconds_since "${spin_us:-$runaway_t0}" "${runaway_us:-$runaway_t0}") bar_s=62.0 held_s=${runaway_held:--} action=${runaway_action:-none} demand_sampled=$runaway_demand" |
    tee -a "$work/results"
[ "${runaway_signal:-}" = cpu_saturation ] || check_failed "$RUNAWAY: detected by '${runaway_signal:-nothing}', not cpu_saturation"

# ---- burst: healthy all along ---------------------------------------------------------------

at "$WATCH_S"
touch "$work/stop-sampling"
wait "$sampler" || true
burst_detections=$(detections "$T0" "$BURST" | wc -l)
burst_recoveries=$(recoveries "$T0" "$BURST" | wc -l)
burst_actions=$(actions | awk -v unit="$BURST" '$1 == unit' | wc -l)
# Firing episodes of each of burst's signals (a sample that fires after one
# that did not), its peak CPU and how many samples were taken.
burst_signals=$(awk -v prefix="unit:$BURST:" 'index($2, prefix) == 1 {
        name = substr($2, length(prefix) + 1)
        if ($3 == "true" && last[name] != "true") fired[name]++
        last[name] = $3; seen[name] = 1
        if (name == "cpu_saturation" && $4 + 0 > peak) peak = $4 + 0 }
    END { for (name in seen) { printf "%s%s=%d", sep, name, fired[name]; sep = "," } printf " peak_demand=%.0f%%", peak }' "$work/signals")
samples=$(awk '{ print $1 }' "$work/signals" | sort -u | wc -l)
echo "scenario=burst watched_s=$(seconds_since "$T0" "$(now_us)") actions=$burst_actions recovery_started=$burst_recoveries failure_detected=$burst_detections fired(samples=$samples,every_2s):$burst_signals" |
    tee -a "$work/results"
[ "$burst_recoveries" -eq 0 ] || check_failed "$BURST: $burst_recoveries recovery_started record(s): $(recoveries "$T0" "$BURST" | tr '\n' ' ')"
[ "$burst_actions" -eq 0 ] || check_failed "$BURST: healctl actions --json shows $burst_actions action(s)"
[ "$burst_detections" -eq 0 ] || say "$BURST: failure_detected: $(detections "$T0" "$BURST" | cut -d' ' -f2-)"

# ---- the same history, replayed ---------------------------------------------------------------

# healctl replay judges healerd's stored history of this watch again, with
# the same configuration, from the database read beside the running healerd:
# on a real systemd host, the healthy unit raises nothing and each faulty
# one what healerd raised. Each of "targets" is read up to its closing brace,
# whatever the order of its keys.
in_ct healctl replay --json --since "@$((T0 / 1000000))" >"$work/replay.json" ||
    check_failed "healctl replay over the stored history failed: $(cat "$work/replay.json")"
awk '/^  "targets":/ { targets = 1 } !targets { next }
     /^      "unit":/ { u = $2; gsub(/[",]/, "", u) } /^      "ticks":/ { t = $2 + 0 }
     /^      "stored_failures":/ { s = $2 + 0 } /^      "replayed_failures":/ { r = $2 + 0 }
     /^    \}/ { print (u == "" ? "machine" : u), t, s, r; u = t = s = r = "" }' "$work/replay.json" >"$work/replayed"
replayed() { awk -v unit="$1" '$1 == unit { print $4 }' "$work/replayed"; }
echo "scenario=replay $(awk '{ printf "%s%s:ticks=%s,stored=%s,replayed=%s", sep, $1, $2, $3, $4; sep = " " }' "$work/replayed")" |
    tee -a "$work/results"
[ "$(replayed "$BURST")" = 0 ] || check_failed "$BURST: the replay of its stored history raised '$(replayed "$BURST")' failure(s), not 0"
for faulty in "$CRASH" "$WEB" "$LEAK" "$RUNAWAY"; do
    [ "$(replayed "$faulty")" -ge 1 ] 2>/dev/null || check_failed "$faulty: the replay of its stored history raised '$(replayed "$faulty")' failure(s), not at least 1"
done

# ---- healerd's own cost ----------------------------------------------------------------------

cpu_ticks1=$(healerd_cpu_ticks)
hz=$(getconf CLK_TCK)
watched_ticks=$(((WATCH_S - CRASH_FAULT_S) * 2))  # SampleIntervalSec=500ms
read -r rss_kib hwm_kib <<EOF
$(in_ct cat "/proc/$(healerd_pid)/status" | awk '/^VmRSS:/ { r = $2 } /^VmHWM:/ { h = $2 } END { print r, h }')
EOF
echo "scenario=overhead units=5 probes=1 ticks=$watched_ticks cpu_ms_per_tick=$(awk -v a="$cpu_ticks0" -v b="$cpu_ticks1" -v hz="$hz" -v n="$watched_ticks" 'BEGIN { printf "%.3f", (b - a) * 1000 / hz / n }') bar_cpu_ms=1.0 rss_mib=$(awk -v k="$rss_kib" 'BEGIN { printf "%.1f", k / 1024 }') peak_rss_mib=$(awk -v k="$hwm_kib" 'BEGIN { printf "%.1f", k / 1024 }') bar_rss_mib=8.0" |
    tee -a "$work/results"

say "every recovery started since the services' start (UNIT ACTION):"
journal_events "$T0" | awk -v id="$ID_RECOVERY_STARTED" '$2 == id { print "    " $3, $4 }'
ct_finish
