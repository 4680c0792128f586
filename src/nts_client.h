/* One NTS source's client state (RFC 8915 5-6), sans-I/O: the keys and
 * cookies a key exchange produced, the request's fields (a fresh unique
 * identifier and nonce each time, one cookie spent, placeholders asking for
 * enough new ones to keep NTS_CLIENT_COOKIES), the reply's check (identifier
 * echoed, authenticator verified, new cookies kept, a NAK believed only with
 * our identifier), and when a new key exchange is due, with backoff.
 *
 * Randomness: the identifiers and nonces come from ChaCha keyed with 32
 * bytes the edge draws from the system for each key exchange (nts_ke_result
 * seed), so this module needs no system call and is still unpredictable. */
#ifndef STRATA_NTS_CLIENT_H
#define STRATA_NTS_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "netaddr.h"
#include "nts_aead.h"
#include "nts_ef.h"
#include "nts_ke_records.h"

#define NTS_CLIENT_COOKIES 8
#define NTS_CLIENT_SEED_LEN 32
/* Key exchanges: the first at once; after a failure 16 s, doubling to about
 * an hour; never more often than every 16 s (a server that NAKs every
 * cookie cannot make us hammer its KE port). */
#define NTS_KE_RETRY_MIN 16.0
#define NTS_KE_RETRY_MAX 4096.0
/* A request's NTS fields at most: identifier, 8 cookie-sized fields of 256
 * bytes and the authenticator. */
#define NTS_REQUEST_MAX_EF (4 + NTS_UID_LEN + NTS_CLIENT_COOKIES * (4 + NTS_KE_MAX_COOKIE_LEN) + \
			    4 + 4 + NTS_NONCE_LEN + NTS_AEAD_TAG_LEN)

/* What a successful key exchange hands to the core (and nts_dumpdir keeps). */
struct nts_ke_result {
	struct nts_key c2s, s2c;
	struct nts_cookie cookies[NTS_CLIENT_COOKIES];
	size_t n_cookies;
	struct net_addr ntp_addr;          /* where to send NTP: negotiated, or the KE server's; with port */
	uint8_t seed[NTS_CLIENT_SEED_LEN]; /* fresh system randomness */
};

enum nts_reply {
	NTS_REPLY_OK = 0,       /* authentic, our identifier; cookies kept */
	NTS_REPLY_NAK,          /* a NAK with our identifier: keys and cookies dropped */
	NTS_REPLY_NO_KEYS,      /* nothing sent under keys we hold */
	NTS_REPLY_REJECTED,     /* see nts_client_rejection */
};

struct nts_client_status {
	bool have_keys;
	uint16_t aead;
	size_t cookies;
	size_t cookie_len;         /* of the next cookie, 0 without */
	unsigned ke_attempts;      /* key exchanges started */
	unsigned ke_failures;      /* in a row */
	bool have_last_ke;
	struct timespec last_ke;   /* the last successful one */
	uint64_t naks;
	uint64_t auth_ok;
	uint64_t auth_failed;
};

struct nts_client {
	bool have_keys;
	struct nts_key c2s_key, s2c_key;
	struct nts_aead c2s, s2c;
	struct nts_cookie cookies[NTS_CLIENT_COOKIES]; /* oldest first */
	size_t n_cookies;
	uint8_t random_key[NTS_CLIENT_SEED_LEN];
	uint64_t random_counter;
	bool outstanding;
	uint8_t uid[NTS_UID_LEN];          /* of the last request */
	struct nts_client_status status;
	struct timespec next_ke;
	char rejection[80];
};

void nts_client_init(struct nts_client *c);
void nts_client_deinit(struct nts_client *c);

/* A key exchange was started at now (counted, and the next one backed off). */
void nts_client_ke_started(struct nts_client *c, struct timespec now);
/* It failed: the next waits longer. */
void nts_client_ke_failed(struct nts_client *c, struct timespec now);
/* It succeeded: keys and cookies replace ours. False (keys kept unused)
 * when the AEAD cannot be set up. */
bool nts_client_ke_done(struct nts_client *c, const struct nts_ke_result *result, struct timespec now);

/* True when a key exchange should start now: no keys or no cookies, and
 * the backoff has passed. */
bool nts_client_wants_ke(const struct nts_client *c, struct timespec now);
/* Keys and at least one cookie: a request can go out. */
bool nts_client_ready(const struct nts_client *c);
/* When the next may start (with nts_client_wants_ke's other conditions). */
struct timespec nts_client_next_ke(const struct nts_client *c);

/* Appends the NTS fields to the 48-byte request header in pkt[0..len):
 * returns the new length, 0 when there are no keys or cookies. */
size_t nts_client_request(struct nts_client *c, uint8_t *pkt, size_t len, size_t cap);

/* Checks a reply. is_nak: the header is a kiss-o'-death NTSN. */
enum nts_reply nts_client_reply(struct nts_client *c, const uint8_t *pkt, size_t len, bool is_nak);
const char *nts_client_rejection(const struct nts_client *c);

void nts_client_get_status(const struct nts_client *c, struct nts_client_status *out);
/* What nts_dumpdir keeps: the keys and cookies (false without keys). The
 * address and seed are left to the caller. */
bool nts_client_export(const struct nts_client *c, struct nts_ke_result *out);

#endif
