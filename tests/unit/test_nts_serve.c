/* The server side of NTS: cookies (round trip, previous keys, tampering)
 * and NTS requests through serve_request: authenticated answers with new
 * cookies never larger than the request, NAKs for cookies that cannot be
 * opened, silence for a wrong authenticator, the rate limiter first. The
 * client side of each exchange is the shared codec's (nts_ef.h); chronyd
 * against stratad (tests/serve/nts_chrony.sh) is the independent check. */
#include "cmocka_all.h"

#include <string.h>

#include "byteorder.h"
#include "nts_cookie.h"
#include "nts_ef.h"
#include "nts_serve.h"
#include "refid.h"
#include "serve.h"

static const struct timespec RX = { 1700000100, 250000000 };

static void counting_random(void *out, size_t len)
{
	static uint8_t next;

	for (size_t i = 0; i < len; i++)
		((uint8_t *)out)[i] = next++;
}

static struct nts_master_keys master(unsigned n)
{
	struct nts_master_keys keys = { 0 };

	for (unsigned i = 1; i <= n; i++) {
		struct nts_master_key k = { .id = 100 + i };

		memset(k.key, (int)i, sizeof(k.key));
		nts_keys_rotate(&keys, &k, i);
	}
	return keys;
}

static void client_keys(struct nts_key *c2s, struct nts_key *s2c)
{
	c2s->aead = s2c->aead = NTS_AEAD_AES_SIV_CMAC_256;
	c2s->len = s2c->len = 32;
	for (int i = 0; i < 32; i++) {
		c2s->value[i] = (uint8_t)i;
		s2c->value[i] = (uint8_t)(0x80 + i);
	}
}

static void assert_same_key(const struct nts_key *a, const struct nts_key *b)
{
	assert_int_equal(a->aead, b->aead);
	assert_int_equal(a->len, b->len);
	assert_memory_equal(a->value, b->value, a->len);
}

static void cookie_round_trip(void **state)
{
	struct nts_master_keys keys = master(1);
	struct nts_cookie_keys ck;
	struct nts_key c2s, s2c, c2s_back, s2c_back;
	uint8_t nonce[NTS_COOKIE_NONCE_LEN] = { 1, 2, 3 };
	struct nts_cookie cookie;

	(void)state;
	client_keys(&c2s, &s2c);
	assert_true(nts_cookie_keys_init(&ck, &keys));
	assert_true(nts_cookie_seal(&ck, &c2s, &s2c, nonce, &cookie));
	assert_int_equal(cookie.len, 104);
	assert_int_equal(load_be32(cookie.data), 101);
	assert_true(nts_cookie_open(&ck, cookie.data, cookie.len, &c2s_back, &s2c_back));
	assert_same_key(&c2s_back, &c2s);
	assert_same_key(&s2c_back, &s2c);
	/* not a pair of the same algorithm: refused */
	s2c.aead = NTS_AEAD_AES_SIV_CMAC_512;
	assert_false(nts_cookie_seal(&ck, &c2s, &s2c, nonce, &cookie));
	nts_cookie_keys_deinit(&ck);
}

static void previous_keys_open_until_they_go(void **state)
{
	struct nts_master_keys keys = master(1);
	struct nts_cookie_keys ck;
	struct nts_key c2s, s2c, a, b;
	uint8_t nonce[NTS_COOKIE_NONCE_LEN] = { 9 };
	struct nts_cookie cookie;

	(void)state;
	client_keys(&c2s, &s2c);
	assert_true(nts_cookie_keys_init(&ck, &keys));
	assert_true(nts_cookie_seal(&ck, &c2s, &s2c, nonce, &cookie));
	nts_cookie_keys_deinit(&ck);
	for (unsigned rotations = 1; rotations <= 3; rotations++) {
		struct nts_master_key k = { .id = 200 + rotations };

		memset(k.key, 0x40 + (int)rotations, sizeof(k.key));
		nts_keys_rotate(&keys, &k, 10 + rotations);
		assert_true(nts_cookie_keys_init(&ck, &keys));
		/* held for two rotations, gone at the third */
		assert_int_equal(nts_cookie_open(&ck, cookie.data, cookie.len, &a, &b), rotations < 3);
		nts_cookie_keys_deinit(&ck);
	}
}

