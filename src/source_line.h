/* A source as one line of words, as chrony writes it: "server NAME
 * [option...]" or "pool NAME [option...]", the options being iburst,
 * port N, minpoll N, maxpoll N and (pool) maxsources N, in any case as
 * chrony reads them. stratactl's "add" takes one such line, a sourcedir
 * file many (source_lines.h). Pure: text in, a struct config_source out. */
#ifndef STRATA_SOURCE_LINE_H
#define STRATA_SOURCE_LINE_H

#include <stddef.h>

#include "config.h"

#define SOURCE_LINE_MAX 511       /* characters */
#define SOURCE_LINE_MAX_WORDS 16

/* 0 with *out filled in (defaults as in the configuration file), or -1 with
 * a message naming the word that is wrong. */
int source_line_parse(const char *line, struct config_source *out, char *err, size_t err_len);

#endif
