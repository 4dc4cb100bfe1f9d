#!/bin/sh
# healerd's incident scenarios, against the real PID 1 of a throwaway systemd
# container (container.sh), on services that were not written for healerd:
#   1. a service that dies 2 s after every start (no Restart=): one incident,
#      at most 6 actions, given up with the catalogued message;
#   2. a service that exits 1, with a unit file written a minute before and
#      no rollback hook: restart, resolved; no rollback is ever attempted;
#   3. a leak of 20 MiB/s (up to 1.5 GiB) under MemoryMax=300M, from its start
#      (the limit is not enforced in the container): at most one scale_up per
#      incident, and never two in a row;
#   4. nginx killed with SIGKILL: restarted, resolved;
#   5. nginx paused (healctl pause --for 2min), healerd restarted, nginx
#      killed: no action while paused, restarted once resumed;
#   6. systemctl stop of watched units: no incident, nothing started again,
#      and healctl status shows them stopped on purpose;
#   7. DryRun=yes: the crash is logged as what would be done, stored as a
#      dry_run attempt, never as failed, and the breaker stays closed;
#   8. nginx stopped with SIGSTOP (it runs, at 0 % CPU, and answers nothing):
#      its HTTP health probe (units.d [Probe], 1 s interval, 3 failures)
#      sees it, and a restart resolves it. The time to detection is printed
#      beside its goal (interval x threshold + 2 s), not asserted;
#   9. a service that grows 20 MiB/s to 220 MiB under MemoryMax=300M and then
#      holds, allowed only scale_up: MemoryMax is raised within its 2x ceiling,
#      and put back to 300M once it has been stable for ScaleUpExpireSec=15s
#      (systemctl show before, after the raise, after the expiry); then
#      raised again with ScaleUpExpireSec=1h and killed: the raise is put
#      back once the incident its restart healed is resolved; then
#      systemctl set-property --runtime MemoryMax=350M: the time until
#      healctl status --json shows it is printed beside its goal (2 s);
#  10. a package-owned program under a unit file written by the test (nginx,
#      dpkg's records bound into the container) is not freshly deployed:
#      killed while paused, healctl policy would restart it, not roll it
#      back; once /var/log/dpkg.log records an upgrade of the package owning
#      /usr/sbin/nginx, it would roll it back;
#  11. (after 6) healctl policy on the machine offers no action, not even
#      do_nothing: a real host is observed, never recovered;
#  12. (with 1) OnGiveUp=healerd-alert@.service: the shipped example alert
#      runs for the given-up crash loop's incident and logs its details.
# healerd runs with its defaults except the sample interval (500ms), the
# validation timeout (20s, as in the system test) and, to fit the test's
# time, StableSec=20s. Prints one line per scenario:
#   scenario=S incidents=N actions=A sequence=a,b,c outcome=O
#
# usage: incident-test.sh BUILD_DIR (root; exits 77, skipped, otherwise)
set -eu

ct_tag=incident-test
DEMO=healerd-demo.service
# shellcheck source-path=SCRIPTDIR source=container.sh
. "$(dirname "$0")/container.sh"
ct_setup "${1:?usage: incident-test.sh BUILD_DIR}"

LOOP=heal-crashloop.service
EXIT1=heal-exit1.service
LEAK=heal-leak.service
NGINX=heal-nginx.service
GROW=heal-grow.service

ct_stage
# dpkg's records, so that healerd can tell which package owns a program.
ct_boot --bind-ro=/var/lib/dpkg

# unit NAME BODY: writes a unit file into the container.
unit() { printf '%s\n' "$2" | in_ct sh -c "cat > /etc/systemd/system/$1"; }

