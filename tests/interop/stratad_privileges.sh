#!/bin/bash
# Privileges, from what the kernel says in /proc: stratad started as root
# with -x runs its engine as the configured user with no capability, no
# bounding set, no_new_privs and a seccomp filter in EVERY thread (the
# resolver and the serving workers included), beside a janitor that keeps
# uid 0 but nothing else and removes the pid file and the socket even from a
# root-owned directory. The clock process (started around a fake clock by
# privsep_probe, so it may keep CAP_SYS_TIME without touching any clock)
# holds CAP_SYS_TIME alone and refuses insane requests. Detached start-up
# reports a busy port in its exit status. Socket-activated (as under
# stratad.socket), it serves port 123 with no capability at all. stratadate -q ends up with no
# capability, -b with CAP_SYS_TIME only. A user that does not exist is a
# clear error.
. "$(dirname "$0")/stratad_lib.sh"
need_stratad
need_root "the privilege drop"
PROBE=$STRATA_BUILD/tests/interop/privdrop_probe
SEP_PROBE=$STRATA_BUILD/tests/interop/privsep_probe
STRATADATE=$STRATA_BUILD/src/stratadate
run_in_netns "$@"

nobody=$(id -u nobody)
mkdir -p "$workdir/rootrun"
chmod 755 "$workdir/rootrun"
cat > "$workdir/stratad.conf" <<EOC
sources = ( { server = "127.0.0.2"; port = 1123; }, { server = "localhost"; port = 1124; } );
clock = { driftfile = ""; };
serve = { listen = [ "127.0.0.1" ]; port = 123; threads = 2; };
control = { socket = "$workdir/run/stratad.sock"; };
pidfile = "$workdir/run/stratad.pid";
user = "nobody";
EOC

# status_of FILE FIELD: the value of a /proc status line
status_of() { sed -n "s/^$2:\s*//p" "$1"; }
# every_task PID FIELD VALUE: each thread of PID shows FIELD as VALUE
every_task() {
	local t n=0
	for t in /proc/"$1"/task/*; do
		[ "$(status_of "$t/status" "$2")" = "$3" ] || { echo "task ${t##*/}: $2 $(status_of "$t/status" "$2")"; return 1; }
		n=$((n + 1))
	done
	[ "$n" -gt 0 ]
}
show_tasks() {
	local t f
	for t in /proc/"$1"/task/*; do
		printf '  %s task %s:' "$2" "${t##*/}"
		for f in Uid CapEff CapPrm CapBnd NoNewPrivs Seccomp; do printf ' %s %s' "$f" "$(status_of "$t/status" "$f" | tr '\t' ' ')"; done
		echo
	done
}

start_stratad "$workdir/stratad.conf"
check "the control socket comes up" wait_for 10 test -S "$workdir/run/stratad.sock"
tasks=$(ls /proc/"$STRATAD_PID"/task | wc -l)
check "the engine runs 5 threads: main, resolver, NTS key exchange, 2 serving workers ($tasks)" test "$tasks" -eq 5
show_tasks "$STRATAD_PID" engine
check "every engine thread runs as nobody" every_task "$STRATAD_PID" Uid "$nobody	$nobody	$nobody	$nobody"
check "every engine thread: no effective capability (-x)" every_task "$STRATAD_PID" CapEff 0000000000000000
check "every engine thread: no permitted capability" every_task "$STRATAD_PID" CapPrm 0000000000000000
check "every engine thread: an empty bounding set" every_task "$STRATAD_PID" CapBnd 0000000000000000
check "every engine thread: no_new_privs" every_task "$STRATAD_PID" NoNewPrivs 1
check "every engine thread: a seccomp filter" every_task "$STRATAD_PID" Seccomp 2
children=$(pgrep -P "$STRATAD_PID" | tr '\n' ' ')
check "one child (the janitor), no clock process with -x: $children" test "$(echo $children | wc -w)" -eq 1
janitor=${children%% *}
show_tasks "$janitor" janitor
check "the janitor keeps uid 0" every_task "$janitor" Uid "0	0	0	0"
check "the janitor: no capability" every_task "$janitor" CapPrm 0000000000000000
check "the janitor: an empty bounding set" every_task "$janitor" CapBnd 0000000000000000
check "the janitor: no_new_privs" every_task "$janitor" NoNewPrivs 1
check "the janitor: a seccomp filter" every_task "$janitor" Seccomp 2
check "it still bound port 123 before the drop" bash -c "ss -ulpn | grep -q '127.0.0.1:123 .*pid=$STRATAD_PID'"
check "the control socket is mode 0666 (reads for all, changes checked by peer credentials)" test "$(stat -c %a "$workdir/run/stratad.sock")" = 666
check "status works after the drop, the name resolved under the filter" \
	bash -c "'$STRATACTL' -s '$workdir/run/stratad.sock' sources | grep -q '127.0.0.1:1124'"
