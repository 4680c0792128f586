/* When a configured name is looked up (again): the policy upstream follows,
 * pure, so it is tested without DNS or time passing.
 *
 * A lookup is due when none is out, the spacing since the last answer has
 * passed, and either the name has fewer addresses in use than wanted (a pool
 * short of members, a name never resolved) or a named server is unreachable
 * (its address may have moved). Spacing: after a failure or a short answer,
 * 16 s doubling to an hour; after a complete answer while the server stays
 * unreachable, 16 s doubling to 1024 s, so a dead server costs a handful
 * of lookups an hour, not one a poll. */
#ifndef STRATA_LOOKUP_POLICY_H
#define STRATA_LOOKUP_POLICY_H

#include <stdbool.h>
#include <time.h>

#include "netaddr.h"

#define LOOKUP_RETRY_MIN 16.0     /* seconds */
#define LOOKUP_RETRY_MAX 3600.0   /* after failures */
#define LOOKUP_RECHECK_MAX 1024.0 /* between lookups of a name that resolves but stays unreachable */
#define LOOKUP_REPLACED_HOLD 3600.0 /* seconds a replaced pool member is not taken again */
#define LOOKUP_REPLACED_MAX 8     /* replaced members remembered per name */

struct lookup_state {
	struct timespec not_before; /* no lookup before this */
	double failure_backoff;     /* seconds; 0 after a complete answer */
	double recheck;             /* seconds; 0 until a complete answer left the server unreachable */
};

/* What the name's entry looks like now. */
struct lookup_need {
	bool numeric;            /* an address: never looked up */
	bool resolving;          /* a lookup is out */
	bool pool;
	unsigned members;        /* addresses in use */
	unsigned wanted;         /* 1 for a server, maxsources for a pool */
	bool unreachable;        /* a server whose address answered none of its last polls */
};

enum lookup_outcome {
	LOOKUP_FAILED,           /* an error, or no address */
	LOOKUP_SHORT,            /* fewer new addresses than members missing */
	LOOKUP_COMPLETE,
};

/* A fresh entry: due at once. */
void lookup_start(struct lookup_state *s, struct timespec now);
bool lookup_due(const struct lookup_state *s, const struct lookup_need *need, struct timespec now);
void lookup_answered(struct lookup_state *s, enum lookup_outcome outcome, struct timespec now);
/* The server answers again: the next time it goes unreachable, look it up at once. */
void lookup_reachable(struct lookup_state *s);

/* The pool members replaced lately: the next DNS answer, rotating through
 * the same few addresses, would otherwise bring a falseticker or a dead
 * server straight back. Each is left out for LOOKUP_REPLACED_HOLD seconds;
 * the oldest is forgotten first. Zero-initialise. */
struct lookup_replaced {
	struct net_addr addr[LOOKUP_REPLACED_MAX];
	struct timespec until[LOOKUP_REPLACED_MAX];
	unsigned next;
};

void lookup_replaced_note(struct lookup_replaced *r, const struct net_addr *addr, struct timespec now);
/* addr was replaced less than LOOKUP_REPLACED_HOLD seconds ago. */
bool lookup_replaced_recently(const struct lookup_replaced *r, const struct net_addr *addr, struct timespec now);

#endif
