#include "source_line.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "source.h"

/* Splits line (modified) into blank-separated words; false past max. */
static bool split(char *line, char **words, size_t max, size_t *count)
{
	char *save = NULL;

	*count = 0;
	for (char *w = strtok_r(line, " \t\r", &save); w; w = strtok_r(NULL, " \t\r", &save)) {
		if (*count == max)
			return false;
		words[(*count)++] = w;
	}
	return true;
}

static bool parse_int(const char *text, long lo, long hi, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(text, &end, 10);
	if (errno || end == text || *end || v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

/* What a DHCP server or a file may name: a host name or a numeric address
 * (with a %zone); nothing a shell or a log line would misread. */
static bool good_name(const char *name)
{
	return strlen(name) < CONFIG_NAME_LEN &&
	       strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:_%") == strlen(name);
}

/* The words' entry into src; NULL, or what is wrong (written into why). */
static const char *parse_words(char **words, size_t n, struct config_source *src, char *why, size_t why_len)
{
	bool pool = !strcasecmp(words[0], "pool");

	/* chrony reads directives and options in any case */
	if (!pool && strcasecmp(words[0], "server")) {
		snprintf(why, why_len, "\"%s\": only server and pool lines name sources", words[0]);
		return why;
	}
	if (n < 2) {
		snprintf(why, why_len, "%s: the name is missing", words[0]);
		return why;
	}
	if (!good_name(words[1])) {
		snprintf(why, why_len, "%s: \"%.64s\" is not a host name or an address", words[0], words[1]);
		return why;
	}
	*src = (struct config_source){ .pool = pool, .port = 123, .minpoll = SOURCE_DEFAULT_MINPOLL,
				       .maxpoll = SOURCE_DEFAULT_MAXPOLL,
				       .maxsources = pool ? 4 : 1 };
	snprintf(src->name, sizeof(src->name), "%s", words[1]);
	for (size_t i = 2; i < n; i++) {
		const char *opt = words[i];
		long v;

		if (!strcasecmp(opt, "iburst")) {
			src->iburst = true;
			continue;
		}
		if (!strcasecmp(opt, "minpoll"))
			opt = "minpoll";
		else if (!strcasecmp(opt, "maxpoll"))
			opt = "maxpoll";
		else if (!strcasecmp(opt, "port"))
			opt = "port";
		else if (!strcasecmp(opt, "maxsources"))
			opt = "maxsources";
		else {
			snprintf(why, why_len, "%s %s: unknown option \"%.32s\"", words[0], words[1], opt);
			return why;
		}
		if (!strcmp(opt, "maxsources") && !pool) {
			snprintf(why, why_len, "server %s: only a pool has maxsources", words[1]);
			return why;
		}
		if (i + 1 == n) {
			snprintf(why, why_len, "%s %s: %s needs a value", words[0], words[1], opt);
			return why;
		}
		i++;
		if (!strcmp(opt, "port") ? !parse_int(words[i], 1, 65535, &v)
		    : !strcmp(opt, "maxsources") ? !parse_int(words[i], 1, CONFIG_POOL_MAX_SOURCES, &v)
						 : !parse_int(words[i], SOURCE_MIN_POLL, SOURCE_MAX_POLL, &v)) {
			snprintf(why, why_len, "%s %s: %s \"%.32s\" is out of range", words[0], words[1], opt, words[i]);
			return why;
		}
		if (!strcmp(opt, "port"))
			src->port = (uint16_t)v;
		else if (!strcmp(opt, "maxsources"))
			src->maxsources = (unsigned)v;
		else if (!strcmp(opt, "minpoll"))
			src->minpoll = (int)v;
		else
			src->maxpoll = (int)v;
	}
	if (src->minpoll > src->maxpoll) {
		snprintf(why, why_len, "%s %s: maxpoll %d is below minpoll %d", words[0], words[1], src->maxpoll,
			 src->minpoll);
		return why;
	}
	return NULL;
}

int source_line_parse(const char *line, struct config_source *out, char *err, size_t err_len)
{
	char copy[SOURCE_LINE_MAX + 1], *words[SOURCE_LINE_MAX_WORDS];
	size_t n;

	if (strlen(line) >= sizeof(copy)) {
		snprintf(err, err_len, "longer than %d characters", SOURCE_LINE_MAX);
		return -1;
	}
	memcpy(copy, line, strlen(line) + 1);
	if (!split(copy, words, SOURCE_LINE_MAX_WORDS, &n)) {
		snprintf(err, err_len, "more than %d words", SOURCE_LINE_MAX_WORDS);
		return -1;
	}
	if (n == 0) {
		snprintf(err, err_len, "expected \"server NAME [options]\" or \"pool NAME [options]\"");
		return -1;
	}
	return parse_words(words, n, out, err, err_len) ? -1 : 0;
}
