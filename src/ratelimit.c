#include "ratelimit.h"

#include <stdlib.h>
#include <string.h>

#define NONE UINT32_MAX
#define NSEC_PER_SEC 1000000000LL
#define MIN_KOD_SPACING_NS NSEC_PER_SEC

/* A client: an IPv4 address or an IPv6 /64, as 16 bytes (IPv4 mapped). */
struct client_id {
	uint64_t hi, lo;
};

struct entry {
	struct client_id id;
	int64_t tat_ns;          /* theoretical arrival time of the next request */
	int64_t next_kod_ns;     /* no KoD to this client before */
	int64_t last_ns;         /* its last request */
	uint64_t packets, drops;
	uint32_t bucket;
	uint32_t hash_next;
	uint32_t lru_prev, lru_next;
};

struct ratelimit {
	bool enabled;
	bool kod;
	int64_t interval_ns;
	int64_t tolerance_ns;    /* (burst - 1) * interval: how far ahead a client may get */
	int64_t kod_spacing_ns;
	uint8_t key[RATELIMIT_KEY_LEN];
	uint32_t capacity, used;
	uint32_t bucket_mask;
	uint32_t lru_head, lru_tail; /* most and least recently seen */
	uint32_t *buckets;
	struct entry *entries;
};

static int64_t to_ns(struct timespec t)
{
	return (int64_t)t.tv_sec * NSEC_PER_SEC + t.tv_nsec;
}

struct ratelimit *ratelimit_create(const struct ratelimit_config *cfg)
{
	struct ratelimit *rl = calloc(1, sizeof(*rl));
	uint32_t buckets = 1;

	if (!rl)
		return NULL;
	rl->enabled = cfg->interval > 0.0;
	rl->kod = cfg->kod;
	rl->interval_ns = (int64_t)(cfg->interval * 1e9);
	rl->tolerance_ns = (int64_t)(cfg->burst > 1 ? cfg->burst - 1 : 0) * rl->interval_ns;
	rl->kod_spacing_ns = rl->interval_ns > MIN_KOD_SPACING_NS ? rl->interval_ns : MIN_KOD_SPACING_NS;
	memcpy(rl->key, cfg->key, sizeof(rl->key));
	rl->capacity = cfg->table_size ? cfg->table_size : 1;
	if (rl->capacity > RATELIMIT_MAX_TABLE)
		rl->capacity = RATELIMIT_MAX_TABLE;
	/* Twice as many buckets as entries keeps the chains short. */
	while (buckets < 2 * rl->capacity)
		buckets <<= 1;
	rl->bucket_mask = buckets - 1;
	rl->lru_head = rl->lru_tail = NONE;
	rl->buckets = malloc(buckets * sizeof(rl->buckets[0]));
	rl->entries = malloc(rl->capacity * sizeof(rl->entries[0]));
	if (!rl->buckets || !rl->entries) {
		ratelimit_destroy(rl);
		return NULL;
	}
	/* Written through now, so the table is resident from the start and a
	 * flood of new clients cannot make the process grow. */
	memset(rl->buckets, 0xff, buckets * sizeof(rl->buckets[0]));
	for (uint32_t i = 0; i < rl->capacity; i++)
		rl->entries[i] = (struct entry){ .bucket = NONE, .hash_next = NONE, .lru_prev = NONE, .lru_next = NONE };
	return rl;
}

void ratelimit_destroy(struct ratelimit *rl)
{
	if (!rl)
		return;
	free(rl->buckets);
	free(rl->entries);
	free(rl);
}

static struct client_id client_of(const struct net_addr *addr)
{
	struct net_addr plain = netaddr_unmapped(addr);
	uint8_t bytes[16] = { 0 };
	struct client_id id;

	if (plain.family == AF_INET) {
		bytes[10] = bytes[11] = 0xff;
		memcpy(bytes + 12, plain.bytes, 4);
	} else {
		memcpy(bytes, plain.bytes, 8);
	}
	memcpy(&id.hi, bytes, 8);
	memcpy(&id.lo, bytes + 8, 8);
	return id;
}

static void lru_unlink(struct ratelimit *rl, uint32_t i)
{
	struct entry *e = &rl->entries[i];

	if (e->lru_prev != NONE)
		rl->entries[e->lru_prev].lru_next = e->lru_next;
	else
		rl->lru_head = e->lru_next;
	if (e->lru_next != NONE)
		rl->entries[e->lru_next].lru_prev = e->lru_prev;
	else
		rl->lru_tail = e->lru_prev;
}

static void lru_push_head(struct ratelimit *rl, uint32_t i)
{
	struct entry *e = &rl->entries[i];

	e->lru_prev = NONE;
	e->lru_next = rl->lru_head;
	if (rl->lru_head != NONE)
		rl->entries[rl->lru_head].lru_prev = i;
	rl->lru_head = i;
	if (rl->lru_tail == NONE)
		rl->lru_tail = i;
}

