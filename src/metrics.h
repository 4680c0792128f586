/* Metrics: the daemon's state as StatsD lines and as Prometheus text. Pure:
 * it formats what it is given and hands StatsD datagrams to a callback; the
 * socket and the schedule belong to the statsd edge, the text goes out
 * through the control socket (stratactl metrics).
 *
 * The figures, in both formats (seconds and ppm in the names):
 *     system: offset_seconds, last_offset_seconds, jitter_seconds (the RMS of
 *     the recent offsets), frequency_ppm, residual_frequency_ppm, skew_ppm,
 *     root_delay_seconds, root_dispersion_seconds, stratum, synchronized
 *     (0/1), sync_state (0 unsynchronized, 1 synchronized, 2 local), leap,
 *     clock steps (a counter);
 *     per source: offset, delay, dispersion, jitter (seconds, left out until
 *     the source has a sample), reach (the 8-bit register), stratum, poll
 *     interval (seconds), selected (1 when combined or system peer);
 *     server (when serving): received, answered, rate_limited, kod_sent,
 *     dropped by reason (malformed, denied), all counters.
 */
#ifndef STRATA_METRICS_H
#define STRATA_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine.h"
#include "serve_config.h"

/* A StatsD datagram never exceeds this: fits an Ethernet MTU with the IPv6
 * and UDP headers and room for tunnels. */
#define METRICS_STATSD_DATAGRAM_MAX 1400

/* Longest metric-name component made from a source name. */
#define METRICS_KEY_MAX 128

struct metrics_snapshot {
	const struct engine_tracking *tracking;
	const struct source_status *sources;
	size_t source_count;
	const struct serve_counters *serve; /* NULL when not serving */
};

/* The totals sent so far as StatsD counters: StatsD counters carry deltas
 * (the collector sums them per flush), so the sender remembers what it has
 * already counted. Zero-initialise before the first send. */
struct metrics_statsd_sent {
	uint64_t clock_steps;
	struct serve_counters serve;
};

typedef void (*metrics_datagram_fn)(void *ctx, const char *datagram, size_t len);

/* Formats every figure as StatsD lines ("prefix.name:value|g" or "|c"),
 * newline-separated, packed into datagrams of at most
 * METRICS_STATSD_DATAGRAM_MAX bytes, each handed to emit. Lines never split
 * across datagrams. Gauges that go negative are sent as ":0|g" followed by
 * the value in the same datagram, because StatsD reads a leading sign as a
 * change of the previous value. Counters send the growth since *sent, which
 * is then updated. prefix may be empty (names start without a dot). */
void metrics_statsd_format(const struct metrics_snapshot *snap, const char *prefix,
			   struct metrics_statsd_sent *sent, metrics_datagram_fn emit, void *ctx);

/* The Prometheus text exposition format (version 0.0.4) with HELP and TYPE
 * lines and the strata_ prefix, into buf like snprintf: returns the length
 * the whole text needs (without the terminator); the text is complete when
 * that is below len. */
size_t metrics_prometheus_format(const struct metrics_snapshot *snap, char *buf, size_t len);

enum metrics_unit {
	METRICS_SECONDS,        /* nanosecond resolution */
	METRICS_PPM,            /* 0.001 ppm resolution */
	METRICS_INTEGER,        /* a gauge of small whole numbers (or a power of two) */
	METRICS_COUNTER,        /* a total that only grows */
};

/* One figure, as metrics_visit hands it over. */
struct metrics_value {
	const char *group;      /* "system", "source" or "server" */
	size_t source;          /* index into snap->sources, for "source" */
	char name[48];          /* as in Prometheus without "strata_" and the group: "offset_seconds",
				   counters with "_total" */
	enum metrics_unit unit;
	bool present;           /* false: no such figure yet (a source without a sample) */
	double value;           /* gauges; may be non-finite */
	uint64_t total;         /* counters */
};

typedef void (*metrics_visit_fn)(void *ctx, const struct metrics_value *value);

/* Every figure of both formats, in their order: the system's, each source's
 * (all of one source before the next), the server's when serving. For
 * other formats (stratactl metrics --json). */
void metrics_visit(const struct metrics_snapshot *snap, metrics_visit_fn fn, void *ctx);

/* A source name as one metric-name component: letters, digits, '_' and '-'
 * kept, everything else (dots, colons, brackets) becomes '_'; "" becomes
 * "unnamed". Always terminated; cut to len - 1. */
void metrics_key_sanitize(const char *name, char *out, size_t len);

#endif
