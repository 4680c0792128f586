/* The configuration's text as libconfig is to read it: the main file with
 * every @include expanded in place, and a map from each line of the result
 * back to the file and line it came from, so that every message names the
 * file the administrator wrote.
 *
 * We expand @include ourselves rather than let libconfig 1.5 (Debian 12)
 * open the files: it follows a directory or a FIFO into a scanner that exits
 * or blocks, takes neither a directory nor a glob, and has no depth bound.
 * Here, "@include PATH" names a regular file, a directory (its *.conf files,
 * sorted by name) or a glob (its matches, sorted); a relative PATH is taken
 * from the including file's directory; includes nest at most
 * CONFIG_TEXT_MAX_DEPTH deep, CONFIG_TEXT_MAX_FILES files and
 * CONFIG_TEXT_MAX_SIZE bytes in all. */
#ifndef STRATA_CONFIG_TEXT_H
#define STRATA_CONFIG_TEXT_H

#include <stddef.h>

#include "config_scan.h"

#define CONFIG_TEXT_MAX_DEPTH 8
#define CONFIG_TEXT_MAX_FILES 256
#define CONFIG_TEXT_MAX_SIZE (1 << 20)

/* From line first of the text on, lines come from file's line file_line on. */
struct config_text_segment {
	unsigned first;
	unsigned file_line;
	unsigned file;       /* index in files */
};

struct config_text {
	char *text;                   /* NUL-terminated */
	size_t len;
	unsigned lines;               /* lines so far (the last one counted from 1) */
	struct config_text_segment *segments;
	size_t segment_count, segment_cap;
	char **files;                 /* the main file first */
	size_t file_count;
	struct config_scan scan;      /* of the whole text: integers libconfig would truncate */
};

/* 0, or -1 with "FILE:LINE: setting: what is wrong" in err (the including
 * file's line for a bad @include). Free with config_text_free either way. */
int config_text_read(const char *path, struct config_text *out, char *err, size_t err_len);
void config_text_free(struct config_text *t);

/* The file and line a line of the text came from. */
void config_text_where(const struct config_text *t, unsigned line, const char **file, unsigned *file_line);

#endif
