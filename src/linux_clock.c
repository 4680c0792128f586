#include "autoconfig.h" /* _GNU_SOURCE, for clock_adjtime */

#include "linux_clock.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

struct linux_clock {
	linux_clock_adjtime_fn adjtime_fn;
	bool adjust;
	bool eperm_reported;
	/* Our last slew as the kernel runs it (kernel/time/ntp.c): the chunk
	 * the kernel had scheduled for the second of the call runs on at
	 * slew_inflight (s/s) to the next whole second; from there what the
	 * kernel holds (time_adjust, slew_amount at the call) goes in chunks of
	 * at most 500 us, each spread over its second. The kernel reports what
	 * it holds (ADJ_OFFSET_SS_READ); the chunk in flight it does not, so
	 * that part is worked out here. */
	struct timespec slew_start;
	double slew_inflight;
	double slew_amount;

	enum linux_clock_slew_method method;
	double max_slew_rate;     /* s/s, the frequency method's fastest */
	long nominal_tick;        /* us, the kernel's tick at USER_HZ */
	double ppm_per_tick_us;   /* what one microsecond more of tick adds */
	double base_ppm;          /* the frequency correction set_frequency gave */
	/* The frequency slew running: rate (s/s) on top of base_ppm since
	 * fslew_start, with fslew_amount (s) to go then, until fslew_end. */
	double fslew_rate;
	double fslew_amount;
	struct timespec fslew_start;
	struct timespec fslew_end;
	/* What set_status said last, which a step makes the kernel forget */
	struct clock_status status;
	bool have_status;
};

#define MAX_CHUNK (LINUX_CLOCK_MAX_PPM * 1e-6)

struct linux_clock *linux_clock_create(linux_clock_adjtime_fn adjtime_fn, bool adjust)
{
	struct linux_clock *clock = calloc(1, sizeof(*clock));
	long hz;

	if (!clock)
		return NULL;
	clock->adjtime_fn = adjtime_fn ? adjtime_fn : clock_adjtime;
	clock->adjust = adjust;
	clock->method = LINUX_CLOCK_SLEW_ADJTIME;
	clock->max_slew_rate = LINUX_CLOCK_DEFAULT_MAX_SLEW_RATE * 1e-6;
	hz = sysconf(_SC_CLK_TCK);
	if (hz <= 0)
		hz = 100;
	clock->nominal_tick = (1000000 + hz / 2) / hz;
	clock->ppm_per_tick_us = (double)hz;
	return clock;
}

void linux_clock_set_slew_method(struct linux_clock *clock, enum linux_clock_slew_method method,
				 double max_slew_rate_ppm)
{
	clock->method = method;
	clock->max_slew_rate = fmin(fmax(max_slew_rate_ppm, 1.0), LINUX_CLOCK_MAX_SLEW_RATE) * 1e-6;
}

/* Every change goes through here: one place for the no-adjust mode and for
 * telling the operator, once, that the privilege is missing. */
static int apply(struct linux_clock *clock, struct timex *tx, const char *what)
{
	if (!clock->adjust)
		return -EROFS;
	errno = 0;
	if (clock->adjtime_fn(CLOCK_REALTIME, tx) >= 0)
		return 0;

	int err = errno ? -errno : -EIO;

	if (err == -EPERM) {
		if (!clock->eperm_reported)
			log_msg(LOG_LEVEL_ERROR, "no permission to adjust the clock: run as root or with CAP_SYS_TIME");
		clock->eperm_reported = true;
	} else {
		log_msg(LOG_LEVEL_ERROR, "cannot %s: %s", what, strerror(-err));
	}
	return err;
}

static int clock_read(void *ctx, struct timespec *now)
{
	(void)ctx;
	if (clock_gettime(CLOCK_REALTIME, now) < 0)
		return -errno;
	return 0;
}

/* The slew's rate at now (s/s, signed), held: what the kernel holds
 * beyond this second's chunk. A chunk is a full one whenever the kernel
 * still holds something after taking it. */
static double chunk_rate(const struct linux_clock *clock, struct timespec now, double held)
{
	struct timespec first = { clock->slew_start.tv_sec + 1, 0 };
	double since = (double)(now.tv_sec - first.tv_sec) + (double)(now.tv_nsec - first.tv_nsec) * 1e-9;
	double done, chunk;

	if (since < 0.0)
		return clock->slew_inflight;
	if (held != 0.0)
		return copysign(MAX_CHUNK, held);
	done = fmin(fabs(clock->slew_amount), floor(since) * MAX_CHUNK);
	chunk = fmin(MAX_CHUNK, fabs(clock->slew_amount) - done);
	return copysign(chunk, clock->slew_amount);
}

/* What the kernel holds beyond this second's chunk, seconds. */
static int read_held(struct linux_clock *clock, double *held)
{
	struct timex tx = { .modes = ADJ_OFFSET_SS_READ };

	errno = 0;
	if (clock->adjtime_fn(CLOCK_REALTIME, &tx) < 0)
		return errno ? -errno : -EIO;
	*held = (double)tx.offset * 1e-6;
	return 0;
}

