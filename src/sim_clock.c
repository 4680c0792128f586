#include "sim_clock.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#define SECONDS_PER_DAY 86400

void sim_clock_init(struct sim_clock *c, time_t epoch, double offset, double frequency_ppm, double wander_ppm,
		    struct sim_random *random)
{
	memset(c, 0, sizeof(*c));
	c->epoch = epoch;
	c->local = offset;
	c->oscillator = frequency_ppm * 1e-6;
	c->wander = wander_ppm * 1e-6;
	c->max_slew = 500e-6;
	c->max_frequency = 500e-6;
	c->random = random;
	c->leap_announced_tau = -1.0;
	c->leap_applied_tau = -1.0;
}

/* The kernel's leap second: at midnight UTC of the clock's own day. */
static void apply_leap(struct sim_clock *c, double before)
{
	double midnight = floor((c->epoch % SECONDS_PER_DAY + before) / SECONDS_PER_DAY + 1.0) * SECONDS_PER_DAY -
			  (double)(c->epoch % SECONDS_PER_DAY);

	if (c->status.leap != NTP_LEAP_INSERT && c->status.leap != NTP_LEAP_DELETE)
		return;
	if (c->local < midnight)
		return;
	c->local += c->status.leap == NTP_LEAP_INSERT ? -1.0 : 1.0;
	c->status.leap = NTP_LEAP_NONE;
	c->leap_applied_tau = c->tau;
}

static bool slew_running(const struct sim_clock *c)
{
	return c->chunk != 0.0 || c->adjust != 0.0;
}

/* What the kernel does at every whole second: the slew of the next second. */
static void second_overflow(struct sim_clock *c)
{
	double chunk = fmin(fabs(c->adjust), c->max_slew);

	c->chunk = copysign(chunk, c->adjust);
	c->adjust -= c->chunk;
	if (fabs(c->adjust) < 1e-15)
		c->adjust = 0.0;
}

/* The rates applied for a while from now on, for the report. */
static void note_rates(struct sim_clock *c)
{
	double slew = fabs(c->chunk);

	if (slew == 0.0)
		return;
	c->max_slew_rate = fmax(c->max_slew_rate, slew);
	c->max_correction_rate = fmax(c->max_correction_rate, fabs(c->correction) + slew);
	c->max_slew_total_rate = fmax(c->max_slew_total_rate,
				      fabs(c->correction - c->slew_base_correction) + slew);
}

void sim_clock_advance(struct sim_clock *c, double tau)
{
	double dt = tau - c->tau, before = c->local;

	if (dt <= 0.0)
		return;
	c->max_correction_rate = fmax(c->max_correction_rate, fabs(c->correction));
	while (c->tau < tau) {
		double rate = 1.0 + c->oscillator + c->correction + c->chunk;
		double boundary = floor(c->local) + 1.0;
		double to_boundary = (boundary - c->local) / rate;

		note_rates(c);
		if (c->tau + to_boundary >= tau) {
			c->local += (tau - c->tau) * rate;
			c->tau = tau;
			break;
		}
		c->tau += to_boundary;
		c->local = boundary;
		second_overflow(c);
	}
	if (c->wander > 0.0)
		c->oscillator += c->wander * sqrt(dt) * sim_random_gaussian(c->random);
	apply_leap(c, before);
}

double sim_clock_local(const struct sim_clock *c)
{
	return c->local;
}

struct timespec sim_clock_now(const struct sim_clock *c)
{
	double whole = floor(c->local);
	struct timespec t = { c->epoch + (time_t)whole, (long)((c->local - whole) * 1e9) };

	if (t.tv_nsec >= 1000000000L) {
		t.tv_sec++;
		t.tv_nsec -= 1000000000L;
	}
	return t;
}

static int sim_read(void *ctx, struct timespec *now)
{
	*now = sim_clock_now(ctx);
	return 0;
}

static int sim_step(void *ctx, double offset)
{
	struct sim_clock *c = ctx;

	if (c->steps < SIM_CLOCK_MAX_STEPS) {
		c->step_tau[c->steps] = c->tau;
		c->step_amount[c->steps] = offset;
	}
	c->steps++;
	c->local += offset;
	/* Linux clears its adjtime state on a step, the chunk of the current second too */
	c->adjust = 0.0;
	c->chunk = 0.0;
	return 0;
}

static int sim_slew(void *ctx, double offset)
{
	struct sim_clock *c = ctx;

	c->slews++;
	if (!slew_running(c))
		c->slew_base_correction = c->correction;
	c->adjust = offset;
	return 0;
}

/* The kernel's own state: what is not yet scheduled, and the rest of this
 * second's chunk to the next whole second of the clock. */
static int sim_slew_state(void *ctx, struct clock_slew *out)
{
	struct sim_clock *c = ctx;

	out->rate = c->chunk;
	out->scheduled = c->chunk * (floor(c->local) + 1.0 - c->local);
	out->pending = c->adjust + out->scheduled;
	return 0;
}

static int sim_set_frequency(void *ctx, double ppm)
{
	struct sim_clock *c = ctx;

	if (fabs(ppm) * 1e-6 > c->max_frequency * (1.0 + 1e-12)) {
		c->refused++;
		return -EINVAL;
	}
	c->frequency_sets++;
	c->correction = ppm * 1e-6;
	return 0;
}

static int sim_set_status(void *ctx, const struct clock_status *status)
{
	struct sim_clock *c = ctx;

	c->status = *status;
	if (status->synchronized)
		c->ever_synchronized = true;
	if ((status->leap == NTP_LEAP_INSERT || status->leap == NTP_LEAP_DELETE) && c->leap_announced_tau < 0.0)
		c->leap_announced_tau = c->tau;
	return 0;
}

void sim_clock_ops(struct sim_clock *c, struct clock_ops *ops)
{
	*ops = (struct clock_ops){
		.ctx = c,
		.read = sim_read,
		.step = sim_step,
		.slew = sim_slew,
		.slew_state = sim_slew_state,
		.set_frequency = sim_set_frequency,
		.set_status = sim_set_status,
		.max_frequency_ppm = c->max_frequency * 1e6,
		.max_slew_ppm = c->max_slew * 1e6,
	};
}

bool sim_clock_touched(const struct sim_clock *c)
{
	return c->steps || c->slews || c->frequency_sets;
}
