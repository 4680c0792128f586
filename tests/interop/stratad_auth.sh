#!/bin/bash
# Symmetric-key MACs both ways with the real peers, for MD5, SHA1,
# AES128-CMAC and SHA256, in a private network namespace (NTPsec only works on port 123):
#   10.1.1.1:123   NTPsec ntpd (local refclock), on an address of its own
#                  added to lo: a server of stratad and a client of it (keys,
#                  trustedkey, server ... key N); NTPsec refuses loopback
#                  servers other than 127.0.0.1 ("invalid address");
#   127.0.0.1:123  stratad: serving, and a client of the three others;
#   127.0.0.3:123  chronyd (local stratum 10): a server of stratad and a
#                  client of it (keyfile, server ... key N);
#   127.0.0.4:123  auth_peer.py relay to chronyd spoiling every reply's MAC.
# Each side must show the other authenticated in its own status (stratactl
# authdata, chronyc ntpdata/authdata, NTPsec's peerstats status word: its
# ntpq gets no answer to mode 6 in this namespace); spoiled MACs, wrong
# keys and key ids must be refused and counted. stratad reads ntpd's key file
# in one round and chrony's in the next: both formats, unchanged.
. "$(dirname "$0")/stratad_lib.sh"
need_stratad
need_peers
python3 -c 'import cryptography' 2> /dev/null || skip "no python3-cryptography (tools/setup-debian --tests)"
run_in_netns "$@"
ip addr add 10.1.1.1/32 dev lo || skip "cannot add an address to lo in the namespace"

AUTH_PEER=$(dirname "$0")/auth_peer.py
STRATADATE=$STRATA_BUILD/src/stratadate
PEERS_LIFETIME=120
mkdir -p "$workdir/run" && chmod 777 "$workdir/run"

# The same keys in both formats: ntpd's bare ASCII (20 characters) and hex,
# chrony's ASCII:/HEX: and its CMAC name. 8 is only the clients' (ntpdig.keys):
# no server holds it.
cat > "$workdir/ntp.keys" <<EOK
# ntp.keys(5)
1 MD5 abcdefghijklmnopqrst
2 SHA1 0102030405060708090a0b0c0d0e0f1011121314
3 AES128CMAC 2b7e151628aed2a6abf7158809cf4f3c
4 SHA256 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
9 SHA1 ffeeddccbbaa99887766554433221100ffeeddcc
EOK
cat > "$workdir/chrony.keys" <<EOK
1 MD5 ASCII:abcdefghijklmnopqrst
2 SHA1 HEX:0102030405060708090A0B0C0D0E0F1011121314
3 AES128 HEX:2B7E151628AED2A6ABF7158809CF4F3C
4 SHA256 HEX:000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F
9 SHA1 HEX:FFEEDDCCBBAA99887766554433221100FFEEDDCC
EOK
{ cat "$workdir/ntp.keys"; echo "8 SHA1 00112233445566778899aabbccddeeff00112233"; } > "$workdir/ntpdig.keys"
chmod 600 "$workdir/ntp.keys" "$workdir/chrony.keys" "$workdir/ntpdig.keys"
key_hex=(- 6162636465666768696a6b6c6d6e6f7071727374 0102030405060708090a0b0c0d0e0f1011121314
	2b7e151628aed2a6abf7158809cf4f3c 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f)
key_type=(- MD5 SHA1 AES128 SHA256)

# A world-readable keys file stops the start, naming the file.
cp "$workdir/ntp.keys" "$workdir/open.keys" && chmod 644 "$workdir/open.keys"
printf 'keys = "%s";\nsources = ( { server = "127.0.0.1"; key = 1; } );\n' "$workdir/open.keys" > "$workdir/open.conf"
out=$("$STRATAD" --check-config -c "$workdir/open.conf" 2>&1)
check "a world-readable keys file is refused: $out" grep -q "open.keys: the keys file is readable by others" <<< "$out"
printf 'keys = "%s";\nsources = (\n { server = "127.0.0.1";\n key = 5; } );\n' "$workdir/ntp.keys" > "$workdir/missing.conf"
out=$("$STRATAD" --check-config -c "$workdir/missing.conf" 2>&1)
check "a key not in the file names file, line and setting: $out" \
	grep -q "missing.conf:4: sources\[0\].key: key 5 is not in $workdir/ntp.keys" <<< "$out"

