#!/bin/sh
# Issue 10's scenario 5, a learning run, against the real PID 1 of a throwaway
# systemd container (container.sh). heal-learn.service is a "bad version" that
# exits 1 a second after every start unless /run/heal-learn.good exists, and
# exits 1 by itself (it checks every 0.2 s) once the file is removed. Its
# rollback hook "rolls back" by creating the file and restarting the unit, so
# a restart never heals it and a rollback always does. Its unit file is older
# than the package-change window, so it is no recent deploy (a crash, not a
# bad_deploy) and the default ladder answers the dead unit with restart
# first, rollback later. healerd dates a unit's files by their ctime, which
# touch -d cannot set back: the window is PACKAGE_WINDOW_S (10 s) instead of
# 1 h, and the unit file is written over a minute before healerd watches it.
# Each incident is the test removing the file while the unit runs healthy.
#
# Three policies face the same fault:
#   systemd: Restart=always RestartSec=1 and healerd not watching the unit,
#            SYSTEMD_INCIDENTS incidents of WINDOW_S each: it never heals, so
#            the downtime is the window; actions are the NRestarts of the
#            window and relapses the restarts that came up and failed again
#            (the unit's failures in the window but the first);
#   ladder:  healerd with no model and RetrainAfter=0, LADDER_INCIDENTS
#            incidents;
#   learned: healerd from a fresh state (no model, no history) with
#            RetrainAfter=1, so it retrains after each closed incident (the
#            test waits for each training to finish before the next
#            incident), for at most MAX_LEARNING incidents; it stops earlier
#            once the last MEASURED incidents all began with rollback.
# For ladder and learned the downtime of an incident is healthy_since -
# opened (healctl incidents --json: time_to_recover; the detection delay
# before the incident opens, a sample or two, is in neither), its actions
# and relapses are the incident's. The learned figure is the last MEASURED
# (3, as many as the ladder's) incidents of the learning run: by then the
# policy has had the chance to learn (or the run has used its 10 incidents),
# while the earlier ones are answered before the history can say anything
# (the first by the ladder, the next by models trained on a few incidents,
# which still restart a crash first) and measure the learning, not what was
# learned. The test fails unless the learned policy's downtime per incident
# is at most 0.7x the ladder's. Prints
#   policy=P incidents=N downtime_s=D actions=A relapses=R
# for P = systemd, ladder, learned, and the learning run's first actions.
#
# usage: learning-test.sh BUILD_DIR (root; exits 77, skipped, otherwise)
set -eu

ct_tag=learning-test
DEMO=healerd-demo.service
# shellcheck source-path=SCRIPTDIR source=container.sh
. "$(dirname "$0")/container.sh"
ct_setup "${1:?usage: learning-test.sh BUILD_DIR}"

APP=heal-learn.service
GOOD=/run/heal-learn.good
SYSTEMD_INCIDENTS=2
WINDOW_S=30
LADDER_INCIDENTS=3
MAX_LEARNING=10
MEASURED=3
PACKAGE_WINDOW_S=10
INCIDENT_TIMEOUT=90   # seconds for healerd to close one incident

ct_stage
# shellcheck disable=SC2119 # no nspawn options of its own
ct_boot

printf '%s\n' '[Service]' \
    "ExecStart=/bin/sh -c 'if [ ! -e $GOOD ]; then sleep 1; exit 1; fi; while [ -e $GOOD ]; do sleep 0.2; done; exit 1'" |
    in_ct sh -c "cat > /etc/systemd/system/$APP"

ct_install_healerd 500ms "$DEMO"
in_ct sh -c "cat > /etc/healerd/rollback.d/$APP && chmod 0755 /etc/healerd/rollback.d/$APP" <<EOF
#!/bin/sh
echo "learning test: rolling back \$1 (\$HEALERD_FAILURE_KIND)"
touch $GOOD
systemctl restart "\$1"
EOF
: >"$work/results"

# ---- systemd's Restart= alone -------------------------------------------------------------

