/* A source's options (port, minpoll, prefer, maxdelay, key, nts...) with
 * their ranges, in one table that both the configuration file (config.c,
 * its own names) and a source line (source_line.c, chrony's names: ntsport)
 * read, and the checks between options: both accept the same values and
 * refuse the same combinations. Pure. */
#ifndef STRATA_SOURCE_OPTIONS_H
#define STRATA_SOURCE_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

enum source_option_type {
	SOURCE_OPTION_FLAG,     /* true or false; on a source line, present or not */
	SOURCE_OPTION_INTEGER,
	SOURCE_OPTION_NUMBER,   /* seconds and such */
};

struct source_option {
	const char *name;       /* in the configuration file: "nts_port" */
	const char *line_name;  /* on a source line, chrony's: "ntsport" */
	enum source_option_type type;
	double lo, hi;          /* the values allowed (not for flags) */
};

#define SOURCE_OPTION_COUNT 19
extern const struct source_option source_options[]; /* SOURCE_OPTION_COUNT rows */

/* A source's defaults, the same from either place. */
void source_options_defaults(struct config_source *src, bool pool);
/* The option a source line's word names (in any case, as chrony reads
 * it), NULL when none. */
const struct source_option *source_option_by_line_name(const char *word);
/* The option the configuration file calls name, NULL when none. */
const struct source_option *source_option_by_name(const char *name);
bool source_option_in_range(const struct source_option *opt, double v);
/* Sets the option to v (1 or 0 for a flag), in range. */
void source_option_store(struct config_source *src, const struct source_option *opt, double v);
/* The checks between options, once all are set: NULL, or the name (the
 * configuration file's) of the option at fault, with why in why
 * ("4 is below minpoll 6"). given_* say whether the option was written. */
const char *source_options_conflict(const struct config_source *src, bool given_maxsources, bool given_nts_port,
				    char *why, size_t why_len);

#endif
