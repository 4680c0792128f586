#!/bin/bash
# Bad files are survived: a corrupt drift file (a NUL byte) and the
# temporaries of a crashed drift writer at start, the configuration path
# turned into a directory or a FIFO before SIGHUP, a FIFO as the drift file.
# The daemon keeps answering, says what is wrong, names the file, and
# SIGTERM still stops it at once.
. "$(dirname "$0")/stratad_lib.sh"
need_stratad
run_in_netns "$@"

conf=$workdir/stratad.conf
drift=$workdir/state/drift
mkdir -p "$workdir/run" "$workdir/state" && chmod 777 "$workdir/run" "$workdir/state"
cat > "$conf" <<EOC
sources = ();
clock = { driftfile = "$drift"; };
control = { socket = "$workdir/run/stratad.sock"; };
pidfile = "$workdir/run/stratad.pid";
user = "nobody";
EOC
cp "$conf" "$workdir/good.conf"
answers() { timeout 5 "$STRATACTL" -s "$workdir/run/stratad.sock" tracking > /dev/null; }
logged() { wait_for 5 grep -qF -- "$1" "$workdir/stratad.log"; }
# stop_within SECONDS: SIGTERM, and the daemon is gone within that time.
stop_within() {
	local i
	kill -TERM "$STRATAD_PID"
	for i in $(seq 1 $(($1 * 10))); do
		kill -0 "$STRATAD_PID" 2> /dev/null || { wait "$STRATAD_PID"; return 0; }
		sleep 0.1
	done
	return 1
}

printf '12\0junk\n' > "$drift"
: > "$drift.Ab12Cd"
: > "$drift.xY9zzz"
start_stratad "$conf"
check "the daemon answers" wait_for 10 answers
check "a NUL byte makes the drift file corrupt" logged "ignoring the drift file: $drift: corrupt: a NUL byte"
check "the corrupt drift file is left as it was" cmp -s <(printf '12\0junk\n') "$drift"
check "the stale temporaries are removed" test ! -e "$drift.Ab12Cd" -a ! -e "$drift.xY9zzz"
check "and that is said" logged "removed 2 stale temporary drift files next to $drift"

rm "$conf" && mkdir "$conf"
kill -HUP "$STRATAD_PID"
check "SIGHUP with a directory: refused, naming the file" \
	logged "configuration not reloaded, keeping the running one: $conf:0: file: not a regular file (a directory)"
check "the daemon survives it and answers" answers
rmdir "$conf" && mkfifo "$conf"
kill -HUP "$STRATAD_PID"
check "SIGHUP with a FIFO: refused, naming the file" \
	logged "configuration not reloaded, keeping the running one: $conf:0: file: not a regular file (a FIFO)"
check "the daemon is not blocked and answers" answers
check "SIGTERM stops it within 2 s" stop_within 2

rm -f "$drift" && mkfifo "$drift"
start_stratad "$workdir/good.conf"
check "with a FIFO as the drift file the daemon starts and answers" wait_for 10 answers
check "and says the drift file is no regular file" logged "cannot read the drift file: $drift: not a regular file (a FIFO)"
check "SIGTERM stops it within 2 s" stop_within 2
finish
