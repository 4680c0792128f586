#include "cmocka_all.h"

#include <fcntl.h>
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
	(void)state;
	unlink(file);
	rmdir(dir);
	return 0;
}

static void put(const char *content)
{
	FILE *f = fopen(file, "w");

	assert_non_null(f);
	fputs(content, f);
	fclose(f);
}

static void written_frequency_reads_back(void **state)
{
	(void)state;
	char why[256];
	double ppm = 0;

	assert_int_equal(driftfile_write(file, -12.345678, why, sizeof(why)), 0);
	assert_int_equal(driftfile_read(file, 500, &ppm, why, sizeof(why)), DRIFTFILE_OK);
	assert_true(ppm == -12.345678);
	assert_int_equal(driftfile_write(file, 3.5, why, sizeof(why)), 0);
	assert_int_equal(driftfile_read(file, 500, &ppm, why, sizeof(why)), DRIFTFILE_OK);
	assert_true(ppm == 3.5);
}

static void no_temporary_file_is_left_behind(void **state)
{
	(void)state;
	char why[256], cmd[128];

	assert_int_equal(driftfile_write(file, 1.0, why, sizeof(why)), 0);
	snprintf(cmd, sizeof(cmd), "test $(ls -A %s | wc -l) -eq 1", dir);
	assert_int_equal(system(cmd), 0);
}

static void a_missing_file_is_told_apart(void **state)
{
	(void)state;
	char why[256];
	double ppm = 7;

	unlink(file);
	assert_int_equal(driftfile_read(file, 500, &ppm, why, sizeof(why)), DRIFTFILE_MISSING);
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
		assert_int_equal(driftfile_read(file, 500, &ppm, why, sizeof(why)), DRIFTFILE_CORRUPT);
		assert_non_null(strstr(why, "corrupt"));
		assert_true(ppm == 7);
	}
	put("-499.5\n");
	assert_int_equal(driftfile_read(file, 500, &ppm, why, sizeof(why)), DRIFTFILE_OK);
	assert_true(ppm == -499.5);
}

static void a_failed_write_keeps_the_old_file(void **state)
{
	(void)state;
	char why[256], bad_path[128];
	double ppm = 0;

	assert_int_equal(driftfile_write(file, 2.25, why, sizeof(why)), 0);
	snprintf(bad_path, sizeof(bad_path), "%s/missing/drift", dir);
	assert_int_equal(driftfile_write(bad_path, 9.0, why, sizeof(why)), -1);
	assert_non_null(strstr(why, bad_path));
	assert_int_equal(driftfile_read(file, 500, &ppm, why, sizeof(why)), DRIFTFILE_OK);
	assert_true(ppm == 2.25);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(written_frequency_reads_back, make_dir, remove_dir),
		cmocka_unit_test_setup_teardown(no_temporary_file_is_left_behind, make_dir, remove_dir),
		cmocka_unit_test_setup_teardown(a_missing_file_is_told_apart, make_dir, remove_dir),
		cmocka_unit_test_setup_teardown(corrupt_content_is_reported, make_dir, remove_dir),
		cmocka_unit_test_setup_teardown(a_failed_write_keeps_the_old_file, make_dir, remove_dir),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
