#!/bin/bash
# stratad -x as a client of servers that answer but are unsynchronized:
# ntpsec without a time source (stratum 0, leap 3, kiss code INIT) on
# 127.0.0.1:123 and a stratum-16 server (fake_server.py unsync), next to a
# silent one. The answering ones are shown reachable and "unsynchronized"
# in stratactl sources (text and JSON), the silent one is not.
. "$(dirname "$0")/stratad_lib.sh"
need_stratad
need_peers
run_in_netns "$@"

start_ntpsec_server unsync > /dev/null || { not_ok "ntpsec ntpd starts"; finish; exit; }
read -r _ s16 < <(start_fake_server unsync) || { not_ok "fake server (unsync) starts"; finish; exit; }
read -r _ dead < <(start_fake_server silent) || { not_ok "fake server (silent) starts"; finish; exit; }

cat > "$workdir/stratad.conf" <<EOC
sources = (
  { server = "127.0.0.1"; iburst = true; minpoll = 4; maxpoll = 6; },
  { server = "127.0.0.1"; port = $s16; iburst = true; minpoll = 4; maxpoll = 6; },
  { server = "127.0.0.1"; port = $dead; iburst = true; minpoll = 4; maxpoll = 6; }
);
clock = { driftfile = ""; };
control = { socket = "$workdir/run/stratad.sock"; };
pidfile = "";
user = "nobody";
EOC
mkdir -p "$workdir/run" && chmod 777 "$workdir/run"
start_stratad "$workdir/stratad.conf"

# iburst: four polls 2 s apart
three_answers() { [ "$(source_reach "$1")" = 7 ] || [ "$(source_reach "$1")" = 17 ]; }
check "ntpsec (stratum 0, INIT) answers: reach 7 within 20 s" wait_for 20 three_answers 127.0.0.1:123
check "stratum 16 answers: reach 7 within 20 s" wait_for 5 three_answers "127.0.0.1:$s16"
ctl sources > "$workdir/sources.txt" 2>&1
ctl --json sources > "$workdir/sources.json" 2>&1
cat "$workdir/sources.txt"
check "text: ntpsec shown unsynchronized, with its kiss code" grep -Eq '^  127\.0\.0\.1:123 .* unsynchronized kiss INIT$' "$workdir/sources.txt"
check "text: stratum 16 shown unsynchronized" grep -Eq "^  127\.0\.0\.1:$s16 .* unsynchronized\$" "$workdir/sources.txt"
check "text: the silent one is not" bash -c "! grep -q '127.0.0.1:$dead .*unsynchronized' '$workdir/sources.txt'"
check "text: the silent one has reach 0" [ "$(source_reach "127.0.0.1:$dead")" = 0 ]
check "JSON: both answering ones in state unsynchronized, reach not 000; the silent one not" python3 - "$workdir/sources.json" "$s16" "$dead" <<'EOF'
import json, sys
d = {s["address"]: s for s in json.load(open(sys.argv[1]))}
a, b, c = d["127.0.0.1:123"], d["127.0.0.1:" + sys.argv[2]], d["127.0.0.1:" + sys.argv[3]]
ok = (a["state"] == b["state"] == "unsynchronized" and a["reach"] != "000" and b["reach"] != "000"
      and c["state"] != "unsynchronized" and c["reach"] == "000")
print(a["state"], a["reach"], b["state"], b["reach"], c["state"], c["reach"])
sys.exit(0 if ok else 1)
EOF
check "the log does not call them unreachable" bash -c "! grep -q 'source 127.0.0.1:\\(123\\|$s16\\) is unreachable' '$workdir/stratad.log'"
finish
