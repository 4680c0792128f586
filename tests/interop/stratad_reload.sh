#!/bin/bash
# SIGHUP applies the clock's and the server's settings to a running stratad
# (-x, without CAP_SYS_TIME, in its own network namespace), synchronized to a
# chronyd and queried by ntpsec's ntpdig:
#  - clock.minsources 1 -> 2 with one source: unsynchronized (quorum not
#    met), and local_stratum 10 then serves stratum 10 (ntpdig sees it);
#    back to 1 and 0: synchronized again, stratum 2;
#  - serve.deny: the client answered before is refused after the reload
#    (serverstats counts it), and answered again once the deny is gone;
#  - serve.ratelimit added by a reload: a second request within the
#    interval is limited;
#  - serve.port, which needs a restart: the log names it, the old port keeps
#    answering;
#  - a source's version = 3 by a reload: requests and chronyd's replies are
#    NTPv3 on the wire (tshark), and the source is used;
#  - no fixed limits: 151 sources and 150 allow prefixes by a reload;
#  - serve.deny again with two worker threads serving;
#  - 20 listen addresses (there were at most 16) after a restart.
. "$(dirname "$0")/stratad_lib.sh"
need_stratad
need_peers
run_in_netns "$@"

mkdir -p "$workdir/run" && chmod 777 "$workdir/run"
conf="$workdir/stratad.conf"
# write_conf CLOCK_EXTRA SERVE_EXTRA [PORT]
write_conf() {
	cat > "$conf.new" <<-EOC
		sources = ( { server = "127.0.0.2"; port = 1123; iburst = true; minpoll = 0; maxpoll = 0; } );
		clock = { driftfile = ""; $1 };
		serve = { listen = [ "127.0.0.1" ]; port = ${3:-123}; $2 };
		control = { socket = "$workdir/run/stratad.sock"; };
		pidfile = "";
		user = "nobody";
	EOC
	mv "$conf.new" "$conf"
}
logged() { wait_for 5 grep -qF -- "$1" "$workdir/stratad.log"; }
not() { ! "$@"; }
quiet() { "$@" > /dev/null; }
state_is() { ctl tracking 2> /dev/null | grep -q "^Sync state      : $1"; }
dig_stratum() { run_ntpdig 127.0.0.1 2> /dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["stratum"])'; }
counter() { ctl --json serverstats | python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }
stratum_is() { [ "$(dig_stratum)" = "$1" ]; }
not_answered() { ! run_ntpdig 127.0.0.1 > /dev/null 2>&1; }
counter_grew() { [ "$(counter "$1")" -gt "$2" ]; }
reason_is() { ctl tracking | grep -qF "$1"; }

export PEERS_STRATUM=1
PEERS_BIND=127.0.0.2 start_chronyd_server 1123 > /dev/null || exit 1
write_conf "minsources = 1;" ""
start_stratad "$conf"
check "stratad synchronizes to chronyd" wait_for 60 state_is synchronized
check "ntpdig gets stratum 2 from it" wait_for 10 stratum_is 2

echo "--- clock.minsources 2 with one source"
write_conf "minsources = 2;" ""
check "reloaded" sighup_reloaded
check "unsynchronized: fewer agreeing sources than minsources" \
	wait_for 10 reason_is "fewer agreeing sources than minsources"
write_conf "minsources = 2; local_stratum = 10;" ""
check "reloaded with local_stratum 10" sighup_reloaded
check "tracking says local" wait_for 5 state_is local
check "ntpdig gets stratum 10" wait_for 10 stratum_is 10
write_conf "minsources = 1;" ""
check "reloaded back" sighup_reloaded
check "synchronized again" wait_for 10 state_is synchronized
check "ntpdig gets stratum 2 again" wait_for 10 stratum_is 2

echo "--- serve.deny"
denied_before=$(counter denied)
write_conf "minsources = 1;" 'deny = [ "127.0.0.0/8" ];'
check "reloaded with a deny" sighup_reloaded
check "ntpdig gets no answer" not_answered
check "serverstats counts it denied ($denied_before before)" counter_grew denied "$denied_before"
write_conf "minsources = 1;" ""
check "reloaded without it" sighup_reloaded
check "ntpdig is answered again" wait_for 5 stratum_is 2

echo "--- serve.ratelimit"
limited_before=$(counter rate_limited)
write_conf "minsources = 1;" "ratelimit = { interval = 60.0; burst = 1; kod = false; };"
check "reloaded with a rate limit" sighup_reloaded
check "the first request is answered" quiet peers_query 127.0.0.1 123 1
check "the second within the interval is not" not peers_query 127.0.0.1 123 1
check "serverstats counts it limited ($limited_before before)" counter_grew rate_limited "$limited_before"

