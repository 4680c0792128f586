/* The leap decision and the smear of served time. Dates are given as
 * independent Unix times (date -u -d ... +%s). */
#include "cmocka_all.h"

#include <math.h>

#include "leap.h"

#define DEC31_2016 1483142400   /* 2016-12-31 00:00:00 UTC */
#define JAN01_2017 1483228800   /* the midnight after the leap second */
#define DEC30_2016 1483056000
#define JUN30_2017 1498780800   /* a last day of a month without a leap */
#define DEC15_2016 1481760000

/* the last two leap seconds, valid until 2017-06-28 */
static struct leap_table table_2017(void)
{
	struct leap_table t = { .expires = 1498608000 };

	leap_table_add(&t, 1435708800, 36);
	leap_table_add(&t, JAN01_2017, 37);
	return t;
}

static void day_end_is_the_next_midnight(void **state)
{
	(void)state;
	assert_int_equal(leap_day_end(DEC31_2016), JAN01_2017);
	assert_int_equal(leap_day_end(JAN01_2017 - 1), JAN01_2017);
	assert_int_equal(leap_day_end(-1), 0);
}

static void month_ends_and_dates(void **state)
{
	(void)state;
	int y, m, d;

	assert_int_equal(leap_month_end(DEC15_2016), JAN01_2017);
	assert_int_equal(leap_month_end(JAN01_2017 - 1), JAN01_2017);
	assert_int_equal(leap_month_end(1455062400 /* 2016-02-10 */), 1456790400 /* 2016-03-01 */);
	leap_civil_date(1456704000, &y, &m, &d);
	assert_true(y == 2016 && m == 2 && d == 29);
	leap_civil_date(-1, &y, &m, &d);
	assert_true(y == 1969 && m == 12 && d == 31);
}

static void table_announces_without_upstream(void **state)
{
	(void)state;
	struct leap_table t = table_2017();
	struct leap_decision d;

	leap_decide(&t, DEC31_2016 + 60, NTP_LEAP_NONE, &d);
	assert_int_equal(d.leap, NTP_LEAP_INSERT);
	assert_true(d.from_table);
	assert_true(d.outvoted); /* the servers said nothing on the day itself */
	/* the day before: pending for the month, not for today */
	leap_decide(&t, DEC30_2016 + 60, NTP_LEAP_INSERT, &d);
	assert_int_equal(d.leap, NTP_LEAP_NONE);
	assert_false(d.outvoted);
	/* an unsynchronized upstream is no vote for a leap */
	leap_decide(&t, DEC31_2016 + 86399, NTP_LEAP_UNSYNC, &d);
	assert_int_equal(d.leap, NTP_LEAP_INSERT);
	assert_int_equal(d.upstream, NTP_LEAP_NONE);
}

static void table_outvotes_a_wrong_upstream(void **state)
{
	(void)state;
	struct leap_table t = table_2017();
	struct leap_decision d;

	/* a server announcing a leap at the end of May 2017, which the list has not */
	leap_decide(&t, 1496188800 + 60 /* 2017-05-31 */, NTP_LEAP_INSERT, &d);
	assert_int_equal(d.leap, NTP_LEAP_NONE);
	assert_true(d.outvoted);
	leap_decide(&t, DEC31_2016, NTP_LEAP_DELETE, &d);
	assert_int_equal(d.leap, NTP_LEAP_INSERT);
	assert_true(d.outvoted);
	leap_decide(&t, DEC31_2016, NTP_LEAP_INSERT, &d);
	assert_false(d.outvoted);
}

static void expired_table_leaves_it_to_upstream(void **state)
{
	(void)state;
	struct leap_table t = table_2017();
	struct leap_decision d;

	/* 2017-06-30 is past the expiry (06-28) */
	leap_decide(&t, JUN30_2017 + 60, NTP_LEAP_INSERT, &d);
	assert_false(d.from_table);
	assert_int_equal(d.leap, NTP_LEAP_INSERT);
	leap_decide(NULL, DEC31_2016, NTP_LEAP_NONE, &d);
	assert_int_equal(d.leap, NTP_LEAP_NONE);
	assert_false(d.outvoted);
}

/* A server announcing all month long must not make the kernel insert at
 * the end of today: only the last day of a month takes the upstream's word. */
static void upstream_counts_only_on_the_last_day(void **state)
{
	(void)state;
	struct leap_decision d;

	leap_decide(NULL, DEC15_2016, NTP_LEAP_INSERT, &d);
	assert_int_equal(d.leap, NTP_LEAP_NONE);
	leap_decide(NULL, DEC31_2016 + 3600, NTP_LEAP_INSERT, &d);
	assert_int_equal(d.leap, NTP_LEAP_INSERT);
	leap_decide(NULL, 1488240000 /* 2017-02-28 */, NTP_LEAP_DELETE, &d);
	assert_int_equal(d.leap, NTP_LEAP_DELETE);
	leap_decide(NULL, 1488240000 - 86400, NTP_LEAP_DELETE, &d);
	assert_int_equal(d.leap, NTP_LEAP_NONE);
}

static void a_table_that_never_expires(void **state)
{
	(void)state;
	struct leap_table t = table_2017();
	struct leap_decision d;

	t.expires = LEAP_NEVER_EXPIRES;
	leap_decide(&t, JUN30_2017 + 60, NTP_LEAP_INSERT, &d);
	assert_true(d.from_table);
	assert_int_equal(d.leap, NTP_LEAP_NONE);
	assert_true(d.outvoted);
}

/* The served time, clock + offset, as seconds since start, against true
 * (continuous) time across an inserted leap second: the clock reads L - 1
 * twice. (Relative, so that doubles keep the microseconds.) */
