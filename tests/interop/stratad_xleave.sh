#!/bin/bash
# Interleaved mode against chronyd 4.3: one stratad -x (no CAP_SYS_TIME)
# polls two chronyd servers on this machine every 0.25 s, one with
# xleave = true and one without. They share the machine's clock, so the
# true offset is 0 and every offset measured is an error. chronyd reads the
# T3 of a basic reply before its send, so the kernel's send path after that
# read counts as round trip; an interleaved reply carries chronyd's kernel
# stamp of its last reply leaving instead. Checked: chronyd answered the
# xleave source interleaved and the other in basic mode (stratactl ntpdata);
# the interleaved round trip is the shorter (the server's send path is out
# of it); and no sample of either source is further from 0 than half its
# round trip, the bound any honest measurement keeps. The figures (how much
# nearer 0 interleaved is) are printed; bench/loopback-timestamps has them
# beside chronyd's. In its own network namespace. ~40 s.
. "$(dirname "$0")/stratad_lib.sh"
need_stratad
need_peers
run_in_netns "$@"

export PEERS_STRATUM=1
PEERS_BIND=127.0.0.2 start_chronyd_server 1123 > /dev/null || not_ok "chronyd server on port 1123"
PEERS_BIND=127.0.0.3 start_chronyd_server 1124 > /dev/null || not_ok "chronyd server on port 1124"
mkdir -p "$workdir/run" "$workdir/log" && chmod 777 "$workdir/run" "$workdir/log"
cat > "$workdir/stratad.conf" <<EOC
sources = (
  { server = "127.0.0.2"; port = 1123; minpoll = -2; maxpoll = -2; xleave = true; },
  { server = "127.0.0.3"; port = 1124; minpoll = -2; maxpoll = -2; }
);
clock = { driftfile = ""; };
control = { socket = "$workdir/run/stratad.sock"; };
log = { dir = "$workdir/log"; measurements = true; };
pidfile = "";
user = "nobody";
EOC
start_stratad "$workdir/stratad.conf"
check "stratad answers" wait_for 10 ctl tracking > /dev/null
sleep 30

ntpdata() {
	ctl --json ntpdata | python3 -c '
import json, sys
for s in json.load(sys.stdin):
    if s["remote_port"] == int(sys.argv[1]):
        print(eval(sys.argv[2]))' "$1" "$2"
}
ctl ntpdata
check "chronyd answered the xleave source interleaved" test "$(ntpdata 1123 's["last_reply"]["interleaved"]')" = True
check "and the other in basic mode" test "$(ntpdata 1124 's["last_reply"]["interleaved"]')" = False
check "both gave samples (over 50 each)" \
	test "$(ntpdata 1123 's["total_valid_rx"]')" -gt 50 -a "$(ntpdata 1124 's["total_valid_rx"]')" -gt 50

# measurements.log: Date Time Address L St Poll Offset Delay ...; from 10 s
# after the start (the first polls run before the sources settle)
from=$(date -u -d "@$(($(date +%s) - 20))" '+%F %T')
# lines ADDRESS: that source's lines from then on
lines() {
	grep -v '^#' "$workdir/log/measurements.log" | awk -v from="$from" -v a="$1" '$1 " " $2 >= from && $3 == a'
}
# median_of ADDRESS EXPR: median of EXPR over that source's lines (o: offset, d: delay, us)
median_of() {
	lines "$1" | awk '{ o = $7 * 1e6; d = $8 * 1e6; print '"$2"' }' | median
}
x=$(median_of 127.0.0.2 'o < 0 ? -o : o')
b=$(median_of 127.0.0.3 'o < 0 ? -o : o')
xd=$(median_of 127.0.0.2 d)
bd=$(median_of 127.0.0.3 d)
echo "figures: median |offset| interleaved ${x:-?} us, basic ${b:-?} us (true offset 0)"
echo "figures: median offset interleaved $(median_of 127.0.0.2 o) us, basic $(median_of 127.0.0.3 o) us;" \
	"delay $xd and $bd us"
check "the interleaved source measured" test -n "$x"
check "the basic source measured" test -n "$b"
within() { python3 -c 'import sys; a, b = map(float, sys.argv[1:]); sys.exit(not a < b)' "$1" "$2"; }
check "the interleaved round trip is the shorter" within "${xd:-1e9}" "${bd:-0}"
# per sample: offset = (up - down) / 2 and delay = up + down with both legs
# >= 0, so |offset| <= delay / 2 when the true offset is 0 (+0.1 us: chronyd
# fills its timestamps' bits below its precision with noise)
beyond() {
	lines "$1" | awk '{ o = $7 < 0 ? -$7 : $7; n += o > $8 / 2 + 1e-7 } END { print n + 0 }'
}
# column 11, M: the mode of the reply each sample came from
modes() {
	lines "$1" | awk '{ print $11 }' | sort | uniq -c | awk '{ printf "%s%s:%s", s, $2, $1; s = " " }'
}
echo "figures: measurements.log modes: xleave source $(modes 127.0.0.2), basic source $(modes 127.0.0.3)"
check "measurements.log marks the xleave source's samples I" grep -Eq '^I:[0-9]+$' <<< "$(modes 127.0.0.2)"
check "and the basic source's B" grep -Eq '^B:[0-9]+$' <<< "$(modes 127.0.0.3)"
check "interleaved: no sample's |offset| beyond half its round trip" test "$(beyond 127.0.0.2)" = 0
check "basic: no sample's |offset| beyond half its round trip" test "$(beyond 127.0.0.3)" = 0
finish
