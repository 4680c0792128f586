#!/bin/bash
# ntpdate's flags, each run against a real chronyd (port 123, and ::1) in a
# private network namespace, with the exit code and the output lines
# asserted; -s against a syslog socket of the test's own (a private mount
# namespace puts it at /dev/log); a flood that trips stratad's own rate
# limiter gives the rate-limited message. The clock is never touched:
# stratadate runs without CAP_SYS_TIME, and only -q or -d (which never
# adjusts) are used. Prints "N passed, M failed"; exit 77 (SKIP) without
# root, .peers or stratadate.
#   STRATA_BUILD=BUILDDIR tests/interop/stratadate_flags.sh
set -u
. "$(dirname "$0")/stratad_lib.sh"
[ -x "$STRATA_BUILD/src/stratadate" ] || skip "stratadate not built in $STRATA_BUILD"
need_stratad
need_peers
run_in_netns "$@"
SD=("${PEERS_NOCAP[@]}" "$STRATA_BUILD/src/stratadate")

stamp='[ 0-9][0-9] [A-Z][a-z]{2} [0-9]{2}:[0-9]{2}:[0-9]{2} stratadate\[[0-9]+\]: '
server_line='^server 127\.0\.0\.1, stratum 10, offset -?[0-9]+\.[0-9]{6}, delay [0-9]+\.[0-9]{5}$'
# run ARGS...: stratadate's stdout, stderr and exit code in $out, $err, $rc
run() { out=$("${SD[@]}" "$@" 2> "$workdir/err"); rc=$?; err=$(cat "$workdir/err"); }
lines() { grep -c . <<<"$1"; }
# expect WHAT 'SHELL CONDITION': one assertion over several commands.
expect() {
	if eval "$2"; then ok "$1"; else not_ok "$1"; echo "  got: rc=${rc:-} out=${out:-} err=${err:-}" | head -5; fi
}

if ! start_chronyd_server 123 > /dev/null; then
	not_ok "chronyd starts on 127.0.0.1:123"
	finish
	exit
fi

run -q 127.0.0.1
check "-q: exit 0, nothing on stderr" [ $rc = 0 -a -z "$err" ]
expect "-q: a server line and an 'adjust time server' line" ' grep -Eq "$server_line" <<<"$out" && grep -Eq "^${stamp}adjust time server 127\.0\.0\.1 offset -?[0-9]+\.[0-9]{6} sec$" <<<"$out"'
check "-q: two lines ($(lines "$out"))" [ "$(lines "$out")" = 2 ]
expect "-q: never -0.000000" '! grep -q -- "-0\.000000" <<<"$out"'

run -q -b 127.0.0.1
expect "-b: exit 0, 'step time server'" '[ $rc = 0 ] && grep -Eq "^${stamp}step time server 127\.0\.0\.1 offset" <<<"$out"'
run -q -B 127.0.0.1
expect "-B: exit 0, 'adjust time server'" '[ $rc = 0 ] && grep -Eq "^${stamp}adjust time server 127\.0\.0\.1 offset" <<<"$out"'
run -q -b -B 127.0.0.1
expect "-b -B: exit 1, says they exclude each other" '[ $rc = 1 ] && grep -q "exclude each other" <<<"$err"'
run -q -u 127.0.0.1
expect "-u: exit 0, the server line" '[ $rc = 0 ] && grep -Eq "$server_line" <<<"$out"'

# -d goes through every step but never adjusts (and has no CAP_SYS_TIME here)
run -d -p 2 127.0.0.1
expect "-d (without -q): exit 0, the server line" '[ $rc = 0 ] && grep -Eq "$server_line" <<<"$out"'
check "-d: two requests, the debug lines on stderr" [ "$(grep -c ': request [0-9] sent (NTP version 4)$' <<<"$err")" = 2 ]
check "-d: each sample shown" [ "$(grep -c ': sample [0-9]: stratum 10, offset' <<<"$err")" = 2 ]
run -q -d -p 3 -o 3 127.0.0.1
expect "-p 3 -o 3: three requests of version 3, exit 0" ' [ $rc = 0 -a "$(grep -c ": request [0-9] sent (NTP version 3)$" <<<"$err")" = 3 ]'
run -q -p 9 127.0.0.1
expect "-p 9: exit 1, range named" '[ $rc = 1 ] && grep -q "samples must be 1 to 8" <<<"$err"'
run -q -o 5 127.0.0.1
expect "-o 5: exit 1, range named" '[ $rc = 1 ] && grep -q "version must be 1 to 4" <<<"$err"'

