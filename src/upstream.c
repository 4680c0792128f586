#include "upstream.h"

#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "log.h"
#include "lookup_policy.h"
#include "loop.h"
#include "ntp_time.h"
#include "nts_dump.h"
#include "udp.h"

/* Room for this many addresses in use at first; the table doubles when full. */
#define UPSTREAM_INITIAL_SLOTS 16
#define UPSTREAM_RECV_BATCH 8       /* datagrams per readable socket per wakeup */

/* One address in use: an engine source and its socket. */
struct upstream_slot {
	bool used;
	int engine_id;
	int fd;
	size_t entry;
	struct net_addr addr;
	uint16_t generation;      /* tells an NTS-KE outcome for an earlier use of the slot */
	struct net_addr ke_addr;  /* NTS: the KE server (the NTP address unless the KE named another) */
	bool ke_running;          /* an NTS key exchange is queued or running */
};

struct upstream_entry {
	bool used;
	struct config_source cfg;
	bool numeric;
	bool resolving;
	bool failing;             /* the last lookup failed: said once until it works again */
	bool loop_said;           /* an address was refused as our own: said once */
	struct lookup_state lookup; /* when the name may be looked up again */
	struct lookup_replaced replaced; /* pool members dropped lately: not taken again yet */
};

struct upstream {
	struct engine *engine;
	const struct auth_keyring *keys;
	struct resolver *resolver;
	const struct clock_ops *clock;
	/* no fixed sizes: as many entries as configured, slots doubling when full */
	size_t entry_count;
	struct upstream_entry *entries;
	size_t slot_count;
	struct upstream_slot *slots;
	struct loop_self self;    /* where we serve: never a source */
	struct net_addr *listen;  /* self.listen's copy of the serve addresses */
	struct nts_ke_worker *ke; /* NULL: NTS sources wait */
	char nts_trusted_certs[CONFIG_PATH_LEN];
	char nts_dumpdir[CONFIG_PATH_LEN];
	uint16_t generations;
};

static unsigned members(const struct upstream *up, size_t entry)
{
	unsigned n = 0;

	for (size_t i = 0; i < up->slot_count; i++)
		n += up->slots[i].used && up->slots[i].entry == entry;
	return n;
}

