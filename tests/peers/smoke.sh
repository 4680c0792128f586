#!/usr/bin/env bash
# tests/peers/smoke.sh - check that every peer and helper in lib.sh does
# what tests/peers/README.md says. Prints one PASS/FAIL line per check and
# "N passed, M failed"; exits non-zero on any failure. Needs root (network
# namespaces) and tests/peers/fetch to have run. About 90 s: the slow
# openntpd-with-upstream check runs in its own namespace in parallel.
#
# Internal modes: smoke.sh --netns RESULTS | --openntpd-upstream RESULTS
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/lib.sh"

RESULTS=${2:-}
pass() { echo "PASS $1" >>"$RESULTS"; echo "PASS $1"; }
fail() { echo "FAIL $1${2:+: $2}" >>"$RESULTS"; echo "FAIL $1${2:+: $2}"; }
# check NAME CMD... : PASS if CMD succeeds.
check() { local n=$1; shift; if "$@"; then pass "$n"; else fail "$n"; fi; }
# has NAME TEXT REGEX... : PASS if TEXT matches every extended REGEX.
has() {
    local n=$1 text=$2 re; shift 2
    for re in "$@"; do
        grep -Eq -- "$re" <<<"$text" || { fail "$n" "wanted /$re/ in: ${text:-<nothing>}"; return; }
    done
    pass "$n"
}
field() { sed -n "s/.*\\b$2=\\([^ ]*\\).*/\\1/p" <<<"$1"; }
near() {  # near VALUE TARGET TOLERANCE
    "$PEERS_PY" -c 'import sys; v,t,e=map(float,sys.argv[1:]); sys.exit(0 if abs(v-t)<=e else 1)' "$1" "$2" "$3" 2>/dev/null
}
daemon_pid() { cat "$1" 2>/dev/null; }
pid_file_of() { ls "$PEERS_TMP"/$1 2>/dev/null | head -n1; }

# --- part run inside in_netns (ntpsec, openntpd, ntpdig, ntpdate) -----------
netns_part() {
    peers_init || { fail "netns: peers_init"; return; }
    check "netns: peers_in_netns is true" peers_in_netns

    local p out pidf
    if p=$(start_ntpsec_server unsync); then
        pass "ntpsec unsync: starts and answers"
        out=$(peers_query 127.0.0.1 123)
        has "ntpsec unsync: leap 3, stratum 0, refid INIT" "$out" 'leap=3 ' 'stratum=0 ' 'refid=INIT ' 'origin_ok=1'
        out=$(peers_query ::1 123)
        has "ntpsec unsync: answers on ::1 too" "$out" 'stratum=0 ' 'refid=INIT '
        if run_ntpdig 127.0.0.1 >/dev/null 2>&1; then fail "ntpdig rejects unsynced ntpsec"; else pass "ntpdig rejects unsynced ntpsec"; fi
        pidf=$(pid_file_of "ntpsec.*/ntpd.pid")
        check "ntpsec ntpd runs without CAP_SYS_TIME" peers_pid_lacks_sys_time "$(daemon_pid "$pidf")"
        check "ntpsec ntpd clock calls fail with EPERM" grep -q 'ntp_adjtime: Operation not permitted' "$(dirname "$pidf")/ntpd.log"
        peers_stop "$p"
    else
        fail "ntpsec unsync: starts and answers"
    fi

    if p=$(start_ntpsec_server local); then
        pass "ntpsec local refclock: synchronizes"
        out=$(peers_query 127.0.0.1 123)
        has "ntpsec local: leap 0, stratum 11, refid 127.127.1.0" "$out" 'leap=0 ' 'stratum=11 ' 'refid=127\.127\.1\.0 ' 'origin_ok=1'
        out=$(run_ntpdig 127.0.0.1 2>&1)
        has "ntpdig queries ntpsec (JSON)" "$out" '"stratum":11' '"leap":"no-leap"' '"adjusted":false'
        out=$(run_ntpsec_ntpdate 127.0.0.1 2>&1)
        has "ntpsec ntpdate -q queries ntpsec" "$out" ' s11 no-leap'
        out=$(run_ntplib 127.0.0.1 123 2>&1)
        has "ntplib queries ntpsec" "$out" 'stratum=11 ' 'leap=0 '
        run_ntpdig 127.0.0.1:11123 >/dev/null 2>&1
        check "run_ntpdig refuses a port other than 123" test $? = 2
        run_ntpdig 127.0.0.1 -s >/dev/null 2>&1
        check "run_ntpdig refuses -s (it would step)" test $? = 2
        run_ntpsec_ntpdate -qb 127.0.0.1 >/dev/null 2>&1
        check "run_ntpsec_ntpdate refuses a bundled -b (-q is then ignored)" test $? = 2
        peers_stop "$p"
    else
        fail "ntpsec local refclock: synchronizes"
    fi

    if p=$(start_openntpd_server); then
        pass "openntpd unsync: starts and answers"
        out=$(peers_query 127.0.0.1 123)
        has "openntpd unsync: leap 3, stratum 0, refid 0" "$out" 'leap=3 ' 'stratum=0 ' 'refid=0 ' 'origin_ok=1'
        if run_ntpdig 127.0.0.1 >/dev/null 2>&1; then fail "ntpdig rejects unsynced openntpd"; else pass "ntpdig rejects unsynced openntpd"; fi
        out=$(openntpd_ctl status 2>&1)
        has "ntpctl reports clock unsynced" "$out" 'clock unsynced'
        # openntpd -d writes no pid file: take the wrapper's child.
        check "openntpd runs without CAP_SYS_TIME" peers_pid_lacks_sys_time "$(peers_child_pid "$p")"
        check "openntpd clock calls fail with EPERM" grep -q 'adjtimex failed: Operation not permitted' "$PEERS_TMP"/openntpd.*/ntpd.log
        peers_stop "$p"
    else
        fail "openntpd unsync: starts and answers"
    fi
}

