#!/bin/bash
# The real gpsd feeds stratad and chronyd: an NMEA log made here with times
# around now is served to gpsd over TCP, and gpsd writes the time to SHM
# unit 0; stratad -x (no CAP_SYS_TIME) reads that segment, chronyd 4.3 -x
# reads a copy of it, and chronyd's offset and jitter are the reference
# stratad's are compared with.
#
# How gpsd is fed: gpsd 3.22 writes no SHM for a pty (ntpshm_link_activate
# skips source_pty: "the test harness"), but does for a network source:
# `gpsd tcp://127.0.0.1:PORT` is source_tcp, and `gpsd -D 4` shows its
# ntpshm_put lines. nmea_feed.py serves the log on 127.0.0.1:10110 (the
# NMEA-0183 port) of this test's own network namespace, each second's
# sentences 50 ms after the second they carry, as a receiver sends NMEA
# late. It measures how late its own wake-ups were (the median is added to
# the 50 ms: on a kernel with a coarse timer tick it is a constant ~1.3 ms,
# the tick's phase); what every daemon must find is that delay, and gpsd's
# own record of the samples it wrote is a second, daemon-free reference.
# Why not gpsfake -t (its TCP feed, which gpsd also takes as source_tcp and
# writes SHM for): gpsfake paces the log by a fixed sleep between sentences
# (-c), from whenever it starts, not by the times the sentences carry; with
# -c 0.3333 the offset gpsd wrote started at an arbitrary value and drifted
# by 2.8 ms a second (70 ms over 25 s), so there is no known delay to check
# against and the drift is jitter of the feed's own. -u (UDP) is paced the
# same way.
# What makes gpsd write SHM:
#   -n   read the device without a client watching it;
#   -b   read-only: never write probe or mode strings to the "receiver";
#   RMC with the date first in every second, a GGA fix and a GSA 3D mode:
#        gpsd takes no time before a year and a fix.
# Why chronyd reads a copy (shm_relay copies unit 0 to unit 4 within 1 ms of
# each write): SHM has one reader's handshake, and chronyd clears valid when
# it takes a sample (stratad does not). Both read every 0.25 s, so whoever's
# phase comes first after gpsd's write took every sample: a CI run where it
# was chronyd's saw stratad reach 0. The samples carry their own times, so
# the copy's lateness changes nothing chronyd computes. Runs in its own IPC
# and network namespaces. ~35 s.
. "$(dirname "$0")/lib.sh"
need_stratad
need_peers
command -v gpsd > /dev/null || skip "no gpsd (tools/setup-debian --tests)"
run_in_ipc_netns "$@"

run=30        # seconds of replay the figures are taken over
t0=$(date +%s)
python3 "$(dirname "$0")/nmea_log.py" 2 $((run + 10)) > "$workdir/gps.nmea"

cat > "$workdir/stratad.conf" <<EOC
sources = ();
refclocks = ( { driver = "SHM"; device = "0"; refid = "GPS"; poll = 2; filter = 16; } );
clock = { driftfile = ""; };
control = { socket = "$workdir/run/stratad.sock"; };
user = "nobody";
log = { level = "debug"; };
EOC
mkdir -p "$workdir/run" && chmod 777 "$workdir/run"
start_stratad "$workdir/stratad.conf"
check "stratad answers" wait_for 10 ctl tracking > /dev/null
relay=$STRATA_BUILD/tests/refclock/shm_relay
[ -x "$relay" ] || skip "tests/refclock/shm_relay not built"
"$relay" 0 4 $((run + 15)) 2> "$workdir/relay.log" &
relay_pid=$!
peers_track $relay_pid
chrony=$(start_chronyd_client "refclock SHM 4 refid GPS poll 2 filter 16") || not_ok "chronyd"
port=10110
latency=0.05  # the feed's known delay: each second's sentences sent that late
timeout $((run + 15)) python3 "$(dirname "$0")/nmea_feed.py" 127.0.0.1 $port "$workdir/gps.nmea" $latency \
	2> "$workdir/feed.log" &
