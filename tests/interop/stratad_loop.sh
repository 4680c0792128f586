#!/bin/bash
# Loop detection at the edge: stratad configured with its own serving address
# as a source refuses it with a clear log line and never polls it (ntpd
# does the same); a wildcard listen covers every local address; another port
# is another server. (The refid check is in the engine's unit tests.)
. "$(dirname "$0")/stratad_lib.sh"
need_stratad
run_in_netns "$@"

mkdir -p "$workdir/run" && chmod 777 "$workdir/run"
# run_with LISTEN SOURCES: start stratad, wait for its control socket.
run_with() {
	cat > "$workdir/stratad.conf" <<EOC
sources = ( $2 );
serve = { $1 port = 123; };
clock = { driftfile = ""; };
control = { socket = "$workdir/run/stratad.sock"; };
pidfile = "";
user = "nobody";
EOC
	start_stratad "$workdir/stratad.conf"
	wait_for 10 ctl tracking > /dev/null
}
stop() { peers_stop "$STRATAD_PID"; }
logged() { grep -qF -- "$1" "$workdir/stratad.log"; }

run_with 'listen = [ "127.0.0.1" ];' '{ server = "127.0.0.1"; iburst = true; }'
check "its own listen address is refused as a source" \
	logged "refusing source 127.0.0.1 (127.0.0.1:123): it is this daemon's own serving address, a timing loop"
check "and is not a source" test -z "$(ctl sources | grep -F '127.0.0.1:123')"
received() { ctl serverstats | sed -n 's/^Requests received *: //p'; }
sleep 3 # an iburst would have sent its requests by now
check "no request went to ourselves (received: $(received))" test "$(received)" = 0
stop

run_with '' '{ server = "127.0.0.2"; }, { server = "127.0.0.1"; port = 1123; }'
check "under the wildcard, another local address is refused too" \
	logged "refusing source 127.0.0.2 (127.0.0.2:123): it is this daemon's own serving address, a timing loop"
check "another port is another server, and added" logged "added source 127.0.0.1 (127.0.0.1:1123)"
stop
finish
