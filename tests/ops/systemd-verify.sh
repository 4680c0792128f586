#!/bin/bash
# systemd-analyze verify on the unit as built, with ExecStart pointing at the
# built stratad, and the man pages its Documentation= names looked up in the
# source tree. Skipped (77) where systemd-analyze is missing.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${STRATA_BUILD:-$top/build}
. "$top/tests/checks.sh"

command -v systemd-analyze >/dev/null || skip "systemd-analyze is not installed"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

make -s -C "$build" contrib/stratad.service contrib/strata-wait.service src/stratad src/stratactl >/dev/null
unit=$build/contrib/stratad.service
check "the unit is generated" test -s "$unit"
check "the daemon is built" test -x "$build/src/stratad"

# a copy that runs the built binary, with its man pages in a private MANPATH,
# beside the socket unit it requires
sed "s|^ExecStart=[^ ]*|ExecStart=$build/src/stratad|" "$unit" >"$work/stratad.service"
cp "$top/contrib/stratad.socket" "$work/stratad.socket"
for page in $(sed -n 's/^Documentation=//p' "$unit" | tr ' ' '\n' | sed -n 's/^man:\(.*\)(\([0-9]\))$/\1.\2/p'); do
	section=${page##*.}
	mkdir -p "$work/man/man$section"
	check "man page $page exists" test -f "$top/man/$page" &&
		ln -sf "$top/man/$page" "$work/man/man$section/$page"
done
check "systemd-analyze verify passes" env MANPATH="$work/man" systemd-analyze verify --man=yes "$work/stratad.service"
check "systemd-analyze verify passes on the socket unit" \
	env MANPATH="$work/man" systemd-analyze verify --man=yes "$work/stratad.socket"
wait_unit=$build/contrib/strata-wait.service
sed "s|^ExecStart=[^ ]*|ExecStart=$build/src/stratactl|" "$wait_unit" >"$work/strata-wait.service"
mkdir -p "$work/man/man8" && ln -sf "$top/man/stratactl.8" "$work/man/man8/stratactl.8"
check "systemd-analyze verify passes on strata-wait.service" \
	env MANPATH="$work/man" systemd-analyze verify --man=yes "$work/strata-wait.service"
check "strata-wait.service runs stratactl waitsync, after stratad, before time-sync.target" \
	bash -c "grep -q '^ExecStart=.*/stratactl waitsync ' '$wait_unit' && grep -qx 'Before=time-sync.target' '$wait_unit' &&
		grep -qx 'After=stratad.service' '$wait_unit' && grep -qx 'Type=oneshot' '$wait_unit'"
check "Type=notify (stratad sends READY=1)" grep -qx 'Type=notify' "$unit"
check "capabilities bounded to CAP_SYS_TIME (port 123 comes from stratad.socket)" \
	grep -qx 'CapabilityBoundingSet=CAP_SYS_TIME' "$unit"
check "the socket unit listens where the shipped configuration serves" \
	bash -c "grep -qx 'ListenDatagram=127.0.0.1:123' '$top/contrib/stratad.socket' &&
		grep -qx 'ListenDatagram=\[::1\]:123' '$top/contrib/stratad.socket' &&
		grep -q 'listen = \[ \"127.0.0.1\", \"::1\" \]' '$top/ntpd.conf.example'"
check "the clock stays adjustable (no ProtectClock)" bash -c "! grep -q '^ProtectClock' '$unit'"
check "a system-call filter" grep -q '^SystemCallFilter=@system-service' "$unit"
check "address families restricted to IPv4, IPv6 and Unix" \
	grep -qx 'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX' "$unit"

# exposure LINE: the figure of "Overall exposure level for X: 2.0 OK"
exposure() { sed -n 's/^.*Overall exposure level for [^:]*: \([0-9.]*\).*$/\1/p'; }
ours=$(systemd-analyze security --offline=true "$work/stratad.service" 2>&1 | exposure)
echo "systemd-analyze security: stratad.service ${ours:-?}"
check "an exposure level below 2.0 (${ours:-none})" awk -v e="${ours:-99}" 'BEGIN { exit !(e < 2.0) }'
chrony_unit=$top/.peers/root/chrony/lib/systemd/system/chrony.service
if [ -f "$chrony_unit" ]; then
	theirs=$(systemd-analyze security --offline=true "$chrony_unit" 2>&1 | exposure)
	echo "systemd-analyze security: chrony.service ${theirs:-?}"
	check "below chrony's unit's (${ours:-none} < ${theirs:-none})" \
		awk -v a="${ours:-99}" -v b="${theirs:-0}" 'BEGIN { exit !(a < b) }'
else
	echo "SKIP: chrony's unit: not in .peers (run tests/peers/fetch): not compared"
fi
finish systemd-verify
