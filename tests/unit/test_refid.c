#include "cmocka_all.h"

#include <stdio.h>
#include <string.h>

#include "refid.h"

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

/* RFC 5905: the first four bytes of the MD5 digest of the address; the
 * figure is Python's hashlib.md5 of 2001:db8::1, an independent MD5. */
static void ipv6_refid_is_md5_prefix(void **state)
{
	(void)state;
	struct net_addr a;

	assert_true(netaddr_parse("2001:db8::1", &a));
	assert_int_equal(refid_from_addr(&a), 0x39ab9b37u);
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
		cmocka_unit_test(ipv4_refid_is_the_address),
		cmocka_unit_test(ipv6_refid_is_md5_prefix),
		cmocka_unit_test(names_and_kiss_codes_are_ascii),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
