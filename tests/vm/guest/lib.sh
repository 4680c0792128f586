# tests/vm/guest/lib.sh: helpers for the guest side of tests/vm/run (busybox sh).
# Installed in the guest as /etc/strata-vm/lib.sh.  The host drives every phase:
# the guest prints "@@NAME key=value..." markers on the console and waits in
# wait_host until the host has measured what it needed (vm_signal 9200).

HOST=198.18.0.2
NTP_PORT=11123
LOG=/tmp/stratad.log

# wait_host [SECONDS]: until the host releases us (one probe request on 9200)
wait_host() {
	guest-clock-probe serve -p 9200 -c 1 -t "${1:-600}" >/dev/null 2>&1
}

# kernel NAME: the kernel's NTP state as one marker line
kernel() {
	adjtimex 2>/dev/null | awk -v name="$1" '
		/status:/ { st = $2 }
		/freq.adjust:/ { fr = $3 }
		/maxerror:/ { me = $2 }
		/esterror:/ { ee = $2 }
		/ offset:/ { of = $3 }
		/tick:/ { tk = $3 }
		END { printf "@@KERNEL %s status=%s freq=%s maxerror=%s esterror=%s offset=%s tick=%s\n", name, st, fr, me, ee, of, tk }'
}

# start_stratad CONF: stratad in the foreground (as root; it drops to _strata)
start_stratad() {
	: >"$LOG"
	stratad -n -c "$1" >>"$LOG" 2>&1 &
	echo $! >/tmp/stratad.pid
	echo "@@STARTED $1 uptime=$(cut -d' ' -f1 /proc/uptime)"
	watch_frequency "$1" &
}

# watch_frequency CONF: while stratad runs, its frequency every 2 s
# ("@@FREQ UPTIME PPM"), so the host sees when it settled
watch_frequency() {
	local pid
	pid=$(cat /tmp/stratad.pid)
	while kill -0 "$pid" 2>/dev/null; do
		sleep 2
		echo "@@FREQ $(cut -d' ' -f1 /proc/uptime) $(stratactl --json tracking 2>/dev/null | tr -d '\n' |
			sed -n 's/.*"frequency_ppm": *\([-0-9.e+]*\).*/\1/p')"
	done
}

# stop_stratad NAME: tracking, kernel state and log, then SIGTERM and wait
stop_stratad() {
	echo "@@TRACKING $1 $(stratactl --json tracking 2>&1 | tr -d '\n')"
	kernel "$1"
	kill "$(cat /tmp/stratad.pid)"
	wait "$(cat /tmp/stratad.pid)"
	status=$?
	sed "s/^/@@LOG $1 /" "$LOG"
	[ ! -f /var/lib/strata/drift ] || echo "@@DRIFT $1 $(cat /var/lib/strata/drift | tr '\n' ' ')"
	# last: the host reads the log and drift lines once it sees this marker
	echo "@@STOPPED $1 status=$status"
}

# set_offset SECONDS: put the guest SECONDS ahead of the host (host probe on 9124)
set_offset() {
	echo "@@SET-OFFSET $(guest-clock-probe set-offset "$HOST" 9124 "$1")"
}

# conf NAME [CLOCK-SETTINGS]: write /etc/strata/NAME.conf for the host's server
conf() {
	mkdir -p /etc/strata
	cat >/etc/strata/"$1".conf <<CONF
sources = ( { server = "$HOST"; port = $NTP_PORT; iburst = true; minpoll = 4; maxpoll = 4; } );
clock = { driftfile = "/var/lib/strata/drift"; $2 };
user = "_strata";
log = { level = "info"; syslog = false; };
CONF
	echo /etc/strata/"$1".conf
}

# the daemon's user owns its state directory (as a package's tmpfiles would)
chown _strata:_strata /var/lib/strata
