/* The StatsD sender: owns a non-blocking UDP socket connected to the
 * collector and the interval schedule; the lines come from metrics.h.
 * Sending never blocks the loop and a dead or absent collector costs one
 * failed send per datagram, silently (ECONNREFUSED and a full socket buffer
 * are expected and ignored; other errors are logged once).
 *
 * How the daemon's loop uses it (only when the configuration has a statsd
 * section; now is the same clock the loop's other timers use):
 *
 *     at start-up, after the configuration is loaded:
 *         if (!statsd_init(&cfg.statsd.address, cfg.statsd.prefix, cfg.statsd.interval, now))
 *             exit with the error (already logged);
 *     computing the poll() timeout:
 *         timeout = min(timeout, statsd_next_due(now) - now);
 *     after poll() returns, whatever woke it:
 *         if (statsd_due(now)) {
 *             engine_get_tracking(), engine_get_source() for each source,
 *             the server's counters -> struct metrics_snapshot snap;
 *             statsd_send(&snap, now);
 *         }
 *     at exit (and before statsd_init again on a reload):
 *         statsd_fini();
 */
#ifndef STRATA_STATSD_H
#define STRATA_STATSD_H

#include <stdbool.h>
#include <time.h>

#include "metrics.h"
#include "netaddr.h"

/* Longest prefix accepted; the configuration parser checks it. */
#define STATSD_PREFIX_MAX 64

/* Opens the socket (collector with its port) and schedules the first send
 * interval seconds after now. Returns false with a logged reason when the
 * socket cannot be made. */
bool statsd_init(const struct net_addr *collector, const char *prefix, double interval,
		 struct timespec now);
void statsd_fini(void);

/* When the next send is due. A clock that went back by more than an
 * interval does not stall the sends: the schedule restarts from now. */
struct timespec statsd_next_due(struct timespec now);
bool statsd_due(struct timespec now);

/* Formats and sends the snapshot, then schedules the next send one interval
 * after the one that was due (or after now, when the loop fell behind). */
void statsd_send(const struct metrics_snapshot *snap, struct timespec now);

#endif
