#include "logsink.h"

#include <stdbool.h>
#include <stdio.h>
#include <syslog.h>
#include <time.h>

static const char *program_name = "strata";
static bool syslog_open;

static const char *level_prefix(enum log_level level)
{
	switch (level) {
	case LOG_LEVEL_ERROR:
		return "error: ";
	case LOG_LEVEL_WARNING:
		return "warning: ";
	default:
		return "";
	}
}

static void stderr_sink(void *ctx, enum log_level level, const char *message)
{
	struct timespec now;
	struct tm tm;
	char stamp[32] = "";

	(void)ctx;
	/* The wall clock only labels the line; nothing decides by it. */
	if (clock_gettime(CLOCK_REALTIME, &now) == 0 && gmtime_r(&now.tv_sec, &tm))
		strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ ", &tm);
	fprintf(stderr, "%s%s: %s%s\n", stamp, program_name, level_prefix(level), message);
}

static void syslog_sink(void *ctx, enum log_level level, const char *message)
{
	static const int priority[] = { LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_INFO, LOG_DEBUG };

	(void)ctx;
	syslog(priority[level <= LOG_LEVEL_DEBUG ? level : LOG_LEVEL_DEBUG], "%s", message);
}

void logsink_use_stderr(const char *program, enum log_level max_level)
{
	logsink_fini();
	program_name = program;
	log_set_sink(stderr_sink, NULL, max_level);
}

void logsink_use_syslog(const char *program, enum log_level max_level)
{
	logsink_fini();
	program_name = program;
	openlog(program, LOG_PID | LOG_NDELAY, LOG_DAEMON);
	syslog_open = true;
	log_set_sink(syslog_sink, NULL, max_level);
}

void logsink_fini(void)
{
	log_set_sink(NULL, NULL, LOG_LEVEL_INFO);
	if (syslog_open)
		closelog();
	syslog_open = false;
}
