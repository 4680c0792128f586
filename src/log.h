/* Logging without I/O: the core formats a message and hands it to a sink
 * that an edge installed (stderr, syslog, the simulator's trace). */
#ifndef STRATA_LOG_H
#define STRATA_LOG_H

enum log_level {
	LOG_LEVEL_ERROR = 0,
	LOG_LEVEL_WARNING,
	LOG_LEVEL_NOTICE,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG,
};

typedef void (*log_sink_fn)(void *ctx, enum log_level level, const char *message);

/* NULL sink: messages are dropped. Messages above max_level are dropped. */
void log_set_sink(log_sink_fn sink, void *ctx, enum log_level max_level);
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
