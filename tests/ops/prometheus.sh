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
check "metrics_probe prints the same round as JSON" bash -c "'$build/tests/ops/metrics_probe' json >'$work/probe.json'"
# the Prometheus text is the reference: every figure it has, the JSON has with
# the same value, and what it lacks (a source without a sample) is null
check "the JSON carries every figure of the text, equal" python3 - "$work/probe.prom" "$work/probe.json" <<'EOF'
import json, math, re, sys
prom = {}
for line in open(sys.argv[1]):
    if line.startswith("#"):
        continue
    m = re.match(r'strata_(\w+?)(\{name="((?:[^"\\]|\\.)*)",address="([^"]*)"\})? (\S+)$', line)
    assert m, line
    prom[(m.group(1), m.group(4))] = float(m.group(5))
doc = json.load(open(sys.argv[2]))
seen = 0
for key, value in doc["system"].items():
    assert prom[(key, None)] == value or (value is None and math.isinf(prom[(key, None)])), key
    seen += 1
for key, value in doc["server"].items():
    # a counter the text leaves out (NTS's, when not serving NTS) is null
    assert prom.get(("server_" + key, None)) == value, key
    seen += value is not None
for src in doc["sources"]:
    for key, value in src.items():
        if key in ("name", "address"):
            continue
        ref = prom.get(("source_" + key, src["address"]))
        assert ref == value, (src["address"], key, ref, value)
        seen += value is not None
assert seen == len(prom), (seen, len(prom))
assert doc["serving"] is True and doc["sources"][1]["offset_seconds"] is None
assert doc["sources"][1]["name"] == 'odd "name" \\ here', doc["sources"][1]["name"]
EOF
if command -v promtool >/dev/null; then
	check "promtool check metrics" bash -c "promtool check metrics <'$work/probe.prom'"
else
	echo "SKIP: promtool: not installed (Debian package prometheus)"
fi
finish prometheus
