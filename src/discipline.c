#include "discipline.h"

#include <math.h>
#include <stdlib.h>

#include "log.h"
#include "ntp_time.h"

/* Before the first update nothing is known about the offset. */
#define INITIAL_OFFSET_VARIANCE 1.0
/* Without a drift file the oscillator may be anywhere in its tolerance. */
#define UNKNOWN_FREQUENCY_SD 1e-4
#define DRIFT_FILE_FREQUENCY_SD 1e-6
/* The running mean of 1 / measurement variance spans about this many samples. */
#define INFORMATION_SAMPLES 32.0
/* Each offset's interval is +-(excess over the least delay seen) / 2, but
 * the least of n delays itself lies above the true least, by m: the
 * interval lacks m / 2 each side, and is blurred by normal noise of that
 * RMS, this factor times the mean excess over sqrt(n). Derivation: the
 * round trip's queueing is the sum of two exponential delays of mean mu
 * each way (survival S(x) = e^-x/mu (1 + x/mu)), so P(m > x) = S(x)^n and
 * E[m^2] = integral of 2 x S(x)^n dx; the mean excess we measure is over
 * the least seen, 2 mu - E[m]. Numerically, RMS(m / 2) sqrt(n) / (measured
 * mean excess) is 0.60 at n = 8, 0.45 at 32, 0.42 at 64, 0.40 at 128, 0.37
 * at 512, tending to sqrt(2) / 4 = 0.354 (for large n the density near 0,
 * x / mu^2, makes m Rayleigh with scale mu / sqrt(n)). 0.4 is the exact
 * value at n = 128 and within 15 % of it from n = 40 to 1000, the samples a
 * source gives in a day at the polls it runs at. The asymptote instead moved
 * the matrix of issue 11 in clknetsim by -3 to +5 % (10 ms of jitter,
 * default polls: 450 -> 454 us RMS, poll 64 s: 504 -> 494 us) but put
 * strata-sim at 1.50 times clknetsim at poll 16 s and 1 ms of jitter
 * (tests/clknetsim/fidelity.sh, outside its 25 %): 0.4 stays. */
#define LEAST_DELAY_ERROR 0.4
/* ...and by this much (s, standard deviation) for what neither the delay
 * nor the precision shows: a floor under each sample's error. Without one,
 * a sample at the least delay is weighed as an interval as narrow as the
 * precision (nanoseconds) and pins the offset there. Measured, not fitted:
 * in clknetsim (10 us of jitter, seed 1, after 2000 s; the debug log's
 * "update from" offsets against the simulator's true offsets), the 277
 * samples within 2 us of the least delay are off the truth by 1.94 us RMS,
 * 271 of them beyond their +-excess/2 (2.6 us RMS at 2-5 us of excess,
 * 3.7 us at 5-10 us): a floor of about 2 us that the delay does not show,
 * likely the server's timestamps (chronyd fills the bits below its
 * precision at random). Real software timestamps jitter by microseconds
 * too (interrupt and wakeup latency). With it, RMS 3.1 us against 4.0 us
 * without at the default polls, 7.6 against 8.4 us at poll 64 s (medians
 * of 5 seeds). Estimating it from the innovations (an adaptive filter's
 * noise estimate) would drop the constant; at 10 ms of jitter a
 * microsecond floor is lost in the interval's width, so it needs weighting
 * to converge. */
#define TIMESTAMP_NOISE 2e-6
/* The poll is the interval over which the clock's unseen drift reaches this
 * fraction of the variance of one measurement. */
#define POLL_DRIFT_RATIO 0.25
/* The poll leaves this many samples within the filter's time constant: with
 * fewer, each estimate rests on one or two measurements, and the clock runs
 * unwatched for as long as it takes to wander away. */
#define POLL_SAMPLES_PER_TIME_CONSTANT 8.0
/* The wander is learnt from blocks of this many consecutive innovations
 * (a runs test: how much more their sum varies than its terms do)... */
