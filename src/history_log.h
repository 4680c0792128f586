/* The history logs, chrony's "log measurements statistics tracking": one
 * file each in log.dir, one line per accepted sample, per source
 * statistics update and per clock update, in fixed columns under a header
 * line (documented in stratad.conf(5)). Files are appended to and opened
 * again on SIGHUP and "stratactl cyclelogs", for logrotate. When to write
 * is decided by history.c; this only formats and writes. */
#ifndef STRATA_HISTORY_LOG_H
#define STRATA_HISTORY_LOG_H

#include <stdio.h>
#include <time.h>

#include "config.h"
#include "engine.h"
#include "source.h"

enum history_file { HISTORY_MEASUREMENTS = 0, HISTORY_STATISTICS, HISTORY_TRACKING, HISTORY_FILES };

struct history_log;

/* Opens the files cfg asks for (a file that cannot be opened is logged and
 * left off). NULL when none is asked for, or out of memory. */
struct history_log *history_log_open(const struct config_history *cfg);
void history_log_close(struct history_log *hl);
/* Closes every file and opens it again by name: logrotate moved it. */
void history_log_reopen(struct history_log *hl);
bool history_log_wants(const struct history_log *hl, enum history_file which);

/* The lines, written to out (pure formatting, for the tests as well). */
void history_log_header(enum history_file which, FILE *out);
void history_log_format_measurement(const struct source_status *s, struct timespec rx_time, FILE *out);
void history_log_format_statistics(const struct source_status *s, struct timespec at, FILE *out);
void history_log_format_tracking(const struct engine_tracking *t, FILE *out);

void history_log_measurement(struct history_log *hl, const struct source_status *s, struct timespec rx_time);
void history_log_statistics(struct history_log *hl, const struct source_status *s, struct timespec at);
void history_log_tracking(struct history_log *hl, const struct engine_tracking *t);

#endif
