#!/bin/bash
# The runtime control commands of stratactl against a running stratad (-x,
# no CAP_SYS_TIME, in a private network namespace) synchronized to a real
# chronyd: waitsync timing out and succeeding, online/offline (no polls, the
# reach register stands still), burst, makestep refused without touching
# the clock, add/delete, selectdata, ntpdata (compared with what a raw query
# of the same chronyd says), activity, clients (the rate limiter's table),
# --json of every command through python3 -m json.tool, the socket's
# permissions (a user outside its group reads but may not change), and a
# silent control client that must not delay NTP answers.
. "$(dirname "$0")/stratad_lib.sh"
need_stratad
need_peers
run_in_netns "$@"

mkdir -p "$workdir/run" && chmod 777 "$workdir/run"
echo "2 SHA1 0102030405060708090a0b0c0d0e0f1011121314" > "$workdir/ntp.keys" && chmod 600 "$workdir/ntp.keys"
cat > "$workdir/stratad.conf" <<EOC
keys = "$workdir/ntp.keys";
sources = ( { server = "127.0.0.2"; port = 1123; iburst = true; minpoll = 4; maxpoll = 4; } );
clock = { driftfile = ""; };
serve = { listen = [ "127.0.0.5" ]; port = 1124; ratelimit = { interval = 1.0; burst = 4; kod = false; }; };
control = { socket = "$workdir/run/stratad.sock"; };
pidfile = "";
user = "nobody";
EOC
json_ok() { ctl --json "$@" | python3 -m json.tool > /dev/null; }
# Total TX of the source in ntpdata: requests sent to it
tx() { ctl ntpdata 127.0.0.2 | awk -F': ' '/^Total TX/ { print $2 }'; }
tx_above() { [ "$(tx)" -gt "$1" ]; }
activity_says() { ctl activity | grep -qx "$1"; }

start_stratad "$workdir/stratad.conf"
wait_for 10 ctl tracking > /dev/null || not_ok "stratad answers stratactl"

echo "--- waitsync, the server not there yet: 3 tries 0.2 s apart, then exit 1"
start=$(date +%s%N)
ctl waitsync 3 0 0 0.2 > "$workdir/waitsync-fail.txt"
status=$?
ms=$((($(date +%s%N) - start) / 1000000))
cat "$workdir/waitsync-fail.txt"
check "waitsync timed out with exit 1 ($status)" test "$status" -eq 1
check "three tries, chronyc's line" test "$(grep -c '^try: [123], refid: 00000000, correction: ' "$workdir/waitsync-fail.txt")" -eq 3
check "in about 2 intervals ($ms ms)" test "$ms" -ge 350 -a "$ms" -lt 3000

export PEERS_STRATUM=1
PEERS_BIND=127.0.0.2 start_chronyd_server 1123 > /dev/null || exit 1
echo "--- waitsync with the server up"
ctl waitsync 60 0.01 0 0.5 > "$workdir/waitsync.txt"
status=$?
tail -n 2 "$workdir/waitsync.txt"
check "waitsync succeeded with exit 0 ($status)" test "$status" -eq 0
check "its last try names the server's refid (127.0.0.2 = 7F000002)" bash -c "tail -n 1 '$workdir/waitsync.txt' | grep -q 'refid: 7F000002'"
check "waitsync --json: a document per try" bash -c "'$STRATACTL' -s '$workdir/run/stratad.sock' --json waitsync 1 | python3 -m json.tool"

echo "--- selectdata and ntpdata"
ctl selectdata | tee "$workdir/selectdata.txt"
check "selectdata: the server is the system peer (*)" grep -q '^\* 127.0.0.2:1123 ' "$workdir/selectdata.txt"
ctl ntpdata 127.0.0.2 | tee "$workdir/ntpdata.txt"
raw=$(peers_query 127.0.0.2 1123)
echo "a raw query of the same chronyd: $raw"
field() { awk -F': ' -v f="$1" '$1 ~ "^"f { print $2 }' "$workdir/ntpdata.txt"; }
check "ntpdata: mode Server, version 4, port 1123" \
	test "$(field Mode)" = Server -a "$(field Version)" = 4 -a "$(field 'Remote port')" = 1123
