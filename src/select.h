/* Source selection (RFC 5905 11.2): the intersection algorithm finds the
 * truechimers, whose correctness intervals [offset - distance, offset +
 * distance] share a point with a majority; clustering drops the truechimers
 * that add most to the jitter; the survivors are combined, weighted by the
 * inverse square of their root distance, into one system offset. Pure:
 * arrays in, states and figures out. */
#ifndef STRATA_SELECT_H
#define STRATA_SELECT_H

#include <stdbool.h>
#include <stddef.h>

/* select_run works in a workspace on its stack for at most this many
 * candidates; select_run_in has no limit, in a workspace of the caller's.
 * Neither allocates. */
#define SELECT_MAX_CANDIDATES 64

enum select_state {
	SELECT_FALSETICKER = 0, /* its interval misses the majority's */
	SELECT_OUTLIER,         /* a truechimer dropped by clustering */
	SELECT_NOT_PREFERRED,   /* a truechimer left out: preferred truechimers exist */
	SELECT_COMBINED,        /* a survivor, part of the combined offset */
	SELECT_SYSTEM_PEER,     /* the survivor that gives stratum and refid */
};

struct select_candidate {
	/* in */
	double offset;          /* seconds; positive: the local clock is behind */
	double root_distance;   /* seconds; half-width of the correctness interval */
	double jitter;          /* seconds */
	double root_delay;      /* seconds, from us to the reference clock */
	double root_dispersion; /* seconds, from us to the reference clock, grown from its newest sample */
	unsigned stratum;
	bool prefer;            /* when preferred truechimers exist, only they are combined */
	bool trust;             /* see select_run */
	bool require;           /* see select_require_met */
	/* out */
	enum select_state state;
};

enum select_status {
	SELECT_OK = 0,
	SELECT_NO_CANDIDATES,   /* no source has a usable sample */
	SELECT_NO_MAJORITY,     /* no interval is shared by a majority */
	SELECT_QUORUM_NOT_MET,  /* fewer truechimers than minsources: do not touch the clock */
	SELECT_TOO_MANY,        /* select_run: more than SELECT_MAX_CANDIDATES */
	SELECT_REQUIRE_NOT_MET, /* set by the caller from select_require_met: do not touch the clock */
};

/* Filled in for SELECT_OK and, for display only, SELECT_QUORUM_NOT_MET. */
struct select_result {
	enum select_status status;
	size_t truechimers;
	size_t survivors;
	size_t system_peer;     /* index into the candidates, when SELECT_OK */
	double offset;          /* combined, seconds */
	double jitter;          /* RMS of the survivors' offsets about the combined one, and their own jitter */
	double root_delay;      /* the system peer's */
	double root_dispersion; /* the system peer's, plus the combination's spread */
};

/* previous_peer is the index of the current system peer or -1; it keeps its
 * place while it survives and is not clearly worse, so the system peer does
 * not flap.
 *
 * Trusted candidates (chrony's trust): when any takes part, the
 * intersection is the region covered by the most trusted intervals (then by
 * the most intervals), a majority is needed among the trusted ones only, and
 * the truechimers are the candidates whose intervals hold the region or lie
 * within it, the untrusted ones also within what the trusted cover; so a
 * trusted source is voted out only by other trusted sources. Preferred
 * truechimers (prefer), when any, are the only ones clustered and combined,
 * and the system peer is one of them. */
enum select_status select_run(struct select_candidate *candidates, size_t count, size_t minsources,
			      long previous_peer, struct select_result *result);
/* Bytes of workspace select_run_in needs for count candidates (suitably
 * aligned, as malloc's are). */
size_t select_workspace_size(size_t count);
/* select_run for any number of candidates, in the caller's workspace. */
enum select_status select_run_in(void *workspace, struct select_candidate *candidates, size_t count,
				 size_t minsources, long previous_peer, struct select_result *result);
/* chrony's require: true when no candidate was configured with require
 * (any_required false), or one with require is a truechimer after select_run. */
bool select_require_met(const struct select_candidate *candidates, size_t count, bool any_required);
const char *select_status_str(enum select_status status);

#endif
