#!/bin/sh
# The healctl walk-through of scripts/run.sh; expects a session bus
# (DBUS_SESSION_BUS_ADDRESS) and the build directory as $1. One story, the
# same on any host: healerd healthy, one injected failure, its detection and
# the reason, the action the policy chooses and why, the recovery, the
# incident resolved once the machine stayed healthy, and the figures. The
# machine, its metrics and every action are simulated (healerd --simulated
# --simulated-metrics): nothing of this host is read for the story or touched.
set -eu
build=$1
state=$(mktemp -d /tmp/healerd-walkthrough.XXXXXX)
cat > "$state/healerd.conf" <<'CONF'
[Monitor]
SampleIntervalSec=1
[Detection]
# The original design's detector: it fires within seconds of the injected
# step fault. The default signals wait for ForSec (a minute and more), as
# they should on real services.
Signals=original
[Recovery]
# The walk-through shows the policy's choice before it runs it.
AutoRecover=no
# Resolved once healthy for 5 s (the default, 60 s, is a long wait here).
StableSec=5s
[Simulation]
# Simulated actions heal with the original design's odds; this seed makes the
# recovery's outcome the same at every run (training draws its own numbers).
Seed=1
CONF

. "$(dirname "$0")/session-healerd.sh"
start_session_healerd "$build" "$state" --simulated --simulated-metrics --config "$state/healerd.conf"
say() { printf '\n# %s\n' "$*"; }
step() { printf '\033[1m$ healctl %s\033[0m\n' "$*"; healctl "$@" || echo "(exit status $?)"; }
# wait_until SECONDS COMMAND...: polls once a second.
wait_until() {
    limit=$1
    shift
    while ! "$@" >/dev/null 2>&1; do
        limit=$((limit - 1))
        [ "$limit" -gt 0 ] || { echo "walkthrough: gave up waiting for: $*" >&2; exit 1; }
        sleep 1
    done
}
incident_resolved() { healctl incidents --json | grep -q '"outcome": "resolved"'; }

say "healerd watches a simulated, quiet machine; its detector learns it for 12 s."
sleep 12
step status

say "Break it: high CPU and memory until something recovers it."
step simulate-failure
wait_until 30 healctl is-failed --quiet
say "healerd sees the failure, and says why:"
step detect

say "What it would run, and why (the policy's choice among what may run now):"
step policy
step recover

say "The incident ends once the machine has stayed healthy for StableSec (5 s here):"
wait_until 60 incident_resolved
step incidents
step actions
step summary

say "Learn from the stored recoveries (PPO on a simulated environment calibrated from them):"
step train --episodes 20
step policy

printf '\nhealerd log (stderr):\n'
cat "$state/healerd.log"
