#include "source_line.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "source.h"

#define SOURCE_LINE_MAX_WORDS 16

static size_t split_words(char *text, char **words, size_t max)
{
	size_t n = 0;

	for (char *save = NULL, *w = strtok_r(text, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
		if (n == max)
			return max + 1;
		words[n++] = w;
	}
	return n;
}

static int parse_int(const char *option, const char *text, long lo, long hi, int *out, char *err, size_t err_len)
{
	char *end;
	long v;

	errno = 0;
	v = text ? strtol(text, &end, 10) : 0;
	if (!text || errno || *end || end == text || v < lo || v > hi) {
		snprintf(err, err_len, "%s: wants a whole number from %ld to %ld, not \"%s\"", option, lo, hi,
			 text ? text : "");
		return -1;
	}
	*out = (int)v;
	return 0;
}

int source_line_parse(const char *line, struct config_source *out, char *err, size_t err_len)
{
	char copy[512];
	char *w[SOURCE_LINE_MAX_WORDS];
	size_t n;
	int port = 123, maxsources;

	if (strlen(line) >= sizeof(copy)) {
		snprintf(err, err_len, "line too long");
		return -1;
	}
	snprintf(copy, sizeof(copy), "%s", line);
	n = split_words(copy, w, SOURCE_LINE_MAX_WORDS);
	if (n > SOURCE_LINE_MAX_WORDS) {
		snprintf(err, err_len, "too many words");
		return -1;
	}
	if (n < 2 || (strcmp(w[0], "server") && strcmp(w[0], "pool"))) {
		snprintf(err, err_len, "expected \"server NAME [options]\" or \"pool NAME [options]\"");
		return -1;
	}
	if (strlen(w[1]) >= sizeof(out->name)) {
		snprintf(err, err_len, "name too long");
		return -1;
	}
	*out = (struct config_source){
		.pool = !strcmp(w[0], "pool"),
		.minpoll = SOURCE_DEFAULT_MINPOLL,
		.maxpoll = SOURCE_DEFAULT_MAXPOLL,
	};
	out->maxsources = out->pool ? 4 : 1;
	maxsources = (int)out->maxsources;
	snprintf(out->name, sizeof(out->name), "%s", w[1]);
	for (size_t i = 2; i < n; i++) {
		const char *value = i + 1 < n ? w[i + 1] : NULL;
		int rc = 0;

		if (!strcmp(w[i], "iburst")) {
			out->iburst = true;
			continue;
		}
		if (!strcmp(w[i], "port"))
			rc = parse_int("port", value, 1, 65535, &port, err, err_len);
		else if (!strcmp(w[i], "minpoll"))
			rc = parse_int("minpoll", value, SOURCE_MIN_POLL, SOURCE_MAX_POLL, &out->minpoll, err, err_len);
		else if (!strcmp(w[i], "maxpoll"))
			rc = parse_int("maxpoll", value, SOURCE_MIN_POLL, SOURCE_MAX_POLL, &out->maxpoll, err, err_len);
		else if (!strcmp(w[i], "maxsources") && out->pool)
			rc = parse_int("maxsources", value, 1, CONFIG_POOL_MAX_SOURCES, &maxsources, err, err_len);
		else {
			snprintf(err, err_len, "unknown option \"%s\" (iburst, port, minpoll, maxpoll%s)", w[i],
				 out->pool ? ", maxsources" : "");
			return -1;
		}
		if (rc < 0)
			return -1;
		i++;
	}
	if (out->minpoll > out->maxpoll) {
		snprintf(err, err_len, "maxpoll %d is below minpoll %d", out->maxpoll, out->minpoll);
		return -1;
	}
	out->port = (uint16_t)port;
	out->maxsources = (unsigned)maxsources;
	return 0;
}
