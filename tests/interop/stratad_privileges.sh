#!/bin/bash
# Privileges: stratad started as root with -x runs as the configured user
# with no capability at all and no_new_privs; the drop itself (the probe,
# which never calls a clock function) keeps exactly CAP_SYS_TIME when the
# clock is to be adjusted; a user that does not exist is a clear error.
. "$(dirname "$0")/stratad_lib.sh"
need_stratad
need_root "the privilege drop"
PROBE=$STRATA_BUILD/tests/interop/privdrop_probe
run_in_netns "$@"

cat > "$workdir/stratad.conf" <<EOC
sources = ( { server = "127.0.0.2"; port = 1123; } );
clock = { driftfile = ""; };
serve = { listen = [ "127.0.0.1" ]; port = 123; };
control = { socket = "$workdir/run/stratad.sock"; };
pidfile = "$workdir/run/stratad.pid";
user = "nobody";
EOC
start_stratad "$workdir/stratad.conf"
check "the control socket comes up" wait_for 10 test -S "$workdir/run/stratad.sock"
status=/proc/$STRATAD_PID/status
nobody=$(id -u nobody)
check "stratad runs as nobody" grep -qE "^Uid:\s+$nobody\s+$nobody\s+$nobody\s+$nobody$" "$status"
check "with no effective capability (-x)" grep -qE '^CapEff:\s+0+$' "$status"
check "and no permitted capability" grep -qE '^CapPrm:\s+0+$' "$status"
check "no_new_privs is set" grep -qE '^NoNewPrivs:\s+1$' "$status"
check "it still bound port 123 before the drop" bash -c "ss -ulpn | grep -q '127.0.0.1:123 .*pid=$STRATAD_PID'"
check "the control socket is mode 0660" test "$(stat -c %a "$workdir/run/stratad.sock")" = 660
check "status works after the drop" bash -c "'$STRATACTL' -s '$workdir/run/stratad.sock' tracking > /dev/null"
check "the pid file names it" test "$(cat "$workdir/run/stratad.pid")" = "$STRATAD_PID"
peers_stop "$STRATAD_PID"
check "SIGTERM: the control socket is removed" test ! -e "$workdir/run/stratad.sock"
check "SIGTERM: the pid file is removed" test ! -e "$workdir/run/stratad.pid"

if [ -x "$PROBE" ]; then
	"$PROBE" nobody keep > "$workdir/keep.txt"
	check "the drop for adjusting keeps CAP_SYS_TIME only (bit 25)" \
		grep -qE '^CapEff:\s+0+2000000$' "$workdir/keep.txt"
	check "and bounds it to CAP_SYS_TIME" grep -qE '^CapBnd:\s+0+2000000$' "$workdir/keep.txt"
	check "as nobody" grep -qE "^Uid:\s+$nobody\s" "$workdir/keep.txt"
	"$PROBE" nobody none > "$workdir/none.txt"
	check "the drop for -x keeps nothing" grep -qE '^CapEff:\s+0+$' "$workdir/none.txt"
fi

sed -i 's/user = "nobody"/user = "strata-no-such-user"/' "$workdir/stratad.conf"
# bounded: a daemon that wrongly starts would otherwise run on
timeout 20 "${PEERS_NOCAP[@]}" "$STRATAD" -n -x -c "$workdir/stratad.conf" > "$workdir/nouser.log" 2>&1
check "a missing user stops it with a clear error" grep -q 'user "strata-no-such-user" does not exist' \
	"$workdir/nouser.log"
finish
