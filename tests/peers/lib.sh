# tests/peers/lib.sh - start real NTP peers (chronyd, ntpsec, openntpd) and
# the fake server for strata's interop tests. Source it from bash:
#
#   . tests/peers/lib.sh
#   peers_init                       # temp dir + cleanup trap (call first,
#                                    # in the main shell, not in $(...))
#   pid=$(start_chronyd_server 11123 +1h)
#   run_ntplib 127.0.0.1 11123       # offset=3600.0... stratum=10 ...
#
# Safety rules kept by every function here:
#   * no daemon can change the clock: all run without CAP_SYS_TIME
#     (peers_nocap), chronyd also with -x;
#   * network only on loopback; ntpsec and openntpd (port 123 only) only
#     inside a private network namespace made by in_netns;
#   * every daemon runs under `timeout` (PEERS_LIFETIME, default 300 s) and
#     peers_cleanup kills only the PIDs recorded in $PEERS_TMP/pids.
# All readiness waits are bounded. Failures print "peers: ..." on stderr
# and return non-zero.

PEERS_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PEERS_TOP=$(cd "$PEERS_LIB_DIR/../.." && pwd)
PEERS_PY=${PEERS_PY:-/usr/bin/python3}   # Debian's python3: has ntplib
PEERS_LIFETIME=${PEERS_LIFETIME:-300}
PEERS_FAKETIME_LIB=${PEERS_FAKETIME_LIB:-/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1}

peers_root() { echo "$PEERS_TOP/.peers/root"; }
CHRONYD="$(peers_root)/chrony/usr/sbin/chronyd"
CHRONYC="$(peers_root)/chrony/usr/bin/chronyc"
NTPSEC_NTPD="$(peers_root)/ntpsec/usr/sbin/ntpd"
NTPSEC_NTPDIG="$(peers_root)/ntpsec/usr/bin/ntpdig"
NTPSEC_NTPDATE="$(peers_root)/ntpsec/usr/sbin/ntpdate"
NTPSEC_NTPQ="$(peers_root)/ntpsec/usr/bin/ntpq"
NTPSEC_PYTHONPATH="$(peers_root)/ntpsec/usr/lib/python3/dist-packages"
OPENNTPD="$(peers_root)/openntpd/usr/sbin/ntpd"
OPENNTPD_CTL="$(peers_root)/openntpd/usr/sbin/ntpctl"
FAKE_SERVER="$PEERS_LIB_DIR/fake_server.py"

peers_err() { echo "peers: $*" >&2; }

# peers_nocap CMD... : run CMD without CAP_SYS_TIME (bounding, inheritable
# and ambient sets), so no clock call of CMD or its children can succeed.
PEERS_NOCAP=(setpriv --bounding-set=-sys_time --inh-caps=-sys_time --ambient-caps=-sys_time --)
peers_nocap() { "${PEERS_NOCAP[@]}" "$@"; }

# peers_pid_lacks_sys_time PID : true if PID has CAP_SYS_TIME (bit 25) in
# neither its effective nor its bounding set.
peers_pid_lacks_sys_time() {
    local eff bnd
    eff=$(awk '/^CapEff:/ {print $2}' "/proc/$1/status" 2>/dev/null) || return 1
    bnd=$(awk '/^CapBnd:/ {print $2}' "/proc/$1/status" 2>/dev/null) || return 1
    [ -n "$eff" ] && [ -n "$bnd" ] || return 1
    (( (0x$eff >> 25 & 1) == 0 && (0x$bnd >> 25 & 1) == 0 ))
}

# peers_check_nocap : true if this shell cannot change the clock, read from
# its capability sets (no clock call is made to find out).
peers_check_nocap() { peers_pid_lacks_sys_time "$BASHPID"; }

peers_require() {
    local f
    for f in "$CHRONYD" "$CHRONYC" "$NTPSEC_NTPD" "$NTPSEC_NTPDIG" "$OPENNTPD"; do
        [ -x "$f" ] || { peers_err "$f missing: run tests/peers/fetch"; return 1; }
    done
}

