#!/bin/bash
# contrib/strata-wait.service under a real systemd: a unit After= and Wants=
# time-sync.target starts only once `stratactl waitsync` has seen stratad
# synchronized to a chronyd on loopback (which comes up 2 s late, so that a
# unit not ordered so sees the clock unsynchronized); and when stratad cannot
# synchronize, only after the wait unit timed out (TimeoutStartSec shortened
# from 180 s to 8 s in the test's copy, which is otherwise the unit as built,
# hardening included).
#
# systemd runs as PID 1 of private PID, mount, network, UTS, IPC and cgroup
# namespaces, with a private /run (where the control socket is: the wait
# unit's DynamicUser= gives it a private /tmp), /etc/systemd/system and
# /var/lib/systemd, in a cgroup made for it (its cgroup namespace's root,
# removed at the end), and without CAP_SYS_TIME (nor anything in it:
# checked; stratad -x, chronyd -x). Its default unit is a test target; every
# test unit has DefaultDependencies=no, so nothing of this machine's
# configuration starts (checked: no other unit ever left the inactive
# state). Results come back in files of a directory under /tmp, which the
# namespace shares. Skipped (77) where this cannot run: not root, no
# systemd, no cgroup2, no chronyd. About 12 s.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${STRATA_BUILD:-$top/build}
systemd=${STRATA_SYSTEMD:-/lib/systemd/systemd}
wait_timeout=8
shared=/run/strata-test   # the test's directory, in the namespace

# --- inside the namespaces: PID 1 until it becomes systemd ------------------
# --pid1 MODE WORK: MODE sync (stratad's server is chronyd) or nosync (its
# server port is closed). Sets up the private mounts and the upstream, then
# execs systemd.
if [ "${1:-}" = --pid1 ]; then
	mode=$2 work=$3
	set -e
	mount --make-rprivate /
	ip link set lo up
	# the cgroup namespace's root is the cgroup made for this test
	mount -t tmpfs -o mode=755 tmpfs /sys/fs/cgroup
	mount -t cgroup2 cgroup2 /sys/fs/cgroup
	# the test's directory, shared with the host, at $shared
	mount -t tmpfs -o mode=755 tmpfs /run
	mkdir -p "$shared" && mount --bind "$work" "$shared"
	for d in /tmp /var/tmp /etc/systemd/system /var/lib/systemd /var/log/journal; do
		[ -d "$d" ] && mount -t tmpfs -o mode=1777 tmpfs "$d"
	done
	cp "$shared"/units/* /etc/systemd/system/
	# never this machine's console
	: >"$shared/console"
	mount --bind "$shared/console" /dev/console
	. "$top/tests/peers/lib.sh"
	if [ "$mode" = sync ]; then
		PEERS_TMP=$shared/peers PEERS_LIFETIME=60 PEERS_STRATUM=1
		mkdir -p "$PEERS_TMP" && : >"$PEERS_TMP/pids"
		# up 2 s after systemd, so that stratad starts unsynchronized
		(sleep 2 && start_chronyd_server 11123 >"$shared/chronyd.pid") &
	fi
	exec env container=strata-test "${PEERS_NOCAP[@]}" \
		"$systemd" --system --unit=strata-test.target --log-target=console --log-level=info \
		--show-status=no </dev/null
fi

. "$top/tests/checks.sh"
. "$top/tests/peers/lib.sh"
[ "$(id -u)" = 0 ] || skip "needs root (systemd as PID 1 of private namespaces)"
[ -x "$systemd" ] || skip "no systemd at $systemd"
[ -x "$CHRONYD" ] || skip "chronyd missing: run tests/peers/fetch"
cgroot=$(findmnt -n -t cgroup2 -o TARGET | head -1)
[ -n "$cgroot" ] || skip "no cgroup2 hierarchy mounted"
cgparent=$cgroot$(sed -n 's/^0:://p' /proc/self/cgroup)
mkdir "${cgparent%/}/strata-wait-sync.probe.$$" 2>/dev/null && rmdir "${cgparent%/}/strata-wait-sync.probe.$$" ||
	skip "cannot make a cgroup under $cgparent for systemd"
make -s -C "$build" contrib/strata-wait.service src/stratad src/stratactl >/dev/null || exit 1
STRATACTL=$build/src/stratactl

work=$(mktemp -d /tmp/strata-wait-sync.XXXXXX)
chmod 755 "$work"
cgroup=
ns_pid=
# stop NS_PID: kill the namespace's systemd (PID 1 there: the whole
# namespace goes with it), then remove the cgroups it made in ours
stop_ns() {
	if [ -n "$ns_pid" ]; then
		kill -KILL "$ns_pid" 2>/dev/null
		for _ in $(seq 50); do [ -d "/proc/$ns_pid" ] || break; sleep 0.1; done
		ns_pid=
	fi
	wait 2>/dev/null
	[ -n "$cgroup" ] && wait_for 5 bash -c "! grep -qs . '$cgroup'/cgroup.procs '$cgroup'/*/cgroup.procs '$cgroup'/*/*/cgroup.procs"
	[ -n "$cgroup" ] && [ -d "$cgroup" ] && find "$cgroup" -depth -type d -exec rmdir {} + 2>/dev/null
	cgroup=
}
trap 'stop_ns; [ -n "${STRATA_KEEP:-}" ] || rm -rf "$work"' EXIT

