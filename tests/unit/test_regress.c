#include "cmocka_all.h"

#include <math.h>

#include "regress.h"

/* Figures worked out by hand: x = 0..3, y = 1 + 2x with residuals
 * +0.1, -0.1, -0.1, +0.1 around it (they sum to 0 and to 0 weighted by x,
 * so that line is the least-squares one). */
static void fits_a_line_and_its_spread(void **state)
{
	(void)state;
	const double x[] = { 0, 1, 2, 3 };
	const double y[] = { 1.1, 2.9, 4.9, 7.1 };
	struct regress_line line;

	assert_true(regress_fit(x, y, 4, &line));
	assert_float_equal(line.slope, 2.0, 1e-12);
	assert_float_equal(line.intercept, 1.0, 1e-12);
	/* sse = 4 * 0.01 = 0.04 over 2 degrees of freedom; sxx = 5 */
	assert_float_equal(line.residual_sd, sqrt(0.04 / 2), 1e-12);
	assert_float_equal(line.slope_sd, sqrt(0.04 / 2 / 5), 1e-12);
	/* + - - +: three runs */
	assert_int_equal(line.runs, 3);
}

static void a_perfect_line_has_no_spread_and_one_run(void **state)
{
	(void)state;
	const double x[] = { -64, -32, 0 };
	const double y[] = { 1e-6 - 64e-9, 1e-6 - 32e-9, 1e-6 };
	struct regress_line line;

	assert_true(regress_fit(x, y, 3, &line));
	assert_float_equal(line.slope, 1e-9, 1e-18);
	assert_float_equal(line.intercept, 1e-6, 1e-15);
	assert_float_equal(line.residual_sd, 0.0, 1e-15);
	assert_true(line.runs >= 1);
}

static void too_few_points_or_one_time_make_no_line(void **state)
{
	(void)state;
	const double x[] = { 5, 5, 5 };
	const double y[] = { 1, 2, 3 };
	struct regress_line line = { .slope = 42 };

	assert_false(regress_fit(x, y, 2, &line));
	assert_false(regress_fit(x, y, 3, &line));
	assert_float_equal(line.slope, 42, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(fits_a_line_and_its_spread),
		cmocka_unit_test(a_perfect_line_has_no_spread_and_one_run),
		cmocka_unit_test(too_few_points_or_one_time_make_no_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
