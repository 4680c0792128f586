/* A look at a configuration file's text before libconfig parses it, for
 * what libconfig 1.5 would get wrong without a word: an integer that does
 * not fit its type keeps only its low bits (4294967419 reads as 123), a NUL
 * byte ends the text early; and where the @include directives are, which
 * the configuration reader expands itself (bounded, regular files only).
 * Pure: text in, findings out. */
#ifndef STRATA_CONFIG_SCAN_H
#define STRATA_CONFIG_SCAN_H

#include <stddef.h>

#define CONFIG_SCAN_MAX_WIDE 16
#define CONFIG_SCAN_MAX_INCLUDES 32
#define CONFIG_SCAN_INCLUDE_LEN 256

/* An integer literal that libconfig would truncate. */
struct config_scan_wide {
	unsigned line;
	char name[64];      /* the setting it belongs to: the last name before it */
	char literal[40];   /* as written, sign and suffix included */
};

/* @include "PATH" at the start of a line (blanks before it), as libconfig
 * reads it: the directive, from '@' to the end of its line, gives way to the
 * named files' text. */
struct config_scan_include {
	unsigned line;
	size_t start;       /* offset of the '@' */
	size_t end;         /* offset just past the line's '\n' (or the text's end) */
	char path[CONFIG_SCAN_INCLUDE_LEN]; /* unescaped */
	const char *problem; /* NULL, or why the directive cannot be read */
};

struct config_scan {
	size_t wide_count;  /* at most CONFIG_SCAN_MAX_WIDE are kept */
	struct config_scan_wide wide[CONFIG_SCAN_MAX_WIDE];
	unsigned nul_line;      /* first line with a NUL byte; 0: none */
	size_t include_count;   /* directives found, even past CONFIG_SCAN_MAX_INCLUDES */
	struct config_scan_include includes[CONFIG_SCAN_MAX_INCLUDES];
};

/* Comments and strings are skipped; lines count from 1. */
void config_scan(const char *text, size_t len, struct config_scan *out);

#endif
