#include "cmocka_all.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#include "linux_clock.h"
#include "log.h"

/* The fake syscall records every struct timex it is given. */
static struct timex calls[8];
static clockid_t call_clock[8];
static int call_count;
static int fail_with;
static long kernel_held_us;     /* what ADJ_OFFSET_SS_READ reports */

static int fake_adjtime(clockid_t clock, struct timex *tx)
{
	if (call_count < 8) {
		calls[call_count] = *tx;
		call_clock[call_count] = clock;
	}
	call_count++;
	if (fail_with) {
		errno = fail_with;
		return -1;
	}
	if (tx->modes == ADJ_OFFSET_SS_READ)
		tx->offset = kernel_held_us;
	return TIME_OK;
}

static int log_count;
static char last_log[256];

static void capture_log(void *ctx, enum log_level level, const char *message)
{
	(void)ctx;
	(void)level;
	log_count++;
	strncpy(last_log, message, sizeof(last_log) - 1);
}

static struct linux_clock *lc;
static struct clock_ops ops;

static int setup(void **state)
{
	(void)state;
	memset(calls, 0, sizeof(calls));
	call_count = 0;
	fail_with = 0;
	kernel_held_us = 0;
	log_count = 0;
	last_log[0] = '\0';
	log_set_sink(capture_log, NULL, LOG_LEVEL_DEBUG);
	lc = linux_clock_create(fake_adjtime, true);
	ops = linux_clock_ops(lc);
	return lc ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	linux_clock_destroy(lc);
	log_set_sink(NULL, NULL, LOG_LEVEL_DEBUG);
	return 0;
}

static void step_is_relative_in_nanoseconds(void **state)
{
	(void)state;
	assert_int_equal(ops.step(ops.ctx, 1.25), 0);
	assert_int_equal(call_count, 1);
	assert_int_equal(call_clock[0], CLOCK_REALTIME);
	assert_int_equal(calls[0].modes, ADJ_SETOFFSET | ADJ_NANO);
	assert_int_equal(calls[0].time.tv_sec, 1);
	assert_int_equal(calls[0].time.tv_usec, 250000000);
}

static void negative_step_keeps_nanoseconds_positive(void **state)
{
	(void)state;
	assert_int_equal(ops.step(ops.ctx, -1.25), 0);
	assert_int_equal(calls[0].time.tv_sec, -2);
	assert_int_equal(calls[0].time.tv_usec, 750000000);

	/* Rounding up to a whole second carries into the seconds. */
	assert_int_equal(ops.step(ops.ctx, -0.0000000001), 0);
	assert_int_equal(calls[1].time.tv_sec, 0);
	assert_int_equal(calls[1].time.tv_usec, 0);

	assert_int_equal(ops.step(ops.ctx, 3600.000001), 0);
	assert_int_equal(calls[2].time.tv_sec, 3600);
	assert_int_equal(calls[2].time.tv_usec, 1000);
}

static void step_refuses_nonsense(void **state)
{
	(void)state;
	assert_int_equal(ops.step(ops.ctx, 1.0 / 0.0), -ERANGE);
	assert_int_equal(ops.step(ops.ctx, 2e12), -ERANGE);
	assert_int_equal(call_count, 0);
}

static void slew_is_adjtime_in_microseconds(void **state)
{
	(void)state;
	/* the kernel is asked what it holds first: the chunk in flight is worked out from it */
	assert_int_equal(ops.slew(ops.ctx, -0.0123456), 0);
	assert_int_equal(calls[0].modes, ADJ_OFFSET_SS_READ);
	assert_int_equal(calls[1].modes, ADJ_OFFSET_SINGLESHOT);
	assert_int_equal(calls[1].offset, -12346);

	/* Beyond MAXPHASE (0.5 s), which limits only the kernel PLL: passed whole. */
	assert_int_equal(ops.slew(ops.ctx, 2.0), 0);
	assert_int_equal(calls[3].offset, 2000000);

	assert_int_equal(ops.slew(ops.ctx, LINUX_CLOCK_MAX_SLEW + 1), -ERANGE);
	assert_int_equal(call_count, 4);
}

/* The slew in progress is what the kernel holds (ADJ_OFFSET_SS_READ) and
 * the rest of this second's chunk: a full 500 us one whenever the kernel
 * still holds something after taking it. */
