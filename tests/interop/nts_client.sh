#!/bin/bash
# NTS (RFC 8915) as a client: stratadate --nts and stratad with nts = true
# against chronyd 4.3 serving NTS (ntsserverkey/ntsservercert) with
# certificates this test makes (certtool, its own CA), all in a private
# network namespace; chronyd runs with -x and without CAP_SYS_TIME. Then the
# attacks a client must refuse, each with its reason: certificates for
# another name, expired, from an untrusted CA; and on the NTP path (a relay,
# tests/interop/nts_relay.py, between us and chronyd): a bad authenticator,
# a replayed reply, another unique identifier, an off-path NAK. NTPsec
# 1.2.2's ntpd with "nts enable" (port 123 only) runs in a second namespace
# of its own, in parallel (internal mode --ntpsec CERTDIR).
#   STRATA_BUILD=BUILDDIR tests/interop/nts_client.sh
set -u
. "$(dirname "$0")/stratad_lib.sh"
need_stratad
[ -x "$STRATA_BUILD/src/stratadate" ] || skip "stratadate not built in $STRATA_BUILD"
command -v certtool > /dev/null || skip "no certtool (apt-get install gnutls-bin)"
need_peers
run_in_netns "$@"
SD=("${PEERS_NOCAP[@]}" "$STRATA_BUILD/src/stratadate")

# --- NTPsec: its own namespace (port 123), our certificates -------------------
if [ "${1:-}" = --ntpsec ]; then
	certs=$2
	dir=$workdir/ntpsec
	mkdir -p "$dir"
	cat > "$dir/ntp.conf" <<EOC
refclock local stratum 10 minpoll 1 maxpoll 1 prefer
driftfile $dir/drift
nts enable
nts cert $certs/good.pem
nts key $certs/good.key
nts cookie $dir/nts-keys
EOC
	echo 0.000 > "$dir/drift"
	peers_spawn "$dir/ntpd.log" "${PEERS_NOCAP[@]}" "$NTPSEC_NTPD" -n -c "$dir/ntp.conf" -p "$dir/ntpd.pid" > /dev/null
	# its root dispersion falls below 0.1 s after about 20 s (tests/peers/lib.sh)
	check "NTPsec serves settled time" peers_wait_answer 127.0.0.1 123 60 'leap=0 .*rootdisp=0\.0' 1 > /dev/null
	out=$("${SD[@]}" -q -d --nts --nts-ca "$certs/ca.pem" 127.0.0.1 2> "$workdir/sd.err"); rc=$?
	check "stratadate --nts against NTPsec: exit 0" [ $rc = 0 ]
	check "stratadate --nts against NTPsec: the server line" grep -Eq '^server 127\.0\.0\.1, stratum 11, offset ' <<< "$out"
	check "stratadate --nts against NTPsec: KE AES-SIV-CMAC-256, 8 cookies" \
		grep -q 'NTS key exchange: AES-SIV-CMAC-256, 8 cookies' "$workdir/sd.err"
	check "stratadate --nts against NTPsec: 4 authenticated samples" \
		[ "$(grep -c ': sample [0-9]: stratum 11' "$workdir/sd.err")" = 4 ]
	grep 'NTSs: NTS-KE from\|NTSs: Read' "$dir/ntpd.log" | sed 's/^/  NTPsec: /'
	check "NTPsec logs our key exchange: AEAD 15" grep -q 'NTSs: Read .* AEAD=15' "$dir/ntpd.log"
	mkdir -p "$workdir/run"
	chmod 777 "$workdir/run"
	cat > "$workdir/stratad.conf" <<EOC
