#!/bin/bash
# stratactl against running daemons (stratad -x, without CAP_SYS_TIME):
#  - before any clock update: tracking says "Ref time : -" and has no root
#    dispersion (not 15 ppm times the Unix time), the metrics +Inf (null
#    in metrics --json);
#  - serving the local clock (local_stratum): the reference time is now and
#    the dispersion 0, as the packets it serves carry (checked with chronyd's
#    ntpdata as a client);
#  - synchronized to a chronyd: sources shows the last reply's LastRx and
#    offset, -v adds the filter's estimate and its error, --json both, and
#    sourcestats a line through the samples whose figures agree with what
#    chronyc sourcestats shows for a chronyd client of the same server
#    (both clocks are the host's: no residual frequency, µs deviations).
. "$(dirname "$0")/stratad_lib.sh"
need_stratad
need_peers
run_in_netns "$@"

mkdir -p "$workdir/run" && chmod 777 "$workdir/run"
# conf NAME SOURCES EXTRA: a config whose control socket is $workdir/run/NAME.sock
conf() {
	cat > "$workdir/$1.conf" <<-EOC
		sources = ( $2 );
		clock = { driftfile = ""; $3 };
		serve = { listen = [ "127.0.0.$4" ]; port = 1124; };
		control = { socket = "$workdir/run/$1.sock"; };
		pidfile = "";
		user = "nobody";
	EOC
}
ctl_of() { local name=$1; shift; "$STRATACTL" -s "$workdir/run/$name.sock" "$@"; }
start_named() {
	"${PEERS_NOCAP[@]}" "$STRATAD" -n -x -c "$workdir/$1.conf" > "$workdir/$1.log" 2>&1 &
	peers_track $!
	wait_for 10 ctl_of "$1" tracking > /dev/null
}

# 127.0.0.9 never answers
conf starting '{ server = "127.0.0.9"; port = 1123; minpoll = 0; maxpoll = 0; }' "" 3
conf local '{ server = "127.0.0.9"; port = 1123; minpoll = 0; maxpoll = 0; }' "local_stratum = 10;" 4
conf synced '{ server = "127.0.0.2"; port = 1123; iburst = true; minpoll = 0; maxpoll = 0; }' "" 5
export PEERS_STRATUM=1
PEERS_BIND=127.0.0.2 start_chronyd_server 1123 > /dev/null || exit 1
for d in starting local synced; do start_named "$d" || not_ok "stratad $d answers stratactl"; done

echo "--- before the first update"
ctl_of starting tracking | tee "$workdir/starting.txt"
check "tracking shows no reference time" grep -qx 'Ref time (UTC)  : -' "$workdir/starting.txt"
check "tracking shows no root dispersion" grep -qx 'Root dispersion : - (no clock update yet)' "$workdir/starting.txt"
check "tracking --json says null" \
	bash -c "'$STRATACTL' -s '$workdir/run/starting.sock' --json tracking | python3 -c 'import json,sys; sys.exit(json.load(sys.stdin)[\"root_dispersion\"] is not None)'"
check "the metrics say no bound (+Inf), not 15 ppm times the Unix time" \
	bash -c "'$STRATACTL' -s '$workdir/run/starting.sock' metrics | grep -qx 'strata_root_dispersion_seconds +Inf'"
check "metrics --json: no bound is null, the source is listed without a sample" python3 -c "
import json, subprocess, sys
d = json.loads(subprocess.run(['$STRATACTL', '-s', '$workdir/run/starting.sock', '--json', 'metrics'],
                              capture_output=True, check=True).stdout)
s = d['sources'][0]
sys.exit(not (d['system']['root_dispersion_seconds'] is None and d['system']['synchronized'] == 0 and
              s['name'] == '127.0.0.9' and s['address'] == '127.0.0.9:1123' and s['offset_seconds'] is None and
              d['serving'] and d['server']['received_total'] >= 0))"

