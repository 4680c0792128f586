#!/bin/bash
# A DNS server that never answers keeps the resolver thread inside
# getaddrinfo for the resolver's whole timeout; SIGTERM must not wait for it
# (it took 7 s and more). The namespace gets its own resolv.conf and
# nsswitch.conf (private mounts), pointing at a silent server on 127.0.0.1.
. "$(dirname "$0")/stratad_lib.sh"
need_stratad
command -v python3 > /dev/null || skip "no python3"
run_in_netns "$@"

queries=$workdir/queries
timeout 60 python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 53))
while True:
    s.recvfrom(512)
    with open(sys.argv[1], "a") as f:
        f.write("query\n")
' "$queries" &
peers_track $!
dns_listening() { ss -Hlun 'sport = :53' | grep -q .; }
check "a silent DNS server listens on 127.0.0.1:53" wait_for 10 dns_listening
printf 'nameserver 127.0.0.1\noptions timeout:5 attempts:3\n' > "$workdir/resolv.conf"
printf 'hosts: files dns\n' > "$workdir/nsswitch.conf"
mount --bind "$workdir/resolv.conf" /etc/resolv.conf && mount --bind "$workdir/nsswitch.conf" /etc/nsswitch.conf ||
	skip "cannot mount a private resolv.conf"

mkdir -p "$workdir/run" && chmod 777 "$workdir/run"
cat > "$workdir/stratad.conf" <<EOC
sources = ( { server = "stuck.example.net"; } );
clock = { driftfile = ""; };
control = { socket = "$workdir/run/stratad.sock"; };
pidfile = "";
user = "nobody";
EOC
start_stratad "$workdir/stratad.conf"
check "the daemon answers" wait_for 10 ctl tracking > /dev/null
check "its resolver asked the silent DNS server" wait_for 10 test -s "$queries"
sleep 1 # well inside the 5 s timeout of the first try
start=$(date +%s%N)
kill -TERM "$STRATAD_PID"
for i in $(seq 1 150); do
	kill -0 "$STRATAD_PID" 2> /dev/null || break
	sleep 0.1
done
ms=$((($(date +%s%N) - start) / 1000000))
if kill -0 "$STRATAD_PID" 2> /dev/null; then
	not_ok "SIGTERM with a lookup stuck: still running after 15 s"
else
	wait "$STRATAD_PID"
	status=$?
	check "SIGTERM with a lookup stuck: gone in $ms ms (at most 1000), status $status" \
		test "$ms" -le 1000 -a "$status" -eq 0
fi
check "and it said why it exits" grep -q 'exiting on signal 15' "$workdir/stratad.log"
finish
