#!/bin/sh
# Wall time of `healctl train` as a user runs it: healerd on the session bus
# (DBUS_SESSION_BUS_ADDRESS; tests/bench/run starts a private one) with the
# simulated backend and metrics, so training is all it does.
# usage: train-wall.sh BUILD_DIR; prints "name value unit" lines.
set -eu
build=$1
state=$(mktemp -d /tmp/healerd-train-bench.XXXXXX)
. "$(dirname "$0")/../../scripts/session-healerd.sh"
start_session_healerd "$build" "$state" --simulated --simulated-metrics

now_ns() { date +%s%N; }
# timed_train NAME [healctl train options]: NAME_wall_s and NAME_episodes.
timed_train() {
    name=$1
    shift
    start=$(now_ns)
    healctl --json train "$@" >"$state/train.json"
    end=$(now_ns)
    grep -q '"status": *"finished"' "$state/train.json" || { cat "$state/train.json" >&2; exit 1; }
    episodes=$(sed -n 's/.*"episodes": *\([0-9]*\).*/\1/p' "$state/train.json")
    awk -v n="$name" -v s="$start" -v e="$end" 'BEGIN { printf "%s_wall_s %.3f s\n", n, (e - s) / 1e9 }'
    echo "${name}_episodes $episodes episodes"
}
timed_train train_default
# The original design's default, 10 episodes, is the one it quotes at 10-60 s.
timed_train train_original_default --episodes 10
