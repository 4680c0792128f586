/* A refclock's readings between two polls become one sample, as chrony's
 * refclock filter does: the readings are sorted by offset, the outer ones
 * (a reading taken late, a stray pulse) dropped, the middle ones averaged.
 * The sample's dispersion is the standard error of that average, taken from
 * the scatter of the readings kept (as chrony's filter takes its fit's).
 * Pure: a fixed ring, no clock. */
#ifndef STRATA_REFCLOCK_FILTER_H
#define STRATA_REFCLOCK_FILTER_H

#include <stdbool.h>

#include "refclock.h"

struct refclock_filter {
	struct refclock_reading readings[REFCLOCK_MAX_FILTER]; /* ring, oldest overwritten */
	unsigned size;          /* as configured, <= REFCLOCK_MAX_FILTER */
	unsigned count;
	unsigned next;
	bool have_last;
	struct refclock_reading last; /* the newest reading, kept after a take (a PPS lock reads it) */
};

/* One poll's worth of readings, the average of the middle ones. */
struct refclock_filter_sample {
	struct timespec time;   /* mean local time of the readings kept */
	double offset;          /* seconds, mean of the kept offsets */
	double dispersion;      /* seconds: their standard deviation / sqrt(used), at least precision */
	double delay;           /* seconds: the least reading delay, at least the configured one */
	enum ntp_leap leap;     /* the newest reading's */
	unsigned used;          /* readings averaged */
	unsigned readings;      /* readings since the last take */
};

void refclock_filter_init(struct refclock_filter *filter, unsigned size);
void refclock_filter_add(struct refclock_filter *filter, const struct refclock_reading *reading);
/* The sample from the readings since the last take, which it forgets;
 * false when there was none. precision and delay: the configured ones. */
bool refclock_filter_take(struct refclock_filter *filter, double precision, double delay,
			  struct refclock_filter_sample *out);
/* The newest reading ever added; false: none yet. */
bool refclock_filter_last(const struct refclock_filter *filter, struct refclock_reading *out);

#endif