feed=$!
peers_track $feed
feed_listens() { [ -n "$(ss -Hltn "sport = :$port")" ]; }
check "the NMEA feed listens on 127.0.0.1:$port" wait_for 5 feed_listens
gpsd -N -n -b -D 4 -F "$workdir/gpsd.sock" tcp://127.0.0.1:$port > "$workdir/gpsd.log" 2>&1 &
gpsd_pid=$!
peers_track $gpsd_pid
gps_used() { case "$(source_json GPS "s['state']")" in "system peer" | combined) return 0 ;; esac; return 1; }
check "stratad uses the SHM refclock gpsd writes" wait_for 25 gps_used
check "gpsd wrote the fixes to SHM (ntpshm_put)" grep -q "ntpshm_put(tcp://127.0.0.1:$port" "$workdir/gpsd.log"
# the figures while the replay still runs: 2 s before its last epochs
sleep $((t0 + 2 + run - $(date +%s)))

ctl sources
ctl sourcestats
chronyc_client "$chrony" sources
chronyc_client "$chrony" sourcestats
chronyc_client "$chrony" tracking
chronyc_client "$chrony" -c tracking
# gpsd's own account of every sample it wrote ("clock @ receive"): their
# median is a third, daemon-free reference
read -r g_n g_off g_rms < <(sed -n 's/.*ntpshm_put([^)]*) *\([0-9.]*\) @ *\([0-9.]*\)$/\1 \2/p' \
	"$workdir/gpsd.log" | awk '{ printf "%.9f\n", $1 - $2 }' | sort -g |
	awk '{ v[NR] = $1 } END { if (!NR) exit; m = v[int((NR + 1) / 2)]
		for (i = 1; i <= NR; i++) q += (v[i] - m) ^ 2; printf "%d %.9f %.9f\n", NR, m, sqrt(q / NR) }')
# Each daemon's estimate of true - local from GPS: chronyd -x tracks the
# free-running clock's offset ("System time", CSV field 5, negative: fast);
# stratad's is the GPS source's clock filter estimate. Jitter: chronyd's
# std dev of its GPS samples, stratad's clock filter jitter (and the std dev
# about a line through its samples).
c_off=$(chronyc_client "$chrony" -c tracking | cut -d, -f5)
c_sd=$(chronyc_client "$chrony" -c sourcestats | awk -F, '$1 == "GPS" { print $8 }')
s_off=$(tracking_json "t['system_offset']")
s_est=$(source_json GPS "s['estimate']['offset']")
s_jit=$(source_json GPS "s['jitter']")
s_sd=$(ctl --json sourcestats | python3 -c '
import json, sys
print([s for s in json.load(sys.stdin) if s["name"] == "GPS"][0]["std_dev"])')
# the feed's own account: how late after $latency it sent (median), so the
# delay it meant is told from scheduling delays of its own
kill $feed
wait $feed
cat "$workdir/feed.log"
kill $relay_pid
wait $relay_pid
cat "$workdir/relay.log"
f_off=$(sed -n 's/.*late by \([0-9.]*\) s (median).*/\1/p' "$workdir/feed.log" |
	awk -v l=$latency 'NR == 1 { printf "%.9f\n", -(l + $1) }')
echo "figures: the feed sent $latency s late (true - local = -$latency) + its own lateness: $f_off"
echo "figures: gpsd wrote $g_n samples, median offset $g_off, RMS about it $g_rms"
echo "figures: stratad GPS offset $s_est jitter $s_jit (std dev $s_sd; system offset $s_off)"
echo "figures: chronyd GPS offset $c_off std dev $c_sd"
check "stratad's offset is within 1 ms of chronyd's on the same samples" near "$s_est" "$c_off" 1e-3
check "and within 2 ms of the median of what gpsd wrote" near "$s_est" "$g_off" 2e-3
check "and within 2 ms of the delay the feed sent with" near "$s_est" "$f_off" 2e-3
# the jitters are figures of two different filters over the samples each
# daemon caught (a late one the other missed counts): asserted is that
# stratad adds no noise of its own beyond what gpsd wrote
check "stratad's jitter is no more than the samples' own spread (+1 ms)" \
	python3 -c 'import sys; sys.exit(float(sys.argv[1]) > float(sys.argv[2]) + 1e-3)' "$s_jit" "$g_rms"
check "stratad serves stratum 1 from GPS" test "$(tracking_json "(t['stratum'], t['reference_id'])")" = "(1, 'GPS')"
kill $gpsd_pid
[ "$failed" = 0 ] || { echo "--- gpsd"; tail -20 "$workdir/gpsd.log"; echo "--- stratad"; grep -v "^.\{21\}stratad: debug" "$workdir/stratad.log" | tail -20; grep refclock "$workdir/stratad.log" | head -30; }
finish
