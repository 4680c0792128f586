/* NTS-KE records (RFC 8915 4): golden bytes laid out by hand from the RFC's
 * figures, round trips, and one malformed message per rejection reason. */
#include "cmocka_all.h"

#include <string.h>

#include "nts_aead.h"
#include "nts_ke_records.h"

/* A client's request as RFC 8915 4.1 lays it out: Next Protocol {NTPv4},
 * AEAD {15, 17}, End of Message, all critical. */
static const uint8_t request_bytes[] = {
	0x80, 0x01, 0x00, 0x02, 0x00, 0x00,             /* next protocol: NTPv4 */
	0x80, 0x04, 0x00, 0x04, 0x00, 0x0f, 0x00, 0x11, /* AEAD: 15, 17 */
	0x80, 0x00, 0x00, 0x00,                         /* end of message */
};

static void request_golden_bytes(void **state)
{
	(void)state;
	struct nts_ke_request req = { .n_aeads = 2, .aeads = { 15, 17 } }, back;
	uint8_t buf[64];
	size_t len;

	assert_int_equal(nts_ke_request_encode(&req, buf, sizeof(buf), &len), NTS_KE_OK);
	assert_int_equal(len, sizeof(request_bytes));
	assert_memory_equal(buf, request_bytes, len);
	assert_int_equal(nts_ke_request_decode(buf, len, &back), NTS_KE_OK);
	assert_true(back.ntpv4);
	assert_int_equal(back.n_aeads, 2);
	assert_int_equal(back.aeads[1], 17);
	assert_false(back.has_server);
	/* arriving a byte at a time: incomplete until the last byte */
	for (size_t i = 0; i < len; i++)
		assert_int_equal(nts_ke_request_decode(buf, i, &back), NTS_KE_INCOMPLETE);
	assert_int_equal(nts_ke_request_encode(&req, buf, len - 1, &len), NTS_KE_NO_SPACE);
}

static struct nts_ke_response full_response(void)
{
	struct nts_ke_response resp = { .ntpv4 = true, .has_aead = true, .aead = 15, .n_cookies = 8 };

	for (size_t i = 0; i < resp.n_cookies; i++) {
		resp.cookies[i].len = (uint16_t)(100 + i);
		memset(resp.cookies[i].data, (int)i + 1, resp.cookies[i].len);
	}
	resp.has_server = true;
	strcpy(resp.server, "ntp.example.net");
	resp.has_port = true;
	resp.port = 12300;
	resp.has_warning = true;
	resp.warning = 7;
	return resp;
}

static void response_round_trip(void **state)
{
	(void)state;
	struct nts_ke_response resp = full_response(), back;
	uint16_t offered[] = { 15, 17 };
	uint8_t buf[4096];
	size_t len;

	assert_int_equal(nts_ke_response_encode(&resp, buf, sizeof(buf), &len), NTS_KE_OK);
	assert_int_equal(nts_ke_response_decode(buf, len, &back), NTS_KE_OK);
	assert_true(back.ntpv4);
	assert_int_equal(back.aead, 15);
	assert_int_equal(back.n_cookies, 8);
	assert_int_equal(back.cookies_dropped, 0);
	for (size_t i = 0; i < 8; i++) {
		assert_int_equal(back.cookies[i].len, resp.cookies[i].len);
		assert_memory_equal(back.cookies[i].data, resp.cookies[i].data, resp.cookies[i].len);
	}
	assert_string_equal(back.server, "ntp.example.net");
	assert_int_equal(back.port, 12300);
	assert_int_equal(back.warning, 7);
	assert_int_equal(nts_ke_response_check(&back, offered, 2), NTS_KE_OK);
	assert_int_equal(nts_ke_response_check(&back, offered + 1, 1), NTS_KE_AEAD_NOT_OFFERED);
	back.n_cookies = 0;
	assert_int_equal(nts_ke_response_check(&back, offered, 2), NTS_KE_NO_COOKIES);
	back.has_aead = false;
	assert_int_equal(nts_ke_response_check(&back, offered, 2), NTS_KE_NO_AEAD);
	back.ntpv4 = false;
	assert_int_equal(nts_ke_response_check(&back, offered, 2), NTS_KE_NO_NTPV4);

	/* an error response carries the Error record alone */
	resp = (struct nts_ke_response){ .has_error = true, .error = NTS_KE_ERROR_BAD_REQUEST };
	assert_int_equal(nts_ke_response_encode(&resp, buf, sizeof(buf), &len), NTS_KE_OK);
	assert_int_equal(len, 6 + 4);
	assert_int_equal(nts_ke_response_decode(buf, len, &back), NTS_KE_OK);
	assert_int_equal(back.error, NTS_KE_ERROR_BAD_REQUEST);
	assert_int_equal(nts_ke_response_check(&back, offered, 2), NTS_KE_SERVER_ERROR);
}