# peers_init [--without-peers] : make $PEERS_TMP and set an EXIT trap
# running peers_cleanup. Idempotent in one shell; a child script gets its
# own. Call it in the test's main shell (not inside $(...)).
# --without-peers: do not insist on .peers/ (for tests that only want the
# temp dir, the PID cleanup and the fake server).
# $PEERS_TMP is mode 0711: a daemon that drops to another user (stratad as
# nobody) can reach a directory made for it with peers_tmpdir NAME 755;
# the peers' own directories stay 0700 and the listing stays private.
peers_init() {
    [ -n "${PEERS_TMP:-}" ] && [ "${PEERS_INIT_PID:-}" = "$BASHPID" ] && return 0
    [ "${1:-}" = --without-peers ] || peers_require || return 1
    PEERS_TMP=$(mktemp -d "${TMPDIR:-/tmp}/strata-peers.XXXXXX") || return 1
    chmod 711 "$PEERS_TMP"
    : >"$PEERS_TMP/pids"
    : >"$PEERS_TMP/mounts"
    PEERS_INIT_PID=$BASHPID
    trap 'peers_cleanup' EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
}

# peers_tmpdir NAME [MODE] : a fresh directory under $PEERS_TMP, mode MODE
# (default 700, private); echoes it.
peers_tmpdir() {
    [ -n "${PEERS_TMP:-}" ] || { peers_err "call peers_init first"; return 1; }
    local d
    d=$(mktemp -d "$PEERS_TMP/${1:-tmp}.XXXX") || return 1
    chmod "${2:-700}" "$d"
    echo "$d"
}

# peers_track PID : have peers_cleanup kill PID (a process the test
# started itself, e.g. our own daemon) on exit.
peers_track() { echo "$1" >>"$PEERS_TMP/pids"; }

# peers_stop PID [SECONDS] : stop one process started here (a PID echoed by
# a start_* function or given to peers_track): TERM, wait until it is gone
# (bounded, default 5 s), then KILL. Works for PIDs that are not children
# of this shell (start_* run in $(...)), where `wait` cannot be used; so a
# daemon's port is free again when it returns.
peers_stop() {
    local pid=$1 secs=${2:-5} i
    grep -qx -- "$pid" "$PEERS_TMP/pids" 2>/dev/null || { peers_err "peers_stop: $pid was not started here"; return 1; }
    kill -TERM "$pid" 2>/dev/null
    for i in $(seq 1 $((secs * 10))); do
        _peers_alive "$pid" || break
        sleep 0.1
    done
    _peers_alive "$pid" && kill -KILL "$pid" 2>/dev/null && sleep 0.1
    wait "$pid" 2>/dev/null     # reap it if it is our own child
    # gone: off the list, so cleanup never signals a PID reused since
    sed -i "/^$pid\$/d" "$PEERS_TMP/pids"
    return 0
}
# A zombie counts as gone: an orphan waits for its new parent to reap it.
_peers_alive() {
    local st
    st=$(sed 's/.*) //; s/ .*//' "/proc/$1/stat" 2>/dev/null) || return 1   # comm may hold spaces
    [ -n "$st" ] && [ "$st" != Z ]
}

