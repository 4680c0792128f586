#include "refclock_filter.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ntp_time.h"

/* The share of readings dropped at each end (by offset): 20 %, so the
 * middle 60 % are averaged, as chrony keeps; the same number at both
 * ends, so the average is not pulled towards either. */
#define DROP_FRACTION 0.2

void refclock_filter_init(struct refclock_filter *filter, unsigned size)
{
	memset(filter, 0, sizeof(*filter));
	filter->size = size < 1 ? 1 : size > REFCLOCK_MAX_FILTER ? REFCLOCK_MAX_FILTER : size;
}

void refclock_filter_add(struct refclock_filter *filter, const struct refclock_reading *reading)
{
	filter->readings[filter->next] = *reading;
	filter->next = (filter->next + 1) % filter->size;
	if (filter->count < filter->size)
		filter->count++;
	filter->last = *reading;
	filter->have_last = true;
}

static int by_offset(const void *a, const void *b)
{
	double x = ((const struct refclock_reading *)a)->offset, y = ((const struct refclock_reading *)b)->offset;

	return x < y ? -1 : x > y;
}

bool refclock_filter_take(struct refclock_filter *filter, double precision, double delay,
			  struct refclock_filter_sample *out)
{
	struct refclock_reading sorted[REFCLOCK_MAX_FILTER];
	unsigned n = filter->count, first, keep;
	double sum_offset = 0.0, sum_time = 0.0, sum_sq = 0.0, least_delay = INFINITY, mean;
	struct timespec base;

	if (n == 0)
		return false;
	memcpy(sorted, filter->readings, n * sizeof(sorted[0]));
	qsort(sorted, n, sizeof(sorted[0]), by_offset);
	first = (unsigned)lround(n * DROP_FRACTION);
	keep = n - 2 * first;
	base = sorted[first].time;
	for (unsigned i = first; i < first + keep; i++) {
		sum_offset += sorted[i].offset;
		sum_time += timespec_diff(sorted[i].time, base);
		least_delay = fmin(least_delay, sorted[i].delay);
	}
	mean = sum_offset / keep;
	for (unsigned i = first; i < first + keep; i++)
		sum_sq += (sorted[i].offset - mean) * (sorted[i].offset - mean);
	*out = (struct refclock_filter_sample){
		.time = timespec_add(base, sum_time / keep),
		.offset = mean,
		.dispersion = fmax(precision, keep > 1 ? sqrt(sum_sq / (keep - 1) / keep) : 0.0),
		.delay = fmax(delay, least_delay),
		.leap = filter->last.leap,
		.used = keep,
		.readings = n,
	};
	filter->count = 0;
	filter->next = 0;
	return true;
}

bool refclock_filter_last(const struct refclock_filter *filter, struct refclock_reading *out)
{
	if (filter->have_last)
		*out = filter->last;
	return filter->have_last;
}