# make_units MODE: the test's units, in $work/units
make_units() {
	local units=$work/units upstream_port=11123
	rm -rf "$units" "$work/out" && mkdir -p "$units" "$work/out"
	[ "$1" = nosync ] && upstream_port=11124   # nobody listens there
	cat >"$work/stratad.conf" <<EOC
sources = ( { server = "127.0.0.1"; port = $upstream_port; iburst = true; minpoll = 0; maxpoll = 0; } );
clock = { driftfile = "$shared/drift"; };
control = { socket = "/run/strata/stratad.sock"; };
pidfile = "";
EOC
	cat >"$units/strata-test.target" <<EOF
[Unit]
Description=strata wait-sync test
DefaultDependencies=no
Wants=stratad.service strata-wait.service early.service dependent.service
EOF
	cat >"$units/stratad.service" <<EOF
[Unit]
DefaultDependencies=no
[Service]
Type=notify
RuntimeDirectory=strata
ExecStart=$build/src/stratad -n -x -c $shared/stratad.conf
CapabilityBoundingSet=~CAP_SYS_TIME
StandardOutput=append:$shared/out/stratad.log
StandardError=append:$shared/out/stratad.log
EOF
	# the shipped unit, running the built stratactl on the test's socket,
	# kept off this machine's sysinit.target, with a short timeout
	sed -e "s|^ExecStart=[^ ]*|ExecStart=$STRATACTL -s /run/strata/stratad.sock|" \
		-e "s|^TimeoutStartSec=.*|TimeoutStartSec=$wait_timeout|" \
		-e "s|^\[Unit\]|[Unit]\nDefaultDependencies=no|" \
		"$build/contrib/strata-wait.service" >"$units/strata-wait.service"
	# what a unit sees when nothing orders it after the sync (the control)
	# and what the dependent unit sees
	local name after
	for name in early dependent; do
		after="After=stratad.service"
		[ $name = dependent ] && after="After=time-sync.target
Wants=time-sync.target"
		cat >"$units/$name.service" <<EOF
[Unit]
DefaultDependencies=no
$after
[Service]
Type=oneshot
ExecStart=/bin/sh -c '$STRATACTL -s /run/strata/stratad.sock tracking >$shared/out/$name.tracking 2>&1; touch $shared/out/$name.done'
CapabilityBoundingSet=~CAP_SYS_TIME
EOF
	done
}

# no_sys_time_in CGROUP: no process of CGROUP or below has CAP_SYS_TIME
no_sys_time_in() {
	local pid n=0
	for pid in $(find "$1" -name cgroup.procs -exec cat {} +); do
		peers_pid_lacks_sys_time "$pid" || { [ -d "/proc/$pid" ] && return 1; }
		n=$((n + 1))
	done
	echo "$n processes checked"
	[ "$n" -ge 3 ]   # systemd, stratad, chronyd at least
}

# in_ns COMMAND...: run COMMAND in the namespace's mount namespace (systemctl)
in_ns() { nsenter -t "$ns_pid" -a -- "$@"; }
# prop UNIT PROPERTY: one property of a unit, as systemctl show gives it
prop() { in_ns systemctl show -P "$2" "$1"; }

# strata-wait.service has finished (with success or not)
wait_unit_done() { [ "$(prop strata-wait.service ActiveState)" != activating ]; }

