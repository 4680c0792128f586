#!/usr/bin/env bash
# chronyd 4.3 as an NTS client of stratad (RFC 8915), in a private network
# namespace, with certificates this test makes (its own CA, given to
# chronyd as ntstrustedcerts). chronyd must select stratad and its own
# `chronyc -N authdata` must show mode NTS with cookies, and it asks for
# interleaved mode (xleave) and gets it; then stratad
# restarts on the same master key file and chronyd's cookies keep working
# without a new key exchange; then stratad restarts with its keys gone and
# chronyd's cookies get NTS NAKs, after which chronyd makes a new key
# exchange (its KeyID goes to 2) and is served again. Last, a pool of two
# sharing the key file: A (127.0.0.1) makes the key exchange and sends a
# second chronyd to B (127.0.0.2, rotate = 0) by NTPv4 server negotiation;
# B opens the cookies A made and answers, with no key exchange of its own. Skips (77) without root, the peers or
# certtool.
set -u
. "$(dirname "$0")/../interop/lib.sh"
. "$(dirname "$0")/nts_lib.sh"
need_peers
run_in_netns "$@"

nts_make_pki "$workdir/pki" || { not_ok "certtool could not make the certificates"; finish; exit 1; }
nts_write_conf "$workdir/stratad.conf" ""
spid=$(nts_start_stratad "$workdir/stratad.conf" "$workdir/stratad.log") || not_ok "stratad did not start"

cpid=$(start_chronyd_client "server 127.0.0.1 iburst nts minpoll -2 maxpoll -1 xleave" \
	"ntstrustedcerts $workdir/pki/ca.pem") || not_ok "chronyd client did not start"

# authdata CSV: name,mode,keyid,type (15: AES-SIV-CMAC-256),klen,last,atmp,nak,cook,clen
authdata_ok() {
	local line
	line=$(chronyc_client "$cpid" -c -N authdata 2>/dev/null | grep '^127\.0\.0\.1,') || return 1
	echo "$line" | awk -F, '$2 == "NTS" && ($4 == "15" || $4 == "AES-SIV-CMAC-256") && $5 == 256 && $9 > 0 { ok = 1 } END { exit !ok }'
}

if [ -n "${cpid:-}" ] && line=$(wait_chronyd_synced "$cpid" 30); then
	echo "chronyd tracking after ${SECONDS}s: $line"
	chronyc_client "$cpid" sources | tail -1
	chronyc_client "$cpid" sources | grep -q '^\^\* *127\.0\.0\.1' && ok "chronyd selected stratad over NTS (^*)" ||
		not_ok "chronyd did not select stratad"
	wait_for 5 authdata_ok && ok "chronyc -N authdata: mode NTS, AES-SIV-CMAC-256, cookies held" ||
		not_ok "chronyc authdata does not show NTS with cookies"
	chronyc_client "$cpid" -N authdata
else
	not_ok "chronyd never synchronized to stratad over NTS"
fi
"$stratactl" -s "$workdir/stratad.sock" serverstats | grep NTS
[ "$(nts_stat nts_answered)" -gt 0 ] && ok "stratad: authenticated NTS answers sent" || not_ok "no NTS answers"
# chronyd asks for interleaved mode (xleave) and takes it under NTS
[ "$(nts_stat interleaved)" -gt 0 ] && chronyc_client "$cpid" ntpdata | grep -q '^Interleaved *: Yes' &&
	ok "stratad: interleaved NTS answers, taken by chronyd ($(nts_stat interleaved))" ||
	not_ok "no interleaved NTS answers (serverstats $(nts_stat interleaved)): $(chronyc_client "$cpid" ntpdata | grep Interleaved)"
[ "$(nts_stat nts_ke_connections)" -ge 1 ] && [ "$(nts_stat nts_ke_errors)" = 0 ] &&
	ok "stratad: NTS-KE connection, no KE error" || not_ok "KE counters"
[ "$(stat -c %a "$workdir/state/nts-server-keys")" = 600 ] && ok "master key file is 0600" ||
	not_ok "master key file mode $(stat -c %a "$workdir/state/nts-server-keys")"