# peers_cleanup : kill (TERM, then KILL after 3 s) the recorded PIDs only,
# undo recorded mounts, remove $PEERS_TMP unless PEERS_KEEP=1.
peers_cleanup() {
    [ -n "${PEERS_TMP:-}" ] && [ -d "$PEERS_TMP" ] || return 0
    [ "${PEERS_INIT_PID:-}" = "$BASHPID" ] || return 0  # not from subshells
    local pid i alive
    if [ -s "$PEERS_TMP/pids" ]; then
        while read -r pid; do
            [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null
        done <"$PEERS_TMP/pids"
        for i in $(seq 1 30); do
            alive=0
            while read -r pid; do
                [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && alive=1
            done <"$PEERS_TMP/pids"
            [ $alive = 0 ] && break
            sleep 0.1
        done
        while read -r pid; do
            [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
        done <"$PEERS_TMP/pids"
        : >"$PEERS_TMP/pids"
    fi
    if [ -s "$PEERS_TMP/mounts" ]; then
        tac "$PEERS_TMP/mounts" | while read -r m; do umount "$m" 2>/dev/null; done
        : >"$PEERS_TMP/mounts"
    fi
    if [ "${PEERS_KEEP:-0}" = 1 ]; then
        peers_err "kept $PEERS_TMP"
    else
        rm -rf "$PEERS_TMP"
    fi
    PEERS_TMP=
}

# peers_spawn LOG CMD... : start CMD in the background under `timeout`
# (PEERS_LIFETIME), stdin from /dev/null, output to LOG; records the
# timeout wrapper's PID (TERM to it reaches CMD) and echoes it.
peers_spawn() {
    local log=$1; shift
    timeout -k 5 "$PEERS_LIFETIME" "$@" </dev/null >"$log" 2>&1 &
    local pid=$!
    peers_track "$pid"
    echo "$pid"
}

# peers_child_pid PID : the first child of PID (the daemon under a
# peers_spawn/timeout wrapper, for daemons that write no pid file in the
# foreground, like openntpd -d).
peers_child_pid() { ps -o pid= --ppid "$1" | awk 'NR==1 {print $1}'; }

# peers_query HOST PORT [TIMEOUT] : one NTP client query (python, stdlib).
# Prints "leap=L version=V mode=M stratum=S poll=P precision=P
# rootdelay=D rootdisp=D refid=R offset=O delay=D origin_ok=0|1
# xmt_zero=0|1 len=N" (origin_ok: the reply's origin is our transmit
# timestamp) and returns 0, or returns 1 if nothing (or < 48 bytes) came
# back within TIMEOUT (default 1 s).
peers_query() {
    "$PEERS_PY" - "$1" "$2" "${3:-1}" <<'EOF'
import socket, struct, sys, time
host, port, tmo = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
D = 2208988800
fam = socket.AF_INET6 if ":" in host else socket.AF_INET
s = socket.socket(fam, socket.SOCK_DGRAM); s.settimeout(tmo)
t1 = time.time()
sec = int(t1) + D; frac = int((t1 - int(t1)) * 2**32)
req = struct.pack("!B47x", (0 << 6) | (4 << 3) | 3)[:40] + struct.pack("!II", sec, frac)
try:
    s.sendto(req, (host, port)); data, _ = s.recvfrom(1024)
except OSError:
    sys.exit(1)
t4 = time.time()
if len(data) < 48: sys.exit(1)
li_vn_mode, st, poll, prec, rd, rdisp, refid, ref, org, rec, xmt = struct.unpack("!BBbbII4sQQQQ", data[:48])
ts = lambda v: v / 2**32 - D
ok_org = data[24:32] == req[40:48]
t2, t3 = ts(rec), ts(xmt)
off = ((t2 - t1) + (t3 - t4)) / 2
dly = (t4 - t1) - (t3 - t2)
rid = refid.decode("ascii", "replace") if st < 2 and all(32 <= b < 127 or b == 0 for b in refid) else socket.inet_ntoa(refid)
print("leap=%d version=%d mode=%d stratum=%d poll=%d precision=%d rootdelay=%.6f rootdisp=%.6f refid=%s offset=%.6f delay=%.6f origin_ok=%d xmt_zero=%d len=%d"
      % (li_vn_mode >> 6, (li_vn_mode >> 3) & 7, li_vn_mode & 7, st, poll, prec, rd / 65536, rdisp / 65536, rid.rstrip("\0") or "0", off, dly, ok_org, xmt == 0, len(data)))
EOF
}

# peers_wait_answer HOST PORT SECONDS [GREP-PATTERN [INTERVAL]] : poll
# peers_query every INTERVAL (default 0.2 s) until it answers (and its
# line matches the pattern, if given). Echoes the last answer. Bounded by
# SECONDS.
peers_wait_answer() {
    local host=$1 port=$2 secs=$3 pat=${4:-} every=${5:-0.2} out= end
    end=$(( $(date +%s) + secs ))
    while [ "$(date +%s)" -le "$end" ]; do
        if out=$(peers_query "$host" "$port" 0.5); then
            if [ -z "$pat" ] || grep -Eq -- "$pat" <<<"$out"; then
                echo "$out"; return 0
            fi
        fi
        sleep "$every"
    done
    peers_err "no matching answer from $host:$port within ${secs}s${pat:+ (wanted /$pat/)}; last: ${out:-none}"
    return 1
}

# --- chronyd ---------------------------------------------------------------

# _peers_chronyd DIR [FAKETIME_SPEC] : start chronyd -x -d with DIR/chrony.conf
_peers_chronyd() {
    local dir=$1 ft=${2:-} envs=()
    if [ -n "$ft" ]; then
        [ -r "$PEERS_FAKETIME_LIB" ] || { peers_err "libfaketime missing: run tests/peers/fetch"; return 1; }
        envs=(env "LD_PRELOAD=$PEERS_FAKETIME_LIB" "FAKETIME=$ft" FAKETIME_DONT_FAKE_MONOTONIC=1)
    fi
    # -x: never touch the clock; -d: foreground, log to stderr;
    # -u root: the Debian build drops to _chrony, which does not exist here.
    peers_spawn "$dir/chronyd.log" "${PEERS_NOCAP[@]}" "${envs[@]}" "$CHRONYD" -x -d -u root -f "$dir/chrony.conf"
}

# start_chronyd_server PORT [FAKETIME_SPEC] : chronyd serving on
# ${PEERS_BIND:-127.0.0.1}:PORT with "local stratum ${PEERS_STRATUM:-10}".
# FAKETIME_SPEC is libfaketime's (e.g. +1h, -30s, +2h): the server's clock
# is then off by that much. Returns once it answers (bounded, 10 s).
# Echoes the PID to kill (the timeout wrapper); the daemon's own PID is in
# its directory's chronyd.pid, the directory is in $PEERS_TMP/chronyd-server-PORT.
start_chronyd_server() {
    local port=$1 ft=${2:-} bind=${PEERS_BIND:-127.0.0.1} dir pid
    [ -n "$port" ] || { peers_err "usage: start_chronyd_server PORT [FAKETIME_SPEC]"; return 1; }
    dir="$PEERS_TMP/chronyd-server-$port"
    mkdir -p "$dir" && chmod 700 "$dir" || return 1
    cat >"$dir/chrony.conf" <<EOF
port $port
bindaddress $bind
local stratum ${PEERS_STRATUM:-10}
allow 127.0.0.0/8
allow ::1
cmdport 0
bindcmdaddress $dir/chronyd.sock
pidfile $dir/chronyd.pid
driftfile $dir/drift
EOF
    pid=$(_peers_chronyd "$dir" "$ft") || return 1
    if ! peers_wait_answer "$bind" "$port" 10 'leap=0 ' >/dev/null; then
        peers_err "chronyd server on $bind:$port did not answer; log:"; cat "$dir/chronyd.log" >&2
        return 1
    fi
    echo "$pid"
}

# start_chronyd_client CONF_LINE... : chronyd as a client (-x, no
# CAP_SYS_TIME, no NTP server port) with the given chrony.conf lines,
# e.g. "server 127.0.0.1 port 11123 iburst minpoll -2 maxpoll 0".
# Echoes its PID; chronyc_client PID CMD... talks to it over the unix
# socket in its directory. Returns once chronyc gets an answer (10 s).
start_chronyd_client() {
    [ $# -gt 0 ] || { peers_err "usage: start_chronyd_client CONF_LINE..."; return 1; }
    local dir pid i line
    dir=$(peers_tmpdir chronyd-client) || return 1
    {
        echo "port 0"
        echo "cmdport 0"
        echo "bindcmdaddress $dir/chronyd.sock"
        echo "pidfile $dir/chronyd.pid"
        echo "driftfile $dir/drift"
        for line in "$@"; do echo "$line"; done
    } >"$dir/chrony.conf"
    pid=$(_peers_chronyd "$dir" "${PEERS_CLIENT_FAKETIME:-}") || return 1
    ln -s "$dir" "$PEERS_TMP/chronyd-client.$pid"
    for i in $(seq 1 50); do
        "$CHRONYC" -h "$dir/chronyd.sock" -n tracking >/dev/null 2>&1 && { echo "$pid"; return 0; }
        sleep 0.2
    done
    peers_err "chronyd client did not answer chronyc; log:"; cat "$dir/chronyd.log" >&2
    return 1
}

# chronyc_client PID CMD... : chronyc (-n, numeric) against the client
# started as PID, e.g. chronyc_client "$pid" sources; add -c for CSV:
# chronyc_client "$pid" -c tracking
chronyc_client() {
    local pid=$1; shift
    local dir="$PEERS_TMP/chronyd-client.$pid"
    [ -d "$dir" ] || { peers_err "no chronyd client with PID $pid"; return 1; }
    "$CHRONYC" -h "$dir/chronyd.sock" -n "$@"
}

# wait_chronyd_synced PID SECONDS : until the client's tracking shows a
# reference (Leap status Normal). Echoes the CSV tracking line.
wait_chronyd_synced() {
    local pid=$1 secs=$2 end out
    end=$(( $(date +%s) + secs ))
    while [ "$(date +%s)" -le "$end" ]; do
        out=$(chronyc_client "$pid" -c tracking 2>/dev/null) || true
        case "$out" in *,Normal) echo "$out"; return 0 ;; esac
        sleep 0.5
    done
    peers_err "chronyd client $pid not synced within ${secs}s: ${out:-no answer}"
    return 1
}

# --- network namespace -------------------------------------------------------

# in_netns CMD... : run CMD (typically a whole test script) in a new
# network namespace with only lo (up), and a private mount namespace (for
# openntpd). Everything CMD starts shares them, so our program and the
# port-123 peers see each other on 127.0.0.1 and nothing can leave.
in_netns() {
    [ $# -gt 0 ] || { peers_err "usage: in_netns CMD..."; return 1; }
    unshare --net --mount --propagation private -- \
        env STRATA_PEERS_NETNS=1 bash -c 'ip link set lo up || exit 1; exec "$@"' in_netns "$@"
}

# peers_in_netns : true only inside a namespace made by in_netns.
peers_in_netns() {
    [ "${STRATA_PEERS_NETNS:-}" = 1 ] || return 1
    [ "$(readlink /proc/self/ns/net)" != "$(readlink /proc/1/ns/net)" ] || return 1
    ! ip -o link show 2>/dev/null | grep -vq ': lo:'
}
_peers_need_netns() {
    peers_in_netns && return 0
    peers_err "$1 only works on UDP port 123: run the test under in_netns"
    return 1
}

# --- ntpsec ntpd -------------------------------------------------------------

# start_ntpsec_server [local|settled|unsync] : ntpsec ntpd on port 123 (all
# addresses of the namespace: 127.0.0.1 and ::1), without CAP_SYS_TIME
# (its clock calls fail with EPERM and it goes on). Needs in_netns.
#   local  (default) refclock "local" (undisciplined local clock) marked
#          prefer, stratum 10: ntpd is synchronized after about 2 s and
#          then answers stratum 11, leap 0, refid 127.127.1.0. We wait for
#          that (bounded, 20 s). Its root dispersion is still large then
#          (about 7.9 s, then 3.9 s, 0.45 s ...), below 0.1 s after ~20 s.
#   settled as local, but also waits (bounded, 40 s) for root dispersion
#          < 0.1 s (observed 0.010 s), for clients that check root distance.
#   unsync no time source: answers stratum 0, leap 3, refid "INIT".
# Echoes the PID to kill; its directory is $PEERS_TMP/ntpsec.*
start_ntpsec_server() {
    local how=${1:-local} dir pid pat
    _peers_need_netns ntpsec ntpd || return 1
    dir=$(peers_tmpdir ntpsec) || return 1
    {
        case "$how" in
            local) echo "refclock local stratum 10 minpoll 1 maxpoll 1 prefer"; pat='leap=0 ' ;;
            settled) echo "refclock local stratum 10 minpoll 1 maxpoll 1 prefer"; pat='leap=0 .*rootdisp=0\.0' ;;
            unsync) pat='stratum=0 ' ;;
            *) peers_err "start_ntpsec_server: unknown mode $how"; return 1 ;;
        esac
        echo "driftfile $dir/drift"
    } >"$dir/ntp.conf"
    echo 0.000 >"$dir/drift"
    pid=$(peers_spawn "$dir/ntpd.log" "${PEERS_NOCAP[@]}" "$NTPSEC_NTPD" -n -c "$dir/ntp.conf" -p "$dir/ntpd.pid") || return 1
    # 1 s between polls: ntpsec goes silent for a client polling faster
    # (observed: ~16 replies at 0.3 s spacing, then none).
    if ! peers_wait_answer 127.0.0.1 123 40 "$pat" 1 >/dev/null; then
        peers_err "ntpsec ntpd not ready; log:"; cat "$dir/ntpd.log" >&2
        return 1
    fi
    echo "$pid"
}

