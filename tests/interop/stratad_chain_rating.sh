#!/bin/bash
# How a downstream chronyd rates the time stratad serves, next to how it
# rates chronyd's in the same chain: upstream chronyd (stratum 1) -> middle
# (stratad -x, or chronyd -x, both polling it at the same fixed poll) ->
# chronyd client. The client's "+/-" for its source (chronyc sources: half
# the root delay plus the root dispersion the middle served, plus its own
# measurement's) is the error bound it carries on; an honest middle gives a
# bound of the same size as chronyd's, not one a thousand times larger
# (stratad used to grow its dispersion from the age of an old filtered sample).
# Asserts stratad's median "+/-" is within 2x of chronyd's.
# CHAIN_POLL (default 0): the middles' poll; CHAIN_SECONDS (default 60): how
# long the clients' ratings are sampled, every 2 s.
# The bound stratad serves grows from its last clock update at
# clock.max_clock_error (1 ppm) plus its frequency's skew, as chronyd's
# (maxclockerror plus skew). Measured (one run each, stratad vs chronyd):
# 25.8 vs 26.8 us at poll 0, 41.0 vs 26.6 us at poll 4, 110 vs 110 us at
# poll 6; with RFC 5905's 15 ppm it was 33 vs 27, 125 vs 36 and 446 vs
# 195 us, and before growing from the last update ~10 ms vs a few us.
. "$(dirname "$0")/stratad_lib.sh"
need_stratad
need_peers
run_in_netns "$@"

poll=${CHAIN_POLL:-0}
seconds=${CHAIN_SECONDS:-60}
export PEERS_STRATUM=1
PEERS_BIND=127.0.0.2 start_chronyd_server 1123 > /dev/null || exit 1

cat > "$workdir/stratad.conf" <<EOC
sources = ( { server = "127.0.0.2"; port = 1123; iburst = true; minpoll = $poll; maxpoll = $poll; } );
clock = { driftfile = "$workdir/drift"; };
serve = { listen = [ "127.0.0.3" ]; port = 1124; };
control = { socket = "$workdir/run/stratad.sock"; };
pidfile = "";
user = "nobody";
EOC
start_stratad "$workdir/stratad.conf"
middle_pid=$(start_chronyd_client "server 127.0.0.2 port 1123 iburst minpoll $poll maxpoll $poll" \
	"port 1125" "bindaddress 127.0.0.4" "allow 127.0.0.0/8") || exit 1
check "stratad synchronizes to the upstream chronyd" wait_for 60 synced
wait_chronyd_synced "$middle_pid" 60 > /dev/null || not_ok "the middle chronyd synchronizes"

via_stratad=$(start_chronyd_client "server 127.0.0.3 port 1124 iburst minpoll 0 maxpoll 0") || exit 1
via_chronyd=$(start_chronyd_client "server 127.0.0.4 port 1125 iburst minpoll 0 maxpoll 0") || exit 1
check "the client of stratad synchronizes" wait_chronyd_synced "$via_stratad" 60
check "the client of chronyd synchronizes" wait_chronyd_synced "$via_chronyd" 60

# chronyc -c sources: mode,state,name,stratum,poll,reach,lastrx,offset,measured offset,error
rating() { chronyc_client "$1" -c sources | awk -F, 'NR == 1 { print $10 }'; }
: > "$workdir/ratings"
end=$((SECONDS + seconds))
while [ $SECONDS -lt $end ]; do
	echo "$(rating "$via_stratad") $(rating "$via_chronyd")" >> "$workdir/ratings"
	sleep 2
done
ours=$(awk '$1 != "" { print $1 }' "$workdir/ratings" | median)
theirs=$(awk '$2 != "" { print $2 }' "$workdir/ratings" | median)
echo "--- chronyd client's +/- for its source (median of $(wc -l < "$workdir/ratings") samples, middles at poll $poll)"
echo "served by stratad: ${ours:-?} s; served by chronyd: ${theirs:-?} s"
echo "--- what each middle serves (chronyc sources and ntpdata from its client)"
for c in "stratad $via_stratad" "chronyd $via_chronyd"; do
	set -- $c
	echo "$1: $(chronyc_client "$2" sources | tail -n 1)"
	echo "$1: $(chronyc_client "$2" ntpdata | grep -E '^(Root delay|Root dispersion)' | tr -s ' ' | paste -sd ';')"
done
echo "--- stratactl tracking"
ctl tracking
check "the ratings were read" test -n "$ours" -a -n "$theirs"
check "chronyd rates stratad's time within 2x of chronyd's (${ours:-?} vs ${theirs:-?} s)" \
	awk -v a="${ours:-1}" -v b="${theirs:-0}" 'BEGIN { exit !(a <= 2 * b) }'
finish
