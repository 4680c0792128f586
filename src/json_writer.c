#include "json_writer.h"

#include <math.h>

void json_writer_init(struct json_writer *w, FILE *out)
{
	*w = (struct json_writer){ .out = out };
}

void json_writer_init_compact(struct json_writer *w, FILE *out)
{
	*w = (struct json_writer){ .out = out, .compact = true };
}

static void write_escaped(FILE *out, const char *s)
{
	fputc('"', out);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(out, "\\%c", *p);
		else if (*p == '\n')
			fputs("\\n", out);
		else if (*p == '\t')
			fputs("\\t", out);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(out, "\\u%04x", *p);
		else
			fputc(*p, out);
	}
	fputc('"', out);
}

/* The comma, the indentation and the key before any value. */
static void begin_value(struct json_writer *w, const char *key)
{
	if (w->need_comma[w->depth])
		fputc(',', w->out);
	if (w->depth > 0 && !w->compact) {
		fputc('\n', w->out);
		for (unsigned i = 0; i < w->depth; i++)
			fputs("  ", w->out);
	}
	w->need_comma[w->depth] = true;
	if (key) {
		write_escaped(w->out, key);
		fputs(w->compact ? ":" : ": ", w->out);
	}
}

static void open_container(struct json_writer *w, const char *key, char bracket)
{
	if (w->depth >= JSON_WRITER_MAX_DEPTH) {
		w->error = true;
		return;
	}
	begin_value(w, key);
	fputc(bracket, w->out);
	w->depth++;
	w->need_comma[w->depth] = false;
}

static void close_container(struct json_writer *w, char bracket)
{
	if (w->depth == 0) {
		w->error = true;
		return;
	}
	bool empty = !w->need_comma[w->depth];

	w->depth--;
	if (!empty && !w->compact) {
		fputc('\n', w->out);
		for (unsigned i = 0; i < w->depth; i++)
			fputs("  ", w->out);
	}
	fputc(bracket, w->out);
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
	write_escaped(w->out, value);
}

void json_number(struct json_writer *w, const char *key, double value, int digits)
{
	begin_value(w, key);
	if (isfinite(value))
		fprintf(w->out, "%.*f", digits, value);
	else
		fputs("null", w->out);
}

void json_real(struct json_writer *w, const char *key, double value, int significant)
{
	begin_value(w, key);
	if (isfinite(value))
		fprintf(w->out, "%.*g", significant, value);
	else
		fputs("null", w->out);
}

void json_integer(struct json_writer *w, const char *key, long long value)
{
	begin_value(w, key);
	fprintf(w->out, "%lld", value);
}

void json_bool(struct json_writer *w, const char *key, bool value)
{
	begin_value(w, key);
	fputs(value ? "true" : "false", w->out);
}

void json_null(struct json_writer *w, const char *key)
{
	begin_value(w, key);
	fputs("null", w->out);
}

bool json_writer_finish(struct json_writer *w)
{
	fputc('\n', w->out);
	return !w->error && w->depth == 0;
}