# --- openntpd ----------------------------------------------------------------

# start_openntpd_server [UPSTREAM_ADDR] : OpenNTPD listening on
# 127.0.0.1:123 (its only port), without CAP_SYS_TIME. Needs in_netns.
# openntpd insists on a user "ntpd" (privilege separation, chroot to its
# home) and on /var/lib/openntpd/{db,run}; inside the private mount
# namespace we bind-mount a passwd/group that has it and put a tmpfs
# overlay on /var/lib, so the host is never touched.
# Without UPSTREAM it answers at once: leap 3, stratum 0, refid 0.
# With UPSTREAM (an address in the namespace with an NTP server on port
# 123, e.g. PEERS_BIND=127.0.0.2 start_chronyd_server 123) it takes it as
# a peer after ~60-80 s and then answers stratum upstream+1, refid =
# upstream, but still leap 3: it only calls itself synced once adjtime()
# succeeds, which it never can here. We wait only for the first answer.
# Echoes the wrapper PID to kill; openntpd -d writes no pid file, so the
# daemon is peers_child_pid of it (it forks "ntp engine" and "dns engine"
# children running as user ntpd, chrooted to $PEERS_TMP/openntpd.*/chroot).
start_openntpd_server() {
    local upstream=${1:-} dir pid ino_self ino_init
    _peers_need_netns openntpd || return 1
    [ "$(readlink /proc/self/ns/mnt)" != "$(readlink /proc/1/ns/mnt)" ] || {
        peers_err "openntpd needs the private mount namespace of in_netns"; return 1; }
    dir=$(peers_tmpdir openntpd) || return 1
    mkdir -p "$dir/chroot" "$dir/ov" && chmod 755 "$dir" "$dir/chroot"
    grep -v '^ntpd:' /etc/passwd >"$dir/passwd"
    echo "ntpd:x:60123:60123:openntpd test:$dir/chroot:/usr/sbin/nologin" >>"$dir/passwd"
    grep -v '^ntpd:' /etc/group >"$dir/group"
    echo "ntpd:x:60123:" >>"$dir/group"
    mount --bind "$dir/passwd" /etc/passwd && echo /etc/passwd >>"$PEERS_TMP/mounts" || return 1
    mount --bind "$dir/group" /etc/group && echo /etc/group >>"$PEERS_TMP/mounts" || return 1
    mount -t tmpfs -o size=4m,mode=0755 strata-openntpd "$dir/ov" && echo "$dir/ov" >>"$PEERS_TMP/mounts" || return 1
    mkdir -p "$dir/ov/up" "$dir/ov/work"
    mount -t overlay strata-varlib -o "lowerdir=/var/lib,upperdir=$dir/ov/up,workdir=$dir/ov/work" /var/lib \
        && echo /var/lib >>"$PEERS_TMP/mounts" || return 1
    mkdir -p /var/lib/openntpd/db /var/lib/openntpd/run
    {
        echo "listen on 127.0.0.1"
        [ -n "$upstream" ] && echo "server $upstream"
    } >"$dir/ntpd.conf"
    pid=$(peers_spawn "$dir/ntpd.log" "${PEERS_NOCAP[@]}" "$OPENNTPD" -d -v -f "$dir/ntpd.conf") || return 1
    if ! peers_wait_answer 127.0.0.1 123 10 >/dev/null; then
        peers_err "openntpd not answering; log:"; cat "$dir/ntpd.log" >&2
        return 1
    fi
    echo "$pid"
}

