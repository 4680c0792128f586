/* The configured reference clocks, between the configuration and the
 * engine (as upstream.c is for servers): each refclock's driver is opened
 * at creation, before privileges are dropped; its readings are taken every
 * 2^dpoll seconds (SOCK: as datagrams arrive), gathered in its
 * refclock_filter, and every 2^poll seconds the filter's sample, or the
 * lack of one, goes to the engine as that source's poll. A PPS refclock
 * numbers its pulses with its lock's newest reading. */
#ifndef STRATA_REFCLOCKS_H
#define STRATA_REFCLOCKS_H

#include <poll.h>
#include <stddef.h>
#include <time.h>

#include "engine.h"
#include "refclock.h"
#include "refclock_io.h"

struct refclocks;

/* Opens every driver; NULL with a message naming the refclock in why.
 * ioctl_fn: refclock_ioctl_system, or a test's. */
struct refclocks *refclocks_create(const struct refclock_config *cfgs, size_t count, refclock_ioctl_fn ioctl_fn,
				   char *why, size_t why_len);
void refclocks_destroy(struct refclocks *rc);

/* Adds each refclock to the engine as a source; -1 when the engine is full. */
int refclocks_start(struct refclocks *rc, struct engine *engine, struct timespec now);

size_t refclocks_pollfds(const struct refclocks *rc, struct pollfd *fds, size_t max);
/* Receives the datagrams of readable SOCK refclocks. */
void refclocks_dispatch(struct refclocks *rc, const struct pollfd *fds, size_t count, struct timespec now);
/* Reads the drivers and hands the engine the polls that are due. */
void refclocks_run(struct refclocks *rc, struct timespec now);
/* When refclocks_run has something to do (far future: no refclock). */
struct timespec refclocks_next_wakeup(const struct refclocks *rc, struct timespec now);

#endif