static void bucket_remove(struct ratelimit *rl, uint32_t bucket, uint32_t i)
{
	uint32_t *link = &rl->buckets[bucket];

	while (*link != i)
		link = &rl->entries[*link].hash_next;
	*link = rl->entries[i].hash_next;
}

static uint32_t bucket_of(const struct ratelimit *rl, const struct client_id *id)
{
	return (uint32_t)siphash24(rl->key, id, sizeof(*id)) & rl->bucket_mask;
}

/* A free entry, or the least recently seen client's, forgotten. */
static uint32_t take_entry(struct ratelimit *rl)
{
	uint32_t i;

	if (rl->used < rl->capacity)
		return rl->used++;
	i = rl->lru_tail;
	lru_unlink(rl, i);
	bucket_remove(rl, rl->entries[i].bucket, i);
	return i;
}

/* Where a new client's allowance starts. With a free entry, or one whose
 * client has used up no allowance any more, afresh. Under table pressure the
 * forgotten client may still be over its limit: the newcomer takes over its
 * debt, so clients that outnumber the table share the allowance of the
 * entries they churn through instead of each getting a free burst (200
 * clients rotating through 16 entries got 537,080 of 537,088 answered). */
static void start_allowance(const struct entry *forgotten, int64_t now, int64_t *tat, int64_t *next_kod)
{
	*tat = now;
	*next_kod = now;
	if (!forgotten)
		return;
	if (forgotten->tat_ns > now)
		*tat = forgotten->tat_ns;
	if (forgotten->next_kod_ns > now)
		*next_kod = forgotten->next_kod_ns;
}

static struct entry *find_or_add(struct ratelimit *rl, const struct net_addr *addr, int64_t now)
{
	struct client_id id = client_of(addr);
	uint32_t bucket = bucket_of(rl, &id);
	uint32_t i;
	bool full;
	int64_t tat, next_kod;

	for (i = rl->buckets[bucket]; i != NONE; i = rl->entries[i].hash_next) {
		struct entry *e = &rl->entries[i];

		if (e->id.hi == id.hi && e->id.lo == id.lo) {
			if (rl->lru_head != i) {
				lru_unlink(rl, i);
				lru_push_head(rl, i);
			}
			return e;
		}
	}
	full = rl->used == rl->capacity;
	i = take_entry(rl);
	start_allowance(full ? &rl->entries[i] : NULL, now, &tat, &next_kod);
	rl->entries[i] = (struct entry){
		.id = id,
		.tat_ns = tat,
		.next_kod_ns = next_kod,
		.bucket = bucket,
		.hash_next = rl->buckets[bucket],
	};
	rl->buckets[bucket] = i;
	lru_push_head(rl, i);
	return &rl->entries[i];
}

enum ratelimit_verdict ratelimit_check(struct ratelimit *rl, const struct net_addr *addr,
				       struct timespec now)
{
	int64_t t = to_ns(now);
	struct entry *e;
	int64_t tat;

	if (!rl->enabled)
		return RATELIMIT_PASS;
	e = find_or_add(rl, addr, t);
	e->packets++;
	e->last_ns = t;
	tat = e->tat_ns > t ? e->tat_ns : t;
	if (tat - t <= rl->tolerance_ns) {
		e->tat_ns = tat + rl->interval_ns;
		return RATELIMIT_PASS;
	}
	e->drops++;
	if (rl->kod && t >= e->next_kod_ns) {
		e->next_kod_ns = t + rl->kod_spacing_ns;
		return RATELIMIT_KOD;
	}
	return RATELIMIT_DROP;
}

static struct net_addr addr_of(const struct client_id *id)
{
	uint8_t bytes[16];
	struct net_addr addr = { 0 };
	static const uint8_t v4_prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	memcpy(bytes, &id->hi, 8);
	memcpy(bytes + 8, &id->lo, 8);
	if (!memcmp(bytes, v4_prefix, sizeof(v4_prefix))) {
		addr.family = AF_INET;
		memcpy(addr.bytes, bytes + 12, 4);
	} else {
		addr.family = AF_INET6;
		memcpy(addr.bytes, bytes, 16);
	}
	return addr;
}

size_t ratelimit_clients(const struct ratelimit *rl, struct ratelimit_client *out, size_t max)
{
	size_t n = 0;

	if (!rl->enabled)
		return 0;
	for (uint32_t i = rl->used ? rl->lru_head : NONE; i != NONE && n < max; i = rl->entries[i].lru_next) {
		const struct entry *e = &rl->entries[i];

		out[n++] = (struct ratelimit_client){
			.addr = addr_of(&e->id),
			.packets = e->packets,
			.drops = e->drops,
			.last = { (time_t)(e->last_ns / NSEC_PER_SEC), (long)(e->last_ns % NSEC_PER_SEC) },
		};
	}
	return n;
}

size_t ratelimit_entries(const struct ratelimit *rl)
{
	return rl->used;
}

size_t ratelimit_memory(const struct ratelimit *rl)
{
	return sizeof(*rl) + (size_t)(rl->bucket_mask + 1) * sizeof(rl->buckets[0]) +
	       (size_t)rl->capacity * sizeof(rl->entries[0]);
}
