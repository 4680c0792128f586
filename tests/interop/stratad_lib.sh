# tests/interop/stratad_lib.sh - running OUR daemon in the stratad interop
# tests: stratad -x with a config, stratactl queries about it. Peers,
# namespaces, counters and cleanup come from lib.sh (tests/peers/lib.sh).
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

STRATAD=$STRATA_BUILD/src/stratad
STRATACTL=$STRATA_BUILD/src/stratactl

need_stratad() {
	[ -x "$STRATAD" ] && [ -x "$STRATACTL" ] || skip "stratad not built in $STRATA_BUILD"
}

# median: of the numbers on stdin, one a line (the mean of the middle two
# for an even count; nothing for none)
median() {
	sort -g | awk '{ v[NR] = $1 } END { if (NR) print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# skip_first_seconds N: the lines of a measurements log (stratad's or chronyd's: Date
# Time ...) on stdin from N seconds after its first line on, when the first
# polls, run before the client settles, are behind
skip_first_seconds() {
	awk -v skip="$1" '{ split($2, t, ":"); s = t[1] * 3600 + t[2] * 60 + t[3] }
		NR == 1 { first = s } s < first { s += 86400 } s - first >= skip'
}

# start_stratad CONF [WRAPPER...]: stratad -x in the foreground, without
# CAP_SYS_TIME, as a child of this shell (wait gives its status). Sets STRATAD_PID.
start_stratad() {
	local conf=$1
	shift
	"$@" "${PEERS_NOCAP[@]}" "$STRATAD" -n -x -c "$conf" > "$workdir/stratad.log" 2>&1 &
	STRATAD_PID=$!
	peers_track "$STRATAD_PID"
}

ctl() { "$STRATACTL" -s "$workdir/run/stratad.sock" "$@"; }

# sighup_reloaded / sighup_refused: SIGHUP, and wait until the log says the
# daemon read the file again, or kept the running configuration. They count
# in reloads and refusals: set them back to 0 with a new log.
reloads=0
refusals=0
sighup_reloaded() {
	reloads=$((reloads + 1))
	kill -HUP "$STRATAD_PID"
	wait_for 10 logged_times 'configuration reloaded from' "$reloads"
}
sighup_refused() {
	refusals=$((refusals + 1))
	kill -HUP "$STRATAD_PID"
	wait_for 10 logged_times 'configuration not reloaded' "$refusals"
}
logged_times() { [ "$(grep -c -- "$1" "$workdir/stratad.log")" -ge "$2" ]; }

# A source's line in "stratactl sources": its mark, stratum, poll, reach...
source_line() { ctl sources | grep -F " $1 "; }
source_mark() { source_line "$1" | cut -c1; }
source_reach() { source_line "$1" | cut -c48-52 | tr -d ' '; }
source_used() { [[ "$(source_mark "$1")" == [*+] ]]; }
source_is_falseticker() { [ "$(source_mark "$1")" = x ]; }
# The last two polls of the source went unanswered.
source_reach_lost() { local r; r=$(source_reach "$1") && [ $((0$r & 3)) -eq 0 ]; }
# The last poll of the source was answered.
source_answered() { local r; r=$(source_reach "$1") && [ $((0$r & 1)) -eq 1 ]; }
synced() { ctl tracking 2> /dev/null | grep -q '^Sync state      : synchronized'; }