start_ntpsec() { # KEYID
	local dir=$workdir/ntpsec-$1
	mkdir -p "$dir/stats"
	NTPSEC_PEERSTATS=$dir/stats/peerstats
	cat > "$dir/ntp.conf" <<EOC
refclock local stratum 10 minpoll 1 maxpoll 1 prefer
interface ignore wildcard
interface ignore 127.0.0.1
interface ignore ::1
interface listen 10.1.1.1
driftfile $dir/drift
statsdir $dir/stats/
statistics peerstats
filegen peerstats file peerstats type none enable
keys $workdir/ntp.keys
trustedkey 1 2 3 4
server 127.0.0.1 key $1 iburst minpoll 3 maxpoll 3
EOC
	echo 0.000 > "$dir/drift"
	NTPSEC_PID=$(peers_spawn "$dir/ntpd.log" "${PEERS_NOCAP[@]}" "$NTPSEC_NTPD" -n -c "$dir/ntp.conf" -p "$dir/ntpd.pid")
}

start_chrony() { # KEYID
	local dir=$workdir/chronyd-$1
	mkdir -p "$dir" && chmod 700 "$dir"
	cat > "$dir/chrony.conf" <<EOC
port 123
bindaddress 127.0.0.3
local stratum 10
allow 127.0.0.0/8
keyfile $workdir/chrony.keys
server 127.0.0.1 key $1 iburst minpoll 1 maxpoll 1
cmdport 0
bindcmdaddress $dir/chronyd.sock
pidfile $dir/chronyd.pid
driftfile $dir/drift
EOC
	CHRONY_PID=$(peers_spawn "$dir/chronyd.log" "${PEERS_NOCAP[@]}" "$CHRONYD" -x -d -u root -f "$dir/chrony.conf")
	CHRONYC=("$CHRONYC" -h "$dir/chronyd.sock" -n)
}


# authdata's line for a source: mode, key id, type, bits, good, failed.
authdata() { ctl authdata | awk -v a="$1" '$1 == a { print $2, $3, $4, $5, $6, $7 }'; }
auth_good() { local l; l=$(authdata "$1") && [ -n "$l" ] && [ "$(cut -d' ' -f5 <<< "$l")" -gt 0 ]; }
auth_failed_only() { # ADDR: failed, never good
	local l; l=$(authdata "$1") && [ -n "$l" ] &&
		[ "$(cut -d' ' -f5 <<< "$l")" -eq 0 ] && [ "$(cut -d' ' -f6 <<< "$l")" -ge 4 ]
}
served_authenticated() { [ "$(ctl serverstats | awk -F: '/^Authenticated/ { print $2 + 0 }')" -gt "$1" ]; }
chrony_authenticated() { "${CHRONYC[@]}" ntpdata 127.0.0.1 | grep -q '^Authenticated   : Yes'; }
# NTPsec's peer status word (peerstats, 4th field): 0x4000 authentication
# enabled, 0x2000 last packet authentic, 0x1000 reachable.
ntpsec_auth_ok() {
	local word
	word=$(awk '$3 == "127.0.0.1" { w = $4 } END { print w }' "$NTPSEC_PEERSTATS" 2> /dev/null)
	[ -n "$word" ] && [ $((0x$word & 0x7000)) = $((0x7000)) ]
}

# SHA256: chronyd sends NTPv3 requests with the whole 32-byte digest (and
# takes 20 in NTPv4), NTPsec cuts it to 20 both ways.
for k in 1 2 3 4; do
	type=${key_type[$k]}
	keyfile=$workdir/ntp.keys
	[ $((k % 2)) = 0 ] && keyfile=$workdir/chrony.keys
	echo "--- key $k ($type), stratad reading $(basename "$keyfile")"
	cat > "$workdir/stratad-$k.conf" <<EOC