sources = ( { server = "127.0.0.1"; nts = true; iburst = true; minpoll = 0; maxpoll = 1; } );
nts_trusted_certs = "$certs/ca.pem";
clock = { driftfile = ""; };
control = { socket = "$workdir/run/stratad.sock"; };
pidfile = "$workdir/run/stratad.pid";
user = "nobody";
EOC
	start_stratad "$workdir/stratad.conf"
	check "stratad with NTS synchronizes to NTPsec" wait_for 20 synced
	row=$(ctl authdata | grep -F '127.0.0.1:123 ')
	echo "  stratad authdata: $row"
	check "stratad authdata against NTPsec: NTS, SIV-256, 8 cookies, none failed" \
		[ "$(awk '$2 == "NTS" && $4 == "SIV-256" && $6 > 0 && $7 == 0 { print $8 }' <<< "$row")" = 8 ]
	peers_stop "$STRATAD_PID"
	finish
	exit
fi

# --- certificates: a CA we trust, one we do not, four server certificates
certs=$workdir/certs
mkdir -p "$certs"
template() { # NAME LINES...: a certtool template file
	local name=$1; shift
	printf '%s\n' "$@" > "$certs/$name.tmpl"
}
make_ca() { # NAME
	certtool --generate-privkey --key-type ecdsa --outfile "$certs/$1.key" 2> /dev/null &&
		template "$1" 'cn = "strata test CA '"$1"'"' ca cert_signing_key 'expiration_days = 2' &&
		certtool --generate-self-signed --load-privkey "$certs/$1.key" --template "$certs/$1.tmpl" \
			--outfile "$certs/$1.pem" 2> /dev/null
}
make_cert() { # NAME CA TEMPLATE-LINES...
	local name=$1 ca=$2; shift 2
	certtool --generate-privkey --key-type ecdsa --outfile "$certs/$name.key" 2> /dev/null &&
		template "$name" "$@" tls_www_server signing_key encryption_key &&
		certtool --generate-certificate --load-privkey "$certs/$name.key" --load-ca-certificate "$certs/$ca.pem" \
			--load-ca-privkey "$certs/$ca.key" --template "$certs/$name.tmpl" --outfile "$certs/$name.pem" \
			2> /dev/null
}
make_ca ca && make_ca otherca &&
	make_cert good ca 'cn = "127.0.0.1"' 'ip_address = "127.0.0.1"' 'dns_name = "ntp.test"' 'dns_name = "pool.test"' \
		'expiration_days = 2' &&
	make_cert wrongname ca 'cn = "other.test"' 'dns_name = "other.test"' 'ip_address = "127.0.0.9"' \
		'expiration_days = 2' &&
	make_cert expired ca 'cn = "127.0.0.1"' 'ip_address = "127.0.0.1"' \
		'activation_date = "2020-01-01 00:00:00 UTC"' 'expiration_date = "2020-01-02 00:00:00 UTC"' &&
	make_cert untrusted otherca 'cn = "127.0.0.1"' 'ip_address = "127.0.0.1"' 'expiration_days = 2'
check "certtool made the CAs and certificates" test -s "$certs/untrusted.pem"
in_netns bash "$0" --ntpsec "$certs" > "$workdir/ntpsec.log" 2>&1 &
ntpsec_part=$!
peers_track "$ntpsec_part"

# --- chronyd NTS servers: chrony_nts NAME NTP_PORT KE_PORT CERT [LINES...]
chrony_nts() {
	local name=$1 port=$2 keport=$3 cert=$4 dir=$workdir/chronyd-$1 line
	shift 4
	mkdir -p "$dir" && chmod 700 "$dir" # chronyd opens its command socket only in a private directory
	{
		echo "port $port"
		echo "ntsport $keport"
		echo "bindaddress 127.0.0.1"
		echo "local stratum 10"
		echo "allow 127.0.0.0/8"
		echo "cmdport 0"
		echo "bindcmdaddress $dir/chronyd.sock"
		echo "pidfile $dir/chronyd.pid"
		echo "driftfile $dir/drift"
		echo "ntsserverkey $certs/$cert.key"
		echo "ntsservercert $certs/$cert.pem"
		echo "ntsdumpdir $dir"
		for line in "$@"; do echo "$line"; done
	} > "$dir/chrony.conf"
	peers_spawn "$dir/chronyd.log" "${PEERS_NOCAP[@]}" "$CHRONYD" -x -d -u root -f "$dir/chrony.conf" > /dev/null
}
chronyc_of() { "$CHRONYC" -h "$workdir/chronyd-$1/chronyd.sock" "${@:2}"; }
# serverstat NAME FIELD: a number from chronyc serverstats
serverstat() { chronyc_of "$1" serverstats | awk -F: -v f="$2" '$1 ~ f { gsub(/ /, "", $2); print $2 }'; }