check "ntpdata: the stratum the server answers with" grep -q "stratum=$(field Stratum) " <<<"$raw"
check "ntpdata: the root dispersion within 1 ms of the raw query's" python3 -c "
import re,sys
a=float('$(field 'Root dispersion')'.split()[0]); b=float(re.search(r'rootdisp=(\S+)', '$raw').group(1))
sys.exit(abs(a-b) > 0.001)"
check "ntpdata: the offset is a loopback one (< 1 ms)" python3 -c "import sys; sys.exit(abs(float('$(field Offset)'.split()[0])) > 0.001)"
check "ntpdata: replies counted" test "$(field 'Total valid RX')" -ge 1

echo "--- permissions"
ls -l "$workdir/run/stratad.sock"
outsider=(setpriv --reuid=12345 --regid=12345 --clear-groups)
member=(setpriv --reuid=12346 --regid=12346 --groups="$(id -g nobody)")
check "a user outside the socket's group reads: tracking" \
	bash -c "${outsider[*]} '$STRATACTL' -s '$workdir/run/stratad.sock' tracking | grep -q '^Sync state      : synchronized'"
"${outsider[@]}" "$STRATACTL" -s "$workdir/run/stratad.sock" offline > "$workdir/refused.out" 2> "$workdir/refused.err"
status=$?
cat "$workdir/refused.err"
check "...but offline is refused (exit $status)" test "$status" -eq 1
check "...with a clear message" grep -q 'permission denied: "offline" changes the daemon' "$workdir/refused.err"
check "...and nothing changed" activity_says "1 sources online"
check "a member of the socket's group may: burst" \
	bash -c "${member[*]} '$STRATACTL' -s '$workdir/run/stratad.sock' burst 1/1 | grep -q '^ok: burst 1/1 on 1 source'"

echo "--- offline / online"
check "offline all" bash -c "ctl() { '$STRATACTL' -s '$workdir/run/stratad.sock' \"\$@\"; }; ctl offline all | grep -qx 'ok: 1 source offline'"
check "activity: 1 offline" wait_for 3 activity_says "1 sources offline"
tx0=$(tx); reach0=$(source_reach 127.0.0.2:1123)
sleep 5
check "offline: no request in 5 s ($tx0 -> $(tx))" test "$(tx)" = "$tx0"
check "offline: the reach register stood still ($reach0)" test -n "$reach0" -a "$(source_reach 127.0.0.2:1123)" = "$reach0"
# 2/2: the second poll goes 2 s after the first, the burst runs till then
check "offline source burst 2/2: bursting, back to offline after" \
	bash -c "'$STRATACTL' -s '$workdir/run/stratad.sock' burst 2/2 127.0.0.2 > /dev/null"
check "...activity says so while it runs" activity_says "1 sources doing burst (return to offline)"
check "...and it is offline again once done" wait_for 6 activity_says "1 sources offline"
check "...having polled" test "$(tx)" -gt "$tx0"
tx1=$(tx)
check "online 127.0.0.2" bash -c "'$STRATACTL' -s '$workdir/run/stratad.sock' online 127.0.0.2 | grep -qx 'ok: 1 source online'"
check "online: polled at once (within 2 s)" wait_for 2 tx_above "$tx1"
check "online: polls after it" wait_for 2 bash -c "test \$('$STRATACTL' -s '$workdir/run/stratad.sock' ntpdata 127.0.0.2 | awk -F': ' '/^Total TX/ {print \$2}') -gt $tx1"

echo "--- burst on a 16 s poll"
sleep 2
tx2=$(tx)
check "burst 3/4" bash -c "'$STRATACTL' -s '$workdir/run/stratad.sock' burst 3/4 | grep -qx 'ok: burst 3/4 on 1 source'"
check "three polls within 7 s (a 16 s poll would give at most one)" \
	wait_for 7 bash -c "test \$('$STRATACTL' -s '$workdir/run/stratad.sock' ntpdata 127.0.0.2 | awk -F': ' '/^Total TX/ {print \$2}') -ge $((tx2 + 3))"
check "bad burst counts are refused" bash -c "! '$STRATACTL' -s '$workdir/run/stratad.sock' burst 5/2 2> /dev/null"

echo "--- makestep with -x"
ctl makestep > "$workdir/makestep.out" 2> "$workdir/makestep.err"
status=$?
cat "$workdir/makestep.err"
check "makestep refused under -x (exit $status)" test "$status" -eq 1
check "...saying it does not adjust" grep -q 'not adjusting the clock' "$workdir/makestep.err"
check "...without touching the clock (no EPERM from a step)" bash -c "! grep -q 'cannot step' '$workdir/stratad.log'"

