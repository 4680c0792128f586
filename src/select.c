#include "select.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Clustering never leaves fewer survivors than this (or all, when fewer). */
#define SELECT_MIN_SURVIVORS 3
/* Root distances within this fraction of each other are a tie, which the
 * lower stratum breaks. */
#define SELECT_TIE_FRACTION 0.05
/* The system peer keeps its place until a survivor's distance is this many
 * times smaller: small wobbles in distance must not make it flap. */
#define SELECT_PEER_SWITCH_FACTOR 1.5
/* Guards the weights against a zero distance. */
#define SELECT_MIN_DISTANCE 1e-9

enum endpoint_type {
	ENDPOINT_HIGH = -1,
	ENDPOINT_MID = 0,
	ENDPOINT_LOW = 1,
};

struct endpoint {
	double value;
	int type;
};

/* Ascending; at equal values lows before midpoints before highs, so
 * intervals that merely touch still count as overlapping. */
static int compare_endpoints(const void *a, const void *b)
{
	const struct endpoint *x = a, *y = b;

	if (x->value != y->value)
		return x->value < y->value ? -1 : 1;
	return y->type - x->type;
}

/* RFC 5905 11.2.1: for f = 0, 1, ... while f < n/2, the smallest interval
 * [low, high] that n - f correctness intervals contain, with at most f
 * midpoints outside it. Returns false when no f works. */
static bool intersect(const struct select_candidate *c, size_t n, struct endpoint *e, double *low, double *high)
{
	size_t m = 3 * n;

	for (size_t i = 0; i < n; i++) {
		e[3 * i] = (struct endpoint){ c[i].offset - c[i].root_distance, ENDPOINT_LOW };
		e[3 * i + 1] = (struct endpoint){ c[i].offset, ENDPOINT_MID };
		e[3 * i + 2] = (struct endpoint){ c[i].offset + c[i].root_distance, ENDPOINT_HIGH };
	}
	qsort(e, m, sizeof(e[0]), compare_endpoints);

	for (size_t allow = 0; 2 * allow < n; allow++) {
		long need = (long)(n - allow), chime = 0;
		size_t outside = 0;
		bool have_low = false, have_high = false;

		for (size_t i = 0; i < m; i++) {
			chime += e[i].type;
			if (chime >= need) {
				*low = e[i].value;
				have_low = true;
				break;
			}
			if (e[i].type == ENDPOINT_MID)
				outside++;
		}
		chime = 0;
		for (size_t i = m; i-- > 0;) {
			chime -= e[i].type;
			if (chime >= need) {
				*high = e[i].value;
				have_high = true;
				break;
			}
			if (e[i].type == ENDPOINT_MID)
				outside++;
		}
		if (have_low && have_high && outside <= allow && *high >= *low)
			return true;
	}
	return false;
}

/* Where the trusted candidates put the time (chrony's trust). */
struct trusted_region {
	double low, high;               /* covered by the most trusted intervals, then the most intervals */
	double trust_low, trust_high;   /* covered by the most trusted intervals */
};

/* The region covered by the most trusted intervals, and within it by the
 * most intervals. A majority is needed among the trusted candidates only,
 * so a trusted source is a falseticker only when other trusted ones
 * disagree with it. False when the trusted ones have no majority. */
static bool intersect_trusted(const struct select_candidate *c, size_t n, struct endpoint *e,
			      struct trusted_region *r)
{
	long depth = 0, trusted = 0, best_depth = 0, best_trusted = 0, trusted_count = 0;
	size_t m = 0;

	for (size_t i = 0; i < n; i++) {
		int weight = c[i].trust ? 2 : 1; /* type carries the sign, the weight marks trust */

		trusted_count += c[i].trust;
		e[m++] = (struct endpoint){ c[i].offset - c[i].root_distance, ENDPOINT_LOW * weight };
		e[m++] = (struct endpoint){ c[i].offset + c[i].root_distance, ENDPOINT_HIGH * weight };
	}
	qsort(e, m, sizeof(e[0]), compare_endpoints);
	for (size_t i = 0; i < m; i++) {
		bool is_trusted = e[i].type == 2 * ENDPOINT_LOW || e[i].type == 2 * ENDPOINT_HIGH;

		if (e[i].type > 0) {
			depth++;
			trusted += is_trusted;
			if (trusted > best_trusted) {
				best_trusted = trusted;
				r->trust_low = e[i].value;
				best_depth = 0;
			}
			if (trusted == best_trusted && depth > best_depth) {
				best_depth = depth;
				r->low = e[i].value;
			}
			continue;
		}
		/* a high end closes the regions it was inside of */
		if (trusted == best_trusted) {
			if (depth == best_depth)
				r->high = e[i].value;
			r->trust_high = e[i].value;
		}
		depth--;
		trusted -= is_trusted;
	}
	return 2 * best_trusted > trusted_count;
}

