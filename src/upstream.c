#include "upstream.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "ntp_time.h"
#include "udp.h"

#define UPSTREAM_MAX_SLOTS 64
#define UPSTREAM_RETRY_MIN 16.0     /* seconds before a failed lookup is retried */
#define UPSTREAM_RETRY_MAX 3600.0
#define UPSTREAM_RECHECK 1024.0    /* seconds before an unreachable name is looked up again */
#define UPSTREAM_RECV_BATCH 8       /* datagrams per readable socket per wakeup */

/* One address in use: an engine source and its socket. */
struct upstream_slot {
	bool used;
	int engine_id;
	int fd;
	size_t entry;
	struct net_addr addr;
};

struct upstream_entry {
	bool used;
	struct config_source cfg;
	bool numeric;
	bool resolving;
	bool failing;             /* the last lookup failed: said once until it works again */
	double backoff;           /* seconds to the next retry after a failure or a short answer */
	struct timespec retry_at; /* a lookup is wanted from then on */
};

struct upstream {
	struct engine *engine;
	const struct auth_keyring *keys;
	struct resolver *resolver;
	const struct clock_ops *clock;
	struct upstream_entry entries[CONFIG_MAX_SOURCES];
	struct upstream_slot slots[UPSTREAM_MAX_SLOTS];
};

static unsigned members(const struct upstream *up, size_t entry)
{
	unsigned n = 0;

	for (size_t i = 0; i < UPSTREAM_MAX_SLOTS; i++)
		n += up->slots[i].used && up->slots[i].entry == entry;
	return n;
}

static bool address_in_use(const struct upstream *up, const struct net_addr *addr)
{
	for (size_t i = 0; i < UPSTREAM_MAX_SLOTS; i++)
		if (up->slots[i].used && netaddr_equal(&up->slots[i].addr, addr))
			return true;
	return false;
}

static bool result_has(const struct resolver_result *result, const struct net_addr *addr)
{
	for (size_t k = 0; k < result->count; k++)
		if (netaddr_equal(&result->addrs[k], addr))
			return true;
	return false;
}

static bool add_slot(struct upstream *up, size_t entry, const struct net_addr *addr, struct timespec now)
{
	const struct config_source *cfg = &up->entries[entry].cfg;
	struct upstream_slot *slot = NULL;
	struct net_addr local = { .family = addr->family };
	struct source_config sc;
	char text[NETADDR_TEXT_LEN];
	int fd;

	netaddr_format_with_port(addr, text, sizeof(text));
	for (size_t i = 0; i < UPSTREAM_MAX_SLOTS && !slot; i++)
		if (!up->slots[i].used)
			slot = &up->slots[i];
	if (!slot)
		return false;
	fd = udp_open(&local);
	if (fd < 0) {
		log_msg(LOG_LEVEL_ERROR, "%s (%s): cannot open a socket: %s", cfg->name, text, strerror(-fd));
		return false;
	}
	sc = (struct source_config){ .addr = *addr, .name = cfg->name, .minpoll = cfg->minpoll,
				     .maxpoll = cfg->maxpoll, .iburst = cfg->iburst, .pool_member = cfg->pool,
				     .key = cfg->key ? auth_keyring_find(up->keys, cfg->key) : NULL };
	if (cfg->key && !sc.key) {
		/* config_check_keys keeps this from happening; never poll unsigned instead */
		log_msg(LOG_LEVEL_ERROR, "%s (%s): key %u is not in the keys file", cfg->name, text, cfg->key);
		udp_close(fd);
		return false;
	}
	slot->engine_id = engine_add_source(up->engine, &sc, now);
	if (slot->engine_id < 0) {
		log_msg(LOG_LEVEL_ERROR, "%s (%s): no room for another source", cfg->name, text);
		udp_close(fd);
		return false;
	}
	slot->used = true;
	slot->fd = fd;
	slot->entry = entry;
	slot->addr = *addr;
	log_msg(LOG_LEVEL_INFO, "added source %s (%s)%s", cfg->name, text, cfg->pool ? " from the pool" : "");
	return true;
}

