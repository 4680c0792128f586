/* The metrics as JSON (stratactl metrics --json): one object with "system"
 * (the figures of strata_* without a label), "sources" (an array, each with
 * "name", "address" and the strata_source_* figures), "server" (the
 * strata_server_* counters, only when serving) and "serving". Names are the
 * Prometheus ones without "strata_" and the group; a figure that does not
 * exist yet (a source without a sample) is null. */
#ifndef STRATA_METRICS_JSON_H
#define STRATA_METRICS_JSON_H

#include <stdio.h>

#include "metrics.h"

void metrics_json_print(const struct metrics_snapshot *snap, FILE *out);

#endif
