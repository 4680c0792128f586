#!/bin/bash
# A reference clock in clknetsim: stratad and chronyd 4.3 in turn on a node
# whose only source is an SHM refclock (what gpsd writes), which the
# simulator fills once a second with true time plus Gaussian noise. The
# node's clock starts 10 ms off and 100 ppm fast, and its frequency wanders
# as a random walk. Prints the RMS and largest offset from true time after
# the first 2000 s, per seed and their median, and stratad's RMS over
# chronyd's; checks that stratad ran the whole simulation, synchronized to
# the refclock, (median) averaged its noise down below one reading's and
# woke at most twice as often as chronyd (the simulator counts wakeups).
# A benchmark (bench/clknetsim-refclock), not in make check: a few minutes.
# Knobs: CLKNETSIM_SEEDS (default "1 2 3"), REFCLOCK_CELLS ("noise:wander"
# pairs, seconds and per sqrt(s)), REFCLOCK_SECONDS (default 50000),
# CLKNETSIM_STRATAD_CLOCK (settings added to stratad's clock group).
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
run_in_netns "$@"
SEEDS=${CLKNETSIM_SEEDS:-1 2 3}
CELLS=${REFCLOCK_CELLS:-1e-6:1e-9 1e-6:1e-8 1e-4:1e-9}
SETTLE=2000
SECONDS_RUN=${REFCLOCK_SECONDS:-50000}
SIM_TIMEOUT=120

# simulate CLIENT NOISE WANDER: the run's directory
simulate() {
	local client=$1 noise=$2 wander=$3 dir node_pids=()
	dir=$(mktemp -d "$workdir/$client.XXXX")
	cat > "$dir/network" <<-EOF
		node1_offset = 0.01
		node1_freq = (+ 1e-4 (sum (* $wander (normal))))
		node1_refclock = (* $noise (normal))
	EOF
	if [ "$client" = stratad ]; then
		sim_stratad_conf "$dir/stratad.conf" "sources = ();
refclocks = ( { driver = \"SHM\"; device = \"0\"; refid = \"GPS\"; } );
clock = { driftfile = \"$dir/drift\"; ${CLKNETSIM_STRATAD_CLOCK:-} };"
		node "$dir" 1 node1.log "$STRATAD" -n -c "$dir/stratad.conf"
	else
		printf 'pidfile %s/chronyd.pid\nrefclock SHM 0 refid GPS\n' "$dir" > "$dir/chrony.conf"
		node "$dir" 1 node1.log "$CHRONYD" -d -f "$dir/chrony.conf"
	fi
	simulate_nodes "$dir" 1 "$SECONDS_RUN"
}

# settled DIR: "RMS MAX" of the node's offset in us after SETTLE seconds
settled() {
	awk -v skip="$SETTLE" 'NR > skip { a = $1 < 0 ? -$1 : $1; s += a * a; n++; if (a > m) m = a }
		END { if (n) printf "%.3f %.3f\n", sqrt(s / n) * 1e6, m * 1e6; else print "nan nan" }' "$1/offsets"
}
median() { tr ' ' '\n' | grep . | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

for cell in $CELLS; do
	noise=${cell%:*} wander=${cell#*:}
	declare -A rms=() max=() wakeup=()
	for client in stratad chronyd; do
		rms_list="" max_list="" wakeup_list=""
		for seed in $SEEDS; do
			dir=$(simulate "$client" "$noise" "$wander")
			read -r r m < <(settled "$dir")
			rms_list="$rms_list $r" max_list="$max_list $m"
			wakeup_list="$wakeup_list $(awk -F'\t' '/^Mean wakeup interval/ { printf "%.3f", $2 }' "$dir/stats")"
			[ "$client" = stratad ] || continue
			check "noise $noise, wander $wander, seed $seed: the simulation ran to its end" \
				test "$(cat "$dir/status")" -eq 0
			check "noise $noise, wander $wander, seed $seed: stratad synchronized to the refclock" \
				grep -q 'synchronized to GPS, stratum 1' "$dir/node1.log"
		done
		rms[$client]=$(echo "$rms_list" | median)
		max[$client]=$(echo "$max_list" | median)
		wakeup[$client]=$(echo "$wakeup_list" | median)
		printf '%-8s noise %-6s wander %-6s RMS %9s us  max %9s us  wakes every %s s  (RMS per seed:%s)\n' \
			"$client" "$noise" "$wander" "${rms[$client]}" "${max[$client]}" "${wakeup[$client]}" "$rms_list"
	done
	# the simulator counts each node's wakeups: a refclock read once a second, as chronyd reads it
	check "noise $noise, wander $wander: stratad wakes every ${wakeup[stratad]} s, at most twice as often as chronyd (${wakeup[chronyd]} s)" \
		awk -v a="${wakeup[stratad]}" -v b="${wakeup[chronyd]}" 'BEGIN { exit !(a > 0 && a >= b / 2) }'
	echo "noise $noise, wander $wander: stratad's RMS / chronyd's: $(awk -v a="${rms[stratad]}" \
		-v b="${rms[chronyd]}" 'BEGIN { printf "%.2f", a / b }')"
	check "noise $noise, wander $wander: stratad's median RMS ${rms[stratad]} us is below one reading's noise" \
		awk -v a="${rms[stratad]}" -v n="$noise" 'BEGIN { exit !(a < n * 1e6) }'
	unset rms max wakeup
done
finish clknetsim-refclock