static void remove_slot(struct upstream *up, struct upstream_slot *slot)
{
	engine_remove_source(up->engine, slot->engine_id);
	udp_close(slot->fd);
	memset(slot, 0, sizeof(*slot));
}

static unsigned wanted(const struct upstream_entry *e)
{
	return e->cfg.pool ? e->cfg.maxsources : 1;
}

static void request_lookup(struct upstream *up, size_t entry)
{
	struct upstream_entry *e = &up->entries[entry];

	if (e->resolving || e->numeric)
		return;
	if (resolver_request(up->resolver, (unsigned)entry, e->cfg.name, e->cfg.port) == 0)
		e->resolving = true;
}

static void retry_later(struct upstream_entry *e, struct timespec now)
{
	e->backoff = e->backoff < UPSTREAM_RETRY_MIN ? UPSTREAM_RETRY_MIN : e->backoff * 2;
	if (e->backoff > UPSTREAM_RETRY_MAX)
		e->backoff = UPSTREAM_RETRY_MAX;
	e->retry_at = timespec_add(now, e->backoff);
}

static void start_entry(struct upstream *up, size_t entry, const struct config_source *cfg, struct timespec now)
{
	struct upstream_entry *e = &up->entries[entry];
	struct net_addr addr;

	memset(e, 0, sizeof(*e));
	e->used = true;
	e->cfg = *cfg;
	e->retry_at = now;
	e->numeric = resolver_numeric(cfg->name, cfg->port, &addr);
	if (e->numeric)
		add_slot(up, entry, &addr, now);
	else
		request_lookup(up, entry);
}

struct upstream *upstream_create(struct engine *engine, struct resolver *res, const struct clock_ops *clock,
				 const struct auth_keyring *keys, const struct config_source *entries, size_t count,
				 struct timespec now)
{
	struct upstream *up = calloc(1, sizeof(*up));

	if (!up)
		return NULL;
	up->engine = engine;
	up->keys = keys;
	up->resolver = res;
	up->clock = clock;
	for (size_t i = 0; i < count && i < CONFIG_MAX_SOURCES; i++)
		start_entry(up, i, &entries[i], now);
	return up;
}

static void stop_entry(struct upstream *up, size_t entry)
{
	bool resolving;

	for (size_t i = 0; i < UPSTREAM_MAX_SLOTS; i++)
		if (up->slots[i].used && up->slots[i].entry == entry)
			remove_slot(up, &up->slots[i]);
	resolving = up->entries[entry].resolving;
	/* A lookup in flight comes back to the unused entry and is dropped;
	 * until then the entry is not reused. */
	memset(&up->entries[entry], 0, sizeof(up->entries[entry]));
	up->entries[entry].resolving = resolving;
}

void upstream_destroy(struct upstream *up)
{
	if (!up)
		return;
	for (size_t i = 0; i < CONFIG_MAX_SOURCES; i++)
		stop_entry(up, i);
	free(up);
}

static bool same_source(const struct config_source *a, const struct config_source *b)
{
	return a->pool == b->pool && a->port == b->port && a->minpoll == b->minpoll &&
	       a->maxpoll == b->maxpoll && a->iburst == b->iburst && a->maxsources == b->maxsources &&
	       a->key == b->key && !strcmp(a->name, b->name);
}

void upstream_reconfigure(struct upstream *up, const struct config_source *entries, size_t count,
			  struct timespec now)
{
	bool kept[CONFIG_MAX_SOURCES] = { false };

