#!/bin/bash
# Drop-in configuration and DHCP-provided servers, against a stratad -x (no
# CAP_SYS_TIME) and real chronyd servers in a private network namespace:
#  - @include of a conf.d directory: the sources of a drop-in are used; a
#    drop-in added before SIGHUP is read, a bad one is named by FILE:LINE;
#  - sourcedir: *.sources files of chrony lines (with chrony's per-source
#    options: noselect, maxdelay; a key not in the keyring and ntsport
#    without nts are refused); "stratactl reload sources"
#    adds and removes their sources without disturbing the others (their
#    sample count goes on); a bad line is logged by FILE:LINE, the rest used;
#  - contrib/NetworkManager/20-strata-dhcp run as NetworkManager runs it
#    (INTERFACE ACTION, DHCP4_NTP_SERVERS) writes, replaces and removes the
#    interface's file and reloads the sources of the running daemon;
#    The same script run as networkd-dispatcher runs it (IFACE, STATE) takes
#    the link's NTP= servers from systemd-networkd's state file;
#  - contrib/NetworkManager/20-strata-onoffline (and networkd-dispatcher's
#    link to it) says online with a default route and offline without one.
#    The hooks call a stand-in that records its arguments and hands them to
#    the real stratactl (with this daemon's socket), so both the decision
#    and its effect on the running daemon (stratactl activity) are checked.
. "$(dirname "$0")/stratad_lib.sh"
need_stratad
need_peers
run_in_netns "$@"

mkdir -p "$workdir/run" "$workdir/conf.d" "$workdir/dhcp" && chmod 777 "$workdir/run"
cat > "$workdir/stratad.conf" <<EOC
@include "conf.d"
clock = { driftfile = ""; };
control = { socket = "$workdir/run/stratad.sock"; };
pidfile = "";
user = "nobody";
sourcedir = "$workdir/dhcp";
EOC
cat > "$workdir/conf.d/10-sources.conf" <<EOC
sources = ( { server = "127.0.0.2"; port = 1123; iburst = true; minpoll = 0; maxpoll = 0; } );
EOC
echo "# not a drop-in: no .conf" > "$workdir/conf.d/README"
export PEERS_STRATUM=1
PEERS_BIND=127.0.0.2 start_chronyd_server 1123 > /dev/null || exit 1
# DHCP hands out bare names, port 123: one chronyd there answers every 127.x address
PEERS_BIND=0.0.0.0 start_chronyd_server 123 > /dev/null || exit 1
start_stratad "$workdir/stratad.conf"
check "stratad answers" wait_for 10 ctl tracking
check "the drop-in's source is used" wait_for 30 source_answered 127.0.0.2:1123