#define WANDER_BLOCK 16
/* ...averaged over about this many blocks... */
#define WANDER_TREND_SAMPLES 64.0
/* ...and log(wander variance) moves by this times that average per update.
 * The average is noisy: at 1 ms of jitter and poll 16 s, with an
 * oscillator that does not wander at all, the wander learnt strays between
 * 0.14 and 94 ppb/s for hours (strata-sim, seed 3), and the offset's RMS
 * over 2000 s with it, between 6 and 124 us. The stray grows with the
 * gain; following a real change slows as it falls. Measured in clknetsim
 * (seeds 1-10, medians of stratad's RMS),
 * 0.03 against 0.05 gains 2-7 % in every cell of tests/clknetsim/fidelity.sh
 * (poll 64 s: 119.9 -> 112.8 us at 1 ms, 507.5 -> 470.6 us at 10 ms) but
 * its last, 100 ppb/s, the largest wander learnt, where it loses 9 % (92.5
 * -> 101.2 us). 0.02 gains a little more (109.5 and 463.1 us) and loses
 * 17 % there (108.0 us). */
#define WANDER_ADAPTATION_GAIN 0.03
/* The wander settles where the blocks vary a little less than independent
 * innovations would: erring on the side of too much wander, for lagging
 * behind the oscillator costs more than following some noise (clknetsim,
 * 10 us jitter, 10 ppb/s: RMS 11.9 us at a third of the true wander, 8.7 us
 * at three times it). With offsets weighed as intervals (interval_update),
 * 10 ms of jitter at poll 64 s wants it near -0.1 (RMS 470 us, 502 us at
 * -0.15, 572 us at -0.25, 868 us at -0.5), while the LAN's largest error
 * (10 us, poll 64 s) stays below chronyd's (58 us, chronyd 67 us). */
#define WANDER_TREND_TARGET -0.1
/* The wander learnt stays within these factors of the configured guess
 * (of the variance: 10^4 is 100 times the random walk). */
#define WANDER_VARIANCE_RANGE 1e4
/* This many outliers on the same side, with no measurement in between
 * that puts the offset nearer the prediction than them, mean the model is
 * wrong. */
#define OUTLIER_RUN 3
/* discipline_prediction_error is a running mean over about this many
 * updates: enough that the noise of single squares mostly averages out,
 * few enough that a lag shows within a quarter of an hour at poll 64 s. */
#define PREDICTION_ERROR_SAMPLES 10.0

struct discipline {
	struct discipline_config cfg;
	struct clock_ops clock;

	bool updated;             /* the first update happened (start-up is over) */
	bool initial_insane_step_used;
	unsigned steps;           /* all steps, start-up included */
	unsigned later_steps;     /* steps after start-up */
	bool excess_seen;
	struct timespec excess_since;

	double frequency_ppm;     /* the correction the clock runs with */

	/* the frequency correction the running slew began with: the rate limit
	 * holds for the slew and the frequency's move from there together */
	double slew_base_ppm;

	/* Kalman state: offset x (true - corrected clock) and its rate y, at state_time */
	struct timespec state_time;
	double x, y;
	double pxx, pxy, pyy;
	double rms_offset;
	unsigned outliers;        /* measurements far off on one side, none against them since */
	double outlier_innovation; /* the last one's */
	struct timespec last_consistent; /* of the last measurement with no run of outliers open */
	double mean_information;  /* running mean of 1 / measurement variance */
	double mean_excess;       /* running mean of the samples' delay excess */
	double excess_samples;    /* samples seen, the least delay taken over */
	/* The frequency's random walk (s^-1: variance of the frequency per
	 * second), learnt from the innovations: a model that wanders too little
	 * lags behind the clock, and its innovations run on the same side one
	 * after the other; one that wanders too much chases the noise, and they
	 * alternate. */
	double wander_variance;
	double recent_innovations[WANDER_BLOCK]; /* normalized, capped, weighted */
	unsigned innovations_seen;
	double wander_trend;      /* running mean of the blocks' excess variation */
	/* running means of (innovation^2 - measurement variance) / innovation
	 * variance and of 1 / innovation variance: their ratio weighs each
	 * squared prediction error by the measurement's precision */
	double prediction_error_sum, prediction_error_weight;
	struct timespec last_update;
};

static double sign(double v)
{
	return v < 0.0 ? -1.0 : 1.0;
}

static double variance_of_wander(double wander_ppm_per_s)
{
	return wander_ppm_per_s * 1e-6 * wander_ppm_per_s * 1e-6;
}

/* A wander's variance kept within WANDER_VARIANCE_RANGE of the configured
 * guess: the one learnt, and a drift file's. */
