/* Reference identifiers (RFC 5905 7.3): an IPv4 address, the first four bytes
 * of the MD5 digest of an IPv6 address, or four ASCII characters (a reference
 * clock's name at stratum 1, a kiss code at stratum 0). */
#ifndef STRATA_REFID_H
#define STRATA_REFID_H

#include <stddef.h>
#include <stdint.h>

#include "netaddr.h"

/* Enough for "255.255.255.255" or a quoted kiss code. */
#define REFID_TEXT_LEN 16

uint32_t refid_from_addr(const struct net_addr *addr);
/* Up to four characters, padded with NULs: "LOCL", "GPS", "RATE". */
uint32_t refid_from_name(const char *name);
/* For strata 0 and 1 the ASCII name, otherwise the dotted quad. */
void refid_format(uint32_t refid, unsigned stratum, char buf[REFID_TEXT_LEN]);
/* The four characters of an ASCII refid, non-printables as '?', trailing NULs dropped. */
void refid_ascii(uint32_t refid, char out[5]);

#endif
