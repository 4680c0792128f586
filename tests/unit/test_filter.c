#include "cmocka_all.h"

#include <math.h>

#include "filter.h"
#include "ntp_time.h"

#define PRECISION 1e-6

static const struct timespec t0 = { 1700000000, 0 };

static struct filter_sample sample_at(double age, double offset, double delay, double dispersion)
{
	return (struct filter_sample){ offset, delay, dispersion, timespec_add(t0, age) };
}

static enum filter_result add(struct filter *f, double age, double offset, double delay, double dispersion)
{
	struct filter_sample s = sample_at(age, offset, delay, dispersion);

	return filter_add(f, &s, 0, NULL);
}

static void minimum_delay_sample_wins_and_is_used_once(void **state)
{
	(void)state;
	struct filter f;
	struct filter_estimate e;

	filter_init(&f, PRECISION);
	assert_false(filter_get(&f, t0, &e));
	assert_int_equal(add(&f, 0, 0.001, 0.050, 1e-5), FILTER_UPDATED);
	assert_int_equal(add(&f, 1, 0.002, 0.020, 1e-5), FILTER_UPDATED);
	assert_true(filter_get(&f, timespec_add(t0, 1), &e));
	assert_float_equal(e.offset, 0.002, 1e-15);
	assert_float_equal(e.delay, 0.020, 1e-15);
	/* A worse sample leaves the minimum-delay one in charge, already used. */
	assert_int_equal(add(&f, 2, 0.003, 0.080, 1e-5), FILTER_NOT_NEWER);
	assert_true(filter_get(&f, timespec_add(t0, 2), &e));
	assert_float_equal(e.offset, 0.002, 1e-15);
	assert_int_equal(filter_sample_count(&f), 3);
	assert_int_equal(timespec_diff(e.time, t0), 1);
}

static void old_minimum_leaves_the_ring(void **state)
{
	(void)state;
	struct filter f;
	struct filter_estimate e;

	filter_init(&f, PRECISION);
	assert_int_equal(add(&f, 0, 0.5, 0.001, 0), FILTER_UPDATED);
	for (int i = 1; i < FILTER_SIZE; i++)
		assert_int_equal(add(&f, i, 0.1 * i, 0.010 + 0.001 * i, 0), FILTER_NOT_NEWER);
	/* The ninth sample pushes the best one out: the next best (the oldest
	 * left, delay 0.011) is newer than it, so it is passed on. */
	assert_int_equal(add(&f, FILTER_SIZE, 9.0, 0.5, 0), FILTER_UPDATED);
	assert_true(filter_get(&f, timespec_add(t0, FILTER_SIZE), &e));
	assert_float_equal(e.offset, 0.1, 1e-15);
	assert_float_equal(e.delay, 0.011, 1e-15);
	assert_int_equal(filter_sample_count(&f), FILTER_SIZE);
}

/* sourcestats fits a line through the samples in time order, ring or not. */
static void samples_come_oldest_first(void **state)
{
	(void)state;
	struct filter f;
	struct filter_sample out[FILTER_SIZE];

	filter_init(&f, PRECISION);
	assert_int_equal(filter_samples(&f, out), 0);
	add(&f, 0, 0.0, 0.010, 0);
	add(&f, 1, 1.0, 0.010, 0);
	assert_int_equal(filter_samples(&f, out), 2);
	assert_float_equal(out[0].offset, 0.0, 0);
	assert_float_equal(out[1].offset, 1.0, 0);
	for (int i = 2; i < FILTER_SIZE + 3; i++)
		add(&f, i, i, 0.010, 0);
	/* the ring wrapped: samples 3 .. 10 remain, oldest first */
	assert_int_equal(filter_samples(&f, out), FILTER_SIZE);
	for (int i = 0; i < FILTER_SIZE; i++)
		assert_float_equal(out[i].offset, i + 3, 0);
}

static void dispersion_grows_at_phi(void **state)
{
	(void)state;
	struct filter f;
	struct filter_estimate e;

	filter_init(&f, PRECISION);
	add(&f, 0, 0, 0.01, 1e-3);
	assert_true(filter_get(&f, t0, &e));
	assert_float_equal(e.dispersion, 1e-3, 1e-15);
	assert_true(filter_get(&f, timespec_add(t0, 1000), &e));
	assert_float_equal(e.dispersion, 1e-3 + 15e-3, 1e-15);
	assert_true(filter_get(&f, timespec_add(t0, 86400), &e));
	assert_float_equal(e.dispersion, 1e-3 + 86400 * 15e-6, 1e-12);
}

