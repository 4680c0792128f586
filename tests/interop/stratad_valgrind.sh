#!/bin/bash
# stratad under valgrind (or, in a sanitizer build, ASan) for a run with two
# servers, status queries, a SIGHUP reload and a clean SIGTERM: no memory
# error and no leak.
. "$(dirname "$0")/stratad_lib.sh"
need_stratad
need_peers
command -v valgrind > /dev/null || skip "valgrind is not installed"
run_in_netns "$@"

export PEERS_STRATUM=1
PEERS_BIND=127.0.0.2 start_chronyd_server 1123 > /dev/null || exit 1
PEERS_BIND=127.0.0.3 start_chronyd_server 1124 > /dev/null || exit 1
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
# A sanitizer build checks memory itself (and cannot run under valgrind):
# the same run then relies on ASan and LeakSanitizer, which fail the exit status.
if ldd "$STRATAD" | grep -q libasan; then
	checker=ASan
	export ASAN_OPTIONS=detect_leaks=1:exitcode=99
	start_stratad "$workdir/stratad.conf"
else
	checker=valgrind
	# valgrind runs every system call itself and refuses to load a seccomp
	# filter (EOPNOTSUPP), which stratad treats as fatal: off for this run
	echo 'security = { seccomp = false; };' >> "$workdir/stratad.conf"
	# --vgdb=no: without it each run left three of valgrind's gdbserver FIFOs
	# (vgdb-pipe-*) in /tmp, which the test does not own
	start_stratad "$workdir/stratad.conf" valgrind --vgdb=no --trace-children=yes --error-exitcode=99 \
		--leak-check=full --errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect \
		--log-file="$workdir/valgrind.log"
fi
check "synchronizes under $checker" wait_for 60 synced
ctl sources > /dev/null
ctl --json sources > /dev/null
ctl serverstats > /dev/null
check "an unknown command is an error" bash -c "! '$STRATACTL' -s '$workdir/run/stratad.sock' bogus 2> /dev/null"
kill -HUP "$STRATAD_PID"
check "the reload is logged" wait_for 20 grep -q 'configuration reloaded' "$workdir/stratad.log"
check "still synchronized after SIGHUP" synced
kill -TERM "$STRATAD_PID"
wait "$STRATAD_PID"
status=$?
check "clean exit, no memory error or leak (status $status)" test "$status" -eq 0
[ "$checker" = valgrind ] && grep -E 'ERROR SUMMARY|definitely|indirectly' "$workdir/valgrind.log"
finish
