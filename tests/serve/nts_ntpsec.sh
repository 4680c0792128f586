#!/usr/bin/env bash
# NTPsec 1.2.2 as an NTS client of stratad (RFC 8915), in a private network
# namespace: NTPsec only works on port 123, so it listens on 10.1.1.1 (an
# address of its own added to lo; it refuses loopback servers other than
# 127.0.0.1) and stratad on 127.0.0.1. Certificates are this test's (its
# own CA, given to ntpd with "server 127.0.0.1 nts ca FILE"). NTPsec's own
# word is taken: its log must show the key exchange (TLS 1.3, cookies,
# AEAD 15) and its peer status word for stratad (peerstats: its ntpq gets
# no answer to mode 6 in a namespace) must say authentic and reachable.
# Skips (77) without root, the peers or certtool.
set -u
. "$(dirname "$0")/../interop/lib.sh"
. "$(dirname "$0")/nts_lib.sh"
need_peers
run_in_netns "$@"
ip addr add 10.1.1.1/32 dev lo || skip "cannot add an address to lo in the namespace"

nts_make_pki "$workdir/pki" || { not_ok "certtool could not make the certificates"; finish; exit 1; }
nts_write_conf "$workdir/stratad.conf" "" 'allow = [ "10.1.1.1" ];'
spid=$(nts_start_stratad "$workdir/stratad.conf" "$workdir/stratad.log") || not_ok "stratad did not start"

ndir=$workdir/ntpsec
mkdir -p "$ndir/stats"
cat >"$ndir/ntp.conf" <<CONF
interface ignore wildcard
interface ignore 127.0.0.1
interface ignore ::1
interface listen 10.1.1.1
driftfile $ndir/drift
statsdir $ndir/stats/
statistics peerstats
filegen peerstats file peerstats type none enable
server 127.0.0.1 nts ca $workdir/pki/ca.pem iburst minpoll 1 maxpoll 1
CONF
echo 0.000 >"$ndir/drift"
peers_spawn "$ndir/ntpd.log" "${PEERS_NOCAP[@]}" "$NTPSEC_NTPD" -n -c "$ndir/ntp.conf" -p "$ndir/ntpd.pid" >/dev/null

# peer status word (4th field): 0x4000 authentication enabled, 0x2000 last
# packet authentic, 0x1000 reachable
ntpsec_auth_ok() {
	local word
	word=$(awk '$3 == "127.0.0.1" { w = $4 } END { print w }' "$ndir/stats/peerstats" 2>/dev/null)
	[ -n "$word" ] && [ $((0x$word & 0x7000)) = $((0x7000)) ]
}
check "NTPsec: stratad's association authentic and reachable (peerstats status 0x7000)" wait_for 40 ntpsec_auth_ok
# a few more exchanges, each on a cookie from the answer before
answered_3() { [ "$(nts_stat nts_answered)" -ge 3 ]; }
wait_for 20 answered_3
check "NTPsec: still authentic after $(nts_stat nts_answered) exchanges" ntpsec_auth_ok
grep -F ' 127.0.0.1 ' "$ndir/stats/peerstats" | tail -n 2
grep -E "NTSc" "$ndir/ntpd.log"
check "NTPsec's log: TLS 1.3 key exchange with stratad, certificate valid" \
	bash -c "grep -q 'NTSc: Using TLSv1.3' '$ndir/ntpd.log' && grep -q 'NTSc: certificate is valid' '$ndir/ntpd.log'"
check "NTPsec's log: 8 cookies, AEAD 15 (AES-SIV-CMAC-256)" \
	grep -qE "NTSc: Got 8 cookies, length 104, aead=15" "$ndir/ntpd.log"
"$stratactl" -s "$workdir/stratad.sock" serverstats | grep NTS
[ "$(nts_stat nts_answered)" -ge 3 ] && [ "$(nts_stat nts_ke_connections)" = 1 ] &&
	ok "stratad: authenticated answers to NTPsec on one key exchange" || not_ok "NTS answers or KE count"
[ "$(nts_stat nts_auth_failed)" = 0 ] && [ "$(nts_stat nts_naks)" = 0 ] && ok "stratad: no NAK, no failed authenticator" ||
	not_ok "NAKs or failed authenticators"
grep -qiE "error|sanitizer|seccomp" "$workdir/stratad.log" && { not_ok "stratad logged errors"; cat "$workdir/stratad.log"; }
finish
