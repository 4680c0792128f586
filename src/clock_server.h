/* The clock process's side of privilege separation: the only code that runs
 * with CAP_SYS_TIME. It takes requests from the engine (clock_wire.h), checks
 * each one for sanity and only then hands it to the real clock. Requests are
 * untrusted: the engine parses the network. */
#ifndef STRATA_CLOCK_SERVER_H
#define STRATA_CLOCK_SERVER_H

#include <stdbool.h>
#include <stddef.h>

#include "clock.h"
#include "clock_wire.h"

/* What a sane request stays within; fixed before the engine runs. */
struct clock_limits {
	double max_step;          /* seconds, every step */
	double max_first_step;    /* seconds, the first step (an allowed insane step) */
	double max_slew;          /* seconds */
	double max_ppm;           /* frequency, both signs */
};

struct clock_server {
	struct clock_ops clock;   /* the real one */
	struct clock_limits limits;
	unsigned steps;           /* carried out so far */
	unsigned refused;         /* insane requests, for the log */
};

/* The limits of the engine's own policy, with a margin: a step corrects an
 * offset below panic_threshold plus the slew still pending (itself below it),
 * so never more than twice the threshold; panic_threshold 0 (no guard) leaves
 * the Linux clock's own limits; allow_initial_insane_step lifts the bound for
 * the first step only. */
struct clock_limits clock_limits_for(double panic_threshold, bool allow_initial_insane_step);

/* Checks one message of len bytes and, when sane, carries it out on the
 * clock; reply->result is -EINVAL for a malformed or insane request, the
 * clock's result otherwise. */
void clock_server_handle(struct clock_server *srv, const void *msg, size_t len, struct clock_reply *reply);

/* Serves requests on fd until the engine closes its end: 0, or -errno. */
int clock_server_run(struct clock_server *srv, int fd);

#endif
