#!/bin/bash
# SHM refclocks against a writer of the test's own (tests/refclock/shm_writer,
# which lays ntpd's segment out itself) with known offsets, so the figures
# can be asserted exactly: stratad -x (no CAP_SYS_TIME) reports each
# refclock's offset to the microsecond, selects a refclock as system peer
# and serves stratum 1 with its refid (chronyd, a real client, sees
# stratum 2 and reference GPS), calls a refclock a year off a falseticker
# rather than stepping, and a refclock whose writer stopped unreachable;
# the two left, a year apart, make no majority: unsynchronized, no step.
# Runs in its own IPC and network namespaces.
. "$(dirname "$0")/lib.sh"
need_stratad
need_peers
run_in_ipc_netns "$@"

writer=$STRATA_BUILD/tests/refclock/shm_writer
[ -x "$writer" ] || skip "tests/refclock/shm_writer not built"
good=0.123456
good2=0.123556
year=31536000.25

cat > "$workdir/stratad.conf" <<EOC
sources = ();
refclocks = (
  { driver = "SHM"; device = "0"; refid = "GPS"; poll = -1; },
  { driver = "SHM"; device = "2"; refid = "GPS2"; poll = -1; },
  { driver = "SHM"; device = "3"; refid = "BAD"; poll = -1; }
);
clock = { driftfile = ""; };
serve = { listen = [ "127.0.0.1" ]; port = 11123; allow = [ "127.0.0.0/8" ]; };
control = { socket = "$workdir/run/stratad.sock"; };
user = "nobody";
EOC
mkdir -p "$workdir/run" && chmod 777 "$workdir/run"
"$writer" 0 $good 60 & peers_track $!
"$writer" 2 $good2 60 & writer2=$!; peers_track $writer2
"$writer" 3 $year 60 & peers_track $!
start_stratad "$workdir/stratad.conf"
check "stratad answers" wait_for 10 ctl tracking > /dev/null
check "a refclock becomes the system peer" wait_for 20 synced
ctl sources
for name in GPS GPS2; do
	want=$good; [ $name = GPS2 ] && want=$good2
	off=$(source_json $name "s['estimate']['offset']")
	check "$name's offset is the writer's $want to 1 us (stratad: $off)" near "$off" $want 1e-6
	check "$name is shown as a refclock of stratum 0" \
		test "$(source_json $name "(s['refclock'], s['stratum'], s['refid'])")" = "(True, 0, '$name')"
done
check "stratactl sources marks a refclock with #" sh -c "'$STRATACTL' -s '$workdir/run/stratad.sock' sources | grep -q '^[*+] #GPS '"
check "the refclock a year off is a falseticker ($(source_json BAD "s['state']"))" \
	test "$(source_json BAD "s['state']")" = falseticker
check "stratad serves stratum 1" test "$(tracking_json "t['stratum']")" = 1
check "with a refclock's refid ($(tracking_json "t['reference_id']"))" \
	sh -c "case '$(tracking_json "t['reference_id']")' in GPS|GPS2) exit 0;; esac; exit 1"
check "and never stepped" test "$(tracking_json "t['steps']")" = 0

client=$(start_chronyd_client "server 127.0.0.1 port 11123 iburst minpoll -2 maxpoll -2") || not_ok "chronyd client"
if [ -n "$client" ]; then
	line=$(wait_chronyd_synced "$client" 20)
	chronyc_client "$client" tracking | head -3
	check "chronyd, a client of stratad, is at stratum 2" test "$(echo "$line" | cut -d, -f3)" = 2
	remote=$(chronyc_client "$client" ntpdata 127.0.0.1 | sed -n 's/^Reference ID *: //p')
	remote_stratum=$(chronyc_client "$client" ntpdata 127.0.0.1 | sed -n 's/^Stratum *: //p')
	check "it receives stratum 1 ($remote_stratum) and refid GPS or GPS2 ($remote)" \
		sh -c "[ '$remote_stratum' = 1 ] && case '$remote' in *'(GPS)'|*'(GPS2)') exit 0;; esac; exit 1"
fi

kill "$writer2"
gps2_unreachable() { [ "$(source_json GPS2 "s['state']")" = unreachable ]; }
check "GPS2 is unreachable once its writer stopped" wait_for 10 gps2_unreachable
ctl sources | head -5
# GPS against BAD: two refclocks that disagree, no majority to follow
no_majority() { [ "$(tracking_json "(t['stratum'], t['steps'])")" = "(16, 0)" ]; }
check "GPS and BAD alone disagree: unsynchronized (stratum 16), no step" wait_for 5 no_majority
finish
