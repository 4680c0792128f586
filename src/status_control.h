/* The replies of stratactl's newer commands (selectdata, ntpdata, activity,
 * clients, waitsync's check and the changing commands' acknowledgements),
 * as text laid out like chronyc's or as JSON through json_writer. Pure:
 * figures in, text out. */
#ifndef STRATA_STATUS_CONTROL_H
#define STRATA_STATUS_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <time.h>

#include "engine.h"
#include "ratelimit.h"
#include "source.h"

/* What "activity" counts, as chronyc's. */
struct status_activity {
	unsigned online, offline, burst_online, burst_offline, unresolved;
};

/* A changing command's acknowledgement: "ok" and what was done. */
void status_done(FILE *out, bool json, const char *what);
/* Why each source is or is not selected: chronyc's letter, the interval
 * offset +- root distance, leap, and the reason in words. */
void status_selectdata(FILE *out, const struct source_status *sources, size_t count, bool json);
/* The last exchange of each given source, as chronyc ntpdata. */
void status_ntpdata(FILE *out, const struct source_status *sources, const struct source_exchange *exchanges,
		    size_t count, bool json);
void status_activity(FILE *out, const struct status_activity *a, bool json);
/* now is on the rate limiter's clock (monotonic), for the ages. */
void status_clients(FILE *out, const struct ratelimit_client *clients, size_t count, bool serving,
		    struct timespec now, bool json);
/* One waitsync try, in the form stratactl reads back (see
 * status_parse_syncstate) or as JSON. */
void status_syncstate(FILE *out, const struct engine_tracking *t, bool json);

struct status_syncstate {
	bool synchronized;
	char refid[9];               /* hex, as chronyc waitsync prints it */
	double correction;           /* seconds: |remaining correction of the clock| */
	double skew_ppm;
};
/* Reads back status_syncstate's text form; false when it is not that. */
bool status_parse_syncstate(const char *text, struct status_syncstate *out);

#endif
