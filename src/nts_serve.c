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
	reply->cookies = 0;
	reply->max_len = len;
	keep_uid(fields, reply);
}

enum nts_serve_verdict nts_serve_authenticate(const struct nts_serve *nts, const uint8_t *pkt, size_t len,
					      const struct nts_ef_fields *fields, struct nts_serve_reply *reply)
{
	/* whatever the client encrypted for us: read for the check, then ignored */
	uint8_t plain[1024];
	size_t plain_len;
	struct nts_aead c2s;
	enum nts_ef_status status;

	memset(reply, 0, sizeof(*reply));
	if (!nts_cookie_open(nts->cookie_keys, fields->cookie, fields->cookie_len, &reply->c2s, &reply->s2c)) {
		nts_serve_nak_prepare(fields, len, reply);
		return NTS_SERVE_NAK;
	}
	if (!nts_aead_init(&c2s, &reply->c2s))
		return NTS_SERVE_AUTH_FAILED;
	status = nts_ef_decrypt(&c2s, pkt, fields, plain, sizeof(plain), &plain_len);
	nts_aead_deinit(&c2s);
	if (status != NTS_EF_OK)
		return NTS_SERVE_AUTH_FAILED;
	reply->active = true;
	reply->nts = nts;
	reply->max_len = len;
	reply->cookies = 1 + fields->placeholders;
	if (reply->cookies > NTS_KE_MAX_COOKIES)
		reply->cookies = NTS_KE_MAX_COOKIES;
	keep_uid(fields, reply);
	return NTS_SERVE_OK;
}

static size_t append_authenticated(struct nts_serve_reply *reply, uint8_t *pkt, size_t header_len)
{
	struct nts_cookie cookies[NTS_KE_MAX_COOKIES];
	uint8_t nonces[NTS_KE_MAX_COOKIES + 1][NTS_COOKIE_NONCE_LEN];
	struct nts_aead s2c;
	size_t made = 0, len = 0;

	/* only what is used: the generator's cost is per byte (7 % of the CPU
	 * per answer under bench/serve --nts when all nine were drawn) */
	reply->nts->random(nonces, (reply->cookies + 1) * NTS_COOKIE_NONCE_LEN);
	while (made < reply->cookies &&
	       nts_cookie_seal(reply->nts->cookie_keys, &reply->c2s, &reply->s2c, nonces[made + 1], &cookies[made]))
		made++;
	if (!nts_aead_init(&s2c, &reply->s2c))
		return 0;
	/* fewer cookies until the answer is no longer than the request */
	for (size_t n = made + 1; n-- > 0 && len == 0;)
		len = nts_ef_reply_append(&s2c, reply->uid, reply->uid_len, cookies, n, nonces[0], NTS_NONCE_LEN,
					  pkt, header_len, reply->max_len);
	nts_aead_deinit(&s2c);
	return len;
}

size_t nts_serve_append(struct nts_serve_reply *reply, bool nak, uint8_t *pkt, size_t header_len)
{
	size_t len;

	if (nak)
		len = nts_ef_append(pkt, header_len, reply->max_len, NTS_EF_UNIQUE_ID, reply->uid, reply->uid_len);
	else
		len = append_authenticated(reply, pkt, header_len);
	memset(&reply->c2s, 0, sizeof(reply->c2s));
	memset(&reply->s2c, 0, sizeof(reply->s2c));
	reply->active = false;
	return len;
}
