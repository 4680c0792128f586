/* The simulator's stand-ins for two edges, the resolver and the UDP sockets,
 * under their own names and signatures (resolver.h, udp.h): strata-sim links
 * them instead of resolver.o and udp.o, so it runs upstream.c itself (the
 * daemon's pool replacement and re-lookup, unchanged) against a simulated
 * network and DNS. Were the real modules linked too, the link would fail on
 * a duplicate symbol rather than mix them. Only what upstream.c calls is
 * here; the simulator decides what the network and the DNS do. */
#ifndef STRATA_SIM_NET_H
#define STRATA_SIM_NET_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "netaddr.h"

struct sim_net_ops {
	void *ctx;
	/* resolver_request: answer later through upstream_resolved with this tag */
	void (*lookup)(void *ctx, unsigned tag, const char *name, uint16_t port);
	/* udp_send on the socket fd */
	void (*send)(void *ctx, int fd, const uint8_t *buf, size_t len, const struct net_addr *to);
};

void sim_net_set_ops(const struct sim_net_ops *ops);
/* What the next udp_receive on fd returns (then -EAGAIN): call before
 * handing fd to upstream_dispatch as readable. */
void sim_net_deliver(int fd, const uint8_t *buf, size_t len, const struct net_addr *from, struct timespec rx);
/* Sockets opened and not closed. */
unsigned sim_net_open_sockets(void);
/* Sockets closed: sources removed (a pool member replaced). */
unsigned long sim_net_closes(void);
/* Counts every open and close: when it moves, sources came or went. */
unsigned long sim_net_socket_changes(void);

#endif