/* Nine cookies: eight kept, one counted. Unknown non-critical records skipped. */
static void extra_cookies_and_unknown_records(void **state)
{
	(void)state;
	static const uint8_t msg[] = {
		0x80, 0x01, 0x00, 0x02, 0x00, 0x00, 0x80, 0x04, 0x00, 0x02, 0x00, 0x0f,
		0x00, 0x05, 0x00, 0x01, 0xa1, 0x00, 0x05, 0x00, 0x01, 0xa2, 0x00, 0x05, 0x00, 0x01, 0xa3,
		0x00, 0x05, 0x00, 0x01, 0xa4, 0x00, 0x05, 0x00, 0x01, 0xa5, 0x00, 0x05, 0x00, 0x01, 0xa6,
		0x00, 0x05, 0x00, 0x01, 0xa7, 0x00, 0x05, 0x00, 0x01, 0xa8, 0x00, 0x05, 0x00, 0x01, 0xa9,
		0x04, 0x00, 0x00, 0x03, 1, 2, 3, /* 1024, not critical: unknown to us */
		0x80, 0x00, 0x00, 0x00,
	};
	struct nts_ke_response resp;

	assert_int_equal(nts_ke_response_decode(msg, sizeof(msg), &resp), NTS_KE_OK);
	assert_int_equal(resp.n_cookies, 8);
	assert_int_equal(resp.cookies_dropped, 1);
	assert_int_equal(resp.cookies[7].data[0], 0xa8);
}

struct bad {
	const char *what;
	uint8_t bytes[48];
	size_t len;
	enum nts_ke_status request, response;
};

#define NP 0x80, 0x01, 0x00, 0x02, 0x00, 0x00
#define EOM 0x80, 0x00, 0x00, 0x00
static const struct bad bad[] = {
	{ "no end of message", { NP }, 6, NTS_KE_INCOMPLETE, NTS_KE_INCOMPLETE },
	{ "trailing data", { NP, EOM, 0 }, 11, NTS_KE_TRAILING_DATA, NTS_KE_TRAILING_DATA },
	{ "end not critical", { NP, 0, 0, 0, 0 }, 10, NTS_KE_NOT_CRITICAL, NTS_KE_NOT_CRITICAL },
	{ "end with a body", { NP, 0x80, 0, 0, 1, 0 }, 11, NTS_KE_BAD_RECORD_LENGTH, NTS_KE_BAD_RECORD_LENGTH },
	{ "unknown critical", { NP, 0x84, 0, 0, 0, EOM }, 14, NTS_KE_UNKNOWN_CRITICAL, NTS_KE_UNKNOWN_CRITICAL },
	{ "protocol not critical", { 0, 1, 0, 2, 0, 0, EOM }, 10, NTS_KE_NOT_CRITICAL, NTS_KE_NOT_CRITICAL },
	{ "odd protocol list", { 0x80, 1, 0, 1, 0, EOM }, 9, NTS_KE_BAD_RECORD_LENGTH, NTS_KE_BAD_RECORD_LENGTH },
	{ "two protocol records", { NP, NP, EOM }, 16, NTS_KE_DUPLICATE_RECORD, NTS_KE_DUPLICATE_RECORD },
	{ "no protocol record", { EOM }, 4, NTS_KE_NO_NEXT_PROTOCOL, NTS_KE_NO_NEXT_PROTOCOL },
	{ "two protocols answered", { 0x80, 1, 0, 4, 0, 0, 0, 1, EOM }, 12, NTS_KE_OK, NTS_KE_TOO_MANY_VALUES },
	{ "two AEADs answered", { NP, 0x80, 4, 0, 4, 0, 15, 0, 17, EOM }, 18, NTS_KE_OK, NTS_KE_TOO_MANY_VALUES },
	{ "empty AEAD list", { NP, 0x80, 4, 0, 0, EOM }, 14, NTS_KE_BAD_RECORD_LENGTH, NTS_KE_BAD_RECORD_LENGTH },
	{ "error in a request", { NP, 0x80, 2, 0, 2, 0, 1, EOM }, 16, NTS_KE_UNEXPECTED_RECORD, NTS_KE_OK },
	{ "short error", { 0x80, 2, 0, 1, 0, EOM }, 9, NTS_KE_UNEXPECTED_RECORD, NTS_KE_BAD_RECORD_LENGTH },
	{ "error not critical", { 0, 2, 0, 2, 0, 1, EOM }, 10, NTS_KE_UNEXPECTED_RECORD, NTS_KE_NOT_CRITICAL },
	{ "cookie in a request", { NP, 0, 5, 0, 1, 9, EOM }, 15, NTS_KE_UNEXPECTED_RECORD, NTS_KE_OK },
	{ "empty cookie", { NP, 0, 5, 0, 0, EOM }, 14, NTS_KE_UNEXPECTED_RECORD, NTS_KE_BAD_RECORD_LENGTH },
	{ "server with a blank", { NP, 0, 6, 0, 2, 'a', ' ', EOM }, 16, NTS_KE_BAD_SERVER_NAME, NTS_KE_BAD_SERVER_NAME },
	{ "empty server", { NP, 0, 6, 0, 0, EOM }, 14, NTS_KE_BAD_SERVER_NAME, NTS_KE_BAD_SERVER_NAME },
	{ "port of 3 bytes", { NP, 0, 7, 0, 3, 0, 1, 2, EOM }, 17, NTS_KE_BAD_RECORD_LENGTH, NTS_KE_BAD_RECORD_LENGTH },
	{ "two ports", { NP, 0, 7, 0, 2, 0, 1, 0, 7, 0, 2, 0, 1, EOM }, 22, NTS_KE_DUPLICATE_RECORD,
	  NTS_KE_DUPLICATE_RECORD },
	{ "two AEAD lists of 6", { NP, 0x80, 4, 0, 12, 0, 15, 0, 15, 0, 15, 0, 15, 0, 15, 0, 15, 0x80, 4, 0, 12, 0, 15,
				   0, 15, 0, 15, 0, 15, 0, 15, 0, 15, EOM },
	  42, NTS_KE_DUPLICATE_RECORD, NTS_KE_TOO_MANY_VALUES },
	{ "record past the limit", { NP, 0, 5, 0xff, 0xff }, 10, NTS_KE_TOO_LONG, NTS_KE_TOO_LONG },
};

