#!/bin/bash
# End-to-end: stratad serving its local clock (local_stratum, -x, without
# CAP_SYS_TIME) on port 123 in a private network namespace, against hostile
# and ordinary clients (hostile.py), and tshark's NTP dissector on a captured
# reply; then the same clients against serve.threads = 2.
. "$(dirname "$0")/../interop/stratad_lib.sh"
need_stratad
command -v python3 > /dev/null || skip "no python3"
run_in_netns "$@"

sock=$workdir/run/stratad.sock
pidfile=$workdir/run/stratad.pid
write_conf() { # THREADS
	cat > "$workdir/stratad.conf" <<-CONF
	sources = ();
	clock = { adjust = false; local_stratum = 10; driftfile = "$workdir/drift"; };
	serve = {
	  listen = [ "127.0.0.1" ];
	  deny = [ "127.0.0.66" ];
	  ratelimit = { interval = 1.0; burst = 8; kod = true; };
	  threads = $1;
	};
	control = { socket = "$sock"; };
	pidfile = "$pidfile";
	user = "nobody";
	log = { syslog = false; };
	CONF
}

# hostile.py prints "ok   ..." / "FAIL ..." lines and exits 1 on a failure.
hostile() { # WHAT
	if python3 "$interop_top/tests/serve/hostile.py" "$sock" 10 "$pidfile"; then
		ok "$1: hostile and ordinary clients"
	else
		not_ok "$1: hostile and ordinary clients"
	fi
}

stop_and_check_log() { # WHAT
	kill "$STRATAD_PID"
	wait "$STRATAD_PID" 2> /dev/null
	if grep -qiE "error|sanitizer" "$workdir/stratad.log"; then
		cat "$workdir/stratad.log"
		not_ok "$1: stratad logged errors"
	else
		ok "$1: stratad logged no errors"
	fi
}

# the answers only: the hostile requests are meant to look malformed
replies_filter="ntp.flags.mode == 4 && udp.srcport == 123 && !icmp"
# reply_captured: the capture file holds a server reply, which the checks
# below decode (dumpcap writes the file as it goes, a buffer at a time)
reply_captured() {
	tshark -r "$workdir/ntp.pcap" -Y "$replies_filter" 2> /dev/null | grep -q .
}

mkdir -p "$workdir/run" && chmod 777 "$workdir/run"
write_conf 0
cap=
if command -v tshark > /dev/null; then
	tshark -q -i lo -f "udp port 123" -a duration:60 -w "$workdir/ntp.pcap" 2> "$workdir/tshark.log" &
	cap=$!
	peers_track "$cap"
	wait_for 20 grep -q "Capturing on" "$workdir/tshark.log" || echo "e2e: tshark not capturing after 20 s"
fi
start_stratad "$workdir/stratad.conf"
wait_for 5 test -S "$sock"
hostile "main loop"
if [ -n "$cap" ]; then
	wait_for 20 reply_captured || echo "e2e: tshark has written no reply after 20 s"
	kill -INT "$cap"
	wait "$cap"
	out=$(tshark -r "$workdir/ntp.pcap" -V -Y "$replies_filter" 2>&1)
	echo "$out" | grep -E "Stratum|Leap Indicator|Reference ID|Origin Timestamp" | sed "s/^/tshark: /" | head -5
	check "tshark decodes a server reply" grep -q "server (4)" <<< "$out"
	check "tshark does not warn about the reply" \
		bash -c '! grep -qiE "Expert Info \((Warning|Error)|malformed"' <<< "$out"
fi
stop_and_check_log "main loop"

# the same clients against two worker threads (SO_REUSEPORT keeps a client's
# packets on one worker, so its limits hold; the counters are summed)
write_conf 2
start_stratad "$workdir/stratad.conf"
wait_for 5 test -S "$sock"
hostile "serve.threads = 2"
stop_and_check_log "serve.threads = 2"
finish
