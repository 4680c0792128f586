/* MD5 (RFC 1321), needed only for the RFC 5905 reference id of an IPv6
 * system peer: the first four bytes of the digest of the address. */
#ifndef STRATA_MD5_H
#define STRATA_MD5_H

#include <stddef.h>
#include <stdint.h>

#define MD5_DIGEST_LEN 16

void md5_digest(const void *data, size_t len, uint8_t digest[MD5_DIGEST_LEN]);

#endif
