# tests/refclock/lib.sh - what the refclock tests share: stratad's interop
# helpers, and a private IPC namespace on top of the network namespace:
# SysV shared memory is machine-wide, so each test's NTP0..NTPn segments
# must not meet another test's (or another gpsd's).
. "$(dirname "${BASH_SOURCE[0]}")/../interop/stratad_lib.sh"

# run_in_ipc_netns "$@": the calling script again in a fresh IPC namespace,
# then (run_in_netns) in fresh network and mount namespaces (lo up); inside
# them, return.
run_in_ipc_netns() {
	if [ "${STRATA_REFCLOCK_IPCNS:-}" != 1 ]; then
		need_root "IPC and network namespaces"
		STRATA_REFCLOCK_IPCNS=1 unshare --ipc -- bash "$0" "$@"
		exit $?
	fi
	run_in_netns "$@"
}

# The figure of one source in "stratactl --json sources": source_json NAME EXPR
# (EXPR in Python over the source's object s, e.g. "s['estimate']['offset']").
source_json() {
	ctl --json sources | python3 -c '
import json, sys
for s in json.load(sys.stdin):
    if s["name"] == sys.argv[1]:
        v = eval(sys.argv[2])
        print(v if not isinstance(v, bool) else str(v).lower())' "$1" "$2"
}
tracking_json() {
	ctl --json tracking | python3 -c 'import json, sys; t = json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"
}
# near A B TOLERANCE: |A - B| <= TOLERANCE
near() { python3 -c 'import sys; a, b, t = map(float, sys.argv[1:]); sys.exit(abs(a - b) > t)' "$1" "$2" "$3"; }
