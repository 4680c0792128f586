/* Timing loops, refused as ntpd does: a source that is this daemon itself
 * (one of its serving addresses), or a server whose reference is this daemon
 * (its refid is one of our addresses), must never be synchronized to: the
 * clock would follow its own echo. Pure: the edge says which addresses are
 * ours. */
#ifndef STRATA_LOOP_H
#define STRATA_LOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netaddr.h"
#include "serve_config.h"

#define LOOP_MAX_LOCAL 64

struct loop_self {
	size_t listen_count;
	const struct net_addr *listen;            /* where we serve, with port; wildcards allowed (not owned) */
	size_t local_count;
	struct net_addr local[LOOP_MAX_LOCAL];    /* this host's interface addresses */
};

/* Whether source (with port) reaches our own server: a listen address, or
 * under a wildcard any address of this host of that family (127.0.0.0/8 and
 * ::1 included). */
bool loop_is_self(const struct loop_self *self, const struct net_addr *source);

/* The refids a server synchronized to us would carry: one per local and
 * listen address (IPv4: the address; IPv6: its hash). Returns how many. */
size_t loop_own_refids(const struct loop_self *self, uint32_t *out, size_t max);

/* Whether a server at stratum 2 to 15 with this refid is synchronized to us
 * (strata 0 and 1 carry kiss codes and clock names, never addresses). */
bool loop_refid_is_ours(unsigned stratum, uint32_t refid, const uint32_t *own, size_t count);

#endif