echo "--- serving the local clock"
ctl_of local tracking | tee "$workdir/local.txt"
now=$(date -u +%s)
ref=$(awk -F' : ' '/^Ref time/ { print $2 }' "$workdir/local.txt")
ref_s=$(date -u -d "$ref" +%s 2>/dev/null || echo 0)
check "tracking's reference time is now ($ref)" test $((now - ref_s)) -le 2 -a $((now - ref_s)) -ge -1
check "tracking's root dispersion is 0" grep -qx 'Root dispersion : 0.000000000 seconds' "$workdir/local.txt"
check "metrics say 0" bash -c "'$STRATACTL' -s '$workdir/run/local.sock' metrics | grep -qx 'strata_root_dispersion_seconds 0.000000000'"
local_client=$(start_chronyd_client "server 127.0.0.4 port 1124 iburst minpoll 0 maxpoll 0") || exit 1
wait_chronyd_synced "$local_client" 30 > /dev/null || not_ok "a chronyd client of the local stratad synchronizes"
chronyc_client "$local_client" ntpdata > "$workdir/local-ntpdata.txt"
grep -E '^(Stratum|Ref time|Root)' "$workdir/local-ntpdata.txt"
check "the packets carry root dispersion 0 too (chronyc ntpdata)" \
	grep -qE '^Root dispersion +: 0\.0+ seconds' "$workdir/local-ntpdata.txt"

echo "--- synchronized"
check "stratad synchronizes to chronyd" wait_for 60 bash -c "'$STRATACTL' -s '$workdir/run/synced.sock' tracking | grep -q '^Sync state      : synchronized'"
reference=$(start_chronyd_client "server 127.0.0.2 port 1123 iburst minpoll 0 maxpoll 0") || exit 1
wait_chronyd_synced "$reference" 30 > /dev/null || not_ok "the reference chronyd client synchronizes"
sleep 12   # eight samples at poll 0 in both
# the text and --json one after the other, again while a sample arrived
# between them (one a second at poll 0, sooner than a loaded machine may
# answer both): the --json offset is then the text's sample's
text_offset() { awk '$2 == "127.0.0.2:1123" { print $7 }' "$1"; }
for try in 1 2 3 4 5; do
	ctl_of synced sources > "$workdir/sources.txt"
	ctl_of synced --json sources > "$workdir/sources.json"
	ctl_of synced sources > "$workdir/sources-after.txt"
	[ "$(text_offset "$workdir/sources.txt")" = "$(text_offset "$workdir/sources-after.txt")" ] && break
done
cat "$workdir/sources.txt"
ctl_of synced -v sources | tee "$workdir/sources-v.txt"
ctl_of synced sourcestats | tee "$workdir/sourcestats.txt"
ctl_of synced --json sourcestats > "$workdir/sourcestats.json"
chronyc_client "$reference" sourcestats | tee "$workdir/chrony-sourcestats.txt"

line=$(grep -E '^\* 127.0.0.2:1123 ' "$workdir/sources.txt")
read -r _ _ stratum poll reach lastrx offset error delay jitter <<< "$line"
check "the source is the system peer at stratum 1, poll 0 ($line)" test "$stratum/$poll" = 1/0
check "LastRx is the last reply's: at most 2 s at poll 0 ($lastrx)" \
	awk -v a="${lastrx%s}" 'BEGIN { exit !(a + 0 <= 2) }'
check "the offset and its +/- are shown ($offset +/- $error)" test "$offset" != - -a "$error" != -
check "-v explains the columns" grep -q '^LastRx: time since the last accepted reply' "$workdir/sources-v.txt"
check "-v adds the estimate, its error and age" \
	grep -qE '^\* 127.0.0.2:1123 .* [+-][0-9.]+(ns|us|ms) +[0-9.]+(ns|us|ms) +[0-9]+s$' "$workdir/sources-v.txt"
