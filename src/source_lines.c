#include "source_lines.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SOURCE_LINES_MAX_WORDS 16

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

/* One line's entry into src; NULL, or what is wrong (written into why). */
static const char *parse_line(char **words, size_t n, unsigned line, struct config_source *src, char *why,
			      size_t why_len)
{
	bool pool = !strcasecmp(words[0], "pool");

	/* chrony reads directives and options in any case */
	if (!pool && strcasecmp(words[0], "server")) {
		snprintf(why, why_len, "\"%s\": only server and pool lines belong in a sourcedir file", words[0]);
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
	*src = (struct config_source){ .pool = pool, .port = 123, .minpoll = 6, .maxpoll = 10,
				       .maxsources = pool ? 4 : 1, .line = line };
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

static void add_error(struct source_lines_error *errors, size_t max_errors, struct source_lines_result *result,
		      unsigned line, const char *message)
{
	if (result->error_count < max_errors) {
		errors[result->error_count].line = line;
		snprintf(errors[result->error_count].message, sizeof(errors[0].message), "%s", message);
	}
	result->error_count++;
}

void source_lines_parse(const char *text, size_t len, struct config_source *out, size_t max,
			struct source_lines_error *errors, size_t max_errors, struct source_lines_result *result)
{
	unsigned line = 0;

	memset(result, 0, sizeof(*result));
	for (size_t start = 0; start < len;) {
		const char *nl = memchr(text + start, '\n', len - start);
		size_t end = nl ? (size_t)(nl - text) : len;
		char buf[512], why[160], *words[SOURCE_LINES_MAX_WORDS];
		struct config_source src;
		size_t n;

		line++;
		if (end - start >= sizeof(buf)) {
			add_error(errors, max_errors, result, line, "longer than 511 characters");
		} else if (memchr(text + start, '\0', end - start)) {
			add_error(errors, max_errors, result, line, "a NUL byte");
		} else {
			memcpy(buf, text + start, end - start);
			buf[end - start] = '\0';
			if (!split(buf, words, SOURCE_LINES_MAX_WORDS, &n))
				add_error(errors, max_errors, result, line, "more than 16 words");
			else if (n == 0 || strchr("#!;%", words[0][0]))
				; /* blank or a comment */
			else if (parse_line(words, n, line, &src, why, sizeof(why)))
				add_error(errors, max_errors, result, line, why);
			else if (result->count < max)
				out[result->count++] = src;
			else if (!result->dropped++)
				result->first_dropped_line = line;
		}
		start = end + 1;
	}
}
