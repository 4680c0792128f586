#include "nts_client.h"

#include <nettle/chacha.h>
#include <stdio.h>
#include <string.h>

#include "byteorder.h"
#include "ntp_time.h"

void nts_client_init(struct nts_client *c)
{
	memset(c, 0, sizeof(*c));
}

static void drop_keys(struct nts_client *c)
{
	if (c->have_keys) {
		nts_aead_deinit(&c->c2s);
		nts_aead_deinit(&c->s2c);
	}
	c->have_keys = false;
	c->n_cookies = 0;
	c->outstanding = false;
}

void nts_client_deinit(struct nts_client *c)
{
	drop_keys(c);
	memset(c, 0, sizeof(*c));
}

static double backoff(unsigned failures)
{
	double interval = NTS_KE_RETRY_MIN;

	for (unsigned i = 1; i < failures && interval < NTS_KE_RETRY_MAX; i++)
		interval *= 2;
	return interval < NTS_KE_RETRY_MAX ? interval : NTS_KE_RETRY_MAX;
}

void nts_client_ke_started(struct nts_client *c, struct timespec now)
{
	c->status.ke_attempts++;
	c->next_ke = timespec_add(now, NTS_KE_RETRY_MIN);
}

void nts_client_ke_failed(struct nts_client *c, struct timespec now)
{
	c->status.ke_failures++;
	c->next_ke = timespec_add(now, backoff(c->status.ke_failures));
}

bool nts_client_ke_done(struct nts_client *c, const struct nts_ke_result *result, struct timespec now)
{
	drop_keys(c);
	if (!nts_aead_init(&c->c2s, &result->c2s))
		return false;
	if (!nts_aead_init(&c->s2c, &result->s2c)) {
		nts_aead_deinit(&c->c2s);
		return false;
	}
	c->have_keys = true;
	c->c2s_key = result->c2s;
	c->s2c_key = result->s2c;
	c->n_cookies = result->n_cookies < NTS_CLIENT_COOKIES ? result->n_cookies : NTS_CLIENT_COOKIES;
	memcpy(c->cookies, result->cookies, c->n_cookies * sizeof(c->cookies[0]));
	memcpy(c->random_key, result->seed, sizeof(c->random_key));
	c->random_counter = 0;
	c->status.ke_failures = 0;
	c->status.have_last_ke = true;
	c->status.last_ke = now;
	return true;
}

bool nts_client_wants_ke(const struct nts_client *c, struct timespec now)
{
	return (!c->have_keys || c->n_cookies == 0) && timespec_diff(now, c->next_ke) >= 0;
}

bool nts_client_ready(const struct nts_client *c)
{
	return c->have_keys && c->n_cookies > 0;
}

struct timespec nts_client_next_ke(const struct nts_client *c)
{
	return c->next_ke;
}

/* One ChaCha block of the keystream: a fresh identifier and nonce. */
static void random_block(struct nts_client *c, uint8_t out[CHACHA_BLOCK_SIZE])
{
	static const uint8_t zeros[CHACHA_BLOCK_SIZE];
	struct chacha_ctx ctx;
	uint8_t nonce[CHACHA_NONCE_SIZE];

	store_be64(nonce, c->random_counter++);
	chacha_set_key(&ctx, c->random_key);
	chacha_set_nonce(&ctx, nonce);
	chacha_crypt(&ctx, sizeof(zeros), out, zeros);
}

size_t nts_client_request(struct nts_client *c, uint8_t *pkt, size_t len, size_t cap)
{
	uint8_t random[CHACHA_BLOCK_SIZE];
	struct nts_cookie cookie;
	/* ask for enough to have NTS_CLIENT_COOKIES again: the cookie sent
	 * brings one back, each placeholder one more */
	unsigned placeholders;
	size_t out;

	if (!c->have_keys || c->n_cookies == 0)
		return 0;
	placeholders = (unsigned)(NTS_CLIENT_COOKIES - c->n_cookies);
	cookie = c->cookies[0];
	memmove(c->cookies, c->cookies + 1, (c->n_cookies - 1) * sizeof(c->cookies[0]));
	c->n_cookies--;
	random_block(c, random);
	memcpy(c->uid, random, NTS_UID_LEN);
	out = nts_ef_request_append(&c->c2s, c->uid, NTS_UID_LEN, &cookie, placeholders, random + NTS_UID_LEN,
				    NTS_NONCE_LEN, pkt, len, cap);
	c->outstanding = out != 0;
	return out;
}

static enum nts_reply reject(struct nts_client *c, const char *why)
{
	snprintf(c->rejection, sizeof(c->rejection), "NTS: %s", why);
	return NTS_REPLY_REJECTED;
}

enum nts_reply nts_client_reply(struct nts_client *c, const uint8_t *pkt, size_t len, bool is_nak)
{
	struct nts_cookie fresh[NTS_CLIENT_COOKIES];
	size_t n, room;
	enum nts_ef_status status;

	c->rejection[0] = '\0';
	if (!c->have_keys)
		return NTS_REPLY_NO_KEYS;
	if (is_nak) {
		/* unauthenticated by nature: only our identifier makes it ours */
		if (!c->outstanding || !nts_ef_has_uid(pkt, len, c->uid, NTS_UID_LEN))
			return reject(c, "NAK without the unique identifier of our request");
		c->status.naks++;
		drop_keys(c);
		snprintf(c->rejection, sizeof(c->rejection), "NTS: NAK, the server refused our cookie");
		return NTS_REPLY_NAK;
	}
	room = NTS_CLIENT_COOKIES - c->n_cookies;
	status = nts_ef_reply_check(&c->s2c, pkt, len, c->uid, NTS_UID_LEN, fresh, room, &n);
	if (status != NTS_EF_OK) {
		c->status.auth_failed++;
		return reject(c, nts_ef_status_str(status));
	}
	c->status.auth_ok++;
	if (c->outstanding) {
		/* a duplicate authenticates too: its cookies are not new */
		memcpy(c->cookies + c->n_cookies, fresh, n * sizeof(fresh[0]));
		c->n_cookies += n;
	}
	c->outstanding = false;
	return NTS_REPLY_OK;
}

const char *nts_client_rejection(const struct nts_client *c)
{
	return c->rejection;
}

void nts_client_get_status(const struct nts_client *c, struct nts_client_status *out)
{
	*out = c->status;
	out->have_keys = c->have_keys;
	out->aead = c->have_keys ? c->c2s_key.aead : 0;
	out->cookies = c->have_keys ? c->n_cookies : 0;
	out->cookie_len = c->have_keys && c->n_cookies ? c->cookies[0].len : 0;
}

bool nts_client_export(const struct nts_client *c, struct nts_ke_result *out)
{
	if (!c->have_keys)
		return false;
	memset(out, 0, sizeof(*out));
	out->c2s = c->c2s_key;
	out->s2c = c->s2c_key;
	out->n_cookies = c->n_cookies;
	memcpy(out->cookies, c->cookies, c->n_cookies * sizeof(c->cookies[0]));
	return true;
}
