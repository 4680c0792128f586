/* The leap-seconds.list parser. The SHA-1 figures were computed by Python's
 * hashlib (an independent SHA-1) over the digits the IERS format hashes; the
 * real file is Debian's tzdata copy, hashed by the IERS itself. */
#include "cmocka_all.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "leap_list.h"

#define SMALL_HEAD "#\tA list cut down to two leap seconds\n" \
	"#$\t3676924800\n" \
	"#@\t3707596800\n" \
	"#\n" \
	"3644697600\t36\t# 1 Jul 2015\n" \
	"3692217600\t37\t# 1 Jan 2017\n"
#define SMALL_HASH "#h\t69819b11 4add8248 4c1f2799 a5994f71 2bcf979c\n"

static int parse(const char *text, struct leap_table *t, struct leap_list_error *err)
{
	return leap_list_parse(text, strlen(text), t, err);
}

static void small_list_parses(void **state)
{
	(void)state;
	struct leap_table t;
	struct leap_list_error err;

	assert_int_equal(parse(SMALL_HEAD SMALL_HASH, &t, &err), 0);
	assert_int_equal(t.count, 2);
	assert_int_equal(t.when[0], 1435708800); /* 2015-07-01 00:00:00 UTC */
	assert_int_equal(t.tai[0], 36);
	assert_int_equal(t.when[1], 1483228800); /* 2017-01-01 00:00:00 UTC */
	assert_int_equal(t.tai[1], 37);
	assert_int_equal(t.expires, 1498608000); /* 2017-06-28 */
}

/* Some published files drop the leading zeros of a hash word; CRLF lines. */
static void hash_words_without_leading_zeros(void **state)
{
	(void)state;
	struct leap_table t;
	struct leap_list_error err;
	/* SHA-1 00a255e8 f427f9e7 d4059214 5ced838c 3d5ac9f2 (hashlib) */
	const char *short_words = "#$ 3676924933\r\n#@ 3707596800\r\n3644697600 36\r\n3692217600 37 # 1 Jan 2017\r\n"
				  "#h a255e8 f427f9e7 d4059214 5ced838c 3d5ac9f2\r\n";
	const char *long_word = "#$ 3676924933\r\n#@ 3707596800\r\n3644697600 36\r\n3692217600 37\r\n"
				"#h 000a255e8 f427f9e7 d4059214 5ced838c 3d5ac9f2\r\n";

	assert_int_equal(parse(short_words, &t, &err), 0);
	assert_int_equal(t.count, 2);
	/* nine digits is not a 32-bit word */
	assert_int_equal(parse(long_word, &t, &err), -1);
	assert_int_equal(err.line, 5);
}

static void a_changed_digit_fails_the_hash(void **state)
{
	(void)state;
	struct leap_table t;
	struct leap_list_error err;
	char text[1024];

	snprintf(text, sizeof(text), "%s%s", SMALL_HEAD, SMALL_HASH);
	*strstr(text, "3707596800") = '4'; /* the expiry pushed 1e9 s later */
	assert_int_equal(parse(text, &t, &err), -1);
	assert_int_equal(err.line, 0);
	assert_non_null(strstr(err.message, "SHA-1"));
	assert_int_equal(t.count, 0);
}

static void missing_lines_are_errors(void **state)
{
	(void)state;
	struct leap_table t;
	struct leap_list_error err;

	assert_int_equal(parse(SMALL_HEAD, &t, &err), -1);
	assert_non_null(strstr(err.message, "#h"));
	assert_int_equal(parse("#$\t3676924800\n3644697600\t36\n" SMALL_HASH, &t, &err), -1);
	assert_non_null(strstr(err.message, "#@"));
	assert_int_equal(parse("#@\t3707596800\n" SMALL_HASH, &t, &err), -1);
	assert_non_null(strstr(err.message, "no leap second lines"));
	assert_int_equal(parse("", &t, &err), -1);
}