	for (size_t i = 0; i < CONFIG_MAX_SOURCES; i++) {
		bool keep = false;

		if (!up->entries[i].used)
			continue;
		for (size_t j = 0; j < count && !keep; j++)
			if (!kept[j] && same_source(&up->entries[i].cfg, &entries[j])) {
				kept[j] = keep = true;
				up->entries[i].cfg.line = entries[j].line;
			}
		if (!keep) {
			log_msg(LOG_LEVEL_INFO, "removing %s %s", up->entries[i].cfg.pool ? "pool" : "server",
				up->entries[i].cfg.name);
			stop_entry(up, i);
		}
	}
	for (size_t j = 0; j < count; j++) {
		size_t free_entry = CONFIG_MAX_SOURCES;

		if (kept[j])
			continue;
		for (size_t i = 0; i < CONFIG_MAX_SOURCES && free_entry == CONFIG_MAX_SOURCES; i++)
			if (!up->entries[i].used && !up->entries[i].resolving)
				free_entry = i;
		if (free_entry == CONFIG_MAX_SOURCES) {
			log_msg(LOG_LEVEL_ERROR, "no room for %s: restart stratad to apply", entries[j].name);
			continue;
		}
		start_entry(up, free_entry, &entries[j], now);
	}
}

size_t upstream_pollfds(const struct upstream *up, struct pollfd *fds, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < UPSTREAM_MAX_SLOTS && n < max; i++)
		if (up->slots[i].used)
			fds[n++] = (struct pollfd){ .fd = up->slots[i].fd, .events = POLLIN };
	return n;
}

static void receive(struct upstream *up, struct upstream_slot *slot)
{
	uint8_t buf[1024];

	for (int i = 0; i < UPSTREAM_RECV_BATCH; i++) {
		struct udp_datagram dg;
		struct net_addr from;
		ssize_t n = udp_receive(slot->fd, buf, sizeof(buf), &dg);

		if (n == -EAGAIN || n == -EWOULDBLOCK)
			break;
		if (n < 0) {
			/* An ICMP error for an earlier request: the engine sees the missing reply. */
			log_msg(LOG_LEVEL_DEBUG, "%s: %s", up->entries[slot->entry].cfg.name, strerror((int)-n));
			continue;
		}
		from = netaddr_unmapped(&dg.peer);
		if (!netaddr_equal(&from, &slot->addr) || dg.truncated)
			continue;
		engine_handle_reply(up->engine, slot->engine_id, buf, (size_t)n, dg.rx_time);
	}
}

void upstream_dispatch(struct upstream *up, const struct pollfd *fds, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		if (!fds[i].revents)
			continue;
		for (size_t j = 0; j < UPSTREAM_MAX_SLOTS; j++)
			if (up->slots[j].used && up->slots[j].fd == fds[i].fd) {
				receive(up, &up->slots[j]);
				break;
			}
	}
}

void upstream_resolved(struct upstream *up, const struct resolver_result *result, struct timespec now)
{
	struct upstream_entry *e;
	size_t entry = result->tag;

	if (entry >= CONFIG_MAX_SOURCES)
		return;
	e = &up->entries[entry];
	e->resolving = false;
	if (!e->used)
		return;
	if (result->error) {
		if (!e->failing)
			log_msg(LOG_LEVEL_WARNING, "cannot resolve %s: %s (retrying)", e->cfg.name,
				resolver_error_str(result->error));
		e->failing = true;
		retry_later(e, now);
		return;
	}
	if (e->failing)
		log_msg(LOG_LEVEL_INFO, "%s resolves again", e->cfg.name);
	e->failing = false;
	/* A named server that went unreachable: move it if its address changed. */
	for (size_t i = 0; i < UPSTREAM_MAX_SLOTS && !e->cfg.pool; i++) {
		struct upstream_slot *slot = &up->slots[i];

		if (slot->used && slot->entry == entry && !result_has(result, &slot->addr)) {
			log_msg(LOG_LEVEL_NOTICE, "%s moved: replacing its address", e->cfg.name);
			remove_slot(up, slot);
		}
	}
	for (size_t k = 0; k < result->count && members(up, entry) < wanted(e); k++)
		if (!address_in_use(up, &result->addrs[k]))
			add_slot(up, entry, &result->addrs[k], now);
	/* A pool short of members asks again later: its DNS answers rotate. */
	if (members(up, entry) < wanted(e)) {
		if (members(up, entry) == 0)
			log_msg(LOG_LEVEL_WARNING, "%s: every address it resolves to is already a source", e->cfg.name);
		retry_later(e, now);
	} else {
		e->backoff = 0;
		e->retry_at = timespec_add(now, UPSTREAM_RECHECK);
	}
}

