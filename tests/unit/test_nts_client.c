/* The NTS client core (nts_client, and source with nts = true) against a
 * server played here with the codec's server side (nts_ef_parse of the
 * request, nts_ef_reply_append of the reply): what goes out, what comes
 * back, and every reply that must not count. */
#include "cmocka_all.h"

#include <string.h>

#include "nts_client.h"
#include "packet.h"
#include "source.h"

static const struct timespec t0 = { 1700000000, 0 };

static struct nts_ke_result ke_result(size_t n_cookies)
{
	struct nts_ke_result r = { .n_cookies = n_cookies };

	r.c2s = (struct nts_key){ .aead = NTS_AEAD_AES_SIV_CMAC_256, .len = 32 };
	r.s2c = r.c2s;
	memset(r.c2s.value, 0xc2, 32);
	memset(r.s2c.value, 0x52, 32);
	for (size_t i = 0; i < n_cookies; i++) {
		r.cookies[i].len = 100;
		memset(r.cookies[i].data, (int)(0x10 + i), 100);
	}
	memset(r.seed, 0x5e, sizeof(r.seed));
	return r;
}

/* The server's side: checks the request under c2s, answers under s2c with
 * as many cookies as the request makes room for. Returns the reply length. */
static size_t serve(const uint8_t *req, size_t req_len, uint8_t *reply, size_t cap, struct nts_ef_fields *seen)
{
	struct nts_ke_result keys = ke_result(0);
	struct nts_aead c2s, s2c;
	struct nts_cookie fresh[NTS_CLIENT_COOKIES];
	uint8_t plain[16], nonce[NTS_NONCE_LEN] = { 9 };
	size_t plain_len, len;
	struct ntp_packet q, p;

	assert_true(nts_aead_init(&c2s, &keys.c2s));
	assert_true(nts_aead_init(&s2c, &keys.s2c));
	assert_int_equal(nts_ef_parse(req, req_len, seen), NTS_EF_OK);
	assert_int_equal(nts_ef_decrypt(&c2s, req, seen, plain, sizeof(plain), &plain_len), NTS_EF_OK);
	assert_int_equal(packet_decode(req, req_len, &q, NULL), PACKET_OK);
	for (unsigned i = 0; i <= seen->placeholders; i++) {
		fresh[i].len = 100;
		memset(fresh[i].data, 0xa0 + (int)i, 100);
	}
	p = (struct ntp_packet){ .version = 4, .mode = NTP_MODE_SERVER, .stratum = 2, .precision = -20,
				 .refid = 0xc0000202, .origin = q.transmit,
				 .reference = q.transmit - ((ntp_ts)30 << 32), .receive = q.transmit + (1u << 20),
				 .transmit = q.transmit + (1u << 21) };
	packet_encode(&p, reply);
	len = nts_ef_reply_append(&s2c, seen->uid, seen->uid_len, fresh, seen->placeholders + 1u, nonce,
				  sizeof(nonce), reply, NTP_HEADER_LEN, cap);
	nts_aead_deinit(&c2s);
	nts_aead_deinit(&s2c);
	return len;
}

static void key_exchange_schedule_backs_off(void **state)
{
	(void)state;
	struct nts_client c;
	struct nts_ke_result r = ke_result(8);
	struct timespec t = t0;
	uint8_t pkt[SOURCE_REQUEST_MAX] = { 0 };
	double expected[] = { 16, 32, 64, 128 };

	nts_client_init(&c);
	assert_true(nts_client_wants_ke(&c, t));
	assert_int_equal(nts_client_request(&c, pkt, NTP_HEADER_LEN, sizeof(pkt)), 0); /* never plain */
	for (size_t i = 0; i < 4; i++) {
		nts_client_ke_started(&c, t);
		assert_false(nts_client_wants_ke(&c, t));
		nts_client_ke_failed(&c, t);
		assert_int_equal(timespec_diff(nts_client_next_ke(&c), t), expected[i]);
		t = nts_client_next_ke(&c);
		assert_true(nts_client_wants_ke(&c, t));
	}
	for (size_t i = 0; i < 20; i++)
		nts_client_ke_failed(&c, t);
	assert_int_equal(timespec_diff(nts_client_next_ke(&c), t), NTS_KE_RETRY_MAX);
	assert_true(nts_client_ke_done(&c, &r, t));
	assert_false(nts_client_wants_ke(&c, timespec_add(t, 1e6)));
	nts_client_deinit(&c);
}