static void dispersion_weighs_samples_by_delay_rank(void **state)
{
	(void)state;
	struct filter f;
	struct filter_estimate e;

	filter_init(&f, PRECISION);
	add(&f, 0, 0, 0.02, 0.003);
	assert_int_equal(add(&f, 100, 0, 0.01, 0.001), FILTER_UPDATED);
	/* best (weight 1/2): 0.001; second (1/4): 0.003 + 100 s * PHI; normalized by 3/4 */
	assert_true(filter_get(&f, timespec_add(t0, 100), &e));
	assert_float_equal(e.dispersion, (0.5 * 0.001 + 0.25 * 0.0045) / 0.75, 1e-15);
}

static void jitter_is_rms_of_differences_to_the_chosen(void **state)
{
	(void)state;
	struct filter f;
	struct filter_estimate e;

	filter_init(&f, PRECISION);
	add(&f, 0, 0.003, 0.04, 0);
	assert_true(filter_get(&f, t0, &e));
	assert_float_equal(e.jitter, PRECISION, 0); /* one sample: the floor */
	add(&f, 1, -0.001, 0.03, 0);
	add(&f, 2, 0.002, 0.02, 0);
	assert_int_equal(add(&f, 3, 0.001, 0.01, 0), FILTER_UPDATED);
	assert_true(filter_get(&f, timespec_add(t0, 3), &e));
	/* differences to 0.001: 0.002, -0.002, 0.001 -> sqrt(9e-6 / 3) */
	assert_float_equal(e.jitter, sqrt(3e-6), 1e-15);

	filter_init(&f, PRECISION);
	add(&f, 0, 0.001, 0.02, 0);
	add(&f, 1, 0.001, 0.01, 0);
	assert_true(filter_get(&f, t0, &e));
	assert_float_equal(e.jitter, PRECISION, 0); /* identical offsets: the floor */
}

static void correct_after_a_step(void **state)
{
	(void)state;
	struct filter f;
	struct filter_estimate e;

	filter_init(&f, PRECISION);
	add(&f, 0, 0.800, 0.01, 0);
	add(&f, 10, 0.810, 0.02, 0);
	/* The clock is set 0.8 s ahead at t0 + 20. */
	filter_correct(&f, timespec_add(t0, 20), 0.8, 0);
	assert_true(filter_get(&f, timespec_add(t0, 20.8), &e));
	assert_float_equal(e.offset, 0.0, 1e-12);
	assert_float_equal(timespec_diff(e.time, t0), 0.8, 1e-9);
	assert_float_equal(e.jitter, 0.010, 1e-12);
	/* The chosen sample now carries time t0 + 0.8: one from t0 + 0.5 is
	 * older, though it would have been newer before the step. */
	assert_int_equal(add(&f, 0.5, 0.001, 0.005, 0), FILTER_NOT_NEWER);
	assert_int_equal(add(&f, 21, 0.002, 0.001, 0), FILTER_UPDATED);
	assert_true(filter_get(&f, timespec_add(t0, 21), &e));
	assert_float_equal(e.offset, 0.002, 1e-15);

	/* A step backwards moves offsets up. */
	filter_correct(&f, timespec_add(t0, 22), -0.25, 0);
	assert_true(filter_get(&f, timespec_add(t0, 22), &e));
	assert_float_equal(e.offset, 0.252, 1e-12);
}

static void correct_after_a_frequency_change(void **state)
{
	(void)state;
	struct filter f;
	struct filter_estimate e;

	filter_init(&f, PRECISION);
	add(&f, 0, 0.001, 0.01, 0);
	assert_int_equal(add(&f, 50, 0.001, 0.02, 0), FILTER_NOT_NEWER);
	/* 10 ppm faster from t0 + 100: had it always been so, the clock would
	 * have been further behind in the past (it gains 10 us per second). */
	filter_correct(&f, timespec_add(t0, 100), 0, 10e-6);
	assert_true(filter_get(&f, timespec_add(t0, 100), &e));
	assert_float_equal(e.offset, 0.001 + 10e-6 * 100, 1e-15);
	/* The other sample moved by 10e-6 * 50: the two now differ by 0.5 ms. */
	assert_float_equal(e.jitter, 0.0005, 1e-15);
	/* A slower clock pulls past offsets down. */
	filter_correct(&f, timespec_add(t0, 100), 0, -10e-6);
	assert_true(filter_get(&f, timespec_add(t0, 100), &e));
	assert_float_equal(e.offset, 0.001, 1e-15);
	assert_float_equal(e.jitter, PRECISION, 0);
}