static double wander_variance_within_range(const struct discipline_config *cfg, double variance)
{
	double guess = variance_of_wander(cfg->wander_ppm_per_s);

	return fmin(fmax(variance, guess / WANDER_VARIANCE_RANGE), guess * WANDER_VARIANCE_RANGE);
}

struct discipline *discipline_create(const struct discipline_config *cfg, const struct clock_ops *clock,
				     struct timespec now)
{
	struct discipline *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->cfg = *cfg;
	d->clock = *clock;
	d->state_time = now;
	d->last_update = now;
	d->last_consistent = now;
	d->pxx = INITIAL_OFFSET_VARIANCE;
	/* A wander learnt before only raises the start: it is a noisy estimate
	 * (at 1 ms of jitter a steady oscillator's strays 3 times either way),
	 * and lagging costs more than following some noise. Restarted from the
	 * file of an earlier run in clknetsim (seeds 1-5), starting below the
	 * guess cost 6 % of RMS at 1 ms (geometric mean); starting above it
	 * saved 8 % at 10 ms and 15 % at 33 times the guessed wander. */
	d->wander_variance = wander_variance_within_range(
		cfg, variance_of_wander(fmax(cfg->initial_wander_ppm_per_s, cfg->wander_ppm_per_s)));
	d->pyy = UNKNOWN_FREQUENCY_SD * UNKNOWN_FREQUENCY_SD;
	if (cfg->have_initial_frequency) {
		double f = cfg->initial_frequency_ppm;

		if (fabs(f) > clock->max_frequency_ppm)
			f = sign(f) * clock->max_frequency_ppm;
		d->pyy = DRIFT_FILE_FREQUENCY_SD * DRIFT_FILE_FREQUENCY_SD;
		if (cfg->adjust && d->clock.set_frequency(d->clock.ctx, f) == 0)
			d->frequency_ppm = f;
	}
	return d;
}

void discipline_destroy(struct discipline *d)
{
	free(d);
}

void discipline_set_step_policy(struct discipline *d, double step_threshold, double stepout, int max_steps)
{
	d->cfg.step_threshold = step_threshold;
	d->cfg.stepout = stepout;
	d->cfg.max_steps = max_steps;
}

static double max_chunk(const struct discipline *d)
{
	return d->clock.max_slew_ppm * 1e-6;
}

/* The clock's slew now, as it says; none when it cannot say (or does not
 * adjust). */
static struct clock_slew slew_state(const struct discipline *d)
{
	struct clock_slew st = { 0 };

	if (!d->cfg.adjust || d->clock.slew_state(d->clock.ctx, &st) != 0)
		return (struct clock_slew){ 0 };
	return st;
}

static bool slew_running(const struct clock_slew *st)
{
	return st->pending != 0.0 || st->rate != 0.0;
}

double discipline_pending_slew(const struct discipline *d)
{
	return slew_state(d).pending;
}

/* A slew the clock is to run from now: the chunk of this second runs on. */
struct slew_plan {
	double amount;          /* seconds to hand to the clock */
	double peak_ppm;        /* the fastest it moves the clock */
	bool was_running;
};

static struct slew_plan plan_slew(const struct discipline *d, double offset)
{
	struct clock_slew st = slew_state(d);
	struct slew_plan plan = { .was_running = slew_running(&st) };

	/* all that is pending, less what the chunk of this second still does */
	plan.amount = offset + st.pending - st.scheduled;
	plan.peak_ppm = fmax(fabs(st.rate), fmin(max_chunk(d), fabs(plan.amount))) * 1e6;
	return plan;
}

/* The times the discipline keeps move with a step or slew of the clock. */
static void move_times(struct discipline *d, double offset)
{
	d->state_time = timespec_add(d->state_time, offset);
	d->last_update = timespec_add(d->last_update, offset);
	d->excess_since = timespec_add(d->excess_since, offset);
	d->last_consistent = timespec_add(d->last_consistent, offset);
}

/* Takes offset out of the corrected clock: slews offset plus what is still pending. */
static void apply_slew(struct discipline *d, double offset, struct discipline_change *change)
{
	struct slew_plan plan = plan_slew(d, offset);

	if (d->clock.slew(d->clock.ctx, plan.amount) != 0)
		return;
	if (!plan.was_running)
		d->slew_base_ppm = d->frequency_ppm;
	d->x -= offset;
	move_times(d, offset);
	change->offset += offset;
}

