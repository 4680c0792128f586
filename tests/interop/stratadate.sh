#!/bin/bash
# Interop tests of stratadate against real servers on loopback (and, where a
# peer insists on port 123, inside a private network namespace). Only -q is
# ever used: the host clock is never touched. Servers run with -x and without
# CAP_SYS_TIME. Prints "N passed, M failed"; exit 77 (SKIP) without .peers.
#   STRATA_BUILD=BUILDDIR STRATA_PEERS=ROOT tests/interop/stratadate.sh
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${STRATA_BUILD:-$top/build}
SD=$build/src/stratadate
PEERS=${STRATA_PEERS:-$top/.peers/root}
CHRONYD=$PEERS/chrony/usr/sbin/chronyd
NTPSEC=$PEERS/ntpsec
NOTIME="setpriv --bounding-set=-sys_time --inh-caps=-sys_time"

if [ ! -x "$CHRONYD" ] || [ ! -x "$SD" ]; then
	echo "SKIP: need $CHRONYD (tests/peers/fetch) and $SD"
	exit 77
fi
work=$(mktemp -d /tmp/strata-stratadate.XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
passed=0 failed=0
pass() { passed=$((passed + 1)); echo "PASS: $*"; }
fail() { failed=$((failed + 1)); echo "FAIL: $*"; }
check() { local what=$1; shift; if "$@"; then pass "$what"; else fail "$what"; fi; }

# A free UDP port on 127.0.0.1.
free_port() { python3 -c 'import socket; s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# start_chronyd PORT [FAKETIME]: chronyd serving its own clock at stratum 10.
start_chronyd() {
	local port=$1 fake=${2:-} dir=$work/chronyd-$1
	mkdir -p "$dir"
	printf 'port %s\nbindaddress 127.0.0.1\nlocal stratum 10\nallow 127.0.0.1\ncmdport 0\nbindcmdaddress /\npidfile %s/pid\n' \
		"$port" "$dir" > "$dir/conf"
	if [ -n "$fake" ]; then
		faketime -f "$fake" $NOTIME "$CHRONYD" -x -d -u root -f "$dir/conf" > "$dir/log" 2>&1 &
	else
		$NOTIME "$CHRONYD" -x -d -u root -f "$dir/conf" > "$dir/log" 2>&1 &
	fi
	pids+=($!)
	for _ in $(seq 50); do [ -s "$dir/pid" ] && return 0; sleep 0.1; done
	echo "chronyd did not start on port $port: $(tail -1 "$dir/log")"
	return 1
}

# start_fake PORT MODE: a misbehaving server (garbage, kod-deny, silent, unsync).
start_fake() {
	python3 - "$1" "$2" > "$work/fake-$1.log" 2>&1 <<'PY' &
import socket, struct, sys, time
port, mode = int(sys.argv[1]), sys.argv[2]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", port))
print("ready", flush=True)
def ts():
    t = time.time() + 2208988800
    return int(t) << 32 | int((t % 1) * 2**32)
while True:
    data, addr = s.recvfrom(1024)
    if mode == "silent" or len(data) < 48:
        continue
    if mode == "garbage":
        s.sendto(b"\x17" * 45, addr)
        continue
    leap, stratum, refid = 0, 2, b"\x7f\x00\x00\x01"
    if mode == "kod-deny":
        stratum, refid = 0, b"DENY"
    if mode == "unsync":
        leap, stratum = 3, 16
    head = struct.pack(">BBbbII4s", leap << 6 | 4 << 3 | 4, stratum, 6, -20, 0, 0, refid)
    s.sendto(head + struct.pack(">Q", ts()) + data[40:48] + struct.pack(">QQ", ts(), ts()), addr)
PY
	pids+=($!)
	for _ in $(seq 50); do grep -q ready "$work/fake-$1.log" && return 0; sleep 0.1; done
	echo "fake server ($2) did not start"
}

abs_below() { python3 -c "import sys; sys.exit(0 if abs(float('$1')) < float('$2') else 1)"; }
offset_of() { sed -n 's/^server .*offset \([-0-9.]*\), delay.*/\1/p' | head -1; }

# --- chronyd, loopback port --------------------------------------------------
port=$(free_port)
if start_chronyd "$port"; then
	out=$("$SD" -q "127.0.0.1:$port" 2>"$work/err"); rc=$?
	check "chronyd: exit 0" [ $rc = 0 ]
	check "chronyd: server line in ntpdate's format" \
		grep -Eq '^server 127\.0\.0\.1, stratum 10, offset -?[0-9]+\.[0-9]{6}, delay -?[0-9]+\.[0-9]{5}$' <<<"$out"
	check "chronyd: log line in ntpdate's format" \
		grep -Eq "^[ 0-9][0-9] [A-Z][a-z]{2} [0-9]{2}:[0-9]{2}:[0-9]{2} stratadate\[[0-9]+\]: adjust time server 127\.0\.0\.1 offset -?[0-9]+\.[0-9]{6} sec$" <<<"$out"
	off=$(offset_of <<<"$out")
	check "chronyd: offset ${off:-?} within 1 ms of 0" abs_below "${off:-9}" 0.001
	"$SD" -q --json -p 2 "127.0.0.1:$port" > "$work/json" 2>/dev/null
	check "--json parses" python3 -m json.tool "$work/json" /dev/null
	check "--json names the system peer" python3 -c "import json,sys; d=json.load(open('$work/json')); sys.exit(0 if d['result']['system_peer']=='127.0.0.1' and d['servers'][0]['stratum']==10 and d['action']=='slew' and not d['applied'] else 1)"
	out=$("$SD" -q -p 1 "127.0.0.1:$port" "127.0.0.1:$port" "localhost:$port" 2>&1)
	check "the same server named thrice is asked once" [ "$(grep -c '^server ' <<<"$out")" = 1 ]
fi

# --- chronyd one hour ahead ---------------------------------------------------
port=$(free_port)
if start_chronyd "$port" "+1h"; then
	out=$("$SD" -q "127.0.0.1:$port" 2>&1)
	off=$(offset_of <<<"$out")
	check "faketime +1h: offset ${off:-?} is 3600 s within 10 ms" abs_below "$(python3 -c "print(${off:-0} - 3600)")" 0.01
	check "faketime +1h: would step" grep -q "step time server 127.0.0.1 offset 3600" <<<"$out"
fi

# --- misbehaving servers ------------------------------------------------------
expect_failure() {
	local what=$1 pattern=$2; shift 2
	local err rc
	err=$("$SD" -q "$@" 2>&1 >/dev/null); rc=$?
	check "$what: exit 1" [ $rc = 1 ]
	check "$what: says '$pattern'" grep -qF "$pattern" <<<"$err" || echo "  got: $err"
}
for mode in garbage kod-deny silent unsync; do
	port=$(free_port)
	start_fake "$port" "$mode"
	case $mode in
	garbage) expect_failure garbage "127.0.0.1:$port (127.0.0.1): only malformed replies" -p 2 -t 0.3 "127.0.0.1:$port" ;;
	kod-deny) expect_failure "KoD DENY" "kiss-o'-death DENY: the server refuses to serve us" "127.0.0.1:$port" ;;
	silent) expect_failure silent "127.0.0.1:$port (127.0.0.1): no reply (2 requests timed out)" -p 2 -t 0.3 "127.0.0.1:$port" ;;
	unsync) expect_failure unsynchronized "every reply rejected: server is unsynchronized" -p 1 "127.0.0.1:$port" ;;
	esac
