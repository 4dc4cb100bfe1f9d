#!/bin/sh
# Records the trace corpus of tests/fixtures/traces/: 1 Hz metric traces of
# real programs under real load, as systemd services in a throwaway booted
# container (the system test's plumbing: tests/system/container.sh), with
# faults injected at scheduled times and labelled for exactly their window.
# One `heal-bench record` run samples the machine and every recorded unit at
# once with healerd's own sampler; healerd itself does not run.
#
# Units (heal-*.service), each a separate workload:
#   idle      sleep infinity
#   cron      a full core for 8 s every 40 s; fault cpu_runaway (a child job that never ends)
#   build     g++ -O2 of healerd's lib/ sources, one file after another
#   cpu       stress-ng --cpu 1 --cpu-load 40
#   vm        stress-ng --vm, a fixed 128 MiB working set; fault memory_thrash
#   io        stress-ng --hdd bursts on a real disk
#   web       nginx serving a static page, wrk bursts from another unit; fault hang (SIGSTOP)
#   redis     redis-server, redis-benchmark bursts from another unit
#   gc        a GC-like sawtooth (+100 MiB over 30 s, then freed); fault memory_leak 2 and 20 MiB/s
#   cache     a cache filling to a 192 MiB plateau
#   api       a steady request handler; fault memory_leak 20 and 50 MiB/s
#   worker    a queue worker; faults cpu_runaway (its main process) and crash_loop
# The schedule (below) is for 25 minutes and scales with MINUTES.
#
# usage: record-traces.sh BUILD_DIR OUT_DIR [MINUTES]   (MINUTES 2..30, default 25)
# Writes OUT_DIR/traces.csv.gz and OUT_DIR/traces.meta. Needs root and
# systemd-nspawn like the system test (exits 77 when not root); installs the
# workloads' Debian packages with apt-get when missing. Run by hand: it is in
# no test suite, it takes MINUTES plus about two.
set -eu

usage() { echo "usage: record-traces.sh BUILD_DIR OUT_DIR [MINUTES]   (MINUTES 2..30, default 25)" >&2; exit 2; }
case $# in 2 | 3) ;; *) usage ;; esac
build_arg=$1
out_arg=$2
minutes=${3:-25}
case $minutes in '' | *[!0-9]*) usage ;; esac
if [ "$minutes" -lt 2 ] || [ "$minutes" -gt 30 ]; then usage; fi
SRC=$(cd "$(dirname "$0")/../.." && pwd)

ct_tag=record-traces
DEMO=heal-worker.service  # what container.sh's cleanup shows the journal of on a failure
# shellcheck source-path=SCRIPTDIR source=../system/container.sh
. "$(dirname "$0")/../system/container.sh"
ct_setup "$build_arg"
mkdir -p "$out_arg"
OUT=$(cd "$out_arg" && pwd)
BENCH=$BUILD/tests/bench/heal-bench
[ -x "$BENCH" ] || die "no $BENCH: build the heal-bench target first"

packages=""
for package in stress-ng wrk nginx-light redis-server redis-tools curl gcc g++; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed" || packages="$packages $package"
done
if [ -n "$packages" ]; then
    say "installing$packages"
    # shellcheck disable=SC2086 # one word per package
    DEBIAN_FRONTEND=noninteractive apt-get install -y $packages >"$work/apt.log" 2>&1 ||
        { cat "$work/apt.log" >&2; die "apt-get install$packages failed"; }
fi

# ---- the workloads, bound read-only into the container at /opt/heal-traces --------------

BIN=$work/bin
STATE=/run/heal-traces   # in the container: UNIT.label and UNIT.probe, read by heal-bench record
FAULTS=/run/heal-faults  # in the container: the trigger files the workloads watch
mkdir -p "$BIN/www" "$work/rec" "$work/io"
gcc -O2 -Wall -Wextra -Werror -o "$BIN/memapp" "$SRC/tests/bench/record-traces-memapp.c"
head -c 16384 /dev/zero | tr '\0' 'h' >"$BIN/www/index.html"

