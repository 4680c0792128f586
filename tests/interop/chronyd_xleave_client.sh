#!/bin/bash
# stratad serves interleaved mode: two chronyd 4.3 clients (-x, no
# CAP_SYS_TIME) poll one stratad server (local_stratum 1, -x) on this
# machine every 0.25 s, one with xleave and one without. They share the
# machine's clock, so the true offset is 0. stratad reads the T3 of a basic
# answer before its send, and that part of the send path counts as round
# trip and half of it as offset; an interleaved answer carries the kernel's
# stamp of stratad's last answer to that client leaving instead. Checked:
# chronyd took the xleave client's samples as interleaved (4I in its
# measurements log) and the other's as basic (4B); the interleaved round
# trip is the shorter; chronyd's estimate of its clock (System time, which
# is the error, the true offset being 0) is within 2 us of 0 with xleave
# (printed beside the basic client's); stratactl serverstats counts the
# interleaved answers. In its own network namespace. ~40 s.
. "$(dirname "$0")/stratad_lib.sh"
need_stratad
need_peers
run_in_netns "$@"

mkdir -p "$workdir/run" && chmod 777 "$workdir/run"
cat > "$workdir/stratad.conf" <<EOC
sources = ();
clock = { local_stratum = 1; driftfile = ""; };
serve = { listen = [ "127.0.0.1" ]; port = 1123; ratelimit = { interval = 0.1; burst = 64; }; };
control = { socket = "$workdir/run/stratad.sock"; };
pidfile = "";
user = "nobody";
log = { syslog = false; };
EOC
start_stratad "$workdir/stratad.conf"
check "stratad answers" wait_for 10 ctl tracking > /dev/null

mkdir -p "$workdir/x" "$workdir/b"
x=$(start_chronyd_client "server 127.0.0.1 port 1123 minpoll -2 maxpoll -2 xleave" \
	"logdir $workdir/x" "log measurements") || not_ok "chronyd client with xleave"
b=$(start_chronyd_client "server 127.0.0.1 port 1123 minpoll -2 maxpoll -2" \
	"logdir $workdir/b" "log measurements") || not_ok "chronyd client in basic mode"
sleep 25
# chronyd -x corrects a virtual clock: its estimate of the real one is System
# time (chronyc -c tracking, field 5; positive: slow of the source), the
# median of five readings a second apart
xs=() bs=()
for i in 1 2 3 4 5; do
	xs+=("$(chronyc_client "$x" -c tracking | awk -F, '{ printf "%.3f", $5 * 1e6 }')")
	bs+=("$(chronyc_client "$b" -c tracking | awk -F, '{ printf "%.3f", $5 * 1e6 }')")
	sleep 1
done
xs=$(printf '%s\n' "${xs[@]}" | median)
bs=$(printf '%s\n' "${bs[@]}" | median)

# chronyd's measurements log: ... Offset (col 12) Peer del. (13) ... MTxRx (18: mode, I/B); from
# the 40th sample on (the first ones run before the source settles)
lines() { grep -E '^[0-9]{4}-' "$workdir/$1/measurements.log" | tail -n +40; }
modes() { lines "$1" | awk '{ print $18 }' | sort | uniq -c | awk '{ printf "%s%s:%s", s, $2, $1; s = " " }'; }
median_of() { lines "$1" | awk '{ print '"$2"' }' | median; }
xd=$(median_of x '$13 * 1e6')
bd=$(median_of b '$13 * 1e6')
echo "figures: chronyd's System time: xleave ${xs:-?} us, basic ${bs:-?} us (true 0)"
echo "figures: median round trip: xleave ${xd:-?} us, basic ${bd:-?} us"
echo "figures: modes in chronyd's log: xleave client $(modes x), basic client $(modes b)"
check "chronyd with xleave took interleaved samples only" grep -Eq '^4I:[0-9]+$' <<< "$(modes x)"
check "chronyd without it basic ones only" grep -Eq '^4B:[0-9]+$' <<< "$(modes b)"
within() { python3 -c 'import sys; a, b = map(float, sys.argv[1:]); sys.exit(not a < b)' "$1" "$2"; }
check "the interleaved round trip is the shorter" within "${xd:-1e9}" "${bd:-0}"
# chronyd's own xleave client keeps +0.6 us against a chronyd server here
check "chronyd's estimate with xleave within 2 us of 0" within "$(tr -d - <<< "${xs:-1e9}")" 2
served() { ctl --json serverstats | python3 -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }
echo "figures: stratad answered $(served answered), $(served interleaved) of them interleaved"
# the xleave client's every answer from its third on, the basic client's never
check "serverstats counts the interleaved answers (about half)" \
	python3 -c 'import sys; i, a = map(int, sys.argv[1:]); sys.exit(not 0.4 * a <= i <= 0.5 * a)' \
	"$(served interleaved)" "$(served answered)"
finish
