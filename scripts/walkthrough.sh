#!/bin/sh
# The healctl walk-through of scripts/run.sh; expects a session bus
# (DBUS_SESSION_BUS_ADDRESS) and the build directory as $1.
set -eu
build=$1
state=$(mktemp -d /tmp/healerd-walkthrough.XXXXXX)
cat > "$state/healerd.conf" <<'CONF'
[Monitor]
SampleIntervalSec=1
[Detection]
# The walk-through injects step faults and looks 5 s later: the original
# design's detector counts samples, while the default signals wait for
# ForSec (a minute and more) as they should on real services.
Signals=original
[Recovery]
# The walk-through asks for each recovery itself.
AutoRecover=no
CONF

. "$(dirname "$0")/session-healerd.sh"
start_session_healerd "$build" "$state" --simulated --config "$state/healerd.conf"
# A recovery may fail (that is what healerd learns from): show it and go on.
step() { printf '\n\033[1m$ healctl %s\033[0m\n' "$*"; healctl "$@" || echo "(exit status $?)"; }

echo "healerd is sampling this machine; letting the detector warm up (12 s)..."
sleep 12
step status
step simulate-failure
sleep 5
step detect
step status
step recover
step simulate-failure --kind synthetic
sleep 5
step recover --action restart
step actions
step summary
step train --episodes 20
step policy
step metrics --limit 5
printf '\nhealerd log (stderr):\n'
cat "$state/healerd.log"