# openntpd_ctl [WHAT] : ntpctl -s WHAT (default all) of the running openntpd.
openntpd_ctl() { "$OPENNTPD_CTL" -s "${1:-all}"; }

# --- clients -----------------------------------------------------------------

_ntpsec_py() {
    PYTHONPATH="$NTPSEC_PYTHONPATH${PYTHONPATH:+:$PYTHONPATH}" peers_nocap "$PEERS_PY" "$@"
}

# run_ntpdig HOST[:PORT] [NTPDIG_ARGS...] : ntpsec's ntpdig, JSON output,
# 2 s timeout. ntpdig can only query port 123 (its port is hard-coded), so
# :PORT must be 123 or absent, and it must run under in_netns. It never
# sets the clock (no -s/-S; and it has no CAP_SYS_TIME anyway). Note it
# drops replies with stratum 0 or >15, leap 3, or origin 0 ("no eligible
# servers", exit 1), but does not compare origin with its own transmit.
run_ntpdig() {
    local hp=$1; shift
    local host=$hp port=123
    case "$hp" in
        \[*\]:*) host=${hp%]:*}; host=${host#[}; port=${hp##*:} ;;
        *:*:*) ;;                         # bare IPv6
        *:*) host=${hp%:*}; port=${hp##*:} ;;
    esac
    [ "$port" = 123 ] || { peers_err "ntpdig cannot use port $port (only 123)"; return 2; }
    _peers_need_netns ntpdig || return 2
    local a
    for a in "$@"; do case "$a" in -s|-S|--step|--slew) peers_err "ntpdig $a refused"; return 2 ;; esac; done
    _ntpsec_py "$NTPSEC_NTPDIG" -j -t 2 "$@" "$host"
}

