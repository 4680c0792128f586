#!/bin/sh
# Boot C: scenario 6. The guest's clock starts a few minutes before the leap
# second of 2016-12-31; the host's server announces it.
. /etc/strata-vm/lib.sh
NTP_PORT=11125
kernel s6-before
echo "@@READY $(date -u '+%Y-%m-%dT%H:%M:%S')"
start_stratad "$(conf s6)"
i=0
while [ $i -lt 60 ]; do
	st=$(adjtimex | awk '/status:/ { print $2 }')
	if [ $((st & 16)) != 0 ]; then
		echo "@@INS $(date -u '+%Y-%m-%dT%H:%M:%S') after $((i * 2)) s"
		break
	fi
	sleep 2
	i=$((i + 1))
done
stop_stratad s6
echo "@@END $(date -u '+%Y-%m-%dT%H:%M:%S')"