static double served(const struct leap_smear *s, double true_since_start, double start)
{
	bool applied = start + true_since_start >= JAN01_2017;
	double clock = applied ? true_since_start - 1.0 : true_since_start;

	return clock + leap_smear_offset(s, JAN01_2017, 1, start + clock, applied);
}

static void smear_is_continuous_and_monotonic(const struct leap_smear *s, double from, double to, double max_rate)
{
	double prev = served(s, 0.0, from), fastest = 0.0;

	for (double x = 0.5; from + x < to; x += 0.5) {
		double now = served(s, x, from), rate = (now - prev) / 0.5 - 1.0;

		assert_true(now > prev);
		fastest = fmax(fastest, fabs(rate));
		prev = now;
	}
	assert_true(fastest <= max_rate);
}

static void quadratic_smear(void **state)
{
	(void)state;
	struct leap_smear s = { LEAP_SMEAR_QUADRATIC, LEAP_SMEAR_QUADRATIC_DEFAULT };
	double d = s.duration;

	/* before the leap: the clock as it is */
	assert_true(fabs(leap_smear_offset(&s, JAN01_2017, 1, JAN01_2017 - 10.0, false)) < 1e-12);
	/* at the leap second (the clock at 23:59:60, reading L - 1 again): one second ahead */
	assert_true(fabs(leap_smear_offset(&s, JAN01_2017, 1, JAN01_2017 - 1.0, true) - 1.0) < 1e-9);
	/* half the second by the middle */
	assert_true(fabs(leap_smear_offset(&s, JAN01_2017, 1, JAN01_2017 - 1.0 + d / 2, true) - 0.5) < 1e-9);
	assert_true(fabs(leap_smear_offset(&s, JAN01_2017, 1, JAN01_2017 + d, true)) < 1e-9);
	/* the steepest rate is in the middle: 2 / d = 31.6 ppm */
	smear_is_continuous_and_monotonic(&s, JAN01_2017 - 100.0, JAN01_2017 + d + 100.0, 2.0 / d + 1e-7);
}

static void linear_smear(void **state)
{
	(void)state;
	struct leap_smear s = { LEAP_SMEAR_LINEAR, LEAP_SMEAR_LINEAR_DEFAULT };

	/* noon to noon: half the second taken in by midnight */
	assert_true(fabs(leap_smear_offset(&s, JAN01_2017, 1, JAN01_2017 - 43200.0, false)) < 1e-9);
	assert_true(fabs(leap_smear_offset(&s, JAN01_2017, 1, JAN01_2017 - 1.0, false) + 0.5) < 1e-4);
	assert_true(fabs(leap_smear_offset(&s, JAN01_2017, 1, JAN01_2017 - 1.0, true) - 0.5) < 1e-9);
	assert_true(fabs(leap_smear_offset(&s, JAN01_2017, 1, JAN01_2017 + 43199.0, true)) < 1e-9);
	/* 11.6 ppm all the way */
	smear_is_continuous_and_monotonic(&s, JAN01_2017 - 43300.0, JAN01_2017 + 43300.0, 1.0 / 86400 + 1e-7);
}

static void next_leap_in_the_table(void **state)
{
	(void)state;
	struct leap_table t = table_2017();
	int64_t when = 0;
	int sign = 0;

	/* on the leap day and up to its last second: that leap */
	assert_true(leap_table_next(&t, DEC15_2016, &when, &sign));
	assert_int_equal(when, JAN01_2017);
	assert_int_equal(sign, 1);
	assert_true(leap_table_next(&t, JAN01_2017 - 1, &when, &sign));
	assert_int_equal(when, JAN01_2017);
	/* from its midnight on: none left */
	assert_false(leap_table_next(&t, JAN01_2017, &when, &sign));
	/* a deleted second, and the first entry (the start of the table) is no leap */
	assert_int_equal(leap_table_add(&t, 1530403200 /* 2018-07-01 */, 36), 0);
	assert_true(leap_table_next(&t, JAN01_2017, &when, &sign));
	assert_true(when == 1530403200 && sign == -1);
	assert_true(leap_table_next(&t, 0, &when, &sign));
	assert_int_equal(when, JAN01_2017);
}

static void deleted_second_and_off(void **state)
{
	(void)state;
	struct leap_smear s = { LEAP_SMEAR_QUADRATIC, 1000.0 }, off = { LEAP_SMEAR_OFF, 0.0 };

	/* a deleted second: the clock jumps from L - 1 to L + 1, served time does not */
	assert_true(fabs(leap_smear_offset(&s, JAN01_2017, -1, JAN01_2017, true) + 1.0) < 1e-9);
	assert_true(fabs(leap_smear_offset(&s, JAN01_2017, -1, JAN01_2017 + 501.0, true) + 0.5) < 1e-9);
	assert_true(leap_smear_offset(&off, JAN01_2017, 1, JAN01_2017 - 1.0, true) == 0.0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(day_end_is_the_next_midnight),
		cmocka_unit_test(month_ends_and_dates),
		cmocka_unit_test(table_announces_without_upstream),
		cmocka_unit_test(table_outvotes_a_wrong_upstream),
		cmocka_unit_test(expired_table_leaves_it_to_upstream),
		cmocka_unit_test(upstream_counts_only_on_the_last_day),
		cmocka_unit_test(a_table_that_never_expires),
		cmocka_unit_test(quadratic_smear),
		cmocka_unit_test(linear_smear),
		cmocka_unit_test(deleted_second_and_off),
		cmocka_unit_test(next_leap_in_the_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
