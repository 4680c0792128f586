#!/bin/bash
# stratad under valgrind for a run with two servers, status queries, a
# SIGHUP reload and a clean SIGTERM: no memory error and no leak.
. "$(dirname "$0")/stratad_lib.sh"
need_stratad
need_peers
command -v valgrind > /dev/null || skip "valgrind is not installed"
in_netns "$@"

start_chronyd a 127.0.0.2 1123
start_chronyd b 127.0.0.3 1124
cat > "$workdir/stratad.conf" <<EOC
sources = (
  { server = "127.0.0.2"; port = 1123; iburst = true; minpoll = 4; maxpoll = 4; },
  { server = "localhost"; port = 1124; iburst = true; minpoll = 4; maxpoll = 4; },
  { pool = "127.0.0.3"; port = 1124; maxsources = 2; }
);
clock = { driftfile = "$workdir/drift"; };
serve = { listen = [ "127.0.0.1" ]; port = 1230; };
control = { socket = "$workdir/run/stratad.sock"; };
pidfile = "";
user = "nobody";
EOC
start_stratad "$workdir/stratad.conf" valgrind --trace-children=yes --error-exitcode=99 --leak-check=full \
	--errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect \
	--log-file="$workdir/valgrind.log"
synced() { ctl tracking 2> /dev/null | grep -q '^Sync state      : synchronized'; }
check "synchronizes under valgrind" wait_for 60 synced
ctl sources > /dev/null
ctl --json sources > /dev/null
ctl serverstats > /dev/null
check "an unknown command is an error" bash -c "! '$STRATACTL' -s '$workdir/run/stratad.sock' bogus 2> /dev/null"
kill -HUP "$STRATAD_PID"
sleep 3
check "still synchronized after SIGHUP" synced
check "the reload is logged" grep -q 'configuration reloaded' "$workdir/stratad.log"
kill -TERM "$STRATAD_PID"
wait "$STRATAD_PID"
status=$?
check "clean exit, no memory error or leak (status $status)" test "$status" -eq 0
grep -E 'ERROR SUMMARY|definitely|indirectly' "$workdir/valgrind.log"
finish