check "--json: the last reply and the estimate, the same offset as the text" python3 - "$workdir/sources.json" "$offset" <<'EOF'
import json, sys
s = json.load(open(sys.argv[1]))[0]
est = s["estimate"]
assert s["last_rx_age"] <= 2 and s["error"] > 0 and est["error"] >= 0.001 and est["age"] >= s["last_rx_age"]
# the text rounds to its last digit ("+2.5us": within 0.05 us)
text = sys.argv[2]
scale = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3}[text[-2:]]
decimals = len(text[:-2].partition(".")[2])
assert abs(float(text[:-2]) * scale - s["offset"]) <= 0.5 * 10 ** -decimals * scale * 1.001, (text, s["offset"])
EOF
read -r _ np nr span freq skew soffset sd <<< "$(grep -E '^127.0.0.2:1123 ' "$workdir/sourcestats.txt")"
read -r _ cnp _ cspan cfreq cskew _ csd <<< "$(grep -E '^127.0.0.2 ' "$workdir/chrony-sourcestats.txt")"
check "sourcestats has 8 samples and a line ($np samples, $nr runs, span $span)" test "$np" = 8 -a "$nr" != -
to_s() { awk -v t="$1" 'BEGIN { n = t + 0; u = substr(t, length(t) - 1); print n * (u == "ns" ? 1e-9 : u == "us" ? 1e-6 : u == "ms" ? 1e-3 : 1) }'; }
read -r jfreq jskew jsd jspan < <(python3 -c "
import json
s = json.load(open('$workdir/sourcestats.json'))[0]
print(s['residual_frequency_ppm'], s['skew_ppm'], s['std_dev'], s['span'])")
# One host clock: the true residual frequency is 0, as chronyd finds. The
# skew is the slope's standard error from 8 samples: were the offsets'
# noise white, frequency / skew would follow Student's t with 6 degrees of
# freedom, over 3 in 2.4% of runs, over 6 in 0.1%. A loaded machine's
# scheduling delays come in runs, not white: 4 loaded runs gave 0.2 to 4.9
# skews (-0.738 +/- 0.220 ppm failed 3 skews; +0.937 +/- 0.190 ppm with a
# 3.7 us std dev over 7 s). A run of delays one std dev deep over half the
# span fakes a slope of 2 std dev / span (1.06 ppm there), so the bound is
# 6 skews plus that, measured by the same line. A slope that is not noise
# still fails it: e.g. offsets taken partly on CLOCK_MONOTONIC_RAW, which
# runs apart from the real-time clock by the host's frequency correction
# (tens of ppm).
SKEWS=6
# zero_within FREQ SKEW STD_DEV SPAN (ppm, ppm, s, s)
zero_within() {
	awk -v f="$1" -v s="$2" -v sd="$3" -v t="$4" -v k="$SKEWS" \
		'BEGIN { exit !(t > 0 && (f < 0 ? -f : f) <= k * s + 2 * sd / t * 1e6 + 0.01) }'
}
check "its residual frequency is 0 within $SKEWS skews + 2 std dev / span, as chronyd's ($freq +/- $skew ppm, $sd over $span vs $cfreq +/- $cskew ppm, $csd over ${cspan}s)" \
	zero_within "$freq" "$skew" "$(to_s "$sd")" "${span%s}"
check "...chronyd's own is" zero_within "$cfreq" "$cskew" "$(to_s "$csd")" "$cspan"
check "its std dev is of the order of chronyd's: under 100 us ($sd vs $csd)" \
	awk -v a="$(to_s "$sd")" -v b="$(to_s "$csd")" 'BEGIN { exit !(a < 1e-4 && b < 1e-4) }'
check "sourcestats --json carries the figures" python3 -c "
import json, sys
s = json.load(open('$workdir/sourcestats.json'))[0]
sys.exit(not (s['samples'] == 8 and s['std_dev'] < 1e-4 and s['span'] > 0))"
check "...and its frequency is 0 by the same bound ($jfreq +/- $jskew ppm)" zero_within "$jfreq" "$jskew" "$jsd" "$jspan"
finish
