#include "history.h"

#include <math.h>
#include <string.h>

/* Samples of one source arrive 1/64 s apart at the least; a receive time
 * recomputed from an age moves by rounding only (a double holds today's
 * Unix time to 2.4e-7 s). */
#define HISTORY_SAME_RX 1e-4

void history_init(struct history *h)
{
	memset(h, 0, sizeof(*h));
}

bool history_clock_updated(struct history *h, const struct engine_tracking *t)
{
	if (t->state != SYNC_SYNCHRONIZED || t->reference_time.tv_sec == 0)
		return false;
	if (t->reference_time.tv_sec == h->last_update.tv_sec && t->reference_time.tv_nsec == h->last_update.tv_nsec)
		return false;
	h->last_update = t->reference_time;
	return true;
}

bool history_sample_arrived(struct history *h, int id, const struct source_status *s, struct timespec now,
			    struct timespec *rx_time)
{
	double rx;

	if (id < 0 || id >= HISTORY_MAX_SOURCES || !s->have_sample)
		return false;
	rx = (double)now.tv_sec + now.tv_nsec * 1e-9 - s->last_rx_age;
	if (h->rx_seen[id] && fabs(rx - h->last_rx[id]) < HISTORY_SAME_RX)
		return false;
	h->rx_seen[id] = true;
	h->last_rx[id] = rx;
	rx_time->tv_sec = (time_t)rx; /* positive: truncation is the floor */
	rx_time->tv_nsec = (long)((rx - (double)rx_time->tv_sec) * 1e9);
	if (rx_time->tv_nsec >= 1000000000L)
		rx_time->tv_nsec = 999999999L;
	return true;
}

void history_forget(struct history *h, int id)
{
	if (id >= 0 && id < HISTORY_MAX_SOURCES)
		h->rx_seen[id] = false;
}

enum history_change history_change(struct history *h, const struct engine_tracking *t, double threshold,
				   bool adjusting)
{
	bool stepped = t->steps > h->last_steps;

	h->last_steps = t->steps;
	if (threshold <= 0 || !(fabs(t->last_offset) > threshold))
		return HISTORY_CHANGE_NONE;
	if (!adjusting)
		return HISTORY_CHANGE_NOT_ADJUSTED;
	return stepped ? HISTORY_CHANGE_STEPPED : HISTORY_CHANGE_SLEWING;
}