in_ct mkdir -p "/etc/systemd/system/$APP.d"
in_ct sh -c "printf '[Service]\nRestart=always\nRestartSec=1\n' > /etc/systemd/system/$APP.d/restart.conf"
in_ct systemctl daemon-reload
app_active() { [ "$(in_ct systemctl is-active "$APP")" = active ]; }
heal_by_hand() {
    in_ct touch "$GOOD"
    in_ct systemctl reset-failed "$APP" 2>/dev/null || true
    in_ct systemctl restart "$APP"
    wait_for 10 app_active || die "$APP does not run with $GOOD present"
}
heal_by_hand
sleep 2
sd_downtime=0
sd_actions=0
sd_relapses=0
i=0
while [ $i -lt $SYSTEMD_INCIDENTS ]; do
    i=$((i + 1))
    restarts_before=$(in_ct systemctl show "$APP" -P NRestarts)
    t0=$(now_us)
    in_ct rm -f "$GOOD"
    sleep "$WINDOW_S"
    restarts=$(($(in_ct systemctl show "$APP" -P NRestarts) - restarts_before))
    failed=$(in_ct journalctl -u "$APP" --since "@$((t0 / 1000000))" --no-pager -o cat | grep -c 'Failed with result' || true)
    state=$(in_ct systemctl is-active "$APP" || true)
    say "systemd incident $i: ${WINDOW_S}s without healing, NRestarts +$restarts, $failed failures, $APP $state"
    sd_downtime=$((sd_downtime + WINDOW_S))
    sd_actions=$((sd_actions + restarts))
    [ "$failed" -eq 0 ] || sd_relapses=$((sd_relapses + failed - 1))
    heal_by_hand
    sleep 2
done
echo "policy=systemd incidents=$SYSTEMD_INCIDENTS downtime_s=$sd_downtime actions=$sd_actions relapses=$sd_relapses" |
    tee -a "$work/results"
in_ct rm -rf "/etc/systemd/system/$APP.d"
in_ct systemctl daemon-reload
heal_by_hand

# ---- healerd -------------------------------------------------------------------------------

