#include "autoconfig.h" /* _GNU_SOURCE, for clock_adjtime */

#include "linux_clock.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

struct linux_clock {
	linux_clock_adjtime_fn adjtime_fn;
	bool adjust;
	bool eperm_reported;
};

struct linux_clock *linux_clock_create(linux_clock_adjtime_fn adjtime_fn, bool adjust)
{
	struct linux_clock *clock = calloc(1, sizeof(*clock));

	if (!clock)
		return NULL;
	clock->adjtime_fn = adjtime_fn ? adjtime_fn : clock_adjtime;
	clock->adjust = adjust;
	return clock;
}

void linux_clock_destroy(struct linux_clock *clock)
{
	free(clock);
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

static int clock_step(void *ctx, double offset)
{
	struct timex tx = { .modes = ADJ_SETOFFSET | ADJ_NANO };
	double whole, nsec;

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
	return apply(ctx, &tx, "step the clock");
}

static int clock_slew(void *ctx, double offset)
{
	struct timex tx = { .modes = ADJ_OFFSET_SINGLESHOT };

	if (!isfinite(offset) || fabs(offset) > LINUX_CLOCK_MAX_SLEW)
		return -ERANGE;
	tx.offset = lround(offset * 1e6);
	return apply(ctx, &tx, "slew the clock");
}

static int clock_set_frequency(void *ctx, double ppm)
{
	struct timex tx = { .modes = ADJ_FREQUENCY };

	if (!isfinite(ppm))
		return -EINVAL;
	if (ppm > LINUX_CLOCK_MAX_PPM)
		ppm = LINUX_CLOCK_MAX_PPM;
	else if (ppm < -LINUX_CLOCK_MAX_PPM)
		ppm = -LINUX_CLOCK_MAX_PPM;
	tx.freq = lround(ppm * 65536.0);
	return apply(ctx, &tx, "set the clock frequency");
}

static long error_usec(double seconds)
{
	if (!(seconds >= 0.0))
		return 0;
	if (seconds > LINUX_CLOCK_MAX_ERROR)
		seconds = LINUX_CLOCK_MAX_ERROR;
	return lround(seconds * 1e6);
}

static int clock_set_status(void *ctx, const struct clock_status *status)
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
	return apply(ctx, &tx, "set the clock status");
}

struct clock_ops linux_clock_ops(struct linux_clock *clock)
{
	return (struct clock_ops){
		.ctx = clock,
		.read = clock_read,
		.step = clock_step,
		.slew = clock_slew,
		.set_frequency = clock_set_frequency,
		.set_status = clock_set_status,
		.max_frequency_ppm = LINUX_CLOCK_MAX_PPM,
		.max_slew_ppm = LINUX_CLOCK_MAX_PPM,
	};
}
