/* NTS extension fields (RFC 8915 5): the client's request and the server's
 * reply built and parsed by each other, the RFC 7822 layout checked byte by
 * byte, and every malformed or forged packet rejected with its reason. */
#include "cmocka_all.h"

#include <string.h>

#include "byteorder.h"
#include "nts_ef.h"
#include "packet.h"

static struct nts_aead c2s, s2c;
static uint8_t uid[NTS_UID_LEN], nonce[NTS_NONCE_LEN];

static int setup(void **state)
{
	(void)state;
	struct nts_key k1 = { .aead = NTS_AEAD_AES_SIV_CMAC_256, .len = 32 }, k2 = k1;

	memset(k1.value, 0x11, 32);
	memset(k2.value, 0x22, 32);
	for (int i = 0; i < NTS_UID_LEN; i++)
		uid[i] = (uint8_t)(0xc0 + i);
	memset(nonce, 0x5a, sizeof(nonce));
	return !(nts_aead_init(&c2s, &k1) && nts_aead_init(&s2c, &k2));
}

static int teardown(void **state)
{
	(void)state;
	nts_aead_deinit(&c2s);
	nts_aead_deinit(&s2c);
	return 0;
}

static struct nts_cookie cookie_of(size_t len, uint8_t fill)
{
	struct nts_cookie c = { .len = (uint16_t)len };

	memset(c.data, fill, len);
	return c;
}

static size_t build_request(uint8_t *pkt, size_t cap, unsigned placeholders)
{
	struct nts_cookie cookie = cookie_of(100, 0xab);

	memset(pkt, 0, NTP_HEADER_LEN);
	pkt[0] = 0x23;
	return nts_ef_request_append(&c2s, uid, sizeof(uid), &cookie, placeholders, nonce, sizeof(nonce), pkt,
				     NTP_HEADER_LEN, cap);
}

static void request_layout_and_parse(void **state)
{
	(void)state;
	uint8_t pkt[1024], plain[16];
	struct nts_ef_fields f;
	size_t len = build_request(pkt, sizeof(pkt), 2), plain_len;
	struct ntp_packet hdr;
	struct ntp_packet_trailer trailer;

	/* 48 + UID 36 + cookie 104 + 2 placeholders 104 + authenticator 4+4+16+16 */
	assert_int_equal(len, 48 + 36 + 104 + 2 * 104 + 40);
	assert_int_equal(load_be16(pkt + 48), NTS_EF_UNIQUE_ID);
	assert_int_equal(load_be16(pkt + 50), 36);
	assert_int_equal(load_be16(pkt + 84), NTS_EF_COOKIE);
	assert_int_equal(load_be16(pkt + 188), NTS_EF_COOKIE_PLACEHOLDER);
	assert_int_equal(load_be16(pkt + 396), NTS_EF_AUTHENTICATOR);
	assert_int_equal(load_be16(pkt + 398), 40);
	assert_int_equal(load_be16(pkt + 400), 16); /* nonce length */
	assert_int_equal(load_be16(pkt + 402), 16); /* ciphertext: the tag alone */
	/* the generic codec walks it as four... five extension fields, no MAC */
	assert_int_equal(packet_decode(pkt, len, &hdr, &trailer), PACKET_OK);
	assert_int_equal(trailer.extension_fields, 5);
	assert_false(trailer.has_mac);

	assert_int_equal(nts_ef_parse(pkt, len, &f), NTS_EF_OK);
	assert_int_equal(f.uid_len, 32);
	assert_memory_equal(f.uid, uid, 32);
	assert_int_equal(f.cookie_len, 100);
	assert_int_equal(f.placeholders, 2);
	assert_int_equal(f.placeholder_bytes, 200);
	assert_int_equal(f.auth_offset, 396);
	assert_int_equal(nts_ef_decrypt(&c2s, pkt, &f, plain, sizeof(plain), &plain_len), NTS_EF_OK);
	assert_int_equal(plain_len, 0);
	assert_int_equal(nts_ef_decrypt(&s2c, pkt, &f, plain, sizeof(plain), &plain_len), NTS_EF_AUTH_FAILED);
	pkt[40] ^= 1; /* the transmit timestamp is covered */
	assert_int_equal(nts_ef_decrypt(&c2s, pkt, &f, plain, sizeof(plain), &plain_len), NTS_EF_AUTH_FAILED);
	assert_int_equal(build_request(pkt, len - 1, 2), 0);
}