static void slew_state_asks_the_kernel(void **state)
{
	struct clock_slew st;

	(void)state;
	kernel_held_us = -1500;
	assert_int_equal(ops.slew_state(ops.ctx, &st), 0);
	assert_int_equal(calls[0].modes, ADJ_OFFSET_SS_READ);
	assert_true(st.rate == -500e-6);
	assert_true(st.scheduled <= 0.0 && st.scheduled >= -500e-6);
	assert_float_equal(st.pending, -1500e-6 + st.scheduled, 1e-12);

	/* nothing held, nothing slewed by us: no slew */
	kernel_held_us = 0;
	assert_int_equal(ops.slew_state(ops.ctx, &st), 0);
	assert_true(st.pending == 0.0 && st.rate == 0.0 && st.scheduled == 0.0);

	/* a slew just given: the kernel holds it all until the next second
	 * (this fake kernel never takes a chunk: should the real clock pass a
	 * whole second in between, a full chunk is in flight) */
	assert_int_equal(ops.slew(ops.ctx, 0.0002), 0);
	kernel_held_us = 200;
	assert_int_equal(ops.slew_state(ops.ctx, &st), 0);
	assert_true(st.rate == 0.0 || st.rate == 500e-6);
	assert_float_equal(st.pending, 0.0002 + st.scheduled, 1e-12);
	assert_true(st.rate != 0.0 || st.scheduled == 0.0);

	/* it cannot be read: the error, and no slew */
	fail_with = EINVAL;
	assert_int_equal(ops.slew_state(ops.ctx, &st), -EINVAL);
	assert_true(st.pending == 0.0);
}

static void frequency_is_scaled_ppm_and_clamped(void **state)
{
	(void)state;
	assert_int_equal(ops.set_frequency(ops.ctx, 12.5), 0);
	assert_int_equal(calls[0].modes, ADJ_FREQUENCY);
	assert_int_equal(calls[0].freq, 12 * 65536 + 32768);

	assert_int_equal(ops.set_frequency(ops.ctx, -900.0), 0);
	assert_int_equal(calls[1].freq, -500 * 65536);
	assert_int_equal(ops.set_frequency(ops.ctx, 501.0), 0);
	assert_int_equal(calls[2].freq, 500 * 65536);
	assert_true(ops.max_frequency_ppm == 500.0);
	assert_true(ops.max_slew_ppm == 500.0);
}

static void status_sets_sync_leap_and_errors(void **state)
{
	(void)state;
	struct clock_status unsync = { .synchronized = false, .leap = NTP_LEAP_NONE,
				       .max_error = 16.5, .est_error = -1.0 };
	struct clock_status insert = { .synchronized = true, .leap = NTP_LEAP_INSERT,
				       .max_error = 0.0123, .est_error = 0.000456 };
	struct clock_status del = { .synchronized = true, .leap = NTP_LEAP_DELETE };

	assert_int_equal(ops.set_status(ops.ctx, &unsync), 0);
	assert_int_equal(calls[0].modes, ADJ_STATUS | ADJ_MAXERROR | ADJ_ESTERROR);
	assert_int_equal(calls[0].status, STA_UNSYNC);
	assert_int_equal(calls[0].maxerror, 16000000);
	assert_int_equal(calls[0].esterror, 0);

	assert_int_equal(ops.set_status(ops.ctx, &insert), 0);
	assert_int_equal(calls[1].status, STA_INS);
	assert_int_equal(calls[1].maxerror, 12300);
	assert_int_equal(calls[1].esterror, 456);

	assert_int_equal(ops.set_status(ops.ctx, &del), 0);
	assert_int_equal(calls[2].status, STA_DEL);
	assert_false(calls[2].status & (STA_PLL | STA_FLL));
}

/* The kernel's step marks the clock unsynchronized with errors of 16 s
 * (ntp_clear, kernel/time/ntp.c): the clock says again what it was told. */
static void a_step_keeps_the_status(void **state)
{
	struct clock_status sync = { .synchronized = true, .leap = NTP_LEAP_NONE,
				     .max_error = 0.0123, .est_error = 0.000456 };

	(void)state;
	/* nothing said yet: nothing to say again */
	assert_int_equal(ops.step(ops.ctx, 1.0), 0);
	assert_int_equal(call_count, 1);
	assert_int_equal(ops.set_status(ops.ctx, &sync), 0);
	assert_int_equal(ops.step(ops.ctx, -1.0), 0);
	assert_int_equal(call_count, 4);
	assert_int_equal(calls[2].modes, ADJ_SETOFFSET | ADJ_NANO);
	assert_int_equal(calls[3].modes, ADJ_STATUS | ADJ_MAXERROR | ADJ_ESTERROR);
	assert_int_equal(calls[3].status, 0);
	assert_int_equal(calls[3].maxerror, 12300);
	assert_int_equal(calls[3].esterror, 456);
}

