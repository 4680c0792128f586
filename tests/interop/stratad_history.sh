#!/bin/bash
# The history logs (log.measurements, log.statistics, log.tracking) and
# logchange, against a stratad -x (no CAP_SYS_TIME) synchronized to a real
# chronyd in a private network namespace:
#  - each file starts with its header, and its lines carry the figures that
#    stratactl --json shows at the same moment (read between two identical
#    stratactl answers, so no sample or update came in between);
#  - one measurement line per accepted sample, one tracking line per update;
#  - logrotate's way: the file moved, "stratactl cyclelogs" (then SIGHUP)
#    opens a new one, and the moved one gets no more lines;
#  - logchange: every clock update beyond the threshold gives one warning
#    with the offset of its tracking line; a threshold above every offset
#    (set by SIGHUP) gives none;
#  - contrib/strata.logrotate, run by logrotate -f with this test's paths.
. "$(dirname "$0")/stratad_lib.sh"
need_stratad
need_peers
run_in_netns "$@"

mkdir -p "$workdir/run" && chmod 777 "$workdir/run"
logs=$workdir/logs
conf() {
	cat > "$workdir/stratad.conf" <<-EOC
		sources = ( { server = "127.0.0.2"; port = 1123; iburst = true; minpoll = 0; maxpoll = 0; } );
		clock = { driftfile = ""; };
		control = { socket = "$workdir/run/stratad.sock"; };
		pidfile = "";
		user = "nobody";
		log = { dir = "$logs"; measurements = true; statistics = true; tracking = true; logchange = $1; };
	EOC
}
conf 1e-12
export PEERS_STRATUM=1
PEERS_BIND=127.0.0.2 start_chronyd_server 1123 > /dev/null || exit 1
start_stratad "$workdir/stratad.conf"
check "stratad answers" wait_for 10 ctl tracking
check "stratad synchronizes to chronyd" wait_for 60 synced
sleep 8 # samples every second at poll 0
ls -l "$logs"
for f in measurements statistics tracking; do
	head -n 3 "$logs/$f.log"
	check "$f.log starts with its header" grep -q '^# Date      Time(UTC) ' <(head -n 1 "$logs/$f.log")
done
check "the directory and the files belong to the daemon's user (nobody)" \
	test "$(stat -c %U "$logs" "$logs"/*.log | sort -u)" = nobody

