/* Leap tables from the system: Debian's leap-seconds.list and the right/UTC
 * zone are two independent records (the IERS file, and zic's compiled
 * zone), so each checks the other. */
#include "cmocka_all.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "leap_load.h"

#define LIST "/usr/share/zoneinfo/leap-seconds.list"
#define NOW_2026 1780000000

static void zone_and_list_agree(void **state)
{
	(void)state;
	static struct leap_table list, tz;
	char err[256];

	if (leap_load_list(LIST, &list, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	if (leap_load_tz("right/UTC", NOW_2026, &tz, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_int_equal(tz.count, list.count);
	for (size_t i = 0; i < list.count; i++) {
		assert_int_equal(tz.when[i], list.when[i]);
		assert_int_equal(tz.tai[i], list.tai[i]);
	}
	assert_true(tz.expires == LEAP_NEVER_EXPIRES);
}

static void the_caller_keeps_its_zone(void **state)
{
	(void)state;
	static struct leap_table tz;
	char err[256];

	setenv("TZ", "Europe/Prague", 1);
	assert_int_equal(leap_load_tz("right/UTC", NOW_2026, &tz, err, sizeof(err)), 0);
	assert_string_equal(getenv("TZ"), "Europe/Prague");
	unsetenv("TZ");
	assert_int_equal(leap_load_tz("right/UTC", NOW_2026, &tz, err, sizeof(err)), 0);
	assert_null(getenv("TZ"));
}

static void a_zone_without_leap_seconds_is_refused(void **state)
{
	(void)state;
	static struct leap_table tz;
	char err[256];

	assert_int_equal(leap_load_tz("Etc/UTC", NOW_2026, &tz, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "Etc/UTC has no leap seconds"));
	assert_int_equal(leap_load_tz("right/Nowhere", NOW_2026, &tz, err, sizeof(err)), -1);
}

static void errors_name_file_and_line(void **state)
{
	(void)state;
	static struct leap_table t;
	char path[] = "/tmp/test_leap_load.XXXXXX", err[256], want[300];
	int fd = mkstemp(path);
	const char text[] = "#@ 3707596800\n3644697600 36\n3692217600 37 x\n";

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, sizeof(text) - 1), (ssize_t)(sizeof(text) - 1));
	close(fd);
	assert_int_equal(leap_load_list(path, &t, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s:3: ", path);
	assert_memory_equal(err, want, strlen(want));
	unlink(path);
	assert_int_equal(leap_load_list(path, &t, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "No such file"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(zone_and_list_agree),
		cmocka_unit_test(the_caller_keeps_its_zone),
		cmocka_unit_test(a_zone_without_leap_seconds_is_refused),
		cmocka_unit_test(errors_name_file_and_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
