#!/usr/bin/env python3
"""An NMEA log for nmea_feed.py with times around now: per second an RMC (which
carries the date gpsd needs before it trusts a time), a GGA (fix quality
1, 8 satellites) and a GSA (a 3D fix), for SECONDS seconds from now + START.
    nmea_log.py START SECONDS > log.nmea"""
import sys
import time


def sentence(body):
    checksum = 0
    for ch in body:
        checksum ^= ord(ch)
    return "$%s*%02X\r\n" % (body, checksum)


def main():
    start = int(time.time()) + int(sys.argv[1])
    for k in range(int(sys.argv[2])):
        t = time.gmtime(start + k)
        hms = time.strftime("%H%M%S", t) + ".00"
        dmy = time.strftime("%d%m%y", t)
        sys.stdout.write(sentence("GPRMC,%s,A,4807.038,N,01131.000,E,000.0,000.0,%s,003.1,W" % (hms, dmy)))
        sys.stdout.write(sentence("GPGGA,%s,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,," % hms))
        sys.stdout.write(sentence("GPGSA,A,3,04,05,09,12,24,25,29,30,,,,,1.8,0.9,1.5"))


main()