# boot MODE: systemd as PID 1 of new namespaces, in a new cgroup of ours;
# sets ns_pid (its PID here)
boot() {
	local timeout_pid unshare_pid
	cgroup=${cgparent%/}/strata-wait-sync.$$.$1
	mkdir "$cgroup" || { cgroup=; return 1; }
	timeout 60 bash -c 'echo $BASHPID >"$1/cgroup.procs" && mode=$2 work=$3 && shift 3 &&
		exec "$@" unshare --kill-child=SIGKILL --pid --fork --mount --mount-proc --net --uts --ipc --cgroup \
			"$0" --pid1 "$mode" "$work"' "$0" "$cgroup" "$1" "$work" "${PEERS_NOCAP[@]}" >"$work/pid1.log" 2>&1 &
	timeout_pid=$!
	children() { cat /proc/"$1"/task/*/children 2>/dev/null | awk '{print $1}'; }
	for _ in $(seq 150); do
		unshare_pid=$(children "$timeout_pid")
		ns_pid=$([ -n "$unshare_pid" ] && children "$unshare_pid")
		[ -n "$ns_pid" ] && [ "$(readlink /proc/$ns_pid/exe)" = "$(readlink -f "$systemd")" ] && return 0
		sleep 0.1
	done
	return 1
}

# the units systemd started (left the inactive state at some point), but
# for the test's, the two targets they pull in, the root slice and scope, and
# the mounts and devices systemd only mirrors: none expected. (It loads many
# of this machine's units, the ones its own targets name, without starting them.)
foreign_units() {
	in_ns systemctl show -p Id -p InactiveExitTimestampMonotonic -- $(in_ns systemctl list-units --all --no-legend --plain |
		awk '{print $1}') | awk -F= '/^Id=/ { id = $2 } /^InactiveExitTimestampMonotonic=/ && $2 != 0 { print id }' |
		grep -vE '[.](mount|device)$' |
		grep -vxE 'strata-test.target|stratad.service|strata-wait.service|early.service|dependent.service|time-sync.target|time-set.target|-.slice|system.slice|init.scope'
}

run() { # MODE
	local mode=$1 wait_start wait_exit dep_start result
	make_units "$mode"
	if ! boot "$mode"; then
		echo "--- pid1 output"; cat "$work/pid1.log"; echo "--- systemd console"; cat "$work/console" 2>/dev/null
		not_ok "$mode: systemd runs as PID 1 of private namespaces"
		stop_ns
		return
	fi
	ok "$mode: systemd runs as PID 1 of private namespaces"
	check "$mode: systemd has no CAP_SYS_TIME" peers_pid_lacks_sys_time "$ns_pid"
	check "$mode: the dependent unit ran" wait_for 20 test -e "$work/out/dependent.done"
	sleep 0.3
	check "$mode: nothing in the namespace has CAP_SYS_TIME" no_sys_time_in "$cgroup"
	wait_for 20 wait_unit_done
	result=$(prop strata-wait.service Result)
	wait_start=$(prop strata-wait.service ExecMainStartTimestampMonotonic)
	wait_exit=$(prop strata-wait.service ExecMainExitTimestampMonotonic)
	dep_start=$(prop dependent.service ExecMainStartTimestampMonotonic)
	local waited=$(( (wait_exit - wait_start) / 1000 )) after=$(( (dep_start - wait_exit) / 1000 ))
	echo "$mode: strata-wait.service: $result after $waited ms; the dependent unit started $after ms later"
	check "$mode: the dependent unit started after strata-wait.service ended" \
		test "${wait_exit:-0}" -gt 0 -a "${dep_start:-0}" -ge "${wait_exit:-0}"
	check "$mode: a unit not ordered after it saw the clock unsynchronized" \
		grep -q '^Sync state      : unsynchronized' "$work/out/early.tracking"
	if [ "$mode" = sync ]; then
		check "sync: waitsync succeeded" test "$result" = success
		check "sync: the dependent unit saw stratad synchronized" \
			grep -q '^Sync state      : synchronized' "$work/out/dependent.tracking"
	else
		check "nosync: waitsync timed out" test "$result" = timeout
		check "nosync: after ${wait_timeout} s" test "$waited" -ge $((wait_timeout * 1000 - 100))
		check "nosync: the dependent unit saw stratad unsynchronized" \
			grep -q '^Sync state      : unsynchronized' "$work/out/dependent.tracking"
	fi
	local foreign
	foreign=$(foreign_units)
	check "$mode: no other unit ran${foreign:+ ($(echo $foreign))}" test -z "$foreign"
	echo "--- $mode: the dependent unit's stratactl tracking"
	cat "$work/out/dependent.tracking"
	stop_ns
}

for mode in ${STRATA_WAIT_MODES:-sync nosync}; do run "$mode"; done
finish wait-sync