static bool address_in_use(const struct upstream *up, const struct net_addr *addr)
{
	for (size_t i = 0; i < up->slot_count; i++)
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

/* Doubles the slot table; false when out of memory (nothing lost). */
static bool grow_slots(struct upstream *up)
{
	size_t count = up->slot_count ? 2 * up->slot_count : UPSTREAM_INITIAL_SLOTS;
	struct upstream_slot *slots = realloc(up->slots, count * sizeof(slots[0]));

	if (!slots)
		return false;
	up->slots = slots;
	memset(slots + up->slot_count, 0, (count - up->slot_count) * sizeof(slots[0]));
	up->slot_count = count;
	return true;
}

/* At least count entries; false when out of memory. */
static bool grow_entries(struct upstream *up, size_t count)
{
	struct upstream_entry *entries;

	if (count <= up->entry_count)
		return true;
	entries = realloc(up->entries, count * sizeof(entries[0]));
	if (!entries)
		return false;
	memset(entries + up->entry_count, 0, (count - up->entry_count) * sizeof(entries[0]));
	up->entries = entries;
	up->entry_count = count;
	return true;
}

/* A restart: the keys and cookies nts_dumpdir kept spare a key exchange. */
static void restore_nts(struct upstream *up, struct upstream_slot *slot, struct timespec now)
{
	const char *name = up->entries[slot->entry].cfg.name;
	struct nts_ke_result r = { .ntp_addr = slot->addr };
	char why[256];

	if (!up->nts_dumpdir[0])
		return;
	if (!nts_dump_load(up->nts_dumpdir, name, &r, why, sizeof(why))) {
		if (why[0])
			log_msg(LOG_LEVEL_WARNING, "nts_dumpdir: %s", why);
		return;
	}
	if (getrandom(r.seed, sizeof(r.seed), 0) != sizeof(r.seed) ||
	    !engine_source_nts_ke_done(up->engine, slot->engine_id, &r, now))
		return;
	log_msg(LOG_LEVEL_INFO, "%s: NTS keys and %zu cookies restored from %s", name, r.n_cookies, up->nts_dumpdir);
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
	for (size_t i = 0; i < up->slot_count && !slot; i++)
		if (!up->slots[i].used)
			slot = &up->slots[i];
	if (!slot) {
		size_t first_new = up->slot_count;

		if (!grow_slots(up)) {
			log_msg(LOG_LEVEL_ERROR, "%s (%s): out of memory for another source", cfg->name, text);
			return false;
		}
		slot = &up->slots[first_new];
	}
	if (loop_is_self(&up->self, addr)) {
		if (!up->entries[entry].loop_said)
			log_msg(LOG_LEVEL_ERROR, "refusing source %s (%s): it is this daemon's own serving address, "
						 "a timing loop", cfg->name, text);
		up->entries[entry].loop_said = true;
		return false;
	}
	fd = udp_open(&local);
	if (fd < 0) {
		log_msg(LOG_LEVEL_ERROR, "%s (%s): cannot open a socket: %s", cfg->name, text, strerror(-fd));
		return false;
	}
	sc = (struct source_config){ .addr = *addr, .name = cfg->name, .minpoll = cfg->minpoll,
				     .maxpoll = cfg->maxpoll, .iburst = cfg->iburst, .pool_member = cfg->pool,
				     .key = cfg->key ? auth_keyring_find(up->keys, cfg->key) : NULL,
				     .prefer = cfg->prefer, .noselect = cfg->noselect, .trust = cfg->trust,
				     .require = cfg->require, .maxdelay = cfg->maxdelay, .maxdelayratio = cfg->maxdelayratio,
				     .minstratum = cfg->minstratum, .offset = cfg->offset, .version = cfg->version,
				     .maxsamples = cfg->maxsamples,
				     .nts = cfg->nts, .xleave = cfg->xleave };
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
	slot->generation = ++up->generations;
	slot->ke_running = false;
	slot->ke_addr = *addr;
	log_msg(LOG_LEVEL_INFO, "added source %s (%s)%s%s", cfg->name, text, cfg->pool ? " from the pool" : "",
		cfg->nts ? " with NTS" : "");
	if (cfg->nts)
		restore_nts(up, slot, now);
	return true;
}

/* Keeps an NTS source's keys and cookies for the next start. */
static void save_nts(struct upstream *up, struct upstream_slot *slot)
{
	struct nts_client *nts = engine_source_nts(up->engine, slot->engine_id);
	struct nts_ke_result r;
	char why[256];

	if (!up->nts_dumpdir[0] || !nts || !nts_client_export(nts, &r) || r.n_cookies == 0)
		return;
	r.ntp_addr = slot->addr;
	if (!nts_dump_save(up->nts_dumpdir, up->entries[slot->entry].cfg.name, &r, why, sizeof(why)))
		log_msg(LOG_LEVEL_WARNING, "nts_dumpdir: %s", why);
}

static void remove_slot(struct upstream *up, struct upstream_slot *slot)
{
	if (up->entries[slot->entry].cfg.nts)
		save_nts(up, slot);
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

static void start_entry(struct upstream *up, size_t entry, const struct config_source *cfg, struct timespec now)
{
	struct upstream_entry *e = &up->entries[entry];
	struct net_addr addr;

	memset(e, 0, sizeof(*e));
	e->used = true;
	e->cfg = *cfg;
	lookup_start(&e->lookup, now);
	e->numeric = resolver_numeric(cfg->name, cfg->port, &addr);
	if (e->numeric)
		add_slot(up, entry, &addr, now);
	else
		request_lookup(up, entry);
}

/* This host's interface addresses, as many as fit. */
static size_t local_addresses(struct net_addr *out, size_t max)
{
	struct ifaddrs *list, *ifa;
	size_t n = 0;

	if (getifaddrs(&list) < 0)
		return 0;
	for (ifa = list; ifa && n < max; ifa = ifa->ifa_next) {
		socklen_t len = ifa->ifa_addr && ifa->ifa_addr->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
											: sizeof(struct sockaddr_in);

		if (ifa->ifa_addr && (ifa->ifa_addr->sa_family == AF_INET || ifa->ifa_addr->sa_family == AF_INET6) &&
		    netaddr_from_sockaddr(ifa->ifa_addr, len, &out[n]))
			n++;
	}
	freeifaddrs(list);
	return n;
}

/* Where we serve, for the loop checks: our addresses are never taken as a
 * source, and a server whose refid is one of them is synchronized to us. */
static bool learn_self(struct upstream *up, const struct serve_config *serve)
{
	size_t max = LOOP_MAX_LOCAL + (serve ? serve->listen_count : 0);
	struct net_addr *listen;
	uint32_t *refids;

	if (!serve || !serve->enabled)
		return true;
	listen = malloc(serve->listen_count ? serve->listen_count * sizeof(listen[0]) : 1);
	refids = malloc(max * sizeof(refids[0]));
	if (!listen || !refids) {
		free(listen);
		free(refids);
		return false;
	}
	if (serve->listen_count) /* none: serve->listen is NULL, which memcpy may not take */
		memcpy(listen, serve->listen, serve->listen_count * sizeof(listen[0]));
	up->self.listen = up->listen = listen;
	up->self.listen_count = serve->listen_count;
	up->self.local_count = local_addresses(up->self.local, LOOP_MAX_LOCAL);
	engine_set_own_refids(up->engine, refids, loop_own_refids(&up->self, refids, max));
	free(refids);
	return true;
}

struct upstream *upstream_create(struct engine *engine, struct resolver *res, const struct clock_ops *clock,
				 const struct serve_config *serve, const struct auth_keyring *keys,
				 const struct config_source *entries, size_t count,
				 struct timespec now)
{
	struct upstream *up = calloc(1, sizeof(*up));

	if (!up)
		return NULL;
	up->engine = engine;
	up->keys = keys;
	up->resolver = res;
	up->clock = clock;
	if (!learn_self(up, serve) || !grow_entries(up, count) || !grow_slots(up)) {
		upstream_destroy(up);
		return NULL;
	}
	for (size_t i = 0; i < count; i++)
		start_entry(up, i, &entries[i], now);
	return up;
}

static void stop_entry(struct upstream *up, size_t entry)
{
	bool resolving;

	for (size_t i = 0; i < up->slot_count; i++)
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
	for (size_t i = 0; i < up->entry_count; i++)
		stop_entry(up, i);
	free(up->entries);
	free(up->listen);
	free(up->slots);
	free(up);
}

static bool same_source(const struct config_source *a, const struct config_source *b)
{
	return a->pool == b->pool && a->port == b->port && a->minpoll == b->minpoll &&
	       a->maxpoll == b->maxpoll && a->iburst == b->iburst && a->maxsources == b->maxsources &&
	       a->key == b->key && a->nts == b->nts && a->nts_port == b->nts_port && !strcmp(a->name, b->name) && a->prefer == b->prefer &&
	       a->noselect == b->noselect && a->trust == b->trust && a->require == b->require &&
	       a->maxdelay == b->maxdelay && a->maxdelayratio == b->maxdelayratio && a->minstratum == b->minstratum &&
	       a->offset == b->offset && a->version == b->version && a->maxsamples == b->maxsamples &&
	       a->xleave == b->xleave;
}

void upstream_reconfigure(struct upstream *up, const struct config_source *entries, size_t count,
			  struct timespec now)
{
	bool *kept = calloc(count ? count : 1, sizeof(kept[0]));

	if (!kept) {
		log_msg(LOG_LEVEL_ERROR, "out of memory: the sources are not reloaded");
		return;
	}
	for (size_t i = 0; i < up->entry_count; i++) {
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
		size_t free_entry = up->entry_count;

		if (kept[j])
			continue;
		for (size_t i = 0; i < up->entry_count && free_entry == up->entry_count; i++)
			if (!up->entries[i].used && !up->entries[i].resolving)
				free_entry = i;
		if (!grow_entries(up, free_entry + 1)) {
			log_msg(LOG_LEVEL_ERROR, "out of memory: %s is not added", entries[j].name);
			continue;
		}
		start_entry(up, free_entry, &entries[j], now);
	}
	free(kept);
}

size_t upstream_socket_count(const struct upstream *up)
{
	size_t n = 0;

	for (size_t i = 0; i < up->slot_count; i++)
		n += up->slots[i].used;
	return n;
}

size_t upstream_pollfds(const struct upstream *up, struct pollfd *fds, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < up->slot_count && n < max; i++)
		if (up->slots[i].used)
			fds[n++] = (struct pollfd){ .fd = up->slots[i].fd, .events = POLLIN };
	return n;
}

/* The kernel stamps a request as it leaves, mostly within the send: read
 * then, and on POLLERR when it came later (before the reply, if any). */
static void take_sent_time(struct upstream *up, struct upstream_slot *slot, bool late)
{
	struct timespec sent;

	if ((late ? udp_late_sent_time(slot->fd, &sent) : udp_sent_time(slot->fd, &sent)) > 0)
		engine_request_sent(up->engine, slot->engine_id, sent);
}

static void receive(struct upstream *up, struct upstream_slot *slot)
{
	uint8_t buf[4096]; /* NTS replies take up to 2204 */

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
		for (size_t j = 0; j < up->slot_count; j++)
			if (up->slots[j].used && up->slots[j].fd == fds[i].fd) {
				if (fds[i].revents & POLLERR)
					take_sent_time(up, &up->slots[j], true);
				receive(up, &up->slots[j]);
				break;
			}
	}
}

