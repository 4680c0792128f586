#!/bin/bash
# stratad -x as a client of chronyd, ntpsec (synchronized to its local
# clock and settled, so it is a usable server) and a chronyd one hour ahead
# (faketime): the liar is marked a falseticker and the others give the time.
# Then a fourth server is killed (its reach decays, the rest carry on) and
# restarted (it is used again). Prints the time to the first sync and the
# resource use next to a chronyd client of the same servers.
. "$(dirname "$0")/stratad_lib.sh"
need_stratad
need_peers faketime
run_in_netns "$@"

# chronyd servers at stratum 1; ntpsec (port 123 only) on 127.0.0.1.
export PEERS_STRATUM=1
PEERS_BIND=127.0.0.2 start_chronyd_server 1123 > /dev/null || exit 1
PEERS_BIND=127.0.0.4 start_chronyd_server 1124 +1h > /dev/null || exit 1
spare_pid=$(PEERS_BIND=127.0.0.5 start_chronyd_server 1125) || exit 1
start_ntpsec_server settled > /dev/null || exit 1

cat > "$workdir/stratad.conf" <<EOC
sources = (
  { server = "127.0.0.2"; port = 1123; iburst = true; minpoll = 4; maxpoll = 4; },
  { server = "127.0.0.1"; iburst = true; minpoll = 4; maxpoll = 4; },
  { server = "127.0.0.4"; port = 1124; iburst = true; minpoll = 4; maxpoll = 4; },
  { server = "127.0.0.5"; port = 1125; iburst = true; minpoll = 4; maxpoll = 4; }
);
clock = { driftfile = "$workdir/drift"; };
control = { socket = "$workdir/run/stratad.sock"; };
pidfile = "";
user = "nobody";
EOC

start=$(date +%s.%N)
start_stratad "$workdir/stratad.conf"
# The same servers for chronyd as a client, for the comparison.
client_start=$(date +%s)
client_pid=$(start_chronyd_client \
	"server 127.0.0.2 port 1123 iburst minpoll 4 maxpoll 4" \
	"server 127.0.0.1 iburst minpoll 4 maxpoll 4" \
	"server 127.0.0.4 port 1124 iburst minpoll 4 maxpoll 4" \
	"server 127.0.0.5 port 1125 iburst minpoll 4 maxpoll 4") || exit 1
client_dir=$PEERS_TMP/chronyd-client.$client_pid

wait_for 60 synced
stratad_sync=$(echo "$(date +%s.%N) - $start" | bc)
check "stratad synchronizes within 60 s" synced
check "the faketime server is marked a falseticker" wait_for 60 source_is_falseticker 127.0.0.4:1124
stratad_settled=$(echo "$(date +%s.%N) - $start" | bc)

ctl tracking > "$workdir/tracking.txt"
ctl sources > "$workdir/sources.txt"
offset=$(awk -F': ' '/^System time/ { split($2, a, " "); print a[1] }' "$workdir/tracking.txt")
stratum=$(awk -F': ' '/^Stratum/ { print $2 }' "$workdir/tracking.txt")
check "the offset is within 1 ms of 0 ($offset s)" awk -v o="${offset:-9}" 'BEGIN { exit !(o < 0.001) }'
# The best source is the stratum 1 chronyd: we are stratum 2.
check "the stratum is the best source's + 1 ($stratum)" test "$stratum" = 2
check "chronyd is selected" grep -qE '^[*+] 127.0.0.2:1123 ' "$workdir/sources.txt"
check "ntpsec is selected" grep -qE '^[*+] 127.0.0.1:123 ' "$workdir/sources.txt"
check "tracking --json is valid JSON with the sync state" \
	bash -c "'$STRATACTL' -s '$workdir/run/stratad.sock' --json tracking | python3 -c 'import json,sys; d=json.load(sys.stdin); sys.exit(d[\"state\"] != \"synchronized\")'"
check "sources --json lists every source" \
	bash -c "'$STRATACTL' -s '$workdir/run/stratad.sock' --json sources | python3 -c 'import json,sys; sys.exit(len(json.load(sys.stdin)) != 4)'"
echo "--- stratactl tracking"
cat "$workdir/tracking.txt"
echo "--- stratactl sources"
cat "$workdir/sources.txt"

# A server dies: its reach decays, the others carry on.
check "the spare server is used" wait_for 30 source_used 127.0.0.5:1125
peers_stop "$spare_pid"
check "the dead server's reach decays" wait_for 60 source_reach_lost 127.0.0.5:1125
check "the others carry on" synced
ctl sources | grep -F 127.0.0.5:1125
PEERS_BIND=127.0.0.5 start_chronyd_server 1125 > /dev/null || not_ok "the spare server restarts"
# Its mark alone may still be "+" from before: wait for a fresh answer too.
used_again() { source_answered "$1" && source_used "$1"; }
check "restarted, it answers and is used again" wait_for 90 used_again 127.0.0.5:1125
ctl sources | grep -F 127.0.0.5:1125

client_sync=$(awk '/Selected source/ { print $1; exit }' "$client_dir/chronyd.log")
if [ -n "$client_sync" ]; then
	client_sync=$(echo "$(date -d "$client_sync" +%s) - $client_start" | bc)
fi
echo "--- figures"
echo "time to first sync: stratad ${stratad_sync} s (falseticker marked at ${stratad_settled} s)," \
	"chronyd ${client_sync:-?} s (1 s resolution)"
for p in "stratad $STRATAD_PID" "chronyd $(cat "$client_dir/chronyd.pid")"; do
	set -- $p
	rss=$(awk '/^VmRSS/ { print $2 }' /proc/$2/status)
	cpu=$(awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' /proc/$2/stat)
	echo "$1: RSS ${rss} kB, CPU ${cpu} s"
done
finish