# -t: a timeout of 0.3 s per request against a port nobody answers on time
if read -r _ port < <(start_fake_server silent); then
	t0=$(date +%s%N)
	run -q -p 1 -t 0.3 "127.0.0.1:$port"
	ms=$((($(date +%s%N) - t0) / 1000000))
	expect "-t 0.3: exit 1, no reply (1 request timed out)" '[ $rc = 1 ] && grep -q "no reply (1 request timed out)" <<<"$err"'
	check "-t 0.3: gave up after ${ms} ms (0.3 to 1 s)" [ "$ms" -ge 300 -a "$ms" -lt 1000 ]
else
	not_ok "fake server (silent) starts"
fi

run -q -v 127.0.0.1
expect "-v: exit 0, the version banner first" '[ $rc = 0 ] && head -1 <<<"$out" | grep -Eq "^${stamp}stratadate [0-9.]+ \(strata\)$"'
run -q -e 0.010 127.0.0.1
expect "-e 0.010: accepted, no effect, exit 0" '[ $rc = 0 ] && grep -Eq "$server_line" <<<"$out"'
run -q -e 2 127.0.0.1
expect "-e 2: exit 1, range named" '[ $rc = 1 ] && grep -q "authentication delay must be" <<<"$err"'
# -a/-k: signed requests (tests/interop/stratad_auth.sh has chronyd with keys);
# this chronyd holds none, so it ignores them
echo "1 MD5 secret" > "$workdir/keys"
chmod 644 "$workdir/keys"
run -q -a 1 -k "$workdir/keys" 127.0.0.1
expect "-a 1 -k FILE readable by all: exit 1, the file named" '[ $rc = 1 ] && grep -q "keys: the keys file is readable by others" <<<"$err"'
chmod 600 "$workdir/keys"
run -q -a 2 -k "$workdir/keys" 127.0.0.1
expect "-a 2, not in the file: exit 1, said" '[ $rc = 1 ] && grep -q "key 2 is not in" <<<"$err"'
run -q -p 1 -t 0.5 -a 1 -k "$workdir/keys" 127.0.0.1
expect "-a 1 to a server without the key: no answer, exit 1" '[ $rc = 1 ] && grep -q "no reply" <<<"$err"'

# -4 / -6: a name with both addresses (our own /etc/hosts, in this private
# mount namespace only); a second chronyd listens on ::1 alone
printf '127.0.0.1 localhost dualhost\n::1 dualhost\n' > "$workdir/hosts"
mount --bind "$workdir/hosts" /etc/hosts || not_ok "bind-mount a hosts file"
if PEERS_BIND=::1 start_chronyd_server 11123 > /dev/null; then
	# chronyd's bindaddress ::1 leaves IPv4 on the wildcard: both answer
	run -q -p 1 dualhost:11123
	expect "dualhost: both addresses asked, exit 0" '[ $rc = 0 ] && grep -q "^server 127.0.0.1:11123, " <<<"$out" && grep -q "^server \[::1\]:11123, " <<<"$out"'
	run -q -p 1 -4 dualhost:11123
	expect "-4 dualhost: only 127.0.0.1, exit 0" '[ $rc = 0 -a -z "$err" ] && grep -q "^server 127.0.0.1:11123, stratum 10, offset" <<<"$out" && ! grep -q "::1" <<<"$out"'
	run -q -p 1 -6 dualhost:11123
	expect "-6 dualhost: only ::1, exit 0" '[ $rc = 0 -a -z "$err" ] && grep -q "^server \[::1\]:11123, stratum 10, offset" <<<"$out" && ! grep -q "127.0.0.1" <<<"$out"'
else
	not_ok "chronyd starts on [::1]:11123"
fi