kill -HUP "$STRATAD_PID"
check "a reload works under the filter" wait_for 10 grep -q 'configuration reloaded' "$workdir/stratad.log"
check "the pid file names it" test "$(cat "$workdir/run/stratad.pid")" = "$STRATAD_PID"
peers_stop "$STRATAD_PID"
check "SIGTERM: the control socket is removed" test ! -e "$workdir/run/stratad.sock"
check "SIGTERM: the pid file is removed" test ! -e "$workdir/run/stratad.pid"
check "no seccomp denial was logged" bash -c "! grep -q 'seccomp denied' '$workdir/stratad.log'"

# a root-owned run directory: nobody cannot remove anything from it, the janitor can
sed -e "s|$workdir/run/|$workdir/rootrun/|" "$workdir/stratad.conf" > "$workdir/rootrun.conf"
check "nobody may not write in the root-owned directory" \
	bash -c "! setpriv --reuid=nobody --regid=nogroup --clear-groups test -w '$workdir/rootrun'"
start_stratad "$workdir/rootrun.conf"
check "root-owned directory: the socket comes up" wait_for 10 test -S "$workdir/rootrun/stratad.sock"
check "root-owned directory: the pid file is written" test -s "$workdir/rootrun/stratad.pid"
peers_stop "$STRATAD_PID"
check "root-owned directory: the control socket is removed" test ! -e "$workdir/rootrun/stratad.sock"
check "root-owned directory: the pid file is removed" test ! -e "$workdir/rootrun/stratad.pid"

# security.seccomp = false really turns the filter off
cp "$workdir/stratad.conf" "$workdir/noseccomp.conf"
echo 'security = { seccomp = false; };' >> "$workdir/noseccomp.conf"
start_stratad "$workdir/noseccomp.conf"
check "seccomp = false: the socket comes up" wait_for 10 test -S "$workdir/run/stratad.sock"
check "seccomp = false: no filter in any thread" every_task "$STRATAD_PID" Seccomp 0
check "seccomp = false: still no capability" every_task "$STRATAD_PID" CapEff 0000000000000000
peers_stop "$STRATAD_PID"

# detached start-up (no -n): the exit status tells how set-up went
python3 -c 'import socket, time; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 123)); time.sleep(30)' &
holder=$!
peers_track "$holder"
wait_for 5 bash -c "ss -uln | grep -q '127.0.0.1:123 '"
timeout 20 "${PEERS_NOCAP[@]}" "$STRATAD" -x -c "$workdir/stratad.conf" > "$workdir/detached-busy.log" 2>&1
status=$?
check "detached, port 123 busy: a non-zero exit status ($status)" test "$status" -ne 0 -a "$status" -ne 124
check "detached, port 123 busy: it says where the reason is" grep -q 'start-up failed' "$workdir/detached-busy.log"
check "detached, port 123 busy: no daemon left behind (it may take a moment to end)" wait_for 10 bash -c "! pgrep -f '^$STRATAD -x -c $workdir/stratad.conf'"
peers_stop "$holder"
timeout 20 "${PEERS_NOCAP[@]}" "$STRATAD" -x -c "$workdir/stratad.conf" > "$workdir/detached.log" 2>&1
status=$?
check "detached, port free: exit status 0 ($status)" test "$status" -eq 0
daemon=$(cat "$workdir/run/stratad.pid" 2>/dev/null)
if [ -n "$daemon" ]; then
	peers_track "$daemon"
	check "detached, port free: the daemon answers at once" \
		bash -c "'$STRATACTL' -s '$workdir/run/stratad.sock' tracking > /dev/null"
	peers_stop "$daemon"