void upstream_resolved(struct upstream *up, const struct resolver_result *result, struct timespec now)
{
	struct upstream_entry *e;
	size_t entry = result->tag;

	if (entry >= up->entry_count)
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
		lookup_answered(&e->lookup, LOOKUP_FAILED, now);
		return;
	}
	if (e->failing)
		log_msg(LOG_LEVEL_INFO, "%s resolves again", e->cfg.name);
	e->failing = false;
	/* A named server that went unreachable: move it if its address changed
	 * (for NTS, the KE server's: the NTP server it named stays). */
	for (size_t i = 0; i < up->slot_count && !e->cfg.pool; i++) {
		struct upstream_slot *slot = &up->slots[i];

		if (slot->used && slot->entry == entry && !result_has(result, &slot->ke_addr)) {
			log_msg(LOG_LEVEL_NOTICE, "%s moved: replacing its address", e->cfg.name);
			remove_slot(up, slot);
		}
	}
	for (size_t k = 0; k < result->count && members(up, entry) < wanted(e); k++)
		if (!address_in_use(up, &result->addrs[k]) && !lookup_replaced_recently(&e->replaced, &result->addrs[k], now))
			add_slot(up, entry, &result->addrs[k], now);
	/* A pool short of members asks again later: its DNS answers rotate. */
	if (members(up, entry) < wanted(e)) {
		if (members(up, entry) == 0 && !e->loop_said)
			log_msg(LOG_LEVEL_WARNING, "%s: every address it resolves to is already a source or was replaced "
						 "within the hour", e->cfg.name);
		lookup_answered(&e->lookup, LOOKUP_SHORT, now);
	} else {
		lookup_answered(&e->lookup, LOOKUP_COMPLETE, now);
	}
}