static void apply_step(struct discipline *d, double offset, struct discipline_change *change)
{
	/* the step cancels the slew, the chunk of this second included */
	if (d->clock.step(d->clock.ctx, offset + discipline_pending_slew(d)) != 0)
		return;
	d->x -= offset;
	move_times(d, offset);
	change->offset += offset;
	change->action = DISCIPLINE_STEPPED;
	d->steps++;
	if (d->updated)
		d->later_steps++;
}

/* Changes the frequency correction by dfreq ppm, within the clock's limit.
 * While a slew runs (slew_peak_ppm > 0: the fastest the slew, as it will be
 * once replaced, moves the clock), the frequency may stand away from the one
 * the slew began with only by what the slew leaves of max_slew_ppm, so
 * the clock never moves faster than that against the rate it was given. */
static void apply_frequency(struct discipline *d, double dfreq, double slew_peak_ppm,
			    struct discipline_change *change)
{
	double max = d->clock.max_frequency_ppm;
	double target = d->frequency_ppm + dfreq;

	if (slew_peak_ppm > 0.0) {
		double room = fmax(0.0, d->clock.max_slew_ppm - slew_peak_ppm);

		target = fmin(fmax(target, d->slew_base_ppm - room), d->slew_base_ppm + room);
	}
	if (target > max)
		target = max;
	if (target < -max)
		target = -max;
	dfreq = target - d->frequency_ppm;
	if (dfreq == 0.0 || d->clock.set_frequency(d->clock.ctx, target) != 0)
		return;
	d->frequency_ppm = target;
	d->y -= dfreq * 1e-6;
	change->frequency_ppm += dfreq;
}

static void kalman_predict(struct discipline *d, struct timespec t)
{
	double dt = timespec_diff(t, d->state_time);
	double q = d->wander_variance;

	if (dt <= 0.0)
		return;
	d->x += d->y * dt;
	d->pxx += 2.0 * dt * d->pxy + dt * dt * d->pyy + q * dt * dt * dt / 3.0;
	d->pxy += dt * d->pyy + q * dt * dt / 2.0;
	d->pyy += q * dt;
	d->state_time = t;
}

static double measurement_variance(const struct discipline_sample *s)
{
	/* Queueing delays one way or the other by up to the excess, so the
	 * error is uniform within +-excess/2: variance excess^2 / 12. */
	return s->noise * s->noise + s->delay_excess * s->delay_excess / 12.0;
}

/* Moves the wander towards the value that leaves the innovations
 * uncorrelated. The sum of a block of them varies as much as its terms
 * together when they are independent; more when they run on one side (the
 * model lags: too little wander), less when they alternate (it chases the
 * noise: too much). Compared with the block's own squares, so the test
 * asks only about runs, not about the scale of the noise. Each innovation
 * counts by weight, the share of its spread the prediction's error makes
 * (as a standard deviation): a lag shows in the precise measurements, and
 * is lost in the noise of the imprecise ones. Outliers count too, capped
 * at three standard deviations: without them the innovations left are the
 * ones nearest the prediction, which alternate more than all of them do,
 * so a model lagging far behind learnt to wander less (in
 * test_discipline, an oscillator wandering 100 times the guess left the
 * wander at the guess for 800 updates, 14 hours at poll 64 s; counted, it
 * is learnt within 500). */
static void learn_wander(struct discipline *d, double normalized, double weight)
{
	double sum = 0.0, squares = 0.0;

	d->recent_innovations[d->innovations_seen++ % WANDER_BLOCK] = weight * fmax(-3.0, fmin(3.0, normalized));
	if (d->innovations_seen < WANDER_BLOCK)
		return;
	for (unsigned i = 0; i < WANDER_BLOCK; i++) {
		sum += d->recent_innovations[i];
		squares += d->recent_innovations[i] * d->recent_innovations[i];
	}
	if (squares <= 0.0)
		return;
	d->wander_trend += (fmin(sum * sum / squares - 1.0, 4.0) - d->wander_trend) / WANDER_TREND_SAMPLES;
	d->wander_variance = wander_variance_within_range(
		&d->cfg, d->wander_variance * exp(WANDER_ADAPTATION_GAIN * (d->wander_trend - WANDER_TREND_TARGET)));
}

