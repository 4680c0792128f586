#include "nts_serve.h"

#include <string.h>

#include "packet.h"

enum nts_serve_form nts_serve_parse(const uint8_t *pkt, size_t len, struct nts_ef_fields *fields)
{
	enum nts_ef_status status = nts_ef_parse(pkt, len, fields);

	if (status != NTS_EF_OK)
		/* an unknown field chain is a plain request's business; a broken NTS one is not */
		return fields->uid || fields->cookie || fields->has_auth || status == NTS_EF_SHORT_UID ||
				       status == NTS_EF_DUPLICATE_FIELD || status == NTS_EF_BAD_AUTH_FIELD ||
				       status == NTS_EF_FIELD_AFTER_AUTH
			       ? NTS_SERVE_MALFORMED
			       : NTS_SERVE_PLAIN;
	if (!fields->uid && !fields->cookie && !fields->has_auth)
		return NTS_SERVE_PLAIN;
	if (!fields->uid || !fields->cookie || !fields->has_auth || fields->uid_len > NTS_KE_MAX_COOKIE_LEN)
		return NTS_SERVE_MALFORMED;
	return NTS_SERVE_REQUEST;
}

static void keep_uid(const struct nts_ef_fields *fields, struct nts_serve_reply *reply)
{
	memcpy(reply->uid, fields->uid, fields->uid_len);
	reply->uid_len = fields->uid_len;
}

void nts_serve_nak_prepare(const struct nts_ef_fields *fields, size_t len, struct nts_serve_reply *reply)
{
	reply->active = true;
	reply->max_len = len;
	keep_uid(fields, reply);
}

/* The new cookies carry the request's keys; the nonces, the answer's among
 * them, come from one call: the generator's cost is per byte (7 % of the CPU
 * per answer under bench/serve --nts when all nine were drawn). */
static bool prepare_answer(const struct nts_serve *nts, const struct nts_key *c2s, const struct nts_key *s2c,
			   unsigned wanted, struct nts_serve_reply *reply)
{
	uint8_t nonces[NTS_KE_MAX_COOKIES + 1][NTS_COOKIE_NONCE_LEN];

	_Static_assert(NTS_COOKIE_NONCE_LEN == NTS_NONCE_LEN, "one draw serves the cookies and the answer");
	nts->random(nonces, (wanted + 1) * NTS_COOKIE_NONCE_LEN);
	memcpy(reply->nonce, nonces[0], NTS_NONCE_LEN);
	while (reply->cookies_made < wanted &&
	       nts_cookie_seal(nts->cookie_keys, c2s, s2c, nonces[reply->cookies_made + 1],
			       &reply->cookies[reply->cookies_made]))
		reply->cookies_made++;
	return nts_aead_init(&reply->s2c, s2c);
}

enum nts_serve_verdict nts_serve_authenticate(const struct nts_serve *nts, const uint8_t *pkt, size_t len,
					      const struct nts_ef_fields *fields, struct nts_serve_reply *reply)
{
	/* whatever the client encrypted for us: read for the check, then ignored */
	uint8_t plain[1024];
	size_t plain_len;
	struct nts_key c2s_key, s2c_key;
	struct nts_aead c2s;
	unsigned wanted = 1 + fields->placeholders;
	bool prepared;

	/* not a memset: the room for eight cookies is most of the reply */
	reply->active = false;
	reply->cookies_made = 0;
	reply->s2c.aead = 0; /* nothing keyed: nts_aead_deinit leaves it */
	if (!nts_cookie_open(nts->cookie_keys, fields->cookie, fields->cookie_len, &c2s_key, &s2c_key)) {
		nts_serve_nak_prepare(fields, len, reply);
		return NTS_SERVE_NAK;
	}
	/* a request that encrypts nothing needs only the tag checked */
	prepared = (fields->ciphertext_len == NTS_AEAD_TAG_LEN ? nts_aead_init_tag_only(&c2s, &c2s_key)
							      : nts_aead_init(&c2s, &c2s_key)) &&
		   nts_ef_decrypt(&c2s, pkt, fields, plain, sizeof(plain), &plain_len) == NTS_EF_OK &&
		   prepare_answer(nts, &c2s_key, &s2c_key, wanted < NTS_KE_MAX_COOKIES ? wanted : NTS_KE_MAX_COOKIES,
				  reply);
	nts_aead_deinit(&c2s);
	explicit_bzero(&c2s_key, sizeof(c2s_key));
	explicit_bzero(&s2c_key, sizeof(s2c_key));
	if (!prepared) {
		nts_aead_deinit(&reply->s2c);
		return NTS_SERVE_AUTH_FAILED;
	}
	reply->active = true;
	reply->max_len = len;
	keep_uid(fields, reply);
	return NTS_SERVE_OK;
}

static size_t append_authenticated(const struct nts_serve_reply *reply, uint8_t *pkt, size_t header_len)
{
	size_t len = 0;

	/* fewer cookies until the answer is no longer than the request */
	for (size_t n = reply->cookies_made + 1; n-- > 0 && len == 0;)
		len = nts_ef_reply_append(&reply->s2c, reply->uid, reply->uid_len, reply->cookies, n, reply->nonce,
					  NTS_NONCE_LEN, pkt, header_len, reply->max_len);
	return len;
}

size_t nts_serve_append(struct nts_serve_reply *reply, bool nak, uint8_t *pkt, size_t header_len)
{
	size_t len;

	if (nak)
		len = nts_ef_append(pkt, header_len, reply->max_len, NTS_EF_UNIQUE_ID, reply->uid, reply->uid_len);
	else
		len = append_authenticated(reply, pkt, header_len);
	nts_aead_deinit(&reply->s2c);
	reply->active = false;
	return len;
}