/* Eight requests spend the eight cookies, each with a fresh identifier and
 * nonce; the server's answers bring them back. */
static void requests_spend_and_replies_refill_cookies(void **state)
{
	(void)state;
	struct nts_client c;
	struct nts_ke_result r = ke_result(3);
	uint8_t req[SOURCE_REQUEST_MAX] = { 0x23 }, reply[4096], last_uid[NTS_UID_LEN] = { 0 };
	struct nts_ef_fields f;
	struct nts_client_status st;
	size_t len, rlen;

	nts_client_init(&c);
	assert_true(nts_client_ke_done(&c, &r, t0));
	len = nts_client_request(&c, req, NTP_HEADER_LEN, sizeof(req));
	assert_int_not_equal(len, 0);
	rlen = serve(req, len, reply, sizeof(reply), &f);
	assert_int_equal(f.placeholders, 5); /* 3 held, 1 sent: 2 left, 6 back (cookie + 5) make 8 */
	assert_int_equal(f.cookie_len, 100);
	assert_int_equal(f.cookie[0], 0x10); /* the oldest first */
	assert_int_equal(nts_client_reply(&c, reply, rlen, false), NTS_REPLY_OK);
	nts_client_get_status(&c, &st);
	assert_int_equal(st.cookies, 8);
	assert_int_equal(st.auth_ok, 1);
	/* a duplicate of that reply authenticates but brings nothing new */
	assert_int_equal(nts_client_reply(&c, reply, rlen, false), NTS_REPLY_OK);
	nts_client_get_status(&c, &st);
	assert_int_equal(st.cookies, 8);
	for (int i = 0; i < 8; i++) {
		len = nts_client_request(&c, req, NTP_HEADER_LEN, sizeof(req));
		assert_int_not_equal(len, 0);
		assert_int_equal(nts_ef_parse(req, len, &f), NTS_EF_OK);
		assert_int_equal(f.placeholders, (unsigned)i); /* 8 - (8 - i) */
		assert_memory_not_equal(f.uid, last_uid, NTS_UID_LEN);
		memcpy(last_uid, f.uid, NTS_UID_LEN);
	}
	/* all spent, none came back: a key exchange is due, and nothing goes out */
	assert_int_equal(nts_client_request(&c, req, NTP_HEADER_LEN, sizeof(req)), 0);
	assert_true(nts_client_wants_ke(&c, t0));
	nts_client_deinit(&c);
}

