# Sourced first by the clknetsim scripts: the simulator and every node run
# without CAP_SYS_TIME (a node whose preload failed would reach the real
# clock and be refused), as root, with the peers, stratad and a clknetsim
# build (skip, 77, without them), in a network namespace of their own (were a
# preload to fail, nothing could leave the machine either). Then
# CLKNETSIM_PATH is the build. The calling script's arguments go along.
clknetsim_here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$clknetsim_here/../peers/lib.sh"
if [ "$(id -u)" -eq 0 ] && ! peers_check_nocap; then
	exec "${PEERS_NOCAP[@]}" "$0" "$@"
fi
. "$clknetsim_here/../interop/stratad_lib.sh"

need_root "to run everything without CAP_SYS_TIME"
need_peers
need_stratad
CLKNETSIM_PATH=${CLKNETSIM_PATH:-$PEERS_TOP/.peers/clknetsim}
[ -f "$CLKNETSIM_PATH/clknetsim.so" ] && [ -x "$CLKNETSIM_PATH/clknetsim" ] ||
	skip "no clknetsim build in $CLKNETSIM_PATH (see tests/peers/fetch)"

# node DIR N LOGNAME CMD...: node N of the simulation in DIR, in the
# background, preloaded with clknetsim and seeded with $seed (default 1);
# its PID joins node_pids. CLKNETSIM_START_DATE, when the caller exports it,
# goes along. An AddressSanitizer build of stratad tolerates the preload
# ahead of it.
node() {
	local dir=$1 n=$2 log=$3
	shift 3
	LD_PRELOAD="$CLKNETSIM_PATH/clknetsim.so" CLKNETSIM_NODE=$n CLKNETSIM_SOCKET="$dir/sock" \
		CLKNETSIM_RANDOM_SEED=${seed:-1} ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
		"$@" > "$dir/$log" 2>&1 &
	peers_track $!
	node_pids+=($!)
}

# sim_stratad_conf FILE SETTINGS: a stratad.conf for a simulated node, with
# SETTINGS (sources, clock, serve, refclocks) and what every one runs with:
# its clock calls in-process and no seccomp filter. The preload keeps the
# simulated clock in the memory of the process that calls it (a forked clock
# process would steer a copy) and asserts on any socket it does not simulate
# (the socketpair) and on syscall(), which libseccomp uses. The clock process
# adds a ~8 us round trip to clock changes only, never to a timestamp
# (tests/interop/privsep_probe measures it).
sim_stratad_conf() {
	cat > "$1" <<-EOF
		$2
		control = { socket = ""; };
		pidfile = "";
		user = "root";
		log = { syslog = false; };
		security = { clock_process = false; seccomp = false; };
	EOF
}

# simulate_nodes DIR NODES SECONDS [ARG...]: the simulator on DIR's network
# file with NODES nodes for SECONDS simulated seconds (seed $seed, default
# 1; ARGs go to it), bounded by SIM_TIMEOUT wall seconds, its exit status in
# DIR/status; the nodes, which it ends with SIGTERM, get a bounded wait and
# then KILL. Prints DIR.
simulate_nodes() {
	local dir=$1 nodes=$2 seconds=$3
	shift 3
	CLKNETSIM_RANDOM_SEED=${seed:-1} timeout "$SIM_TIMEOUT" "$CLKNETSIM_PATH/clknetsim" -l "$seconds" \
		-o "$dir/offsets" -s "$dir/sock" "$@" "$dir/network" "$nodes" > "$dir/stats" 2> "$dir/simulator.log"
	echo $? > "$dir/status"
	for pid in "${node_pids[@]}"; do peers_stop "$pid" 5; done
	echo "$dir"
}
