/* The simulated local clock behind a struct clock_ops, in virtual time.
 *
 * True time is tau seconds since the start of the run; the clock reads
 * epoch + local. It runs at 1 + oscillator error (a random walk when wander is
 * set) + the frequency correction + the slew of the current second. The
 * semantics are clock.h's, as Linux (kernel/time/ntp.c) has them: step is
 * relative and cancels the slew entirely; set_frequency takes effect at once
 * and refuses more than max_frequency_ppm; slew replaces the amount not yet
 * scheduled, and at every whole second of the clock (not of true time) the
 * next chunk of at most max_slew for that second is taken from it and spread
 * over the second, so a slew starts moving the clock only at the next whole
 * second and the chunk of the current second runs on whatever slew replaces
 * it; slew_state reports that state (what is not yet scheduled, and the
 * rest of this second's chunk); a leap second announced through set_status is inserted (or deleted)
 * when the clock reaches midnight UTC. */
#ifndef STRATA_SIM_CLOCK_H
#define STRATA_SIM_CLOCK_H

#include <stdbool.h>
#include <time.h>

#include "clock.h"
#include "sim_random.h"

#define SIM_CLOCK_MAX_STEPS 32

struct sim_clock {
	time_t epoch;               /* Unix seconds at tau = 0 */
	double tau;                 /* true seconds since the start */
	double local;               /* the clock reads epoch + local */
	double oscillator;          /* frequency error, s/s; positive runs fast */
	double wander;              /* random walk of the oscillator, (s/s) per sqrt(s) */
	double correction;          /* frequency correction, s/s */
	double adjust;              /* slew not yet scheduled, seconds (the kernel's time_adjust) */
	double chunk;               /* slew of the current second, s/s */
	double max_slew;            /* s/s */
	double max_frequency;       /* s/s */
	struct clock_status status;
	struct sim_random *random;

	/* what happened, for the report */
	unsigned steps;
	double step_tau[SIM_CLOCK_MAX_STEPS];
	double step_amount[SIM_CLOCK_MAX_STEPS];
	unsigned slews;
	unsigned frequency_sets;
	unsigned refused;           /* calls outside the limits */
	double max_slew_rate;       /* s/s actually applied by slews */
	double max_correction_rate; /* s/s: |frequency correction| + slew */
	/* The rate limit as the discipline must keep it: while a slew runs, its
	 * rate plus how far the frequency correction moved from the one the slew
	 * began with (s/s). */
	double max_slew_total_rate;
	double slew_base_correction;
	double leap_announced_tau;  /* < 0: never */
	double leap_applied_tau;    /* < 0: never */
	bool ever_synchronized;
};

void sim_clock_init(struct sim_clock *c, time_t epoch, double offset, double frequency_ppm, double wander_ppm,
		    struct sim_random *random);
/* Lets true time run on to tau. */
void sim_clock_advance(struct sim_clock *c, double tau);
struct timespec sim_clock_now(const struct sim_clock *c);
/* The clock's reading as seconds since epoch (for arithmetic in the simulator). */
double sim_clock_local(const struct sim_clock *c);
void sim_clock_ops(struct sim_clock *c, struct clock_ops *ops);
bool sim_clock_touched(const struct sim_clock *c);

#endif
