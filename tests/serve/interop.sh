#!/usr/bin/env bash
# Real clients of stratad's server agree with it: stratad serves its local
# clock (local_stratum 10, -x, no CAP_SYS_TIME) on port 123 in a private
# network namespace; ntpsec's ntpdate -q and ntpdig and python ntplib each
# report an offset within 1 ms of 0 and stratum 10, and chronyd as a client
# (-x, no CAP_SYS_TIME) selects stratad as its source. Skips (77) without
# the peers (tests/peers/fetch) or root.
set -u
. "$(dirname "$0")/../interop/lib.sh"
stratad=$STRATA_BUILD/src/stratad
[ -x "$stratad" ] || skip "no $stratad"
need_peers
run_in_netns "$@"
near_zero() { awk -v x="$1" 'BEGIN { exit !(x < 0.001 && x > -0.001) }'; }
# A one-shot client stamps its request in user space: on a loaded machine
# (make -j check) its own scheduling delays skew one sample by milliseconds,
# so each client asks three times and the median offset is judged.
# "ERROR OFFSET" lines in, the offset of the least error out: the answer that
# waited least, as NTP's clock filter picks (a loaded machine delays some
# answers by milliseconds, and their offsets with them)
least_error() { printf '%s\n' "$@" | sort -g | awk 'NR == 1 { print $2 }'; }

cat > "$workdir/stratad.conf" <<CONF
sources = ();
clock = { adjust = false; local_stratum = 10; driftfile = "$workdir/drift"; };
# three queries from each client in a few seconds: more than the default burst
serve = { listen = [ "127.0.0.1" ]; ratelimit = { interval = 0.1; burst = 64; }; };
control = { socket = "$workdir/stratad.sock"; };
pidfile = "$workdir/stratad.pid";
user = "nobody";
log = { syslog = false; };
CONF
peers_spawn "$workdir/stratad.log" "${PEERS_NOCAP[@]}" "$stratad" -c "$workdir/stratad.conf" -n -x >/dev/null
for i in $(seq 50); do [ -S "$workdir/stratad.sock" ] && break; sleep 0.1; done

offs=()
for i in 1 2 3; do
	out=$(run_ntplib 127.0.0.1 123) || not_ok "ntplib got no answer"
	echo "ntplib: $out"
	offs+=("$(echo "$out" | sed -n 's/.*offset=\([^ ]*\).*delay=\([^ ]*\).*/\2 \1/p')")
done
off=$(least_error "${offs[@]}")
case "$out" in *"stratum=10 leap=0 "*) ok "ntplib: stratum 10, leap 0" ;; *) not_ok "ntplib: $out" ;; esac
near_zero "${off:-9}" && ok "ntplib: offset $off within 1 ms" || not_ok "ntplib offset $off"

offs=()
for i in 1 2 3; do
	out=$(run_ntpdig 127.0.0.1) || not_ok "ntpdig got no answer"
	echo "ntpdig: $out"
	# its "precision" is the answer's error bound (half the delay, and more)
	offs+=("$(echo "$out" | sed -n 's/.*"offset":\([-0-9.e]*\),"precision":\([0-9.e]*\).*/\2 \1/p')")
done
off=$(least_error "${offs[@]}")
stratum=$(echo "$out" | sed -n 's/.*"stratum":\([0-9]*\).*/\1/p')
[ "$stratum" = 10 ] && ok "ntpdig: stratum 10" || not_ok "ntpdig stratum '$stratum'"
near_zero "${off:-9}" && ok "ntpdig: offset $off within 1 ms" || not_ok "ntpdig offset '$off'"

offs=()
for i in 1 2 3; do
	out=$(run_ntpsec_ntpdate 127.0.0.1 2>&1) || not_ok "ntpdate -q failed"
	echo "ntpdate: $out"
	# "2026-11-21 15:05:56.27481 (+0000) +0.000009 +/- 0.000047 127.0.0.1 s10 no-leap"
	offs+=("$(echo "$out" | sed -n 's/.*) \([-+0-9.]*\) +\/- \([0-9.]*\) .*/\2 \1/p' | head -1)")
done
off=$(least_error "${offs[@]}")
case "$out" in *" 127.0.0.1 s10 no-leap"*) ok "ntpdate: stratum 10, no leap" ;; *) not_ok "ntpdate: not s10 no-leap" ;; esac
near_zero "${off:-9}" && ok "ntpdate: offset $off within 1 ms" || not_ok "ntpdate offset '$off'"

cpid=$(start_chronyd_client "server 127.0.0.1 port 123 iburst minpoll -2 maxpoll 0") || not_ok "chronyd client did not start"
if [ -n "${cpid:-}" ] && line=$(wait_chronyd_synced "$cpid" 30); then
	echo "chronyd tracking: $line"
	sources=$(chronyc_client "$cpid" sources)
	echo "$sources" | tail -1
	echo "$sources" | grep -q '^\^\* *127\.0\.0\.1' && ok "chronyd selected stratad (^*)" ||
		not_ok "chronyd did not select stratad"
	# chronyc -c tracking: refid,name,stratum,...
	[ "$(echo "$line" | cut -d, -f2,3)" = "127.0.0.1,11" ] && ok "chronyd: stratum 11, behind our 10" ||
		not_ok "chronyd tracking: $line"
else
	not_ok "chronyd never synchronized to stratad"
fi
grep -qiE "error|sanitizer" "$workdir/stratad.log" && { not_ok "stratad logged errors"; cat "$workdir/stratad.log"; }
finish