static void altered_cookies_do_not_open(void **state)
{
	struct nts_master_keys keys = master(2);
	struct nts_cookie_keys ck;
	struct nts_key c2s, s2c, a, b;
	uint8_t nonce[NTS_COOKIE_NONCE_LEN] = { 7 };
	struct nts_cookie cookie;

	(void)state;
	client_keys(&c2s, &s2c);
	assert_true(nts_cookie_keys_init(&ck, &keys));
	assert_true(nts_cookie_seal(&ck, &c2s, &s2c, nonce, &cookie));
	for (size_t i = 0; i < cookie.len; i++) {
		for (int bit = 0; bit < 8; bit += 3) {
			cookie.data[i] ^= (uint8_t)(1 << bit);
			assert_false(nts_cookie_open(&ck, cookie.data, cookie.len, &a, &b));
			cookie.data[i] ^= (uint8_t)(1 << bit);
		}
	}
	assert_false(nts_cookie_open(&ck, cookie.data, cookie.len - 4, &a, &b));
	assert_false(nts_cookie_open(&ck, cookie.data, 3, &a, &b));
	assert_true(nts_cookie_open(&ck, cookie.data, cookie.len, &a, &b));
	nts_cookie_keys_deinit(&ck);
}

/* The server's world for serve_request. */
struct world {
	struct nts_cookie_keys ck;
	struct nts_serve nts;
	struct acl acl;
	struct ratelimit *rl;
	struct serve_snapshot snap;
	struct nts_key c2s, s2c;
	struct nts_cookie cookie;
	uint8_t uid[NTS_UID_LEN];
	uint8_t req[1024];
	size_t req_len;
	struct serve_request request;
	struct serve_reply reply;
};

static void world_init(struct world *w, unsigned burst)
{
	struct nts_master_keys keys = master(1);
	struct serve_config cfg = { 0 };
	struct ratelimit_config rl_cfg = { .interval = 1.0, .burst = burst, .kod = false, .table_size = 16 };
	struct engine_system sys = { .leap = NTP_LEAP_NONE, .stratum = 2, .precision = -20,
				     .reference_time = { 1700000000, 0 } };
	uint8_t nonce[NTS_COOKIE_NONCE_LEN] = { 5 };

	memset(w, 0, sizeof(*w));
	assert_true(nts_cookie_keys_init(&w->ck, &keys));
	w->nts = (struct nts_serve){ &w->ck, counting_random };
	acl_from_config(&cfg, &w->acl);
	w->rl = ratelimit_create(&rl_cfg);
	assert_non_null(w->rl);
	serve_snapshot_from_system(&sys, &w->snap);
	client_keys(&w->c2s, &w->s2c);
	assert_true(nts_cookie_seal(&w->ck, &w->c2s, &w->s2c, nonce, &w->cookie));
	memset(w->uid, 0xab, sizeof(w->uid));
}

static void world_fini(struct world *w)
{
	ratelimit_destroy(w->rl);
	nts_cookie_keys_deinit(&w->ck);
}

/* A client's request with the cookie and placeholders, under key c2s. */
static void make_nts_request(struct world *w, unsigned placeholders, const struct nts_key *c2s)
{
	struct nts_aead aead;
	uint8_t nonce[NTS_NONCE_LEN] = { 3 };

	memset(w->req, 0, NTP_HEADER_LEN);
	w->req[0] = 4 << 3 | NTP_MODE_CLIENT;
	store_be64(w->req + 40, 0xe8f1a2b3c4d5e6f7ULL);
	assert_true(nts_aead_init(&aead, c2s));
	w->req_len = nts_ef_request_append(&aead, w->uid, sizeof(w->uid), &w->cookie, placeholders, nonce,
					   sizeof(nonce), w->req, NTP_HEADER_LEN, sizeof(w->req));
	nts_aead_deinit(&aead);
	assert_true(w->req_len > NTP_HEADER_LEN);
	w->request = (struct serve_request){ .bytes = w->req, .len = w->req_len, .rx = RX, .now = { 100, 0 },
					     .nts = &w->nts };
	assert_true(netaddr_parse("127.0.0.1", &w->request.peer));
	w->request.peer.port = 123;
}

