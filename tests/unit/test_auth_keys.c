/* The keys file parser on chrony's and ntpd's own formats (the lines below
 * follow chrony.conf(5) "keyfile", chronyc keygen's output, ntp.keys(5) and
 * ntp-keygen's output), bad lines, and the file edge's permission rule. */
#include "cmocka_all.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth_keyfile.h"
#include "auth_keys.h"

static int parse(const char *text, struct auth_keyring *ring, char *err, size_t err_len)
{
	return auth_keys_parse(text, strlen(text), "/etc/strata/keys", ring, err, err_len);
}

static void reads_chrony_files(void **state)
{
	(void)state;
	/* as chrony.conf(5) shows them, and as "chronyc keygen 1 SHA1 160" writes */
	static const char text[] = "# comment\n"
				   "! chrony comment\n"
				   "1 MD5 HEX:B028F91EA5C38D06C2E140B26C7F41EC\n"
				   "2 SHA1 HEX:1DC764E0791B11FA67EFC7ECBC4B0D73F68A070C\n"
				   "5 ASCII:mysecretpassword\n"
				   "  7  AES128  HEX:2B7E151628AED2A6ABF7158809CF4F3C  \n"
				   "8 AES256 HEX:603DEB1015CA71BE2B73AEF0857D77811F352C073B6108D72D9810A30914DFF4\n"
				   "\n";
	struct auth_keyring ring;
	const struct auth_key *k;
	char err[256];

	assert_int_equal(parse(text, &ring, err, sizeof(err)), 0);
	assert_int_equal(ring.count, 5);
	k = auth_keyring_find(&ring, 1);
	assert_non_null(k);
	assert_int_equal(k->type, AUTH_MD5);
	assert_int_equal(k->len, 16);
	assert_int_equal(k->value[0], 0xb0);
	k = auth_keyring_find(&ring, 2);
	assert_int_equal(k->type, AUTH_SHA1);
	assert_int_equal(k->len, 20);
	k = auth_keyring_find(&ring, 5);
	assert_int_equal(k->type, AUTH_MD5); /* "ID KEY": chrony's default */
	assert_int_equal(k->len, 16);
	assert_memory_equal(k->value, "mysecretpassword", 16);
	k = auth_keyring_find(&ring, 7);
	assert_int_equal(k->type, AUTH_AES128_CMAC);
	assert_int_equal(k->len, 16);
	k = auth_keyring_find(&ring, 8);
	assert_int_equal(k->type, AUTH_AES256_CMAC);
	assert_int_equal(k->len, 32);
	assert_null(auth_keyring_find(&ring, 3));
	auth_keyring_free(&ring);
}

static void reads_ntpd_files(void **state)
{
	(void)state;
	/* as ntp-keygen -M writes them: ASCII MD5 keys of 20 characters, SHA1
	 * keys as 40 hex digits; ntp 4.2.8's AES128CMAC; NTPsec's "AES" */
	static const char text[] = "# ntpkey_MD5key_host.3793614816\n"
				   "# Wed Mar 18 12:00:00 2020\n"
				   " 1 MD5 \"Yk]CAP.V3&6~t[gOm$S  # MD5 key\n"
				   "11 SHA1 3a45b0a73c8e8e0b3b1a84bab4e6c7e9b2d01e83  # SHA1 key\n"
				   "12 sha256 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n"
				   "13 AES128CMAC 2b7e151628aed2a6abf7158809cf4f3c\n"
				   "14 AES 000102030405060708090a0b0c0d0e0f\n"
				   "15 M short\n"
				   "16 SHA384 HEX:00112233\n"
				   "17 sha224 00112233\n";
	struct auth_keyring ring;
	const struct auth_key *k;
	char err[256];

	assert_int_equal(parse(text, &ring, err, sizeof(err)), 0);
	assert_int_equal(ring.count, 8);
	assert_int_equal(auth_keyring_find(&ring, 16)->type, AUTH_SHA384);
	assert_int_equal(auth_keyring_find(&ring, 17)->type, AUTH_SHA224);
	assert_int_equal(auth_keyring_find(&ring, 17)->len, 8); /* 8 characters: ASCII */
	k = auth_keyring_find(&ring, 1);
	assert_int_equal(k->type, AUTH_MD5);
	assert_int_equal(k->len, 20); /* 20 characters: ASCII, "#" ends it only after */
	assert_memory_equal(k->value, "\"Yk]CAP.V3&6~t[gOm$S", 20);
	k = auth_keyring_find(&ring, 11);
	assert_int_equal(k->type, AUTH_SHA1);
	assert_int_equal(k->len, 20); /* 40 hex digits */
	assert_int_equal(k->value[0], 0x3a);
	k = auth_keyring_find(&ring, 12);
	assert_int_equal(k->type, AUTH_SHA256);
	assert_int_equal(k->len, 32);
	assert_int_equal(auth_keyring_find(&ring, 13)->type, AUTH_AES128_CMAC);
	assert_int_equal(auth_keyring_find(&ring, 14)->type, AUTH_AES128_CMAC);
	k = auth_keyring_find(&ring, 15);
	assert_int_equal(k->type, AUTH_MD5);
	assert_memory_equal(k->value, "short", 5);
	auth_keyring_free(&ring);
}

