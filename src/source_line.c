#include "source_line.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "source_options.h"

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

/* A whole integer or number, as the option takes it (no range check). */
static bool parse_value(const struct source_option *opt, const char *text, double *out)
{
	char *end;

	errno = 0;
	if (opt->type == SOURCE_OPTION_INTEGER)
		*out = (double)strtoll(text, &end, 10);
	else
		*out = strtod(text, &end);
	return !errno && end != text && !*end;
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
	bool pool = !strcasecmp(words[0], "pool"), given_maxsources = false, given_nts_port = false;
	char conflict[128];
	const char *bad;

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
	source_options_defaults(src, pool);
	snprintf(src->name, sizeof(src->name), "%s", words[1]);
	for (size_t i = 2; i < n; i++) {
		const struct source_option *opt = source_option_by_line_name(words[i]);
		double v = 1;

		if (!opt) {
			snprintf(why, why_len, "%s %s: unknown option \"%.32s\"", words[0], words[1], words[i]);
			return why;
		}
		if (!strcmp(opt->name, "maxsources"))
			given_maxsources = true;
		if (!strcmp(opt->name, "nts_port"))
			given_nts_port = true;
		if (opt->type != SOURCE_OPTION_FLAG) {
			if (i + 1 == n) {
				snprintf(why, why_len, "%s %s: %s needs a value", words[0], words[1], opt->line_name);
				return why;
			}
			i++;
			if (!parse_value(opt, words[i], &v) || !source_option_in_range(opt, v)) {
				snprintf(why, why_len, "%s %s: %s \"%.32s\" is out of range [%g, %g]", words[0], words[1],
					 opt->line_name, words[i], opt->lo, opt->hi);
				return why;
			}
		}
		source_option_store(src, opt, v);
	}
	bad = source_options_conflict(src, given_maxsources, given_nts_port, conflict, sizeof(conflict));
	if (bad) {
		snprintf(why, why_len, "%s %s: %s: %s", words[0], words[1],
			 source_option_by_name(bad)->line_name, conflict);
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
