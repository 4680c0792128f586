/* The NTS part of answering an NTP request (RFC 8915 section 5): find the
 * fields, open the cookie with the master keys, verify the authenticator
 * with the client's key from inside it, and build the answer's fields:
 * the identifier echoed and fresh cookies encrypted under the
 * server-to-client key, as many as the request asked for (its cookie and
 * placeholders) and fit in the request's length, so the answer is never
 * larger than the request. A cookie we cannot open gets an NTS NAK (a
 * kiss-o'-death "NTSN" with the identifier, RFC 8915 section 5.7).
 * Pure: the keyed master keys and a source of nonces are arguments. */
#ifndef STRATA_NTS_SERVE_H
#define STRATA_NTS_SERVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nts_aead.h"
#include "nts_cookie.h"
#include "nts_ef.h"

/* What a serving thread hands the answer builder. */
struct nts_serve {
	const struct nts_cookie_keys *cookie_keys;
	/* fills out with unpredictable bytes (the nonces); a test passes its own */
	void (*random)(void *out, size_t len);
};

enum nts_serve_form {
	NTS_SERVE_PLAIN = 0,         /* no NTS fields: a plain request */
	NTS_SERVE_REQUEST,           /* an identifier, a cookie and an authenticator */
	NTS_SERVE_MALFORMED,         /* NTS fields that do not make a request */
};

enum nts_serve_verdict {
	NTS_SERVE_OK = 0,            /* authenticated: answer with nts_serve_append */
	NTS_SERVE_NAK,               /* the cookie cannot be opened: answer with a NAK */
	NTS_SERVE_AUTH_FAILED,       /* the cookie opened, the authenticator is wrong: silence */
};

/* What the answer needs once its header is stamped: everything that does
 * not depend on the header is done before it (the cookies sealed, the key
 * expanded), so that only the authenticator's encryption lies between the
 * reading of T3 and the send. */
struct nts_serve_reply {
	bool active;                 /* an NTS answer or NAK */
	struct nts_aead s2c;         /* the answer's key (unset for a NAK) */
	struct nts_cookie cookies[NTS_KE_MAX_COOKIES];
	unsigned cookies_made;       /* as many as the request asked for: its cookie and placeholders */
	uint8_t nonce[NTS_NONCE_LEN];
	uint8_t uid[NTS_KE_MAX_COOKIE_LEN];
	size_t uid_len;
	size_t max_len;              /* the request's length */
};

/* Structure only, cheap: run before the rate limiter. */
enum nts_serve_form nts_serve_parse(const uint8_t *pkt, size_t len, struct nts_ef_fields *fields);

/* The costly part, after the rate limiter: opens the cookie, verifies the
 * authenticator, and fills *reply, new cookies sealed. */
enum nts_serve_verdict nts_serve_authenticate(const struct nts_serve *nts, const uint8_t *pkt, size_t len,
					      const struct nts_ef_fields *fields, struct nts_serve_reply *reply);

/* The NAK's fields for a request whose cookie failed (reply filled by
 * nts_serve_nak_prepare): the identifier after the header. */
void nts_serve_nak_prepare(const struct nts_ef_fields *fields, size_t len, struct nts_serve_reply *reply);

/* Appends the answer's fields to the stamped header in pkt[0..header_len)
 * (an authenticated answer: identifier, authenticator with new cookies; a
 * NAK: the identifier). Returns the length to send, never more than the
 * request's; 0 when not even the cookie-less answer fits (drop it). */
size_t nts_serve_append(struct nts_serve_reply *reply, bool nak, uint8_t *pkt, size_t header_len);

#endif
