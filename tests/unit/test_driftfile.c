#include "cmocka_all.h"

#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "driftfile.h"

static char dir[64];
static char file[96];

static int make_dir(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test_driftfile.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(file, sizeof(file), "%s/drift", dir);
	return 0;
}

static int remove_dir(void **state)
{
	char cmd[96];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void put(const char *content)
{
	FILE *f = fopen(file, "w");

	assert_non_null(f);
	fputs(content, f);
	fclose(f);
}

/* The frequency alone, as the tests of the file's handling need it. */
static int write_frequency(const char *path, double ppm, char *why)
{
	struct drift_state state = { .frequency_ppm = ppm };

	return driftfile_write(path, &state, why, 256);
}

static enum driftfile_status read_frequency(const char *path, double *ppm, char *why)
{
	struct drift_state state = { .frequency_ppm = *ppm };
	enum driftfile_status st = driftfile_read(path, 500, &state, why, 256);

	*ppm = state.frequency_ppm;
	return st;
}

static void written_frequency_reads_back(void **state)
{
	(void)state;
	char why[256];
	double ppm = 0;

	assert_int_equal(write_frequency(file, -12.345678, why), 0);
	assert_int_equal(read_frequency(file, &ppm, why), DRIFTFILE_OK);
	assert_true(ppm == -12.345678);
	assert_int_equal(write_frequency(file, 3.5, why), 0);
	assert_int_equal(read_frequency(file, &ppm, why), DRIFTFILE_OK);
	assert_true(ppm == 3.5);
}

static void the_wander_reads_back_with_the_frequency(void **state)
{
	(void)state;
	char why[256], text[64] = "";
	struct drift_state in = { .frequency_ppm = -12.345678, .wander_ppm_per_s = 0.0316228 }, out = { 0 };
	FILE *f;

	assert_int_equal(driftfile_write(file, &in, why, sizeof(why)), 0);
	f = fopen(file, "r");
	assert_non_null(f);
	assert_non_null(fgets(text, sizeof(text), f));
	fclose(f);
	assert_string_equal(text, "-12.345678 wander=0.03162\n");
	assert_int_equal(driftfile_read(file, 500, &out, why, sizeof(why)), DRIFTFILE_OK);
	assert_true(out.frequency_ppm == -12.345678);
	assert_float_equal(out.wander_ppm_per_s, 0.03162, 1e-12);
}

/* An older stratad's file and ntpd's hold the frequency alone; chrony's
 * holds its skew after it, another quantity: neither gives a wander. */
static void files_of_other_daemons_give_the_frequency_alone(void **state)
{
	(void)state;
	static const char *const files[] = { "3.500000\n", "3.5", "             3.500000             0.012000\n",
					     "3.5\t0.012\n" };
	char why[256];

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		struct drift_state out = { .wander_ppm_per_s = 7 };

		put(files[i]);
		assert_int_equal(driftfile_read(file, 500, &out, why, sizeof(why)), DRIFTFILE_OK);
		assert_true(out.frequency_ppm == 3.5);
		assert_true(out.wander_ppm_per_s == 0.0);
	}
}

static void a_bad_wander_makes_the_file_corrupt(void **state)
{
	(void)state;
	static const char *const bad[] = { "3.5 wander=\n", "3.5 wander=0\n", "3.5 wander=-0.01\n",
					   "3.5 wander=nan\n", "3.5 wander= 0.01\n", "3.5 wander=0.01x\n",
					   "3.5 wander=0.01 0.02\n", "3.5 0.012 wander=0.01\n", "3.5\nwander=0.01\n" };
	char why[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct drift_state out = { .frequency_ppm = 7, .wander_ppm_per_s = 7 };

		put(bad[i]);
		assert_int_equal(driftfile_read(file, 500, &out, why, sizeof(why)), DRIFTFILE_CORRUPT);
		assert_non_null(strstr(why, "corrupt"));
		assert_true(out.frequency_ppm == 7 && out.wander_ppm_per_s == 7);
	}
}

static void no_temporary_file_is_left_behind(void **state)
{
	(void)state;
	char why[256], cmd[128];

	assert_int_equal(write_frequency(file, 1.0, why), 0);
	snprintf(cmd, sizeof(cmd), "test $(ls -A %s | wc -l) -eq 1", dir);
	assert_int_equal(system(cmd), 0);
}

static void a_missing_file_is_told_apart(void **state)
{
	(void)state;
	char why[256];
	double ppm = 7;

	unlink(file);
	assert_int_equal(read_frequency(file, &ppm, why), DRIFTFILE_MISSING);
	assert_true(ppm == 7);
}