static double seconds_between(struct timespec a, struct timespec b)
{
	return (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) * 1e-9;
}

/* Sets the kernel's frequency to ppm: the tick takes what ADJ_FREQUENCY
 * cannot hold (the frequency method only; adjtime's leaves the tick be). */
static int write_frequency(struct linux_clock *clock, double ppm)
{
	struct timex tx = { .modes = ADJ_FREQUENCY };
	double freq = fmin(fmax(ppm, -LINUX_CLOCK_MAX_PPM), LINUX_CLOCK_MAX_PPM);

	if (clock->method == LINUX_CLOCK_SLEW_FREQUENCY) {
		long ticks = lround(ppm / clock->ppm_per_tick_us);

		tx.modes |= ADJ_TICK;
		tx.tick = clock->nominal_tick + ticks;
		freq = ppm - (double)ticks * clock->ppm_per_tick_us;
	}
	tx.freq = lround(freq * 65536.0);
	return apply(clock, &tx, "set the clock frequency");
}

/* What the frequency slew has still to correct at now (negative past its
 * end: it overshot). */
static double frequency_slew_left(const struct linux_clock *clock, struct timespec now)
{
	if (clock->fslew_rate == 0.0)
		return 0.0;
	return clock->fslew_amount - clock->fslew_rate * seconds_between(clock->fslew_start, now);
}

/* Starts correcting offset through the frequency, replacing any slew: as
 * fast as max_slew_rate allows, but over at least
 * LINUX_CLOCK_MIN_SLEW_DURATION. The rate starts when the kernel has it,
 * so the clock is read right after. */
static int frequency_slew(struct linux_clock *clock, double offset)
{
	double duration, rate;
	int err;

	if (fabs(offset) < 1e-9) {
		duration = 0.0;
		rate = 0.0;
	} else {
		duration = fmax(fabs(offset) / clock->max_slew_rate, LINUX_CLOCK_MIN_SLEW_DURATION);
		rate = offset / duration;
	}
	if ((err = write_frequency(clock, clock->base_ppm + rate * 1e6)) != 0)
		return err;
	if ((err = clock_read(clock, &clock->fslew_start)) != 0) {
		/* a slew we could not time must not run on */
		write_frequency(clock, clock->base_ppm);
		clock->fslew_rate = 0.0;
		return err;
	}
	clock->fslew_rate = rate;
	clock->fslew_amount = offset;
	clock->fslew_end = clock->fslew_start;
	clock->fslew_end.tv_sec += (time_t)floor(duration);
	clock->fslew_end.tv_nsec += lround((duration - floor(duration)) * 1e9);
	if (clock->fslew_end.tv_nsec >= 1000000000L) {
		clock->fslew_end.tv_sec++;
		clock->fslew_end.tv_nsec -= 1000000000L;
	}
	return 0;
}

static bool clock_next_tick(void *ctx, struct timespec *when)
{
	struct linux_clock *clock = ctx;

	if (clock->fslew_rate == 0.0)
		return false;
	*when = clock->fslew_end;
	return true;
}

/* Ends the frequency slew once due. The loop wakes late, by its latency:
 * what that over- or undershot, known from the time, is slewed back. */
void linux_clock_tick_at(struct linux_clock *clock, struct timespec now)
{
	double left;

	if (clock->fslew_rate == 0.0 || seconds_between(clock->fslew_end, now) < 0.0)
		return;
	left = frequency_slew_left(clock, now);
	if (fabs(left) < 1e-9) {
		if (write_frequency(clock, clock->base_ppm) == 0)
			clock->fslew_rate = 0.0;
		return;
	}
	frequency_slew(clock, left);
}

static void clock_tick(void *ctx)
{
	struct timespec now;

	if (clock_read(ctx, &now) == 0)
		linux_clock_tick_at(ctx, now);
}

/* No slew may run on after us: the kernel would keep the rate for good. */
static void clock_finish(void *ctx)
{
	struct linux_clock *clock = ctx;

	if (clock->fslew_rate != 0.0 && write_frequency(clock, clock->base_ppm) == 0)
		clock->fslew_rate = 0.0;
}

void linux_clock_destroy(struct linux_clock *clock)
{
	if (clock)
		clock_finish(clock);
	free(clock);
}

static int clock_slew_state(void *ctx, struct clock_slew *out)
{
	struct linux_clock *clock = ctx;
	struct timespec now;
	double held, rate;
	int err;

	*out = (struct clock_slew){ 0 };
	/* not adjusting, the kernel's slew is another program's */
	if (!clock->adjust)
		return 0;
	if (clock->method == LINUX_CLOCK_SLEW_FREQUENCY) {
		if ((err = clock_read(ctx, &now)) != 0)
			return err;
		out->pending = frequency_slew_left(clock, now);
		out->rate = clock->fslew_rate;
		return 0;
	}
	if ((err = read_held(clock, &held)) != 0 || (err = clock_read(ctx, &now)) != 0)
		return err;
	rate = chunk_rate(clock, now, held);
	out->rate = rate;
	out->scheduled = rate * (1.0 - (double)now.tv_nsec * 1e-9);
	out->pending = held + out->scheduled;
	return 0;
}

