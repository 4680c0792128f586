#!/bin/bash
# stratad -x as a client of chronyd, ntpsec and a chronyd one hour ahead
# (faketime): the liar is marked a falseticker and the others give the time.
# Then a fourth server is killed (its reach decays, the rest carry on) and
# restarted (it is used again). Prints the time to the first sync and the
# resource use next to a chronyd client of the same servers.
. "$(dirname "$0")/stratad_lib.sh"
need_stratad
need_peers ntpsec
in_netns "$@"

start_chronyd good 127.0.0.2 1123
start_ntpsec 127.0.0.3
start_chronyd liar 127.0.0.4 1124 '+1h'
start_chronyd spare 127.0.0.5 1125
spare_pid=$CHRONYD_PID
sleep 2

cat > "$workdir/stratad.conf" <<EOC
sources = (
  { server = "127.0.0.2"; port = 1123; iburst = true; minpoll = 4; maxpoll = 4; },
  { server = "127.0.0.3"; iburst = true; minpoll = 4; maxpoll = 4; },
  { server = "127.0.0.4"; port = 1124; iburst = true; minpoll = 4; maxpoll = 4; },
  { server = "127.0.0.5"; port = 1125; iburst = true; minpoll = 4; maxpoll = 4; }
);
clock = { driftfile = "$workdir/drift"; };
control = { socket = "$workdir/run/stratad.sock"; };
pidfile = "";
user = "nobody";
EOC
# The same servers for chronyd as a client, for the comparison.
cat > "$workdir/client.conf" <<EOC
server 127.0.0.2 port 1123 iburst minpoll 4 maxpoll 4
server 127.0.0.3 iburst minpoll 4 maxpoll 4
server 127.0.0.4 port 1124 iburst minpoll 4 maxpoll 4
server 127.0.0.5 port 1125 iburst minpoll 4 maxpoll 4
port 0
cmdport 0
pidfile $workdir/client.pid
EOC

start=$(date +%s.%N)
start_stratad "$workdir/stratad.conf"
"${BOUNDED[@]}" "${NOCAP[@]}" "$CHRONYD" -x -d -u root -f "$workdir/client.conf" > "$workdir/client.log" 2>&1 &
client_pid=$!
started_pids+=("$client_pid")

wait_for 60 synced
stratad_sync=$(echo "$(date +%s.%N) - $start" | bc)
check "stratad synchronizes within 60 s" synced
check "the faketime server is marked a falseticker" wait_for 60 source_is_falseticker 127.0.0.4:1124
stratad_settled=$(echo "$(date +%s.%N) - $start" | bc)

ctl tracking > "$workdir/tracking.txt"
ctl sources > "$workdir/sources.txt"
offset=$(awk -F': ' '/^System time/ { split($2, a, " "); print a[1] }' "$workdir/tracking.txt")
stratum=$(awk -F': ' '/^Stratum/ { print $2 }' "$workdir/tracking.txt")
check "the offset is within 1 ms of 0 ($offset s)" awk -v o="$offset" 'BEGIN { exit !(o < 0.001) }'
# The best source is the stratum 1 chronyd: we are stratum 2.
check "the stratum is the best source's + 1 ($stratum)" test "$stratum" = 2
check "chronyd is selected" grep -qE '^[*+] 127.0.0.2:1123 ' "$workdir/sources.txt"
check "ntpsec is selected" grep -qE '^[*+] 127.0.0.3:123 ' "$workdir/sources.txt"
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
stop_pid "$spare_pid"
check "the dead server's reach decays" wait_for 60 source_reach_lost 127.0.0.5:1125
check "the others carry on" synced
ctl sources | grep -F 127.0.0.5:1125
start_chronyd spare 127.0.0.5 1125
check "restarted, it is used again" wait_for 90 source_used 127.0.0.5:1125
ctl sources | grep -F 127.0.0.5:1125

client_sync=$(awk '/Selected source/ { print $1; exit }' "$workdir/client.log")
if [ -n "$client_sync" ]; then
	client_sync=$(echo "$(date -d "$client_sync" +%s) - ${start%.*}" | bc)
fi
echo "--- figures"
echo "time to first sync: stratad ${stratad_sync} s (falseticker marked at ${stratad_settled} s)," \
	"chronyd ${client_sync:-?} s (1 s resolution)"
for p in "stratad $STRATAD_PID" "chronyd $(cat "$workdir/client.pid")"; do
	set -- $p
	rss=$(awk '/^VmRSS/ { print $2 }' /proc/$2/status)
	cpu=$(awk '{ printf "%.2f", ($14 + $15) / 100 }' /proc/$2/stat)
	echo "$1: RSS ${rss} kB, CPU ${cpu} s"
done
finish