static void bad_lines_name_file_and_line(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		const char *message;
	} cases[] = {
		{ "1 MD5 abc\n2 FOO abc\n", "/etc/strata/keys:2: key 2: unknown type \"FOO\"" },
		{ "\n\n0 MD5 abc\n", "/etc/strata/keys:3: key id \"0\" is not a number from 1 to 4294967295" },
		{ "4294967296 MD5 abc\n", "/etc/strata/keys:1: key id \"4294967296\"" },
		{ "x1 MD5 abc\n", "/etc/strata/keys:1: key id \"x1\"" },
		{ "1\n", "/etc/strata/keys:1: expected \"ID TYPE KEY\"" },
		{ "1 MD5 abc extra\n", "/etc/strata/keys:1: expected \"ID TYPE KEY\"" },
		{ "1 MD5 HEX:abc\n", "/etc/strata/keys:1: HEX: key is not an even number of hex digits" },
		{ "1 MD5 HEX:zz\n", "/etc/strata/keys:1: HEX: key is not" },
		{ "1 MD5 ASCII:\n", "/etc/strata/keys:1: empty key" },
		{ "3 AES128 HEX:0011\n", "/etc/strata/keys:1: key 3: AES128 needs a key of 16 bytes, not 2" },
		{ "3 AES256 HEX:2B7E151628AED2A6ABF7158809CF4F3C\n", "/etc/strata/keys:1: key 3: AES256 needs a key of 32" },
		{ "1 MD5 a\n2 MD5 b\n1 SHA1 c\n", "/etc/strata/keys: key 1 is defined twice" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct auth_keyring ring = { 0 };
		char err[256] = "";

		assert_int_equal(parse(cases[i].text, &ring, err, sizeof(err)), -1);
		if (strncmp(err, cases[i].message, strlen(cases[i].message)) != 0)
			fail_msg("case %zu: got \"%s\", wanted \"%s...\"", i, err, cases[i].message);
		assert_null(ring.keys);
	}
}

static void nul_bytes_and_missing_newline(void **state)
{
	(void)state;
	struct auth_keyring ring = { 0 };
	char err[256];
	static const char nul[] = "1 MD5 ab\0c\n";

	assert_int_equal(auth_keys_parse(nul, sizeof(nul) - 1, "k", &ring, err, sizeof(err)), -1);
	assert_string_equal(err, "k:1: NUL byte in the line");
	assert_int_equal(parse("9 SHA1 HEX:00112233", &ring, err, sizeof(err)), 0);
	assert_int_equal(ring.count, 1);
	assert_int_equal(ring.keys[0].len, 4);
	auth_keyring_free(&ring);
	assert_int_equal(parse("# nothing\n", &ring, err, sizeof(err)), 0);
	assert_int_equal(ring.count, 0);
	assert_null(auth_keyring_find(&ring, 1));
	auth_keyring_free(&ring);
}

static void file_permissions_are_checked(void **state)
{
	(void)state;
	char dir[] = "/tmp/strata-keys-XXXXXX";
	char path[64], err[256];
	struct auth_keyring ring = { 0 };
	FILE *f;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/keys", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("1 SHA1 HEX:0102030405060708090A0B0C0D0E0F1011121314\n2 MD5 x y z\n", f);
	fclose(f);

	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(auth_keyfile_load(path, &ring, err, sizeof(err)), -1);
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, "readable by others (mode 0644)"));
	assert_int_equal(chmod(path, 0602), 0);
	assert_int_equal(auth_keyfile_load(path, &ring, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "writable by others"));

	assert_int_equal(chmod(path, 0640), 0);
	assert_int_equal(auth_keyfile_load(path, &ring, err, sizeof(err)), -1);
	assert_non_null(strstr(err, ":2: expected \"ID TYPE KEY\""));

	f = fopen(path, "w");
	fputs("1 SHA1 HEX:0102030405060708090A0B0C0D0E0F1011121314\n", f);
	fclose(f);
	assert_int_equal(auth_keyfile_load(path, &ring, err, sizeof(err)), 0);
	assert_int_equal(ring.count, 1);
	auth_keyring_free(&ring);

	assert_int_equal(auth_keyfile_load(dir, &ring, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not a regular file"));
	unlink(path);
	assert_int_equal(auth_keyfile_load(path, &ring, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "cannot open the keys file"));
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(reads_chrony_files),
		cmocka_unit_test(reads_ntpd_files),
		cmocka_unit_test(bad_lines_name_file_and_line),
		cmocka_unit_test(nul_bytes_and_missing_newline),
		cmocka_unit_test(file_permissions_are_checked),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
