#include "filter.h"

#include <math.h>
#include <string.h>

#include "ntp_time.h"

void filter_init(struct filter *filter, double precision)
{
	memset(filter, 0, sizeof(*filter));
	filter->precision = precision;
	filter->chosen_slot = -1;
	filter->size = FILTER_SIZE;
}

void filter_set_size(struct filter *filter, unsigned size)
{
	filter->size = size < 1 ? 1 : size > FILTER_SIZE ? FILTER_SIZE : size;
}

void filter_set_precision(struct filter *filter, double precision)
{
	filter->precision = precision;
}

void filter_reset(struct filter *filter)
{
	unsigned size = filter->size;

	filter_init(filter, filter->precision);
	filter->size = size;
}

/* The minimum-delay sample; among equal delays the newest, as it carries the
 * least dispersion. */
static int min_delay_slot(const struct filter *filter)
{
	int best = -1;

	for (unsigned i = 0; i < filter->count; i++) {
		const struct filter_sample *s = &filter->samples[i];

		if (best < 0 || s->delay < filter->samples[best].delay ||
		    (s->delay == filter->samples[best].delay &&
		     timespec_diff(s->time, filter->samples[best].time) > 0))
			best = (int)i;
	}
	return best;
}

/* RFC 5905 weights the dispersions 1/2, 1/4, ... in order of delay, so the
 * samples that decide the offset count most. Empty stages would count as the
 * maximum dispersion there; we normalize by the weights of the samples held
 * instead, so one fresh sample has its own dispersion, and every term, hence
 * the whole, grows by exactly FILTER_PHI per second. */
static double dispersion_at(const struct filter *filter, struct timespec now)
{
	bool taken[FILTER_SIZE] = { false };
	double weight = 0.5, sum = 0, weights = 0;

	for (unsigned rank = 0; rank < filter->count; rank++) {
		int best = -1;

		for (unsigned i = 0; i < filter->count; i++) {
			if (taken[i])
				continue;
			if (best < 0 || filter->samples[i].delay < filter->samples[best].delay)
				best = (int)i;
		}
		taken[best] = true;
		sum += weight * (filter->samples[best].dispersion +
				 FILTER_PHI * timespec_diff(now, filter->samples[best].time));
		weights += weight;
		weight /= 2;
	}
	return weights > 0 ? sum / weights : 0;
}

/* RMS of the other samples' offsets about the chosen one's; when the chosen
 * sample has left the ring, about its remembered offset over all samples. */
static double jitter_about(const struct filter *filter, double offset, int chosen_slot)
{
	double sum = 0;
	unsigned n = 0;

	for (unsigned i = 0; i < filter->count; i++) {
		double d = filter->samples[i].offset - offset;

		if ((int)i == chosen_slot)
			continue;
		sum += d * d;
		n++;
	}
	if (n == 0)
		return filter->precision;
	return fmax(sqrt(sum / n), filter->precision);
}

static bool is_spike(const struct filter *filter, const struct filter_sample *candidate,
		     double spike_window)
{
	const struct filter_estimate *last = &filter->estimate;

	/* A jitter from fewer samples says too little to call anything a spike. */
	if (spike_window <= 0 || filter->spike_held || 2 * filter->count < filter->size)
		return false;
	if (fabs(candidate->offset - last->offset) <= FILTER_SPIKE_GATE * last->jitter)
		return false;
	return timespec_diff(candidate->time, last->time) < spike_window;
}

enum filter_result filter_add(struct filter *filter, const struct filter_sample *sample,
			      double spike_window, struct filter_estimate *estimate)
{
	unsigned slot = filter->next;
	int best;
	const struct filter_sample *chosen;

	if ((int)slot == filter->chosen_slot)
		filter->chosen_slot = -1;
	filter->samples[slot] = *sample;
	filter->next = (slot + 1) % filter->size;
	if (filter->count < filter->size)
		filter->count++;

	best = min_delay_slot(filter);
	chosen = &filter->samples[best];
	/* Use a sample once, and never one older than the last used: a stale
	 * offset would pull the clock back to where it was. */
	if (filter->have_estimate && timespec_diff(chosen->time, filter->estimate.time) <= 0)
		return FILTER_NOT_NEWER;
	if (filter->have_estimate && is_spike(filter, chosen, spike_window)) {
		filter->spike_held = true;
		return FILTER_SPIKE;
	}
	filter->spike_held = false;
	filter->have_estimate = true;
	filter->chosen_slot = best;
	filter->update_time = sample->time;
	filter->estimate = (struct filter_estimate){
		.offset = chosen->offset,
		.delay = chosen->delay,
		.dispersion = dispersion_at(filter, sample->time),
		.jitter = jitter_about(filter, chosen->offset, best),
		.time = chosen->time,
	};
	if (estimate)
		*estimate = filter->estimate;
	return FILTER_UPDATED;
}

bool filter_get(const struct filter *filter, struct timespec now, struct filter_estimate *estimate)
{
	if (!filter->have_estimate)
		return false;
	*estimate = filter->estimate;
	estimate->dispersion += FILTER_PHI * timespec_diff(now, filter->update_time);
	return true;
}

unsigned filter_sample_count(const struct filter *filter)
{
	return filter->count;
}

unsigned filter_samples(const struct filter *filter, struct filter_sample out[FILTER_SIZE])
{
	unsigned first = (filter->next + filter->size - filter->count) % filter->size;

	for (unsigned i = 0; i < filter->count; i++)
		out[i] = filter->samples[(first + i) % filter->size];
	return filter->count;
}

bool filter_latest(const struct filter *filter, struct filter_sample *sample)
{
	if (filter->count == 0)
		return false;
	*sample = filter->samples[(filter->next + filter->size - 1) % filter->size];
	return true;
}

void filter_correct(struct filter *filter, struct timespec when, double step, double frequency_change)
{
	struct filter_estimate *e = &filter->estimate;

	for (unsigned i = 0; i < filter->count; i++) {
		struct filter_sample *s = &filter->samples[i];

		s->offset += frequency_change * timespec_diff(when, s->time) - step;
		s->time = timespec_add(s->time, step);
	}
	if (!filter->have_estimate)
		return;
	e->offset += frequency_change * timespec_diff(when, e->time) - step;
	e->time = timespec_add(e->time, step);
	filter->update_time = timespec_add(filter->update_time, step);
	/* A frequency change tilts the samples against each other. */
	e->jitter = jitter_about(filter, e->offset, filter->chosen_slot);
}

const char *filter_result_str(enum filter_result result)
{
	switch (result) {
	case FILTER_UPDATED:
		return "new estimate";
	case FILTER_NOT_NEWER:
		return "minimum-delay sample not newer than the last one used";
	case FILTER_SPIKE:
		return "popcorn spike held back";
	}
	return "unknown";
}