# --- openntpd taking a chronyd in the namespace as upstream (slow) ----------
openntpd_upstream_part() {
    peers_init || { fail "openntpd upstream: peers_init"; return; }
    local out i
    if ! PEERS_BIND=127.0.0.2 PEERS_STRATUM=8 start_chronyd_server 123 >/dev/null; then
        fail "openntpd upstream: chronyd on 127.0.0.2:123"; return
    fi
    if ! start_openntpd_server 127.0.0.2 >/dev/null; then
        fail "openntpd upstream: starts"; return
    fi
    for i in $(seq 1 60); do       # observed: about 60-80 s
        out=$(peers_query 127.0.0.1 123)
        grep -q 'stratum=9 ' <<<"$out" && break
        sleep 2
    done
    has "openntpd with upstream: stratum 9, refid 127.0.0.2, still leap 3" "$out" 'stratum=9 ' 'refid=127\.0\.0\.2 ' 'leap=3 '
    out=$(openntpd_ctl status 2>&1)
    has "openntpd with upstream: ntpctl 1/1 peers valid, clock unsynced" "$out" '1/1 peers valid' 'clock unsynced'
}

case "${1:-}" in
    --netns) netns_part; exit 0 ;;
    --openntpd-upstream) openntpd_upstream_part; exit 0 ;;
esac

# --- main part, in the host network namespace (loopback, high ports) ------
start=$(date +%s)
[ "$(id -u)" = 0 ] || { echo "smoke.sh: needs root (network namespaces)"; echo "0 passed, 1 failed"; exit 1; }
peers_init || { echo "smoke.sh: run tests/peers/fetch first"; echo "0 passed, 1 failed"; exit 1; }
RESULTS="$PEERS_TMP/results"
: >"$RESULTS"; : >"$PEERS_TMP/results.netns"; : >"$PEERS_TMP/results.up"

# The slow check in its own namespace, in parallel (bounded by timeout).
timeout -k 5 150 bash -c '. "$1"; in_netns bash "$2" --openntpd-upstream "$3"' _ \
    "$here/lib.sh" "$here/smoke.sh" "$PEERS_TMP/results.up" >"$PEERS_TMP/up.log" 2>&1 &
up_pid=$!
peers_track "$up_pid"

check "peers_nocap removes CAP_SYS_TIME (effective and bounding sets)" peers_nocap bash -c ". '$here/lib.sh'; peers_check_nocap"

port1=$((20000 + RANDOM % 20000)); port2=$((port1 + 1))
if p=$(start_chronyd_server "$port1"); then
    pass "chronyd server starts on 127.0.0.1:$port1"
    out=$(run_ntplib 127.0.0.1 "$port1" 2>&1)
    has "ntplib queries chronyd: stratum 10, leap 0, refid 127.127.1.1" "$out" 'stratum=10 ' 'leap=0 ' 'refid=127\.127\.1\.1 '
    check "chronyd offset from host clock is under 50 ms" near "$(field "$out" offset)" 0 0.05
    check "chronyd runs without CAP_SYS_TIME" peers_pid_lacks_sys_time "$(daemon_pid "$PEERS_TMP/chronyd-server-$port1/chronyd.pid")"
    check "chronyd log says clock control is disabled (-x)" grep -q 'Disabled control of system clock' "$PEERS_TMP/chronyd-server-$port1/chronyd.log"
else
    fail "chronyd server starts on 127.0.0.1:$port1"
fi

