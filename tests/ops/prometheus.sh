#!/bin/bash
# The Prometheus text strata writes passes a strict checker of the exposition
# format (tests/ops/promcheck.py, itself checked first on good and bad
# samples) and, where installed, promtool check metrics. The text comes from
# the metrics module through tests/ops/metrics_probe and, once stratad is
# built, from a running stratad through stratactl metrics.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${STRATA_BUILD:-$top/build}
. "$top/tests/checks.sh"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

check "the checker rejects what it must" python3 "$top/tests/ops/promcheck.py" --self-test
check "metrics_probe prints Prometheus text" bash -c "'$build/tests/ops/metrics_probe' prometheus >'$work/probe.prom'"
check "the text passes the strict checker" python3 "$top/tests/ops/promcheck.py" --prefix strata_ "$work/probe.prom"
check "label values are escaped" grep -qF 'name="odd \"name\" \\ here"' "$work/probe.prom"
check "units in the names" grep -q '^strata_offset_seconds -0.001500000$' "$work/probe.prom"
if command -v promtool >/dev/null; then
	check "promtool check metrics" bash -c "promtool check metrics <'$work/probe.prom'"
else
	echo "SKIP: promtool: not installed (Debian package prometheus)"
fi
finish prometheus
