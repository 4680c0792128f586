/* A source as one line of words, as chrony writes it: "server NAME
 * [option...]" or "pool NAME [option...]", the options those of the
 * configuration file's sources under chrony's names (source_options.h:
 * iburst, port N, minpoll N, prefer, maxdelay N, key N, nts, ntsport N...)
 * in any case as chrony reads them, with the same ranges and checks. A key
 * is only a number here: whoever holds the keyring checks it. stratactl's "add" takes one such line, a sourcedir
 * file many (source_lines.h). Pure: text in, a struct config_source out. */
#ifndef STRATA_SOURCE_LINE_H
#define STRATA_SOURCE_LINE_H

#include <stddef.h>

#include "config.h"

#define SOURCE_LINE_MAX 511       /* characters */
#define SOURCE_LINE_MAX_WORDS 64

/* 0 with *out filled in (defaults as in the configuration file), or -1 with
 * a message naming the word that is wrong. */
int source_line_parse(const char *line, struct config_source *out, char *err, size_t err_len);

#endif
