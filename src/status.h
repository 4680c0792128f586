/* The status reports the control socket serves, as text laid out like
 * chronyc's or as JSON. Pure: figures in, text out. */
#ifndef STRATA_STATUS_H
#define STRATA_STATUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "engine.h"
#include "serve_config.h"

/* The leap table that decides and its next leap, as tracking shows them
 * ("valid until 2027-06-28", "insert second at the end of 2026-12-31"). */
void status_leap_table_str(char *buf, size_t len, const struct engine_tracking *t);
void status_next_leap_str(char *buf, size_t len, const struct engine_tracking *t);
void status_tracking(FILE *out, const struct engine_tracking *t, bool json);
/* LastRx and Offset are the last accepted reply's (chronyc's meaning);
 * verbose adds a legend and the clock filter's estimate with its error. */
void status_sources(FILE *out, const struct source_status *sources, size_t count, bool json, bool verbose);
/* A straight line through each source's samples, as chronyc's sourcestats. */
void status_sourcestats(FILE *out, const struct source_status *sources, size_t count, bool json);
/* Per source: how it authenticates (none, symmetric key: id, type, length)
 * and how many replies passed and failed, like chronyc authdata. */
void status_authdata(FILE *out, const struct source_status *sources, size_t count, bool json);
/* serving is false when no serve section is configured. */
void status_serverstats(FILE *out, const struct serve_counters *c, bool serving, bool json);

/* "normal", "insert second", "delete second" or "not synchronised". */
const char *status_leap_str(enum ntp_leap leap);
/* A duration with a readable unit: "+12.3us", "4.56ms", "1.234s". */
void status_format_seconds(char *buf, size_t len, double seconds, bool sign);
/* printf's %.*f of seconds, except that what rounds to zero is never
 * "-0.000000": scripts compare ntpdate's figures as text. Returns buf. */
const char *status_format_fixed(char *buf, size_t len, double seconds, int digits);

#endif