unit "$LOOP" '[Service]
ExecStart=/bin/sh -c "sleep 2; exit 1"'
# Runs until /run/heal-exit1.crash appears, then exits 1.
unit "$EXIT1" '[Service]
ExecStart=/bin/sh -c "while [ ! -e /run/heal-exit1.crash ]; do sleep 0.2; done; rm -f /run/heal-exit1.crash; exit 1"'
unit "$LEAK" '[Service]
MemoryMax=300M
ExecStart=/usr/bin/perl -e "my @a; while (1) { push @a, q(x) x 1048576 if @a < 1500; select(undef, undef, undef, 0.05) }"'
# Holds until /run/heal-grow.go appears (it removes it), then grows 1 MiB every
# 50 ms to 220 MiB and holds: a cache warming up, not a leak without end.
unit "$GROW" '[Service]
MemoryMax=300M
ExecStart=/usr/bin/perl -e "my @a; until (-e q(/run/heal-grow.go)) { select(undef, undef, undef, 0.2) } unlink q(/run/heal-grow.go); while (1) { push @a, q(x) x 1048576 if @a < 220; select(undef, undef, undef, 0.05) }"'
# /var is empty in the volatile container: nginx needs its own state directory.
in_ct mkdir -p /etc/heal-nginx /var/log/heal-nginx /var/lib/nginx
printf '%s\n' 'pid /run/heal-nginx.pid;' 'error_log /var/log/heal-nginx/error.log;' 'events {}' \
    'http { access_log off; server { listen 127.0.0.1:8089; location / { return 200 "ok\n"; } } }' |
    in_ct sh -c 'cat > /etc/heal-nginx/nginx.conf'
unit "$NGINX" "[Service]
ExecStart=/usr/sbin/nginx -c /etc/heal-nginx/nginx.conf -g 'daemon off;'"

ct_install_healerd 500ms "$DEMO" "$LOOP" "$EXIT1" "$LEAK" "$NGINX" "$GROW"
# Defaults again where healerd_settings departs from them for the demo: the
# package-change window makes the freshly written heal-exit1 a recent deploy.
# The shipped example alert, started when an incident is given up.
in_ct sh -c 'printf "[Recovery]\nPackageChangeWindowSec=1h\nStableSec=20s\nScaleUpExpireSec=15s\nOnGiveUp=healerd-alert@.service\n" > /etc/healerd/healerd.conf.d/zz-incidents.conf'
in_ct mkdir -p /etc/healerd/units.d
printf '%s\n' '[Unit]' 'AllowedActions=scale_up' 'MemoryMaxCeiling=2x' | in_ct sh -c "cat > /etc/healerd/units.d/$GROW.conf"
printf '%s\n' '[Probe]' 'Probe=http http://127.0.0.1:8089/' 'ProbeIntervalSec=1s' 'ProbeTimeoutSec=500ms' \
    'ProbeFailureThreshold=3' | in_ct sh -c "cat > /etc/healerd/units.d/$NGINX.conf"
in_ct systemctl reload healerd
for service in "$EXIT1" "$LEAK" "$NGINX" "$GROW"; do in_ct systemctl start "$service"; done
say "waiting for healerd to judge the services healthy"
sleep 15
in_ct curl -fsS http://127.0.0.1:8089/ >/dev/null || die "$NGINX does not answer before the test"

ID_INCIDENT_RESOLVED=f14420d8ee994742ac4c3a5f56927b50
ID_INCIDENT_GIVEN_UP=6b1c2e0a7d8f4c39a5e2b7d410f3c8e1
ID_UNIT_STOPPED=ba54134aa5c3400b976f02f5c06ac508
ID_FAILURE_DETECTED=65deafd6e8fa45a6aae003ff1d58906e
ID_LIMIT_RAISED=a4746c28741b422985dce5d63b3024a6
ID_LIMIT_RESTORED=09eb5061c5fe44bfa9af18d3f17ff1ea

