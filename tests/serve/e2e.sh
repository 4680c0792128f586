#!/bin/sh
# End-to-end: stratad serving its local clock (local_stratum, -x, without
# CAP_SYS_TIME) on port 123 in a private network namespace, against hostile
# and ordinary clients (hostile.py), and tshark's NTP dissector on a captured
# reply; then the same clients against serve.threads = 2. Skips (77) where a
# network namespace cannot be made.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILDDIR:-$(pwd)}
stratad=$build/src/stratad
[ -x "$stratad" ] || { echo "no $stratad"; exit 77; }
command -v python3 >/dev/null || { echo "no python3"; exit 77; }
if [ -z "${STRATA_IN_NETNS:-}" ]; then
	unshare -n true 2>/dev/null || { echo "cannot unshare a network namespace"; exit 77; }
	STRATA_IN_NETNS=1 exec unshare -n "$0" "$@"
fi
ip link set lo up
dir=$(mktemp -d /tmp/strata-serve-e2e.XXXXXX)
chmod 755 "$dir"
trap 'kill $pid $cap 2>/dev/null; wait 2>/dev/null; rm -rf "$dir"' EXIT
cat > "$dir/stratad.conf.in" <<CONF
sources = ();
clock = { adjust = false; local_stratum = 10; driftfile = "$dir/drift"; };
serve = {
  listen = [ "127.0.0.1" ];
  deny = [ "127.0.0.66" ];
  ratelimit = { interval = 1.0; burst = 8; kod = true; };
  threads = THREADS;
};
control = { socket = "$dir/stratad.sock"; };
pidfile = "$dir/stratad.pid";
user = "nobody";
log = { syslog = false; };
CONF
sed 's/THREADS/0/' "$dir/stratad.conf.in" > "$dir/stratad.conf"
cap=
if command -v tshark >/dev/null; then
	tshark -q -i lo -f "udp port 123" -a duration:60 -w "$dir/ntp.pcap" 2>"$dir/tshark.log" &
	cap=$!
	for i in $(seq 100); do grep -q "Capturing on" "$dir/tshark.log" && break; sleep 0.1; done
fi
setpriv --bounding-set=-sys_time --inh-caps=-sys_time "$stratad" -c "$dir/stratad.conf" -n -x \
	2>"$dir/stratad.log" &
pid=$!
for i in $(seq 50); do [ -S "$dir/stratad.sock" ] && break; sleep 0.1; done
python3 "$top/tests/serve/hostile.py" "$dir/stratad.sock" 10 "$dir/stratad.pid"
status=$?
if [ -n "$cap" ]; then
	sleep 0.5
	kill -INT $cap; wait $cap
	cap=
	# the answers only: the hostile requests are meant to look malformed
	out=$(tshark -r "$dir/ntp.pcap" -V -Y "ntp.flags.mode == 4 && udp.srcport == 123 && !icmp" 2>&1)
	echo "$out" | grep -E "Stratum|Leap Indicator|Reference ID|Origin Timestamp" | sed "s/^/tshark: /" | head -5
	if ! echo "$out" | grep -q "server (4)"; then
		echo "FAIL tshark did not decode a server reply"; status=1
	elif echo "$out" | grep -qiE "Expert Info \((Warning|Error)|malformed"; then
		echo "FAIL tshark warns about the reply"; echo "$out" | grep -iE "Expert Info \((Warning|Error)|malformed"; status=1
	else
		echo "ok   tshark decodes the reply without warnings"
	fi
fi
kill $pid; wait $pid 2>/dev/null; pid=
if grep -qiE "error|sanitizer" "$dir/stratad.log"; then
	echo "FAIL stratad logged errors:"; cat "$dir/stratad.log"; status=1
fi

# the same clients against two worker threads (SO_REUSEPORT keeps a client's
# packets on one worker, so its limits hold; the counters are summed)
echo "--- serve.threads = 2"
sed 's/THREADS/2/' "$dir/stratad.conf.in" > "$dir/stratad.conf"
setpriv --bounding-set=-sys_time --inh-caps=-sys_time "$stratad" -c "$dir/stratad.conf" -n -x \
	2>"$dir/stratad.log" &
pid=$!
for i in $(seq 50); do [ -S "$dir/stratad.sock" ] && break; sleep 0.1; done
python3 "$top/tests/serve/hostile.py" "$dir/stratad.sock" 10 "$dir/stratad.pid" || status=1
kill $pid; wait $pid 2>/dev/null; pid=
if grep -qiE "error|sanitizer" "$dir/stratad.log"; then
	echo "FAIL stratad logged errors:"; cat "$dir/stratad.log"; status=1
fi
exit $status
