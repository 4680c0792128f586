#!/usr/bin/env python3
"""Serves an NMEA log (nmea_log.py's) over TCP as a networked receiver
would send it: each second's sentences LATENCY seconds after the second
they carry, to the client connected at that moment (gpsd opening
tcp://HOST:PORT; a client that reconnects gets the epochs from then on).
Listens as soon as it starts, so the caller can wait for the port before
starting gpsd. Epochs already past are skipped. Stops at the end of the log
or at SIGTERM, and says how many epochs it sent and how late after their LATENCY (median
and largest), so a delay the daemons find beyond LATENCY can be told from
the feed's own.
    nmea_feed.py HOST PORT LOG LATENCY"""
import calendar
import os
import select
import signal
import socket
import sys
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


class Server:
    """One listening socket and at most one client: the newest."""

    def __init__(self, host, port):
        self.listener = socket.create_server((host, port))
        self.client = None

    def drop_client(self):
        if self.client:
            self.client.close()
            self.client = None

    def serve_until(self, deadline):
        """Accept (re)connections and discard what the client writes (gpsd's
        probes, if any) until DEADLINE (time.time())."""
        while True:
            remaining = deadline - time.time()
            if remaining <= 0:
                return
            watched = [self.listener] + ([self.client] if self.client else [])
            readable, _, _ = select.select(watched, [], [], remaining)
            if self.listener in readable:
                self.drop_client()
                self.client, _ = self.listener.accept()
            elif self.client in readable:
                try:
                    if not self.client.recv(4096):
                        self.drop_client()
                except OSError:
                    self.drop_client()

    def send(self, data):
        """True when a client took DATA."""
        if not self.client:
            return False
        try:
            self.client.sendall(data)
            return True
        except OSError:
            self.drop_client()
            return False


def report(late):
    if not late:
        print("nmea_feed: no epoch sent", file=sys.stderr, flush=True)
        return
    late = sorted(late)
    print("nmea_feed: %d epochs sent, late by %.6f s (median), %.6f s (largest)"
          % (len(late), late[len(late) // 2], late[-1]), file=sys.stderr, flush=True)


def main():
    host, port, log, latency = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
    server = Server(host, port)
    with open(log, newline="") as f:
        lines = f.read().splitlines(keepends=True)
    late = []

    def stop(*_):
        # timeout(1) sends TERM to its child and again to the group: once
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        report(late)
        os._exit(0)
    signal.signal(signal.SIGTERM, stop)
    for t, sentences in epochs(lines):
        due = t + latency
        if due < time.time():
            continue
        server.serve_until(due)
        if server.send("".join(sentences).encode()):
            late.append(time.time() - due)
    server.drop_client()
    report(late)


main()
