# Helpers for the stratad interop tests: real processes on loopback inside a
# private network namespace, the peers unpacked by tests/peers/fetch into
# .peers/. Every process started here is killed by its PID on exit.
# Nothing here may touch the host clock: stratad runs with -x, chronyd with
# -x, ntpsec with "disable ntp", and all of them without CAP_SYS_TIME.

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
if [ -z "${STRATA_BUILD:-}" ]; then
	if [ -x ./src/stratad ]; then STRATA_BUILD=$(pwd); else STRATA_BUILD=$top/build; fi
fi
STRATAD=$STRATA_BUILD/src/stratad
STRATACTL=$STRATA_BUILD/src/stratactl
PEERS=${STRATA_PEERS:-$top/.peers/root}
CHRONYD=$PEERS/chrony/usr/sbin/chronyd
NTPSEC=$PEERS/ntpsec/usr/sbin/ntpd
NOCAP=(setpriv --bounding-set=-sys_time --inh-caps=-sys_time)
# Peers never outlive a test, even one killed before its cleanup runs.
BOUNDED=(timeout "${PEERS_LIFETIME:-600}")

passed=0
failed=0
started_pids=()

ok() { passed=$((passed + 1)); echo "ok: $*"; }
not_ok() { failed=$((failed + 1)); echo "FAIL: $*"; }
# check DESCRIPTION COMMAND...: passes when the command succeeds.
check() {
	local what=$1
	shift
	if "$@"; then ok "$what"; else not_ok "$what"; fi
}
finish() {
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
}
skip() {
	echo "SKIP: $*"
	echo "0 passed, 0 failed"
	exit 77
}

need_stratad() {
	[ -x "$STRATAD" ] && [ -x "$STRATACTL" ] || skip "stratad not built in $STRATA_BUILD"
}
need_peers() {
	[ -x "$CHRONYD" ] || skip "no chronyd in $PEERS (run tests/peers/fetch)"
	for p in "$@"; do
		case $p in
		ntpsec) [ -x "$NTPSEC" ] || skip "no ntpsec in $PEERS (run tests/peers/fetch)" ;;
		esac
	done
	command -v faketime > /dev/null || skip "faketime is not installed"
}

# Runs the calling script again inside a new network namespace with only lo.
in_netns() {
	if [ -z "${STRATA_IN_NETNS:-}" ]; then
		[ "$(id -u)" = 0 ] || skip "needs root for unshare -n"
		STRATA_IN_NETNS=1 exec unshare -n bash "$0" "$@"
	fi
	ip link set lo up
	for a in 2 3 4 5 6 7; do ip addr add 127.0.0.$a/8 dev lo 2> /dev/null; done
}

workdir=$(mktemp -d /tmp/strata-interop.XXXXXX)
chmod 755 "$workdir"

cleanup() {
	local pid
	for pid in "${started_pids[@]}"; do
		kill "$pid" 2> /dev/null
	done
	sleep 0.3
	for pid in "${started_pids[@]}"; do
		kill -9 "$pid" 2> /dev/null
	done
	if [ -n "${KEEP_WORKDIR:-}" ]; then echo "logs in $workdir"; else rm -rf "$workdir"; fi
}
trap cleanup EXIT

# start_chronyd NAME ADDRESS PORT [FAKETIME_OFFSET]: a stratum 1 server on
# ADDRESS:PORT serving its own clock, which never adjusts anything. Sets
# CHRONYD_PID.
start_chronyd() {
	local name=$1 addr=$2 port=$3 fake=${4:-}
	cat > "$workdir/$name.conf" <<-EOC
		bindaddress $addr
		port $port
		local stratum 1
		allow 127.0.0.0/8
		cmdport 0
		pidfile $workdir/$name.pid
		driftfile $workdir/$name.drift
	EOC
	if [ -n "$fake" ]; then
		"${BOUNDED[@]}" faketime -f "$fake" "${NOCAP[@]}" "$CHRONYD" -x -d -u root -f "$workdir/$name.conf" \
			> "$workdir/$name.log" 2>&1 &
	else
		"${BOUNDED[@]}" "${NOCAP[@]}" "$CHRONYD" -x -d -u root -f "$workdir/$name.conf" \
			> "$workdir/$name.log" 2>&1 &
	fi
	CHRONYD_PID=$!
	started_pids+=("$CHRONYD_PID")
}

# start_ntpsec ADDRESS: ntpsec's ntpd on ADDRESS:123 (it knows no other
# port) in orphan mode at stratum 3, its clock discipline disabled.
start_ntpsec() {
	local addr=$1
	cat > "$workdir/ntpsec.conf" <<-EOC
		tos orphan 3 orphanwait 1
		interface ignore all
		interface listen $addr
		disable ntp
		disable kernel
		driftfile $workdir/ntpsec.drift
	EOC
	LD_LIBRARY_PATH=$PEERS/ntpsec/usr/lib/x86_64-linux-gnu "${BOUNDED[@]}" "${NOCAP[@]}" "$NTPSEC" -n \
		-c "$workdir/ntpsec.conf" -p "$workdir/ntpsec.pid" > "$workdir/ntpsec.log" 2>&1 &
	NTPSEC_PID=$!
	started_pids+=("$NTPSEC_PID")
}

# start_stratad CONF [WRAPPER...]: stratad -x in the foreground. Sets STRATAD_PID.
start_stratad() {
	local conf=$1
	shift
	"$@" "${NOCAP[@]}" "$STRATAD" -n -x -c "$conf" > "$workdir/stratad.log" 2>&1 &
	STRATAD_PID=$!
	started_pids+=("$STRATAD_PID")
}

stop_pid() {
	kill "$1" 2> /dev/null
	wait "$1" 2> /dev/null
}

ctl() { "$STRATACTL" -s "$workdir/run/stratad.sock" "$@"; }

# wait_for SECONDS COMMAND...: true as soon as the command succeeds.
wait_for() {
	local deadline=$((SECONDS + $1))
	shift
	while [ $SECONDS -lt $deadline ]; do
		"$@" && return 0
		sleep 0.5
	done
	"$@"
}

# A source's line in "stratactl sources": its mark, stratum, poll, reach...
source_line() { ctl sources | grep -F " $1 "; }
source_mark() { source_line "$1" | cut -c1; }
source_reach() { source_line "$1" | awk '{ print $(NF - 4) }'; }
source_used() { [[ "$(source_mark "$1")" == [*+] ]]; }
source_is_falseticker() { [ "$(source_mark "$1")" = x ]; }
# The last two polls of the source went unanswered.
source_reach_lost() { local r; r=$(source_reach "$1") && [ $((0$r & 3)) -eq 0 ]; }
synced() { ctl tracking | grep -q '^Sync state      : synchronized'; }