# A restart reads the same master keys: chronyd's cookies still open.
peers_stop "$spid"
spid=$(nts_start_stratad "$workdir/stratad.conf" "$workdir/stratad2.log") || not_ok "stratad did not restart"
answered_3() { [ "$(nts_stat nts_answered)" -ge 3 ]; }
wait_for 15 answered_3
echo "${SECONDS}s: after restart: answered $(nts_stat nts_answered), KE $(nts_stat nts_ke_connections), NAKs $(nts_stat nts_naks)"
[ "$(nts_stat nts_answered)" -ge 3 ] && [ "$(nts_stat nts_ke_connections)" = 0 ] && [ "$(nts_stat nts_naks)" = 0 ] &&
	ok "restart on the same keys: chronyd's cookies accepted, no new key exchange" ||
	not_ok "restart on the same keys"

# Keys lost: the old cookies get NAKs, chronyd makes a new key exchange.
peers_stop "$spid"
rm -f "$workdir/state/nts-server-keys"
spid=$(nts_start_stratad "$workdir/stratad.conf" "$workdir/stratad3.log") || not_ok "stratad did not restart"
wait_for 20 answered_3
echo "${SECONDS}s: after losing the keys: answered $(nts_stat nts_answered), KE $(nts_stat nts_ke_connections), NAKs $(nts_stat nts_naks)"
[ "$(nts_stat nts_naks)" -ge 1 ] && ok "cookies under lost keys: NTS NAK" || not_ok "no NAK for cookies under lost keys"
[ "$(nts_stat nts_ke_connections)" -ge 1 ] && [ "$(nts_stat nts_answered)" -ge 3 ] &&
	ok "chronyd made a new key exchange and is served again" || not_ok "chronyd not served after the NAK"
chronyc_client "$cpid" -N authdata | tail -1
# KeyID counts chronyd's key exchanges with the server
chronyc_client "$cpid" -c -N authdata | awk -F, '$1 == "127.0.0.1" && $3 >= 2 && $9 > 0 { ok = 1 } END { exit !ok }' &&
	ok "chronyc authdata: a second key exchange (KeyID 2), cookies held" || not_ok "chronyd's authdata: no new KE"

# A pool of two sharing the key file; A hands out B as the NTP server.
peers_stop "$spid"
nts_write_conf "$workdir/a.conf" 'ntp_server = "127.0.0.2";'
nts_write_conf "$workdir/b.conf" 'rotate = 0;'
sed -i 's/"127\.0\.0\.1"/"127.0.0.2"/; s/stratad\.sock/stratad-b.sock/; s/stratad\.pid/stratad-b.pid/' "$workdir/b.conf"
spid=$(nts_start_stratad "$workdir/a.conf" "$workdir/stratad-a.log") || not_ok "stratad A did not start"
bpid=$(nts_start_stratad "$workdir/b.conf" "$workdir/stratad-b.log" "$workdir/stratad-b.sock") ||
	not_ok "stratad B did not start"
c2pid=$(start_chronyd_client "server 127.0.0.1 iburst nts minpoll -2 maxpoll -1" \
	"ntstrustedcerts $workdir/pki/ca.pem") || not_ok "second chronyd client did not start"
b_answered_3() { [ "$(nts_stat nts_answered "$workdir/stratad-b.sock")" -ge 3 ]; }
wait_for 20 b_answered_3
echo "${SECONDS}s: pool: A answered $(nts_stat nts_answered), KE $(nts_stat nts_ke_connections);" \
	"B answered $(nts_stat nts_answered "$workdir/stratad-b.sock"), KE $(nts_stat nts_ke_connections "$workdir/stratad-b.sock")," \
	"NAKs $(nts_stat nts_naks "$workdir/stratad-b.sock")"
[ "$(nts_stat nts_ke_connections)" -ge 1 ] && [ "$(nts_stat nts_answered "$workdir/stratad-b.sock")" -ge 3 ] &&
	[ "$(nts_stat nts_ke_connections "$workdir/stratad-b.sock")" = 0 ] &&
	[ "$(nts_stat nts_naks "$workdir/stratad-b.sock")" = 0 ] &&
	ok "pool: B answers with cookies A made (shared key file, server negotiation)" ||
	not_ok "pool: B did not serve A's cookies"
chronyc_client "$c2pid" -N authdata | tail -1
chronyc_client "$c2pid" -n sources | tail -1

grep -qiE "error|sanitizer|seccomp" "$workdir"/stratad*.log && { not_ok "stratad logged errors"; cat "$workdir"/stratad*.log; }
finish
