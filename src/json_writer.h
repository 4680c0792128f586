/* A tiny streaming JSON writer for the --json outputs of the programs: keys,
 * commas and string escapes done in one place. Non-finite numbers become
 * null. Nesting is limited to JSON_WRITER_MAX_DEPTH; deeper calls are
 * ignored and json_writer_finish reports the error. */
#ifndef STRATA_JSON_WRITER_H
#define STRATA_JSON_WRITER_H

#include <stdbool.h>
#include <stdio.h>

#define JSON_WRITER_MAX_DEPTH 16

struct json_writer {
	FILE *out;
	unsigned depth;
	bool error;
	bool compact;           /* one line, no spaces: one document per line */
	bool need_comma[JSON_WRITER_MAX_DEPTH + 1];
};

void json_writer_init(struct json_writer *w, FILE *out);
/* The same document on one line, for tools that read a document per line. */
void json_writer_init_compact(struct json_writer *w, FILE *out);
/* key is NULL inside arrays and for the outermost value. */
void json_begin_object(struct json_writer *w, const char *key);
void json_end_object(struct json_writer *w);
void json_begin_array(struct json_writer *w, const char *key);
void json_end_array(struct json_writer *w);
void json_string(struct json_writer *w, const char *key, const char *value);
/* digits after the decimal point, as printf's %.*f. */
void json_number(struct json_writer *w, const char *key, double value, int digits);
/* significant digits, as printf's %.*g: for figures of any magnitude. */
void json_real(struct json_writer *w, const char *key, double value, int significant);
void json_integer(struct json_writer *w, const char *key, long long value);
void json_bool(struct json_writer *w, const char *key, bool value);
void json_null(struct json_writer *w, const char *key);
/* Ends the document with a newline; false when nesting was wrong. */
bool json_writer_finish(struct json_writer *w);

#endif