# unit_actions UNIT: that unit's attempts as "ACTION RESULT", oldest first.
unit_actions() { actions | awk -v unit="$1" '$1 == unit { print $2, $3 }' | tac; }
sequence() { unit_actions "$1" | awk '{ printf "%s%s", sep, $1; sep = "," }'; }
# unit_incidents UNIT: that unit's incidents as "ID OUTCOME", oldest first.
unit_incidents() {
    healctl incidents --json --limit 1000 | awk -v want="\"$1\"," '
        /^  \{/ { id = ""; unit = ""; outcome = "" }
        /"id":/ { id = $2 } /"unit":/ { unit = $2 } /"outcome":/ { outcome = $2 }
        /^  \}/ { if (unit == want) { gsub(/[",]/, "", id); gsub(/[",]/, "", outcome); print id, outcome } }'
}
# event_since T0 ID UNIT: the journal has a MESSAGE_ID entry for UNIT since T0.
event_since() { journal_events "$1" | awk -v id="$2" -v unit="$3" '$2 == id && $3 == unit { found = 1 } END { exit !found }'; }
report() {
    echo "scenario=$1 incidents=$(unit_incidents "$2" | wc -l) actions=$(unit_actions "$2" | wc -l) sequence=$(sequence "$2") outcome=$(unit_incidents "$2" | tail -n 1 | cut -d' ' -f2)" |
        tee -a "$work/results"
}
: >"$work/results"

# ---- 1, 2, 3, 4 at once: each its own unit and incident --------------------------------

t0=$(now_us)
in_ct systemctl start "$LOOP"
in_ct touch /run/heal-exit1.crash
in_ct systemctl kill -s KILL "$NGINX"
say "crash loop started, $EXIT1 crashed, $NGINX killed; the leak grows"

wait_for 120 event_since "$t0" "$ID_INCIDENT_RESOLVED" "$EXIT1" || check_failed "$EXIT1: no incident resolved within 120s"
report exit1_fresh_no_hook "$EXIT1"
case "$(sequence "$EXIT1")" in
    *rollback*) check_failed "$EXIT1: rollback attempted without a hook ($(sequence "$EXIT1"))" ;;
    restart*) ;;
    *) check_failed "$EXIT1: expected restart first, got '$(sequence "$EXIT1")'" ;;
esac
[ "$(in_ct systemctl is-active "$EXIT1")" = active ] || check_failed "$EXIT1 is not active"

wait_for 60 event_since "$t0" "$ID_INCIDENT_RESOLVED" "$NGINX" || check_failed "$NGINX: no incident resolved within 60s"
report nginx_sigkill "$NGINX"
[ "$(sequence "$NGINX")" = restart ] || check_failed "$NGINX: expected one restart, got '$(sequence "$NGINX")'"
in_ct curl -fsS http://127.0.0.1:8089/ >/dev/null || check_failed "$NGINX does not answer after its recovery"

# The crash loop for 3 minutes at most.
wait_for 180 event_since "$t0" "$ID_INCIDENT_GIVEN_UP" "$LOOP" || check_failed "$LOOP: not given up within 180s"
sleep 15  # nothing more may happen once given up
report crash_loop "$LOOP"
[ "$(unit_incidents "$LOOP" | wc -l)" -eq 1 ] || check_failed "$LOOP: $(unit_incidents "$LOOP" | wc -l) incidents, expected 1"
[ "$(unit_actions "$LOOP" | wc -l)" -le 6 ] || check_failed "$LOOP: $(unit_actions "$LOOP" | wc -l) actions, expected at most 6"
[ "$(unit_incidents "$LOOP" | tail -n 1 | cut -d' ' -f2)" = given_up ] || check_failed "$LOOP: its incident is not given up"
# OnGiveUp=: the shipped healerd-alert@.service ran for that incident, with its details.
loop_incident=$(unit_incidents "$LOOP" | tail -n 1 | cut -d' ' -f1)
alert_said() { in_ct journalctl -t healerd-alert --no-pager -o cat | grep -F "healerd gave up on $LOOP (incident $loop_incident,"; }
if wait_for 30 alert_said; then
    echo "scenario=give_up_alert unit=healerd-alert@$loop_incident.service journal=\"$(alert_said | head -n 1)\"" | tee -a "$work/results"