static double normal_density(double u)
{
	return exp(-0.5 * u * u) / sqrt(2.0 * M_PI);
}

/* Probability that a standard normal variable falls within [a, b], from
 * the tail it is precise in. */
static double normal_mass(double a, double b)
{
	if (a > 0.0)
		return 0.5 * (erfc(a / M_SQRT2) - erfc(b / M_SQRT2));
	return 0.5 * (erfc(-b / M_SQRT2) - erfc(-a / M_SQRT2));
}

/* The update for a measurement z = x + u + e whose queueing error u is
 * uniform within +-half_width and e normal of variance noise2: its
 * likelihood is flat over the interval, not a bell, so a precise prediction
 * well inside it learns little from it, while the narrow interval of a
 * little-delayed one pins the offset down. The offset's posterior moments
 * are those of the prediction restricted to the interval (w = x + e
 * truncated to [z - half_width, z + half_width]), and the frequency follows
 * through its covariance with the offset. */
static void interval_update(struct discipline *d, double z, double noise2, double half_width)
{
	double sw2 = d->pxx + noise2, sw = sqrt(sw2);
	double a = (z - half_width - d->x) / sw, b = (z + half_width - d->x) / sw;
	double mass = normal_mass(a, b), mean_w, var_w, k, mx, vx, c;

	if (d->pxx <= 0.0)
		return;
	if (half_width < 0.01 * sw) {
		mean_w = z;
		var_w = half_width * half_width / 3.0;
	} else if (mass < 1e-12) {
		/* the interval lies far in the prediction's tail: all of what is
		 * left of it sits on the interval's near edge */
		mean_w = fmin(fmax(d->x, z - half_width), z + half_width);
		var_w = 0.0;
	} else {
		double lambda = (normal_density(a) - normal_density(b)) / mass;

		mean_w = d->x + sw * lambda;
		var_w = sw2 * (1.0 + (a * normal_density(a) - b * normal_density(b)) / mass - lambda * lambda);
		var_w = fmax(var_w, 0.0);
	}
	k = d->pxx / sw2;
	mx = d->x + k * (mean_w - d->x);
	vx = d->pxx * (1.0 - k) + k * k * var_w;
	c = d->pxy / d->pxx;
	d->y += c * (mx - d->x);
	d->pyy += c * c * vx - c * d->pxy;
	d->pxy = c * vx;
	d->x = mx;
	d->pxx = vx;
}

/* elapsed: seconds since the last measurement the model expected */
static void kalman_update(struct discipline *d, double z, double noise2, double half_width, double elapsed)
{
	double innovation = z - d->x;
	double r = noise2 + half_width * half_width / 3.0;
	double s = d->pxx + r;
	double kx, ky, pxx = d->pxx, pxy = d->pxy;

	/* outliers included: a run of them is a lag at its plainest */
	d->prediction_error_sum += ((innovation * innovation - r) / s - d->prediction_error_sum) /
				   PREDICTION_ERROR_SAMPLES;
	d->prediction_error_weight += (1.0 / s - d->prediction_error_weight) / PREDICTION_ERROR_SAMPLES;
	/* A measurement far outside what the model expects is more likely noise
	 * than news: weigh it as if its variance were that large (Huber-like).
	 * But several on the same side are news: the model was too sure of
	 * itself (a frequency learnt from a few noisy samples), so its
	 * uncertainty grows to what they show. A measurement speaks against
	 * them when its interval lies wholly nearer the prediction than half way
	 * to them: other sources' samples against a falseticker that is
	 * still selected. A wide interval that holds both says nothing either
	 * way; at 10 ms of jitter most do, and counting them as consistent kept
	 * a discipline 5 ms off for hours after start (clknetsim, seed 3).
	 * Within the gate, the measurement counts as the interval it is
	 * (interval_update). */
	if (d->outliers > 0) {
		double halfway = d->x + d->outlier_innovation / 2.0;

		if (d->outlier_innovation > 0.0 ? z + half_width < halfway : z - half_width > halfway)
			d->outliers = 0;
	}
	learn_wander(d, innovation / sqrt(s), sqrt(d->pxx / s));
	if (innovation * innovation > 9.0 * s) {
		d->outliers = (innovation > 0.0) == (d->outlier_innovation > 0.0) ? d->outliers + 1 : 1;
		d->outlier_innovation = innovation;
		if (d->outliers >= OUTLIER_RUN) {
			d->outliers = 0;
			pxx = d->pxx += innovation * innovation;
			if (elapsed > 0.0)
				d->pyy += innovation * innovation / (elapsed * elapsed);
			s = d->pxx + r;
		} else {
			r = innovation * innovation / 9.0 - d->pxx;
			s = d->pxx + r;
		}
	} else {
		interval_update(d, z, noise2, half_width);
		return;
	}
	kx = pxx / s;
	ky = pxy / s;
	d->x += kx * innovation;
	d->y += ky * innovation;
	d->pxx = (1.0 - kx) * pxx;
	d->pxy = (1.0 - kx) * pxy;
	d->pyy -= ky * pxy;
}

