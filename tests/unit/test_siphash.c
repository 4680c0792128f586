#include "cmocka_all.h"

#include "siphash.h"

/* The reference vectors of the SipHash paper: key 00..0f, message 00..(n-1). */
static void matches_reference_vectors(void **state)
{
	(void)state;
	uint8_t key[SIPHASH_KEY_LEN], msg[16];

	for (int i = 0; i < 16; i++)
		key[i] = msg[i] = (uint8_t)i;
	assert_true(siphash24(key, msg, 0) == 0x726fdb47dd0e0e31ULL);
	assert_true(siphash24(key, msg, 8) == 0x93f5f5799a932462ULL);
	assert_true(siphash24(key, msg, 15) == 0xa129ca6149be45e5ULL);
}

static void key_changes_the_hash(void **state)
{
	(void)state;
	uint8_t a[SIPHASH_KEY_LEN] = { 0 }, b[SIPHASH_KEY_LEN] = { 1 };
	const char msg[] = "192.0.2.1";

	assert_true(siphash24(a, msg, sizeof(msg)) != siphash24(b, msg, sizeof(msg)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(matches_reference_vectors),
		cmocka_unit_test(key_changes_the_hash),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
