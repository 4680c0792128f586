#!/bin/bash
# A leap second in clknetsim (chrony's simulator, whose kernel model inserts
# a leap second on STA_INS as Linux does), with chronyd as a client of
# stratad. The run starts at 2016-12-31 00:00:00 UTC. Node 1, a chronyd at
# local stratum 1, serves UTC: its clock is stepped back a second at
# midnight (clknetsim's node1_step), and it announces no leap. Node 2 is
# stratad with tzdata's leap-seconds.list and leap_mode system: the list
# announces the leap, clknetsim's kernel inserts it. Node 3, a chronyd
# polling node 2 every second from 5 minutes before midnight (sooner
# would only cost time), has no leap table of its own.
#   smear: stratad serves with leap_smear = "quadratic" over 600 s: node 3
#          never steps and follows the smear (a fall of at most a few ms in
#          any second), and is on UTC once it ends; chronyd saw no leap bits.
#   plain: no smear: chronyd hears the leap from stratad's leap bits and
#          its own (simulated) kernel inserts it too: a one-second fall.
# Offsets are against the simulator's true time, which has no leap: UTC is
# one second behind it after midnight. Needs what compare.sh needs; skips
# (77) without it.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
[ -r /usr/share/zoneinfo/leap-seconds.list ] || skip "no /usr/share/zoneinfo/leap-seconds.list (tzdata)"
run_in_netns "$@"
# clknetsim's kernel inserts the leap at a midnight of its own count of
# seconds: the run starts at a midnight, the day before the leap
LEAP=86400           # simulated seconds from the start to the leap's midnight
SECONDS_RUN=$((LEAP + 900))
SIM_TIMEOUT=120
# (not computed in node's environment: a date run there would be preloaded
# and join the simulation as a node)
CLKNETSIM_START_DATE=$(date -u -d '2016-12-31 00:00:00' +%s)
export CLKNETSIM_START_DATE


# simulate SMEAR: the run's directory ("off" or "quadratic")
simulate() {
	local smear=$1 dir pid node_pids=()
	dir=$(mktemp -d "$workdir/leap-$smear.XXXX")
	cat > "$dir/network" <<-EOF
		node1_step = (* -1.0 (equal 0.1 (sum 1.0) $LEAP))
		node2_offset = 0.01
		node2_freq = (+ 1e-5 (sum (* 1e-9 (normal))))
		node2_delay1 = (+ 1e-4 (* 1e-5 (exponential)))
		node1_delay2 = (+ 1e-4 (* 1e-5 (exponential)))
		node3_start = $((LEAP - 300))
		node3_offset = -0.01
		node3_freq = (+ -1e-5 (sum (* 1e-9 (normal))))
		node3_delay2 = (+ 1e-4 (* 1e-5 (exponential)))
		node2_delay3 = (+ 1e-4 (* 1e-5 (exponential)))
	EOF
	printf 'pidfile %s/chronyd.1.pid\nlocal stratum 1\nallow\n' "$dir" > "$dir/chrony.1.conf"
	node "$dir" 1 node1.log "$CHRONYD" -d -f "$dir/chrony.1.conf"
	sim_stratad_conf "$dir/stratad.conf" "sources = ( { server = \"192.168.123.1\"; iburst = true; minpoll = 4; maxpoll = 4; } );
clock = { leapsecond_list = \"/usr/share/zoneinfo/leap-seconds.list\"; leap_mode = \"system\";
	  driftfile = \"$dir/drift\"; };
serve = { listen = [ \"0.0.0.0\" ]; allow = [ \"192.168.123.0/24\" ];
	  leap_smear = \"$smear\"; $([ "$smear" = off ] || echo "leap_smear_duration = 600;") };"
	node "$dir" 2 node2.log "$STRATAD" -n -c "$dir/stratad.conf"
	printf 'pidfile %s/chronyd.3.pid\nserver 192.168.123.2 iburst minpoll 0 maxpoll 0\n' "$dir" > "$dir/chrony.3.conf"
	node "$dir" 3 node3.log "$CHRONYD" -d -f "$dir/chrony.3.conf"
	simulate_nodes "$dir" 3 "$SECONDS_RUN"
}

# around DIR COLUMN FROM TO: the node's offsets (ms) at those seconds, every 60 s
around() { awk -v c="$2" -v a="$3" -v b="$4" 'NR >= a && NR <= b && (NR - a) % 60 == 0 { printf "%s%d:%+.1f", (n++ ? " " : ""), NR - '"$LEAP"', $c * 1e3 } END { print "" }' "$1/offsets"; }
# fall DIR COLUMN FROM TO: the largest fall of the node's offset from one second to the next
fall() { awk -v c="$2" -v a="$3" -v b="$4" 'NR > a && NR <= b { d = p - $c; if (d > m) m = d } { p = $c } END { printf "%.6f\n", m }' "$1/offsets"; }
# at DIR COLUMN SECOND: the node's offset then
at() { awk -v c="$2" -v s="$3" 'NR == s { printf "%.6f\n", $c }' "$1/offsets"; }

dir=$(simulate quadratic)
check "smear: the simulation ran to its end (status $(cat "$dir/status"))" test "$(cat "$dir/status")" -eq 0
check "smear: stratad announced the leap from the list" grep -q 'announced by the leap table' "$dir/node2.log"
echo "smear: node 2 (stratad) offset in ms from midnight, per minute: $(around "$dir" 2 $((LEAP - 120)) $SECONDS_RUN)"
echo "smear: node 3 (chronyd, served smeared time) in ms: $(around "$dir" 3 $((LEAP - 120)) $SECONDS_RUN)"
o2=$(at "$dir" 2 $((LEAP + 60)))
check "smear: the (simulated) kernel of stratad's node inserted the second: $o2 s a minute after midnight" \
	awk -v o="$o2" 'BEGIN { exit !(o < -0.999 && o > -1.001) }'
f3=$(fall "$dir" 3 $((LEAP - 60)) $SECONDS_RUN)
check "smear: chronyd never fell by more than 10 ms in a second across the leap (largest fall $f3 s)" \
	awk -v f="$f3" 'BEGIN { exit !(f < 0.010) }'
o3=$(at "$dir" 3 $((LEAP + 700)))
check "smear: chronyd is on UTC once the smear is over ($o3 s against leap-free time 700 s after midnight)" \
	awk -v o="$o3" 'BEGIN { exit !(o < -0.995 && o > -1.005) }'
half=$(at "$dir" 3 $((LEAP + 300)))
check "smear: halfway through chronyd is half a second on ($half s)" \
	awk -v o="$half" 'BEGIN { exit !(o < -0.4 && o > -0.6) }'
check "smear: chronyd neither stepped nor heard of a leap second" \
	bash -c "! grep -Eqi 'leap second|System clock wrong|clock was stepped' '$dir/node3.log'"

dir=$(simulate off)
check "plain: the simulation ran to its end (status $(cat "$dir/status"))" test "$(cat "$dir/status")" -eq 0
echo "plain: node 3 (chronyd) in ms: $(around "$dir" 3 $((LEAP - 120)) $((LEAP + 240)))"
f3=$(fall "$dir" 3 $((LEAP - 5)) $((LEAP + 5)))
check "plain: chronyd took stratad's leap bits and inserted the second (a fall of $f3 s at midnight)" \
	awk -v f="$f3" 'BEGIN { exit !(f > 0.99 && f < 1.01) }'
check "plain: chronyd's log says so (what the smeared run must not show)" \
	grep -Eqi 'leap second|System clock wrong|clock was stepped' "$dir/node3.log"
finish leap-smear
