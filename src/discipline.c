#include "discipline.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "ntp_time.h"

/* Samples the regression keeps; chrony keeps 64. */
#define REGRESSION_MAX 64
#define REGRESSION_MIN 3
/* Before the first update nothing is known about the offset. */
#define INITIAL_OFFSET_VARIANCE 1.0
/* Without a drift file the oscillator may be anywhere in its tolerance. */
#define UNKNOWN_FREQUENCY_SD 1e-4
#define DRIFT_FILE_FREQUENCY_SD 1e-6
/* Measurements are never trusted below this noise: timestamps are not exact. */
#define MIN_MEASUREMENT_SD 1e-7

struct regression_point {
	struct timespec time;
	double offset;
	double variance;
};

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

	/* the last slew, for what is still pending */
	bool slewing;
	struct timespec slew_start;
	double slew_amount;

	/* Kalman state: offset x (true - corrected clock) and its rate y, at state_time */
	struct timespec state_time;
	double x, y;
	double pxx, pxy, pyy;
	double rms_offset;

	/* PLL */
	struct timespec last_update;

	/* regression window, oldest first */
	struct regression_point points[REGRESSION_MAX];
	unsigned npoints;
};

static double sign(double v)
{
	return v < 0.0 ? -1.0 : 1.0;
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
	d->pxx = INITIAL_OFFSET_VARIANCE;
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

double discipline_pending_slew(const struct discipline *d, struct timespec t)
{
	double elapsed, done;

	if (!d->slewing)
		return 0.0;
	elapsed = timespec_diff(t, d->slew_start);
	if (elapsed < 0.0)
		elapsed = 0.0;
	done = elapsed * d->clock.max_slew_ppm * 1e-6;
	if (done >= fabs(d->slew_amount))
		return 0.0;
	return d->slew_amount - sign(d->slew_amount) * done;
}

/* Moves the regression window with a change of the clock, as if the samples
 * had been taken on the clock as it is now corrected. */
static void regression_correct(struct discipline *d, struct timespec now, double offset, double dfreq)
{
	for (unsigned i = 0; i < d->npoints; i++)
		d->points[i].offset += -offset + dfreq * timespec_diff(now, d->points[i].time);
}

/* Takes offset out of the corrected clock: slews offset plus what is still pending. */
static void apply_slew(struct discipline *d, struct timespec now, double offset,
		       struct discipline_change *change)
{
	double total = offset + discipline_pending_slew(d, now);

	if (d->clock.slew(d->clock.ctx, total) != 0)
		return;
	d->slewing = total != 0.0;
	d->slew_start = now;
	d->slew_amount = total;
	d->x -= offset;
	regression_correct(d, now, offset, 0.0);
	change->offset += offset;
}

static void apply_step(struct discipline *d, struct timespec now, double offset,
		       struct discipline_change *change)
{
	double pending = discipline_pending_slew(d, now);

	if (pending != 0.0 && d->clock.slew(d->clock.ctx, 0.0) == 0)
		d->slewing = false;
	else
		pending = 0.0;
	if (d->clock.step(d->clock.ctx, offset + pending) != 0)
		return;
	d->x -= offset;
	regression_correct(d, now, offset, 0.0);
	change->offset += offset;
	change->action = DISCIPLINE_STEPPED;
	d->steps++;
	if (d->updated)
		d->later_steps++;
}

/* Changes the frequency correction by dfreq ppm, within the clock's limit. */
static void apply_frequency(struct discipline *d, struct timespec now, double dfreq,
			    struct discipline_change *change)
{
	double max = d->clock.max_frequency_ppm;
	double target = d->frequency_ppm + dfreq;

	if (target > max)
		target = max;
	if (target < -max)
		target = -max;
	dfreq = target - d->frequency_ppm;
	if (dfreq == 0.0 || d->clock.set_frequency(d->clock.ctx, target) != 0)
		return;
	d->frequency_ppm = target;
	d->y -= dfreq * 1e-6;
	regression_correct(d, now, 0.0, dfreq * 1e-6);
	change->frequency_ppm += dfreq;
}

static void kalman_predict(struct discipline *d, struct timespec t)
{
	double dt = timespec_diff(t, d->state_time);
	double q = d->cfg.wander_ppm_per_s * 1e-6;

	if (dt <= 0.0)
		return;
	q *= q;
	d->x += d->y * dt;
	d->pxx += 2.0 * dt * d->pxy + dt * dt * d->pyy + q * dt * dt * dt / 3.0;
	d->pxy += dt * d->pyy + q * dt * dt / 2.0;
	d->pyy += q * dt;
	d->state_time = t;
}

static double measurement_variance(const struct discipline_sample *s)
{
	double sd = s->jitter;

	if (s->delay_excess > 0.0)
		sd = sqrt(sd * sd + 0.25 * s->delay_excess * s->delay_excess);
	if (sd < MIN_MEASUREMENT_SD)
		sd = MIN_MEASUREMENT_SD;
	return sd * sd;
}

static void kalman_update(struct discipline *d, double z, double r)
{
	double innovation = z - d->x;
	double s = d->pxx + r;
	double kx, ky, pxx = d->pxx, pxy = d->pxy;

	/* A measurement far outside what the model expects is more likely noise
	 * than news: weigh it as if its variance were that large (Huber-like). */
	if (innovation * innovation > 9.0 * s) {
		r = innovation * innovation / 9.0 - d->pxx;
		s = d->pxx + r;
	}
	kx = pxx / s;
	ky = pxy / s;
	d->x += kx * innovation;
	d->y += ky * innovation;
	d->pxx = (1.0 - kx) * pxx;
	d->pxy = (1.0 - kx) * pxy;
	d->pyy -= ky * pxy;
}

/* The runs test: too few runs of same-signed residuals means the line does
 * not fit the oldest samples any more (the frequency changed). */
static bool runs_ok(const double *residuals, unsigned n)
{
	unsigned pos = 0, runs = 1;
	double np, nn, mean, var;

	for (unsigned i = 0; i < n; i++) {
		if (residuals[i] >= 0.0)
			pos++;
		if (i > 0 && (residuals[i] >= 0.0) != (residuals[i - 1] >= 0.0))
			runs++;
	}
	np = pos;
	nn = n - pos;
	if (np == 0.0 || nn == 0.0)
		return n < 6;
	mean = 1.0 + 2.0 * np * nn / n;
	var = (mean - 1.0) * (mean - 2.0) / (n - 1.0);
	return runs >= mean - 1.64 * sqrt(var);
}

/* Weighted least squares of offset on time over points[first..]; a is the
 * offset at now, b the slope. Returns false when the points are too few. */
static bool regression_fit(const struct discipline *d, unsigned first, struct timespec now,
			   double *a, double *b, double *var_a, double *var_b)
{
	double sw = 0, st = 0, so = 0, stt = 0, sto = 0, det;

	if (d->npoints - first < 2)
		return false;
	for (unsigned i = first; i < d->npoints; i++) {
		double w = 1.0 / d->points[i].variance;
		double t = timespec_diff(d->points[i].time, now);

		sw += w;
		st += w * t;
		so += w * d->points[i].offset;
		stt += w * t * t;
		sto += w * t * d->points[i].offset;
	}
	det = sw * stt - st * st;
	if (det <= 0.0)
		return false;
	*b = (sw * sto - st * so) / det;
	*a = (so - *b * st) / sw;
	*var_a = stt / det;
	*var_b = sw / det;
	return true;
}

static void regression_estimate(struct discipline *d, const struct discipline_sample *s, double r,
				double *offset, double *dfreq)
{
	double residuals[REGRESSION_MAX];
	double a = s->offset, b = 0.0, va = r, vb = d->pyy;
	unsigned first = 0;

	if (d->npoints == REGRESSION_MAX) {
		for (unsigned i = 1; i < REGRESSION_MAX; i++)
			d->points[i - 1] = d->points[i];
		d->npoints--;
	}
	d->points[d->npoints++] = (struct regression_point){ s->time, s->offset, r };

	/* the longest window whose residuals pass the runs test */
	while (regression_fit(d, first, s->time, &a, &b, &va, &vb)) {
		unsigned n = d->npoints - first;

		for (unsigned i = 0; i < n; i++)
			residuals[i] = d->points[first + i].offset -
				       (a + b * timespec_diff(d->points[first + i].time, s->time));
		if (n <= REGRESSION_MIN || runs_ok(residuals, n))
			break;
		first += (n + 3) / 4;
	}
	for (unsigned i = first; i < d->npoints; i++)
		d->points[i - first] = d->points[i];
	d->npoints -= first;
	if (d->npoints < 2) {
		*offset = s->offset;
		*dfreq = 0.0;
		return;
	}
	d->pxx = va;
	d->pyy = vb;
	*offset = a;
	*dfreq = b;
}

static void pll_estimate(struct discipline *d, const struct discipline_sample *s, double *offset,
			 double *dfreq)
{
	double dt = timespec_diff(s->time, d->last_update);

	/* ntpd's loop: a time constant of 16 poll intervals for the phase, the
	 * frequency integrating offset * dt / (4 * tc)^2. */
	if (!d->updated || dt <= 0.0) {
		*offset = s->offset;
		*dfreq = 0.0;
		return;
	}
	*offset = s->offset / 16.0;
	*dfreq = s->offset * dt / ((64.0 * dt) * (64.0 * dt));
}

static void report_status(struct discipline *d, const struct discipline_sample *s)
{
	struct clock_status status = {
		.synchronized = true,
		.leap = s->leap == NTP_LEAP_UNSYNC ? NTP_LEAP_NONE : s->leap,
		.max_error = s->root_distance + fabs(d->x),
		.est_error = sqrt(d->pxx + s->jitter * s->jitter),
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

void discipline_update(struct discipline *d, const struct discipline_sample *s, struct timespec now,
		       struct discipline_change *change)
{
	double z = s->offset, r = measurement_variance(s);
	double offset, dfreq;
	bool insane = d->cfg.panic_threshold > 0.0 && fabs(z) > d->cfg.panic_threshold;

	*change = (struct discipline_change){ .action = DISCIPLINE_IGNORED, .measured_offset = z };
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
			d->npoints = 0;
			apply_step(d, now, z, change);
			d->excess_seen = false;
			d->updated = true;
			d->last_update = s->time;
			report_status(d, s);
			return;
		}
		if (d->updated && timespec_diff(s->time, d->excess_since) < d->cfg.stepout) {
			change->action = DISCIPLINE_STEP_WAITING;
			return;
		}
		/* the steps are used up: slew it away, however long that takes */
	} else {
		d->excess_seen = false;
	}

	switch (d->cfg.algorithm) {
	case DISCIPLINE_PLL:
		pll_estimate(d, s, &offset, &dfreq);
		d->x = z;
		break;
	case DISCIPLINE_REGRESSION:
		regression_estimate(d, s, r, &offset, &dfreq);
		d->x = offset;
		d->y = dfreq;
		break;
	case DISCIPLINE_KALMAN:
	default:
		kalman_update(d, z, r);
		break;
	}
	d->rms_offset = d->updated ? sqrt(0.9 * d->rms_offset * d->rms_offset + 0.1 * z * z) : fabs(z);
	d->updated = true;
	d->last_update = s->time;
	kalman_predict(d, now);
	if (d->cfg.algorithm != DISCIPLINE_PLL) {
		offset = d->x;
		dfreq = d->y;
	}
	if (!d->cfg.adjust)
		return;
	change->action = DISCIPLINE_SLEWED;
	apply_frequency(d, now, dfreq * 1e6, change);
	apply_slew(d, now, offset, change);
	report_status(d, s);
}

double discipline_offset_estimate(const struct discipline *d, struct timespec t)
{
	return d->x + d->y * timespec_diff(t, d->state_time) + discipline_pending_slew(d, t);
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

double discipline_rms_offset(const struct discipline *d)
{
	return d->rms_offset;
}

double discipline_offset_error(const struct discipline *d)
{
	return sqrt(d->pxx);
}

bool discipline_has_updated(const struct discipline *d)
{
	return d->updated;
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

static const char *const algorithm_names[] = {
	[DISCIPLINE_KALMAN] = "kalman",
	[DISCIPLINE_PLL] = "pll",
	[DISCIPLINE_REGRESSION] = "regression",
};

const char *discipline_algorithm_str(enum discipline_algorithm algorithm)
{
	if ((unsigned)algorithm < sizeof(algorithm_names) / sizeof(algorithm_names[0]))
		return algorithm_names[algorithm];
	return "?";
}

bool discipline_algorithm_parse(const char *text, enum discipline_algorithm *out)
{
	for (unsigned i = 0; i < sizeof(algorithm_names) / sizeof(algorithm_names[0]); i++) {
		if (strcmp(algorithm_names[i], text) == 0) {
			*out = (enum discipline_algorithm)i;
			return true;
		}
	}
	return false;
}