chrony_nts good 123 4460 good
chrony_nts relayed 1123 4461 good "ntsntpserver 127.0.0.3"
chrony_nts wrongname 1124 4462 wrongname
chrony_nts expired 1125 4463 expired
chrony_nts untrusted 1126 4464 untrusted
ip addr add 127.0.0.3/8 dev lo 2> /dev/null
echo pass > "$workdir/relay.mode"
relay_pid=$(peers_spawn "$workdir/relay.log" python3 "$(dirname "$0")/nts_relay.py" 127.0.0.3 1123 127.0.0.1 1123 \
	"$workdir/relay.mode")
ke_ready() { chronyc_of "$1" -n tracking > /dev/null 2>&1; }
for n in good relayed wrongname expired untrusted; do
	check "chronyd ($n) answers chronyc" wait_for 10 ke_ready "$n"
done

# --- stratadate --nts: the key exchange, then authenticated samples --------
out=$("${SD[@]}" -q -d --nts --nts-ca "$certs/ca.pem" 127.0.0.1 2> "$workdir/sd.err"); rc=$?
check "stratadate --nts against chronyd: exit 0" [ $rc = 0 ]
check "stratadate --nts: the server line" grep -Eq '^server 127\.0\.0\.1, stratum 10, offset ' <<< "$out"
check "stratadate --nts: the key exchange (AES-SIV-CMAC-256, 8 cookies)" \
	grep -q 'NTS key exchange: AES-SIV-CMAC-256, 8 cookies' "$workdir/sd.err"
check "stratadate --nts: 4 samples" [ "$(grep -c ': sample [0-9]: stratum 10' "$workdir/sd.err")" = 4 ]
ke=$(serverstat good 'NTS-KE connections accepted')
auth=$(serverstat good 'Authenticated NTP packets')
echo "chronyd's serverstats after stratadate: NTS-KE connections accepted $ke, authenticated NTP packets $auth"
check "chronyd counts our key exchange" [ "${ke:-0}" -ge 1 ]
check "chronyd counts 4 authenticated NTP requests" [ "${auth:-0}" -ge 4 ]

# by name: resolved (this namespace's own /etc/hosts), sent as SNI, checked
# against the certificate's DNS name
printf '127.0.0.1 ntp.test pool.test\n' > "$workdir/hosts"
if mount --bind "$workdir/hosts" /etc/hosts; then
	echo /etc/hosts >> "$PEERS_TMP/mounts"
	out=$("${SD[@]}" -q -p 1 --nts --nts-ca "$certs/ca.pem" ntp.test 2> "$workdir/sd.err"); rc=$?
	check "stratadate --nts ntp.test: the name checked in the certificate, exit 0" [ $rc = 0 ]
	check "stratadate --nts ntp.test: the server line" grep -Eq '^server 127\.0\.0\.1, stratum 10' <<< "$out"
	out=$("${SD[@]}" -q -p 1 --json --nts --nts-ca "$certs/ca.pem" ntp.test 2> /dev/null)
	check "stratadate --nts --json: authentication nts" grep -q '"authentication": "nts"' <<< "$out"
else
	not_ok "cannot bind-mount /etc/hosts in the test's mount namespace"
fi

# negotiation: the relayed instance names 127.0.0.3 and port 1123
out=$("${SD[@]}" -q --nts --nts-ca "$certs/ca.pem" 127.0.0.1:4461 2> "$workdir/sd.err"); rc=$?
check "stratadate --nts follows the negotiated server and port (127.0.0.3:1123)" \
	grep -Eq '^server 127\.0\.0\.3:1123, stratum 10' <<< "$out"

