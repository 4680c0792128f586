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

make -s -C "$build" contrib/stratad.service src/stratad >/dev/null
unit=$build/contrib/stratad.service
check "the unit is generated" test -s "$unit"
check "the daemon is built" test -x "$build/src/stratad"

# a copy that runs the built binary, with its man pages in a private MANPATH
sed "s|^ExecStart=[^ ]*|ExecStart=$build/src/stratad|" "$unit" >"$work/stratad.service"
for page in $(sed -n 's/^Documentation=//p' "$unit" | tr ' ' '\n' | sed -n 's/^man:\(.*\)(\([0-9]\))$/\1.\2/p'); do
	section=${page##*.}
	mkdir -p "$work/man/man$section"
	check "man page $page exists" test -f "$top/man/$page" &&
		ln -sf "$top/man/$page" "$work/man/man$section/$page"
done
check "systemd-analyze verify passes" env MANPATH="$work/man" systemd-analyze verify --man=yes "$work/stratad.service"
check "Type=notify (stratad sends READY=1)" grep -qx 'Type=notify' "$unit"
check "capabilities bounded to CAP_SYS_TIME and CAP_NET_BIND_SERVICE" \
	grep -qx 'CapabilityBoundingSet=CAP_SYS_TIME CAP_NET_BIND_SERVICE' "$unit"
check "the clock stays adjustable (no ProtectClock)" bash -c "! grep -q '^ProtectClock' '$unit'"
finish systemd-verify