static void corrupt_content_is_reported(void **state)
{
	(void)state;
	static const char *const bad[] = { "", "\n", "abc\n", "1.5 ppm\n", "nan\n", "inf\n", "600.0\n", "1e400\n",
					   "12.5\n13.5\n" };
	char why[256];
	double ppm = 7;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		put(bad[i]);
		assert_int_equal(read_frequency(file, &ppm, why), DRIFTFILE_CORRUPT);
		assert_non_null(strstr(why, "corrupt"));
		assert_true(ppm == 7);
	}
	put("-499.5\n");
	assert_int_equal(read_frequency(file, &ppm, why), DRIFTFILE_OK);
	assert_true(ppm == -499.5);
}

static void a_failed_write_keeps_the_old_file(void **state)
{
	(void)state;
	char why[256], bad_path[128];
	double ppm = 0;

	assert_int_equal(write_frequency(file, 2.25, why), 0);
	snprintf(bad_path, sizeof(bad_path), "%s/missing/drift", dir);
	assert_int_equal(write_frequency(bad_path, 9.0, why), -1);
	assert_non_null(strstr(why, bad_path));
	assert_int_equal(read_frequency(file, &ppm, why), DRIFTFILE_OK);
	assert_true(ppm == 2.25);
}

/* "12\0junk" read as 12 ppm before: strtod stopped at the NUL. */
static void a_nul_byte_makes_it_corrupt_and_the_file_is_kept(void **state)
{
	(void)state;
	char why[256], buf[16];
	double ppm = 7;
	int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, "12\0junk\n", 8), 8);
	close(fd);
	assert_int_equal(read_frequency(file, &ppm, why), DRIFTFILE_CORRUPT);
	assert_non_null(strstr(why, "NUL"));
	assert_true(ppm == 7);
	fd = open(file, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(read(fd, buf, sizeof(buf)), 8);
	close(fd);
	assert_memory_equal(buf, "12\0junk\n", 8);
}

/* A FIFO blocked the daemon in open(). */
static void a_fifo_is_refused_without_blocking(void **state)
{
	(void)state;
	char why[256];
	double ppm = 7;

	assert_int_equal(mkfifo(file, 0600), 0);
	alarm(10); /* a blocked open fails the test instead of hanging it */
	assert_int_equal(read_frequency(file, &ppm, why), DRIFTFILE_ERROR);
	alarm(0);
	assert_non_null(strstr(why, "not a regular file (a FIFO)"));
	assert_true(ppm == 7);
}

static void make(const char *name, bool directory)
{
	char p[160];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	if (directory)
		assert_int_equal(mkdir(p, 0700), 0);
	else
		assert_int_equal(close(open(p, O_WRONLY | O_CREAT, 0600)), 0);
}

static bool exists(const char *name)
{
	char p[160];
	struct stat st;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return lstat(p, &st) == 0;
}

/* A writer killed between mkostemp and rename leaves drift.XXXXXX behind. */
static void stale_temporary_files_are_removed(void **state)
{
	(void)state;
	char why[256], link_path[160];

	assert_int_equal(write_frequency(file, 1.0, why), 0);
	make("drift.a1B2c3", false);
	make("drift.zzzzzz", false);
	make("drift.short", false);
	make("drift.abcdefg", false);
	make("other.a1B2c3", false);
	make("drift.dir123", true);
	snprintf(link_path, sizeof(link_path), "%s/drift.link12", dir);
	assert_int_equal(symlink(file, link_path), 0);
	assert_int_equal(driftfile_remove_stale(file, why, sizeof(why)), 2);
	assert_false(exists("drift.a1B2c3"));
	assert_false(exists("drift.zzzzzz"));
	assert_true(exists("drift"));
	assert_true(exists("drift.short"));
	assert_true(exists("drift.abcdefg"));
	assert_true(exists("other.a1B2c3"));
	assert_true(exists("drift.dir123"));
	assert_true(exists("drift.link12"));
	assert_int_equal(driftfile_remove_stale(file, why, sizeof(why)), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(written_frequency_reads_back, make_dir, remove_dir),
		cmocka_unit_test_setup_teardown(the_wander_reads_back_with_the_frequency, make_dir, remove_dir),
		cmocka_unit_test_setup_teardown(files_of_other_daemons_give_the_frequency_alone, make_dir, remove_dir),
		cmocka_unit_test_setup_teardown(a_bad_wander_makes_the_file_corrupt, make_dir, remove_dir),
		cmocka_unit_test_setup_teardown(no_temporary_file_is_left_behind, make_dir, remove_dir),
		cmocka_unit_test_setup_teardown(a_missing_file_is_told_apart, make_dir, remove_dir),
		cmocka_unit_test_setup_teardown(corrupt_content_is_reported, make_dir, remove_dir),
		cmocka_unit_test_setup_teardown(a_failed_write_keeps_the_old_file, make_dir, remove_dir),
		cmocka_unit_test_setup_teardown(a_nul_byte_makes_it_corrupt_and_the_file_is_kept, make_dir, remove_dir),
		cmocka_unit_test_setup_teardown(a_fifo_is_refused_without_blocking, make_dir, remove_dir),
		cmocka_unit_test_setup_teardown(stale_temporary_files_are_removed, make_dir, remove_dir),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