keys = "$keyfile";
sources = (
  { server = "10.1.1.1"; key = $k; iburst = true; minpoll = 4; maxpoll = 4; },
  { server = "127.0.0.3"; key = $k; iburst = true; minpoll = 4; maxpoll = 4; },
  { server = "127.0.0.4"; key = $k; iburst = true; minpoll = 4; maxpoll = 4; }
);
clock = { driftfile = ""; };
serve = { listen = [ "127.0.0.1" ]; allow = [ "127.0.0.0/8", "10.1.1.1" ]; ratelimit = { interval = 0.1; burst = 32; }; };
control = { socket = "$workdir/run/stratad.sock"; };
pidfile = "$workdir/run/stratad.pid";
user = "nobody";
EOC
	start_stratad "$workdir/stratad-$k.conf"
	check "stratad starts with key $k" wait_for 10 ctl tracking > /dev/null
	start_ntpsec "$k"
	start_chrony "$k"
	relay_pid=$(peers_spawn "$workdir/relay-$k.log" "$PEERS_PY" "$AUTH_PEER" relay 127.0.0.4 127.0.0.3 "$type" "$k")

	# our client side
	check "stratad: NTPsec's replies authenticated with key $k" wait_for 30 auth_good 10.1.1.1:123
	check "stratad: chronyd's replies authenticated with key $k" wait_for 30 auth_good 127.0.0.3:123
	check "stratad: spoiled MACs through the relay all refused and counted" wait_for 30 auth_failed_only 127.0.0.4:123
	check "stratad: the relayed source stays unreachable" test "$(source_reach 127.0.0.4:123)" = 0
	ctl authdata
	ctl --json authdata > "$workdir/authdata-$k.json"
	check "stratactl --json authdata names the key" grep -q "\"key_type\": \"$type\"" "$workdir/authdata-$k.json"

	# chronyd as our client
	check "chronyd: stratad authenticated (ntpdata)" wait_for 30 chrony_authenticated
	"${CHRONYC[@]}" authdata
	check "chronyd authdata: SK key $k for stratad" \
		bash -c "'${CHRONYC[0]}' -h '$workdir/chronyd-$k/chronyd.sock' -n authdata | grep -E '^127\.0\.0\.1 +SK +$k '"
	# NTPsec as our client
	check "NTPsec: stratad's association authentic and reachable (peerstats status 0x7000)" \
		wait_for 40 ntpsec_auth_ok
	grep -F ' 127.0.0.1 ' "$NTPSEC_PEERSTATS" | tail -n 2
	check "stratad answered signed requests" served_authenticated 0

	# independent MACs against our server: good, flipped, unknown id, wrong key, cut
	before=$(ctl serverstats | awk -F: '/^Auth failed/ { print $2 + 0 }')
	mal_before=$(ctl serverstats | awk -F: '/^Malformed/ { print $2 + 0 }')
	"$PEERS_PY" "$AUTH_PEER" probe 127.0.0.1 "$type" "$k" "${key_hex[$k]}" > "$workdir/probe-$k.log"
	status=$?
	cat "$workdir/probe-$k.log"
	check "independent $type MACs against stratad" test "$status" = 0
	after=$(ctl serverstats | awk -F: '/^Auth failed/ { print $2 + 0 }')
	mal_after=$(ctl serverstats | awk -F: '/^Malformed/ { print $2 + 0 }')
	check "flipped bit, unknown id and wrong key counted as auth failures ($before -> $after)" \
		test $((after - before)) -ge 3
	check "a cut MAC counted as malformed ($mal_before -> $mal_after)" test "$mal_after" -gt "$mal_before"

	# NTPsec's ntpdate (ntpdig underneath), query only
	out=$(run_ntpsec_ntpdate -a "$k" -k "$workdir/ntp.keys" -t 2 127.0.0.1 2>&1)
	echo "$out"
	check "NTPsec ntpdate -q -a $k -k ntp.keys gets a time from stratad" grep -q ' 127.0.0.1 ' <<< "$out"
	# stratadate -a/-k against chronyd (with the file stratad does not read this round)
	other=$workdir/chrony.keys
	[ "$keyfile" = "$other" ] && other=$workdir/ntp.keys
	out=$("${PEERS_NOCAP[@]}" "$STRATADATE" -q -a "$k" -k "$other" 127.0.0.3 2>&1)
	status=$?
	echo "$out"
	check "stratadate -q -a $k -k $(basename "$other") gets chronyd's time (status $status)" \
		bash -c '[ "$1" = 0 ] && grep -q "^server 127.0.0.3, stratum [0-9]*, offset" <<< "$2"' _ "$status" "$out"
	out=$("${PEERS_NOCAP[@]}" "$STRATADATE" -q -a "$k" -k "$other" 127.0.0.4 2>&1)
	status=$?
	echo "$out"
	check "stratadate refuses chronyd's spoiled MACs through the relay (status $status)" \
		bash -c '[ "$1" = 1 ] && grep -q "no reply authenticated with key $3" <<< "$2"' _ "$status" "$out" "$k"
	out=$("${PEERS_NOCAP[@]}" "$STRATADATE" -q -a 8 -k "$workdir/ntpdig.keys" 127.0.0.3 2>&1)
	status=$?
	echo "$out"
	check "stratadate -a 8 (a key chronyd lacks): no time (status $status)" test "$status" = 1

	out=$(run_ntpsec_ntpdate -a 8 -k "$workdir/ntpdig.keys" -t 2 127.0.0.1 2>&1)
	echo "$out"
	check "and no time with key 8, which stratad lacks" bash -c '! grep -q " 127.0.0.1 " <<< "$1"' _ "$out"
	ctl serverstats
	peers_stop "$relay_pid"
	peers_stop "$CHRONY_PID"
	peers_stop "$NTPSEC_PID"
	peers_stop "$STRATAD_PID"