static void forged_replies_and_naks(void **state)
{
	(void)state;
	struct nts_client c;
	struct nts_ke_result r = ke_result(8);
	uint8_t req[SOURCE_REQUEST_MAX] = { 0x23 }, reply[4096], nak[NTP_HEADER_LEN + 36] = { 0 };
	struct nts_ef_fields f;
	struct nts_client_status st;
	size_t len, rlen;

	nts_client_init(&c);
	assert_int_equal(nts_client_reply(&c, reply, NTP_HEADER_LEN, false), NTS_REPLY_NO_KEYS);
	assert_true(nts_client_ke_done(&c, &r, t0));
	len = nts_client_request(&c, req, NTP_HEADER_LEN, sizeof(req));
	rlen = serve(req, len, reply, sizeof(reply), &f);
	reply[rlen - 1] ^= 1;
	assert_int_equal(nts_client_reply(&c, reply, rlen, false), NTS_REPLY_REJECTED);
	assert_string_equal(nts_client_rejection(&c), "NTS: NTS authenticator does not verify");
	reply[rlen - 1] ^= 1;
	/* a NAK with another identifier: an off-path sender */
	nak[0] = 0x24;
	memcpy(nak + 12, "NTSN", 4);
	assert_int_equal(nts_ef_append(nak, NTP_HEADER_LEN, sizeof(nak), NTS_EF_UNIQUE_ID, f.uid, NTS_UID_LEN),
			 sizeof(nak));
	nak[NTP_HEADER_LEN + 4] ^= 0xff;
	assert_int_equal(nts_client_reply(&c, nak, sizeof(nak), true), NTS_REPLY_REJECTED);
	assert_string_equal(nts_client_rejection(&c), "NTS: NAK without the unique identifier of our request");
	nts_client_get_status(&c, &st);
	assert_int_equal(st.cookies, 7);
	/* the same NAK with ours: keys and cookies dropped, a key exchange due */
	nak[NTP_HEADER_LEN + 4] ^= 0xff;
	assert_int_equal(nts_client_reply(&c, nak, sizeof(nak), true), NTS_REPLY_NAK);
	nts_client_get_status(&c, &st);
	assert_false(st.have_keys);
	assert_int_equal(st.naks, 1);
	assert_int_equal(st.auth_failed, 1);
	assert_true(nts_client_wants_ke(&c, t0));
	/* the real reply, late: no keys any more */
	assert_int_equal(nts_client_reply(&c, reply, rlen, false), NTS_REPLY_NO_KEYS);
	nts_client_deinit(&c);
}

/* A source with nts = true: silent until a key exchange, then only NTS
 * requests; a plain reply with the right origin is refused. */
static void nts_source_never_speaks_plain_ntp(void **state)
{
	(void)state;
	struct source_config cfg = { .name = "nts", .minpoll = 6, .maxpoll = 10, .nts = true };
	struct source_limits limits = { .precision = -20 };
	struct nts_ke_result r = ke_result(8);
	uint8_t req[SOURCE_REQUEST_MAX], reply[4096];
	struct nts_ef_fields f;
	struct source_status st;
	struct source *src;
	size_t len = 99, rlen;

	assert_true(netaddr_parse("192.0.2.1", &cfg.addr));
	src = source_create(&cfg, &limits, t0);
	assert_non_null(src);
	assert_non_null(source_nts(src));
	assert_int_equal(source_poll(src, t0, 1, req, &len), SOURCE_NTS_WAITING);
	assert_int_equal(len, 0);
	assert_string_equal(source_last_rejection(src), "NTS: no keys or cookies, waiting for a key exchange");
	assert_true(source_nts_ke_done(src, &r, t0));
	assert_int_equal(timespec_diff(source_next_poll(src), t0), 0); /* the poll goes at once */
	assert_int_equal(source_poll(src, t0, 1, req, &len), SOURCE_POLL_SENT);
	assert_true(len > NTP_HEADER_LEN);
	rlen = serve(req, len, reply, sizeof(reply), &f);
	/* the header alone, right origin and all: refused */
	assert_int_equal(source_handle_reply(src, reply, NTP_HEADER_LEN, timespec_add(t0, 0.01)), SOURCE_AUTH_FAILED);
	assert_string_equal(source_last_rejection(src), "NTS: no unique identifier");
	assert_int_equal(source_handle_reply(src, reply, rlen, timespec_add(t0, 0.01)), SOURCE_SAMPLE_ACCEPTED);
	assert_int_equal(source_handle_reply(src, reply, rlen, timespec_add(t0, 0.01)), SOURCE_DUPLICATE);
	source_get_status(src, t0, &st);
	assert_true(st.nts);
	assert_int_equal(st.auth_ok, 2);
	assert_int_equal(st.auth_failed, 1);
	assert_int_equal(st.nts_status.cookies, 8);
	source_destroy(src);
	/* NTS and a key together: refused */
	cfg.key = &(struct auth_key){ .id = 1, .type = AUTH_MD5, .len = 4 };
	assert_null(source_create(&cfg, &limits, t0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(key_exchange_schedule_backs_off),
		cmocka_unit_test(requests_spend_and_replies_refill_cookies),
		cmocka_unit_test(forged_replies_and_naks),
		cmocka_unit_test(nts_source_never_speaks_plain_ntp),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
