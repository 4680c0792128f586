/* The lines of a sourcedir file, in chrony's syntax, as DHCP hooks write
 * them ("server 192.0.2.1 iburst"):
 *     server NAME [OPTION...]    pool NAME [OPTION...]
 * with the options of source_line.h (chrony's: iburst, minpoll N, prefer,
 * maxdelay N, nts, ntsport N, key N...); blank lines and lines starting
 * with #, !, ; or % are comments. A bad line is reported with its number and left out; the good
 * lines around it still count. Pure: text in, entries and errors out. */
#ifndef STRATA_SOURCE_LINES_H
#define STRATA_SOURCE_LINES_H

#include <stddef.h>

#include "config.h"

struct source_lines_error {
	unsigned line;
	char message[160];
};

struct source_lines_result {
	size_t count;          /* entries written to out */
	size_t error_count;    /* every bad line, even past max_errors */
	size_t dropped;        /* good lines past max */
	unsigned first_dropped_line;
};

/* Parses len bytes of text (NUL bytes make a line bad) into at most max
 * entries of out and at most max_errors errors. */
void source_lines_parse(const char *text, size_t len, struct config_source *out, size_t max,
			struct source_lines_error *errors, size_t max_errors, struct source_lines_result *result);

#endif