else
    check_failed "$LOOP: no healerd-alert@$loop_incident.service line in the journal (journalctl -t healerd-alert: $(in_ct journalctl -t healerd-alert --no-pager -o cat | tail -n 2))"
fi
in_ct journalctl -u healerd -o export --no-pager --since "@$((t0 / 1000000))" | grep -q "^ALERT_UNIT=healerd-alert@$loop_incident.service$" ||
    check_failed "healerd logged no alert for incident $loop_incident (MESSAGE_ID 328e039a...)"

report memory_leak "$LEAK"
leak_sequence=$(sequence "$LEAK")
# A leak without end relapses after each restart: its raise stays while the incident is open.
echo "scenario=memory_leak_raise memory_max=$(in_ct systemctl show "$LEAK" -P MemoryMax) limits_put_back=$(journal_events "$t0" | awk -v id="$ID_LIMIT_RESTORED" -v unit="$LEAK" '$2 == id && $3 == unit' | wc -l)" |
    tee -a "$work/results"
[ -n "$leak_sequence" ] || check_failed "$LEAK: healerd did nothing about the leak"
case ",$leak_sequence," in
    *,scale_up,scale_up,*) check_failed "$LEAK: two scale_ups in a row ($leak_sequence)" ;;
esac
# At most one scale_up per incident: attempts carry their incident's id in the journal.
in_ct journalctl -u healerd -o export --no-pager --since "@$((t0 / 1000000))" | awk -v unit="$LEAK" '
    BEGIN { RS = ""; FS = "\n" }
    { delete f; for (i = 1; i <= NF; i++) { eq = index($i, "="); if (eq) f[substr($i, 1, eq - 1)] = substr($i, eq + 1) } }
    f["MESSAGE_ID"] == "55f0167693b441518f3b52c34512d162" && f["UNIT"] == unit && f["ACTION"] == "scale_up" { n[f["INCIDENT_ID"]]++ }
    END { for (id in n) if (n[id] > 1) { print id, n[id]; bad = 1 } exit bad }' >"$work/leak" ||
    check_failed "$LEAK: more than one scale_up in one incident: $(cat "$work/leak")"

# ---- the operator pauses nginx for maintenance ------------------------------------------

t0=$(now_us)
healctl pause "$NGINX" --for 2min >/dev/null || check_failed "healctl pause $NGINX failed"
in_ct systemctl restart healerd || check_failed "systemctl restart healerd failed"
healctl status --json | grep -q "\"unit\": \"$NGINX\"" || check_failed "the pause of $NGINX did not survive a restart of healerd"
nginx_actions=$(unit_actions "$NGINX" | wc -l)
in_ct systemctl kill -s KILL "$NGINX"
sleep 15  # many ticks with the unit down
paused_actions=$(unit_actions "$NGINX" | wc -l)
paused_state=$(in_ct systemctl is-active "$NGINX" || true)
healctl resume "$NGINX" >/dev/null || check_failed "healctl resume $NGINX failed"
wait_for 60 event_since "$t0" "$ID_INCIDENT_RESOLVED" "$NGINX" || check_failed "$NGINX: not recovered within 60s of resume"
echo "scenario=pause actions_before=$nginx_actions actions_while_paused=$paused_actions state_while_paused=$paused_state actions_after_resume=$(unit_actions "$NGINX" | wc -l) nginx=$(in_ct systemctl is-active "$NGINX" || true)" |
    tee -a "$work/results"
[ "$paused_actions" -eq "$nginx_actions" ] || check_failed "$NGINX was acted on while paused"
[ "$paused_state" != active ] || check_failed "$NGINX was started again while paused"
in_ct curl -fsS http://127.0.0.1:8089/ >/dev/null || check_failed "$NGINX does not answer after resume"

