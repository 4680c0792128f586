#!/bin/bash
# The drift file under SIGKILL: a program writing it in a tight loop (the
# same driftfile_write stratad uses) is killed at random moments; the file
# must always hold a whole, valid value, and no temporary file may be taken
# for it.
. "$(dirname "$0")/stratad_lib.sh"
LOOP=$STRATA_BUILD/tests/interop/driftfile_loop
[ -x "$LOOP" ] || skip "driftfile_loop not built (make check builds it)"

drift=$workdir/drift
"$LOOP" write "$drift" 1 || exit 1
for round in $(seq 1 25); do
	"$LOOP" write "$drift" 100000 &
	pid=$!
	# the thing tested, not synchronisation: a kill at a random moment,
	# 20-319 ms into the writing
	sleep "$(printf '0.%03d' $((RANDOM % 300 + 20)))"
	kill -9 $pid 2> /dev/null
	wait $pid 2> /dev/null
	if value=$("$LOOP" read "$drift"); then
		ok "round $round: the file holds $value"
	else
		not_ok "round $round: $value"
	fi
done
# Temporary files of killed writers stay next to it but are never the file itself.
check "the file is still a regular file" test -f "$drift"
finish
