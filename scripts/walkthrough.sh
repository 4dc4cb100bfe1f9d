#!/bin/sh
# The healctl walk-through of scripts/run.sh; expects a session bus
# (DBUS_SESSION_BUS_ADDRESS) and the build directory as $1.
set -eu
build=$1
state=$(mktemp -d /tmp/healerd-walkthrough.XXXXXX)
cat > "$state/healerd.conf" <<'CONF'
[Monitor]
SampleIntervalSec=1
[Recovery]
# The walk-through asks for each recovery itself.
AutoRecover=no
CONF

"$build/daemon/healerd" --user --simulated --state-dir "$state" --config "$state/healerd.conf" \
    2> "$state/healerd.log" &
daemon=$!
trap 'kill "$daemon" 2>/dev/null; wait "$daemon" 2>/dev/null; rm -rf "$state"' EXIT INT TERM

healctl() { "$build/ctl/healctl" --user "$@"; }
# A recovery may fail (that is what healerd learns from): show it and go on.
step() { printf '\n\033[1m$ healctl %s\033[0m\n' "$*"; healctl "$@" || echo "(exit status $?)"; }

# Wait for the bus name (healerd sends READY=1 right after taking it).
i=0
until healctl summary >/dev/null 2>&1; do
    i=$((i + 1))
    [ "$i" -lt 50 ] || { echo "healerd did not start:" >&2; cat "$state/healerd.log" >&2; exit 1; }
    sleep 0.2
done

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
