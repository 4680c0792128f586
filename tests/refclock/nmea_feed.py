#!/usr/bin/env python3
"""Replays an NMEA log (nmea_log.py's) into a serial-class tty as a receiver
would send it: each second's sentences at LATENCY seconds after the second
they carry, pushed into the tty's input with TIOCSTI (root, and
dev.tty.legacy_tiocsti = 1), so gpsd reading that tty sees a real serial
device. Epochs already past are skipped. Stops at the end of the log.
    nmea_feed.py TTY LOG LATENCY"""
import calendar
import fcntl
import os
import sys
import termios
import time


def epochs(lines):
    """(unix time, [lines]) per RMC-started second."""
    current = None
    for line in lines:
        if line.startswith("$GPRMC"):
            if current:
                yield current
            f = line.split(",")
            hms, dmy = f[1], f[9]
            t = calendar.timegm((2000 + int(dmy[4:6]), int(dmy[2:4]), int(dmy[0:2]),
                                 int(hms[0:2]), int(hms[2:4]), int(hms[4:6]), 0, 0, 0))
            current = (t, [])
        if current:
            current[1].append(line)
    if current:
        yield current


def main():
    tty, log, latency = sys.argv[1], sys.argv[2], float(sys.argv[3])
    fd = os.open(tty, os.O_RDWR | os.O_NOCTTY)
    with open(log, newline="") as f:
        lines = f.read().splitlines(keepends=True)
    sent = 0
    for t, sentences in epochs(lines):
        wait = t + latency - time.time()
        if wait < 0:
            continue
        time.sleep(wait)
        for byte in "".join(sentences).encode():
            fcntl.ioctl(fd, termios.TIOCSTI, bytes([byte]))
        sent += 1
    print("nmea_feed: %d epochs sent" % sent, file=sys.stderr)


main()