static void eperm_is_reported_once(void **state)
{
	(void)state;
	fail_with = EPERM;
	assert_int_equal(ops.step(ops.ctx, 1.0), -EPERM);
	assert_int_equal(ops.slew(ops.ctx, 0.1), -EPERM);
	assert_int_equal(ops.set_frequency(ops.ctx, 1.0), -EPERM);
	/* the slew asked what the kernel holds first */
	assert_int_equal(call_count, 4);
	assert_int_equal(log_count, 1);
	assert_string_equal(last_log, "no permission to adjust the clock: run as root or with CAP_SYS_TIME");
}

static void other_errors_name_the_operation(void **state)
{
	(void)state;
	fail_with = EINVAL;
	assert_int_equal(ops.set_frequency(ops.ctx, 1.0), -EINVAL);
	assert_int_equal(log_count, 1);
	assert_non_null(strstr(last_log, "cannot set the clock frequency"));
}

static struct timespec later(struct timespec t, double seconds)
{
	long ns = t.tv_nsec + lround(seconds * 1e9);

	t.tv_sec += ns / 1000000000L;
	t.tv_nsec = ns % 1000000000L;
	if (t.tv_nsec < 0) {
		t.tv_sec--;
		t.tv_nsec += 1000000000L;
	}
	return t;
}

/* The kernel's frequency as the last call set it, ppm: tick and frequency. */
static double kernel_ppm(int call)
{
	assert_int_equal(calls[call].modes, ADJ_FREQUENCY | ADJ_TICK);
	return (double)(calls[call].tick - 10000) * 100.0 + (double)calls[call].freq / 65536.0;
}

static void use_frequency_slew(void)
{
	linux_clock_set_slew_method(lc, LINUX_CLOCK_SLEW_FREQUENCY, LINUX_CLOCK_DEFAULT_MAX_SLEW_RATE);
	ops = linux_clock_ops(lc);
}

/* Slewing through the frequency: 1 ms goes over the least duration, 1 s,
 * at 1000 ppm on top of the frequency the core set, the tick taking the
 * whole hundreds of ppm (USER_HZ 100: a microsecond of tick is 100 ppm);
 * the core reads it as pending, nothing scheduled; tick() ends it, and what
 * a late wakeup overshot is slewed back. */
static void frequency_slew_runs_on_top_of_the_frequency_until_its_tick(void **state)
{
	struct clock_slew st;
	struct timespec end, end2;

	(void)state;
	use_frequency_slew();
	assert_true(ops.max_slew_ppm == LINUX_CLOCK_DEFAULT_MAX_SLEW_RATE);
	assert_false(ops.next_tick(ops.ctx, &end));
	assert_int_equal(ops.set_frequency(ops.ctx, 12.5), 0);
	assert_int_equal(calls[0].tick, 10000);
	assert_float_equal(kernel_ppm(0), 12.5, 1e-9);

	assert_int_equal(ops.slew(ops.ctx, 0.001), 0);
	assert_int_equal(call_count, 2); /* no adjtime at all */
	assert_int_equal(calls[1].tick, 10010);
	assert_float_equal(kernel_ppm(1), 1012.5, 1e-9);
	assert_int_equal(ops.slew_state(ops.ctx, &st), 0);
	assert_true(st.rate == 1e-3 && st.scheduled == 0.0);
	assert_true(st.pending <= 0.001 && st.pending > 0.001 - 1e-6);
	assert_true(ops.next_tick(ops.ctx, &end));

	/* the core's frequency moves; the slew runs on on top of it */
	assert_int_equal(ops.set_frequency(ops.ctx, -7.25), 0);
	assert_float_equal(kernel_ppm(2), 992.75, 1e-9);

	/* not yet due: nothing */
	linux_clock_tick_at(lc, later(end, -0.5));
	assert_int_equal(call_count, 3);

	/* 2 ms late: 2 us too far, slewed back over a second */
	linux_clock_tick_at(lc, later(end, 0.002));
	assert_int_equal(call_count, 4);
	assert_float_equal(kernel_ppm(3), -7.25 - 2.0, 1e-6);
	assert_true(ops.next_tick(ops.ctx, &end2));

	/* on time: back to the core's frequency, nothing more to do */
	linux_clock_tick_at(lc, end2);
	assert_int_equal(call_count, 5);
	assert_float_equal(kernel_ppm(4), -7.25, 1e-9);
	assert_false(ops.next_tick(ops.ctx, &end));
	assert_int_equal(ops.slew_state(ops.ctx, &st), 0);
	assert_true(st.pending == 0.0 && st.rate == 0.0);
}

