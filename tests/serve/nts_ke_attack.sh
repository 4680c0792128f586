#!/usr/bin/env bash
# Hostile NTS-KE clients cannot stall NTP serving (RFC 8915 server, issue
# 12): stratad serves NTP and NTS-KE (100 connections, the default, and
# 1 s per connection, half the default, to keep the test short) in a
# private network namespace while
# tests/serve/nts_ke_attack.py opens silent connections (more than the
# limit), silent TLS sessions, 64 KiB records and a flood of 1000
# connections, and a plain NTP client asks every 10 ms. Each phase must
# keep at least 98 % of the NTP queries answered, a key exchange from
# another address must succeed during the silent and flood phases (the
# limit of 8 connections per address), and one after each phase (within 5 s: the time limit frees the
# slots silent clients hold). Prints the figures. Skips (77) without root
# or certtool.
set -u
. "$(dirname "$0")/../interop/lib.sh"
. "$(dirname "$0")/nts_lib.sh"
run_in_netns "$@"

nts_make_pki "$workdir/pki" || { not_ok "certtool could not make the certificates"; finish; exit 1; }
nts_write_conf "$workdir/stratad.conf" "timeout = 1.0;"
spid=$(nts_start_stratad "$workdir/stratad.conf" "$workdir/stratad.log") || { not_ok "stratad did not start"; finish; exit 1; }

out=$(timeout 90 python3 "$(dirname "$0")/nts_ke_attack.py" 127.0.0.1 123 4460 "$workdir/pki/ca.pem" 2>&1)
echo "$out"
for p in baseline silent silent-tls big flood; do
	line=$(echo "$out" | grep "^$p ") || { not_ok "$p: no figures"; continue; }
	echo "$line" | awk '{ for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] } }
		END { exit !(v["ntp_sent"] > 0 && v["ntp_answered"] >= 0.98 * v["ntp_sent"]) }' &&
		ok "$p: NTP answered while under attack" || not_ok "$p: NTP answers lost: $line"
	echo "$line" | grep -q " ke_ok=1 " && ok "$p: an honest key exchange succeeds after it" ||
		not_ok "$p: honest key exchange failed"
done
echo "$out" | grep -q "^silent .*closed_by_server=1[0-9][0-9]" && ok "silent connections closed by the time limit" ||
	not_ok "silent connections not closed by the server"
for p in silent flood; do
	echo "$out" | grep -q "^$p .*honest_ke_during=1" && ok "$p: another host's key exchange succeeds during it" ||
		not_ok "$p: another host's key exchange refused during the attack"
done
echo "$out" | grep -q "^big .*error_records=5/5" && ok "64 KiB records: an Error record each" ||
	not_ok "64 KiB records not answered with an Error record"
"$stratactl" -s "$workdir/stratad.sock" serverstats | grep -E "answered|NTS-KE"
kill -0 "$spid" 2>/dev/null && ok "stratad still running" || not_ok "stratad died"
grep -qiE "error|sanitizer|seccomp" "$workdir/stratad.log" && { not_ok "stratad logged errors"; cat "$workdir/stratad.log"; }
finish
