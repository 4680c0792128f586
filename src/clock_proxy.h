/* The engine's side of privilege separation: a struct clock_ops whose changes
 * travel to the clock process (clock_server.h) and wait for its answer.
 * Reading the clock needs no privilege and a round trip would only delay the
 * timestamps, so read is clock_gettime() here, in the engine. */
#ifndef STRATA_CLOCK_PROXY_H
#define STRATA_CLOCK_PROXY_H

#include <stdbool.h>

#include "clock.h"

struct clock_proxy {
	int fd;                   /* our end of the socketpair */
	bool lost;                /* the clock process is gone: every change fails */
};

/* ops for proxy (which must outlive them) talking over fd. */
struct clock_ops clock_proxy_ops(struct clock_proxy *proxy, int fd);

#endif
