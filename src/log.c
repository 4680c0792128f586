#include "log.h"

#include <stdarg.h>
#include <stdio.h>

static log_sink_fn current_sink;
static void *current_ctx;
static enum log_level current_max = LOG_LEVEL_INFO;

void log_set_sink(log_sink_fn sink, void *ctx, enum log_level max_level)
{
	current_sink = sink;
	current_ctx = ctx;
	current_max = max_level;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	char message[512];
	va_list ap;

	if (!current_sink || level > current_max)
		return;
	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	current_sink(current_ctx, level, message);
}
