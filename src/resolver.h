/* Name resolution off the event loop: a worker thread runs getaddrinfo and
 * hands each answer back through a pipe the loop polls. Numeric addresses
 * never reach the thread. */
#ifndef STRATA_RESOLVER_H
#define STRATA_RESOLVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netaddr.h"

#define RESOLVER_MAX_ADDRS 16

struct resolver_result {
	unsigned tag;            /* the caller's, from resolver_request */
	int error;               /* 0, or a getaddrinfo EAI_* code */
	size_t count;
	struct net_addr addrs[RESOLVER_MAX_ADDRS]; /* with port; IPv4 and IPv6, duplicates removed */
};

struct resolver;

struct resolver *resolver_create(void);
/* Returns at once: a thread inside a lookup is left to finish it and free
 * the rest itself (answers not taken are dropped). */
void resolver_destroy(struct resolver *res);

/* The descriptor that turns readable when an answer is ready. */
int resolver_fd(const struct resolver *res);
/* Whether a lookup is out: the descriptor needs polling only then. */
bool resolver_busy(const struct resolver *res);
/* Queues a lookup; 0, or -1 when the queue is full. */
int resolver_request(struct resolver *res, unsigned tag, const char *name, uint16_t port);
/* Takes one answer when the descriptor was readable; 0 when there was none. */
int resolver_take(struct resolver *res, struct resolver_result *out);

/* Looks name up now, blocking: its distinct addresses of family (AF_UNSPEC
 * for both), IPv4-mapped ones unmapped, each with port, at most max of
 * them. Returns 0 or a getaddrinfo EAI_* code (EAI_NONAME for no address;
 * EAI_SYSTEM leaves the cause in errno). The resolver's thread runs this. */
int resolver_lookup(const char *name, int family, uint16_t port, struct net_addr *addrs, size_t max,
		    size_t *count);

/* A numeric address, resolved at once; false for a name. */
bool resolver_numeric(const char *name, uint16_t port, struct net_addr *out);

const char *resolver_error_str(int error);

#endif
