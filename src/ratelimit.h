/* A per-client request rate limiter with bounded memory. Pure: time is an
 * argument (a monotonic clock), the table is allocated once at creation.
 *
 * Each client (an IPv4 address, or the /64 of an IPv6 address, since one
 * host owns a whole /64) may send `burst` requests at once and one every
 * `interval` seconds on average after that (a generic cell rate algorithm:
 * one theoretical-arrival time per client). The table holds a fixed number of
 * clients; when it is full the least recently seen one is forgotten, so a
 * spoofed flood from many addresses costs no memory and a flood from one
 * address keeps its own entry hot and limited. Buckets are chosen by a keyed
 * hash (SipHash-2-4 with a per-process random key) so nobody can aim
 * collisions at a bucket. */
#ifndef STRATA_RATELIMIT_H
#define STRATA_RATELIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "netaddr.h"

#include "siphash.h"

#define RATELIMIT_KEY_LEN SIPHASH_KEY_LEN

enum ratelimit_verdict {
	RATELIMIT_PASS = 0,     /* answer */
	RATELIMIT_KOD,          /* over the limit: send a KoD RATE (when kod is on; at most one per
				 * client per interval, and at least a second apart) */
	RATELIMIT_DROP,         /* over the limit: stay silent */
};

/* The largest table: 16 M clients (a few hundred MB, allocated at start). */
#define RATELIMIT_MAX_TABLE (1u << 24)

struct ratelimit_config {
	double interval;        /* seconds; <= 0 disables limiting */
	unsigned burst;         /* >= 1 */
	bool kod;               /* may answer an over-limit client with a KoD RATE */
	unsigned table_size;    /* clients tracked; 1 to RATELIMIT_MAX_TABLE */
	uint8_t key[RATELIMIT_KEY_LEN];
};

struct ratelimit *ratelimit_create(const struct ratelimit_config *cfg);
void ratelimit_destroy(struct ratelimit *rl);

enum ratelimit_verdict ratelimit_check(struct ratelimit *rl, const struct net_addr *addr,
				       struct timespec now);

/* One tracked client, for chronyc-like "clients" reports. */
struct ratelimit_client {
	struct net_addr addr;   /* IPv4, or the /64 of an IPv6 client (host bits zero) */
	uint64_t packets;       /* requests checked since it entered the table */
	uint64_t drops;         /* of them over the limit (dropped or answered with a KoD) */
	struct timespec last;   /* the now of its last request */
};

/* The most recently seen clients first, at most max of them; returns how
 * many were written. Nothing is tracked while limiting is disabled. */
size_t ratelimit_clients(const struct ratelimit *rl, struct ratelimit_client *out, size_t max);

/* Clients currently tracked, and the bytes the table holds (fixed at creation). */
size_t ratelimit_entries(const struct ratelimit *rl);
size_t ratelimit_memory(const struct ratelimit *rl);

#endif
