#!/bin/bash
# Interop tests of stratadate against real servers (chronyd, ntpsec,
# openntpd) and misbehaving ones (tests/peers/fake_server.py), all inside a
# private network namespace (run_in_netns), so the port-123 peers can run
# too. Only -q is ever used: the host clock is never touched; every server
# runs without CAP_SYS_TIME (chronyd also with -x). Prints "N passed, M
# failed"; exit 77 (SKIP) without root, .peers or stratadate.
#   STRATA_BUILD=BUILDDIR tests/interop/stratadate.sh
# Internal mode: stratadate.sh --openntpd-upstream (the slow openntpd part,
# run in a namespace of its own in parallel with the rest).
set -u
. "$(dirname "$0")/lib.sh"
[ -x "$STRATA_BUILD/src/stratadate" ] || skip "stratadate not built in $STRATA_BUILD"
# -q everywhere, and without CAP_SYS_TIME besides
SD=("${PEERS_NOCAP[@]}" "$STRATA_BUILD/src/stratadate")
need_peers faketime
run_in_netns "$@"

abs_below() { python3 -c "import sys; sys.exit(0 if abs(float('$1')) < float('$2') else 1)"; }
offset_of() { sed -n 's/^server .*offset \([-0-9.]*\), delay.*/\1/p' | head -1; }

# expect_failure WHAT MESSAGE STRATADATE-ARGS...: stratadate -q exits 1 and
# says MESSAGE on stderr (expect_failure_line: MESSAGE is a whole line).
expect_failure() { _expect_failure -qF "$@"; }
expect_failure_line() { _expect_failure -qxF "$@"; }
_expect_failure() {
	local how=$1 what=$2 pattern=$3; shift 3
	local err rc
	err=$("${SD[@]}" -q "$@" 2>&1 >/dev/null); rc=$?
	check "$what: exit 1" [ $rc = 1 ]
	check "$what: says '$pattern'" grep "$how" -- "$pattern" <<<"$err" || echo "  got: $err"
}
unsync_line="stratadate: 127.0.0.1 (127.0.0.1): every reply rejected: server is unsynchronized"

# openntpd with chronyd (stratum 8, on 127.0.0.2:123) as its upstream takes
# it as a peer only after 60-80 s; it then answers stratum 9 but still leap
# 3 (unsynchronized): it calls itself synced only after a successful
# adjtime(), which it cannot do without CAP_SYS_TIME (tests/peers/README.md).
if [ "${1:-}" = --openntpd-upstream ]; then
	PEERS_BIND=127.0.0.2 PEERS_STRATUM=8 start_chronyd_server 123 > /dev/null || exit 1
	start_openntpd_server 127.0.0.2 > /dev/null || exit 1
	out=$(peers_wait_answer 127.0.0.1 123 120 'stratum=9 ' 2)
	check "openntpd with an upstream: answers stratum 9 within 120 s" [ -n "$out" ]
	check "openntpd with an upstream: still leap 3 ($out)" grep -q 'leap=3 ' <<<"$out"
	expect_failure_line "openntpd with an upstream (stratum 9, leap 3)" "$unsync_line" -p 1 127.0.0.1
	finish
	exit
fi
in_netns bash "$0" --openntpd-upstream > "$workdir/openntpd-upstream.log" 2>&1 &
upstream_part=$!
peers_track "$upstream_part"

# --- chronyd, loopback port --------------------------------------------------
port=11123
if start_chronyd_server "$port" > /dev/null; then
	out=$("${SD[@]}" -q "127.0.0.1:$port" 2>"$workdir/err"); rc=$?
	check "chronyd: exit 0" [ $rc = 0 ]
	check "chronyd: server line in ntpdate's format" \
		grep -Eq "^server 127\.0\.0\.1:$port, stratum 10, offset -?[0-9]+\.[0-9]{6}, delay [0-9]+\.[0-9]{5}$" <<<"$out"
	check "chronyd: log line in ntpdate's format, naming the port" \
		grep -Eq "^[ 0-9][0-9] [A-Z][a-z]{2} [0-9]{2}:[0-9]{2}:[0-9]{2} stratadate\[[0-9]+\]: adjust time server 127\.0\.0\.1:$port offset -?[0-9]+\.[0-9]{6} sec$" <<<"$out"
	off=$(offset_of <<<"$out")
	check "chronyd: offset ${off:-?} within 1 ms of 0" abs_below "${off:-9}" 0.001
	"${SD[@]}" -q --json -p 2 "127.0.0.1:$port" > "$workdir/json" 2>/dev/null
	check "--json parses" python3 -m json.tool "$workdir/json" /dev/null
	check "--json names the system peer" python3 -c "import json,sys; d=json.load(open('$workdir/json')); sys.exit(0 if d['result']['system_peer']=='127.0.0.1' and d['servers'][0]['stratum']==10 and d['action']=='slew' and not d['applied'] else 1)"
	out=$("${SD[@]}" -q -p 1 "127.0.0.1:$port" "127.0.0.1:$port" "localhost:$port" 2>&1)
	check "the same server named thrice is asked once" [ "$(grep -c '^server ' <<<"$out")" = 1 ]
