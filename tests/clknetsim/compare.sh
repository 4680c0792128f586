#!/bin/bash
# stratad and chronyd in clknetsim, the clock-and-network simulator of
# chrony's own test suite. Each in turn is node 2, the client of a chronyd
# that serves its own clock at stratum 1 on node 1, in the same simulated
# network: the same seed gives both the same delays and the same wander of
# node 2's oscillator. stratad runs
# unmodified, preloaded with clknetsim.so like chronyd, and disciplines the
# simulated clock (no -x: the simulator stands in for adjtimex).
#
# Node 2's clock starts 0.1 s off and 100 ppm fast, and its frequency
# wanders as a random walk; each way has a base delay of 100 us plus
# exponential jitter (the networks of chrony's public comparison, Tests 1
# and 2). Nodes 3 and 4, each a chronyd, are clients of node 2 in both:
# what node 2 serves (node 4 in the check and matrix cells only). Node 3
# polls as node 2 does (chronyd's defaults in the default cells). Node 4
# polls every 64 s whatever the cell: its k-th exchange meets the same
# delays in every run of a seed, so node 4 served by stratad and by chronyd
# differ only in the time served (the chain as a paired comparison). Node 3
# at the default polls is not paired: its poll follows its own
# measurements, and once two runs poll differently, its exchanges draw
# other delays.
#
# In the matrix a third run per seed serves nodes 3 and 4 an exact clock
# (node 2 a chronyd without sources, its clock never off, "ideal"): what
# their error would be were their server perfect, their own share of the
# chain.
#
# Prints, per network and client, the RMS and the largest offset of node 2
# from true time after the first 2000 s, node 3's and node 4's RMS, how
# often node 2's true offset exceeded the error bound it served node 3 (% of node 3's
# samples), that bound's median (the room its honesty takes; over the seeds,
# the median of each run's), and the means of node 2's offset and of node 3's from node 2
# (in the chain node 3 carries both: at 10 ms of jitter its own, which the
# seed sets whoever serves it, dominates), and checks that
# stratad ran the whole simulation, was synchronized, served node 3, left its
# frequency in the drift file at the simulator's closing SIGTERM, served a
# bound its true offset exceeded at no more than 1 % of node 3's samples, and that
# (medians over the seeds) its RMS offset is at least 20 % below chronyd's,
# its largest offset no larger than chronyd's, and node 4's RMS served by it
# no larger than served by chronyd (issue 11's chain).
#
# Needs root (setpriv drops CAP_SYS_TIME from every process here for good),
# chronyd from tests/peers/fetch, and a clknetsim build in CLKNETSIM_PATH
# (default .peers/clknetsim, which tests/peers/fetch clones and builds where
# github.com can be reached); skips (77) without them.
# Knobs: CLKNETSIM_SEEDS (default "1 2 3"); CLKNETSIM_CELLS: "check" (the
# default, two cells for make check), "matrix" (issue 11's eight: jitter
# 10 us to 10 ms, default polls with 1 ppb/s of wander and the poll fixed at
# 64 s with 10 ppb/s; bench/clknetsim-matrix runs it), "fidelity" (those
# and five more) or "lan" (the 10 us network for 6000 s at the default
# polls and at poll -2, for tests/clknetsim/lan_poll.sh: run and checked,
# but not held against chronyd); CLKNETSIM_ONLY: one network of those cells
# by name (PEERS_KEEP=1 keeps each run's logs and offset series);
# CLKNETSIM_STRATAD_CLOCK: settings added to stratad's clock group (to
# measure one against another: 'slew_method = "adjtime";');
# CLKNETSIM_TABLE: a file to which each run adds a line
# "network jitter minpoll maxpoll wander seconds seed client node2-RMS-us";
# CLKNETSIM_RESTART=yes: node 2 starts from the drift file it left at the
# end of a run of its own on another seed (seed + 1000), a daemon restarted
# after a boot before (both daemons keep one: chronyd's frequency and skew,
# stratad's frequency and wander); only the second run is measured.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
run_in_netns "$@"
SEEDS=${CLKNETSIM_SEEDS:-1 2 3}
RESTART=${CLKNETSIM_RESTART:-no}
SETTLE=2000          # simulated seconds left out of the figures
SIM_TIMEOUT=120      # wall seconds one simulation may take
# name, one-way delay jitter (mean of the exponential part, s), minpoll and
# maxpoll ("-": the client's defaults), the frequency's random walk (per
# sqrt(s)), simulated seconds
VERSUS_CHRONYD=yes
PAIRED_CLIENT=yes     # node 4 and the chain's check; not where only node 2's figures count
REFERENCE=            # "ideal" in the matrix: nodes 3 and 4 served a clock that is exact
case ${CLKNETSIM_CELLS:-check} in
lan)
	NETWORKS=(
		"lan-default 1e-5 - - 1e-9 6000"
		"lan-poll-2 1e-5 -2 -2 1e-9 6000"
	)
	VERSUS_CHRONYD=no PAIRED_CLIENT=no ;;
