# tests/interop/lib.sh - what every interop script shares: the build under
# test, the real peers and their confinement (tests/peers/lib.sh: starting,
# stopping, namespaces, no CAP_SYS_TIME, cleanup by PID), a work directory
# and the pass/fail counters. Source it first; it calls peers_init, so the
# EXIT trap kills every PID recorded with peers_track or a start_* function.

interop_top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$interop_top/tests/peers/lib.sh"
if [ -z "${STRATA_BUILD:-}" ]; then
	if [ -x ./src/stratad ]; then STRATA_BUILD=$(pwd); else STRATA_BUILD=$interop_top/build; fi
fi

. "$interop_top/tests/checks.sh"
# absorb LOG: show the output of a part that ran in another process (with
# these counters, ending in "N passed, M failed") and add its counts; a
# part that did not get to its summary counts as one failure.
absorb() {
	local p m
	grep -v '^[0-9]* passed, [0-9]* failed$' "$1"
	read -r p _ m _ < <(grep '^[0-9]* passed, [0-9]* failed$' "$1" | tail -n 1)
	if [ -n "${p:-}" ]; then
		passed=$((passed + p))
		failed=$((failed + m))
	else
		not_ok "$(basename "$1"): no summary"
	fi
}

need_root() { [ "$(id -u)" = 0 ] || skip "needs root ($*)"; }
# need_peers [faketime]: the peers unpacked by tests/peers/fetch, and
# libfaketime when a server is to run off the host's time.
need_peers() {
	peers_require 2> /dev/null || skip "no peers in $(peers_root) (run tests/peers/fetch)"
	if [ "${1:-}" = faketime ]; then
		[ -r "$PEERS_FAKETIME_LIB" ] || skip "no libfaketime (run tests/peers/fetch)"
	fi
}
# run_in_netns "$@": run the calling script again inside a fresh network
# namespace (tests/peers/lib.sh in_netns: only lo, private mounts) and exit
# with its status; inside it, return.
run_in_netns() {
	peers_in_netns && return 0
	need_root "network namespaces"
	in_netns bash "$0" "$@"
	exit $?
}

peers_init --without-peers || exit 1
# 0755: stratad reads its config and removes its socket as user nobody.
workdir=$(peers_tmpdir interop 755) || exit 1