static long error_usec(double seconds)
{
	if (!(seconds >= 0.0))
		return 0;
	if (seconds > LINUX_CLOCK_MAX_ERROR)
		seconds = LINUX_CLOCK_MAX_ERROR;
	return lround(seconds * 1e6);
}

static int apply_status(struct linux_clock *clock, const struct clock_status *status)
{
	struct timex tx = { .modes = ADJ_STATUS | ADJ_MAXERROR | ADJ_ESTERROR };

	/* The whole status word is ours: STA_PLL and STA_FLL stay off, so the
	 * kernel applies our frequency as given and only announces the leap. */
	tx.status = status->synchronized ? 0 : STA_UNSYNC;
	if (status->leap == NTP_LEAP_INSERT)
		tx.status |= STA_INS;
	else if (status->leap == NTP_LEAP_DELETE)
		tx.status |= STA_DEL;
	tx.maxerror = error_usec(status->max_error);
	tx.esterror = error_usec(status->est_error);
	return apply(clock, &tx, "set the clock status");
}

static int clock_set_status(void *ctx, const struct clock_status *status)
{
	struct linux_clock *clock = ctx;

	clock->status = *status;
	clock->have_status = true;
	return apply_status(clock, status);
}

static int clock_step(void *ctx, double offset)
{
	struct linux_clock *clock = ctx;
	struct timex tx = { .modes = ADJ_SETOFFSET | ADJ_NANO };
	double whole, nsec;
	int err;

	if (!isfinite(offset) || fabs(offset) > LINUX_CLOCK_MAX_STEP)
		return -ERANGE;
	whole = floor(offset);
	nsec = round((offset - whole) * 1e9);
	/* The kernel wants 0 <= tv_usec (nanoseconds here) < 1e9. */
	if (nsec >= 1e9) {
		whole += 1.0;
		nsec -= 1e9;
	}
	tx.time.tv_sec = (time_t)whole;
	tx.time.tv_usec = (long)nsec;
	err = apply(clock, &tx, "step the clock");
	if (err == 0) {
		/* the kernel clears its adjtime state on a step, this second's chunk too */
		clock->slew_inflight = 0.0;
		clock->slew_amount = 0.0;
		/* and our frequency slew ends with it */
		clock_finish(clock);
		/* It also marks the clock unsynchronized, with errors of 16 s
		 * (ntp_clear): a step is a correction, not a loss of sync, so the
		 * kernel is told again what it was, or it would show TIME_ERROR
		 * until the next update, a poll later (after a leap_mode step
		 * leap, a makestep). */
		if (clock->have_status)
			apply_status(clock, &clock->status);
	}
	return err;
}

static int clock_slew(void *ctx, double offset)
{
	struct linux_clock *clock = ctx;
	struct timex tx = { .modes = ADJ_OFFSET_SINGLESHOT };
	struct clock_slew before;
	struct timespec now;
	int err;

	if (!isfinite(offset) || fabs(offset) > LINUX_CLOCK_MAX_SLEW)
		return -ERANGE;
	if (clock->method == LINUX_CLOCK_SLEW_FREQUENCY)
		return clock->adjust ? frequency_slew(clock, offset) : -EROFS;
	tx.offset = lround(offset * 1e6);
	/* the chunk of this second runs on whatever replaces the slew */
	if (clock->adjust && clock_slew_state(clock, &before) == 0 && clock_read(clock, &now) == 0) {
		err = apply(clock, &tx, "slew the clock");
		if (err == 0) {
			clock->slew_start = now;
			clock->slew_inflight = before.rate;
			clock->slew_amount = (double)tx.offset * 1e-6;
		}
		return err;
	}
	return apply(clock, &tx, "slew the clock");
}

/* The correction the core asks for; a frequency slew runs on on top of it. */
static int clock_set_frequency(void *ctx, double ppm)
{
	struct linux_clock *clock = ctx;
	int err;

	if (!isfinite(ppm))
		return -EINVAL;
	ppm = fmin(fmax(ppm, -LINUX_CLOCK_MAX_PPM), LINUX_CLOCK_MAX_PPM);
	if ((err = write_frequency(clock, ppm + clock->fslew_rate * 1e6)) == 0)
		clock->base_ppm = ppm;
	return err;
}

struct clock_ops linux_clock_ops(struct linux_clock *clock)
{
	return (struct clock_ops){
		.ctx = clock,
		.read = clock_read,
		.step = clock_step,
		.slew = clock_slew,
		.slew_state = clock_slew_state,
		.set_frequency = clock_set_frequency,
		.set_status = clock_set_status,
		.max_frequency_ppm = LINUX_CLOCK_MAX_PPM,
		.max_slew_ppm = clock->method == LINUX_CLOCK_SLEW_FREQUENCY ? clock->max_slew_rate * 1e6 :
									       LINUX_CLOCK_MAX_PPM,
		.next_tick = clock_next_tick,
		.tick = clock_tick,
		.finish = clock_finish,
	};
}
