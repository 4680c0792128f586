#!/usr/bin/env python3
"""A UDP relay between an NTS client and a real NTS server (chronyd) that
plays the attacker the mode file asks for, read afresh for each request:

  pass      forward both ways untouched
  badauth   flip one bit of the reply's authenticator ciphertext
  replay    answer each request with the previous request's reply
  otheruid  the real reply with its Unique Identifier replaced
  nak       before the real reply, a forged NTS NAK (kiss code NTSN) with
            the request's origin but a random Unique Identifier: what an
            off-path attacker who guessed the origin could send

usage: nts_relay.py LISTEN_ADDR PORT UPSTREAM_ADDR UPSTREAM_PORT MODE_FILE
Runs until killed; prints one line per request to stdout."""
import os
import socket
import struct
import sys

listen_addr, port, up_addr, up_port, mode_file = sys.argv[1:6]
port, up_port = int(port), int(up_port)
UID, AUTH = 0x0104, 0x0404


def mode():
    try:
        with open(mode_file) as f:
            return f.read().strip()
    except OSError:
        return "pass"


def fields(pkt):
    """(type, offset of the field, length) for each extension field."""
    off = 48
    while off + 4 <= len(pkt):
        t, n = struct.unpack_from(">HH", pkt, off)
        if n < 4 or off + n > len(pkt):
            return
        yield t, off, n
        off += n


def with_field_changed(pkt, ftype, change):
    b = bytearray(pkt)
    for t, off, n in fields(pkt):
        if t == ftype:
            change(b, off, n)
    return bytes(b)


def flip_ciphertext(b, off, n):
    nonce_len, cipher_len = struct.unpack_from(">HH", b, off + 4)
    at = off + 8 + ((nonce_len + 3) & ~3) + cipher_len - 1
    b[at] ^= 0x01


def random_uid(b, off, n):
    b[off + 4:off + n] = os.urandom(n - 4)


def nak_for(request):
    header = bytearray(48)
    header[0] = (0 << 6) | (4 << 3) | 4    # leap 0, version 4, mode 4
    header[1] = 0                          # stratum 0: kiss-o'-death
    header[12:16] = b"NTSN"
    header[24:32] = request[40:48]         # origin = the request's transmit
    uid = os.urandom(32)
    return bytes(header) + struct.pack(">HH", UID, 36) + uid


s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((listen_addr, port))
up = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
up.settimeout(2)
previous = None
while True:
    request, client = s.recvfrom(4096)
    m = mode()
    up.sendto(request, (up_addr, up_port))
    try:
        reply = up.recv(4096)
    except socket.timeout:
        print("no reply from upstream", flush=True)
        continue
    if m == "badauth":
        out = [with_field_changed(reply, AUTH, flip_ciphertext)]
    elif m == "replay":
        out = [previous] if previous else []
    elif m == "otheruid":
        out = [with_field_changed(reply, UID, random_uid)]
    elif m == "nak":
        out = [nak_for(request), reply]
    else:
        out = [reply]
    previous = reply
    for pkt in out:
        s.sendto(pkt, client)
    print("%s: request %d bytes, sent %d datagram(s)" % (m, len(request), len(out)), flush=True)
