#!/usr/bin/env python3
"""Hostile NTS-KE clients against a server, while a plain NTP client keeps
asking for the time: what each attack costs the NTP answers and the
key exchange of an honest client.

    nts_ke_attack.py HOST NTP_PORT KE_PORT CAFILE

The server's KE time limit is taken to be 1 s (nts_ke_attack.sh sets it).

Phases (each bounded in count and time):
  baseline   nothing hostile
  silent     150 TCP connections that never say a word (more than the
             server's connection limit), held 1.6 s
  silent-tls 50 connections that try to finish the TLS handshake, then say
             nothing (8 get one: the server's limit per address)
  big        5 connections each sending an NTS-KE record of 64 KiB - 1
  flood      1000 connections opened as fast as possible and held 1 s
During silent and flood, one honest key exchange (from 127.0.0.2, the
attacks come from 127.0.0.1) is tried and reported as honest_ke_during: the
server's limit per address keeps slots for other hosts.
After each, an honest key exchange must succeed (retried for up to 5 s:
the silent ones hold slots until the server's time limit frees them).
Prints one line per phase:
  PHASE ntp_sent=N ntp_answered=N ntp_max_ms=X ke_ok=0|1 ke_ms=X detail
"""
import os
import resource
import socket
import ssl
import struct
import sys
import threading
import time

HOST, NTP_PORT, KE_PORT, CAFILE = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
REQUEST = bytes.fromhex("80010002000080040002000f80000000")


def tls_context():
    ctx = ssl.create_default_context(cafile=CAFILE)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.set_alpn_protocols(["ntske/1"])
    return ctx


HONEST_SOURCE = ("127.0.0.2", 0)  # another host than the attacker's 127.0.0.1


def honest_ke(timeout=2.0):
    """One whole key exchange, from another address than the attacks;
    returns the number of cookies received."""
    with socket.create_connection((HOST, KE_PORT), timeout=timeout, source_address=HONEST_SOURCE) as raw:
        with tls_context().wrap_socket(raw, server_hostname="localhost") as s:
            s.sendall(REQUEST)
            data = b""
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
    cookies, pos = 0, 0
    while pos + 4 <= len(data):
        rtype, rlen = struct.unpack("!HH", data[pos:pos + 4])
        if rtype & 0x7FFF == 5:
            cookies += 1
        if rtype & 0x7FFF == 0:
            break
        pos += 4 + rlen
    return cookies


def honest_ke_within(seconds):
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        try:
            if honest_ke() == 8:
                return True, (time.monotonic() - start) * 1000
        except OSError:
            pass
        time.sleep(0.05)
    return False, (time.monotonic() - start) * 1000


class NtpProbe(threading.Thread):
    """A plain NTP request every 10 ms; counts answers and the slowest."""

    def __init__(self):
        super().__init__(daemon=True)
        self.stop = threading.Event()
        self.sent = self.answered = 0
        self.max_ms = 0.0

    def run(self):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(0.5)
        while not self.stop.is_set():
            req = bytearray(48)
            req[0] = 0x23
            req[40:48] = os.urandom(8)
            t0 = time.monotonic()
            s.sendto(req, (HOST, NTP_PORT))
            self.sent += 1
            try:
                while True:
                    data, _ = s.recvfrom(1024)
                    if len(data) >= 48 and data[24:32] == req[40:48]:
                        break
                self.answered += 1
                self.max_ms = max(self.max_ms, (time.monotonic() - t0) * 1000)
            except socket.timeout:
                pass
            time.sleep(0.01)
        s.close()


def connect_many(n, tls=False):
    socks = []
    for _ in range(n):
        try:
            raw = socket.create_connection((HOST, KE_PORT), timeout=2)
            if tls:
                raw = tls_context().wrap_socket(raw, server_hostname="localhost")
            socks.append(raw)
        except OSError:
            pass
    return socks


def close_all(socks):
    for s in socks:
        try:
            s.close()
        except OSError:
            pass


def phase(name, attack):
    probe = NtpProbe()
    probe.start()
    time.sleep(0.2)
    detail = attack()
    probe.stop.set()
    probe.join()
    ke_ok, ke_ms = honest_ke_within(5.0)
    print(f"{name} ntp_sent={probe.sent} ntp_answered={probe.answered} ntp_max_ms={probe.max_ms:.1f} "
          f"ke_ok={int(ke_ok)} ke_ms={ke_ms:.0f} {detail}", flush=True)


def baseline():
    time.sleep(0.5)
    return "-"


def honest_ke_now():
    try:
        return int(honest_ke() == 8)
    except OSError:
        return 0


def silent():
    socks = connect_many(150)
    during = honest_ke_now()
    time.sleep(1.6)
    # closed by the server (time limit) by now: a read gives EOF or a reset
    closed = 0
    for s in socks:
        s.settimeout(0.01)
        try:
            if s.recv(1) == b"":
                closed += 1
        except (ConnectionResetError, BrokenPipeError):
            closed += 1
        except OSError:
            pass
    close_all(socks)
    return f"opened={len(socks)} closed_by_server={closed} honest_ke_during={during}"


def silent_tls():
    socks = connect_many(50, tls=True)
    time.sleep(1.2)
    close_all(socks)
    return f"handshakes={len(socks)}"


def big():
    answered = 0
    worst = 0.0
    for _ in range(5):
        t0 = time.monotonic()
        try:
            raw = socket.create_connection((HOST, KE_PORT), timeout=3)
            s = tls_context().wrap_socket(raw, server_hostname="localhost")
            s.settimeout(3)
            try:
                s.sendall(struct.pack("!HH", 0x8001, 0xFFFF) + b"\0" * 0xFFFF)
            except OSError:
                pass  # the server closed on us mid-record: fine
            try:
                reply = s.recv(4096)
                if len(reply) >= 6 and struct.unpack("!H", reply[:2])[0] & 0x7FFF == 2:
                    answered += 1  # an Error record
            except OSError:
                pass
            s.close()
        except OSError:
            pass
        worst = max(worst, (time.monotonic() - t0) * 1000)
    return f"error_records={answered}/5 slowest_close_ms={worst:.0f}"


def flood():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(4096, hard), hard))
    t0 = time.monotonic()
    socks = []
    for _ in range(1000):
        try:
            s = socket.socket()
            s.setblocking(False)
            s.connect_ex((HOST, KE_PORT))
            socks.append(s)
        except OSError:
            break
    opened_ms = (time.monotonic() - t0) * 1000
    during = honest_ke_now()
    time.sleep(1.0)
    close_all(socks)
    return f"opened={len(socks)} in_ms={opened_ms:.0f} honest_ke_during={during}"


for name, attack in (("baseline", baseline), ("silent", silent), ("silent-tls", silent_tls), ("big", big),
                     ("flood", flood)):
    phase(name, attack)