static void authenticated_answers_carry_new_cookies(void **state)
{
	struct world w;

	(void)state;
	world_init(&w, 100);
	for (unsigned placeholders = 0; placeholders <= 7; placeholders++) {
		struct nts_cookie cookies[NTS_KE_MAX_COOKIES];
		struct nts_aead s2c;
		struct nts_key a, b;
		size_t n = 0, len;

		make_nts_request(&w, placeholders, &w.c2s);
		assert_int_equal(serve_request(&w.acl, NULL, w.rl, &w.snap, &w.request, &w.reply), SERVE_ANSWER);
		serve_stamp_transmit(w.reply.bytes, RX);
		len = serve_sign_reply(&w.reply);
		assert_true(len > NTP_HEADER_LEN);
		assert_true(len <= w.req_len); /* never larger than the request */
		assert_true(nts_aead_init(&s2c, &w.s2c));
		assert_int_equal(nts_ef_reply_check(&s2c, w.reply.bytes, len, w.uid, sizeof(w.uid), cookies,
						    NTS_KE_MAX_COOKIES, &n), NTS_EF_OK);
		nts_aead_deinit(&s2c);
		/* one for the cookie used and one per placeholder */
		assert_int_equal(n, placeholders + 1);
		assert_true(nts_cookie_open(&w.ck, cookies[n - 1].data, cookies[n - 1].len, &a, &b));
		assert_same_key(&a, &w.c2s);
		assert_same_key(&b, &w.s2c);
		/* a new cookie is not the old one */
		assert_memory_not_equal(cookies[0].data, w.cookie.data, w.cookie.len);
	}
	world_fini(&w);
}

static void drawing_after_t3(void *out, size_t len)
{
	(void)out;
	(void)len;
	fail_msg("nonces drawn after the answer's T3 was read");
}

/* Between the reading of T3 and the send only the authenticator is made:
 * the nonces are drawn and the cookies sealed when the request is checked. */
static void cookies_are_sealed_before_the_header_is_stamped(void **state)
{
	struct world w;
	struct nts_cookie cookies[NTS_KE_MAX_COOKIES];
	struct nts_aead s2c;
	struct nts_key a, b;
	size_t n = 0, len;

	(void)state;
	world_init(&w, 100);
	make_nts_request(&w, 2, &w.c2s);
	assert_int_equal(serve_request(&w.acl, NULL, w.rl, &w.snap, &w.request, &w.reply), SERVE_ANSWER);
	w.nts.random = drawing_after_t3;
	w.nts.cookie_keys = NULL;
	serve_stamp_transmit(w.reply.bytes, RX);
	len = serve_sign_reply(&w.reply);
	assert_true(len > NTP_HEADER_LEN);
	assert_true(nts_aead_init(&s2c, &w.s2c));
	assert_int_equal(nts_ef_reply_check(&s2c, w.reply.bytes, len, w.uid, sizeof(w.uid), cookies,
					    NTS_KE_MAX_COOKIES, &n), NTS_EF_OK);
	nts_aead_deinit(&s2c);
	assert_int_equal(n, 3);
	assert_true(nts_cookie_open(&w.ck, cookies[2].data, cookies[2].len, &a, &b));
	assert_same_key(&a, &w.c2s);
	world_fini(&w);
}

static void a_cookie_that_does_not_open_gets_a_nak(void **state)
{
	struct world w;
	struct ntp_packet kod;
	size_t len;

	(void)state;
	world_init(&w, 100);
	w.cookie.data[30] ^= 1;
	make_nts_request(&w, 1, &w.c2s);
	assert_int_equal(serve_request(&w.acl, NULL, w.rl, &w.snap, &w.request, &w.reply), SERVE_NTS_NAK);
	len = serve_sign_reply(&w.reply);
	assert_int_equal(len, NTP_HEADER_LEN + 4 + NTS_UID_LEN);
	assert_true(len <= w.req_len);
	assert_int_equal(packet_decode(w.reply.bytes, len, &kod, NULL), PACKET_OK);
	assert_int_equal(kod.stratum, 0);
	assert_int_equal(kod.refid, NTS_KOD_NAK);
	assert_int_equal(kod.refid, refid_from_name("NTSN"));
	assert_int_equal(kod.origin, 0xe8f1a2b3c4d5e6f7ULL);
	assert_true(nts_ef_has_uid(w.reply.bytes, len, w.uid, sizeof(w.uid)));
	world_fini(&w);
}

static void a_wrong_authenticator_gets_silence(void **state)
{
	struct world w;
	struct nts_key other;

	(void)state;
	world_init(&w, 100);
	other = w.c2s;
	other.value[0] ^= 1;
	make_nts_request(&w, 0, &other);
	assert_int_equal(serve_request(&w.acl, NULL, w.rl, &w.snap, &w.request, &w.reply), SERVE_NTS_AUTH_FAILED);
	/* an altered header under the right key */
	make_nts_request(&w, 0, &w.c2s);
	w.req[2] ^= 1;
	assert_int_equal(serve_request(&w.acl, NULL, w.rl, &w.snap, &w.request, &w.reply), SERVE_NTS_AUTH_FAILED);
	world_fini(&w);
}

/* chrony and NTPsec encrypt nothing in a request, and the server then keys
 * the C2S key for the tag alone; RFC 8915 lets a client encrypt extension
 * fields, and such a request is checked under the whole key. */
