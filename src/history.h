/* When the history logs get a line and when a clock change is worth a
 * warning (chrony's log and logchange), decided from what the engine
 * reports: a new accepted sample of a source, a new clock update. The edge
 * (history_log.c) formats and writes; nothing here touches a file. */
#ifndef STRATA_HISTORY_H
#define STRATA_HISTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "engine.h"
#include "source.h"

#define HISTORY_MAX_SOURCES 256

struct history {
	struct timespec last_update;   /* reference time of the last clock update seen */
	unsigned last_steps;           /* the step count at the last history_change */
	bool rx_seen[HISTORY_MAX_SOURCES];
	double last_rx[HISTORY_MAX_SOURCES]; /* seconds (local time) of each source's last sample seen */
};

void history_init(struct history *h);

/* A clock update since the last call: a new reference time while
 * synchronized (serving the local clock is no update). */
bool history_clock_updated(struct history *h, const struct engine_tracking *t);

/* A new sample from source id since the last call; *rx_time is when it
 * arrived. A source first seen with a sample counts as new. */
bool history_sample_arrived(struct history *h, int id, const struct source_status *s, struct timespec now,
			    struct timespec *rx_time);
/* id is gone: a source that takes its id later starts afresh. */
void history_forget(struct history *h, int id);

enum history_change {
	HISTORY_CHANGE_NONE = 0,
	HISTORY_CHANGE_STEPPED,     /* the update stepped the clock by more than the threshold */
	HISTORY_CHANGE_SLEWING,     /* it found an offset beyond the threshold and slews it away */
	HISTORY_CHANGE_NOT_ADJUSTED,/* beyond the threshold, but the clock is not adjusted (-x) */
};

/* chrony's logchange, at each clock update (history_clock_updated true):
 * whether |last offset| exceeds threshold seconds (0: never), and how the
 * clock moves (stepped: the step count grew since the last call). */
enum history_change history_change(struct history *h, const struct engine_tracking *t, double threshold,
				   bool adjusting);

#endif