/* Each bad line is named by its number, and nothing of the file is kept. */
static void bad_lines_name_their_line(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		unsigned line;
		const char *says;
	} cases[] = {
		{ "#@ 3707596800\n3644697600 36\n3692217600\n", 3, "NTPSECONDS TAIOFFSET" },
		{ "#@ 3707596800\n3644697600 36\n3692217600 37 38\n", 3, "NTPSECONDS TAIOFFSET" },
		{ "#@ 3707596800\n3644697600 x36\n", 2, "NTPSECONDS TAIOFFSET" },
		{ "#@ 3707596800\n3644697601 36\n", 2, "midnight" },
		{ "#@ 3707596800\n3692217600 37\n3644697600 36\n", 3, "increase" },
		{ "#@ 3707596800\n3644697600 36\n3692217600 38\n", 3, "+2 s" },
		{ "#@ 3707596800 1\n", 1, "#@" },
		{ "\n#@ soon\n", 2, "#@" },
		{ "#$ 3676924800\n#h 1 2 3 4\n", 2, "#h" },
		{ "#h 1 2 3 4 5 6\n", 1, "more than five" },
		{ "#@ 3707596800\n36446976000000000 36\n", 2, "NTPSECONDS" },
	};
	struct leap_table t;
	struct leap_list_error err;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = parse(cases[i].text, &t, &err);

		if (rc != -1 || err.line != cases[i].line || !strstr(err.message, cases[i].says))
			fail_msg("case %zu: rc %d line %u \"%s\"", i, rc, err.line, err.message);
		assert_int_equal(t.count, 0);
	}
}

static void nul_bytes_are_refused(void **state)
{
	(void)state;
	struct leap_table t;
	struct leap_list_error err;
	const char text[] = "#@ 3707596800\n3644697600 36\0\n";

	assert_int_equal(leap_list_parse(text, sizeof(text) - 1, &t, &err), -1);
	assert_int_equal(err.line, 2);
}

/* Debian's tzdata copy of the IERS file: its own hash holds, and it has the
 * 27 leap seconds from 1972 to 2017 (TAI - UTC from 10 s to 37 s). */
static void debian_tzdata_file_parses(void **state)
{
	(void)state;
	FILE *f = fopen("/usr/share/zoneinfo/leap-seconds.list", "r");
	static char text[65536];
	struct leap_table t;
	struct leap_list_error err;
	size_t n;

	assert_non_null(f); /* tzdata is installed by tools/setup-debian */
	n = fread(text, 1, sizeof(text), f);
	fclose(f);
	if (leap_list_parse(text, n, &t, &err) != 0)
		fail_msg("line %u: %s", err.line, err.message);
	assert_int_equal(t.count, 28);
	assert_int_equal(t.when[0], 63072000); /* 1972-01-01 */
	assert_int_equal(t.tai[0], 10);
	assert_int_equal(t.when[27], 1483228800);
	assert_int_equal(t.tai[27], 37);
	assert_true(t.expires > 1483228800);
}

static void table_add_keeps_order(void **state)
{
	(void)state;
	struct leap_table t = { 0 };

	assert_int_equal(leap_table_add(&t, 100, 10), 0);
	assert_int_equal(leap_table_add(&t, 100, 11), -1);
	assert_int_equal(leap_table_add(&t, 50, 11), -1);
	for (int i = 1; i < LEAP_TABLE_MAX; i++)
		assert_int_equal(leap_table_add(&t, 100 + i, 10 + i), 0);
	assert_int_equal(leap_table_add(&t, 100000, 1), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(small_list_parses),
		cmocka_unit_test(hash_words_without_leading_zeros),
		cmocka_unit_test(a_changed_digit_fails_the_hash),
		cmocka_unit_test(missing_lines_are_errors),
		cmocka_unit_test(bad_lines_name_their_line),
		cmocka_unit_test(nul_bytes_are_refused),
		cmocka_unit_test(debian_tzdata_file_parses),
		cmocka_unit_test(table_add_keeps_order),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