void upstream_send_due(struct upstream *up, struct timespec now)
{
	int id = engine_due_request(up->engine, now);
	struct upstream_slot *slot = NULL;
	uint8_t request[SOURCE_REQUEST_MAX];
	struct timespec tx;
	size_t len;
	int err;

	for (size_t j = 0; j < up->slot_count && id >= 0 && !slot; j++)
		if (up->slots[j].used && up->slots[j].engine_id == id)
			slot = &up->slots[j];
	/* As late as possible: the transmit timestamp is read right before sendmsg. */
	if (!slot || up->clock->read(up->clock->ctx, &tx) < 0)
		return;
	len = engine_build_request(up->engine, id, tx, request);
	if (len == 0)
		return;
	err = udp_send(slot->fd, request, len, &slot->addr);
	if (err < 0)
		log_msg(LOG_LEVEL_DEBUG, "%s: send: %s", up->entries[slot->entry].cfg.name, strerror(-err));
	else
		take_sent_time(up, slot, false);
}

static bool unreachable(const struct upstream *up, const struct upstream_slot *slot, struct timespec now)
{
	struct source_status info;

	return engine_get_source(up->engine, slot->engine_id, now, &info) &&
	       info.selection == SOURCE_UNREACHABLE;
}

static bool entry_unreachable(const struct upstream *up, size_t entry, struct timespec now)
{
	for (size_t i = 0; i < up->slot_count; i++)
		if (up->slots[i].used && up->slots[i].entry == entry && unreachable(up, &up->slots[i], now))
			return true;
	return false;
}