# compare KIND: the last line of KIND's log against stratactl's JSON
compare() {
	python3 - "$1" "$logs" "$STRATACTL" "$workdir/run/stratad.sock" <<'PY'
import datetime, json, subprocess, sys
kind, logs, ctl, sock = sys.argv[1:]
def js(cmd):
    return json.loads(subprocess.run([ctl, "-s", sock, "--json", cmd], check=True, capture_output=True, text=True).stdout)
def last(name, address=None):
    lines = [l.split() for l in open(f"{logs}/{name}.log") if not l.startswith("#")]
    lines = [l for l in lines if address is None or l[2] == address]
    return lines[-1]
def epoch(f):
    return datetime.datetime.strptime(f[0] + " " + f[1], "%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=datetime.timezone.utc).timestamp()
def near(a, b, tol):
    assert abs(float(a) - float(b)) <= tol, (a, b)
for attempt in range(20):
    if kind == "tracking":
        j1 = js("tracking"); f = last("tracking"); j2 = js("tracking")
        if j1["reference_time"] != j2["reference_time"]:
            continue
        j = j2
        near(epoch(f), j["reference_time"], 1e-6)
        assert f[2] == j["reference_address"] and int(f[3]) == j["stratum"], (f, j)
        near(f[4], j["frequency_ppm"], 1e-6); near(f[5], j["residual_frequency_ppm"], 1e-6)
        near(f[6], j["skew_ppm"], 1e-6); near(f[7], j["last_offset"], 1e-9); near(f[8], j["rms_offset"], 1e-9)
        near(f[9], j["root_delay"], 1e-9)
        assert f[11] == {"normal": "N"}.get(j["leap"], f[11]) and int(f[12]) == j["steps"], (f, j)
        print(f"tracking line {' '.join(f)} == stratactl tracking (offset {j['last_offset']})")
    elif kind == "measurements":
        j1 = js("sources"); f = last("measurements", "127.0.0.2"); j2 = js("sources")
        s1, s2 = j1[0], j2[0]
        if s1["offset"] != s2["offset"] or s1["delay"] != s2["delay"]:
            continue
        now = datetime.datetime.now(datetime.timezone.utc).timestamp()
        near(epoch(f), now - s2["last_rx_age"], 0.5)
        assert int(f[4]) == s2["stratum"] and int(f[5]) == s2["poll"], (f, s2)
        near(f[6], s2["offset"], 1e-9); near(f[7], s2["delay"], 1e-9); near(f[8], s2["error"], 1e-9)
        assert f[10] == "B" and f[11] == s2["name"], (f, s2)  # basic mode: no xleave
        print(f"measurement line {' '.join(f)} == stratactl sources (offset {s2['offset']})")
    else:
        j1 = js("sourcestats"); f = last("statistics", "127.0.0.2"); j2 = js("sourcestats")
        s1, s2 = j1[0], j2[0]
        if s1["samples"] != s2["samples"] or s1["std_dev"] != s2["std_dev"]:
            continue
        assert int(f[3]) == s2["samples"] and int(f[4]) == s2["runs"], (f, s2)
        near(f[7], s2["std_dev"], 1e-9); near(f[8], s2["residual_frequency_ppm"], 1e-6)
        near(f[9], s2["skew_ppm"], 1e-6); near(f[5], s2["span"], 1e-3)
        print(f"statistics line {' '.join(f)} == stratactl sourcestats")
    sys.exit(0)
sys.exit("no quiet moment between two samples in 20 tries")
PY
}
for kind in tracking measurements statistics; do
	check "the last $kind line has stratactl's figures" compare $kind
done
samples=$(grep -c ' 127\.0\.0\.2 ' "$logs/measurements.log")
updates=$(grep -vc '^#' "$logs/tracking.log")
check "one measurement line per sample: $samples lines in about 10 s at poll 0" test "$samples" -ge 7 -a "$samples" -le 16
check "one tracking line per clock update: $updates" test "$updates" -ge 5 -a "$updates" -le "$samples"
check "the measurement lines are in time order" bash -c "grep -v '^#' '$logs/measurements.log' | cut -d' ' -f1,2 | sort -c"

echo "--- cyclelogs and SIGHUP reopen the files"
mv "$logs/tracking.log" "$logs/tracking.log.1"
check "stratactl cyclelogs answers" ctl cyclelogs
check "and with --json" python3 -c "
import json, sys
sys.exit(json.loads(sys.argv[1]) != {'reopened': True})" "$(ctl --json cyclelogs)"
moved=$(wc -l < "$logs/tracking.log.1")
sleep 3
check "a new tracking.log with its header and new lines" \
	bash -c "head -n 1 '$logs/tracking.log' | grep -q '^# Date' && [ \$(grep -vc '^#' '$logs/tracking.log') -ge 1 ]"
check "the moved file got no more lines" test "$(wc -l < "$logs/tracking.log.1")" -eq "$moved"
mv "$logs/measurements.log" "$logs/measurements.log.1"
kill -HUP "$STRATAD_PID"
sleep 3
check "SIGHUP: a new measurements.log with new lines" \
	bash -c "[ \$(grep -c ' 127\.0\.0\.2 ' '$logs/measurements.log') -ge 1 ]"

echo "--- logchange"
warnings=$(grep -c 'clock off by .* (more than logchange 1e-12 s): not adjusted (-x)' "$workdir/stratad.log")
grep -m 2 'logchange' "$workdir/stratad.log"
check "a warning per clock update beyond 1e-12 s ($warnings warnings, $updates+ updates)" test "$warnings" -ge "$updates"
check "each warning's offset is a tracking line's" python3 - "$workdir/stratad.log" "$logs" <<'PY'
import glob, re, sys
warned = re.findall(r"clock off by ([+-][0-9.]+) s", open(sys.argv[1]).read())
logged = set()
for name in glob.glob(sys.argv[2] + "/tracking.log*"):
    logged |= {"%+.6f" % float(l.split()[7]) for l in open(name) if not l.startswith("#")}
missing = [w for w in warned if w not in logged]
sys.exit(f"warned of offsets no update had: {missing[:5]}" if missing else 0)
PY
conf 1000
kill -HUP "$STRATAD_PID"
sleep 1
before=$(grep -c 'clock off by' "$workdir/stratad.log")
lines=$(grep -vc '^#' "$logs/tracking.log")
sleep 4
check "logchange 1000: updates go on ($lines -> $(grep -vc '^#' "$logs/tracking.log") lines), no warning" \
	test "$(grep -c 'clock off by' "$workdir/stratad.log")" -eq "$before" -a "$(grep -vc '^#' "$logs/tracking.log")" -gt "$lines"
echo "--- contrib/strata.logrotate, with this test's paths"
if command -v logrotate > /dev/null; then
	sed -e "s|/var/log/strata/|$logs/|" -e "s|_strata _strata|nobody nogroup|" \
		-e "s|/usr/bin/stratactl cyclelogs|$STRATACTL -s $workdir/run/stratad.sock cyclelogs|" \
		"$interop_top/contrib/strata.logrotate" > "$workdir/logrotate.conf"
	rm -f "$logs"/*.log.1
	check "logrotate -f runs the snippet" logrotate -f -s "$workdir/logrotate.state" "$workdir/logrotate.conf"
	ls "$logs"
	moved=$(wc -l < "$logs/statistics.log.1")
	sleep 3
	check "the rotated statistics.log.1 got no more lines" test "$(wc -l < "$logs/statistics.log.1")" -eq "$moved"
	check "a new statistics.log with its header and new lines" \
		bash -c "head -n 1 '$logs/statistics.log' | grep -q '^# Date' && [ \$(grep -c ' 127\.0\.0\.2 ' '$logs/statistics.log') -ge 1 ]"
else
	echo "SKIP: logrotate: not installed (tools/setup-debian --tests installs it)"
fi

finish
