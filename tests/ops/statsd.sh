#!/bin/bash
# Sends metrics through strata's StatsD sender, and from a running stratad to a real StatsD daemon (the
# npm package, which tests/peers/fetch installs under .peers/statsd) on loopback and
# checks what its console backend flushed: gauges keep the last value (a
# negative one included), counters sum the deltas of the server's totals,
# source names become metric-name components. Also checks that sending to a
# port nobody listens on costs nothing. Bounded: statsd runs under timeout.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${STRATA_BUILD:-$top/build}
probe=$build/tests/ops/metrics_probe
statsd_dir=$top/.peers/statsd
statsd_js=$statsd_dir/node_modules/statsd/stats.js
. "$top/tests/checks.sh"

if [ ! -x "$probe" ]; then
	echo "statsd: $probe missing: run make check in $build first"
	exit 1
fi
if ! command -v node >/dev/null || [ ! -f "$statsd_js" ]; then
	echo "statsd: node and the StatsD daemon in $statsd_dir are needed (tools/setup-debian --tests, tests/peers/fetch)"
	exit 1
fi

work=$(mktemp -d)
statsd_pid=
stratad_pid=
cleanup() {
	[ -n "$statsd_pid" ] && kill "$statsd_pid" 2>/dev/null
	[ -n "$stratad_pid" ] && kill "$stratad_pid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

free_port() { # udp|tcp
	python3 -c "import socket,sys
s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM if sys.argv[1]=='udp' else socket.SOCK_STREAM)
s.bind(('127.0.0.1',0)); print(s.getsockname()[1])" "$1"
}
port=$(free_port udp)
mgmt_port=$(free_port tcp)
cat >"$work/config.js" <<JS
{
  address: "127.0.0.1", port: $port,
  mgmt_address: "127.0.0.1", mgmt_port: $mgmt_port,
  flushInterval: 500,
  backends: ["./backends/console"],
  console: { prettyprint: false }
}
JS

# the datagrams the probe sends must all be taken by statsd
(cd "$statsd_dir/node_modules/statsd" && exec timeout 30 node stats.js "$work/config.js") \
	>"$work/statsd.out" 2>&1 &
statsd_pid=$!
check "statsd started on 127.0.0.1:$port" wait_for 5 grep -q "server is up" "$work/statsd.out"

check "the probe sends two rounds" "$probe" statsd "127.0.0.1:$port" strata

# every flush so far: the last gauge values, counters summed over all flushes
parse() {
	python3 - "$work/statsd.out" >"$work/metrics" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
gauges, counters = {}, {}
def section(block, name):
    m = re.search(r"\b" + name + r": \{(.*?)\}", block, re.S)
    return re.findall(r"'?([A-Za-z0-9_.\-]+)'?: (-?[0-9.e+\-]+)", m.group(1)) if m else []
for block in text.split("Flushing stats at")[1:]:
    for k, v in section(block, "gauges"):
        gauges[k] = float(v)
    for k, v in section(block, "counters"):
        counters[k] = counters.get(k, 0) + float(v)
for k, v in sorted(gauges.items()):
    print("g", k, repr(v))
for k, v in sorted(counters.items()):
    print("c", k, repr(v))
PY
}