/* Asks lookup_due, finding out whether the server is unreachable (the
 * costly part, it runs every loop) only when that could make a lookup due. */
static void look_up_if_due(struct upstream *up, size_t entry, struct timespec now)
{
	struct upstream_entry *e = &up->entries[entry];
	struct lookup_need need = { .numeric = e->numeric, .resolving = e->resolving, .pool = e->cfg.pool,
				    .members = members(up, entry), .wanted = wanted(e), .unreachable = true };

	if (!lookup_due(&e->lookup, &need, now))
		return;
	if (!e->cfg.pool && need.members >= need.wanted) {
		need.unreachable = entry_unreachable(up, entry, now);
		if (!need.unreachable)
			lookup_reachable(&e->lookup);
	}
	if (lookup_due(&e->lookup, &need, now))
		request_lookup(up, entry);
}

void upstream_set_nts(struct upstream *up, struct nts_ke_worker *ke, const char *trusted_certs, const char *dumpdir)
{
	up->ke = ke;
	snprintf(up->nts_trusted_certs, sizeof(up->nts_trusted_certs), "%s", trusted_certs);
	snprintf(up->nts_dumpdir, sizeof(up->nts_dumpdir), "%s", dumpdir);
	/* sources started before this could not restore their state */
	for (size_t i = 0; i < up->slot_count; i++) {
		struct nts_client *nts;

		if (up->slots[i].used && (nts = engine_source_nts(up->engine, up->slots[i].engine_id)) &&
		    !nts_client_ready(nts)) {
			struct timespec now = { 0, 0 };

			up->clock->read(up->clock->ctx, &now);
			restore_nts(up, &up->slots[i], now);
		}
	}
}

static void start_key_exchange(struct upstream *up, size_t index, struct nts_client *nts, struct timespec now)
{
	struct upstream_slot *slot = &up->slots[index];
	const struct config_source *cfg = &up->entries[slot->entry].cfg;
	struct nts_ke_client_config kc = { .addr = slot->ke_addr, .port = cfg->nts_port };
	char text[NETADDR_TEXT_LEN];

	snprintf(kc.name, sizeof(kc.name), "%s", cfg->name);
	snprintf(kc.trusted_certs, sizeof(kc.trusted_certs), "%s", up->nts_trusted_certs);
	if (nts_ke_worker_request(up->ke, (unsigned)index << 16 | slot->generation, &kc) < 0)
		return;
	slot->ke_running = true;
	nts_client_ke_started(nts, now);
	kc.addr.port = cfg->nts_port;
	netaddr_format_with_port(&kc.addr, text, sizeof(text));
	log_msg(LOG_LEVEL_INFO, "%s: NTS key exchange with %s", cfg->name, text);
}