# --- certificates that must be refused ----------------------------------------
refused() { # WHAT KE-PORT PATTERN [CA]
	local err rc
	err=$("${SD[@]}" -q --nts --nts-ca "$certs/${4:-ca}.pem" "127.0.0.1:$2" 2>&1 > /dev/null); rc=$?
	echo "  $1: $err"
	check "$1: stratadate exits 1" [ $rc = 1 ]
	check "$1: the reason" grep -q -- "$3" <<< "$err"
}
refused "certificate for another name" 4462 "certificate rejected: .*name in the certificate does not match"
refused "expired certificate" 4463 "certificate rejected: .*expired"
refused "certificate from an untrusted CA" 4464 "certificate rejected: .*issuer is unknown"
err=$("${SD[@]}" -q --nts 127.0.0.1 2>&1 > /dev/null); rc=$?
echo "  the system trust store (without our CA): $err"
check "without --nts-ca the system's store is used, and our CA is not in it" \
	[ $rc = 1 ] && grep -Eq "certificate rejected|no trusted certificates in the system store" <<< "$err"

# --- attacks on the NTP path: the relay plays them ------------------------------
attack() { # MODE EXPECTED-EXIT PATTERN
	local out rc
	echo "$1" > "$workdir/relay.mode"
	out=$("${SD[@]}" -q -d -p 1 -t 1 --nts --nts-ca "$certs/ca.pem" 127.0.0.1:4461 2>&1); rc=$?
	grep -E 'dropped|rejected|NTS' <<< "$out" | sed 's/^/  /' | head -4
	check "relay $1: stratadate exits $2" [ $rc = "$2" ]
	check "relay $1: dropped with '$3'" grep -q -- "dropped a datagram: $3" <<< "$out"
}
attack badauth 1 "NTS: NTS authenticator does not verify"
attack replay 1 "NTS: unique identifier not ours"
attack otheruid 1 "NTS: unique identifier not ours"
attack nak 0 "NTS: NAK without the unique identifier of our request"
echo pass > "$workdir/relay.mode"

# --- stratad: an NTS source; after a restart from the dump, one that must stay silent
mkdir -p "$workdir/run"
chmod 777 "$workdir/run"
stratad_conf() { # SOURCE-LINES
	cat > "$workdir/stratad.conf" <<EOC
sources = ( $1 );
nts_trusted_certs = "$certs/ca.pem";
nts_dumpdir = "$workdir/dump";
clock = { driftfile = ""; };
control = { socket = "$workdir/run/stratad.sock"; };
pidfile = "$workdir/run/stratad.pid";
user = "nobody";
EOC
}
# a pool: its member's key exchange checks the pool's name (NTPsec's part has a
# server); in interleaved mode, which chronyd serves under NTS too
good_source='{ pool = "pool.test"; maxsources = 1; nts = true; iburst = true; minpoll = 0; maxpoll = 1; xleave = true; }'
untrusted_source='{ server = "127.0.0.1"; port = 1126; nts = true; nts_port = 4464; iburst = true; minpoll = 0; maxpoll = 1; }'
silent_source='{ server = "127.0.0.1"; port = 1127; nts = true; nts_port = 4470; }'
stratad_conf "$good_source"
ke_before=$(serverstat good 'NTS-KE connections accepted')
start_stratad "$workdir/stratad.conf"
check "stratad with an NTS pool synchronizes to chronyd" wait_for 20 synced
check "the pool's member: its key exchange done under the pool's name" \
	grep -q "pool.test: NTS key exchange done: AES-SIV-CMAC-256, 8 cookies" "$workdir/stratad.log"