cat >"$BIN/cron.sh" <<'EOF'
#!/bin/bash
# A cron-like job: a full core for 8 s every 40 s. Fault cpu_runaway (in a
# child): while /run/heal-faults/cron.spin exists, a job that never finishes.
i=0
spin=
while :; do
    if ((i % 40 == 0)); then timeout 8 bash -c 'while :; do :; done' & fi
    if [[ -e /run/heal-faults/cron.spin && -z $spin ]]; then
        bash -c 'while [[ -e /run/heal-faults/cron.spin ]]; do :; done' &
        spin=$!
    fi
    [[ -e /run/heal-faults/cron.spin ]] || spin=
    ((i++))
    sleep 1
done
EOF
cat >"$BIN/worker.sh" <<'EOF'
#!/bin/bash
# A queue worker: hashes 16 MiB of input every second. Faults: crash_loop
# (while /run/heal-faults/worker.crash exists it exits 1 2 s after each
# start) and cpu_runaway in its main process (while worker.spin exists this
# shell spins).
if [[ -e /run/heal-faults/worker.crash ]]; then sleep 2; echo "worker: cannot start" >&2; exit 1; fi
head -c 16M /dev/urandom >/run/heal-worker.in
while :; do
    sha256sum /run/heal-worker.in >/dev/null
    while [[ -e /run/heal-faults/worker.spin ]]; do :; done
    sleep 1
done
EOF
cat >"$BIN/vm.sh" <<'EOF'
#!/bin/bash
# A fixed 128 MiB working set rewritten continuously. Fault memory_thrash:
# while /run/heal-faults/vm.thrash exists, two more workers map, dirty and
# unmap 256 MiB each, over the unit's MemoryHigh=.
stress-ng --vm 1 --vm-bytes 128M --vm-keep --quiet &
thrash=
while :; do
    if [[ -e /run/heal-faults/vm.thrash && -z $thrash ]]; then
        stress-ng --vm 2 --vm-bytes 256M --quiet &
        thrash=$!
    elif [[ ! -e /run/heal-faults/vm.thrash && -n $thrash ]]; then
        kill "$thrash"
        wait "$thrash"
        thrash=
    fi
    sleep 1
done
EOF
cat >"$BIN/io.sh" <<'EOF'
#!/bin/bash
# Disk writes in bursts: 10 s of stress-ng --hdd every 30 s, on a host directory (a real disk).
while :; do
    stress-ng --hdd 1 --hdd-bytes 64M --temp-path /var/lib/heal-io --timeout 10s --quiet
    sleep 20
