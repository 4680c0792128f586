/* libFuzzer harness for the NTS server's parsers: what a stranger sends to
 * the NTS-KE port (after TLS) and NTS fields in NTP requests. The first
 * byte picks the target:
 *   0: the KE request (nts_ke_exchange_decide) as it arrives; a verdict
 *      other than "read more" must give a response that the shared
 *      decoder reads back, naming an AEAD we support when it has keys;
 *   1: the bytes as an NTP request through serve_request with NTS on
 *      (field parsing, cookie opening, the authenticator): an answer or a
 *      NAK is never longer than the request, a NAK carries its identifier;
 *   2: the bytes choose a client's keys, identifier, placeholders and
 *      header, from which a valid NTS request is built with a real cookie:
 *      it must be answered, the client's check must accept the answer with
 *      one cookie per cookie and placeholder sent, each opening to the
 *      client's keys, in an answer no longer than the request. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "acl.h"
#include "byteorder.h"
#include "nts_cookie.h"
#include "nts_ef.h"
#include "nts_ke_exchange.h"
#include "ratelimit.h"
#include "serve.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void counting_random(void *out, size_t len)
{
	static uint8_t next;

	for (size_t i = 0; i < len; i++)
		((uint8_t *)out)[i] = next++;
}

static struct nts_cookie_keys *cookie_keys(void)
{
	static struct nts_cookie_keys ck;
	static int ready;

	if (!ready) {
		struct nts_master_keys keys = { 0 };

		for (uint32_t i = 1; i <= 2; i++) {
			struct nts_master_key k = { .id = i };

			memset(k.key, (int)i, sizeof(k.key));
			nts_keys_rotate(&keys, &k, i);
		}
		if (!nts_cookie_keys_init(&ck, &keys))
			abort();
		ready = 1;
	}
	return &ck;
}

static void ke_request(const uint8_t *data, size_t size)
{
	static const struct nts_ke_exchange_config cfg = { "ntp.example.net", 123 };
	struct nts_cookie cookies[NTS_KE_EXCHANGE_COOKIES];
	static struct nts_ke_response back;
	uint8_t out[2048];
	uint16_t aead = 0, error = 0;
	enum nts_ke_verdict verdict = nts_ke_exchange_decide(data, size, size >= 1024, &aead,
							     &error);
	size_t len;

	if (verdict == NTS_KE_VERDICT_PARTIAL)
		return;
	if (verdict == NTS_KE_VERDICT_KEYS && nts_aead_key_len(aead) == 0)
		abort();
	for (size_t i = 0; i < NTS_KE_EXCHANGE_COOKIES; i++) {
		cookies[i].len = 104;
		memset(cookies[i].data, (int)i, cookies[i].len);
	}
	len = nts_ke_exchange_response(&cfg, verdict, aead, error, cookies, NTS_KE_EXCHANGE_COOKIES, out,
				       sizeof(out));
	if (len == 0 || nts_ke_response_decode(out, len, &back) != NTS_KE_OK)
		abort();
	if (verdict == NTS_KE_VERDICT_KEYS && (back.aead != aead || back.n_cookies != NTS_KE_EXCHANGE_COOKIES))
		abort();
	if (verdict == NTS_KE_VERDICT_ERROR && !back.has_error)
		abort();
}

static struct ratelimit *limiter(void)
{
	static struct ratelimit *rl;
	struct ratelimit_config cfg = { .interval = 0.0, .burst = 1, .table_size = 16 };

	if (!rl)
		rl = ratelimit_create(&cfg);
	if (!rl)
		abort();
	return rl;
}

static enum serve_outcome serve(const uint8_t *req, size_t len, struct serve_reply *reply)
{
	static const struct nts_serve nts_template = { NULL, counting_random };
	struct nts_serve nts = nts_template;
	struct serve_config cfg = { 0 };
	struct engine_system sys = { .leap = 0, .stratum = 2, .reference_time = { 1700000000, 0 } };
	struct serve_snapshot snap;
	struct acl acl;
	struct serve_request r = { .bytes = req, .len = len, .rx = { 1700000100, 0 }, .now = { 100, 0 },
				   .nts = &nts };

	nts.cookie_keys = cookie_keys();
	acl_from_config(&cfg, &acl);
	serve_snapshot_from_system(&sys, &snap);
	netaddr_parse("127.0.0.1", &r.peer);
	r.peer.port = 123;
	/* nts may go out of scope: the reply keeps no pointer to it */
	return serve_request(&acl, NULL, limiter(), &snap, &r, reply);
}

