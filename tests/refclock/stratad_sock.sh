#!/bin/bash
# SOCK refclocks against a sender of the test's own (sock_sender.py packs
# chrony's sock_sample itself) with known offsets: stratad reports a time
# sample's offset to the microsecond; a pulse-only SOCK refclock locked to
# a SHM GPS a second and 0.3 s ahead gets its second from the lock (1.3 s,
# not the 0.3 s the fraction alone gives), another locked to an NTP server
# (chronyd under libfaketime, 2.3 s ahead) gets 2.3 s; a malformed datagram
# is dropped and said. Runs in its own IPC and network namespaces. ~12 s.
. "$(dirname "$0")/lib.sh"
need_stratad
need_peers faketime
run_in_ipc_netns "$@"

writer=$STRATA_BUILD/tests/refclock/shm_writer
[ -x "$writer" ] || skip "tests/refclock/shm_writer not built"
sender=$(dirname "$0")/sock_sender.py
gps=1.300250
server=$(start_chronyd_server 11125 +2.3) || not_ok "chronyd server 2.3 s ahead"
cat > "$workdir/stratad.conf" <<EOC
sources = ( { server = "127.0.0.1"; port = 11125; iburst = true; minpoll = -1; maxpoll = -1; } );
refclocks = (
  { driver = "SHM"; device = "2"; refid = "GPS"; poll = -1; },
  { driver = "SOCK"; device = "$workdir/run/gps.sock"; refid = "GPSS"; poll = -1; },
  { driver = "SOCK"; device = "$workdir/run/pps.sock"; refid = "PPS"; lock = "GPS"; poll = 0; },
  { driver = "SOCK"; device = "$workdir/run/pps2.sock"; refid = "PPS2"; lock = "127.0.0.1"; poll = 0; }
);
clock = { driftfile = ""; };
control = { socket = "$workdir/run/stratad.sock"; };
user = "nobody";
EOC
mkdir -p "$workdir/run" && chmod 777 "$workdir/run"
"$writer" 2 $gps 30 & peers_track $!
start_stratad "$workdir/stratad.conf"
check "stratad answers" wait_for 10 ctl tracking > /dev/null
python3 "$sender" "$workdir/run/gps.sock" $gps 30 --garbage & peers_track $!
python3 "$sender" "$workdir/run/pps.sock" 1.300 30 --pulse & peers_track $!
python3 "$sender" "$workdir/run/pps2.sock" 2.300 30 --pulse & peers_track $!
has_estimate() { [ "$(source_json "$1" "s['estimate'] is not None")" = true ]; }
check "the SOCK time refclock gives samples" wait_for 10 has_estimate GPSS
check "the pulse refclock gives samples" wait_for 10 has_estimate PPS
check "the pulse refclock locked to a server gives samples" wait_for 10 has_estimate PPS2
ctl sources
off=$(source_json GPSS "s['estimate']['offset']")
check "GPSS's offset is the sender's $gps to 1 us (stratad: $off)" near "$off" $gps 1e-6
off=$(source_json PPS "s['estimate']['offset']")
check "PPS is numbered by its lock GPS: 1.300 s, not 0.300 (stratad: $off)" near "$off" 1.300 2e-6
off=$(source_json PPS2 "s['estimate']['offset']")
check "PPS2 is numbered by its lock, the server 2.3 s ahead: 2.300 s (stratad: $off)" near "$off" 2.300 2e-6
check "the malformed datagram was dropped and said" grep -q 'refclock GPSS: datagram dropped: wrong length' "$workdir/stratad.log"
finish