# ---- 8. nginx hangs: only its health probe can tell ------------------------------------

nginx_before=$(unit_actions "$NGINX" | wc -l)
t0=$(now_us)
in_ct systemctl kill -s STOP "$NGINX"
wait_for 30 event_since "$t0" "$ID_FAILURE_DETECTED" "$NGINX" || check_failed "$NGINX: the hang was not detected within 30s"
detected=$(journal_events "$t0" | awk -v id="$ID_FAILURE_DETECTED" -v unit="$NGINX" '$2 == id && $3 == unit { print $1; exit }')
wait_for 60 event_since "$t0" "$ID_INCIDENT_RESOLVED" "$NGINX" || check_failed "$NGINX: the hang was not resolved within 60s"
hang_sequence=$(unit_actions "$NGINX" | tail -n "+$((nginx_before + 1))" | awk '{ printf "%s%s", sep, $1; sep = "," }')
echo "scenario=nginx_hang detected_after_s=$(seconds_since "$t0" "${detected:-$t0}") goal_s=5.0 sequence=$hang_sequence nginx=$(in_ct systemctl is-active "$NGINX" || true)" |
    tee -a "$work/results"
[ "$hang_sequence" = restart ] || check_failed "$NGINX: expected one restart for the hang, got '$hang_sequence'"
in_ct curl -fsS --max-time 2 http://127.0.0.1:8089/ >/dev/null || check_failed "$NGINX does not answer after the hang"

# ---- 9. a raised limit goes back once the unit is stable ---------------------------------

memory_max() { in_ct systemctl show "$GROW" -P MemoryMax; }
# healctl status --json lists a raised limit of the unit.
raise_shown() { healctl status --json | tr -d ' \n' | grep -q "\"raised_limits\":\[[^]]*\"unit\":\"$GROW\""; }
# raise_put_back_since T0: the journal says the limits of $GROW were put back since T0 (µs).
raise_put_back_since() { journal_events "$1" | awk -v id="$ID_LIMIT_RESTORED" -v unit="$GROW" '$2 == id && $3 == unit { print $1; exit }'; }
limit_before=$(memory_max)
t0=$(now_us)
in_ct touch /run/heal-grow.go
say "$GROW told to grow to 220 MiB under MemoryMax=300M; only scale_up is allowed on it"
wait_for 90 event_since "$t0" "$ID_LIMIT_RAISED" "$GROW" || check_failed "$GROW: no limit raised within 90s"
raised_us=$(journal_events "$t0" | awk -v id="$ID_LIMIT_RAISED" -v unit="$GROW" '$2 == id && $3 == unit { print $1; exit }')
limit_raised=$(memory_max)
wait_for 5 raise_shown && shown_raised=yes || shown_raised=no
wait_for 120 event_since "$t0" "$ID_LIMIT_RESTORED" "$GROW" || check_failed "$GROW: the raised limit was not put back within 120s"
restored_us=$(raise_put_back_since "$t0")
limit_after=$(memory_max)
raise_not_shown() { ! raise_shown; }
wait_for 5 raise_not_shown && shown_after=no || shown_after=yes
echo "scenario=raise_expiry memory_max_before=$limit_before raised=$limit_raised after_expiry=$limit_after raised_after_s=$(seconds_since "$t0" "${raised_us:-$t0}") restored_after_s=$(seconds_since "$t0" "${restored_us:-$t0}") status_shows_raise=$shown_raised status_after=$shown_after sequence=$(sequence "$GROW")" |
    tee -a "$work/results"
case "$limit_before$limit_raised$limit_after" in
    *[!0-9]*) check_failed "$GROW: MemoryMax is not a number of bytes (before $limit_before, raised $limit_raised, after $limit_after)" ;;
    *)
        [ "$limit_raised" -gt "$limit_before" ] && [ "$limit_raised" -le $((limit_before * 2)) ] ||
            check_failed "$GROW: MemoryMax was not raised within 2x (before $limit_before, raised $limit_raised)"
        [ "$limit_after" -eq "$limit_before" ] ||
            check_failed "$GROW: MemoryMax is $limit_after after the expiry, not the configured $limit_before"
        ;;
