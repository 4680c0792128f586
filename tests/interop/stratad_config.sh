#!/bin/bash
# Every broken file in tests/config must stop stratad with its FILE:LINE
# message (the "# expect:" line of the file) and exit status 2; the shipped
# example must parse. Even --check-config runs without CAP_SYS_TIME.
. "$(dirname "$0")/stratad_lib.sh"
need_stratad

for f in "$interop_top"/tests/config/*.conf; do
	want="$f:$(sed -n 's/^# expect: //p' "$f")"
	got=$("${PEERS_NOCAP[@]}" "$STRATAD" --check-config -c "$f" 2>&1)
	status=$?
	if [ "$got" = "$want" ] && [ $status -eq 2 ]; then
		ok "$(basename "$f")"
	else
		not_ok "$(basename "$f"): status $status, got \"$got\", want \"$want\""
	fi
done
check "ntpd.conf.example parses" "${PEERS_NOCAP[@]}" "$STRATAD" --check-config -c "$interop_top/ntpd.conf.example" > /dev/null
"${PEERS_NOCAP[@]}" "$STRATAD" --check-config -c "$interop_top/ntpd.conf.example" > "$workdir/effective.conf"
check "the effective configuration reads back" "${PEERS_NOCAP[@]}" "$STRATAD" --check-config -c "$workdir/effective.conf" > /dev/null
# a directory made libconfig's scanner exit with no file or setting named; a FIFO blocked
mkdir "$workdir/dir.conf" && mkfifo "$workdir/fifo.conf"
for kind in dir:directory fifo:FIFO; do
	got=$(timeout 10 "${PEERS_NOCAP[@]}" "$STRATAD" --check-config -c "$workdir/${kind%%:*}.conf" 2>&1)
	status=$?
	want="$workdir/${kind%%:*}.conf:0: file: not a regular file (a ${kind#*:})"
	check "a ${kind#*:} is refused with status 2 and its name (status $status, got \"$got\")" \
		test "$got" = "$want" -a $status -eq 2
done
check "a missing file gives status 2" "${PEERS_NOCAP[@]}" bash -c "'$STRATAD' --check-config -c /nonexistent.conf 2> /dev/null; [ \$? -eq 2 ]"
finish