else
	not_ok "detached, port free: a pid file"
fi

# socket activation, as stratad.socket does it: port 123 handed over, the
# daemon started as nobody with no capability at all still serves on it
if command -v systemd-socket-activate > /dev/null; then
	cat > "$workdir/activated.conf" <<EOC
sources = ( { server = "127.0.0.2"; port = 1123; } );
clock = { driftfile = ""; };
serve = { listen = [ "127.0.0.1" ]; port = 123; };
control = { socket = "$workdir/activated/stratad.sock"; };
pidfile = "";
EOC
	mkdir -p "$workdir/activated"
	chown nobody "$workdir/activated"
	systemd-socket-activate --datagram -l 127.0.0.1:123 -l 127.0.0.1:124 \
		setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps=-all --bounding-set=-all -- \
		"$STRATAD" -n -x -c "$workdir/activated.conf" > "$workdir/activated.log" 2>&1 &
	activated=$!
	peers_track "$activated"
	# the first datagram starts it, and is answered
	check "socket-activated: the first request is answered" python3 - <<'EOPY'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(10)
s.sendto(b"\x23" + b"\0" * 39 + b"\x01\x02\x03\x04\x05\x06\x07\x08", ("127.0.0.1", 123))
reply = s.recv(100)
sys.exit(not (len(reply) == 48 and reply[0] & 7 == 4))
EOPY
	check "socket-activated: no capability at all" every_task "$activated" CapPrm 0000000000000000
	check "socket-activated: it holds port 123" bash -c "ss -ulpn | grep -q '127.0.0.1:123 .*pid=$activated'"
	check "socket-activated: a socket it does not serve on is closed, and said" \
		grep -q "the service manager's socket 127.0.0.1:124 is not in serve.listen: closed" "$workdir/activated.log"
	check "socket-activated: port 124 is not held" bash -c "! ss -ulpn | grep -q '127.0.0.1:124 '"
	peers_stop "$activated"
else
	not_ok "systemd-socket-activate is installed (systemd)"
fi