static size_t build_reply(uint8_t *pkt, size_t cap, const uint8_t *echo, size_t n_cookies)
{
	struct nts_cookie cookies[NTS_KE_MAX_COOKIES];

	for (size_t i = 0; i < n_cookies; i++)
		cookies[i] = cookie_of(100, (uint8_t)(0x10 + i));
	memset(pkt, 0, NTP_HEADER_LEN);
	pkt[0] = 0x24;
	return nts_ef_reply_append(&s2c, echo, NTS_UID_LEN, cookies, n_cookies, nonce, sizeof(nonce), pkt,
				   NTP_HEADER_LEN, cap);
}

static void reply_round_trip(void **state)
{
	(void)state;
	uint8_t pkt[2048];
	struct nts_cookie got[NTS_KE_MAX_COOKIES];
	size_t n, len = build_reply(pkt, sizeof(pkt), uid, 3);

	/* 48 + UID 36 + authenticator 4 + 4 + 16 + (16 + 3 * 104) */
	assert_int_equal(len, 48 + 36 + 8 + 16 + 16 + 312);
	assert_int_equal(nts_ef_reply_check(&s2c, pkt, len, uid, sizeof(uid), got, NTS_KE_MAX_COOKIES, &n), NTS_EF_OK);
	assert_int_equal(n, 3);
	assert_int_equal(got[2].len, 100);
	assert_int_equal(got[2].data[99], 0x12);
	/* room for two: the third dropped */
	assert_int_equal(nts_ef_reply_check(&s2c, pkt, len, uid, sizeof(uid), got, 2, &n), NTS_EF_OK);
	assert_int_equal(n, 2);
}

/* The attacks a client must reject, each with its own reason. */
static void forged_replies_are_rejected(void **state)
{
	(void)state;
	uint8_t pkt[2048], other[NTS_UID_LEN];
	struct nts_cookie got[NTS_KE_MAX_COOKIES];
	size_t n, len = build_reply(pkt, sizeof(pkt), uid, 1);

	/* wrong key (a server that does not hold our keys) */
	assert_int_equal(nts_ef_reply_check(&c2s, pkt, len, uid, sizeof(uid), got, 8, &n), NTS_EF_AUTH_FAILED);
	/* any bit of header or tag changed */
	pkt[47] ^= 1;
	assert_int_equal(nts_ef_reply_check(&s2c, pkt, len, uid, sizeof(uid), got, 8, &n), NTS_EF_AUTH_FAILED);
	pkt[47] ^= 1;
	pkt[48 + 36 + 8 + 16] ^= 1;
	assert_int_equal(nts_ef_reply_check(&s2c, pkt, len, uid, sizeof(uid), got, 8, &n), NTS_EF_AUTH_FAILED);
	pkt[48 + 36 + 8 + 16] ^= 1;
	assert_int_equal(n, 0);
	/* a reply to another request (a replay of an older one) */
	memcpy(other, uid, sizeof(other));
	other[5] ^= 0xff;
	assert_int_equal(nts_ef_reply_check(&s2c, pkt, len, other, sizeof(other), got, 8, &n), NTS_EF_UID_MISMATCH);
	/* the authenticator stripped: an unauthenticated reply */
	assert_int_equal(nts_ef_reply_check(&s2c, pkt, 48 + 36, uid, sizeof(uid), got, 8, &n), NTS_EF_NO_AUTH);
	/* no identifier at all */
	assert_int_equal(nts_ef_reply_check(&s2c, pkt, 48, uid, sizeof(uid), got, 8, &n), NTS_EF_NO_UID);
	/* a NAK with our identifier believed, with another not */
	assert_true(nts_ef_has_uid(pkt, 48 + 36, uid, sizeof(uid)));
	assert_false(nts_ef_has_uid(pkt, 48 + 36, other, sizeof(other)));
	assert_int_equal(nts_ef_reply_check(&s2c, pkt, len, uid, sizeof(uid), got, 8, &n), NTS_EF_OK);
}

