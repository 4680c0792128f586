/* What the NTS-KE server answers a request (RFC 8915 section 4.1): the
 * verdict on the bytes as they arrive and the response records, read back
 * by the shared decoder. */
#include "cmocka_all.h"

#include <string.h>

#include "nts_aead.h"
#include "nts_ke_exchange.h"

/* next protocol NTPv4 | AEAD 17, 15 | end of message */
static const uint8_t GOOD[] = { 0x80, 0x01, 0x00, 0x02, 0x00, 0x00, 0x80, 0x04, 0x00, 0x04, 0x00, 0x11,
				0x00, 0x0f, 0x80, 0x00, 0x00, 0x00 };

static void the_clients_first_supported_aead_is_chosen(void **state)
{
	uint16_t aead = 0, error = 0;

	(void)state;
	for (size_t len = 0; len < sizeof(GOOD); len++)
		assert_int_equal(nts_ke_exchange_decide(GOOD, len, false, &aead, &error), NTS_KE_VERDICT_PARTIAL);
	assert_int_equal(nts_ke_exchange_decide(GOOD, sizeof(GOOD), false, &aead, &error), NTS_KE_VERDICT_KEYS);
	/* the client prefers SIV-512 (17), which we support too */
	assert_int_equal(aead, nts_aead_key_len(17) ? 17 : 15);
}

static void requests_we_cannot_serve_get_the_right_answer(void **state)
{
	/* only AEAD 30 (GCM-SIV), which GnuTLS 3.7 lacks */
	static const uint8_t gcm_only[] = { 0x80, 0x01, 0x00, 0x02, 0x00, 0x00, 0x80, 0x04, 0x00, 0x02, 0x00, 0x1e,
					    0x80, 0x00, 0x00, 0x00 };
	/* next protocol 0x8000 only */
	static const uint8_t other_protocol[] = { 0x80, 0x01, 0x00, 0x02, 0x80, 0x00, 0x80, 0x04, 0x00, 0x02,
						  0x00, 0x0f, 0x80, 0x00, 0x00, 0x00 };
	/* a critical record of type 0x1234 */
	static const uint8_t unknown_critical[] = { 0x80, 0x01, 0x00, 0x02, 0x00, 0x00, 0x92, 0x34, 0x00, 0x00,
						    0x80, 0x00, 0x00, 0x00 };
	uint8_t huge[1024] = { 0x80, 0x01, 0xff, 0xff };
	uint8_t long_record[1024] = { 0x80, 0x01, 0x07, 0xd0 }; /* 2000 bytes: legal, beyond our buffer */
	uint16_t aead = 0, error = 99;

	(void)state;
	if (!nts_aead_key_len(30)) {
		assert_int_equal(nts_ke_exchange_decide(gcm_only, sizeof(gcm_only), false, &aead, &error),
				 NTS_KE_VERDICT_ERROR);
		assert_int_equal(error, NTS_KE_ERROR_BAD_REQUEST);
	}
	assert_int_equal(nts_ke_exchange_decide(other_protocol, sizeof(other_protocol), false, &aead, &error),
			 NTS_KE_VERDICT_NO_NTPV4);
	assert_int_equal(nts_ke_exchange_decide(unknown_critical, sizeof(unknown_critical), false, &aead, &error),
			 NTS_KE_VERDICT_ERROR);
	assert_int_equal(error, NTS_KE_ERROR_UNRECOGNIZED_CRITICAL);
	/* a 64 KiB record: a bad request from its header on */
	assert_int_equal(nts_ke_exchange_decide(huge, 4, false, &aead, &error), NTS_KE_VERDICT_ERROR);
	assert_int_equal(error, NTS_KE_ERROR_BAD_REQUEST);
	/* a long one: undecided while the buffer has room, a bad request once it is full */
	error = 99;
	assert_int_equal(nts_ke_exchange_decide(long_record, 512, false, &aead, &error), NTS_KE_VERDICT_PARTIAL);
	assert_int_equal(nts_ke_exchange_decide(long_record, sizeof(long_record), true, &aead, &error),
			 NTS_KE_VERDICT_ERROR);
	assert_int_equal(error, NTS_KE_ERROR_BAD_REQUEST);
}

static void responses_read_back(void **state)
{
	struct serve_nts_config cfg = { .ntp_port = 1123 };
	struct nts_ke_exchange_config ex;
	struct nts_cookie cookies[NTS_KE_EXCHANGE_COOKIES];
	struct nts_ke_response back;
	uint8_t out[2048];
	size_t len;

	(void)state;
	strcpy(cfg.ntp_server, "ntp2.example.net");
	nts_ke_exchange_config_from(&cfg, &ex);
	for (size_t i = 0; i < NTS_KE_EXCHANGE_COOKIES; i++) {
		cookies[i].len = 104;
		memset(cookies[i].data, (int)i, 104);
	}
	len = nts_ke_exchange_response(&ex, NTS_KE_VERDICT_KEYS, 15, 0, cookies, NTS_KE_EXCHANGE_COOKIES, out,
				       sizeof(out));
	assert_true(len > 0);
	assert_int_equal(nts_ke_response_decode(out, len, &back), NTS_KE_OK);
	assert_true(back.ntpv4);
	assert_int_equal(back.aead, 15);
	assert_int_equal(back.n_cookies, 8);
	assert_memory_equal(back.cookies[7].data, cookies[7].data, 104);
	assert_true(back.has_server);
	assert_string_equal(back.server, "ntp2.example.net");
	assert_true(back.has_port);
	assert_int_equal(back.port, 1123);

	/* without negotiation configured: neither record */
	memset(&ex, 0, sizeof(ex));
	len = nts_ke_exchange_response(&ex, NTS_KE_VERDICT_KEYS, 15, 0, cookies, 8, out, sizeof(out));
	assert_int_equal(nts_ke_response_decode(out, len, &back), NTS_KE_OK);
	assert_false(back.has_server);
	assert_false(back.has_port);

	len = nts_ke_exchange_response(&ex, NTS_KE_VERDICT_ERROR, 0, NTS_KE_ERROR_BAD_REQUEST, NULL, 0, out,
				       sizeof(out));
	assert_int_equal(nts_ke_response_decode(out, len, &back), NTS_KE_OK);
	assert_true(back.has_error);
	assert_int_equal(back.error, NTS_KE_ERROR_BAD_REQUEST);

	len = nts_ke_exchange_response(&ex, NTS_KE_VERDICT_NO_NTPV4, 0, 0, NULL, 0, out, sizeof(out));
	assert_int_equal(nts_ke_response_decode(out, len, &back), NTS_KE_OK);
	assert_false(back.ntpv4);
	assert_int_equal(back.n_cookies, 0);
	/* too small a buffer: nothing */
	assert_int_equal(nts_ke_exchange_response(&ex, NTS_KE_VERDICT_KEYS, 15, 0, cookies, 8, out, 100), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(the_clients_first_supported_aead_is_chosen),
		cmocka_unit_test(requests_we_cannot_serve_get_the_right_answer),
		cmocka_unit_test(responses_read_back),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