static void malformed_messages_are_rejected(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct nts_ke_request req;
		struct nts_ke_response resp;

		print_message("%s\n", bad[i].what);
		assert_int_equal(nts_ke_request_decode(bad[i].bytes, bad[i].len, &req), bad[i].request);
		assert_int_equal(nts_ke_response_decode(bad[i].bytes, bad[i].len, &resp), bad[i].response);
		assert_string_not_equal(nts_ke_status_str(bad[i].request), "unknown status");
	}
	assert_int_equal(nts_ke_status_error_code(NTS_KE_UNKNOWN_CRITICAL), NTS_KE_ERROR_UNRECOGNIZED_CRITICAL);
	assert_int_equal(nts_ke_status_error_code(NTS_KE_DUPLICATE_RECORD), NTS_KE_ERROR_BAD_REQUEST);
}

/* A stream that never ends is refused at 16 KiB, not buffered further. */
static void endless_stream_is_too_long(void **state)
{
	(void)state;
	static uint8_t buf[17 * 1004]; /* the 17th record ends past 16384 */
	struct nts_ke_response resp;
	size_t off = 0;

	/* non-critical unknown records of 1000 bytes each */
	while (off + 1004 <= sizeof(buf)) {
		buf[off] = 0x10;
		buf[off + 1] = 0;
		buf[off + 2] = 1000 >> 8;
		buf[off + 3] = 1000 & 0xff;
		off += 1004;
	}
	assert_int_equal(nts_ke_response_decode(buf, 1004 * 10, &resp), NTS_KE_INCOMPLETE);
	assert_int_equal(nts_ke_response_decode(buf, off, &resp), NTS_KE_TOO_LONG);
}

static void encoder_refuses_what_would_not_decode(void **state)
{
	(void)state;
	struct nts_ke_request req = { .n_aeads = 0 };
	struct nts_ke_response resp = full_response();
	uint8_t buf[4096];
	size_t len;

	assert_int_equal(nts_ke_request_encode(&req, buf, sizeof(buf), &len), NTS_KE_BAD_RECORD_LENGTH);
	req.n_aeads = 1;
	req.aeads[0] = 15;
	req.has_server = true;
	strcpy(req.server, "two words");
	assert_int_equal(nts_ke_request_encode(&req, buf, sizeof(buf), &len), NTS_KE_BAD_SERVER_NAME);
	resp.cookies[3].len = 0;
	assert_int_equal(nts_ke_response_encode(&resp, buf, sizeof(buf), &len), NTS_KE_BAD_RECORD_LENGTH);
	resp.cookies[3].len = NTS_KE_MAX_COOKIE_LEN + 1;
	assert_int_equal(nts_ke_response_encode(&resp, buf, sizeof(buf), &len), NTS_KE_COOKIE_TOO_LONG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(request_golden_bytes),
		cmocka_unit_test(response_round_trip),
		cmocka_unit_test(extra_cookies_and_unknown_records),
		cmocka_unit_test(malformed_messages_are_rejected),
		cmocka_unit_test(endless_stream_is_too_long),
		cmocka_unit_test(encoder_refuses_what_would_not_decode),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