static void malformed_fields_are_rejected(void **state)
{
	(void)state;
	uint8_t pkt[1024];
	struct nts_ef_fields f;
	size_t len = build_request(pkt, sizeof(pkt), 0), auth = 48 + 36 + 104;

	assert_int_equal(nts_ef_parse(pkt, len, &f), NTS_EF_OK);
	assert_int_equal(nts_ef_parse(pkt, 47, &f), NTS_EF_BAD_FIELD_LENGTH);
	assert_int_equal(nts_ef_parse(pkt, len - 4, &f), NTS_EF_BAD_FIELD_LENGTH); /* field past the end */
	assert_int_equal(nts_ef_parse(pkt, len + 2, &f), NTS_EF_FIELD_AFTER_AUTH);
	store_be16(pkt + 50, 35); /* not a multiple of 4 */
	assert_int_equal(nts_ef_parse(pkt, len, &f), NTS_EF_BAD_FIELD_LENGTH);
	store_be16(pkt + 50, 2); /* shorter than its own header */
	assert_int_equal(nts_ef_parse(pkt, len, &f), NTS_EF_BAD_FIELD_LENGTH);
	store_be16(pkt + 50, 36);
	store_be16(pkt + 84, NTS_EF_UNIQUE_ID); /* the cookie made a second identifier */
	assert_int_equal(nts_ef_parse(pkt, len, &f), NTS_EF_DUPLICATE_FIELD);
	store_be16(pkt + 84, NTS_EF_COOKIE);
	store_be16(pkt + auth + 4, 0); /* empty nonce: GnuTLS would abort */
	assert_int_equal(nts_ef_parse(pkt, len, &f), NTS_EF_BAD_AUTH_FIELD);
	store_be16(pkt + auth + 4, 20); /* nonce longer than the field has room for */
	assert_int_equal(nts_ef_parse(pkt, len, &f), NTS_EF_BAD_AUTH_FIELD);
	store_be16(pkt + auth + 4, 16);
	store_be16(pkt + auth + 6, 15); /* ciphertext shorter than a tag */
	assert_int_equal(nts_ef_parse(pkt, len, &f), NTS_EF_BAD_AUTH_FIELD);
	store_be16(pkt + auth + 6, 0xfff0);
	assert_int_equal(nts_ef_parse(pkt, len, &f), NTS_EF_BAD_AUTH_FIELD);
	store_be16(pkt + auth + 6, 16);
	assert_int_equal(nts_ef_parse(pkt, len, &f), NTS_EF_OK);
	/* an identifier of 16 bytes */
	len = nts_ef_append(pkt, NTP_HEADER_LEN, sizeof(pkt), NTS_EF_UNIQUE_ID, uid, 16);
	assert_int_equal(len, 48 + 20);
	assert_int_equal(nts_ef_parse(pkt, len, &f), NTS_EF_SHORT_UID);
	/* a short body padded to RFC 7822's 16 bytes */
	len = nts_ef_append(pkt, NTP_HEADER_LEN, sizeof(pkt), 0x7777, uid, 3);
	assert_int_equal(len, 48 + 16);
	assert_int_equal(nts_ef_parse(pkt, len, &f), NTS_EF_OK);
	assert_int_equal(f.other_fields, 1);
	assert_int_equal(nts_ef_append(pkt, 48, 48 + 15, 0x7777, uid, 3), 0);
	assert_string_not_equal(nts_ef_status_str(NTS_EF_BAD_AUTH_FIELD), "unknown status");
}

/* The reply's encrypted part holds cookie fields; anything malformed inside
 * is refused even though it authenticates. */
static void malformed_encrypted_fields_are_rejected(void **state)
{
	(void)state;
	uint8_t pkt[512], plain[8] = { 0x02, 0x04, 0x00, 0x03 };
	struct nts_cookie got[8];
	size_t n, len;

	memset(pkt, 0, NTP_HEADER_LEN);
	len = nts_ef_append(pkt, NTP_HEADER_LEN, sizeof(pkt), NTS_EF_UNIQUE_ID, uid, sizeof(uid));
	len = nts_ef_append_auth(&s2c, nonce, sizeof(nonce), plain, sizeof(plain), pkt, len, sizeof(pkt));
	assert_int_not_equal(len, 0);
	assert_int_equal(nts_ef_reply_check(&s2c, pkt, len, uid, sizeof(uid), got, 8, &n), NTS_EF_BAD_ENCRYPTED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(request_layout_and_parse),
		cmocka_unit_test(reply_round_trip),
		cmocka_unit_test(forged_replies_are_rejected),
		cmocka_unit_test(malformed_fields_are_rejected),
		cmocka_unit_test(malformed_encrypted_fields_are_rejected),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
