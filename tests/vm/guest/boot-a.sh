#!/bin/sh
# Boot A: scenario 1 (0.6 s and +100 ppm off: one step, then slew and find the
# frequency), scenario 4 (restart with the drift file), scenario 5 (stratadate).
. /etc/strata-vm/lib.sh
kernel initial
echo "@@READY"
wait_host 120                 # the host measured the guest's own drift
adjtimex -t 10001 >/dev/null  # the clock's frequency error: +100 ppm
set_offset 0.6
start_stratad "$(conf s1)"
wait_host 400                 # the host saw the guest in sync
stop_stratad s1

# The kernel forgets the frequency stratad found; the drift file keeps it.
adjtimex -f 0 >/dev/null
kernel s4-reset
sleep 10
start_stratad "$(conf s4)"
sleep 1
kernel s4-start
wait_host 300
stop_stratad s4

if [ -x /usr/sbin/stratadate ]; then
	for mode in -b -B; do
		set_offset 0.2
		echo "@@DATE $mode begin"
		stratadate "$mode" "$HOST:$NTP_PORT" 2>&1 | sed "s/^/@@DATE $mode out /"
		echo "@@DATE $mode end"
		wait_host 60
	done
else
	echo "@@NO-STRATADATE"
fi