static void ntp_request(const uint8_t *data, size_t size)
{
	static struct serve_reply reply;
	struct nts_ef_fields f;
	enum serve_outcome outcome = serve(data, size, &reply);
	size_t len;

	if (outcome != SERVE_ANSWER && outcome != SERVE_NTS_NAK)
		return;
	serve_stamp_transmit(reply.bytes, (struct timespec){ 1700000100, 5 });
	len = serve_sign_reply(&reply);
	if (len > size)
		abort();
	if (outcome == SERVE_NTS_NAK &&
	    (nts_ef_parse(data, size, &f) != NTS_EF_OK || !nts_ef_has_uid(reply.bytes, len, f.uid, f.uid_len)))
		abort();
}

static void valid_request(const uint8_t *data, size_t size)
{
	static struct serve_reply reply;
	struct nts_key c2s = { .aead = NTS_AEAD_AES_SIV_CMAC_256, .len = 32 }, s2c = c2s, a, b;
	struct nts_cookie cookie, got[NTS_KE_MAX_COOKIES];
	uint8_t uid[NTS_UID_LEN], req[1024], nonce[NTS_NONCE_LEN] = { 1 };
	struct nts_aead aead;
	unsigned placeholders;
	size_t len, n = 0;

	if (size < 64 + NTS_UID_LEN + 1 + NTP_HEADER_LEN)
		return;
	memcpy(c2s.value, data, 32);
	memcpy(s2c.value, data + 32, 32);
	memcpy(uid, data + 64, NTS_UID_LEN);
	placeholders = data[64 + NTS_UID_LEN] % 8;
	memcpy(req, data + 64 + NTS_UID_LEN + 1, NTP_HEADER_LEN);
	req[0] = (uint8_t)((req[0] & 0xc0) | 4 << 3 | 3); /* a version 4 client request */
	if (load_be64(req + 40) == 0)
		req[40] = 1;
	if (!nts_cookie_seal(cookie_keys(), &c2s, &s2c, nonce, &cookie) || !nts_aead_init(&aead, &c2s))
		abort();
	len = nts_ef_request_append(&aead, uid, sizeof(uid), &cookie, placeholders, nonce, sizeof(nonce), req,
				    NTP_HEADER_LEN, sizeof(req));
	nts_aead_deinit(&aead);
	if (len == 0)
		abort();
	/* the rate limiter is off: a valid request is always answered */
	if (serve(req, len, &reply) != SERVE_ANSWER || !reply.nts.active)
		abort();
	serve_stamp_transmit(reply.bytes, (struct timespec){ 1700000100, 5 });
	size_t reply_len = serve_sign_reply(&reply);

	if (reply_len == 0 || reply_len > len || !nts_aead_init(&aead, &s2c))
		abort();
	if (nts_ef_reply_check(&aead, reply.bytes, reply_len, uid, sizeof(uid), got, NTS_KE_MAX_COOKIES, &n) !=
		    NTS_EF_OK || n != placeholders + 1u)
		abort();
	nts_aead_deinit(&aead);
	for (size_t i = 0; i < n; i++)
		if (!nts_cookie_open(cookie_keys(), got[i].data, got[i].len, &a, &b) || memcmp(&a.value, &c2s.value, 32) ||
		    memcmp(&b.value, &s2c.value, 32))
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	switch (data[0] % 3) {
	case 0:
		ke_request(data + 1, size - 1);
		break;
	case 1:
		ntp_request(data + 1, size - 1);
		break;
	default:
		valid_request(data + 1, size - 1);
		break;
	}
	return 0;
}
