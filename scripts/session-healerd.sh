# Sourced: starts `healerd --user` on the session bus (DBUS_SESSION_BUS_ADDRESS)
# and waits until it answers. Shared by scripts/walkthrough.sh and the benchmarks.
#   start_session_healerd BUILD_DIR STATE_DIR [healerd options...]
# defines healctl() (healctl --user), logs to STATE_DIR/healerd.log, and stops
# healerd and removes STATE_DIR on exit.
start_session_healerd() {
    heal_build=$1
    heal_state=$2
    shift 2
    "$heal_build/daemon/healerd" --user --state-dir "$heal_state" "$@" 2>"$heal_state/healerd.log" &
    heal_daemon=$!
    trap 'kill "$heal_daemon" 2>/dev/null; wait "$heal_daemon" 2>/dev/null; rm -rf "$heal_state"' EXIT INT TERM
    # healerd sends READY=1 right after taking its bus name; here, the first answer counts.
    i=0
    until healctl summary >/dev/null 2>&1; do
        i=$((i + 1))
        [ "$i" -lt 50 ] || { echo "healerd did not start:" >&2; cat "$heal_state/healerd.log" >&2; exit 1; }
        sleep 0.2
    done
}
healctl() { "$heal_build/ctl/healctl" --user "$@"; }