nts_row() { ctl authdata | grep -F "127.0.0.1:${1} "; }
# a few more authenticated replies, for the counts below
wait_for 10 eval '[ "$(nts_row 123 | awk "{ print \$6 }")" -ge 4 ]'
ctl authdata | sed 's/^/  /'
check "authdata: the source is NTS, AES-SIV-CMAC-256, 256-bit keys" \
	grep -Eq '^127\.0\.0\.1:123 +NTS +15 SIV-256 +256 ' <<< "$(nts_row 123)"
check "authdata: 8 cookies kept, 1 key exchange" \
	[ "$(nts_row 123 | awk '{ print $8, $9 }')" = "8 1" ]
check "authdata: authenticated replies counted, none failed" \
	[ "$(nts_row 123 | awk '$6 >= 4 && $7 == 0 { print "yes" }')" = yes ]
check "sources --json carries the NTS state" grep -q '"ke_attempts": 1' <<< "$(ctl sources --json)"
check "xleave under NTS: chronyd's last authenticated reply was interleaved" \
	python3 -c 'import json, sys; sys.exit(not json.load(sys.stdin)[0]["last_reply"]["interleaved"])' \
	<<< "$(ctl --json ntpdata)"
chronyc_of good serverstats | grep -E 'NTS-KE|Authenticated' | sed 's/^/  chronyd: /'
check "chronyd counts stratad's authenticated requests" \
	[ "$(serverstat good 'Authenticated NTP packets')" -ge "$((auth + 4))" ]
peers_stop "$STRATAD_PID"
check "nts_dumpdir: the state was saved at exit (mode 0600)" \
	[ "$(stat -c %a "$workdir/dump/127.0.0.1_123.nts" 2> /dev/null)" = 600 ]

# a KE server that accepts and never says a word
peers_spawn "$workdir/silent.log" python3 -c '
import socket, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 4470))
s.listen(8)
conns = []
while True:
    conns.append(s.accept()[0])
' > /dev/null
silent_listening() { ss -ltn 2> /dev/null | grep -q '127.0.0.1:4470 '; }
check "the silent KE server listens" wait_for 5 silent_listening
stratad_conf "$good_source, $untrusted_source, $silent_source"
start_stratad "$workdir/stratad.conf"
check "restart: keys and cookies restored from nts_dumpdir" \
	wait_for 10 grep -q "NTS keys and 8 cookies restored" "$workdir/stratad.log"
check "restart: authenticated replies with the restored cookies" \
	wait_for 10 eval '[ "$(nts_row 123 | awk "{ print \$6 }")" -ge 2 ]'
check "restart: no second key exchange with chronyd" \
	[ "$(serverstat good 'NTS-KE connections accepted')" = "$((ke_before + 1))" ]
check "untrusted KE server: the key exchange fails with the reason in the log" \
	wait_for 10 grep -q "NTS key exchange failed: certificate rejected: .*issuer is unknown" "$workdir/stratad.log"
check "untrusted KE server: its row shows no cookies" [ "$(nts_row 1126 | awk '{ print $8 }')" = 0 ]
check "untrusted KE server: no plain NTP ever sent to it (chronyd received 0)" \
	[ "$(serverstat untrusted 'NTP packets received')" = 0 ]
# the silent KE server holds the exchange thread for its 10 s, not the loop
good_before=$(nts_row 123 | awk '{ print $6 }')
sleep 4
good_after=$(nts_row 123 | awk '{ print $6 }')
echo "  while the silent KE server hangs: $good_before -> $good_after authenticated replies from chronyd"
check "a silent KE server: the other source keeps being polled meanwhile" [ "$good_after" -ge $((good_before + 2)) ]
check "a silent KE server: the exchange ends at its 10 s limit, with the reason" \
	wait_for 12 grep -q "127.0.0.1: NTS key exchange failed: TLS handshake: The operation timed out" "$workdir/stratad.log"
grep "timed out" "$workdir/stratad.log" | sed 's/^/  /'
peers_stop "$STRATAD_PID"
wait "$ntpsec_part"
absorb "$workdir/ntpsec.log"
finish nts_client