else
	not_ok "chronyd starts on port $port"
fi

# --- chronyd one hour ahead ---------------------------------------------------
port=11124
if start_chronyd_server "$port" +1h > /dev/null; then
	out=$("${SD[@]}" -q "127.0.0.1:$port" 2>&1)
	off=$(offset_of <<<"$out")
	check "faketime +1h: offset ${off:-?} is 3600 s within 10 ms" abs_below "$(python3 -c "print(${off:-0} - 3600)")" 0.01
	check "faketime +1h: would step" grep -q "step time server 127.0.0.1:$port offset 3600" <<<"$out"
else
	not_ok "chronyd +1h starts on port $port"
fi

# --- misbehaving servers ------------------------------------------------------
for mode in short kod-deny kod-rate silent unsync bad-origin zero-xmt root-max precision-max oversized; do
	if ! read -r _ port < <(start_fake_server "$mode"); then
		not_ok "fake server ($mode) starts"
		continue
	fi
	case $mode in
	short) expect_failure garbage "127.0.0.1:$port (127.0.0.1:$port): only malformed replies (2)" -p 2 -t 0.3 "127.0.0.1:$port" ;;
	kod-deny) expect_failure "KoD DENY" "kiss-o'-death DENY: the server refuses to serve us" "127.0.0.1:$port" ;;
	kod-rate)
		expect_failure_line "KoD RATE" "stratadate: 127.0.0.1:$port (127.0.0.1:$port): every reply rejected: rate limited by the server (kiss code RATE)" "127.0.0.1:$port"
		# ntpdate's back-off: no further request to a server that said RATE
		sent=$("${SD[@]}" -q -d -p 4 "127.0.0.1:$port" 2>&1 | grep -c ': request [0-9]* sent ')
		check "KoD RATE: one request of 4 sent ($sent)" [ "$sent" = 1 ] ;;
	silent) expect_failure silent "127.0.0.1:$port (127.0.0.1:$port): no reply (2 requests timed out)" -p 2 -t 0.3 "127.0.0.1:$port" ;;
	unsync) expect_failure unsynchronized "every reply rejected: server is unsynchronized" -p 1 "127.0.0.1:$port" ;;
	bad-origin) expect_failure "wrong origin, without -d" "127.0.0.1:$port (127.0.0.1:$port): only bogus replies (2): origin timestamp does not match our request (bogus or replayed)" -p 2 -t 0.3 "127.0.0.1:$port" ;;
	zero-xmt) expect_failure "zero transmit time" "every reply rejected: zero receive or transmit timestamp" -p 1 "127.0.0.1:$port" ;;
	root-max) expect_failure "root distance 98,304 s" "every reply rejected: root distance 9.83e+04 s exceeds the limit of 1.5 s" -p 1 "127.0.0.1:$port" ;;
	precision-max) expect_failure "precision 2^127 s" "every reply rejected: root distance 1.7e+38 s exceeds the limit of 1.5 s" -p 1 "127.0.0.1:$port" ;;
	oversized) expect_failure "oversized reply" "127.0.0.1:$port (127.0.0.1:$port): only bogus replies (1): oversized datagram (more than 4096 bytes)" -p 1 -t 0.3 "127.0.0.1:$port" ;;
	esac
done
# --- an injected datagram (a request echoed back, a reply with a wrong
# origin) before the real reply does not cost the sample ------------------
if read -r _ port < <(start_fake_server inject); then
	out=$("${SD[@]}" -q -p 1 "127.0.0.1:$port" 2>&1); rc=$?
	check "injected datagrams ignored: exit 0" [ $rc = 0 ] || echo "  got: $out"
	check "injected datagrams ignored: the server line" grep -q "^server 127.0.0.1:$port, stratum 2, " <<<"$out"
else
	not_ok "fake server (inject) starts"