esac
[ "$shown_raised" = yes ] || check_failed "healctl status --json did not show the raise on $GROW"
[ "$shown_after" = no ] || check_failed "healctl status --json still shows a raise on $GROW after it was put back"
[ "$(in_ct systemctl is-active "$GROW")" = active ] || check_failed "$GROW is not active after its limit was put back"

# The same growth with a raise that would last an hour; once raised, only
# restart is allowed: a crash is healed by a restart, and the raise is put
# back as soon as that incident is resolved.
in_ct sh -c 'printf "[Recovery]\nScaleUpExpireSec=1h\n" > /etc/healerd/healerd.conf.d/zz-raise.conf'
in_ct systemctl reload healerd
in_ct systemctl restart "$GROW"
sleep 5
t0=$(now_us)
in_ct touch /run/heal-grow.go
wait_for 90 event_since "$t0" "$ID_LIMIT_RAISED" "$GROW" || check_failed "$GROW: no limit raised within 90s the second time"
printf '%s\n' '[Unit]' 'AllowedActions=restart' | in_ct sh -c "cat > /etc/healerd/units.d/$GROW.conf"
in_ct systemctl reload healerd
t_kill=$(now_us)
in_ct systemctl kill -s KILL "$GROW"
say "$GROW raised again, then killed; its raise lasts an hour unless the restart's incident ends"
wait_for 120 event_since "$t_kill" "$ID_LIMIT_RESTORED" "$GROW" || check_failed "$GROW: the raise was not put back after a restart healed it"
restored_us=$(raise_put_back_since "$t_kill")
echo "scenario=raise_then_restart memory_max_before=$limit_before after=$(memory_max) put_back_after_kill_s=$(seconds_since "$t_kill" "${restored_us:-$t_kill}") sequence=$(sequence "$GROW")" |
    tee -a "$work/results"
[ "$(memory_max)" = "$limit_before" ] || check_failed "$GROW: MemoryMax is $(memory_max) after the restart's incident, not $limit_before"
in_ct rm /etc/healerd/healerd.conf.d/zz-raise.conf
in_ct systemctl reload healerd

# The operator changes the limit at runtime: systemd announces nothing, the
# drop-in systemctl writes tells healerd to ask again.
limit_shown() {
    healctl status --json | tr -d ' \n' | grep -q "\"unit\":\"$GROW\",\"state\":\"[a-z]*\",\"memory_max\":$1,"
}
t0=$(now_us)
in_ct systemctl set-property --runtime "$GROW" MemoryMax=350M
wait_every 0.1 10 limit_shown 367001600 && shown=$(now_us) || shown=
echo "scenario=set_property memory_max=$(memory_max) status_shows_after_s=$( [ -n "$shown" ] && seconds_since "$t0" "$shown" || echo never) goal_s=2.0" |
    tee -a "$work/results"
[ -n "$shown" ] || check_failed "healctl status --json did not show $GROW's MemoryMax=350M within 10s of systemctl set-property"

# ---- 10. a deploy is a new package version, not a new unit file ------------------------