static void popcorn_spike_is_held_back_once(void **state)
{
	(void)state;
	struct filter f;
	struct filter_estimate e;
	struct filter_sample s;

	filter_init(&f, PRECISION);
	for (int i = 0; i < 4; i++) {
		s = sample_at(i * 64, 0.0001 * (i % 2), 0.020 - 0.001 * i, 0);
		assert_int_equal(filter_add(&f, &s, 128, NULL), FILTER_UPDATED);
	}
	assert_true(filter_get(&f, timespec_add(t0, 192), &e));
	assert_float_equal(e.offset, 0.0001, 1e-15);
	assert_float_equal(e.jitter, sqrt((0.0001 * 0.0001 * 2) / 3), 1e-15);

	s = sample_at(256, 0.050, 0.010, 0);
	assert_int_equal(filter_add(&f, &s, 128, NULL), FILTER_SPIKE);
	assert_true(filter_get(&f, timespec_add(t0, 256), &e));
	assert_float_equal(e.offset, 0.0001, 1e-15);
	/* The jump persists: the second time it is real. */
	s = sample_at(320, 0.050, 0.009, 0);
	assert_int_equal(filter_add(&f, &s, 128, &e), FILTER_UPDATED);
	assert_float_equal(e.offset, 0.050, 1e-15);
	/* Outside the window it is not a spike either. */
	s = sample_at(1000, -0.5, 0.001, 0);
	assert_int_equal(filter_add(&f, &s, 128, &e), FILTER_UPDATED);
	assert_string_equal(filter_result_str(FILTER_SPIKE), "popcorn spike held back");
}

/* maxsamples: the ring holds only the newest `size` samples. */
static void a_smaller_filter_forgets_sooner(void **state)
{
	(void)state;
	struct filter f;
	struct filter_estimate e;
	struct filter_sample held[FILTER_SIZE];

	filter_init(&f, PRECISION);
	filter_set_size(&f, 2);
	assert_int_equal(add(&f, 0, 0.001, 0.010, 1e-5), FILTER_UPDATED);
	assert_int_equal(add(&f, 1, 0.002, 0.050, 1e-5), FILTER_NOT_NEWER);
	/* with 8 samples the 10 ms one would still win; with 2 it has left */
	assert_int_equal(add(&f, 2, 0.003, 0.040, 1e-5), FILTER_UPDATED);
	assert_true(filter_get(&f, timespec_add(t0, 2), &e));
	assert_float_equal(e.offset, 0.003, 1e-15);
	assert_int_equal(filter_sample_count(&f), 2);
	assert_int_equal(filter_samples(&f, held), 2);
	assert_float_equal(held[0].offset, 0.002, 1e-15);
	assert_float_equal(held[1].offset, 0.003, 1e-15);
	filter_reset(&f);
	for (int i = 0; i < 5; i++)
		add(&f, i, 0.001 * i, 0.010, 1e-5);
	assert_int_equal(filter_sample_count(&f), 2);
	filter_set_size(&f, 0);
	assert_int_equal(f.size, 1);
	filter_set_size(&f, 99);
	assert_int_equal(f.size, FILTER_SIZE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(minimum_delay_sample_wins_and_is_used_once),
		cmocka_unit_test(old_minimum_leaves_the_ring),
		cmocka_unit_test(samples_come_oldest_first),
		cmocka_unit_test(dispersion_grows_at_phi),
		cmocka_unit_test(dispersion_weighs_samples_by_delay_rank),
		cmocka_unit_test(jitter_is_rms_of_differences_to_the_chosen),
		cmocka_unit_test(correct_after_a_step),
		cmocka_unit_test(correct_after_a_frequency_change),
		cmocka_unit_test(popcorn_spike_is_held_back_once),
		cmocka_unit_test(a_smaller_filter_forgets_sooner),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
