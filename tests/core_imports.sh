#!/bin/bash
# The core makes no syscalls: every symbol the objects of
# src/libstrata_core.a import from outside the archive (nm -u) must be on the
# allow-list below of libc/libm functions that compute and never enter the
# kernel. A call of clock_gettime, sendto, socket, adjtimex, getaddrinfo,
# fopen, printf, abort... in the core fails this test: that belongs in an edge.
#
# Allocation: the architecture forbids malloc in a hot path. nm cannot tell a
# hot path from set-up, so allocation is allowed only in the objects whose
# *_create allocates once, for the life of the object (ratelimit's table,
# a source, the discipline, the engine) and whose *_destroy frees it; a
# malloc anywhere else in the core (packet, filter, select, serve...) fails.
# (malloc may enter the kernel for more memory, but only at set-up.)
#
# The checker itself is tried first on an object that calls clock_gettime,
# so a broken pipeline cannot pass silently.
#   STRATA_BUILD=BUILDDIR tests/core_imports.sh      (make check sets it)
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${STRATA_BUILD:-$top/build}
. "$top/tests/checks.sh"
NM=${NM:-nm}

# computing only: string and memory, formatting into a buffer, libm, address
# text, sorting
pure="memchr memcmp memcpy memmove memset strcasecmp strchr strcmp strlen strncmp strnlen strspn strtok_r strtol \
strtoull __errno_location __ctype_b_loc __ctype_tolower_loc explicit_bzero \
snprintf vsnprintf \
cbrt erfc exp fmax fmin ldexp log log2 lround pow sqrt \
inet_ntop inet_pton \
qsort"
allocators="calloc free malloc realloc"
# each allocates when it is created (the keyring: once, from the keys file's text)
allocating_objects="ratelimit.o source.o discipline.o engine.o auth_keys.o"

# allowed OBJECT SYMBOL: on the list, or added by the compiler: stack
# protector, sanitizer runtime (the ASan+UBSan build), fortified variants
# (__memcpy_chk) of listed functions, the GOT's base (an external function's
# address taken in position-independent code: the function itself is
# listed as an import of its own, and checked).
allowed() {
	local object=${1#*_a-} sym=$2 # automake names objects LIB_a-NAME.o when the library has its own CFLAGS
	case " $pure " in *" $sym "*) return 0 ;; esac
	case $sym in
	__stack_chk_fail | __asan_* | __ubsan_* | __sanitizer_* | _GLOBAL_OFFSET_TABLE_) return 0 ;;
	nettle_*) return 0 ;; # hashes, MACs, NTS's AEAD: computation on memory, no syscall
	__*_chk)
		local base=${sym#__}
		base=${base%_chk}
		case " $pure " in *" $base "*) return 0 ;; esac ;;
	esac
	case " $allocators " in *" $sym "*)
		case " $allocating_objects " in *" $object "*) return 0 ;; esac ;;
	esac
	return 1
}

# imports ARCHIVE: "object symbol" for every symbol an object of ARCHIVE
# takes from outside the archive
imports() {
	local defined
	defined=$("$NM" --defined-only -A "$1" | awk '{ print $NF }' | sort -u) || return 1
	"$NM" -u -A "$1" | awk '{ split($1, p, ":"); print p[2], $NF }' | sort -u |
		awk -v defined="$defined" 'BEGIN { n = split(defined, d, "\n"); for (i = 1; i <= n; i++) def[d[i]] = 1 }
			!($2 in def)'
}

# forbidden ARCHIVE: the imports not allowed, one "object: symbol" a line
forbidden() {
	local object sym list
	list=$(imports "$1") || return 1
	[ -n "$list" ] || { echo "no imports read from $1"; return 1; }
	while read -r object sym; do
		allowed "$object" "$sym" || echo "$object: $sym"
	done <<<"$list"
}

lacks() { ! grep -q "$1" <<<"$2"; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# the checker must catch a syscall, and allocation outside the allowed objects
cat >"$work/probe.c" <<'C'
#include <stdlib.h>
#include <string.h>
#include <time.h>
long probe(void *p, size_t n)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	memset(p, 0, n);
	free(malloc(n));
	return ts.tv_sec;
}
/* through the GOT: its base is allowed, the function is not */
void *probe_address(void)
{
	return (void *)&clock_settime;
}
C
if ${CC:-cc} -fPIE -c -o "$work/packet.o" "$work/probe.c" && ar cr "$work/probe.a" "$work/packet.o"; then
	found=$(forbidden "$work/probe.a")
	check "the checker flags clock_gettime" grep -qx 'packet.o: clock_gettime' <<<"$found"
	check "the checker flags malloc outside set-up" grep -qx 'packet.o: malloc' <<<"$found"
	check "the checker allows memset" lacks memset "$found"
	check "the checker flags a function whose address is taken" grep -qx 'packet.o: clock_settime' <<<"$found"
else
	not_ok "compile the checker's probe object"
fi

lib=$build/src/libstrata_core.a
if [ -f "$lib" ]; then
	found=$(forbidden "$lib")
	rc=$?
	[ -n "$found" ] && echo "$found" | sed 's/^/  imports a syscall or an unlisted function: /'
	check "libstrata_core.a imports only pure libc/libm functions" test "$rc" = 0 -a -z "$found"
else
	not_ok "$lib not built"
fi
finish core-imports