in_ct sh -c "cat > /etc/healerd/rollback.d/$NGINX && chmod 0755 /etc/healerd/rollback.d/$NGINX" <<'EOF'
#!/bin/sh
systemctl restart "$1"
EOF
would_run() { healctl policy --unit "$NGINX" | sed -n 's/^Would run \([a-z_]*\).*/\1/p'; }
healctl pause "$NGINX" >/dev/null || check_failed "healctl pause $NGINX failed"
in_ct systemctl kill -s KILL "$NGINX"
nginx_down() { [ "$(in_ct systemctl is-active "$NGINX" || true)" != active ]; }
wait_for 10 nginx_down || check_failed "$NGINX still runs after SIGKILL"
sleep 2
owner=$(in_ct dpkg-query -S /usr/sbin/nginx 2>/dev/null | cut -d: -f1 || true)
before_upgrade=$(would_run)
[ -n "$owner" ] || check_failed "dpkg-query in the container names no package owning /usr/sbin/nginx"
version=$(in_ct dpkg-query -W -f='${Version}' "${owner:-nginx}" 2>/dev/null || echo 1.0)
in_ct sh -c "echo \"\$(date '+%Y-%m-%d %H:%M:%S') upgrade ${owner:-nginx}:amd64 0.9-test $version\" >> /var/log/dpkg.log"
after_upgrade=$(would_run)
healctl resume "$NGINX" >/dev/null || check_failed "healctl resume $NGINX failed"
nginx_up_again() { [ "$(in_ct systemctl is-active "$NGINX" || true)" = active ]; }
wait_for 60 nginx_up_again || check_failed "$NGINX did not run again after resume"
echo "scenario=deploy owner=${owner:-none} unit_file_age_s=$(( $(date +%s) - $(in_ct stat -c %Z "/etc/systemd/system/$NGINX") )) would_run_without_upgrade=${before_upgrade:-nothing} would_run_after_upgrade=${after_upgrade:-nothing} nginx=$(in_ct systemctl is-active "$NGINX" || true)" |
    tee -a "$work/results"
[ "$before_upgrade" = restart ] || check_failed "$NGINX (package-owned, fresh unit file, no upgrade) would run '$before_upgrade', not restart"
[ "$after_upgrade" = rollback ] || check_failed "$NGINX after an upgrade of its package would run '$after_upgrade', not rollback"
in_ct rm -f "/etc/healerd/rollback.d/$NGINX"

# ---- the history export, of a service not written for healerd ----------------------------

healctl metrics --unit "$NGINX" --limit all --format csv >"$work/nginx-metrics.csv" || check_failed "healctl metrics --format csv failed"
samples=$(($(wc -l <"$work/nginx-metrics.csv") - 1))
replayed=$(healctl replay --column cpu - <"$work/nginx-metrics.csv" | awk 'NR > 1' | wc -l)
csv_incidents=$(($(healctl incidents --unit "$NGINX" --format csv | wc -l) - 1))
echo "scenario=export nginx_samples=$samples replayed=$replayed nginx_incidents_csv=$csv_incidents nginx_incidents_json=$(unit_incidents "$NGINX" | wc -l)" |
    tee -a "$work/results"
[ "$samples" -ge 100 ] || check_failed "the export holds $samples samples of $NGINX"
[ "$replayed" -eq "$samples" ] || check_failed "healctl replay --column cpu judged $replayed of the $samples exported samples"
[ "$csv_incidents" -eq "$(unit_incidents "$NGINX" | wc -l)" ] || check_failed "the CSV export of $NGINX's incidents disagrees with the JSON"

# ---- the operator stops watched units: not a failure ------------------------------------

incidents_before=$(healctl incidents --json --limit 1000 | grep -c '"id":' || true)
t_stop=$(now_us)
in_ct systemctl stop "$LOOP" "$LEAK" "$NGINX" "$GROW"
sleep 10
incidents_after=$(healctl incidents --json --limit 1000 | grep -c '"id":' || true)
echo "scenario=operator_stop incidents_before=$incidents_before incidents_after=$incidents_after nginx=$(in_ct systemctl is-active "$NGINX" || true)" |
    tee -a "$work/results"
