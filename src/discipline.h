/* The clock discipline: a Kalman filter estimates the offset and frequency of
 * the local clock from every sample of the sources selection kept, each
 * weighted by its delay excess, and the discipline drives a struct
 * clock_ops under a fixed policy (slew below step_threshold; step at start-up
 * or after the excess persisted for stepout; never past the insane-time
 * guard). Pure: time and samples are arguments, the clock is a seam.
 *
 * Offsets are "true - local" in seconds. The discipline works on the clock as
 * it will be once the pending slew has completed (the "corrected clock"):
 * a raw measurement taken while a slew runs is mapped onto it with
 * discipline_pending_slew(), which asks the clock (clock_ops.slew_state),
 * and every correction the discipline makes is
 * reported as a struct discipline_change so that the samples stored
 * elsewhere (the clock filters) can be moved with it. */
#ifndef STRATA_DISCIPLINE_H
#define STRATA_DISCIPLINE_H

#include <stdbool.h>
#include <time.h>

#include "clock.h"
#include "packet.h"

struct discipline_config {
	bool adjust;                    /* false: estimate only, never touch the clock */
	double step_threshold;          /* seconds */
	double panic_threshold;         /* seconds; 0: no guard */
	bool allow_initial_insane_step;
	double stepout;                 /* seconds */
	int max_steps;                  /* after start-up; 0: none; -1: no limit */
	bool have_initial_frequency;
	double initial_frequency_ppm;
	double wander_ppm_per_s;        /* assumed frequency random walk (process noise) */
	double initial_wander_ppm_per_s;/* learnt before (the drift file): the start when above the guess */
};

struct discipline_sample {
	struct timespec time;   /* local time the offset was measured at */
	double offset;          /* seconds, true - corrected clock */
	double noise;           /* seconds, RMS noise of an offset measured at the least delay */
	double delay;           /* seconds, the round trip: before anything is known, the error
				   lies within +-delay / 2 */
	double delay_excess;    /* seconds the round trip exceeded the least seen: the offset's error
				   from queueing lies within +-delay_excess / 2 */
	double root_distance;   /* seconds, for the kernel's max_error */
	enum ntp_leap leap;     /* what the majority of the selected sources announce */
};

enum discipline_action {
	DISCIPLINE_IGNORED = 0, /* older than the last update, or adjust is off */
	DISCIPLINE_SLEWED,
	DISCIPLINE_STEPPED,
	DISCIPLINE_STEP_WAITING,/* beyond step_threshold, not yet for stepout */
	DISCIPLINE_INSANE,      /* beyond panic_threshold: refused */
};

/* What the discipline did to the clock: the engine moves stored samples by it. */
struct discipline_change {
	enum discipline_action action;
	double offset;          /* seconds taken out of (true - corrected clock) */
	double frequency_ppm;   /* change of the frequency correction */
};

struct discipline *discipline_create(const struct discipline_config *cfg, const struct clock_ops *clock,
				     struct timespec now);
void discipline_destroy(struct discipline *d);
/* A reload: the new step policy (step_threshold, stepout, max_steps) applies
 * from the next update; the steps taken so far still count against max_steps.
 * The rest of the configuration is fixed at creation. */
void discipline_set_step_policy(struct discipline *d, double step_threshold, double stepout, int max_steps);

/* A new system offset; local is the clock's reading (not corrected for the
 * pending slew) when the corrections are made. */
void discipline_update(struct discipline *d, const struct discipline_sample *sample, struct timespec local,
		       struct discipline_change *change);
/* chronyc makestep: steps the clock now by the whole remaining correction
 * (the estimate of true - local plus the slew still pending), whatever the
 * step policy says, once the discipline has an estimate. With adjust off,
 * or before the first update, the clock is left alone (DISCIPLINE_IGNORED). */
void discipline_step_now(struct discipline *d, struct timespec local, struct discipline_change *change);
/* The part of the slews not yet applied now, as the clock reports it (same
 * sign as the slew): a raw offset measured now minus this is on the
 * corrected clock. */
double discipline_pending_slew(const struct discipline *d);
/* Tells the kernel the clock is not synchronized (no usable source, guard). */
void discipline_set_unsynchronized(struct discipline *d);

/* The estimate of true - local at t, on the actual (not corrected) clock. */
double discipline_offset_estimate(const struct discipline *d, struct timespec t);
double discipline_frequency_ppm(const struct discipline *d);
double discipline_residual_frequency_ppm(const struct discipline *d);
double discipline_skew_ppm(const struct discipline *d);
double discipline_rms_offset(const struct discipline *d);
/* How far the clock strayed from the model's predictions between the
 * latest updates (s, RMS), beyond what the measurements' noise explains:
 * the innovations' excess over their noise, weighed by precision, over the
 * last ten or so. A few us while the model follows the clock; as large as
 * the error it leaves when it lags behind, as while it learns an
 * oscillator that wanders far more than it assumed. Unlike the skew, which
 * the model computes from its own assumptions, this is measured. */
double discipline_prediction_error(const struct discipline *d);
/* The frequency's random walk learnt so far (ppm/sqrt(s)), for the drift
 * file: a restart that starts from it polls as the oscillator deserves at
 * once, where learning it again takes hours. */
double discipline_wander_ppm_per_s(const struct discipline *d);
bool discipline_has_updated(const struct discipline *d);
/* The poll interval (log2 seconds) the model asks for: the longest over
 * which the frequency's uncertainty and wander move the clock by no more
 * than the noise of one measurement, so polling more often would mostly
 * average noise and less often would let the clock wander unseen. Very low
 * before the first update (the caller clamps it to minpoll). */
int discipline_poll(const struct discipline *d);
unsigned discipline_steps(const struct discipline *d);

const char *discipline_action_str(enum discipline_action action);

#endif
