/* NTP message authentication codes with symmetric keys (RFC 5905 7.3, RFC
 * 8573), computed by nettle. Pure: the key is an argument.
 *
 * The MAC follows the header (and any extension fields): the 4-byte key id,
 * then the digest of everything before it:
 *   MD5, SHA1, SHA224, SHA256, SHA384, SHA512: hash(key || packet), as ntpd
 *                              and chronyd;
 *   AES128, AES256:            AES-CMAC(key, packet) (RFC 4493), 16 bytes.
 * In NTPv4 a digest longer than 20 bytes is cut to its first 20, so a MAC is
 * never longer than 24 bytes and cannot be mistaken for an extension field
 * (RFC 7822): NTPsec's ntpd always sends and accepts 20; chronyd sends 20 in
 * NTPv4 and the whole digest in NTPv3; NTPsec's ntpdig sends the whole
 * digest in NTPv4. We accept them all and send 20. */
#ifndef STRATA_AUTH_MAC_H
#define STRATA_AUTH_MAC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth_keys.h"

#define AUTH_KEY_ID_LEN 4
#define AUTH_MAX_DIGEST_LEN 64
#define AUTH_V4_DIGEST_LEN 20
#define AUTH_MAX_MAC_LEN (AUTH_KEY_ID_LEN + AUTH_MAX_DIGEST_LEN)

/* The whole digest of the key's type: 16 (MD5, AES-CMAC), 20, 32 or 64. */
size_t auth_digest_len(enum auth_type type);

/* The digest length we send: the whole digest, cut to 20 bytes. */
size_t auth_send_digest_len(const struct auth_key *key);

/* Appends the key id and the first digest_len bytes of the digest of
 * packet[0..len) at packet + len (room for AUTH_KEY_ID_LEN + digest_len
 * bytes); returns the new length. */
size_t auth_mac_append(const struct auth_key *key, uint8_t *packet, size_t len, size_t digest_len);

/* True when digest (digest_len bytes, following the key id) is the MAC of
 * packet[0..len) under key: the whole digest, or its first 20 bytes. The
 * comparison takes the same time wherever the bytes differ. */
bool auth_mac_verify(const struct auth_key *key, const uint8_t *packet, size_t len, const uint8_t *digest,
		     size_t digest_len);

#endif