# the clock process, around a fake clock
if [ -x "$SEP_PROBE" ]; then
	"$SEP_PROBE" nobody 2000 > "$workdir/privsep.txt" 2>&1
	cat "$workdir/privsep.txt"
	check "the clock process runs as nobody" grep -qE "^clock process Uid:\s+$nobody\s" "$workdir/privsep.txt"
	check "the clock process holds CAP_SYS_TIME only (bit 25)" grep -qE '^clock process CapEff:\s+0+2000000$' "$workdir/privsep.txt"
	check "permitted CAP_SYS_TIME only" grep -qE '^clock process CapPrm:\s+0+2000000$' "$workdir/privsep.txt"
	check "bounded to CAP_SYS_TIME" grep -qE '^clock process CapBnd:\s+0+2000000$' "$workdir/privsep.txt"
	check "the clock process: no_new_privs" grep -qE '^clock process NoNewPrivs:\s+1$' "$workdir/privsep.txt"
	check "the clock process: a seccomp filter" grep -qE '^clock process Seccomp:\s+2$' "$workdir/privsep.txt"
	check "a sane step reaches the clock" grep -qx 'fake clock: step +0.250000' "$workdir/privsep.txt"
	check "a step past twice panic_threshold is refused" grep -qx 'step 5000: -22' "$workdir/privsep.txt"
	check "a frequency of 600 ppm is refused" grep -qx 'frequency 600: -22' "$workdir/privsep.txt"
	check "a NaN frequency is refused" grep -qx 'frequency nan: -22' "$workdir/privsep.txt"
	check "a bad leap is refused" grep -qx 'status leap 3: -22' "$workdir/privsep.txt"
	check "a sane slew reaches the clock" grep -qx 'fake clock: slew -0.500000' "$workdir/privsep.txt"
	check "the clock process woke for the tick the slew asked for, within 50 ms" \
		grep -qE '^fake clock: tick, late by \(s\) \+0\.0[0-4][0-9]*$' "$workdir/privsep.txt"
	check "the engine slews at the clock's own max_slew_ppm" \
		grep -qx "the engine's max_slew_ppm: 83333.333" "$workdir/privsep.txt"
	check "the clock process finishes its clock when the engine goes" grep -qx 'fake clock: finish +0.000000' \
		"$workdir/privsep.txt"
	check "only the sane requests reached the clock (and the tick and finish)" \
		test "$(grep -c '^fake clock:' "$workdir/privsep.txt")" -eq 5
	check "the clock process ends with the engine" grep -qx 'clock process ended' "$workdir/privsep.txt"
else
	not_ok "privsep_probe is built"
fi

if [ -x "$PROBE" ]; then
	"$PROBE" nobody none > "$workdir/none.txt"
	check "the drop for -x keeps nothing" grep -qE '^CapEff:\s+0+$' "$workdir/none.txt"
fi

# stratadate: a server that never answers, so nothing can ever be adjusted;
# -q runs without CAP_SYS_TIME, and -b holds it only in a user namespace of
# its own (-u: a port above 1023, which needs no privilege there), where no
# clock call could reach this machine's clock
python3 -c 'import socket, time; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.2", 123)); time.sleep(30)' &
holder=$!
peers_track "$holder"
wait_for 5 bash -c "ss -uln | grep -q '127.0.0.2:123 '"
for mode in -q -b; do
	if [ "$mode" = -q ]; then
		"${PEERS_NOCAP[@]}" "$STRATADATE" -q -t 3 127.0.0.2 > /dev/null 2>&1 &
	else
		unshare --user --map-root-user "$STRATADATE" -b -u -t 3 127.0.0.2 > /dev/null 2>&1 &
	fi
	date_pid=$!
	# the drop is done once no_new_privs is set
	wait_for 3 grep -qE '^NoNewPrivs:\s+1$' /proc/$date_pid/status
	grep -E '^(Cap|NoNewPrivs)' /proc/$date_pid/status > "$workdir/stratadate$mode.txt"
	wait "$date_pid"
done
check "stratadate -q: no capability" grep -qE '^CapPrm:\s+0+$' "$workdir/stratadate-q.txt"
check "stratadate -q: an empty bounding set" grep -qE '^CapBnd:\s+0+$' "$workdir/stratadate-q.txt"
check "stratadate -q: no_new_privs" grep -qE '^NoNewPrivs:\s+1$' "$workdir/stratadate-q.txt"
check "stratadate -b: CAP_SYS_TIME only" grep -qE '^CapPrm:\s+0+2000000$' "$workdir/stratadate-b.txt"
check "stratadate -b: bounded to it" grep -qE '^CapBnd:\s+0+2000000$' "$workdir/stratadate-b.txt"
peers_stop "$holder"

sed -i 's/user = "nobody"/user = "strata-no-such-user"/' "$workdir/stratad.conf"
# bounded: a daemon that wrongly starts would otherwise run on
timeout 20 "${PEERS_NOCAP[@]}" "$STRATAD" -n -x -c "$workdir/stratad.conf" > "$workdir/nouser.log" 2>&1
check "a missing user stops it with a clear error" grep -q 'user "strata-no-such-user" does not exist' \
	"$workdir/nouser.log"
finish