# samples ADDRESS: the source's sample count (sourcestats), 0 when absent
samples() { ctl --json sourcestats | python3 -c "
import json, sys
print(sum(s['samples'] for s in json.load(sys.stdin) if s['address'] == sys.argv[1]))" "$1"; }
has_source() { ctl sources | grep -q " $1 "; }
lacks_source() { ! has_source "$1"; }

echo "--- sourcedir and reload sources"
cat > "$workdir/dhcp/lan.sources" <<EOF
# written by hand
server 127.0.0.3 iburst minpoll 0 maxpoll 0 noselect maxdelay 0.25
server 127.0.0.9 bogus
server 127.0.0.5 iburst key 9
server 127.0.0.6 iburst ntsport 4460
EOF
echo "server 127.0.0.4 iburst" > "$workdir/dhcp/wifi.sources.tmp" # not *.sources
sleep 2
before=$(samples 127.0.0.2:1123)
check "reload sources answers" ctl reload sources
check "the sourcedir's source comes and answers" wait_for 10 source_answered 127.0.0.3:123
check "reload sources --json counts them: 1 configured, 1 from the sourcedir" python3 -c "
import json, sys
sys.exit(json.loads(sys.argv[1]) != {'configured': 1, 'sourcedir': 1})" "$(ctl --json reload sources)"
check "a file not named *.sources is left alone" lacks_source 127.0.0.4:123
check "the bad line is logged with its file and line" grep -q \
	"$workdir/dhcp/lan.sources:3: sourcedir: server 127.0.0.9: unknown option \"bogus\": line left out" "$workdir/stratad.log"
check "its chrony options reached the source: noselect, maxdelay 0.25 (selectdata --json)" python3 -c "
import json, sys
s = [s for s in json.loads(sys.argv[1]) if s['address'] == '127.0.0.3:123']
sys.exit(not (len(s) == 1 and s[0]['noselect'] and s[0]['maxdelay'] == 0.25 and not s[0]['prefer']))" \
	"$(ctl --json selectdata)"
check "a key not in the keyring: the line is logged and left out" grep -q \
	"$workdir/dhcp/lan.sources:4: sourcedir: key 9 is not in the keys file: line left out" "$workdir/stratad.log"
check "ntsport without nts: logged as the file would say it, left out" grep -q \
	"$workdir/dhcp/lan.sources:5: sourcedir: server 127.0.0.6: ntsport: only an NTS source has an NTS-KE port: line left out" \
	"$workdir/stratad.log"
check "neither is a source" bash -c "! '$STRATACTL' -s '$workdir/run/stratad.sock' sources | grep -qE ' 127.0.0.[56]:123 '"
after=$(samples 127.0.0.2:1123)
check "the configured source was not disturbed (samples $before -> $after)" test "$after" -ge "$before" -a "$before" -ge 2
rm "$workdir/dhcp/lan.sources" "$workdir/dhcp/wifi.sources.tmp"
ctl reload sources
check "a removed file's source goes" lacks_source 127.0.0.3:123
check "the other stays" has_source 127.0.0.2:1123

echo "--- drop-ins and SIGHUP"
echo 'statsd = { address = "127.0.0.1:8125"; };' > "$workdir/conf.d/20-more.conf"
before=$(samples 127.0.0.2:1123)
kill -HUP "$STRATAD_PID"
sleep 2
check "SIGHUP reads the new drop-in" grep -q "configuration reloaded from" "$workdir/stratad.log"
after=$(samples 127.0.0.2:1123)
check "and keeps the sources (samples of 127.0.0.2: $before -> $after)" test "$after" -ge "$before"
printf 'security = {\n  seccomp = 5;\n};\n' > "$workdir/conf.d/30-bad.conf"
kill -HUP "$STRATAD_PID"
sleep 1
check "a bad drop-in is named by file, line and setting; the running configuration stays" grep -q \
	"keeping the running one: $workdir/conf.d/30-bad.conf:2: security.seccomp: expected true or false" "$workdir/stratad.log"
rm "$workdir/conf.d/30-bad.conf"

echo "--- the NetworkManager DHCP hook"
hook=$interop_top/contrib/NetworkManager/20-strata-dhcp
calls=$workdir/stratactl-calls
cat > "$workdir/stratactl-standin" <<EOF
#!/bin/sh
echo "\$*" >> "$calls"
exec "$STRATACTL" -s "$workdir/run/stratad.sock" "\$@"
EOF
chmod 755 "$workdir/stratactl-standin"
nm() { env -i PATH="$PATH" STRATACTL="$workdir/stratactl-standin" STRATA_SOURCEDIR="$workdir/dhcp" "$@"; }
nm DHCP4_NTP_SERVERS="127.0.0.3 bad;name 127.0.0.4" sh "$hook" eth0 up
cat "$workdir/dhcp/eth0.sources"
check "up: the DHCP servers are written, the bad name left out" \
	test "$(cat "$workdir/dhcp/eth0.sources")" = "$(printf 'server 127.0.0.3 iburst\nserver 127.0.0.4 iburst')"
check "up: the hook asked for reload sources" test "$(tail -n 1 "$calls")" = "reload sources"
both_answer() { source_answered 127.0.0.3:123 && source_answered 127.0.0.4:123; }
check "up: both DHCP servers become sources of the running daemon and answer" wait_for 10 both_answer
sleep 3
before=$(samples 127.0.0.3:123)
nm DHCP4_NTP_SERVERS="127.0.0.3" sh "$hook" eth0 dhcp4-change
check "dhcp4-change: the file is replaced" test "$(cat "$workdir/dhcp/eth0.sources")" = "server 127.0.0.3 iburst"
check "dhcp4-change: the server DHCP dropped goes" lacks_source 127.0.0.4:123
after=$(samples 127.0.0.3:123)
check "dhcp4-change: the server it kept keeps its samples ($before -> $after)" test "$after" -ge "$before" -a "$before" -ge 2
nm sh "$hook" eth0 vpn-up
check "other actions leave the file" test -f "$workdir/dhcp/eth0.sources"
nm sh "$hook" eth0 down
check "down: the file goes" test ! -e "$workdir/dhcp/eth0.sources"
check "down: its source goes" lacks_source 127.0.0.3:123
check "down: the configured one stays" has_source 127.0.0.2:1123
nm DHCP4_NTP_SERVERS="127.0.0.3" sh "$hook" '../x' up
check "an interface name with a slash writes nothing" test ! -e "$workdir/x.sources"

echo "--- the same hook under networkd-dispatcher: the link's NTP= servers"
mkdir -p "$workdir/netif"
printf 'ADMIN_STATE=configured\nDNS=127.0.0.53\nNTP=127.0.0.4 bad;name\n' > "$workdir/netif/$(cat /sys/class/net/lo/ifindex)"
networkd() { nm STRATA_NETIF_LINKS="$workdir/netif" IFACE=lo "$@" sh "$interop_top/contrib/networkd-dispatcher/strata-dhcp"; }
: > "$calls"
networkd STATE=routable
check "routable: the link's NTP= servers are written" test "$(cat "$workdir/dhcp/lo.sources")" = "server 127.0.0.4 iburst"
check "routable: reload sources asked, and the server answers" wait_for 10 source_answered 127.0.0.4:123
networkd STATE=degraded
check "other states change nothing" test -f "$workdir/dhcp/lo.sources"
networkd STATE=off
check "off: the file goes, reload sources asked again" bash -c "[ ! -e '$workdir/dhcp/lo.sources' ] && [ \$(grep -c 'reload sources' '$calls') -eq 2 ]"
check "off: its source goes" lacks_source 127.0.0.4:123

echo "--- the online/offline hook (NetworkManager and networkd-dispatcher)"
onoff=$interop_top/contrib/NetworkManager/20-strata-onoffline
networkd=$interop_top/contrib/networkd-dispatcher/strata-onoffline
: > "$calls"
nm sh "$onoff" eth0 up
check "no default route: offline" test "$(cat "$calls")" = offline
# how many sources the daemon has online / offline now
activity() { ctl --json activity | python3 -c "import json, sys; a = json.load(sys.stdin); print(a['online'], a['offline'])"; }
all_offline() { set -- $(activity); [ "$1" -eq 0 ] && [ "$2" -gt 0 ]; }
all_online() { set -- $(activity); [ "$1" -gt 0 ] && [ "$2" -eq 0 ]; }
check "... and the daemon's sources are offline (online, offline: $(activity))" all_offline
ip route add default dev lo
: > "$calls"
nm sh "$onoff" eth0 connectivity-change
check "a default route: online" test "$(cat "$calls")" = online
check "... and the daemon's sources are online (online, offline: $(activity))" all_online
: > "$calls"
nm sh "$onoff" eth0 vpn-down
check "other NetworkManager actions: no call" test ! -s "$calls"
: > "$calls"
nm IFACE=eth0 STATE=routable sh "$networkd"
check "networkd-dispatcher (no arguments), routable: online" test "$(cat "$calls")" = online
ip route del default dev lo
: > "$calls"
nm IFACE=eth0 STATE=off sh "$networkd"
check "networkd-dispatcher, off, no default route left: offline" test "$(cat "$calls")" = offline
finish