# app_incidents: heal-learn's incidents, oldest first, as
# "ID OUTCOME TIME_TO_RECOVER ATTEMPTS RELAPSES".
app_incidents() {
    healctl incidents --json --limit 1000 | awk -v want="\"$APP\"," '
        /^  \{/ { id = ""; unit = ""; outcome = ""; ttr = ""; attempts = ""; relapses = "" }
        /"id":/ { id = $2 } /"unit":/ { unit = $2 } /"outcome":/ { outcome = $2 }
        /"time_to_recover":/ { ttr = $2 } /"attempts":/ { attempts = $2 } /"relapses":/ { relapses = $2 }
        /^  \}/ { if (unit == want) { s = id " " outcome " " ttr " " attempts " " relapses; gsub(/[",]/, "", s); print s } }'
}
# app_actions: heal-learn's attempts, oldest first, as "ACTION RESULT".
app_actions() { actions | awk -v unit="$APP" '$1 == unit { print $2, $3 }' | tac; }
# app_kinds: the failure kinds healerd gave heal-learn's incidents, distinct.
app_kinds() {
    healctl incidents --json --limit 1000 | awk -v want="\"$APP\"," '
        /^  \{/ { unit = ""; kind = "" } /"unit":/ { unit = $2 } /"failure_kind":/ { kind = $2 }
        /^  \}/ { if (unit == want) { gsub(/[",]/, "", kind); print kind } }' | sort -u | tr '\n' ' '
}
closed_incidents() { app_incidents | awk '$2 == "resolved" || $2 == "given_up"' | wc -l; }
closed_at_least() { [ "$(closed_incidents)" -ge "$1" ]; }
no_open_incident() { healctl policy --unit "$APP" --json | grep -q '"state": "none"'; }
app_settled() {
    app_active || return 1
    samples_healthy "$APP" 40
}

# start_healerd RETRAIN_AFTER: healerd from a fresh state (no model, no
# history) watching the demo and heal-learn, with short waits.
start_healerd() {
    in_ct systemctl stop healerd
    in_ct rm -rf /var/lib/healerd
    healerd_settings 500ms "$DEMO" "$APP"
    printf '[Recovery]\nPackageChangeWindowSec=%ss\nStableSec=5s\nBackoffSec=1s\nBackoffMaxSec=4s\nRecoveryTimeoutSec=5s\n[Learning]\nRetrainAfter=%s\n' "$PACKAGE_WINDOW_S" "$1" |
        in_ct sh -c 'cat > /etc/healerd/healerd.conf.d/zz-learning.conf'
    in_ct systemctl start healerd || die "systemctl start healerd failed"
    wait_for 60 app_settled || die "healerd reported no healthy samples of $APP within 60s"
    sleep 5  # past the detector's warm-up
}

# incident N: breaks heal-learn and waits until healerd has closed its Nth
# incident in this run and the unit runs again.
incident() {
    in_ct rm -f "$GOOD"
    wait_for "$INCIDENT_TIMEOUT" closed_at_least "$1" || check_failed "incident $1 not closed within ${INCIDENT_TIMEOUT}s"
    wait_for 30 no_open_incident || check_failed "incident $1: still an incident open on $APP"
    wait_for 30 app_active || check_failed "incident $1: $APP is not active after it"
}

# first_actions: the first action of each incident, comma-separated, oldest first.
first_actions() {
    app_incidents >"$work/incidents"
    app_actions >"$work/actions"
    awk 'NR == FNR { n[++count] = $4; next } { act[++m] = $1 }
         END { at = 1; for (i = 1; i <= count; i++) { printf "%s%s", (i > 1 ? "," : ""), act[at]; at += n[i] } }' \
        "$work/incidents" "$work/actions"
}

# totals FROM TO: "incidents=N downtime_s=D actions=A relapses=R" over
# heal-learn's incidents FROM..TO (1-based, oldest first).
totals() {
    app_incidents | awk -v from="$1" -v to="$2" '
        NR >= from && NR <= to { n++; d += ($3 == "null" ? 0 : $3); a += $4; r += $5; if ($3 == "null") open++ }
        END { printf "incidents=%d downtime_s=%.1f actions=%d relapses=%d%s\n", n, d, a, r, open ? " unhealed=" open : "" }'
}

say "ladder: no model, RetrainAfter=0, $LADDER_INCIDENTS incidents"
start_healerd 0
i=0
while [ $i -lt $LADDER_INCIDENTS ]; do
    i=$((i + 1))
    incident $i
    say "ladder incident $i: $(app_incidents | sed -n "${i}p")"
done
ladder_line="policy=ladder $(totals 1 "$LADDER_INCIDENTS")"
ladder_firsts=$(first_actions)
echo "$ladder_line" | tee -a "$work/results"
say "ladder first actions: $ladder_firsts (attempts $(app_actions | awk '{ printf "%s%s %s", s, $1, $2; s = ", " }')), kinds: $(app_kinds)"
# The premise: a crash (no recent deploy), which the ladder answers with restart first.
[ "$(app_kinds)" = "crash " ] || check_failed "the ladder's incidents are not all crashes: $(app_kinds)"
case ",$ladder_firsts," in
    *,rollback,*) check_failed "the ladder began an incident with rollback ($ladder_firsts)" ;;
esac

say "learned: fresh state, RetrainAfter=1, at most $MAX_LEARNING incidents"
start_healerd 1
trainings() {
    in_ct journalctl -u healerd --since "@$((learn_t0 / 1000000))" --no-pager -o cat |
        grep -cE '^(trained [0-9]+ episodes|training failed|training cancelled|trained, but)' || true
}
trained_at_least() { [ "$(trainings)" -ge "$1" ]; }
learn_t0=$(now_us)
i=0
while [ $i -lt $MAX_LEARNING ]; do
    i=$((i + 1))
    incident $i
    # The retraining this incident triggers, before the next incident.
    wait_for 120 trained_at_least $i || check_failed "no training finished after incident $i"
    retrained=$(in_ct journalctl -u healerd --since "@$((learn_t0 / 1000000))" --no-pager -o cat | grep '^retrained policy' | tail -n 1)
    say "learned incident $i: $(app_incidents | sed -n "${i}p"); ${retrained:-no retraining line}"
    firsts=$(first_actions)
    if [ $i -ge $MEASURED ] &&
        [ "$(echo "$firsts" | tr ',' '\n' | tail -n $MEASURED | grep -c '^rollback$')" -eq $MEASURED ]; then
        break
    fi
done
learned_firsts=$(first_actions)
learned_line="policy=learned $(totals $((i - MEASURED + 1)) $i)"
echo "$learned_line" | tee -a "$work/results"
echo "learning: incidents=$i measured=$((i - MEASURED + 1))-$i first_actions=$learned_firsts whole_run: $(totals 1 $i)" |
    tee -a "$work/results"

ladder_per=$(echo "$ladder_line" | awk '{ for (f = 1; f <= NF; f++) if ($f ~ /^downtime_s=/) d = substr($f, 12); print d / '"$LADDER_INCIDENTS"' }')
learned_per=$(echo "$learned_line" | awk '{ for (f = 1; f <= NF; f++) if ($f ~ /^downtime_s=/) d = substr($f, 12); print d / '"$MEASURED"' }')
echo "$ladder_line $learned_line" | grep -q unhealed && check_failed "an incident was never healed"
ratio=$(awk -v l="$learned_per" -v d="$ladder_per" 'BEGIN { printf "%.2f", (d > 0 ? l / d : 99) }')
echo "per_incident: ladder_s=$ladder_per learned_s=$learned_per ratio=$ratio (at most 0.70)" | tee -a "$work/results"
awk -v r="$ratio" 'BEGIN { exit !(r != "" && r + 0 <= 0.70) }' ||
    check_failed "the learned policy's downtime per incident is ${ratio}x the ladder's, above 0.7x"

say "results:"
sed 's/^/    /' "$work/results"
if [ "$failures" -ne 0 ]; then
    say "$failures check(s) failed"
    exit 1
fi
say "all checks passed"
