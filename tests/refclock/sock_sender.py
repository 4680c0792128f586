#!/usr/bin/env python3
"""A SOCK reference clock of the test's own: sends chrony's sock_sample
datagrams (struct timeval, double offset, int pulse, leap, pad, magic
0x534f434b, as gpsd does) to PATH for SECONDS seconds, the reference time
OFFSET seconds ahead of the local clock.
  time samples (every 0.2 s): tv = now, offset = OFFSET;
  --pulse: one per second at the local time the reference's second starts,
           with gpsd's offset (the nearest local second - tv): only the
           fraction is known, the receiver numbers it.
  --garbage: one datagram of the wrong length first.
    sock_sender.py PATH OFFSET SECONDS [--pulse] [--garbage]"""
import socket
import struct
import sys
import time


def sample(tv, offset, pulse):
    sec = int(tv // 1)
    usec = int(round((tv - sec) * 1e6))
    if usec == 1000000:
        sec, usec = sec + 1, 0
    return struct.pack("=qqdiiii", sec, usec, offset, 1 if pulse else 0, 0, 0, 0x534F434B)


def main():
    path, offset, seconds = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
    pulse = "--pulse" in sys.argv
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    if "--garbage" in sys.argv:
        s.sendto(b"not a sample", path)
    end = time.time() + seconds
    while time.time() < end:
        if pulse:
            # the local time at which the reference's next second starts
            ref = time.time() + offset
            edge = (int(ref) + 1) - offset
            time.sleep(max(0.0, edge - time.time()))
            s.sendto(sample(edge, round(edge) - edge, True), path)
        else:
            now = time.time()
            s.sendto(sample(now, offset, False), path)
            time.sleep(0.2)


main()
