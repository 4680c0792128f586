#!/bin/bash
# make install DESTDIR=... from a build directory puts every file where it
# belongs under the prefix, leaves an operator's configuration alone, and
# make uninstall removes every file it put there.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${STRATA_BUILD:-$top/build}
. "$top/tests/checks.sh"

dest=$(mktemp -d)
trap 'rm -rf "$dest" "$dest.list"' EXIT
var() { # Makefile variable, expanded
	make -s -C "$build" --no-print-directory -f Makefile -f - print-var VAR="$1" <<'MK'
print-var:
	@echo '$($(VAR))'
MK
}
prefix=$(var prefix)
sbindir=$(var sbindir)
bindir=$(var bindir)
sysconfdir=$(var sysconfdir)
docdir=$(var docdir)
mandir=$(var mandir)
unitdir=$(var systemdsystemunitdir)
sysusersdir=$(var sysusersdir)

check "make install DESTDIR" make -s -C "$build" install DESTDIR="$dest" >/dev/null
(cd "$dest" && find . -type f -o -type l | sort) >"$dest.list"
echo "installed:"; sed 's/^/  /' "$dest.list"
has() { grep -qx ".$1" "$dest.list"; }
for p in $(var sbin_PROGRAMS) $(var bin_PROGRAMS); do
	dir=$sbindir
	case " $(var bin_PROGRAMS) " in *" $p "*) dir=$bindir ;; esac
	check "program $(basename "$p") in $dir" has "$dir/$(basename "$p")"
done
for page in "$top"/man/*.[1-8]; do
	[ -e "$page" ] || continue
	name=$(basename "$page")
	check "man page $name" has "$mandir/man${name##*.}/$name"
done
check "the systemd unit under the prefix" has "$unitdir/stratad.service"
case $unitdir in "$prefix"/*) ;; *) check "unit dir $unitdir is under $prefix" false ;; esac
check "the socket unit beside it" has "$unitdir/stratad.socket"
check "the unit runs the installed daemon" grep -qx "ExecStart=$sbindir/stratad -n" "$dest$unitdir/stratad.service"
check "strata-wait.service beside it" has "$unitdir/strata-wait.service"
check "strata-wait.service runs the installed stratactl's waitsync" \
	grep -qx "ExecStart=$bindir/stratactl waitsync 0 0.1 0 1" "$dest$unitdir/strata-wait.service"
check "the sysusers.d file" has "$sysusersdir/strata.conf"
check "the example configuration in the docs" has "$docdir/ntpd.conf.example"
check "the configuration from the example" cmp -s "$top/ntpd.conf.example" "$dest$sysconfdir/stratad.conf"

check "make uninstall DESTDIR" make -s -C "$build" uninstall DESTDIR="$dest" >/dev/null
left=$(cd "$dest" && find . -type f -o -type l)
check "nothing is left after uninstall" test -z "$left"
[ -n "$left" ] && echo "left: $left"

# an operator's configuration survives install and uninstall
mkdir -p "$dest$sysconfdir"
echo "# mine" >"$dest$sysconfdir/stratad.conf"
make -s -C "$build" install DESTDIR="$dest" >/dev/null
check "install keeps an existing configuration" grep -qx "# mine" "$dest$sysconfdir/stratad.conf"
make -s -C "$build" uninstall DESTDIR="$dest" >/dev/null
check "uninstall keeps a changed configuration" grep -qx "# mine" "$dest$sysconfdir/stratad.conf"
finish install