echo "--- add / delete"
check "add server 127.0.0.3 port 1123 minpoll 0 maxpoll 0" \
	bash -c "'$STRATACTL' -s '$workdir/run/stratad.sock' add server 127.0.0.3 port 1123 minpoll 0 maxpoll 0 | grep -qx 'ok: added server 127.0.0.3'"
check "sources lists it" wait_for 3 bash -c "'$STRATACTL' -s '$workdir/run/stratad.sock' sources | grep -q ' 127.0.0.3:1123 '"
check "selectdata: it has no sample (M)" grep -q '^M 127.0.0.3:1123 ' <(ctl selectdata)
check "adding it again is refused" bash -c "! '$STRATACTL' -s '$workdir/run/stratad.sock' add server 127.0.0.3 port 1123 2> /dev/null"
check "a bad option is refused, named" bash -c "'$STRATACTL' -s '$workdir/run/stratad.sock' add server 127.0.0.4 minpol 3 2>&1 | grep -q 'unknown option \"minpol\"'"
check "add server with chrony's options: prefer maxdelay 0.5 key 2" \
	bash -c "'$STRATACTL' -s '$workdir/run/stratad.sock' add server 127.0.0.7 port 1123 prefer maxdelay 0.5 key 2 | grep -qx 'ok: added server 127.0.0.7'"
check "selectdata --json: the source has them (prefer, maxdelay 0.5, a key), the others not" wait_for 3 python3 -c "
import json, subprocess, sys
d = {s['name']: s for s in json.loads(subprocess.run(['$STRATACTL', '-s', '$workdir/run/stratad.sock', '--json',
                                                      'selectdata'], capture_output=True, check=True).stdout)}
a, b = d.get('127.0.0.7'), d['127.0.0.2']
sys.exit(not (a and a['prefer'] and a['maxdelay'] == 0.5 and a['authenticated'] and not a['noselect'] and
              not a['trust'] and not b['prefer'] and b['maxdelay'] == 0 and not b['authenticated']))"
check "delete 127.0.0.7" bash -c "'$STRATACTL' -s '$workdir/run/stratad.sock' delete 127.0.0.7 | grep -qx 'ok: deleted 127.0.0.7'"
check "an option past its range is refused with the range, as in the file" \
	bash -c "'$STRATACTL' -s '$workdir/run/stratad.sock' add server 127.0.0.8 maxdelay 2000 2>&1 | grep -q 'maxdelay \"2000\" is out of range \[0, 1000\]'"
check "a key the daemon does not hold is refused" \
	bash -c "'$STRATACTL' -s '$workdir/run/stratad.sock' add server 127.0.0.8 key 5 2>&1 | grep -q 'key 5 is not in $workdir/ntp.keys'"
check "...and nothing was added" bash -c "! '$STRATACTL' -s '$workdir/run/stratad.sock' sources | grep -q '127.0.0.8'"
check "add pool localhost" bash -c "'$STRATACTL' -s '$workdir/run/stratad.sock' add pool localhost port 1125 | grep -qx 'ok: added pool localhost'"
check "delete the pool" bash -c "'$STRATACTL' -s '$workdir/run/stratad.sock' delete localhost | grep -qx 'ok: deleted localhost'"
check "delete 127.0.0.3" bash -c "'$STRATACTL' -s '$workdir/run/stratad.sock' delete 127.0.0.3 | grep -qx 'ok: deleted 127.0.0.3'"
check "sources no longer lists it" bash -c "! '$STRATACTL' -s '$workdir/run/stratad.sock' sources | grep -q ' 127.0.0.3:1123 '"
check "deleting what is not there is refused" bash -c "! '$STRATACTL' -s '$workdir/run/stratad.sock' delete 127.0.0.3 2> /dev/null"

echo "--- clients"
for i in 1 2 3 4 5 6 7 8; do peers_query 127.0.0.5 1124 0.3 > /dev/null; done
ctl clients | tee "$workdir/clients.txt"
check "clients: 127.0.0.1 sent the 8 queries" awk '$1 == "127.0.0.1" && $2 == 8 { found = 1 } END { exit !found }' "$workdir/clients.txt"
check "clients: the rate limiter dropped some (burst 4)" awk '$1 == "127.0.0.1" && $3 >= 1 { found = 1 } END { exit !found }' "$workdir/clients.txt"
check "clients 300 is refused (at most 256)" bash -c "! '$STRATACTL' -s '$workdir/run/stratad.sock' clients 300 2> /dev/null"