fi
# --- servers 10 and 100 years off: the one-shot insane-time guard ----------
for years in 10 100; do
	if read -r _ port < <(start_fake_server offset $((years * 31536000))); then
		expect_failure "$years years off" "insane time: 127.0.0.1:$port puts the clock" -p 1 "127.0.0.1:$port"
	else
		not_ok "fake server ($years years off) starts"
	fi
done

# --- two LAN-like servers 0.6 ms apart, with root delay and dispersion 0 ------
# Their root distances are well under 0.3 ms: only the 1 ms floor of a
# correctness interval (as stratad's) lets them agree.
if read -r _ near < <(start_fake_server --root 0 good) &&
	read -r _ far < <(start_fake_server --root 0 offset 0.0006); then
	out=$("${SD[@]}" -q "127.0.0.1:$near" "127.0.0.1:$far" 2>&1); rc=$?
	check "two servers 0.6 ms apart: both truechimers, exit 0" [ $rc = 0 ] || echo "  got: $out"
	combined=$(sed -n 's/.*adjust time server .* offset \([-0-9.]*\) sec$/\1/p' <<<"$out")
	check "two servers 0.6 ms apart: combined offset ${combined:-?} between them" \
		python3 -c "import sys; sys.exit(0 if 0 < float('${combined:-nan}') < 0.0006 else 1)"
else
	not_ok "two fake servers (--root 0) start"
fi
expect_failure "nothing listening" "connection refused" "127.0.0.1:11125"
expect_failure "unresolvable name" "no-such-host.invalid: cannot resolve" no-such-host.invalid
expect_failure "bad option" "samples must be 1 to 8" -p 9 127.0.0.1

# --- port 123: chronyd, compared with ntpsec's ntpdig and ntpdate -------------
if pid=$(start_chronyd_server 123); then
	sd=$("${SD[@]}" -q 127.0.0.1 | offset_of)
	# ntpdig takes one sample with user-space timestamps: keep its best of
	# five (smallest error bound), as stratadate keeps its minimum-delay sample.
	dig=$(for i in 1 2 3 4 5; do run_ntpdig 127.0.0.1; done |
		python3 -c 'import json,sys; print(min((json.loads(l) for l in sys.stdin), key=lambda r: r["precision"])["offset"])')
	if [ -n "$sd" ] && [ -n "$dig" ]; then
		check "port 123: stratadate ($sd) and ntpdig ($dig) agree within 1 ms" \
			abs_below "$(python3 -c "print($sd - ($dig))")" 0.001
	else
		not_ok "port 123: no offsets from stratadate (${sd:-none}) and ntpdig (${dig:-none})"
	fi
	t0=$(date +%s.%N); for i in 1 2 3; do "${SD[@]}" -q 127.0.0.1 >/dev/null; done
	t1=$(date +%s.%N); for i in 1 2 3; do "${SD[@]}" -q -p 1 127.0.0.1 >/dev/null; done
	t2=$(date +%s.%N); for i in 1 2 3; do run_ntpdig 127.0.0.1 >/dev/null; done
	t3=$(date +%s.%N); for i in 1 2 3; do run_ntpsec_ntpdate 127.0.0.1 >/dev/null 2>&1; done
	t4=$(date +%s.%N)
	python3 -c "
print('timing (mean of 3, s): stratadate -q %.3f, stratadate -q -p 1 %.3f, ntpdig %.3f, ntpdate (ntpsec) -q %.3f'
      % (($t1-$t0)/3, ($t2-$t1)/3, ($t3-$t2)/3, ($t4-$t3)/3))"
	peers_stop "$pid"
else
	not_ok "chronyd starts on port 123"
fi

# --- ntpsec without a time source: stratum 0, leap 3, INIT --------------------
if pid=$(start_ntpsec_server unsync); then
	expect_failure_line "ntpsec ntpd (unsynchronized)" "$unsync_line (kiss code INIT)" -p 1 127.0.0.1
	peers_stop "$pid"
else
	not_ok "ntpsec ntpd starts"
fi

# --- openntpd without servers: leap 3, stratum 0, refid 0 ---------------------
if pid=$(start_openntpd_server); then
	# Stratum 0 with refid 0: unsynchronized, and no kiss code to name.
	expect_failure_line "openntpd without servers (stratum 0, leap 3)" "$unsync_line" -p 1 127.0.0.1
	peers_stop "$pid"
else
	not_ok "openntpd starts"
fi

# The openntpd-with-upstream part (bounded by its 120 s wait).
wait "$upstream_part"
absorb "$workdir/openntpd-upstream.log"
finish