done
EOF
cat >"$BIN/build.sh" <<EOF
#!/bin/bash
# A developer's compile loop: healerd's lib/ sources with g++ -O2, one file
# after another, 3 s apart.
cd $SRC
while :; do
    for source in lib/core/*.cpp lib/sampling/*.cpp lib/detection/*.cpp lib/config/*.cpp; do
        g++ -std=c++20 -O2 -Ilib -isystem /usr/include/eigen3 -c "\$source" -o /run/heal-build.o
        sleep 3
    done
done
EOF
cat >"$BIN/web-load.sh" <<'EOF'
#!/bin/bash
# HTTP load on heal-web in bursts: wrk for 15 s (1 thread, 8 connections), then 45 s quiet.
while :; do
    wrk -t1 -c8 -d15s http://127.0.0.1:8080/ >/dev/null
    sleep 45
done
EOF
cat >"$BIN/redis-load.sh" <<'EOF'
#!/bin/bash
# Load on heal-redis in bursts: redis-benchmark SET/GET/LPUSH/LPOP, 50000 each, then 40 s quiet.
while :; do
    redis-benchmark -p 6390 -q -t set,get,lpush,lpop -n 50000 -c 8 -d 512 -r 20000 >/dev/null
    sleep 40
done
EOF
cat >"$BIN/probe.sh" <<'EOF'
#!/bin/bash
# Health probes, each second: an HTTP GET of heal-web and a PING of
# heal-redis, 1 s timeout each; 1 or 0 into /run/heal-traces/UNIT.probe
# (replaced by a rename, so the recorder never reads half a write).
put() { echo "$2" >"/run/heal-traces/$1.probe.tmp" && mv -f "/run/heal-traces/$1.probe.tmp" "/run/heal-traces/$1.probe"; }
while :; do
    if curl -fsS -m 1 -o /dev/null http://127.0.0.1:8080/; then put heal-web.service 1; else put heal-web.service 0; fi
    if [[ $(timeout 1 redis-cli -p 6390 ping 2>/dev/null) == PONG ]]; then put heal-redis.service 1; else put heal-redis.service 0; fi
    sleep 1
done
EOF
printf '%s\n' 'pid /run/heal-web.pid;' 'error_log /var/log/heal-web/error.log;' 'worker_processes 2;' 'events {}' \
    'http { access_log off; server { listen 127.0.0.1:8080; root /opt/heal-traces/www; } }' >"$BIN/nginx.conf"
chmod 0755 "$BIN"/*.sh

# The units: NAME|the [Service] lines, separated by ^.
MEMAPP="/opt/heal-traces/memapp"
UNITS="
heal-idle.service|ExecStart=/bin/sleep infinity
heal-cron.service|ExecStart=/bin/bash /opt/heal-traces/cron.sh
heal-build.service|ExecStart=/bin/bash /opt/heal-traces/build.sh
heal-cpu.service|ExecStart=/usr/bin/stress-ng --cpu 1 --cpu-load 40 --quiet
heal-vm.service|ExecStart=/bin/bash /opt/heal-traces/vm.sh^MemoryHigh=200M
heal-io.service|ExecStart=/bin/bash /opt/heal-traces/io.sh
heal-web.service|ExecStart=/usr/sbin/nginx -c /opt/heal-traces/nginx.conf -g 'daemon off;'
heal-redis.service|ExecStart=/usr/bin/redis-server --port 6390 --bind 127.0.0.1 --save '' --appendonly no --daemonize no
heal-gc.service|ExecStart=$MEMAPP sawtooth $FAULTS/gc.leak $FAULTS/gc.full 300^MemoryMax=300M
heal-cache.service|ExecStart=$MEMAPP cache $FAULTS/cache.leak $FAULTS/cache.full 300
heal-api.service|ExecStart=$MEMAPP steady $FAULTS/api.leak $FAULTS/api.full 300^MemoryMax=300M
heal-worker.service|ExecStart=/bin/bash /opt/heal-traces/worker.sh^Restart=always^RestartSec=1
heal-web-load.service|ExecStart=/bin/bash /opt/heal-traces/web-load.sh
heal-redis-load.service|ExecStart=/bin/bash /opt/heal-traces/redis-load.sh
heal-probe.service|ExecStart=/bin/bash /opt/heal-traces/probe.sh"
RECORDED="heal-idle.service heal-cron.service heal-build.service heal-cpu.service heal-vm.service heal-io.service
heal-web.service heal-redis.service heal-gc.service heal-cache.service heal-api.service heal-worker.service"

# ---- boot --------------------------------------------------------------------------------

# healerd is not installed in the container: ct_boot binds an empty prefix,
# and heal-bench runs from the build, which ct_boot binds read-only.
stage=$work/stage
mkdir -p "$stage$prefix"
ct_boot --bind-ro="$BIN:/opt/heal-traces" --bind="$work/rec:/var/lib/heal-record" \
    --bind="$work/io:/var/lib/heal-io" --bind-ro="$SRC/lib"
# Debian's own units of the same programs, if presets started them: only ours run.
in_ct systemctl stop nginx.service redis-server.service postgresql.service >/dev/null 2>&1 || true
in_ct mkdir -p "$STATE" "$FAULTS" /var/log/heal-web /var/lib/nginx
echo "$UNITS" | while IFS='|' read -r name lines; do
    [ -n "$name" ] || continue
    # A crash loop must go on for minutes: no start limit.
    printf '[Unit]\nStartLimitIntervalSec=0\n[Service]\n%s\n' "$lines" | tr '^' '\n' >"$work/$name"
    put "$work/$name" "/etc/systemd/system/$name"
done
in_ct systemctl daemon-reload
echo "$UNITS" | while IFS='|' read -r name _; do
    [ -z "$name" ] || in_ct systemctl start "$name" </dev/null
done
sleep 3
in_ct curl -fsS -o /dev/null http://127.0.0.1:8080/ || die "heal-web does not answer"
[ "$(in_ct redis-cli -p 6390 ping)" = PONG ] || die "heal-redis does not answer"

# ---- the fault schedule -----------------------------------------------------------------

# label UNIT [NAME]: marks UNIT's ticks with fault NAME from now on (none without NAME).
label() {
    if [ -n "${2:-}" ]; then
        in_ct sh -c "echo $2 >$STATE/$1.label.tmp && mv -f $STATE/$1.label.tmp $STATE/$1.label"
    else
        in_ct rm -f "$STATE/$1.label"
    fi
}
# at T: sleeps until T seconds of the 25-minute schedule, scaled to MINUTES.
at() {
    target=$((rec_start + $1 * minutes / 25))
    now=$(date +%s)
    [ "$target" -le "$now" ] || sleep $((target - now))
}
scaled() { echo $(($1 * minutes / 25)); }
# trigger_for UNIT FILE START END NAME: the workload shows fault NAME while its trigger FILE exists.
trigger_for() {
    at "$3"
    label "$1" "$5"
    in_ct touch "$FAULTS/$2"
    at "$4"
    in_ct rm -f "$FAULTS/$2"
    sleep 2 # the workloads look at their trigger once a second
    label "$1"
}
# leak UNIT NAME RATE START: leaks RATE MiB/s until the unit holds 300 MiB
# (MemoryMax= is not enforced here), at most 300 s, then restarts it.
leak() {
    at "$4"
    label "$1" memory_leak
    in_ct sh -c "echo $3 >$FAULTS/$2.leak"
    i=0
    while [ "$i" -lt 300 ] && ! in_ct test -e "$FAULTS/$2.full"; do sleep 1; i=$((i + 1)); done
    in_ct rm -f "$FAULTS/$2.leak" "$FAULTS/$2.full"
    in_ct systemctl restart "$1"
    label "$1"
}
# hang UNIT START END: every process of UNIT stopped (SIGSTOP), then continued.
hang() {
    at "$2"
    label "$1" hang
    in_ct systemctl kill -s STOP "$1"
    at "$3"
    in_ct systemctl kill -s CONT "$1"
    label "$1"
}
# crash_loop UNIT FILE START END: restarted into a crash loop; after END the
# doomed start in flight exits (2 s) and the next (RestartSec=1) is healthy.
crash_loop() {
    at "$3"
    label "$1" crash_loop
    in_ct touch "$FAULTS/$2"
    in_ct systemctl restart "$1"
    at "$4"
    in_ct rm -f "$FAULTS/$2"
    sleep 4
    label "$1"
}
# START END in seconds of a 25-minute recording (7 minutes healthy before the first).
SCHEDULE="trigger_for heal-worker.service worker.spin 420 510 cpu_runaway
leak heal-api.service api 20 480
leak heal-gc.service gc 2 540
trigger_for heal-cron.service cron.spin 600 720 cpu_runaway
trigger_for heal-vm.service vm.thrash 660 780 memory_thrash
hang heal-web.service 780 840
crash_loop heal-worker.service worker.crash 960 1140
leak heal-api.service api 50 1080
leak heal-gc.service gc 20 1200
hang heal-web.service 1260 1290
trigger_for heal-cron.service cron.spin 1320 1440 cpu_runaway"

# ---- record ------------------------------------------------------------------------------

seconds=$((minutes * 60))
set --
for unit in $RECORDED; do set -- "$@" --unit "$unit"; done
say "recording $(echo "$RECORDED" | wc -w) units for $seconds s; the faults as scheduled (seconds after the start):"
echo "$SCHEDULE" | awk -v m="$minutes" '{
    s = int($(NF - 1) * m / 25); e = int($NF * m / 25)
    if ($1 == "leak") printf "    %s memory_leak %s MiB/s from %d until 300 MiB\n", $2, $4, e
    else if ($1 == "hang") printf "    %s hang %d-%d\n", $2, s, e
    else if ($1 == "crash_loop") printf "    %s crash_loop %d-%d\n", $2, s, e
    else printf "    %s %s %d-%d\n", $2, $6, int($4 * m / 25), int($5 * m / 25) }'
rec_start=$(date +%s)
# Each unit's faults in order in one background job, so a unit's windows never overlap.
fault_jobs=""
for unit in $RECORDED; do
    steps=$(echo "$SCHEDULE" | awk -v unit="$unit" '$2 == unit')
    [ -n "$steps" ] || continue
    (echo "$steps" | while read -r step; do eval "$step" </dev/null; done) &
    fault_jobs="$fault_jobs $!"
done
# Its one line on stderr names the cgroup layout it detected, for traces.meta.
if ! in_ct "$BENCH" record "$@" --seconds "$seconds" --out /var/lib/heal-record/traces.csv --state-dir "$STATE" \
    2>"$work/record.err"; then
    cat "$work/record.err" >&2
    die "heal-bench record failed"
fi
cat "$work/record.err" >&2
# A fault still going when the recording ends (a short MINUTES) ends with it.
# shellcheck disable=SC2086 # one word per job
kill $fault_jobs 2>/dev/null || true
say "recorded $(($(wc -l <"$work/rec/traces.csv") - 1)) rows"

# ---- the corpus --------------------------------------------------------------------------

gzip -9 -c "$work/rec/traces.csv" >"$OUT/traces.csv.gz"
# The fault windows as recorded: each run of ticks with the same label.
windows=$(awk -F, 'NR > 1 && $2 != "" {
        if ($17 != last[$2]) {
            if (last[$2] != "") printf "%s %s %s %s\n", $2, last[$2], start[$2], prev[$2]
            start[$2] = $1
        }
        last[$2] = $17; prev[$2] = $1
    }
    END { for (u in last) if (last[u] != "") printf "%s %s %s %s\n", u, last[u], start[u], prev[u] }' \
    "$work/rec/traces.csv" | sort -k3,3n)
{
    echo "# healerd trace corpus: how traces.csv.gz was recorded"
    echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "host kernel: $(uname -srvm)"
    echo "host cpus: $(nproc), memory: $(awk '/^MemTotal/ { print $2 " kB" }' /proc/meminfo)"
    echo "container: systemd-nspawn --volatile=yes --boot of the host's /usr (tests/system/container.sh), systemd $(in_ct systemctl --version | awk 'NR == 1 { print $2 }')"
    echo "container cgroup layout: $(in_ct sh -c 'ls /sys/fs/cgroup | tr "\n" " "') ($(cat "$work/record.err"))"
    echo "container /proc/1/cgroup:"
    in_ct cat /proc/1/cgroup | sed 's/^/    /'
    echo "recording: $seconds s, 1 tick a second, $(echo "$RECORDED" | wc -w) units + the machine"
    echo "command: heal-bench record $* --seconds $seconds --out traces.csv --state-dir $STATE"
    echo "re-record: tests/bench/record-traces.sh BUILD_DIR OUT_DIR $minutes"
    echo
    echo "## fault windows as recorded (unit label first_t last_t), from the label column"
    echo "$windows" | sed 's/^/    /'
    echo
    echo "## fault schedule (the script's; seconds of a 25-minute recording, scaled by $minutes/25)"
    echo "$SCHEDULE" | sed 's/^/    /'
    echo
    echo "## units (the [Service] lines; StartLimitIntervalSec=0 on all)"
    echo "$UNITS" | sed '/^$/d; s/^/    /'
    echo "recorded: $RECORDED" | tr '\n' ' '
    echo
    for file in cron.sh worker.sh vm.sh io.sh build.sh web-load.sh redis-load.sh probe.sh nginx.conf; do
        echo
        echo "## /opt/heal-traces/$file"
        sed 's/^/    /' "$BIN/$file"
    done
    echo
    echo "## /opt/heal-traces/memapp: tests/bench/record-traces-memapp.c, gcc -O2"
    echo "## heal-web serves /opt/heal-traces/www/index.html, 16 KiB"
} >"$OUT/traces.meta"
say "fault windows (unit label first_t last_t):"
echo "$windows" | sed 's/^/    /'
say "wrote $OUT/traces.csv.gz ($(wc -c <"$OUT/traces.csv.gz") bytes) and $OUT/traces.meta"
