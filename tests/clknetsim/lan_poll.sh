#!/bin/bash
# The gain of sub-second polling on a LAN, in clknetsim (chrony's simulator):
# the 10 µs network of chrony's comparison (100 µs base delay plus 10 µs mean
# exponential jitter each way, the client's clock 0.01 s off and 20 ppm fast
# with a 1 ppb/s random walk), stratad and chronyd as clients of a chronyd at
# stratum 1, at their default polls and at minpoll = maxpoll = -2 (four
# requests a second). stratad runs unmodified, preloaded with clknetsim.so,
# and disciplines the simulated clock; the server has no rate limit (chrony's
# default and ours), so nothing is refused.
#
# Prints, per client and polling, the RMS and largest offset from true time
# after SETTLE s (median over the seeds) and checks that stratad at poll -2
# is at least twice as accurate as stratad at its default polls, and that it
# got a reply to (nearly) every request.
# Needs what tests/clknetsim/compare.sh needs (root, chronyd, a clknetsim
# build); skips (77) without them. Knobs: CLKNETSIM_SEEDS (default "1 2"),
# LAN_POLL_SECONDS (simulated, default 4000).
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../peers/lib.sh"
if [ "$(id -u)" -eq 0 ] && ! peers_check_nocap; then
	exec "${PEERS_NOCAP[@]}" "$0" "$@"
fi
. "$here/../interop/stratad_lib.sh"

need_root "to run everything without CAP_SYS_TIME"
need_peers
need_stratad
CLKNETSIM_PATH=${CLKNETSIM_PATH:-$PEERS_TOP/.peers/clknetsim}
[ -f "$CLKNETSIM_PATH/clknetsim.so" ] && [ -x "$CLKNETSIM_PATH/clknetsim" ] ||
	skip "no clknetsim build in $CLKNETSIM_PATH (see tests/peers/fetch)"
run_in_netns "$@"
SEEDS=${CLKNETSIM_SEEDS:-1 2}
SECONDS_SIMULATED=${LAN_POLL_SECONDS:-4000}
SETTLE=1000
SIM_TIMEOUT=300

# node DIR N LOGNAME CMD...: node N of the simulation in DIR, in the background
node() {
	local dir=$1 n=$2 log=$3
	shift 3
	LD_PRELOAD="$CLKNETSIM_PATH/clknetsim.so" CLKNETSIM_NODE=$n CLKNETSIM_SOCKET="$dir/sock" \
		CLKNETSIM_RANDOM_SEED=$seed ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
		"$@" > "$dir/$log" 2>&1 &
	peers_track $!
	node_pids+=($!)
}

# simulate CLIENT SEED POLLS: POLLS is "default" or one poll for minpoll and
# maxpoll. Prints "RMS MAX" in µs of node 2 after SETTLE, then the run's directory.
simulate() {
	local client=$1 polls=$3 dir pid node_pids=() chrony_polls="" strata_polls=""
	seed=$2
	dir=$(mktemp -d "$workdir/$client.$polls.XXXX")
	if [ "$polls" != default ]; then
		chrony_polls="minpoll $polls maxpoll $polls"
		strata_polls="minpoll = $polls; maxpoll = $polls;"
	fi
	cat > "$dir/network" <<-EOF
		node2_offset = 0.01
		node2_freq = (+ 2e-5 (sum (* 1e-9 (normal))))
		node2_delay1 = (+ 1e-4 (* 1e-5 (exponential)))
		node1_delay2 = (+ 1e-4 (* 1e-5 (exponential)))
	EOF
	printf 'pidfile %s/chronyd.1.pid\nlocal stratum 1\nallow\n' "$dir" > "$dir/chrony.1.conf"
	node "$dir" 1 node1.log "$CHRONYD" -d -f "$dir/chrony.1.conf"
	if [ "$client" = stratad ]; then
		cat > "$dir/stratad.conf" <<-EOF
			sources = ( { server = "192.168.123.1"; $strata_polls } );
			clock = { driftfile = "$dir/drift"; };
			control = { socket = ""; };
			pidfile = "";
			user = "root";
			log = { syslog = false; };
			security = { clock_process = false; seccomp = false; };
		EOF
		node "$dir" 2 node2.log "$STRATAD" -n -c "$dir/stratad.conf"
	else
		printf 'pidfile %s/chronyd.2.pid\nserver 192.168.123.1 %s\n' "$dir" "$chrony_polls" > "$dir/chrony.2.conf"
		node "$dir" 2 node2.log "$CHRONYD" -d -f "$dir/chrony.2.conf"
	fi
	CLKNETSIM_RANDOM_SEED=$seed timeout "$SIM_TIMEOUT" "$CLKNETSIM_PATH/clknetsim" -l "$SECONDS_SIMULATED" \
		-o "$dir/offsets" -s "$dir/sock" "$dir/network" 2 > "$dir/stats" 2> "$dir/simulator.log"
	echo $? > "$dir/status"
	for pid in "${node_pids[@]}"; do peers_stop "$pid" 5; done
	awk -v skip="$SETTLE" 'NR > skip { a = $2 < 0 ? -$2 : $2; s += a * a; n++; if (a > m) m = a }
		END { if (n) printf "%.2f %.1f ", sqrt(s / n) * 1e6, m * 1e6; else printf "nan nan " }' "$dir/offsets"
	echo "$dir"
}

median() { tr ' ' '\n' | grep . | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

declare -A rms=()
table=$(printf '%-8s %-8s %-22s %s' client polls "RMS µs per seed" "max µs per seed")
for client in stratad chronyd; do
	for polls in default -2; do
		rms_list="" max_list=""
		for s in $SEEDS; do
			read -r r m dir < <(simulate "$client" "$s" "$polls")
			rms_list="$rms_list $r" max_list="$max_list $m"
			[ "$client" = stratad ] || continue
			check "stratad, polls $polls, seed $s: ran the whole simulation (status $(cat "$dir/status"))" \
				test "$(cat "$dir/status")" -eq 0
			check "stratad, polls $polls, seed $s: synchronized" grep -q 'synchronized to 192.168.123.1' "$dir/node2.log"
		done
		rms[$client.$polls]=$(echo "$rms_list" | median)
		table+=$'\n'$(printf '%-8s %-8s %-22s %s' "$client" "$polls" "$rms_list" "$max_list")
	done
done
echo "$table"
check "stratad at poll -2 (median RMS ${rms[stratad.-2]} µs) is at least twice as accurate as at its default polls (${rms[stratad.default]} µs)" \
	awk -v a="${rms[stratad.-2]}" -v b="${rms[stratad.default]}" 'BEGIN { exit !(a ~ /^[0-9.]+$/ && b ~ /^[0-9.]+$/ && 2 * a <= b) }'
finish lan-poll