/* With trusted candidates (chrony's rule): an interval that holds the
 * region or lies within it; an untrusted one must also lie within what the
 * trusted ones cover, so it cannot pull the offset outside their interval. */
static bool trusted_truechimer(const struct select_candidate *c, const struct trusted_region *r)
{
	double low = c->offset - c->root_distance, high = c->offset + c->root_distance;

	if (!((low <= r->low && high >= r->high) || (low >= r->low && high <= r->high)))
		return false;
	return c->trust || (low >= r->trust_low && high <= r->trust_high);
}

static bool any_trusted(const struct select_candidate *c, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (c[i].trust)
			return true;
	return false;
}

/* RMS distance of one survivor's offset from the others' (RFC 5905's
 * selection jitter). */
static double selection_jitter(const struct select_candidate *c, const size_t *list, size_t m, size_t i)
{
	double sum = 0;

	for (size_t j = 0; j < m; j++) {
		double d = c[list[i]].offset - c[list[j]].offset;

		sum += d * d;
	}
	return sqrt(sum / (double)(m - 1));
}

/* RFC 5905 drops the survivor with the largest selection jitter while that
 * exceeds the smallest peer jitter; we compare with the largest peer jitter
 * of the *other* survivors instead. A group of honestly noisy sources is not
 * trimmed below its own noise, yet a source far from the rest cannot shield
 * itself with its own large jitter. */
static size_t cluster(struct select_candidate *c, size_t *list, size_t m)
{
	while (m > SELECT_MIN_SURVIVORS) {
		size_t worst = 0;
		double worst_jitter = -1, others_jitter = 0;

		for (size_t i = 0; i < m; i++) {
			double phi = selection_jitter(c, list, m, i);

			if (phi > worst_jitter) {
				worst_jitter = phi;
				worst = i;
			}
		}
		for (size_t j = 0; j < m; j++)
			if (j != worst)
				others_jitter = fmax(others_jitter, c[list[j]].jitter);
		if (worst_jitter <= others_jitter)
			break;
		c[list[worst]].state = SELECT_OUTLIER;
		list[worst] = list[--m];
	}
	return m;
}

/* Whether a should be preferred to b as system peer. */
static bool better_peer(const struct select_candidate *a, const struct select_candidate *b)
{
	if (a->root_distance < b->root_distance * (1 - SELECT_TIE_FRACTION))
		return true;
	if (b->root_distance < a->root_distance * (1 - SELECT_TIE_FRACTION))
		return false;
	if (a->stratum != b->stratum)
		return a->stratum < b->stratum;
	return a->root_distance < b->root_distance;
}

static size_t choose_peer(const struct select_candidate *c, const size_t *list, size_t m, long previous)
{
	size_t best = list[0];

	for (size_t i = 1; i < m; i++)
		if (better_peer(&c[list[i]], &c[best]))
			best = list[i];
	if (previous >= 0) {
		for (size_t i = 0; i < m; i++)
			if ((long)list[i] == previous &&
			    c[previous].root_distance <= SELECT_PEER_SWITCH_FACTOR * c[best].root_distance)
				return (size_t)previous;
	}
	return best;
}

/* Weights 1/distance^2, not RFC 5905's 1/distance: the weights that minimise
 * the variance of a weighted mean of independent estimates are the inverse
 * variances, and a source's error scales with its root distance, so its
 * variance scales with the square. 1/distance lets a source twice as far off
 * pull half as hard when it should pull a quarter as hard. */
static void combine(const struct select_candidate *c, const size_t *list, size_t m,
		    struct select_result *result)
{
	double weights = 0, offset = 0, spread = 0, own = 0;

	for (size_t i = 0; i < m; i++) {
		double d = fmax(c[list[i]].root_distance, SELECT_MIN_DISTANCE);
		double w = 1 / (d * d);

		weights += w;
		offset += w * c[list[i]].offset;
	}
	offset /= weights;
	for (size_t i = 0; i < m; i++) {
		double d = fmax(c[list[i]].root_distance, SELECT_MIN_DISTANCE);
		double w = 1 / (d * d);
		double dev = c[list[i]].offset - offset;

		spread += w * dev * dev;
		own += w * c[list[i]].jitter * c[list[i]].jitter;
	}
	result->offset = offset;
	result->jitter = sqrt((spread + own) / weights);
}

