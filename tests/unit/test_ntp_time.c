#include "cmocka_all.h"

#include <math.h>

#include "ntp_time.h"

static struct timespec at(time_t sec, long nsec)
{
	return (struct timespec){ .tv_sec = sec, .tv_nsec = nsec };
}

static void unix_epoch_is_ntp_2208988800(void **state)
{
	(void)state;
	assert_int_equal(ntp_ts_from_timespec(at(0, 0)), (ntp_ts)NTP_UNIX_EPOCH_DELTA << 32);
}

static void half_second_is_half_fraction(void **state)
{
	(void)state;
	ntp_ts ts = ntp_ts_from_timespec(at(1700000000, 500000000));

	assert_int_equal(ts & 0xffffffffu, 0x80000000u);
	assert_int_equal(ts >> 32, 1700000000u + NTP_UNIX_EPOCH_DELTA);
}

static void roundtrip_keeps_nanoseconds(void **state)
{
	(void)state;
	long samples[] = { 0, 1, 999999999, 123456789, 500000000 };

	for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
		struct timespec t = at(1800000000, samples[i]);
		struct timespec back = ntp_ts_to_timespec(ntp_ts_from_timespec(t), t);

		assert_int_equal(back.tv_sec, t.tv_sec);
		assert_int_equal(back.tv_nsec, t.tv_nsec);
	}
}

/* 2036-02-07 06:28:16 UTC is the end of NTP era 0. */
static const time_t era_rollover = 2085978496;

static void era_boundary_maps_to_next_era(void **state)
{
	(void)state;
	struct timespec after = at(era_rollover + 5, 0);
	ntp_ts ts = ntp_ts_from_timespec(after);

	assert_int_equal(ts >> 32, 5);
	/* From a clock just before the rollover, the small timestamp lies just after it. */
	struct timespec back = ntp_ts_to_timespec(ts, at(era_rollover - 10, 0));

	assert_int_equal(back.tv_sec, era_rollover + 5);
}

static void era_boundary_maps_to_previous_era(void **state)
{
	(void)state;
	ntp_ts before = ntp_ts_from_timespec(at(era_rollover - 3, 250000000));
	struct timespec back = ntp_ts_to_timespec(before, at(era_rollover + 100, 0));

	assert_int_equal(back.tv_sec, era_rollover - 3);
	assert_int_equal(back.tv_nsec, 250000000);
}

static void difference_across_era_is_small(void **state)
{
	(void)state;
	ntp_ts a = ntp_ts_from_timespec(at(era_rollover + 1, 0));
	ntp_ts b = ntp_ts_from_timespec(at(era_rollover - 1, 0));

	assert_true(fabs(ntp_ts_diff(a, b) - 2.0) < 1e-9);
	assert_true(fabs(ntp_ts_diff(b, a) + 2.0) < 1e-9);
}

static void short_format_saturates(void **state)
{
	(void)state;
	assert_int_equal(ntp_short_from_seconds(1.0), 0x00010000u);
	assert_int_equal(ntp_short_from_seconds(-1.0), 0);
	assert_int_equal(ntp_short_from_seconds(1e9), UINT32_MAX);
	assert_true(fabs(ntp_short_to_seconds(0x00008000u) - 0.5) < 1e-12);
}

static void timespec_add_and_diff_agree(void **state)
{
	(void)state;
	struct timespec t = at(1000, 900000000);
	struct timespec later = timespec_add(t, 0.25);
	struct timespec earlier = timespec_add(t, -1.95);

	assert_int_equal(later.tv_sec, 1001);
	assert_int_equal(later.tv_nsec, 150000000);
	assert_int_equal(earlier.tv_sec, 998);
	assert_int_equal(earlier.tv_nsec, 950000000);
	assert_true(fabs(timespec_diff(later, earlier) - 2.2) < 1e-9);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(unix_epoch_is_ntp_2208988800),
		cmocka_unit_test(half_second_is_half_fraction),
		cmocka_unit_test(roundtrip_keeps_nanoseconds),
		cmocka_unit_test(era_boundary_maps_to_next_era),
		cmocka_unit_test(era_boundary_maps_to_previous_era),
		cmocka_unit_test(difference_across_era_is_small),
		cmocka_unit_test(short_format_saturates),
		cmocka_unit_test(timespec_add_and_diff_agree),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
