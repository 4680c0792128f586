#!/bin/bash
# Sub-second polling against a strata server at its defaults: a stratad
# client at minpoll = maxpoll = -6 (64 requests a second) and a chronyd
# client at the same setting are answered every time, never rate limited
# (no ratelimit group: no limit, as chrony's default), and the stratad client
# keeps a full reach register and says poll -6. Both daemons -x, without
# CAP_SYS_TIME, in a private network namespace.
. "$(dirname "$0")/stratad_lib.sh"
need_stratad
need_peers
run_in_netns "$@"

mkdir -p "$workdir/run" && chmod 777 "$workdir/run"
cat > "$workdir/server.conf" <<EOC
sources = ();
clock = { driftfile = ""; local_stratum = 1; };
serve = { listen = [ "127.0.0.2" ]; port = 1123; };
control = { socket = "$workdir/run/server.sock"; };
pidfile = "";
user = "nobody";
EOC
cat > "$workdir/client.conf" <<EOC
sources = ( { server = "127.0.0.2"; port = 1123; minpoll = -6; maxpoll = -6; } );
clock = { driftfile = ""; };
control = { socket = "$workdir/run/client.sock"; };
pidfile = "";
user = "nobody";
EOC
for d in server client; do
	"${PEERS_NOCAP[@]}" "$STRATAD" -n -x -c "$workdir/$d.conf" > "$workdir/$d.log" 2>&1 &
	peers_track $!
done
sctl() { "$STRATACTL" -s "$workdir/run/server.sock" "$@"; }
cctl() { "$STRATACTL" -s "$workdir/run/client.sock" "$@"; }
check "the server answers stratactl" wait_for 10 sctl tracking 2> /dev/null > /dev/null
chrony=$(start_chronyd_client "server 127.0.0.2 port 1123 minpoll -6 maxpoll -6") || exit 1
sleep 10
sctl serverstats | tee "$workdir/serverstats.txt"
cctl sources | tee "$workdir/sources.txt"
chronyc_client "$chrony" sources | tail -n 1
answered=$(awk -F': *' '/^Requests answered/ { print $2 }' "$workdir/serverstats.txt")
limited=$(awk -F': *' '/^Rate limited/ { print $2 }' "$workdir/serverstats.txt")
# two clients at 64/s for ~10 s: about 1280 requests
check "the server answered both clients' requests ($answered)" test "${answered:-0}" -ge 800
check "none was rate limited ($limited)" test "${limited:-1}" -eq 0
# 376: the request just sent is not answered yet
check "the stratad client polls at -6 with a full reach" \
	grep -qE '^[*+ ] 127.0.0.2:1123 +1 +-6 +37[67] ' "$workdir/sources.txt"
check "the stratad client got no kiss" bash -c "! grep -q kiss '$workdir/sources.txt'"
check "chronyd at poll -6 reaches the server fully" \
	bash -c "chronyc_reach=\$('$CHRONYC' -h '$PEERS_TMP/chronyd-client.$chrony/chronyd.sock' -n -c sources | cut -d, -f6); test \"\$chronyc_reach\" = 377"
finish