void upstream_nts_outcome(struct upstream *up, const struct nts_ke_outcome *o, struct timespec now)
{
	size_t index = o->tag >> 16;
	struct upstream_slot *slot = index < up->slot_count ? &up->slots[index] : NULL;
	struct nts_client *nts;
	const char *name;
	char text[NETADDR_TEXT_LEN];

	if (!slot || !slot->used || slot->generation != (o->tag & 0xffff))
		return; /* the source is gone */
	slot->ke_running = false;
	nts = engine_source_nts(up->engine, slot->engine_id);
	name = up->entries[slot->entry].cfg.name;
	if (!nts)
		return;
	if (!o->ok) {
		nts_client_ke_failed(nts, now);
		log_msg(LOG_LEVEL_WARNING, "%s: NTS key exchange failed: %s (next try in %.0f s)", name, o->error,
			timespec_diff(nts_client_next_ke(nts), now));
		return;
	}
	if (!netaddr_equal(&o->result.ntp_addr, &slot->addr)) {
		/* the KE server sends us to another NTP server */
		size_t entry = slot->entry;
		struct net_addr ke_addr = slot->ke_addr;

		netaddr_format_with_port(&o->result.ntp_addr, text, sizeof(text));
		log_msg(LOG_LEVEL_NOTICE, "%s: the NTS key exchange names NTP server %s", name, text);
		remove_slot(up, slot);
		slot = NULL;
		if (!address_in_use(up, &o->result.ntp_addr) && add_slot(up, entry, &o->result.ntp_addr, now))
			for (size_t i = 0; i < up->slot_count && !slot; i++)
				if (up->slots[i].used && netaddr_equal(&up->slots[i].addr, &o->result.ntp_addr))
					slot = &up->slots[i];
		if (!slot)
			return;
		slot->ke_addr = ke_addr;
	}
	if (!engine_source_nts_ke_done(up->engine, slot->engine_id, &o->result, now)) {
		log_msg(LOG_LEVEL_ERROR, "%s: NTS: the negotiated keys cannot be used", name);
		return;
	}
	log_msg(LOG_LEVEL_INFO, "%s: NTS key exchange done: %s, %zu cookies", name, nts_aead_name(o->result.c2s.aead),
		o->result.n_cookies);
	save_nts(up, slot);
}

void upstream_maintain(struct upstream *up, struct timespec now)
{
	for (size_t i = 0; i < up->slot_count && up->ke; i++) {
		struct nts_client *nts;

		if (up->slots[i].used && !up->slots[i].ke_running &&
		    (nts = engine_source_nts(up->engine, up->slots[i].engine_id)) && nts_client_wants_ke(nts, now))
			start_key_exchange(up, i, nts, now);
	}
	for (size_t i = 0; i < up->slot_count; i++) {
		struct upstream_slot *slot = &up->slots[i];
		struct upstream_entry *e;

		if (!slot->used)
			continue;
		e = &up->entries[slot->entry];
		if (e->cfg.pool && engine_source_wants_replacement(up->engine, slot->engine_id, now)) {
			char text[NETADDR_TEXT_LEN];

			netaddr_format(&slot->addr, text, sizeof(text));
			log_msg(LOG_LEVEL_NOTICE, "replacing pool member %s of %s", text, e->cfg.name);
			lookup_replaced_note(&e->replaced, &slot->addr, now);
			remove_slot(up, slot);
			lookup_start(&e->lookup, now);
		}
	}
	for (size_t i = 0; i < up->entry_count; i++)
		if (up->entries[i].used)
			look_up_if_due(up, i, now);
}

unsigned upstream_unresolved(const struct upstream *up)
{
	unsigned n = 0;

	for (size_t i = 0; i < up->entry_count; i++)
		n += up->entries[i].used && members(up, i) == 0;
	return n;
}

const struct config_source *upstream_entry_of(const struct upstream *up, const struct net_addr *addr)
{
	for (size_t i = 0; i < up->slot_count; i++)
		if (up->slots[i].used && netaddr_equal(&up->slots[i].addr, addr))
			return &up->entries[up->slots[i].entry].cfg;
	return NULL;
}

struct timespec upstream_next_wakeup(const struct upstream *up, struct timespec now)
{
	struct timespec next = timespec_add(now, LOOKUP_RETRY_MAX);

	for (size_t i = 0; i < up->entry_count; i++) {
		const struct upstream_entry *e = &up->entries[i];

		if (e->used && !e->numeric && !e->resolving && members(up, i) < wanted(e) &&
		    timespec_diff(e->lookup.not_before, next) < 0)
			next = e->lookup.not_before;
	}
	for (size_t i = 0; i < up->slot_count; i++) {
		struct nts_client *nts;

		if (up->slots[i].used && !up->slots[i].ke_running &&
		    (nts = engine_source_nts(up->engine, up->slots[i].engine_id)) && !nts_client_ready(nts) &&
		    timespec_diff(nts_client_next_ke(nts), next) < 0)
			next = nts_client_next_ke(nts);
	}
	return next;
}
