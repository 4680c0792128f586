#!/bin/bash
# A second stratad with the same configuration refuses to start while the
# first runs, and its failed start leaves the first's control socket and pid
# file in place.
. "$(dirname "$0")/stratad_lib.sh"
need_stratad
run_in_netns "$@"

cat > "$workdir/stratad.conf" <<EOC
sources = ();
clock = { driftfile = ""; };
control = { socket = "$workdir/run/stratad.sock"; };
pidfile = "$workdir/run/stratad.pid";
user = "nobody";
EOC
mkdir -p "$workdir/run" && chmod 777 "$workdir/run"
start_stratad "$workdir/stratad.conf"
check "the first daemon answers" wait_for 10 ctl tracking > /dev/null
check "the first daemon wrote its pid file" wait_for 10 test -s "$workdir/run/stratad.pid"

# bounded: a second daemon that wrongly starts would otherwise run on
timeout 20 "${PEERS_NOCAP[@]}" "$STRATAD" -n -x -c "$workdir/stratad.conf" > "$workdir/second.log" 2>&1
status=$?
check "the second daemon refuses to start (status $status)" test "$status" -ne 0 -a "$status" -ne 124
check "and says another one is running" grep -q 'another stratad is running' "$workdir/second.log"
check "the first daemon still answers" ctl tracking > /dev/null
check "the first daemon's pid file is still there" test -s "$workdir/run/stratad.pid"
finish
