#!/bin/sh
# Boot D: scenarios 7-10, leap_mode system, step, slew and ignore. For each,
# the host starts a server whose clock reads 2016-12-31 23:59:50 (chronyd
# under faketime, announcing no leap) and releases us; the guest sets its own
# clock a second behind that time, stratad (leap-seconds.list, which has the
# leap) steps it onto the server's and takes the leap second as leap_mode
# says, and the kernel's clock is watched from the first update to 6 s after
# midnight. In step mode the guest starts 60 ms ahead of the server, so a
# slew runs at midnight.
. /etc/strata-vm/lib.sh
NTP_PORT=11126
LIST=/usr/share/zoneinfo/leap-seconds.list
MIDNIGHT=1483228800 # 2017-01-01 00:00:00 UTC
# synchronized: until stratad's first clock update (8 s at most)
synchronized() {
	i=0
	while [ $i -lt 16 ] && ! stratactl --json tracking 2>/dev/null | grep -q '"state": *"synchronized"'; do
		sleep 0.5
		i=$((i + 1))
	done
}
echo "@@READY $(date -u '+%Y-%m-%dT%H:%M:%S')"
for mode in system step slew ignore; do
	wait_host 120
	# a second behind the server's 23:59:50 (which it passed a fraction of a
	# second ago): the start-up offset is then always beyond step_threshold,
	# so the first stratad steps; at 23:59:50 it once fell within it (116 ms
	# behind), that stratad slewed, and the 60 ms below became 56 ms behind
	date -u -s '2016-12-31 23:59:49' >/dev/null
	if [ "$mode" = step ]; then
		# onto the server (a stratad's start-up step), then 60 ms ahead: below
		# step_threshold, so the stratad watched slews it, and that slew
		# still runs at midnight
		start_stratad "$(conf leap-onto-server "")"
		synchronized
		kill "$(cat /tmp/stratad.pid)"
		wait "$(cat /tmp/stratad.pid)"
		echo "@@ONTO $(grep -m1 -o 'stepped the clock by [-+0-9.]* s' "$LOG")"
		echo "@@AHEAD $(guest-clock-probe step 0.06)"
	fi
	start_stratad "$(conf "leap-$mode" "leapsecond_list = \"$LIST\"; leap_mode = \"$mode\";")"
	# the start-up step is not the thing watched: wait for the first update
	synchronized
	echo "@@PHASE leap-$mode"
	watch=$((MIDNIGHT - $(date +%s) + 6))
	[ "$watch" -ge 1 ] || watch=1
	guest-clock-probe leapwatch "$watch"
	stop_stratad "leap-$mode"
done
echo "@@END $(date -u '+%Y-%m-%dT%H:%M:%S')"