check)
	NETWORKS=(
		"default-10us 1e-5 - - 1e-9 100000"
		"poll64-100us 1e-4 6 6 1e-8 100000"
	) ;;
matrix|fidelity)
	[ "$CLKNETSIM_CELLS" = matrix ] && REFERENCE=ideal
	# fidelity.sh reads node 2 alone: node 4's 1500 exchanges a run would
	# only cost time (a sixth of each run at poll 16 s)
	[ "$CLKNETSIM_CELLS" = fidelity ] && PAIRED_CLIENT=no
	NETWORKS=()
	for jitter in 10us:1e-5 100us:1e-4 1ms:1e-3 10ms:1e-2; do
		NETWORKS+=("default-${jitter%:*} ${jitter#*:} - - 1e-9 100000")
	done
	for jitter in 10us:1e-5 100us:1e-4 1ms:1e-3 10ms:1e-2; do
		NETWORKS+=("poll64-${jitter%:*} ${jitter#*:} 6 6 1e-8 100000")
	done
	# tests/clknetsim/fidelity.sh: five more, for strata-sim to agree with
	# (the last at the largest wander the discipline learns)
	[ "$CLKNETSIM_CELLS" = fidelity ] && NETWORKS+=(
		"poll16-10us 1e-5 4 4 1e-9 100000"
		"poll16-100us 1e-4 4 4 1e-9 100000"
		"poll16-1ms 1e-3 4 4 1e-9 100000"
		"default-100us-10ppb 1e-4 - - 1e-8 100000"
		"default-100us-100ppb 1e-4 - - 1e-7 100000"
	) ;;
*)
	echo "CLKNETSIM_CELLS is check, matrix, fidelity or lan, not $CLKNETSIM_CELLS" >&2
	exit 2 ;;