echo "--- serve.port needs a restart"
write_conf "minsources = 1;" "" 1234
check "reloaded" sighup_reloaded
check "the log names serve.port as waiting for the next start" \
	logged "reloaded; these changes take effect at the next start: serve.port"
check "the old port still answers" wait_for 5 stratum_is 2

echo "--- a per-source option on the wire: version = 3 to chronyd (tshark)"
if command -v tshark > /dev/null; then
	tshark -q -i lo -f "udp port 1123" -a duration:40 -w "$workdir/v3.pcap" 2> "$workdir/tshark.log" &
	cap=$!
	peers_track "$cap"
	wait_for 20 grep -q "Capturing on" "$workdir/tshark.log" || echo "reload: tshark not capturing after 20 s"
	write_conf "minsources = 1;" ""
	sed -i 's|iburst = true;|iburst = true; version = 3;|' "$conf"
	check "reloaded with version = 3" sighup_reloaded
	captured() { tshark -r "$workdir/v3.pcap" -d udp.port==1123,ntp -Y "$1" 2> /dev/null | grep -q .; }
	check "our requests say version 3" wait_for 15 captured "ntp.flags.vn == 3 && ntp.flags.mode == 3 && udp.dstport == 1123"
	check "chronyd answers them with version 3" wait_for 15 captured "ntp.flags.vn == 3 && ntp.flags.mode == 4 && udp.srcport == 1123"
	check "and the source is used: synchronized" wait_for 15 state_is synchronized
	kill -INT "$cap"
	wait "$cap"
else
	echo "SKIP: tshark is not installed (tools/setup-debian --tests installs it)"
fi

echo "--- no fixed limits: 150 sources (there were 32) and 150 allow prefixes (there were 64)"
# Requests leave an eighth of the poll apart (chrony's separation): at a
# 1/16 s poll, 150 sources go round in 1.2 s, 8 polls each in 10 s.
many_sources=$(for i in $(seq 1 150); do printf '{ server = "127.0.%d.%d"; port = 1123; minpoll = -4; maxpoll = -4; }, ' $((i / 200 + 3)) $((i % 200 + 1)); done)
many_prefixes=$(for i in $(seq 1 150); do printf '"10.%d.0.0/16", ' "$i"; done)
write_conf "minsources = 1;" "allow = [ ${many_prefixes%, } ];"
sed -i "s|^sources = ( |sources = ( $many_sources|" "$conf"
check "the file has 151 sources" test "$(grep -o 'server = ' "$conf" | wc -l)" = 151
check "reloaded" sighup_reloaded
sources_json() { ctl --json sources; }
count_is() { [ "$(sources_json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" = "$1" ]; }
all_but_one_unreachable() {
	sources_json | python3 -c 'import json,sys; s=json.load(sys.stdin); sys.exit(sum(x["state"] == "unreachable" for x in s) != len(s) - 1)'
}
check "stratactl lists 151 sources" wait_for 10 count_is 151
check "the 150 silent ones are polled: unreachable after 8 polls" wait_for 30 all_but_one_unreachable
check "still synchronized to the one that answers" state_is synchronized
check "ntpdig is answered (loopback, with 150 allow prefixes)" wait_for 5 stratum_is 2

echo "--- serve.deny with worker threads (each takes the new lists itself)"
kill -TERM "$STRATAD_PID" && wait "$STRATAD_PID"
: > "$workdir/stratad.log"
reloads=0
write_conf "minsources = 1;" "threads = 2;"
start_stratad "$conf"
check "stratad with 2 workers answers" wait_for 30 stratum_is 2
write_conf "minsources = 1;" 'threads = 2; deny = [ "127.0.0.0/8" ];'
check "reloaded with a deny" sighup_reloaded
check "ntpdig gets no answer" not_answered
write_conf "minsources = 1;" "threads = 2;"
check "reloaded without it" sighup_reloaded
check "ntpdig is answered again" wait_for 5 stratum_is 2

echo "--- 20 listen addresses (there were at most 16)"
kill -TERM "$STRATAD_PID" && wait "$STRATAD_PID"
write_conf "minsources = 1;" ""
listen=$(for i in $(seq 10 29); do printf '"127.0.0.%d", ' "$i"; done)
sed -i "s|listen = \[ \"127.0.0.1\" \]|listen = [ ${listen%, } ]|" "$conf"
start_stratad "$conf"
check "the 20th address answers" wait_for 30 quiet peers_query 127.0.0.29 123 1
check "and the first" quiet peers_query 127.0.0.10 123 1
finish
