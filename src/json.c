#include "json.h"

#include <inttypes.h>
#include <math.h>

void json_init(struct json_writer *w, struct textbuf *out)
{
	w->out = out;
	w->depth = 0;
	w->has_member[0] = false;
}

static void put_string(struct textbuf *tb, const char *s)
{
	textbuf_putc(tb, '"');
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\') {
			textbuf_putc(tb, '\\');
			textbuf_putc(tb, (char)*p);
		} else if (*p < 0x20) {
			textbuf_printf(tb, "\\u%04x", *p);
		} else {
			textbuf_putc(tb, (char)*p);
		}
	}
	textbuf_putc(tb, '"');
}

/* The separator and key before a value. */
static void begin_value(struct json_writer *w, const char *key)
{
	if (w->has_member[w->depth])
		textbuf_putc(w->out, ',');
	w->has_member[w->depth] = true;
	if (key) {
		put_string(w->out, key);
		textbuf_putc(w->out, ':');
	}
}

static void open_container(struct json_writer *w, const char *key, char bracket)
{
	begin_value(w, key);
	textbuf_putc(w->out, bracket);
	if (w->depth + 1 < JSON_MAX_DEPTH)
		w->depth++;
	else
		w->out->overflow = true;
	w->has_member[w->depth] = false;
}

static void close_container(struct json_writer *w, char bracket)
{
	textbuf_putc(w->out, bracket);
	if (w->depth > 0)
		w->depth--;
}

void json_begin_object(struct json_writer *w, const char *key)
{
	open_container(w, key, '{');
}

void json_end_object(struct json_writer *w)
{
	close_container(w, '}');
}

void json_begin_array(struct json_writer *w, const char *key)
{
	open_container(w, key, '[');
}

void json_end_array(struct json_writer *w)
{
	close_container(w, ']');
}

void json_string(struct json_writer *w, const char *key, const char *value)
{
	begin_value(w, key);
	put_string(w->out, value);
}

void json_double(struct json_writer *w, const char *key, double value)
{
	begin_value(w, key);
	if (isfinite(value))
		textbuf_printf(w->out, "%.9g", value);
	else
		textbuf_printf(w->out, "null");
}

void json_int(struct json_writer *w, const char *key, long long value)
{
	begin_value(w, key);
	textbuf_printf(w->out, "%lld", value);
}

void json_uint(struct json_writer *w, const char *key, uint64_t value)
{
	begin_value(w, key);
	textbuf_printf(w->out, "%" PRIu64, value);
}

void json_bool(struct json_writer *w, const char *key, bool value)
{
	begin_value(w, key);
	textbuf_printf(w->out, value ? "true" : "false");
}

void json_null(struct json_writer *w, const char *key)
{
	begin_value(w, key);
	textbuf_printf(w->out, "null");
}
