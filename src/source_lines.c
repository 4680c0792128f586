#include "source_lines.h"

#include "source_line.h"

#include <stdio.h>
#include <string.h>

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
		char buf[SOURCE_LINE_MAX + 1], why[160];
		struct config_source src;
		size_t first;

		line++;
		if (end - start >= sizeof(buf)) {
			add_error(errors, max_errors, result, line, "longer than 511 characters");
		} else if (memchr(text + start, '\0', end - start)) {
			add_error(errors, max_errors, result, line, "a NUL byte");
		} else {
			memcpy(buf, text + start, end - start);
			buf[end - start] = '\0';
			first = strspn(buf, " \t\r");
			if (!buf[first] || strchr("#!;%", buf[first]))
				; /* blank or a comment */
			else if (source_line_parse(buf, &src, why, sizeof(why)) < 0)
				add_error(errors, max_errors, result, line, why);
			else if (result->count < max) {
				src.line = line;
				out[result->count++] = src;
			} else if (!result->dropped++)
				result->first_dropped_line = line;
		}
		start = end + 1;
	}
}
