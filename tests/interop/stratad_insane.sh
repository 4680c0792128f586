#!/bin/bash
# Every server two hours ahead (faketime): the insane-time guard refuses the
# correction, nothing is adjusted, and tracking says why.
. "$(dirname "$0")/stratad_lib.sh"
need_stratad
need_peers
in_netns "$@"

start_chronyd a 127.0.0.2 1123 '+2h'
start_chronyd b 127.0.0.3 1124 '+2h'
start_chronyd c 127.0.0.4 1125 '+2h'
sleep 2
cat > "$workdir/stratad.conf" <<EOC
sources = (
  { server = "127.0.0.2"; port = 1123; iburst = true; minpoll = 4; maxpoll = 4; },
  { server = "127.0.0.3"; port = 1124; iburst = true; minpoll = 4; maxpoll = 4; },
  { server = "127.0.0.4"; port = 1125; iburst = true; minpoll = 4; maxpoll = 4; }
);
clock = { driftfile = ""; };
control = { socket = "$workdir/run/stratad.sock"; };
pidfile = "";
user = "nobody";
EOC
start_stratad "$workdir/stratad.conf"

insane() { ctl tracking | grep -q '^Sync state      : unsynchronized (.*insane'; }
check "tracking reports the insane-time guard within 60 s" wait_for 60 insane
ctl tracking | tee "$workdir/tracking.txt"
ctl sources
check "tracking shows the refused offset (about +7200 s)" grep -qE 'put the clock \+(7199|7200)\.[0-9]+ s off' \
	"$workdir/tracking.txt"
check "stratum 16 while unsynchronized" grep -q '^Stratum         : 16$' "$workdir/tracking.txt"
check "no step was taken" grep -q '^Steps           : 0$' "$workdir/tracking.txt"
check "the log says it loudly" grep -qi 'insane\|panic' "$workdir/stratad.log"
check "the daemon never reported a refused clock call" bash -c "! grep -q 'cannot .* the clock' '$workdir/stratad.log'"
check "the JSON says why" bash -c "'$STRATACTL' -s '$workdir/run/stratad.sock' --json tracking | grep -q '\"unsync_reason\": \".*insane'"
finish
