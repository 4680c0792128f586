#!/usr/bin/python3
"""A small, deliberately misbehaving NTP server for strata's negative tests.

Usage:
    fake_server.py [--host 127.0.0.1] [--port N] [--lifetime S] [--root S]
                   [--ready-file F] [--log F] MODE [SECONDS]

MODE is one of:
    good        correct stratum-2 server on the host clock (same as offset 0)
    offset S    correct stratum-2 server whose clock is host clock + S seconds
    garbage     answers 48 random bytes
    short       answers 45 bytes, too short to be an NTP packet
    kod-deny    Kiss-o'-Death: leap 3, stratum 0, refid "DENY"
    kod-rate    Kiss-o'-Death: leap 3, stratum 0, refid "RATE"
    silent      receives and counts requests, never answers
    unsync      leap 3, stratum 16, refid 0, otherwise a normal reply
    bad-origin  normal reply but the origin timestamp is not the client's
                transmit timestamp
    zero-xmt    normal reply but the transmit timestamp is zero
    root-max    normal reply with the largest root delay and dispersion
                (0xffff.ffff s each: a root distance of about 98,304 s)
    precision-max  normal reply with precision 127 (2^127 s)
    inject      first a copy of the request (mode 3, right origin) and a
                reply with a wrong origin, as an off-path sender would
                inject them, then the normal reply
    oversized   the normal reply followed by 5000 bytes of padding (more than
                any receive buffer of ours, 4096 bytes)

"Normal" replies copy the client's transmit timestamp into the origin
field, use the client's version (3 or 4), mode 4, poll = client's poll,
precision -20, root delay and root dispersion of --root seconds each
(default 0.001), refid 192.0.2.1
(a documentation address, never contacted) and a reference time one
second before the receive time.

Only client requests (mode 3, at least 48 bytes) are answered. The server
binds only to loopback addresses (127.0.0.0/8 or ::1), and exits by itself
after --lifetime seconds (default 60, at most 3600). With --port 0 the
kernel picks a free port. When bound it prints "READY <host> <port>" on
stdout (and into --ready-file if given), then one line per request on
--log if given.
"""

import argparse
import ipaddress
import os
import random
import select
import socket
import struct
import sys
import time

NTP_EPOCH_DELTA = 2208988800  # seconds from 1900-01-01 to 1970-01-01
MODES = ("good", "offset", "garbage", "short", "kod-deny", "kod-rate", "silent",
         "unsync", "bad-origin", "zero-xmt", "root-max", "precision-max", "inject",
         "oversized")


def to_ntp(t):
    """POSIX float seconds -> 64-bit NTP timestamp (era 0 wraps)."""
    t += NTP_EPOCH_DELTA
    sec = int(t)
    frac = int((t - sec) * 4294967296.0)
    if frac >= 1 << 32:
        frac = (1 << 32) - 1
    return ((sec & 0xFFFFFFFF) << 32) | frac


def short(seconds):
    """Seconds -> NTP 16.16 short format."""
    return int(seconds * 65536) & 0xFFFFFFFF


def build_reply(mode, req, t_recv, t_xmt_fn, offset, root):
    first = req[0]
    version = (first >> 3) & 7
    if version not in (3, 4):
        version = 4
    poll = struct.unpack("!b", req[2:3])[0]
    client_xmt = req[40:48]

    if mode == "garbage":
        return os.urandom(48)
    if mode == "short":
        return bytes([0x24]) + os.urandom(44)

    leap, stratum, refid = 0, 2, socket.inet_aton("192.0.2.1")
    if mode == "kod-deny":
        leap, stratum, refid = 3, 0, b"DENY"
    elif mode == "kod-rate":
        leap, stratum, refid = 3, 0, b"RATE"
    elif mode == "unsync":
        leap, stratum, refid = 3, 16, b"\0\0\0\0"

    origin = client_xmt
    if mode == "bad-origin":
        # A plausible but wrong origin: the client's value minus 1.5 s.
        o = struct.unpack("!Q", client_xmt)[0]
        origin = struct.pack("!Q", (o - (3 << 31)) & 0xFFFFFFFFFFFFFFFF)

    recv = to_ntp(t_recv + offset)
    ref = to_ntp(t_recv + offset - 1.0)
    root_delay = root_disp = short(root)
    if mode == "root-max":
        root_delay = root_disp = 0xFFFFFFFF
    precision = 127 if mode == "precision-max" else -20
    head = struct.pack("!BBbbII4sQ8sQ",
                       (leap << 6) | (version << 3) | 4,
                       stratum, poll, precision,
                       root_delay, root_disp, refid,
                       ref, origin, recv)
    xmt = 0 if mode == "zero-xmt" else to_ntp(t_xmt_fn() + offset)
    reply = head + struct.pack("!Q", xmt)
    if mode == "oversized":
        reply += bytes(5000)
    return reply


def loopback_only(host):
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--lifetime", type=float, default=60.0)
    ap.add_argument("--root", type=float, default=0.001, help="root delay and root dispersion, seconds")
    ap.add_argument("--ready-file")
    ap.add_argument("--log")
    ap.add_argument("mode", choices=MODES)
    ap.add_argument("seconds", nargs="?", type=float)
    a = ap.parse_args(argv)

    if not loopback_only(a.host):
        ap.error("--host must be a loopback address (127.0.0.0/8 or ::1)")
    if not 0 < a.lifetime <= 3600:
        ap.error("--lifetime must be in (0, 3600]")
    if not 0 <= a.root < 1:
        ap.error("--root must be in [0, 1)")
    if a.mode == "offset" and a.seconds is None:
        ap.error("mode offset needs SECONDS")
    if a.mode != "offset" and a.seconds is not None:
        ap.error("only mode offset takes SECONDS")
    offset = a.seconds if a.mode == "offset" else 0.0

    family = socket.AF_INET6 if ":" in a.host else socket.AF_INET
    s = socket.socket(family, socket.SOCK_DGRAM)
    s.bind((a.host, a.port))
    port = s.getsockname()[1]
    ready = "READY %s %d\n" % (a.host, port)
    sys.stdout.write(ready)
    sys.stdout.flush()
    if a.ready_file:
        with open(a.ready_file + ".tmp", "w") as f:
            f.write(ready)
        os.rename(a.ready_file + ".tmp", a.ready_file)
    log = open(a.log, "a", buffering=1) if a.log else None

    deadline = time.monotonic() + a.lifetime
    served = 0
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        r, _, _ = select.select([s], [], [], min(left, 1.0))
        if not r:
            continue
        req, peer = s.recvfrom(2048)
        t_recv = time.time()
        mode_bits = req[0] & 7 if req else -1
        if len(req) < 48 or mode_bits != 3:
            if log:
                log.write("ignored %d bytes mode %d from %s\n"
                          % (len(req), mode_bits, peer[0]))
            continue
        served += 1
        if a.mode == "silent":
            if log:
                log.write("silent request %d from %s:%d\n"
                          % (served, peer[0], peer[1]))
            continue
        if a.mode == "inject":
            s.sendto(req[:48], peer)
            s.sendto(build_reply("bad-origin", req, t_recv, time.time, offset, a.root), peer)
        reply = build_reply(a.mode, req, t_recv, time.time, offset, a.root)
        s.sendto(reply, peer)
        if log:
            log.write("%s reply %d to %s:%d\n"
                      % (a.mode, served, peer[0], peer[1]))
    if log:
        log.write("lifetime over after %d requests\n" % served)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
