/* The edge that fills leap tables from the system: the leap-seconds.list
 * file (parsed by leap_list.c) and a time zone with leap seconds, probed
 * through the C library as chrony's leapsectz does. */
#ifndef STRATA_LEAP_LOAD_H
#define STRATA_LEAP_LOAD_H

#include <stddef.h>
#include <stdint.h>

#include "leap_list.h"

/* Reads and parses the file at path. Returns 0, or -1 with err holding
 * "PATH:LINE: what" (or "PATH: what" for the file as a whole). */
int leap_load_list(const char *path, struct leap_table *out, char *err, size_t errlen);

/* Builds the table of the zone (e.g. "right/UTC") by asking the C library
 * whether 23:59:60 exists at the end of each month from 1972 to a year after
 * now. The zone must show the 2016-12-31 leap second and none a day earlier,
 * else it is not a zone with leap seconds: -1 with err saying so. The table
 * never expires (the zone has no expiry date; chrony trusts it likewise).
 * Changes TZ for the call and puts it back. */
int leap_load_tz(const char *zone, int64_t now, struct leap_table *out, char *err, size_t errlen);

#endif
