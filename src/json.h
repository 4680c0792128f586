/* A small JSON writer for machine-readable status (stratactl --json and any
 * other program that prints JSON). Keys are given with each value; pass NULL
 * inside arrays. Non-finite numbers become null. */
#ifndef STRATA_JSON_H
#define STRATA_JSON_H

#include <stdbool.h>
#include <stdint.h>

#include "textbuf.h"

#define JSON_MAX_DEPTH 16

struct json_writer {
	struct textbuf *out;
	int depth;
	bool has_member[JSON_MAX_DEPTH];
};

void json_init(struct json_writer *w, struct textbuf *out);
void json_begin_object(struct json_writer *w, const char *key);
void json_end_object(struct json_writer *w);
void json_begin_array(struct json_writer *w, const char *key);
void json_end_array(struct json_writer *w);
void json_string(struct json_writer *w, const char *key, const char *value);
void json_double(struct json_writer *w, const char *key, double value);
void json_int(struct json_writer *w, const char *key, long long value);
void json_uint(struct json_writer *w, const char *key, uint64_t value);
void json_bool(struct json_writer *w, const char *key, bool value);
void json_null(struct json_writer *w, const char *key);

#endif