echo "--- --json of every command"
for c in tracking sources sourcestats authdata serverstats selectdata ntpdata "ntpdata 127.0.0.2" activity clients \
	"online all" "burst 1/2" "add server 127.0.0.3 port 1123" "delete 127.0.0.3"; do
	check "--json $c" json_ok $c
done

echo "--- a silent control client does not delay serving"
python3 - "$workdir/run/stratad.sock" <<'EOF' > "$workdir/silent.txt"
import socket, struct, sys, time
path = sys.argv[1]
silent = []
for _ in range(8):          # every slot the control socket has
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); s.connect(path); silent.append(s)
    s.sendall(b"tracki")    # half a request, never finished
worst = 0.0; lost = 0
for i in range(20):         # 20 queries 50 ms apart while they hang, each from
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.settimeout(1.0)
    u.bind(("127.0.1.%d" % (i + 1), 0))  # its own address: no rate limit applies
    req = struct.pack("!B39xII", 0x23, 1, i + 1)  # a non-zero transmit time
    t = time.monotonic()
    try:
        u.sendto(req, ("127.0.0.5", 1124)); u.recvfrom(512); worst = max(worst, time.monotonic() - t)
    except OSError:
        lost += 1
    u.close()
    time.sleep(0.05)
# a request line longer than the daemon takes: it hangs up at once
big = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); big.connect(path); big.settimeout(1.0)
big.sendall(b"x" * 600)
try:
    hung_up = big.recv(1) == b""
except ConnectionResetError:  # closed with our bytes unread: a reset
    hung_up = True
except OSError:
    hung_up = False
closed = 0
for s in silent:
    s.settimeout(4.0)
    try:
        closed += s.recv(1) == b""
    except OSError:
        pass
print("worst=%.6f lost=%d closed=%d oversized_hung_up=%d" % (worst, lost, closed, hung_up))
EOF
cat "$workdir/silent.txt"
read -r worst lost closed oversized < <(sed 's/[a-z_]*=//g' "$workdir/silent.txt")
check "NTP answers while 8 control clients hang: all 20 ($lost lost)" test "$lost" -eq 0
check "...the slowest in $worst s (< 0.05)" python3 -c "import sys; sys.exit(not $worst < 0.05)"
check "the daemon closed the silent clients by itself ($closed of 8)" test "$closed" -eq 8
check "a request line over 511 bytes: the daemon hangs up" test "$oversized" -eq 1
check "stratactl still answers" bash -c "'$STRATACTL' -s '$workdir/run/stratad.sock' tracking > /dev/null"

echo "--- clients with serving threads (one rate limiter per thread)"
sed -e 's|"127.0.0.5" ]; port = 1124;|"127.0.0.6" ]; port = 1124; threads = 2;|' -e 's|stratad.sock|threads.sock|' \
	"$workdir/stratad.conf" > "$workdir/threads.conf"
"${PEERS_NOCAP[@]}" "$STRATAD" -n -x -c "$workdir/threads.conf" > "$workdir/threads.log" 2>&1 &
peers_track $!
threads_pid=$!
wait_for 10 "$STRATACTL" -s "$workdir/run/threads.sock" tracking > /dev/null || not_ok "the threaded stratad answers"
for i in 1 2 3 4 5 6; do peers_query 127.0.0.6 1124 0.3 > /dev/null; done
"$STRATACTL" -s "$workdir/run/threads.sock" clients | tee "$workdir/clients-threads.txt"
# the kernel spreads the queries (a source port each) over both threads
check "clients (2 threads): one line for 127.0.0.1, its 6 queries summed" \
	awk '$1 == "127.0.0.1" { n++; sent = $2 } END { exit !(n == 1 && sent == 6) }' "$workdir/clients-threads.txt"
peers_stop "$threads_pid"

check "no seccomp denial was logged" bash -c "! grep -q 'seccomp denied' '$workdir/stratad.log'"
peers_stop "$STRATAD_PID"
# in a sanitizer build, what ASan and UBSan found goes to the log
check "no sanitizer report (in an ASan/UBSan build)" \
	bash -c "! grep -E 'AddressSanitizer|LeakSanitizer|runtime error' '$workdir/stratad.log'"
finish stratad_control