done
port=$(free_port)
expect_failure "nothing listening" "connection refused" "127.0.0.1:$port"
expect_failure "unresolvable name" "no-such-host.invalid: cannot resolve" no-such-host.invalid
expect_failure "bad option" "samples must be 1 to 8" -p 9 127.0.0.1

# --- port 123 peers, in a private network namespace ---------------------------
if [ -x "$NTPSEC/usr/bin/ntpdig" ] && unshare -n true 2>/dev/null; then
	cat > "$work/ns.sh" <<NS
set -u
ip link set lo up
$(declare -f start_chronyd free_port)
work=$work CHRONYD=$CHRONYD NOTIME="$NOTIME" pids=()
export PYTHONPATH=$NTPSEC/usr/lib/python3/dist-packages
start_chronyd 123 >/dev/null || exit 1
sd=\$("$SD" -q 127.0.0.1 | sed -n 's/^server .*offset \([-0-9.]*\),.*/\1/p')
# ntpdig takes one sample with user-space timestamps: keep its best of
# five (smallest error bound), as stratadate keeps its minimum-delay sample.
dig=\$(for i in 1 2 3 4 5; do $NTPSEC/usr/bin/ntpdig 127.0.0.1; done | awk '{print \$6, \$4}' | sort -g | head -1 | cut -d' ' -f2)
echo "offsets \$sd \$dig"
t0=\$(date +%s.%N); for i in 1 2 3; do "$SD" -q 127.0.0.1 >/dev/null; done
t1=\$(date +%s.%N); for i in 1 2 3; do "$SD" -q -p 1 127.0.0.1 >/dev/null; done
t2=\$(date +%s.%N); for i in 1 2 3; do $NTPSEC/usr/bin/ntpdig 127.0.0.1 >/dev/null; done
t3=\$(date +%s.%N); for i in 1 2 3; do sh $NTPSEC/usr/sbin/ntpdate -q 127.0.0.1 >/dev/null 2>&1; done
t4=\$(date +%s.%N)
echo "timing \$t0 \$t1 \$t2 \$t3 \$t4"
kill \${pids[@]}
NS
	res=$(PATH=$NTPSEC/usr/bin:$PATH timeout 120 unshare -n bash "$work/ns.sh" 2>&1)
	read -r _ sd dig <<<"$(grep '^offsets' <<<"$res")"
	if [ -n "${sd:-}" ] && [ -n "${dig:-}" ]; then
		check "port 123: stratadate ($sd) and ntpdig ($dig) agree within 1 ms" \
			abs_below "$(python3 -c "print($sd - ($dig))")" 0.001
	else
		fail "port 123: no offsets from stratadate and ntpdig: $res"
	fi
	read -r _ t0 t1 t2 t3 t4 <<<"$(grep '^timing' <<<"$res")"
	[ -n "${t4:-}" ] && python3 -c "