static void a_request_that_encrypts_fields_is_answered(void **state)
{
	static const uint8_t hidden[] = { 0x01, 0x23, 0x00, 0x08, 0xde, 0xad, 0xbe, 0xef }; /* an EF of 8 bytes */
	struct world w;
	struct nts_aead c2s;
	uint8_t nonce[NTS_NONCE_LEN] = { 9 };
	size_t len;

	(void)state;
	world_init(&w, 100);
	assert_true(nts_aead_init(&c2s, &w.c2s));
	for (int good = 1; good >= 0; good--) {
		memset(w.req, 0, NTP_HEADER_LEN);
		w.req[0] = 4 << 3 | NTP_MODE_CLIENT;
		store_be64(w.req + 40, 0xe8f1a2b3c4d5e6f7ULL);
		len = nts_ef_append(w.req, NTP_HEADER_LEN, sizeof(w.req), NTS_EF_UNIQUE_ID, w.uid, sizeof(w.uid));
		len = nts_ef_append(w.req, len, sizeof(w.req), NTS_EF_COOKIE, w.cookie.data, w.cookie.len);
		w.req_len = nts_ef_append_auth(&c2s, nonce, sizeof(nonce), hidden, sizeof(hidden), w.req, len,
					       sizeof(w.req));
		assert_int_equal(w.req_len, len + 4 + 4 + sizeof(nonce) + NTS_AEAD_TAG_LEN + sizeof(hidden));
		if (!good)
			w.req[w.req_len - 1] ^= 1; /* the last byte of the ciphertext */
		w.request = (struct serve_request){ .bytes = w.req, .len = w.req_len, .rx = RX, .now = { 100, 0 },
						     .nts = &w.nts };
		assert_true(netaddr_parse("127.0.0.1", &w.request.peer));
		w.request.peer.port = 123;
		assert_int_equal(serve_request(&w.acl, NULL, w.rl, &w.snap, &w.request, &w.reply),
				 good ? SERVE_ANSWER : SERVE_NTS_AUTH_FAILED);
		if (good) {
			struct nts_cookie cookies[NTS_KE_MAX_COOKIES];
			struct nts_aead s2c;
			size_t n = 0;

			serve_stamp_transmit(w.reply.bytes, RX);
			len = serve_sign_reply(&w.reply);
			assert_true(nts_aead_init(&s2c, &w.s2c));
			assert_int_equal(nts_ef_reply_check(&s2c, w.reply.bytes, len, w.uid, sizeof(w.uid), cookies,
							    NTS_KE_MAX_COOKIES, &n), NTS_EF_OK);
			nts_aead_deinit(&s2c);
			assert_int_equal(n, 1);
		}
	}
	nts_aead_deinit(&c2s);
	world_fini(&w);
}

static void broken_nts_fields_are_malformed_and_the_limiter_comes_first(void **state)
{
	struct world w;

	(void)state;
	world_init(&w, 1);
	make_nts_request(&w, 0, &w.c2s);
	/* the cookie field's length pointing past the end */
	w.req[NTP_HEADER_LEN + 4 + NTS_UID_LEN + 3] = 0xfc;
	assert_int_equal(serve_request(&w.acl, NULL, w.rl, &w.snap, &w.request, &w.reply), SERVE_MALFORMED);
	make_nts_request(&w, 0, &w.c2s);
	assert_int_equal(serve_request(&w.acl, NULL, w.rl, &w.snap, &w.request, &w.reply), SERVE_ANSWER);
	assert_int_equal(serve_request(&w.acl, NULL, w.rl, &w.snap, &w.request, &w.reply), SERVE_LIMITED);
	/* not serving NTS: the fields are walked and the answer is plain */
	w.request.nts = NULL;
	w.request.now.tv_sec += 100;
	assert_int_equal(serve_request(&w.acl, NULL, w.rl, &w.snap, &w.request, &w.reply), SERVE_ANSWER);
	assert_int_equal(serve_sign_reply(&w.reply), NTP_HEADER_LEN);
	world_fini(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(cookie_round_trip),
		cmocka_unit_test(previous_keys_open_until_they_go),
		cmocka_unit_test(altered_cookies_do_not_open),
		cmocka_unit_test(authenticated_answers_carry_new_cookies),
		cmocka_unit_test(cookies_are_sealed_before_the_header_is_stamped),
		cmocka_unit_test(a_cookie_that_does_not_open_gets_a_nak),
		cmocka_unit_test(a_wrong_authenticator_gets_silence),
		cmocka_unit_test(a_request_that_encrypts_fields_is_answered),
		cmocka_unit_test(broken_nts_fields_are_malformed_and_the_limiter_comes_first),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
