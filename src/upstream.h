/* The configured upstream servers and pools, between the configuration and
 * the engine: names resolved through the resolver thread, one client socket
 * per source (its own ephemeral port), requests sent when the engine says
 * they are due with a transmit time read just before sendmsg, replies handed
 * to the engine with their kernel receive time. Dead or falseticking pool
 * members are replaced by re-resolving the pool; a named server that stays
 * unreachable is re-resolved in case its address moved. */
#ifndef STRATA_UPSTREAM_H
#define STRATA_UPSTREAM_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "clock.h"
#include "config.h"
#include "engine.h"
#include "nts_ke_worker.h"
#include "resolver.h"

struct upstream;

/* Starts every entry: numeric addresses at once, names through res. serve
 * (NULL: not serving) says where we serve: such an address is refused as a
 * source, and the engine learns the refids of a server synchronized to us.
 * keys (NULL: none) holds every entry's key (config_check_keys) and
 * outlives up. */
struct upstream *upstream_create(struct engine *engine, struct resolver *res, const struct clock_ops *clock,
				 const struct serve_config *serve, const struct auth_keyring *keys,
				 const struct config_source *entries, size_t count,
				 struct timespec now);
/* Removes its sources from the engine and closes the sockets. */
void upstream_destroy(struct upstream *up);

/* Makes the entries those of a new configuration: unchanged entries keep
 * their sources (and all they learned), the others are removed or added. */
void upstream_reconfigure(struct upstream *up, const struct config_source *entries, size_t count,
			  struct timespec now);

/* The sockets in use (one per address): upstream_pollfds writes that many. */
size_t upstream_socket_count(const struct upstream *up);
size_t upstream_pollfds(const struct upstream *up, struct pollfd *fds, size_t max);
/* Receives on the readable sockets and hands the replies to the engine. */
void upstream_dispatch(struct upstream *up, const struct pollfd *fds, size_t count);
void upstream_resolved(struct upstream *up, const struct resolver_result *result, struct timespec now);

/* NTS sources get their key exchanges from ke (with trusted_certs, "" for
 * the system's store) and keep their state in dumpdir ("" : not kept). */
void upstream_set_nts(struct upstream *up, struct nts_ke_worker *ke, const char *trusted_certs,
		      const char *dumpdir);
/* An outcome taken from the worker. */
void upstream_nts_outcome(struct upstream *up, const struct nts_ke_outcome *outcome, struct timespec now);

/* Sends the request that is due, if one is (engine_due_request). */
void upstream_send_due(struct upstream *up, struct timespec now);
/* Replaces dead pool members, re-resolves unreachable names, retries failed lookups. */
void upstream_maintain(struct upstream *up, struct timespec now);
/* Entries with no address in use yet (a name being looked up, or that
 * failed to resolve): chronyc activity's "unknown address". */
unsigned upstream_unresolved(const struct upstream *up);
/* The configured entry (name as written) an address in use belongs to, or
 * NULL. */
const struct config_source *upstream_entry_of(const struct upstream *up, const struct net_addr *addr);

/* When upstream_maintain has a retry due (far future: nothing waiting). */
struct timespec upstream_next_wakeup(const struct upstream *up, struct timespec now);

#endif
