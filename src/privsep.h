/* Privilege separation: the processes stratad runs beside its engine.
 * - The clock process, forked before anything is read from the network,
 *   holds CAP_SYS_TIME and nothing else and carries out the engine's clock
 *   changes after checking each one (clock_server.h); the engine keeps no
 *   capability at all.
 * - The janitor, forked only when started as root, keeps uid 0 but no
 *   capability; it waits for the engine to end, however it ends, and then
 *   removes the pid file and the control socket, which the engine, no longer
 *   root, may not be allowed to remove. It reads nothing but end-of-file.
 * Both close every descriptor they do not need, ignore the stop signals
 * (they end when the engine does) and run under their own seccomp filter. */
#ifndef STRATA_PRIVSEP_H
#define STRATA_PRIVSEP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "clock.h"
#include "clock_proxy.h"
#include "clock_server.h"

#define PRIVSEP_JANITOR_PATHS 2

struct privsep {
	pid_t clock_pid;          /* 0: no clock process */
	int clock_fd;
	struct clock_proxy proxy;
	pid_t janitor_pid;        /* 0: no janitor */
	int janitor_fd;           /* ours: its closing is the janitor's signal */
};

/* Starts the clock process for *clock, the real clock, as user, with the
 * limits of limits; *clock then becomes the proxy to it. 0, or -1 with a
 * message. */
int privsep_start_clock(struct privsep *ps, struct clock_ops *clock, const struct clock_limits *limits,
			const char *user, bool seccomp, char *why, size_t why_len);

/* Starts the janitor for the non-empty paths among paths. 0, or -1 with a
 * message. */
int privsep_start_janitor(struct privsep *ps, const char *const paths[PRIVSEP_JANITOR_PATHS], bool seccomp,
			  char *why, size_t why_len);

/* Ends both (they see the engine's ends close) and waits for them, so the
 * janitor's removals are done when this returns. */
void privsep_stop(struct privsep *ps);

#endif
