#!/bin/bash
# The gain of sub-second polling on a LAN, in clknetsim (chrony's simulator):
# compare.sh's "lan" cells, the 10 µs network of chrony's comparison for
# 6000 s, stratad (and chronyd beside it) as the client of a chronyd at
# stratum 1, at the default polls and at minpoll = maxpoll = -2 (four
# requests a second; the server has no rate limit, chrony's default and
# ours). compare.sh checks that stratad ran, synchronized and served; this
# checks that at poll -2 its median RMS offset is at most half that at its
# default polls. Needs what compare.sh needs; skips (77) without it.
# Knob: CLKNETSIM_SEEDS (default "1 2").
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../checks.sh"
table=$(mktemp)
trap 'rm -f "$table"' EXIT
CLKNETSIM_SEEDS=${CLKNETSIM_SEEDS:-1 2} CLKNETSIM_CELLS=lan CLKNETSIM_TABLE=$table "$here/compare.sh"
rc=$?
[ "$rc" = 77 ] && exit 77
check "compare.sh's lan cells passed (status $rc)" test "$rc" = 0

# median RMS of stratad in a cell, from the table's lines
# "name jitter minpoll maxpoll wander seconds seed client node2-RMS-us"
rms() { awk -v cell="$1" '$1 == cell && $8 == "stratad" { print $9 }' "$table" | sort -g |
	awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)]; else print "none" }'; }
default=$(rms lan-default)
fast=$(rms lan-poll-2)
check "stratad at poll -2 (median RMS $fast µs) is at least twice as accurate as at its default polls ($default µs)" \
	awk -v a="$fast" -v b="$default" 'BEGIN { exit !(a ~ /^[0-9.]+$/ && b ~ /^[0-9.]+$/ && 2 * a <= b) }'
finish lan-poll