static void report_status(struct discipline *d, const struct discipline_sample *s)
{
	struct clock_status status = {
		.synchronized = true,
		.leap = s->leap == NTP_LEAP_UNSYNC ? NTP_LEAP_NONE : s->leap,
		.max_error = s->root_distance + fabs(d->x),
		.est_error = sqrt(d->pxx + s->noise * s->noise),
	};

	d->clock.set_status(d->clock.ctx, &status);
}

void discipline_set_unsynchronized(struct discipline *d)
{
	struct clock_status status = { .synchronized = false, .leap = NTP_LEAP_NONE,
				       .max_error = 16.0, .est_error = 16.0 };

	if (d->cfg.adjust)
		d->clock.set_status(d->clock.ctx, &status);
}

static bool step_allowed(const struct discipline *d, struct timespec now)
{
	if (!d->updated)
		return true;
	if (timespec_diff(now, d->excess_since) < d->cfg.stepout)
		return false;
	return d->cfg.max_steps < 0 || d->later_steps < (unsigned)d->cfg.max_steps;
}

void discipline_update(struct discipline *d, const struct discipline_sample *s, struct timespec local,
		       struct discipline_change *change)
{
	struct timespec now = timespec_add(local, discipline_pending_slew(d));
	double z = s->offset, r, noise2 = s->noise * s->noise, least_delay_error, slew_peak_ppm;
	struct slew_plan plan;
	bool insane = d->cfg.panic_threshold > 0.0 && fabs(z) > d->cfg.panic_threshold;

	*change = (struct discipline_change){ .action = DISCIPLINE_IGNORED };
	r = measurement_variance(s);
	d->excess_samples++;
	d->mean_excess += (s->delay_excess - d->mean_excess) /
			  (d->mean_information > 0.0 ? INFORMATION_SAMPLES : 1.0);
	d->mean_information += (1.0 / r - d->mean_information) /
			       (d->mean_information > 0.0 ? INFORMATION_SAMPLES : 1.0);
	if (d->updated && timespec_diff(s->time, d->last_update) <= 0.0)
		return;

	if (insane && !(d->cfg.allow_initial_insane_step && !d->updated && !d->initial_insane_step_used)) {
		change->action = DISCIPLINE_INSANE;
		return;
	}
	/* a sample older than the state (the filter chose an earlier, less
	 * delayed one) is carried forward along the frequency estimate */
	if (timespec_diff(s->time, d->state_time) < 0.0) {
		double back = timespec_diff(d->state_time, s->time);

		z += d->y * back;
		r += d->pyy * back * back;
		noise2 += d->pyy * back * back;
	}
	kalman_predict(d, s->time);

	if (fabs(z) > d->cfg.step_threshold) {
		if (!d->excess_seen) {
			d->excess_seen = true;
			d->excess_since = s->time;
		}
		if (d->cfg.adjust && step_allowed(d, s->time)) {
			if (insane)
				d->initial_insane_step_used = true;
			kalman_predict(d, now);
			d->x = z;
			d->pxx = r;
			/* the offset is known afresh: its old correlation with the
			 * frequency (grown since start) would leave a covariance that
			 * is not positive, and the next update a NaN */
			d->pxy = 0.0;
			apply_step(d, z, change);
			d->excess_seen = false;
			d->updated = true;
			d->last_update = timespec_add(s->time, change->offset);
			d->last_consistent = d->last_update;
			report_status(d, s);
			return;
		}
		if (d->updated && timespec_diff(s->time, d->excess_since) < d->cfg.stepout) {
			change->action = DISCIPLINE_STEP_WAITING;
			return;
		}
		/* the steps are used up: slew it away, however long that takes,
		 * without reading a frequency into a jump */
		d->x = z;
		d->pxx = r;
		d->pxy = 0.0;
		d->updated = true;
		d->last_update = s->time;
		d->last_consistent = s->time;
		if (d->cfg.adjust) {
			change->action = DISCIPLINE_SLEWED;
			apply_slew(d, z, change);
			report_status(d, s);
		}
		return;
	} else {
		d->excess_seen = false;
	}