# run_ntpsec_ntpdate HOST [ARGS...] : ntpsec's ntpdate shim (a shell
# script calling ntpdig), always with -q (query only). Port 123 only;
# needs in_netns.
run_ntpsec_ntpdate() {
    _peers_need_netns ntpdate || return 2
    # The shim ignores -q when -b or -B is also given and would set the
    # clock: parse the arguments with the shim's own option string so a
    # bundled "-qb" is caught too.
    local opt OPTIND=1 OPTARG
    while getopts 46a:bBde:hk:no:p:qst:uv opt "$@" 2>/dev/null; do
        case "$opt" in b|B) peers_err "ntpdate -$opt refused"; return 2 ;; esac
    done
    local wrap
    wrap=$(peers_tmpdir ntpdate-bin) || return 2
    # The shim runs "ntpdig" from PATH: give it one that uses our tree.
    cat >"$wrap/ntpdig" <<EOF
#!/bin/sh
PYTHONPATH="$NTPSEC_PYTHONPATH" exec "$PEERS_PY" "$NTPSEC_NTPDIG" "\$@"
EOF
    chmod +x "$wrap/ntpdig"
    PATH="$wrap:$PATH" peers_nocap sh "$NTPSEC_NTPDATE" -q "$@"
}

# run_ntplib HOST PORT : python3-ntplib query (any port). Prints
# "offset=O stratum=S leap=L refid=R poll=P precision=P delay=D" or fails.
run_ntplib() {
    "$PEERS_PY" -c '
import sys, ntplib
r = ntplib.NTPClient().request(sys.argv[1], port=int(sys.argv[2]), version=4, timeout=2)
print("offset=%.6f stratum=%d leap=%d refid=%s poll=%d precision=%d delay=%.6f"
      % (r.offset, r.stratum, r.leap, ntplib.ref_id_to_text(r.ref_id, r.stratum), r.poll, r.precision, r.delay))
' "$1" "$2"
}

# start_fake_server MODE [SECONDS] : tests/peers/fake_server.py on
# 127.0.0.1, a free port chosen by the kernel, lifetime
# ${PEERS_FAKE_LIFETIME:-60} s. Echoes "PID PORT".
start_fake_server() {
    local dir pid i
    dir=$(peers_tmpdir fake) || return 1
    pid=$(peers_spawn "$dir/out" "$PEERS_PY" "$FAKE_SERVER" --port 0 \
        --lifetime "${PEERS_FAKE_LIFETIME:-60}" --ready-file "$dir/ready" --log "$dir/log" "$@") || return 1
    for i in $(seq 1 50); do
        if [ -s "$dir/ready" ]; then
            echo "$pid $(awk '{print $3}' "$dir/ready")"; return 0
        fi
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    peers_err "fake server did not start:"; cat "$dir/out" >&2
    return 1
}