# -s: the result and the errors go to syslog, server lines stay on stdout
cat > "$workdir/syslog.py" <<'EOF'
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("/dev/log")
open(sys.argv[1] + ".ready", "w").close()
s.settimeout(0.5)
end = time.monotonic() + 20
with open(sys.argv[1], "a", buffering=1) as f:
    while time.monotonic() < end:
        try:
            f.write(s.recv(4096).decode(errors="replace") + "\n")
        except socket.timeout:
            pass
EOF
unshare --mount --propagation private bash -c '
	set -u
	mkdir -p "$1/realdev" && mount --bind /dev "$1/realdev" && mount -t tmpfs none /dev || exit 1
	for n in null zero random urandom; do touch "/dev/$n"; mount --bind "$1/realdev/$n" "/dev/$n"; done
	timeout 25 python3 "$1/syslog.py" "$1/syslog" & 
	for _ in $(seq 50); do [ -e "$1/syslog.ready" ] && break; sleep 0.1; done
	w=$1
	shift
	"$@" -q -s 127.0.0.1 > "$w/s.out" 2> "$w/s.err"; echo $? > "$w/s.rc"
	"$@" -q -s -p 1 127.0.0.1:9 > "$w/s2.out" 2> "$w/s2.err"; echo $? > "$w/s2.rc"
	sleep 0.5; kill %1' syslog "$workdir" "${SD[@]}"
check "-s: exit 0, nothing on stderr" [ "$(cat "$workdir/s.rc")" = 0 -a ! -s "$workdir/s.err" ]
expect "-s: only the server line on stdout" '[ "$(grep -c . "$workdir/s.out")" = 1 ] && grep -Eq "$server_line" "$workdir/s.out"'
check "-s: the result in syslog" grep -Eq 'stratadate\[[0-9]+\]: adjust time server 127\.0\.0\.1 offset -?[0-9.]+ sec$' "$workdir/syslog"
check "-s: a failure exits 1, stderr empty" [ "$(cat "$workdir/s2.rc")" = 1 -a ! -s "$workdir/s2.err" ]
check "-s: the failure in syslog" grep -q 'stratadate\[[0-9]*\]: 127.0.0.1:9 (127.0.0.1:9): connection refused' "$workdir/syslog"

# --- a client too fast for stratad's own rate limiter ---------------------------
# serve.ratelimit allows one request per 2 s (burst 1); stratadate asks once
# a second. Its second request trips the limiter: stratad answers KoD RATE
# (its GCRA gives a KoD at most once per interval, so a flood from another
# socket of the same address would take that KoD itself; our client is the
# flood here). stratadate says so, keeps its first sample and asks no more.
cat > "$workdir/stratad.conf" <<EOC
sources = ();
clock = { adjust = false; local_stratum = 10; driftfile = ""; };
serve = { listen = [ "127.0.0.3" ]; ratelimit = { interval = 2.0; burst = 1; kod = true; }; };
control = { socket = "$workdir/run/stratad.sock"; };
pidfile = "$workdir/run/stratad.pid";
user = "nobody";
log = { syslog = false; };
EOC
mkdir -p "$workdir/run" && chmod 777 "$workdir/run"
start_stratad "$workdir/stratad.conf"
if wait_for 10 ctl tracking > /dev/null 2>&1; then
	run -q -d -p 4 127.0.0.3
	expect "rate limited by stratad: exit 0 on the first sample, the server line" '[ $rc = 0 ] && grep -q "^server 127.0.0.3, stratum 10, offset" <<<"$out"'
	expect "rate limited by stratad: says 'rate limited by the server (kiss code RATE)'" 'grep -qx "stratadate: 127.0.0.3 (127.0.0.3): rate limited by the server (kiss code RATE): asked no more" <<<"$err"'
	expect "rate limited by stratad: 2 requests of 4, then no more" '[ "$(grep -c ": request [0-9] sent " <<<"$err")" = 2 ]'
	expect "stratad counted the KoD it sent" '[ "$(ctl --json serverstats | python3 -c "import json,sys; print(json.load(sys.stdin)[\"kod_sent\"])")" -ge 1 ]'
else
	not_ok "stratad starts serving on 127.0.0.3"
fi
finish