value() { # g|c name
	awk -v t="$1" -v k="$2" '$1 == t && $2 == k { print $3 }' "$work/metrics"
}
equals() { # g|c name expected
	local got
	got=$(value "$1" "$2")
	python3 -c "import sys; sys.exit(0 if sys.argv[1] and abs(float(sys.argv[1]) - float(sys.argv[2])) < 1e-12 else 1)" \
		"$got" "$3" || { echo "  $2: got '${got}', expected $3"; return 1; }
}
# flushed g|c NAME VALUE...: statsd has flushed each named metric at its value
flushed() {
	parse || return 1
	while [ $# -ge 3 ]; do
		equals "$1" "$2" "$3" >/dev/null || return 1
		shift 3
	done
}

# round 1: 13 system + 2 x 8 source + 9 server lines; round 2 adds the
# resets of the negative offset, frequency and first source's offset, and
# the second source has no sample (only its reach, stratum, poll and
# selected: a gauge without a value is not sent)
lines=$(( (13 + 16 + 9) + (15 + 9 + 4 + 9) ))
# statsd counts what it received in the same flush as the metrics themselves
wait_for 10 flushed c statsd.metrics_received "$lines" || echo "statsd: not all $lines lines flushed after 10 s"
parse

check "a negative gauge replaces the positive one" equals g strata.offset_seconds -0.0015
check "frequency gauge keeps the last value" equals g strata.frequency_ppm -2.25
check "stratum gauge" equals g strata.stratum 3
check "synchronized gauge" equals g strata.synchronized 1
check "root delay gauge" equals g strata.root_delay_seconds 0.01
check "source gauges keyed by name and address" \
	equals g strata.source.pool_ntp_org_192_0_2_1_123.offset_seconds -0.0014
check "second pool member kept apart" \
	equals g strata.source.pool_ntp_org__2001_db8__2__123.offset_seconds 0.0019
check "source reach gauge" equals g strata.source.pool_ntp_org_192_0_2_1_123.reach 127
check "answered counter sums the deltas to the total" equals c strata.server.answered 25
check "KoD counter sums the deltas to the total" equals c strata.server.kod_sent 4
check "received counter sums the deltas to the total" equals c strata.server.received 31
check "statsd saw no bad lines" equals c statsd.bad_lines_seen 0
check "every line arrived" equals c statsd.metrics_received "$lines"
check "each round split into two datagrams under 1400 bytes" equals c statsd.packets_received 4

# the real daemon: no adjusting, no CAP_SYS_TIME, not root, serving on a
# loopback port, sending every second with its own prefix
stratad=$build/src/stratad
if [ -x "$stratad" ]; then
	ntp_port=$(free_port udp)
	chmod 755 "$work"
	mkdir "$work/run" && chown nobody:nogroup "$work/run"
	cat >"$work/stratad.conf" <<CONF
sources = ( );
clock = { adjust = false; driftfile = ""; };
serve = { listen = [ "127.0.0.1" ]; port = $ntp_port; };
control = { socket = "$work/run/stratad.sock"; };
pidfile = "";
log = { level = "debug"; syslog = false; };
statsd = { address = "127.0.0.1:$port"; prefix = "e2e"; interval = 1; };
CONF
	setpriv --reuid=nobody --regid=nogroup --clear-groups --bounding-set=-sys_time --inh-caps=-sys_time \
		timeout 30 "$stratad" -n -x -c "$work/stratad.conf" >"$work/stratad.log" 2>&1 &
	stratad_pid=$!
	wait_for 5 test -S "$work/run/stratad.sock" || echo "statsd: stratad's control socket missing after 5 s"
	# three client requests, answered
	check "three client requests answered" python3 - "$ntp_port" <<'PY'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
for _ in range(3):
    s.sendto(b"\x23" + bytes(39) + b"\xe9\x00\x00\x00\x12\x34\x56\x78", ("127.0.0.1", int(sys.argv[1])))
    s.recv(512)
PY
	ctl=$build/src/stratactl
	"$ctl" -s "$work/run/stratad.sock" metrics >"$work/stratad.prom"
	check "stratactl metrics passes the strict checker" \
		python3 "$top/tests/ops/promcheck.py" --prefix strata_ "$work/stratad.prom"
	if command -v promtool >/dev/null; then
		check "stratactl metrics passes promtool check metrics" bash -c "promtool check metrics <'$work/stratad.prom'"
	fi
	check "stratactl metrics counts the 3 answers" grep -qx 'strata_server_answered_total 3' "$work/stratad.prom"
	check "stratactl metrics says stratum 16 (no sources)" grep -qx 'strata_stratum 16' "$work/stratad.prom"
	# stratad sends every second (interval = 1): wait until statsd has
	# flushed the sends that carry the answers
	wait_for 15 flushed g e2e.stratum 16 g e2e.synchronized 0 c e2e.server.answered 3 c e2e.server.malformed 0 ||
		echo "statsd: stratad's metrics not all flushed after 15 s"
	kill "$stratad_pid" 2>/dev/null
	wait "$stratad_pid" 2>/dev/null
	stratad_pid=
	parse
	check "stratad's stratum gauge reached statsd" equals g e2e.stratum 16
	check "stratad's synchronized gauge reached statsd" equals g e2e.synchronized 0
	check "stratad's answered counter deltas sum to 3" equals c e2e.server.answered 3
	check "stratad's malformed counter stays 0" equals c e2e.server.malformed 0
fi

if [ "$failed" != 0 ]; then
	[ -f "$work/stratad.log" ] && { echo "--- stratad log"; tail -20 "$work/stratad.log"; }
	echo "--- statsd output"; tail -40 "$work/statsd.out"
	echo "--- parsed"; cat "$work/metrics"
fi

# nobody listens: every send is refused, nothing is logged, nothing waits
dead=$(free_port udp)
start=$(date +%s%N)
check "a dead collector costs nothing" bash -c "[ -z \"\$('$probe' statsd 127.0.0.1:$dead strata 2>&1)\" ]"
check "and returns at once" [ $(( ($(date +%s%N) - start) / 1000000 )) -lt 1000 ]
finish statsd