/* chrony's prefer: when preferred truechimers exist, the others step aside. */
static size_t keep_preferred(struct select_candidate *c, size_t *list, size_t m)
{
	size_t kept = 0;

	for (size_t i = 0; i < m; i++)
		kept += c[list[i]].prefer;
	if (kept == 0)
		return m;
	kept = 0;
	for (size_t i = 0; i < m; i++) {
		if (c[list[i]].prefer)
			list[kept++] = list[i];
		else
			c[list[i]].state = SELECT_NOT_PREFERRED;
	}
	return kept;
}

/* The workspace: 3 endpoints per candidate, then the survivors' indices. */
size_t select_workspace_size(size_t count)
{
	return count * (3 * sizeof(struct endpoint) + sizeof(size_t));
}

enum select_status select_run(struct select_candidate *candidates, size_t count, size_t minsources,
			      long previous_peer, struct select_result *result)
{
	union {
		struct endpoint e[3 * SELECT_MAX_CANDIDATES];
		char bytes[SELECT_MAX_CANDIDATES * (3 * sizeof(struct endpoint) + sizeof(size_t))];
	} workspace;

	if (count > SELECT_MAX_CANDIDATES) {
		memset(result, 0, sizeof(*result));
		for (size_t i = 0; i < count; i++)
			candidates[i].state = SELECT_FALSETICKER;
		return result->status = SELECT_TOO_MANY;
	}
	return select_run_in(&workspace, candidates, count, minsources, previous_peer, result);
}

enum select_status select_run_in(void *workspace, struct select_candidate *candidates, size_t count,
				 size_t minsources, long previous_peer, struct select_result *result)
{
	struct endpoint *e = workspace;
	size_t *list = (size_t *)(e + 3 * count);
	size_t m = 0, peer;
	struct trusted_region region = { 0 };
	bool trusted;

	memset(result, 0, sizeof(*result));
	for (size_t i = 0; i < count; i++)
		candidates[i].state = SELECT_FALSETICKER;
	if (count == 0)
		return result->status = SELECT_NO_CANDIDATES;
	trusted = any_trusted(candidates, count);
	if (trusted ? !intersect_trusted(candidates, count, e, &region)
		    : !intersect(candidates, count, e, &region.low, &region.high))
		return result->status = SELECT_NO_MAJORITY;

	for (size_t i = 0; i < count; i++) {
		const struct select_candidate *c = &candidates[i];

		if (!(trusted ? trusted_truechimer(c, &region) : c->offset >= region.low && c->offset <= region.high))
			continue;
		candidates[i].state = SELECT_COMBINED;
		list[m++] = i;
	}
	result->truechimers = m;
	/* as chrony: preferred truechimers, when any, are all there is to
	 * choose from, so the others cannot cluster one of them out */
	m = keep_preferred(candidates, list, m);
	m = cluster(candidates, list, m);
	result->survivors = m;
	combine(candidates, list, m, result);

	peer = choose_peer(candidates, list, m, previous_peer);
	candidates[peer].state = SELECT_SYSTEM_PEER;
	result->system_peer = peer;
	result->root_delay = candidates[peer].root_delay;
	result->root_dispersion = candidates[peer].root_dispersion + result->jitter;

	result->status = result->truechimers < minsources ? SELECT_QUORUM_NOT_MET : SELECT_OK;
	return result->status;
}

bool select_require_met(const struct select_candidate *candidates, size_t count, bool any_required)
{
	if (!any_required)
		return true;
	for (size_t i = 0; i < count; i++)
		if (candidates[i].require && candidates[i].state != SELECT_FALSETICKER)
			return true;
	return false;
}

const char *select_status_str(enum select_status status)
{
	switch (status) {
	case SELECT_OK:
		return "ok";
	case SELECT_NO_CANDIDATES:
		return "no usable source";
	case SELECT_NO_MAJORITY:
		return "no majority of sources agree";
	case SELECT_QUORUM_NOT_MET:
		return "fewer agreeing sources than minsources";
	case SELECT_TOO_MANY:
		return "too many candidates";
	case SELECT_REQUIRE_NOT_MET:
		return "no required source is a truechimer";
	}
	return "unknown";
}
