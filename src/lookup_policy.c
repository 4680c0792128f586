#include "lookup_policy.h"

#include "ntp_time.h"

static double doubled(double v, double max)
{
	v = v < LOOKUP_RETRY_MIN ? LOOKUP_RETRY_MIN : v * 2;
	return v > max ? max : v;
}

void lookup_start(struct lookup_state *s, struct timespec now)
{
	*s = (struct lookup_state){ .not_before = now };
}

bool lookup_due(const struct lookup_state *s, const struct lookup_need *need, struct timespec now)
{
	if (need->numeric || need->resolving || timespec_diff(now, s->not_before) < 0)
		return false;
	return need->members < need->wanted || (!need->pool && need->unreachable);
}

void lookup_answered(struct lookup_state *s, enum lookup_outcome outcome, struct timespec now)
{
	if (outcome == LOOKUP_COMPLETE) {
		s->failure_backoff = 0;
		s->recheck = doubled(s->recheck, LOOKUP_RECHECK_MAX);
		s->not_before = timespec_add(now, s->recheck);
	} else {
		s->failure_backoff = doubled(s->failure_backoff, LOOKUP_RETRY_MAX);
		s->not_before = timespec_add(now, s->failure_backoff);
	}
}

void lookup_reachable(struct lookup_state *s)
{
	s->recheck = 0;
}

void lookup_replaced_note(struct lookup_replaced *r, const struct net_addr *addr, struct timespec now)
{
	r->addr[r->next] = *addr;
	r->until[r->next] = timespec_add(now, LOOKUP_REPLACED_HOLD);
	r->next = (r->next + 1) % LOOKUP_REPLACED_MAX;
}

bool lookup_replaced_recently(const struct lookup_replaced *r, const struct net_addr *addr, struct timespec now)
{
	for (unsigned i = 0; i < LOOKUP_REPLACED_MAX; i++)
		if (netaddr_equal(&r->addr[i], addr) && timespec_diff(r->until[i], now) > 0)
			return true;
	return false;
}
