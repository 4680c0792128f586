/* The NTS extension fields of NTP packets (RFC 8915 5): Unique Identifier,
 * NTS Cookie, Cookie Placeholder, and NTS Authenticator and Encrypted
 * Extension Fields; their layout in the client's request and the server's
 * reply, with RFC 7822's rules (a field is a 16-bit type, a 16-bit length
 * counting the whole field, a multiple of 4 and at least 16 bytes). Pure:
 * the keyed AEADs are arguments.
 *
 *   request: header | Unique Identifier | NTS Cookie | Placeholder x n |
 *            Authenticator (nothing encrypted)
 *   reply:   header | Unique Identifier (echoed) | Authenticator (encrypted:
 *            an NTS Cookie field per new cookie)
 * The authenticator covers everything before it as associated data. A NAK
 * is a kiss-o'-death "NTSN" with the Unique Identifier and no authenticator.
 * A field's body is its padded length, so a cookie survives the trip whole
 * when it is a multiple of 4 and at least 12 bytes long, as servers make them. */
#ifndef STRATA_NTS_EF_H
#define STRATA_NTS_EF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nts_aead.h"
#include "nts_ke_records.h"

#define NTS_EF_UNIQUE_ID 0x0104
#define NTS_EF_COOKIE 0x0204
#define NTS_EF_COOKIE_PLACEHOLDER 0x0304
#define NTS_EF_AUTHENTICATOR 0x0404

#define NTS_UID_LEN 32          /* we send 32; at least 32 accepted */
#define NTS_NONCE_LEN 16        /* we send 16; RFC 8915 5.6's minimum with padding */
#define NTS_EF_MIN_LEN 16       /* RFC 7822 */
#define NTS_KOD_NAK 0x4e54534eu /* "NTSN" */

/* The NTS fields of a packet as found, pointing into the packet. */
struct nts_ef_fields {
	const uint8_t *uid;
	size_t uid_len;
	const uint8_t *cookie;
	size_t cookie_len;
	unsigned placeholders;
	size_t placeholder_bytes; /* sum of the placeholders' body lengths */
	bool has_auth;
	size_t auth_offset;       /* the associated data: packet[0..auth_offset) */
	const uint8_t *nonce;
	size_t nonce_len;
	const uint8_t *ciphertext;
	size_t ciphertext_len;
	unsigned other_fields;    /* unknown fields before the authenticator */
};

enum nts_ef_status {
	NTS_EF_OK = 0,
	NTS_EF_BAD_FIELD_LENGTH,  /* a field shorter than its header, not a multiple of 4, or past the end */
	NTS_EF_SHORT_UID,         /* a Unique Identifier under 32 bytes */
	NTS_EF_DUPLICATE_FIELD,   /* two Unique Identifiers, cookies or authenticators */
	NTS_EF_NO_UID,
	NTS_EF_NO_COOKIE,
	NTS_EF_NO_AUTH,
	NTS_EF_BAD_AUTH_FIELD,    /* nonce or ciphertext lengths that do not fit or lack padding */
	NTS_EF_FIELD_AFTER_AUTH,  /* an unauthenticated field after the authenticator */
	NTS_EF_AUTH_FAILED,       /* the authenticator does not verify */
	NTS_EF_UID_MISMATCH,      /* not the Unique Identifier of our request */
	NTS_EF_BAD_ENCRYPTED,     /* the decrypted fields are malformed */
	NTS_EF_NO_SPACE,          /* encode: the buffer is too small */
};

const char *nts_ef_status_str(enum nts_ef_status status);

/* Appends a field of type with body[0..body_len), zero-padded to a multiple
 * of 4 and to NTS_EF_MIN_LEN, at pkt + len; returns the new length, or 0
 * when it does not fit in cap. */
size_t nts_ef_append(uint8_t *pkt, size_t len, size_t cap, uint16_t type, const uint8_t *body, size_t body_len);

/* Appends the authenticator over pkt[0..len) with plain[0..plain_len)
 * encrypted inside (nonce_len >= 1; we use NTS_NONCE_LEN); returns the new
 * length, or 0 when it does not fit or the AEAD fails. */
size_t nts_ef_append_auth(const struct nts_aead *key, const uint8_t *nonce, size_t nonce_len, const uint8_t *plain,
			  size_t plain_len, uint8_t *pkt, size_t len, size_t cap);

/* Appends a client's fields to the header in pkt[0..len): the identifier,
 * the cookie, placeholders for as many more cookies (each as long as the
 * cookie) and the authenticator under the client-to-server key. Returns the
 * new length or 0. */
size_t nts_ef_request_append(const struct nts_aead *c2s, const uint8_t *uid, size_t uid_len,
			     const struct nts_cookie *cookie, unsigned placeholders, const uint8_t *nonce,
			     size_t nonce_len, uint8_t *pkt, size_t len, size_t cap);

/* Appends a server's fields to the header in pkt[0..len): the echoed
 * identifier and the authenticator under the server-to-client key with the
 * cookies encrypted inside. Returns the new length or 0. */
size_t nts_ef_reply_append(const struct nts_aead *s2c, const uint8_t *uid, size_t uid_len,
			   const struct nts_cookie *cookies, size_t n_cookies, const uint8_t *nonce, size_t nonce_len,
			   uint8_t *pkt, size_t len, size_t cap);

/* Walks the extension fields after the 48-byte header of pkt[0..len) and
 * fills *f. Structure only: nothing is decrypted. */
enum nts_ef_status nts_ef_parse(const uint8_t *pkt, size_t len, struct nts_ef_fields *f);

/* Decrypts the authenticator that nts_ef_parse found into plain (room for
 * cap bytes); *plain_len receives the length. */
enum nts_ef_status nts_ef_decrypt(const struct nts_aead *key, const uint8_t *pkt, const struct nts_ef_fields *f,
				  uint8_t *plain, size_t cap, size_t *plain_len);

/* The client's check of a reply pkt[0..len) to the request that carried
 * uid: the identifier echoed, the authenticator verified under the
 * server-to-client key; the new cookies found inside are copied to
 * cookies[0..max) and counted in *n_cookies (those beyond max dropped). */
enum nts_ef_status nts_ef_reply_check(const struct nts_aead *s2c, const uint8_t *pkt, size_t len,
				      const uint8_t *uid, size_t uid_len, struct nts_cookie *cookies, size_t max,
				      size_t *n_cookies);

/* True when pkt[0..len) carries the Unique Identifier uid (used to believe
 * a NAK, which has no authenticator). */
bool nts_ef_has_uid(const uint8_t *pkt, size_t len, const uint8_t *uid, size_t uid_len);

#endif