[ "$incidents_after" -eq "$incidents_before" ] || check_failed "systemctl stop opened $((incidents_after - incidents_before)) incident(s)"
[ "$(in_ct systemctl is-active "$NGINX" || true)" = inactive ] || check_failed "$NGINX was started again after systemctl stop"
event_since "$t_stop" "$ID_UNIT_STOPPED" "$NGINX" || check_failed "no journal entry says $NGINX was stopped on purpose"
healctl status | grep -q "^  $NGINX *stopped on purpose (no action)\$" ||
    check_failed "healctl status does not show $NGINX stopped on purpose: $(healctl status | grep "$NGINX" || true)"

# ---- the machine is observed, not recovered ---------------------------------------------

# The given-up crash loop is still failed in systemd's eyes until reset: then no unit is failed.
in_ct systemctl reset-failed "$LOOP" 2>/dev/null || true
no_unit_failed() { ! healctl status --json | tr -d ' \n' | grep -q '"state":"failed"'; }
wait_for 10 no_unit_failed || say "a unit is still failed: $(healctl status | grep ' failed' || true)"
healctl policy >"$work/machine-policy" 2>&1 || true
echo "scenario=machine_policy $(grep -E '^(Target|Would)' "$work/machine-policy" | tr '\n' ' ')" | tee -a "$work/results"
if grep -q '^Target *the machine' "$work/machine-policy"; then
    grep -q '^Would run nothing' "$work/machine-policy" ||
        check_failed "healctl policy would act on the machine: $(cat "$work/machine-policy")"
    grep -q 'do_nothing.*no: healerd acts on units only' "$work/machine-policy" ||
        check_failed "healctl policy does not say the machine is only observed: $(cat "$work/machine-policy")"
else
    check_failed "healctl policy chose a unit, not the machine, with every unit healthy: $(cat "$work/machine-policy")"
fi

# ---- 7. dry run ------------------------------------------------------------------------

in_ct sh -c 'printf "[Recovery]\nDryRun=yes\n" > /etc/healerd/healerd.conf.d/zz-dry-run.conf'
in_ct systemctl reload healerd
failures_before=$(healctl summary --json | awk -F'[:,]' '/"failures"/ { gsub(/ /, "", $2); print $2; exit }')
t0=$(now_us)
in_ct touch /run/heal-exit1.crash
dry_logged() { in_ct journalctl -u healerd --since "@$((t0 / 1000000))" --no-pager -o cat | grep -q 'dry-run: would'; }
dry_stored() { [ "$(unit_actions "$EXIT1" | tail -n 1 | cut -d' ' -f2)" = dry_run ]; }
wait_for 60 dry_logged || true
wait_for 60 dry_stored || true
dry_line=$(in_ct journalctl -u healerd --since "@$((t0 / 1000000))" --no-pager -o cat | grep 'dry-run: would' | head -n 1 || true)
failures_after=$(healctl summary --json | awk -F'[:,]' '/"failures"/ { gsub(/ /, "", $2); print $2; exit }')
newest=$(unit_actions "$EXIT1" | tail -n 1)
echo "scenario=dry_run logged='${dry_line:-none}' newest='$newest' failures_before=$failures_before failures_after=$failures_after" |
    tee -a "$work/results"
[ -n "$dry_line" ] || check_failed "dry run: nothing logged as what would be done"
case "$dry_line" in *failed* | *reward*) check_failed "dry run: its journal line reads like a failed recovery: $dry_line" ;; esac
[ "${newest#* }" = dry_run ] || check_failed "dry run: the newest attempt is '$newest', not a dry_run"
[ "$failures_after" = "$failures_before" ] || check_failed "dry run: failures went from $failures_before to $failures_after"
[ "$(in_ct systemctl is-active "$EXIT1")" != active ] || check_failed "dry run: $EXIT1 was restarted"
if healctl recover --unit "$EXIT1" --action restart >"$work/out" 2>&1 || ! grep -q "circuit breaker" "$work/out"; then
    say "dry run: the breaker stays closed (recover was not refused by it)"
else
    check_failed "dry run: the breaker opened: $(cat "$work/out")"
fi

ct_finish