esac
# CLKNETSIM_ONLY: run only the networks of that name (one cell while tuning)
if [ -n "${CLKNETSIM_ONLY:-}" ]; then
	only=()
	for net in "${NETWORKS[@]}"; do
		[ "${net%% *}" = "$CLKNETSIM_ONLY" ] && only+=("$net")
	done
	[ ${#only[@]} -gt 0 ] || { echo "no network $CLKNETSIM_ONLY in the cells ${CLKNETSIM_CELLS:-check}" >&2; exit 2; }
	NETWORKS=("${only[@]}")
fi

# [DRIFT_FROM=FILE] simulate CLIENT SEED JITTER MINPOLL MAXPOLL WANDER
# SECONDS: prints the directory of the run; its "status" file holds the
# simulator's exit status. Node 2 starts from the drift file FILE when set.
simulate() {
	local client=$1 jitter=$3 minpoll=$4 maxpoll=$5 wander=$6 seconds=$7 dir pid node_pids=() nodes=3
	local polls="minpoll $minpoll maxpoll $maxpoll" stratad_polls="minpoll = $minpoll; maxpoll = $maxpoll;"
	seed=$2
	[ "$minpoll" = - ] && polls="" stratad_polls=""
	dir=$(mktemp -d "$workdir/$client.XXXX")
	# the ideal server: node 2's clock is exact and stays so (a chronyd
	# serving it with no source never adjusts it). Its wander is drawn and
	# multiplied by 0: each random expression takes its seed from the one
	# before it, so the delays of nodes 3 and 4 stay those of the other runs.
	local node2_clock="node2_offset = 0.1
node2_freq = (+ 1e-4 (sum (* $wander (normal))))"
	[ "$client" = ideal ] && node2_clock="node2_offset = 0
node2_freq = (* 0 (sum (* $wander (normal))))"
	cat > "$dir/network" <<-EOF
		$node2_clock
		node2_delay1 = (+ 1e-4 (* $jitter (exponential)))
		node1_delay2 = (+ 1e-4 (* $jitter (exponential)))
		node3_offset = -0.01
		node3_freq = (+ -1e-5 (sum (* 1e-9 (normal))))
		node3_delay2 = (+ 1e-4 (* $jitter (exponential)))
		node2_delay3 = (+ 1e-4 (* $jitter (exponential)))
	EOF
	[ "$PAIRED_CLIENT" = yes ] && nodes=4 && cat >> "$dir/network" <<-EOF
		node4_offset = -0.01
		node4_freq = (+ -1e-5 (sum (* 1e-9 (normal))))
		node4_delay2 = (+ 1e-4 (* $jitter (exponential)))
		node2_delay4 = (+ 1e-4 (* $jitter (exponential)))
	EOF
	[ -z "${DRIFT_FROM:-}" ] || cp "$DRIFT_FROM" "$dir/drift"
	printf 'pidfile %s/chronyd.1.pid\nlocal stratum 1\nallow\n' "$dir" > "$dir/chrony.1.conf"
	node "$dir" 1 node1.log "$CHRONYD" -d -f "$dir/chrony.1.conf"
	if [ "$client" = stratad ]; then
		sim_stratad_conf "$dir/stratad.conf" "sources = ( { server = \"192.168.123.1\"; $stratad_polls } );
clock = { driftfile = \"$dir/drift\"; ${CLKNETSIM_STRATAD_CLOCK:-} };
serve = { listen = [ \"0.0.0.0\" ]; allow = [ \"192.168.123.0/24\" ]; };"
		node "$dir" 2 node2.log "$STRATAD" -n -c "$dir/stratad.conf"
	elif [ "$client" = ideal ]; then
		printf 'pidfile %s/chronyd.2.pid\nlocal stratum 2\nallow\n' "$dir" > "$dir/chrony.2.conf"
		node "$dir" 2 node2.log "$CHRONYD" -d -f "$dir/chrony.2.conf"
	else
		printf 'pidfile %s/chronyd.2.pid\nserver 192.168.123.1 %s\nallow\n' \
			"$dir" "$polls" > "$dir/chrony.2.conf"
		[ "$RESTART" = no ] || printf 'driftfile %s/drift\n' "$dir" >> "$dir/chrony.2.conf"
		node "$dir" 2 node2.log "$CHRONYD" -d -f "$dir/chrony.2.conf"
	fi
	printf 'pidfile %s/chronyd.3.pid\nserver 192.168.123.2 %s\nlogdir %s\nlog measurements\n' \
		"$dir" "$polls" "$dir" > "$dir/chrony.3.conf"
	node "$dir" 3 node3.log "$CHRONYD" -d -f "$dir/chrony.3.conf"
	if [ "$PAIRED_CLIENT" = yes ]; then
		printf 'pidfile %s/chronyd.4.pid\nserver 192.168.123.2 minpoll 6 maxpoll 6\n' "$dir" > "$dir/chrony.4.conf"
		node "$dir" 4 node4.log "$CHRONYD" -d -f "$dir/chrony.4.conf"
	fi
	simulate_nodes "$dir" "$nodes" "$seconds" -f "$dir/frequencies" -g "$dir/oscillator"
}

# settled DIR NODE: "RMS MAX" of the node's offset in µs after SETTLE seconds
settled() {
	awk -v skip="$SETTLE" -v col="$2" 'NR > skip { a = $col < 0 ? -$col : $col; s += a * a; n++; if (a > m) m = a }
		END { if (n) printf "%.1f %.1f\n", sqrt(s / n) * 1e6, m * 1e6; else print "nan nan" }' "$1/offsets"
}

# node3_samples DIR: for each of node 3's measurements after SETTLE seconds,
# node 2's true offset (absolute, interpolated between the simulator's
# per-second lines) and the error bound node 2 served in that reply: half
# its root delay plus its root dispersion, as node 3's chronyd logged them
# (measurements.log: date, time, ..., root delay and dispersion in columns
# 15 and 16), in seconds
node3_samples() {
	awk -v skip="$SETTLE" 'FNR == NR { off[FNR] = $2; next }
		/^[12][0-9][0-9][0-9]-/ {
			split($2, hms, ":"); split($1, ymd, "-")
			t = (ymd[3] - 1) * 86400 + hms[1] * 3600 + hms[2] * 60 + hms[3]
			if (ymd[2] != 1 || ymd[1] != 2010 || t < skip) next
			i = int(t); f = t - i; o = off[i] * (1 - f) + off[i + 1] * f
			print (o < 0 ? -o : o), $15 / 2 + $16
		}' "$1/offsets" "$1/measurements.log"
}

# exceeded < node3_samples: the percentage of node 3's measurements at which
# node 2's true offset was larger than the bound it served
exceeded() {
	awk '{ n++; if ($1 > $2) e++ } END { if (n) printf "%.1f\n", 100 * e / n; else print "nan" }'
}

# bound < node3_samples: the median bound node 2 served node 3 (µs): how
# much room its honesty takes
bound() { awk '{ printf "%.0f\n", $2 * 1e6 }' | median; }

# chain DIR: "A/B", node 2's mean offset from true time and node 3's mean
# offset from node 2 (us) after SETTLE seconds: what node 3's error in the
# chain is made of, the bias node 2 passes on and node 3's own
chain() {
	awk -v skip="$SETTLE" 'NR > skip { a += $2; b += $3 - $2; n++ }
		END { if (n) printf "%.0f/%.0f\n", a / n * 1e6, b / n * 1e6; else print "nan" }' "$1/offsets"
}

median() { tr ' ' '\n' | grep . | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

table=$(printf '%-14s %-8s %9s %9s %9s %9s   %-22s %-22s %-22s %-22s %-14s %-9s %s' network node2 "RMS µs" \
	"max µs" "node 3" "node 4" "node 2 RMS per seed" "node 2 max per seed" "node 3 RMS per seed" \
	"node 4 RMS per seed" "% beyond bound" "bound µs" "mean µs: node 2 / node 3 - node 2, per seed")
for net in "${NETWORKS[@]}"; do
	read -r name jitter minpoll maxpoll wander seconds <<< "$net"
	declare -A rms=() max=() served=() paired=()
	for client in stratad chronyd $REFERENCE; do
		rms_list="" max_list="" served_list="" paired_list="" exceeded_list="" bound_list="" chain_list=""
		for s in $SEEDS; do
			drift_from=
			if [ "$RESTART" = yes ] && [ "$client" != ideal ]; then
				before=$(simulate "$client" $((s + 1000)) "$jitter" "$minpoll" "$maxpoll" "$wander" "$seconds")
				drift_from=$before/drift
				check "$name seed $s: $client left a drift file to restart from ($(cat "$drift_from" 2>/dev/null))" \
					test -s "$drift_from"
			fi
			dir=$(DRIFT_FROM=$drift_from simulate "$client" "$s" "$jitter" "$minpoll" "$maxpoll" "$wander" "$seconds")
			read -r r m < <(settled "$dir" 2)
			read -r r3 _ < <(settled "$dir" 3)
			r4=-
			[ "$PAIRED_CLIENT" = no ] || read -r r4 _ < <(settled "$dir" 4)
			rms_list="$rms_list $r" max_list="$max_list $m" served_list="$served_list $r3"
			paired_list="$paired_list $r4"
			samples=$(node3_samples "$dir")
			exceeded_list="$exceeded_list $(exceeded <<< "$samples")"
			bound_list="$bound_list $(bound <<< "$samples")"
			chain_list="$chain_list $(chain "$dir")"
			[ -z "$CLKNETSIM_TABLE" ] || echo "$net $s $client $r" >> "$CLKNETSIM_TABLE"
			[ "$client" = stratad ] || continue
			what="$name seed $s: stratad"
			check "$what ran the whole simulation (simulator status $(cat "$dir/status"))" \
				test "$(cat "$dir/status")" -eq 0
			check "$what synchronized to node 1" grep -q 'synchronized to 192.168.123.1' "$dir/node2.log"
			check "$what served node 3, whose chronyd selected it" \
				grep -q 'Selected source 192.168.123.2' "$dir/node3.log"
			[ "$PAIRED_CLIENT" = no ] || check "$what served node 4, whose chronyd selected it" \
				grep -q 'Selected source 192.168.123.2' "$dir/node4.log"
			check "$what exited on the simulator's SIGTERM" grep -q 'exiting on signal 15' "$dir/node2.log"
			# the oscillator at the end, as the simulator logged it, is what
			# the saved frequency must cancel: within 5 ppm (the estimate's
			# own error at 10 ms of jitter and 10 ppb/s reaches 3 ppm), where
			# an unsaved or initial frequency would be 100 ppm off
			drift=$(awk 'NR == 1 { print $1 }' "$dir/drift" 2>/dev/null)
			oscillator=$(tail -n 1 "$dir/oscillator" | awk '{ printf "%.3f", $2 * 1e6 }')
			check "$what saved a frequency of -($oscillator) ±5 ppm (drift file: ${drift:-none})" \
				awk -v f="${drift:-nan}" -v o="$oscillator" 'BEGIN { exit !(f + o < 5 && f + o > -5) }'
			learnt=$(sed -n 's/.* wander=\([0-9.e+-]*\)$/\1/p' "$dir/drift" 2>/dev/null)
			check "$what saved the wander it learnt with it (${learnt:-none} ppm/sqrt(s), the oscillator's $wander s/s/sqrt(s))" \
				awk -v w="${learnt:-0}" 'BEGIN { exit !(w > 0) }'
			[ -z "$drift_from" ] || check "$what started from the drift file's frequency and wander" \
				grep -q 'wander .* from .*/drift$' "$dir/node2.log"
		done
		rms[$client]=$(echo "$rms_list" | median)
		max[$client]=$(echo "$max_list" | median)
		served[$client]=$(echo "$served_list" | median)
		paired[$client]=$(echo "$paired_list" | median)
		[ "$client" = stratad ] && check "$name: the true offset of stratad exceeded the bound it served (root delay / 2 + root dispersion) at $(echo "$exceeded_list" | median) % of node 3's samples, at most 1 % (median; per seed:$exceeded_list)" \
			awk -v e="$(echo "$exceeded_list" | median)" 'BEGIN { exit !(e <= 1.0) }'
		table+=$'\n'$(printf '%-14s %-8s %9s %9s %9s %9s  %-22s %-22s %-22s %-22s %-14s %-9s %s' "$name" \
			"$client" "${rms[$client]}" "${max[$client]}" "${served[$client]}" "${paired[$client]}" \
			"$rms_list" "$max_list" "$served_list" "$paired_list" "$exceeded_list" \
			"$(echo "$bound_list" | median)" "$chain_list")
	done
	if [ "$VERSUS_CHRONYD" = no ]; then
		unset rms max served paired
		continue
	fi
	check "$name: stratad's median RMS ${rms[stratad]} µs is at least 20 % below chronyd's ${rms[chronyd]} µs" \
		awk -v a="${rms[stratad]}" -v b="${rms[chronyd]}" 'BEGIN { exit !(a <= 0.8 * b) }'
	check "$name: stratad's median largest offset ${max[stratad]} µs is no larger than chronyd's ${max[chronyd]} µs" \
		awk -v a="${max[stratad]}" -v b="${max[chronyd]}" 'BEGIN { exit !(a <= b) }'
	[ "$PAIRED_CLIENT" = no ] || check "$name: node 4 (poll 64 s, paired) served by stratad, median ${paired[stratad]} µs, no worse than served by chronyd, ${paired[chronyd]} µs" \
		awk -v a="${paired[stratad]}" -v b="${paired[chronyd]}" 'BEGIN { exit !(a <= b) }'
	unset rms max served paired
done
echo "$table"
finish clknetsim