	least_delay_error = LEAST_DELAY_ERROR * d->mean_excess / sqrt(d->excess_samples);
	noise2 += least_delay_error * least_delay_error;
	noise2 += TIMESTAMP_NOISE * TIMESTAMP_NOISE;
	kalman_update(d, z, noise2, s->delay_excess / 2.0, timespec_diff(s->time, d->last_consistent));
	if (d->outliers == 0)
		d->last_consistent = s->time;
	d->rms_offset = d->updated ? sqrt(0.9 * d->rms_offset * d->rms_offset + 0.1 * z * z) : fabs(z);
	d->updated = true;
	d->last_update = s->time;
	kalman_predict(d, now);
	if (!d->cfg.adjust)
		return;
	change->action = DISCIPLINE_SLEWED;
	plan = plan_slew(d, d->x);
	slew_peak_ppm = plan.was_running ? plan.peak_ppm : 0.0;
	apply_frequency(d, d->y * 1e6, slew_peak_ppm, change);
	apply_slew(d, d->x, change);
	report_status(d, s);
}

void discipline_step_now(struct discipline *d, struct timespec local, struct discipline_change *change)
{
	struct timespec now = timespec_add(local, discipline_pending_slew(d));

	*change = (struct discipline_change){ .action = DISCIPLINE_IGNORED };
	if (!d->cfg.adjust || !d->updated)
		return;
	kalman_predict(d, now);
	apply_step(d, d->x, change);
	d->excess_seen = false;
}

double discipline_offset_estimate(const struct discipline *d, struct timespec t)
{
	return d->x + d->y * timespec_diff(t, d->state_time) + discipline_pending_slew(d);
}

double discipline_frequency_ppm(const struct discipline *d)
{
	return d->frequency_ppm;
}

double discipline_residual_frequency_ppm(const struct discipline *d)
{
	return d->y * 1e6;
}

double discipline_skew_ppm(const struct discipline *d)
{
	return sqrt(d->pyy) * 1e6;
}

double discipline_prediction_error(const struct discipline *d)
{
	if (d->prediction_error_weight <= 0.0)
		return 0.0;
	return sqrt(fmax(0.0, d->prediction_error_sum / d->prediction_error_weight));
}

double discipline_wander_ppm_per_s(const struct discipline *d)
{
	return sqrt(d->wander_variance) * 1e6;
}

double discipline_rms_offset(const struct discipline *d)
{
	return d->rms_offset;
}

bool discipline_has_updated(const struct discipline *d)
{
	return d->updated;
}

int discipline_poll(const struct discipline *d)
{
	double q = d->wander_variance, r, interval;

	if (!d->updated || d->mean_information <= 0.0)
		return 0;
	r = 1.0 / d->mean_information;
	/* frequency error: pyy T^2 = POLL_DRIFT_RATIO r */
	interval = sqrt(POLL_DRIFT_RATIO * r / d->pyy);
	/* wander: the filter's time constant, (r T / q)^(1/4) for samples of
	 * variance r every T seconds, is POLL_SAMPLES_PER_TIME_CONSTANT T */
	if (q > 0.0)
		interval = fmin(interval, cbrt(r / q / pow(POLL_SAMPLES_PER_TIME_CONSTANT, 4.0)));
	return interval < 1.0 ? 0 : (int)floor(log2(interval));
}

unsigned discipline_steps(const struct discipline *d)
{
	return d->steps;
}

const char *discipline_action_str(enum discipline_action action)
{
	switch (action) {
	case DISCIPLINE_IGNORED: return "ignored";
	case DISCIPLINE_SLEWED: return "slewed";
	case DISCIPLINE_STEPPED: return "stepped";
	case DISCIPLINE_STEP_WAITING: return "waiting for stepout";
	case DISCIPLINE_INSANE: return "refused (insane time)";
	}
	return "?";
}