done

# A chronyd whose key 2 differs from ours: it gets no answer, stratad counts.
sed 's/^2 SHA1 .*/2 SHA1 HEX:00000000000000000000000000000000000000FF/' "$workdir/chrony.keys" > "$workdir/wrong.keys"
chmod 600 "$workdir/wrong.keys"
cat > "$workdir/stratad-wrong.conf" <<EOC
keys = "$workdir/ntp.keys";
sources = ();
clock = { driftfile = ""; };
serve = { listen = [ "127.0.0.1" ]; allow = [ "127.0.0.0/8" ]; };
control = { socket = "$workdir/run/stratad.sock"; };
pidfile = "$workdir/run/stratad.pid";
user = "nobody";
EOC
start_stratad "$workdir/stratad-wrong.conf"
check "stratad starts" wait_for 10 ctl tracking > /dev/null
sed -i "s|keyfile .*|keyfile $workdir/wrong.keys|" "$workdir/chronyd-2/chrony.conf"
rm -f "$workdir/chronyd-2/chronyd.pid"
CHRONY_PID=$(peers_spawn "$workdir/chronyd-2/chronyd-wrong.log" "${PEERS_NOCAP[@]}" "$CHRONYD" -x -d -u root -f "$workdir/chronyd-2/chrony.conf")
auth_failures() { [ "$(ctl serverstats | awk -F: '/^Auth failed/ { print $2 + 0 }')" -ge "$1" ]; }
check "chronyd with a wrong key 2: stratad refuses and counts" wait_for 20 auth_failures 3
check "and answers none of it" test "$(ctl serverstats | awk -F: '/^Authenticated/ { print $2 + 0 }')" = 0
ctl serverstats
"$CHRONYC" -h "$workdir/chronyd-2/chronyd.sock" -n ntpdata 127.0.0.1 | grep -E 'Authenticated|Total RX' || true

# A reload whose source names a key the running keyring lacks is refused.
sed -i 's|^sources = ();|sources = ( { server = "127.0.0.3"; key = 5; } );|' "$workdir/stratad-wrong.conf"
kill -HUP "$STRATAD_PID"
reload_refused() { grep -q "configuration not reloaded.*sources\[0\]\.key: key 5 is not in" "$workdir/stratad.log"; }
check "a reload with a key not in the keys file is refused, naming it" wait_for 10 reload_refused
check "and the running configuration has no source" bash -c "! '$STRATACTL' -s '$workdir/run/stratad.sock' authdata | grep -q 127.0.0.3"
finish
