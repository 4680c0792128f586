/* The master keys of the NTS server: when they rotate (pure), how many are
 * kept, and the file that carries them across a restart and to a second
 * server. */
#include "cmocka_all.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nts_key_rotation.h"
#include "nts_server_keys.h"

#define WEEK (7 * 86400)

static struct nts_master_key key(uint32_t id, uint8_t fill)
{
	struct nts_master_key k = { .id = id };

	memset(k.key, fill, sizeof(k.key));
	return k;
}

static void rotation_is_due_after_the_interval(void **state)
{
	struct nts_master_keys keys = { 0 };
	struct nts_master_key k = key(7, 0x11);

	(void)state;
	assert_int_equal(nts_keys_decide(&keys, 1000, WEEK), NTS_KEYS_ROTATE); /* none yet */
	assert_int_equal(nts_keys_decide(&keys, 1000, 0), NTS_KEYS_ROTATE);    /* even a follower needs one */
	nts_keys_rotate(&keys, &k, 1000);
	assert_int_equal(nts_keys_decide(&keys, 1000 + WEEK - 1, WEEK), NTS_KEYS_KEEP);
	assert_int_equal(nts_keys_decide(&keys, 1000 + WEEK, WEEK), NTS_KEYS_ROTATE);
	assert_int_equal(nts_keys_decide(&keys, 1000 + 10 * WEEK, 0), NTS_KEYS_KEEP);
	/* the clock went back far: a key "from the future" must still rotate */
	assert_int_equal(nts_keys_decide(&keys, 1000 - WEEK - 1, WEEK), NTS_KEYS_ROTATE);
	assert_int_equal(nts_keys_decide(&keys, 1000 - 10, WEEK), NTS_KEYS_KEEP);
}

static void three_keys_kept_newest_first(void **state)
{
	struct nts_master_keys keys = { 0 };

	(void)state;
	for (uint32_t i = 1; i <= 5; i++) {
		struct nts_master_key k = key(i, (uint8_t)i);

		nts_keys_rotate(&keys, &k, i * WEEK);
	}
	assert_int_equal(keys.count, NTS_MASTER_KEYS_MAX);
	assert_int_equal(nts_keys_current(&keys)->id, 5);
	assert_non_null(nts_keys_find(&keys, 4));
	assert_non_null(nts_keys_find(&keys, 3));
	assert_null(nts_keys_find(&keys, 2));
	assert_int_equal(nts_keys_find(&keys, 3)->key[0], 3);
	assert_int_equal(keys.created, 5 * WEEK);
}

static void a_repeated_id_is_made_unique(void **state)
{
	struct nts_master_keys keys = { 0 };
	struct nts_master_key a = key(9, 1), b = key(9, 2);

	(void)state;
	nts_keys_rotate(&keys, &a, 1);
	nts_keys_rotate(&keys, &b, 2);
	assert_int_equal(keys.count, 2);
	assert_int_not_equal(keys.keys[0].id, keys.keys[1].id);
	assert_int_equal(nts_keys_find(&keys, 9)->key[0], 1);
}

static void file_text_round_trips(void **state)
{
	struct nts_master_keys keys = { 0 }, back;
	char text[1024], why[128];

	(void)state;
	for (uint32_t i = 0; i < 3; i++) {
		struct nts_master_key k = key(0xfffffff0u + i, (uint8_t)(0xa0 + i));

		nts_keys_rotate(&keys, &k, 1700000000 + i);
	}
	assert_true(nts_server_keys_format(&keys, text, sizeof(text)) < (int)sizeof(text));
	assert_int_equal(nts_server_keys_parse(text, &back, why, sizeof(why)), 0);
	assert_int_equal(back.count, 3);
	assert_int_equal(back.created, keys.created);
	assert_memory_equal(back.keys, keys.keys, sizeof(keys.keys));
}

static void bad_files_are_named(void **state)
{
	struct nts_master_keys keys;
	char why[160];

	(void)state;
	assert_int_equal(nts_server_keys_parse("created 5\n", &keys, why, sizeof(why)), -1);
	assert_string_equal(why, "no key");
	assert_int_equal(nts_server_keys_parse("created 5\nkey 0000000g "
					       "00000000000000000000000000000000000000000000000000000000000000\n",
					       &keys, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "line 2"));
	assert_int_equal(nts_server_keys_parse("created 5\nkey 00000001 00\n", &keys, why, sizeof(why)), -1);
	assert_int_equal(nts_server_keys_parse("cretaed 5\n", &keys, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "line 1"));
}

static char dir[64], path[96];

static void restart_and_second_server_share_the_file(void **state)
{
	struct nts_server_keys first = { .path = path, .rotate = WEEK };
	struct nts_server_keys second = { .path = path, .rotate = 0 };
	struct stat st;
	char why[256];
	bool changed;
	uint32_t old_id;

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test_nts_keys.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/nts-server-keys", dir);

	assert_int_equal(nts_server_keys_update(&first, 1000, &changed, why, sizeof(why)), 0);
	assert_true(changed);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(nts_server_keys_update(&first, 2000, &changed, why, sizeof(why)), 0);
	assert_false(changed);

	/* the second server reads, never rotates */
	assert_int_equal(nts_server_keys_update(&second, 2000, &changed, why, sizeof(why)), 0);
	assert_true(changed);
	assert_memory_equal(&second.keys, &first.keys, sizeof(first.keys));
	old_id = nts_keys_current(&first.keys)->id;

	/* a week on, the first rotates; the second follows the file */
	usleep(20000); /* a modification time the file system can tell apart */
	assert_int_equal(nts_server_keys_update(&first, 1000 + WEEK, &changed, why, sizeof(why)), 0);
	assert_true(changed);
	assert_int_equal(first.keys.count, 2);
	assert_int_equal(nts_server_keys_update(&second, 1000 + 20 * WEEK, &changed, why, sizeof(why)), 0);
	assert_true(changed);
	assert_memory_equal(&second.keys, &first.keys, sizeof(first.keys));
	assert_non_null(nts_keys_find(&second.keys, old_id));

	/* a restart reads the same keys */
	struct nts_server_keys restarted = { .path = path, .rotate = WEEK };

	assert_int_equal(nts_server_keys_update(&restarted, 1000 + WEEK + 5, &changed, why, sizeof(why)), 0);
	assert_memory_equal(&restarted.keys, &first.keys, sizeof(first.keys));

	/* a broken file: an error naming it, the keys held stay */
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs("garbage\n", f);
	fclose(f);
	assert_int_equal(nts_server_keys_update(&restarted, 1000 + WEEK + 6, &changed, why, sizeof(why)), -1);
	assert_non_null(strstr(why, path));
	assert_memory_equal(&restarted.keys, &first.keys, sizeof(first.keys));
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(rotation_is_due_after_the_interval),
		cmocka_unit_test(three_keys_kept_newest_first),
		cmocka_unit_test(a_repeated_id_is_made_unique),
		cmocka_unit_test(file_text_round_trips),
		cmocka_unit_test(bad_files_are_named),
		cmocka_unit_test(restart_and_second_server_share_the_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