print('timing (mean of 3, s): stratadate -q %.3f, stratadate -q -p 1 %.3f, ntpdig %.3f, ntpdate (ntpsec) -q %.3f'
      % (($t1-$t0)/3, ($t2-$t1)/3, ($t3-$t2)/3, ($t4-$t3)/3))"
	if [ -x "$NTPSEC/usr/sbin/ntpd" ]; then
		cat > "$work/ntpsec.sh" <<NS
ip link set lo up
printf 'interface ignore wildcard\ninterface listen 127.0.0.1\ndriftfile $work/ntpsec.drift\n' > $work/ntp.conf
$NOTIME $NTPSEC/usr/sbin/ntpd -n -c $work/ntp.conf > $work/ntpsec.log 2>&1 &
p=\$!
sleep 2
"$SD" -q -p 1 127.0.0.1 2>&1; echo "rc=\$?"
kill \$p
NS
		res=$(timeout 60 unshare -n bash "$work/ntpsec.sh" 2>&1)
		check "ntpsec ntpd (unsynchronized): rejected with the reason" \
			grep -q "every reply rejected: server is unsynchronized (kiss code INIT)" <<<"$res"
		check "ntpsec ntpd (unsynchronized): exit 1" grep -q "^rc=1" <<<"$res"
	fi
else
	echo "SKIP: port 123 comparisons (no ntpdig or no unshare -n)"
fi

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
