#include "cmocka_all.h"

#include <stdio.h>
#include <string.h>

#include "md5.h"
#include "refid.h"

static void md5_matches_rfc1321_vectors(void **state)
{
	(void)state;
	static const struct {
		const char *input;
		const char *hex;
	} vectors[] = {
		{ "", "d41d8cd98f00b204e9800998ecf8427e" },
		{ "abc", "900150983cd24fb0d6963f7d28e17f72" },
		{ "message digest", "f96b697d7cb7938d525a2f31aaf161d0" },
		{ "12345678901234567890123456789012345678901234567890123456789012345678901234567890",
		  "57edf4a22be3c955ac49da2e2107b67a" },
	};

	for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		uint8_t digest[MD5_DIGEST_LEN];
		char hex[33];

		md5_digest(vectors[i].input, strlen(vectors[i].input), digest);
		for (int j = 0; j < MD5_DIGEST_LEN; j++)
			snprintf(hex + 2 * j, 3, "%02x", digest[j]);
		assert_string_equal(hex, vectors[i].hex);
	}
}

static void ipv4_refid_is_the_address(void **state)
{
	(void)state;
	struct net_addr a;
	char text[REFID_TEXT_LEN];

	assert_true(netaddr_parse("192.0.2.1", &a));
	assert_int_equal(refid_from_addr(&a), 0xc0000201u);
	refid_format(refid_from_addr(&a), 3, text);
	assert_string_equal(text, "192.0.2.1");
}

static void ipv6_refid_is_md5_prefix(void **state)
{
	(void)state;
	struct net_addr a;
	uint8_t digest[MD5_DIGEST_LEN];

	assert_true(netaddr_parse("2001:db8::1", &a));
	md5_digest(a.bytes, 16, digest);
	uint32_t expected = (uint32_t)digest[0] << 24 | (uint32_t)digest[1] << 16 |
			    (uint32_t)digest[2] << 8 | digest[3];

	assert_int_equal(refid_from_addr(&a), expected);
}

static void names_and_kiss_codes_are_ascii(void **state)
{
	(void)state;
	char text[REFID_TEXT_LEN];
	char ascii[5];

	assert_int_equal(refid_from_name("RATE"), 0x52415445u);
	refid_format(refid_from_name("GPS"), 1, text);
	assert_string_equal(text, "GPS");
	refid_format(refid_from_name("DENY"), 0, text);
	assert_string_equal(text, "DENY");
	refid_ascii(0x41010000u, ascii);
	assert_string_equal(ascii, "A?");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(md5_matches_rfc1321_vectors),
		cmocka_unit_test(ipv4_refid_is_the_address),
		cmocka_unit_test(ipv6_refid_is_md5_prefix),
		cmocka_unit_test(names_and_kiss_codes_are_ascii),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
