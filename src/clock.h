/* The seam between the timekeeping core and a clock: the core calls these,
 * a platform file (linux_clock.c) or the simulator fills them in. Nothing
 * above this seam knows about adjtimex. All functions return 0 or -errno. */
#ifndef STRATA_CLOCK_H
#define STRATA_CLOCK_H

#include <stdbool.h>
#include <time.h>

#include "packet.h"

struct clock_status {
	bool synchronized;     /* false: the kernel shows STA_UNSYNC */
	enum ntp_leap leap;    /* INSERT or DELETE at the end of this UTC day */
	double max_error;      /* seconds */
	double est_error;      /* seconds */
};

/* The slew a clock is running, as it reports it (clock_ops.slew_state). */
struct clock_slew {
	double pending;    /* seconds slew() was given that the clock has still to apply */
	double scheduled;  /* the part of pending the current second's chunk applies: a new
			      slew() replaces only the rest */
	double rate;       /* s/s the slew moves the clock at now */
};

struct clock_ops {
	void *ctx;
	int (*read)(void *ctx, struct timespec *now);
	/* Moves the clock by offset seconds at once (relative, so nothing is lost
	 * between reading the clock and setting it), cancelling any slew, the
	 * part already scheduled for the current second included (Linux clears
	 * its adjtime state on a step). */
	int (*step)(void *ctx, double offset);
	/* Corrects offset seconds gradually, replacing the correction not yet
	 * scheduled. By adjtime (as Linux runs it): at each whole second
	 * of the clock the next chunk of at most max_slew_ppm microseconds is
	 * scheduled for that second and spread over it. So a slew starts moving
	 * the clock only at the next whole second, the chunk of the current
	 * second runs on whatever replaces it, and a remainder smaller than a
	 * chunk takes a whole second. Through the frequency (linux_clock.h):
	 * at once, at a rate of its own, nothing scheduled. */
	int (*slew)(void *ctx, double offset);
	/* The slew in progress, now: the core asks the clock rather than model
	 * the kernel's chunks itself. A clock that does not adjust reports none. */
	int (*slew_state)(void *ctx, struct clock_slew *out);
	/* Sets the frequency correction, in ppm; positive makes the clock run faster. */
	int (*set_frequency)(void *ctx, double ppm);
	int (*set_status)(void *ctx, const struct clock_status *status);
	double max_frequency_ppm; /* Linux: 500 */
	double max_slew_ppm;      /* Linux: 500 by adjtime, max_slew_rate through the frequency */
	/* For the loop that runs the clock, never for the core: a clock that
	 * corrects over time by itself (a slew through the frequency, which
	 * must be ended) wants tick() at the time next_tick() gives (realtime;
	 * false: nothing to do), and finish() before the program exits, so no
	 * slew runs on without us. NULL: nothing of the kind. */
	bool (*next_tick)(void *ctx, struct timespec *when);
	void (*tick)(void *ctx);
	void (*finish)(void *ctx);
};

#endif