if p=$(start_chronyd_server "$port2" +1h); then
    out=$(peers_query 127.0.0.1 "$port2")
    has "chronyd under faketime +1h answers" "$out" 'stratum=10 ' 'origin_ok=1'
    check "chronyd under faketime +1h is about +3600 s" near "$(field "$out" offset)" 3600 0.5
    out=$(run_ntplib 127.0.0.1 "$port2")
    check "ntplib sees chronyd +1h at about +3600 s" near "$(field "$out" offset)" 3600 0.5
    if c=$(start_chronyd_client "server 127.0.0.1 port $port2 iburst minpoll -2 maxpoll 0"); then
        pass "chronyd client starts, chronyc answers over its unix socket"
        if out=$(wait_chronyd_synced "$c" 20); then
            pass "chronyd client synchronizes to the +1h server"
            # CSV tracking: field 5 is "system time" (local clock minus
            # true time, positive = slow), field 3 the stratum.
            check "chronyd client tracking: system clock 3600 s slow" near "$(cut -d, -f5 <<<"$out")" 3600 0.5
            check "chronyd client tracking: stratum 11" test "$(cut -d, -f3 <<<"$out")" = 11
            out=$(chronyc_client "$c" sources)
            has "chronyc sources lists the server as selected" "$out" "^\\^\\* 127\\.0\\.0\\.1 +10 "
            check "chronyd client log says it did not touch the clock" grep -q 'Disabled control of system clock' "$PEERS_TMP/chronyd-client.$c/chronyd.log"
        else
            fail "chronyd client synchronizes to the +1h server"
        fi
    else
        fail "chronyd client starts, chronyc answers over its unix socket"
    fi
else
    fail "chronyd under faketime +1h answers"
fi

# fake_server.py, one instance per mode, each checked with peers_query.
fake() {  # fake NAME MODE [SECONDS] -> sets $out to the answer (or "")
    local n=$1 pp; shift
    out=""
    if ! pp=$(start_fake_server "$@"); then fail "fake $n: starts"; return 1; fi
    fport=${pp#* }
    out=$(peers_query 127.0.0.1 "$fport" 1) || out=""
    return 0
}
fake good good && has "fake good: stratum 2, leap 0, origin echoed, ~0 s" "$out" 'leap=0 ' 'stratum=2 ' 'origin_ok=1' 'xmt_zero=0' 'refid=192\.0\.2\.1 '
fake offset offset -250.5 && { has "fake offset: stratum 2, origin echoed" "$out" 'stratum=2 ' 'origin_ok=1'
                               check "fake offset -250.5: offset about -250.5 s" near "$(field "$out" offset)" -250.5 0.1; }
fake garbage garbage && has "fake garbage: 48 bytes, origin not ours" "$out" 'len=48' 'origin_ok=0'
fake kod-deny kod-deny && has "fake kod-deny: leap 3, stratum 0, refid DENY" "$out" 'leap=3 ' 'stratum=0 ' 'refid=DENY '
fake kod-rate kod-rate && has "fake kod-rate: leap 3, stratum 0, refid RATE" "$out" 'leap=3 ' 'stratum=0 ' 'refid=RATE '
fake unsync unsync && has "fake unsync: leap 3, stratum 16" "$out" 'leap=3 ' 'stratum=16 ' 'origin_ok=1'
fake bad-origin bad-origin && has "fake bad-origin: origin is not ours" "$out" 'stratum=2 ' 'origin_ok=0'
fake zero-xmt zero-xmt && has "fake zero-xmt: transmit timestamp 0" "$out" 'xmt_zero=1' 'origin_ok=1'
if fake silent silent; then
    check "fake silent: no answer" test -z "$out"
    silent_logged() { grep -qs 'silent request 1' "$PEERS_TMP"/fake.*/log; }
    for _ in $(seq 50); do silent_logged && break; sleep 0.1; done   # bounded: 5 s
    check "fake silent: request was received" silent_logged
fi
if ntp_out=$(run_ntplib 127.0.0.1 "$fport" 2>&1); then fail "ntplib times out on fake silent"; else pass "ntplib times out on fake silent"; fi
PEERS_FAKE_LIFETIME=1 start_fake_server good >/dev/null
lifetime_over() { tail -q -n1 "$PEERS_TMP"/fake.*/log | grep -q 'lifetime over'; }
for _ in $(seq 50); do lifetime_over && break; sleep 0.1; done   # bounded: 5 s, the lifetime is 1 s
check "fake server exits by itself after --lifetime" lifetime_over

# Namespaced peers.
in_netns bash "$here/smoke.sh" --netns "$PEERS_TMP/results.netns" >/dev/null 2>&1
[ -s "$PEERS_TMP/results.netns" ] || fail "netns part produced no results"

if ! wait "$up_pid"; then :; fi
[ -s "$PEERS_TMP/results.up" ] || fail "openntpd upstream part produced no results" "$(tail -n5 "$PEERS_TMP/up.log")"

check "host untouched: no /var/lib/openntpd" test ! -e /var/lib/openntpd
check "host untouched: no ntpd user in /etc/passwd" bash -c '! grep -q "^ntpd:x:60123:" /etc/passwd'

cat "$PEERS_TMP/results.netns" "$PEERS_TMP/results.up"
cat "$PEERS_TMP/results.netns" "$PEERS_TMP/results.up" >>"$RESULTS"
np=$(grep -c '^PASS' "$RESULTS"); nf=$(grep -c '^FAIL' "$RESULTS")
echo "smoke took $(( $(date +%s) - start )) s"
echo "$np passed, $nf failed"
[ "$nf" = 0 ] && [ "$np" -gt 0 ]
