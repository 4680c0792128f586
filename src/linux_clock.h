/* The Linux clock: the only place in strata that may call clock_adjtime.
 * It fills in struct clock_ops (clock.h) for CLOCK_REALTIME:
 * - step: ADJ_SETOFFSET (relative, in nanoseconds), so no time is lost
 *   between reading the clock and setting it;
 * - slew: ADJ_OFFSET_SINGLESHOT, the kernel's adjtime(), which runs at
 *   500 ppm and replaces any correction still pending;
 * - slew_state: what the kernel holds (ADJ_OFFSET_SS_READ) and the rest of
 *   the chunk it runs this second, which it does not report and which is
 *   worked out here from our last slew (none in no-adjust mode: the
 *   kernel's slew is then another program's);
 *   or, with LINUX_CLOCK_SLEW_FREQUENCY (chrony's way), through the
 *   frequency: the clock runs faster or slower by up to max_slew_rate
 *   (ADJ_TICK for what ADJ_FREQUENCY's 500 ppm cannot hold) until the
 *   offset is taken out, and tick() ends it;
 * - set_frequency: ADJ_FREQUENCY, clamped to +-500 ppm;
 * - set_status: STA_UNSYNC, leap (STA_INS/STA_DEL, with the kernel PLL
 *   left off so it never fights our discipline), maxerror and esterror.
 * The syscall is a parameter, so unit tests see every struct timex built. */
#ifndef STRATA_LINUX_CLOCK_H
#define STRATA_LINUX_CLOCK_H

#include <stdbool.h>
#include <sys/timex.h>
#include <time.h>

#include "clock.h"

#define LINUX_CLOCK_MAX_PPM 500.0
/* The largest slew glibc's adjtime() accepts (about 36 minutes, which
 * already takes 50 days at 500 ppm); beyond it slew returns -ERANGE. */
#define LINUX_CLOCK_MAX_SLEW 2145.0
/* Far beyond any real error (a board booting in 1970 is 1.7e9 s behind),
 * but small enough for time_t. */
#define LINUX_CLOCK_MAX_STEP 1e12
/* The kernel's limit for maxerror and esterror (NTP_PHASE_LIMIT). */
#define LINUX_CLOCK_MAX_ERROR 16.0

/* How slew() corrects an offset. */
enum linux_clock_slew_method {
	/* the kernel's adjtime (ADJ_OFFSET_SINGLESHOT): 500 ppm, in chunks of
	 * a second, the clock's frequency otherwise untouched */
	LINUX_CLOCK_SLEW_ADJTIME,
	/* through the frequency, at once, at up to max_slew_rate */
	LINUX_CLOCK_SLEW_FREQUENCY,
};
#define LINUX_CLOCK_DEFAULT_MAX_SLEW_RATE 83333.333 /* ppm: 1/12, chrony's maxslewrate */
/* The kernel's tick may move 10 % from its nominal length; the frequency
 * correction (500 ppm) stays inside that. */
#define LINUX_CLOCK_MAX_SLEW_RATE 99000.0
/* A slew through the frequency takes at least this long (s): the loop that
 * ends it is late by its wakeup latency, which costs rate x latency (and is
 * then slewed back): at 1 ms, a microsecond per millisecond of offset. */
#define LINUX_CLOCK_MIN_SLEW_DURATION 1.0

typedef int (*linux_clock_adjtime_fn)(clockid_t clock, struct timex *tx);

struct linux_clock;

/* adjtime_fn: NULL for the real clock (clock_adjtime), a fake in tests. adjust:
 * false gives a clock that reads but refuses every change with -EROFS
 * (stratadate -q, adjust = false), without calling adjtime_fn. NULL when out
 * of memory. */
struct linux_clock *linux_clock_create(linux_clock_adjtime_fn adjtime_fn, bool adjust);
/* Slews by method from now on (LINUX_CLOCK_SLEW_ADJTIME at creation);
 * max_slew_rate_ppm: the frequency method's fastest, up to
 * LINUX_CLOCK_MAX_SLEW_RATE. */
void linux_clock_set_slew_method(struct linux_clock *clock, enum linux_clock_slew_method method,
				 double max_slew_rate_ppm);
/* clock_ops.tick, at a given time (tests). */
void linux_clock_tick_at(struct linux_clock *clock, struct timespec now);
/* Ends a frequency slew still running (clock_ops.finish) and frees. */
void linux_clock_destroy(struct linux_clock *clock);
struct clock_ops linux_clock_ops(struct linux_clock *clock);

#endif
