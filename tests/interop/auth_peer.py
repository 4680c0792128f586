#!/usr/bin/python3
"""NTP MACs computed independently of strata (hashlib, python3-cryptography)
for tests/interop/stratad_auth.sh.

  auth_peer.py probe HOST TYPE KEYID KEYHEX
      Signed requests to an NTP server: a good one must be answered with a
      valid MAC under the same key and as long as the request; a flipped
      digest bit, an unknown key id, a wrong key and a cut digest must get no
      answer. Prints one "ok:"/"FAIL:" line per case.
  auth_peer.py relay LISTEN_HOST TARGET_HOST TYPE KEYID
      Port 123 to port 123: passes requests on, and spoils every reply in
      turn (flipped digest bit, cut digest, other key id, MAC under a wrong
      key, no MAC) before handing it back. Runs until killed.
TYPE is MD5, SHA1 or AES128 (AES-CMAC)."""
import hashlib
import os
import socket
import struct
import sys
import time

from cryptography.hazmat.primitives.ciphers import algorithms
from cryptography.hazmat.primitives.cmac import CMAC

NTP_EPOCH = 2208988800


def digest(kind, key, data):
    if kind == "AES128":
        c = CMAC(algorithms.AES(key))
        c.update(data)
        return c.finalize()
    return hashlib.new(kind.lower(), key + data).digest()[:20]


def mac(kind, keyid, key, data):
    return struct.pack("!I", keyid) + digest(kind, key, data)


def request():
    now = time.time() + NTP_EPOCH
    return struct.pack("!B3x36xII", (4 << 3) | 3, int(now), int((now % 1) * 2**32) | 1)


def ask(host, data, timeout=1.0):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(timeout)
    s.sendto(data, (host, 123))
    try:
        return s.recv(1024)
    except socket.timeout:
        return None
    finally:
        s.close()


def probe(host, kind, keyid, key):
    failed = 0

    def say(good, what):
        nonlocal failed
        failed += not good
        print(("ok: " if good else "FAIL: ") + what)

    req = request()
    signed = req + mac(kind, keyid, key, req)
    reply = ask(host, signed)
    say(reply is not None, "%s request with key %d answered" % (kind, keyid))
    if reply is not None:
        say(len(reply) == len(signed), "reply as long as the request (%d bytes)" % len(reply))
        say(reply[48:52] == struct.pack("!I", keyid) and reply[52:] == digest(kind, key, reply[:48]),
            "reply MAC valid under key %d (independent %s)" % (keyid, kind))
        say(reply[24:32] == req[40:48], "reply echoes our transmit time")
    flipped = bytearray(signed)
    flipped[-1] ^= 1
    say(ask(host, bytes(flipped)) is None, "flipped MAC bit: no answer")
    other = req + mac(kind, keyid + 100, key, req)
    say(ask(host, other) is None, "unknown key id %d: no answer" % (keyid + 100))
    wrong = req + mac(kind, keyid, bytes(b ^ 0x55 for b in key), req)
    say(ask(host, wrong) is None, "wrong key: no answer")
    say(ask(host, signed[:-8]) is None, "MAC cut by 8 bytes: no answer")
    return failed


def relay(listen, target, kind, keyid):
    srv = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    srv.bind((listen, 123))
    n = 0
    while True:
        data, client = srv.recvfrom(1024)
        up = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        up.settimeout(1.0)
        up.sendto(data, (target, 123))
        try:
            reply = bytearray(up.recv(1024))
        except socket.timeout:
            continue
        finally:
            up.close()
        way = n % 5
        n += 1
        if way == 0:
            reply[-1] ^= 0x10
        elif way == 1:
            reply = reply[:-4]
        elif way == 2:
            reply[48:52] = struct.pack("!I", keyid + 1)
        elif way == 3:
            reply[48:] = mac(kind, keyid, os.urandom(16), bytes(reply[:48]))
        else:
            reply = reply[:48]
        srv.sendto(bytes(reply), client)


if __name__ == "__main__":
    if sys.argv[1] == "probe":
        sys.exit(1 if probe(sys.argv[2], sys.argv[3], int(sys.argv[4]), bytes.fromhex(sys.argv[5])) else 0)
    relay(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