/* Large offsets go at max_slew_rate (83333 ppm: a 0.5 s offset in 6 s); a
 * step and finish() end the slew, back to the core's frequency. */
static void frequency_slew_is_bounded_and_ended_by_step_and_finish(void **state)
{
	struct clock_slew st;
	struct timespec end;

	(void)state;
	use_frequency_slew();
	assert_int_equal(ops.slew(ops.ctx, -0.5), 0);
	assert_int_equal(calls[0].tick, 10000 - 833);
	assert_float_equal(kernel_ppm(0), -83333.333, 1e-3);
	assert_int_equal(ops.slew_state(ops.ctx, &st), 0);
	assert_float_equal(st.rate, -LINUX_CLOCK_DEFAULT_MAX_SLEW_RATE * 1e-6, 1e-12);

	assert_int_equal(ops.step(ops.ctx, 1.0), 0);
	assert_int_equal(calls[1].modes, ADJ_SETOFFSET | ADJ_NANO);
	assert_float_equal(kernel_ppm(2), 0.0, 1e-9);
	assert_false(ops.next_tick(ops.ctx, &end));

	assert_int_equal(ops.slew(ops.ctx, 0.25), 0);
	assert_true(ops.next_tick(ops.ctx, &end));
	ops.finish(ops.ctx);
	assert_float_equal(kernel_ppm(4), 0.0, 1e-9);
	assert_false(ops.next_tick(ops.ctx, &end));
	assert_int_equal(ops.slew_state(ops.ctx, &st), 0);
	assert_true(st.pending == 0.0);
	/* finish() with no slew running calls nothing */
	ops.finish(ops.ctx);
	assert_int_equal(call_count, 5);
}

static void no_adjust_mode_reads_but_never_calls(void **state)
{
	(void)state;
	struct linux_clock *readonly = linux_clock_create(fake_adjtime, false);
	struct clock_ops ro = linux_clock_ops(readonly);
	struct clock_status status = { .synchronized = true };
	struct timespec now = { 0 };

	assert_int_equal(ro.read(ro.ctx, &now), 0);
	assert_true(now.tv_sec > 1600000000);
	assert_int_equal(ro.step(ro.ctx, 1.0), -EROFS);
	assert_int_equal(ro.slew(ro.ctx, 0.1), -EROFS);
	assert_int_equal(ro.set_frequency(ro.ctx, 1.0), -EROFS);
	assert_int_equal(ro.set_status(ro.ctx, &status), -EROFS);
	/* the kernel's slew, if any, is another program's */
	{
		struct clock_slew st;

		kernel_held_us = 1234;
		assert_int_equal(ro.slew_state(ro.ctx, &st), 0);
		assert_true(st.pending == 0.0 && st.rate == 0.0);
	}
	assert_int_equal(call_count, 0);
	assert_int_equal(log_count, 0);
	linux_clock_destroy(readonly);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(step_is_relative_in_nanoseconds, setup, teardown),
		cmocka_unit_test_setup_teardown(negative_step_keeps_nanoseconds_positive, setup, teardown),
		cmocka_unit_test_setup_teardown(step_refuses_nonsense, setup, teardown),
		cmocka_unit_test_setup_teardown(slew_is_adjtime_in_microseconds, setup, teardown),
		cmocka_unit_test_setup_teardown(slew_state_asks_the_kernel, setup, teardown),
		cmocka_unit_test_setup_teardown(frequency_is_scaled_ppm_and_clamped, setup, teardown),
		cmocka_unit_test_setup_teardown(frequency_slew_runs_on_top_of_the_frequency_until_its_tick, setup,
						teardown),
		cmocka_unit_test_setup_teardown(frequency_slew_is_bounded_and_ended_by_step_and_finish, setup,
						teardown),
		cmocka_unit_test_setup_teardown(status_sets_sync_leap_and_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(a_step_keeps_the_status, setup, teardown),
		cmocka_unit_test_setup_teardown(eperm_is_reported_once, setup, teardown),
		cmocka_unit_test_setup_teardown(other_errors_name_the_operation, setup, teardown),
		cmocka_unit_test_setup_teardown(no_adjust_mode_reads_but_never_calls, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