void upstream_send_due(struct upstream *up, struct timespec now)
{
	int ids[UPSTREAM_MAX_SLOTS];
	size_t n = engine_due_requests(up->engine, now, ids, UPSTREAM_MAX_SLOTS);

	for (size_t i = 0; i < n; i++) {
		struct upstream_slot *slot = NULL;
		uint8_t request[SOURCE_REQUEST_MAX];
		struct timespec tx;
		size_t len;
		int err;

		for (size_t j = 0; j < UPSTREAM_MAX_SLOTS && !slot; j++)
			if (up->slots[j].used && up->slots[j].engine_id == ids[i])
				slot = &up->slots[j];
		if (!slot)
			continue;
		/* As late as possible: the transmit timestamp is read right before sendmsg. */
		if (up->clock->read(up->clock->ctx, &tx) < 0)
			continue;
		len = engine_build_request(up->engine, ids[i], tx, request);
		if (len == 0)
			continue;
		err = udp_send(slot->fd, request, len, &slot->addr);
		if (err < 0)
			log_msg(LOG_LEVEL_DEBUG, "%s: send: %s", up->entries[slot->entry].cfg.name, strerror(-err));
	}
}

static bool unreachable(const struct upstream *up, const struct upstream_slot *slot, struct timespec now)
{
	struct engine_source_info info;

	return engine_get_source(up->engine, slot->engine_id, now, &info) &&
	       info.selection == SOURCE_UNREACHABLE;
}

void upstream_maintain(struct upstream *up, struct timespec now)
{
	for (size_t i = 0; i < UPSTREAM_MAX_SLOTS; i++) {
		struct upstream_slot *slot = &up->slots[i];
		struct upstream_entry *e;

		if (!slot->used)
			continue;
		e = &up->entries[slot->entry];
		if (e->cfg.pool && engine_source_wants_replacement(up->engine, slot->engine_id, now)) {
			char text[NETADDR_TEXT_LEN];

			netaddr_format(&slot->addr, text, sizeof(text));
			log_msg(LOG_LEVEL_NOTICE, "replacing pool member %s of %s", text, e->cfg.name);
			remove_slot(up, slot);
			e->backoff = 0;
			e->retry_at = now;
		} else if (!e->cfg.pool && !e->numeric && !e->resolving && timespec_diff(now, e->retry_at) >= 0 &&
			   unreachable(up, slot, now)) {
			request_lookup(up, slot->entry);
			retry_later(e, now);
		}
	}
	for (size_t i = 0; i < CONFIG_MAX_SOURCES; i++) {
		struct upstream_entry *e = &up->entries[i];

		if (e->used && !e->numeric && !e->resolving && members(up, i) < wanted(e) &&
		    timespec_diff(now, e->retry_at) >= 0)
			request_lookup(up, i);
	}
}

struct timespec upstream_next_wakeup(const struct upstream *up, struct timespec now)
{
	struct timespec next = timespec_add(now, UPSTREAM_RETRY_MAX);

	for (size_t i = 0; i < CONFIG_MAX_SOURCES; i++) {
		const struct upstream_entry *e = &up->entries[i];

		if (e->used && !e->numeric && !e->resolving && members(up, i) < wanted(e) &&
		    timespec_diff(e->retry_at, next) < 0)
			next = e->retry_at;
	}
	return next;
}
