/* pipe2 */
#define _GNU_SOURCE

#include "config.h"
#include "config_scan.h"
#include "nts_key_rotation.h"
#include "nts_ke_records.h"
#include "ratelimit.h"

#include <errno.h>
#include <fcntl.h>
#include <libconfig.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef RUNSTATEDIR
#define RUNSTATEDIR "/run"
#endif
#ifndef LOCALSTATEDIR
#define LOCALSTATEDIR "/var"
#endif

/* Far beyond any sensible configuration: a bound on what is read. */
#define CONFIG_MAX_FILE_SIZE (1 << 20)

/* The validation state: the first error wins, later checks are skipped. */
struct checker {
	const char *path;
	char *err;
	size_t err_len;
	bool failed;
	const struct config_scan *scan; /* the integers libconfig truncated */
};

static const char *const log_level_names[] = { "error", "warning", "notice", "info", "debug" };

static const char *log_level_str(enum log_level level)
{
	if ((unsigned)level >= sizeof(log_level_names) / sizeof(log_level_names[0]))
		return "?";
	return log_level_names[level];
}

static void set_defaults(struct daemon_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	engine_config_defaults(&cfg->engine);
	snprintf(cfg->driftfile, sizeof(cfg->driftfile), "%s/lib/strata/drift", LOCALSTATEDIR);
	cfg->serve.enabled = false;
	cfg->serve.port = 123;
	/* off unless a ratelimit group asks for it, as chrony: a client of ours
	 * polling at minpoll -6 would trip any limiter a public server needs */
	cfg->serve.ratelimit_interval = 0.0;
	cfg->serve.ratelimit_burst = 8;
	cfg->serve.ratelimit_kod = true;
	cfg->serve.ratelimit_table_size = 65536;
	cfg->serve.threads = 0;
	cfg->serve.rcvbuf = 4 << 20;
	cfg->serve.nts.port = SERVE_NTS_PORT_DEFAULT;
	cfg->serve.nts.rotate = NTS_ROTATE_DEFAULT;
	snprintf(cfg->serve.nts.keys_file, sizeof(cfg->serve.nts.keys_file), "%s/lib/strata/nts-server-keys",
		 LOCALSTATEDIR);
	cfg->serve.nts.max_connections = 100;
	cfg->serve.nts.timeout = 2.0;
	snprintf(cfg->control_socket, sizeof(cfg->control_socket), "%s/strata/stratad.sock", RUNSTATEDIR);
	snprintf(cfg->user, sizeof(cfg->user), "_strata");
	cfg->seccomp = true;
	cfg->clock_process = true;
	snprintf(cfg->pidfile, sizeof(cfg->pidfile), "%s/strata/stratad.pid", RUNSTATEDIR);
	cfg->log_level = LOG_LEVEL_INFO;
	cfg->log_syslog = true;
	cfg->statsd.enabled = false;
	netaddr_parse("127.0.0.1", &cfg->statsd.address);
	cfg->statsd.address.port = 8125;
	snprintf(cfg->statsd.prefix, sizeof(cfg->statsd.prefix), "strata");
	cfg->statsd.interval = 10;
}

__attribute__((format(printf, 4, 5)))
static void fail(struct checker *ck, const config_setting_t *where, const char *name, const char *fmt, ...)
{
	va_list ap;
	int n;
	const char *file = ck->path;
	unsigned line = 0;

	if (ck->failed)
		return;
	ck->failed = true;
	if (where) {
		line = config_setting_source_line(where);
		if (config_setting_source_file(where))
			file = config_setting_source_file(where);
	}
	n = snprintf(ck->err, ck->err_len, "%s:%u: %s: ", file, line, name);
	if (n < 0 || (size_t)n >= ck->err_len)
		return;
	va_start(ap, fmt);
	vsnprintf(ck->err + n, ck->err_len - n, fmt, ap);
	va_end(ap);
}

static void join(char *out, size_t len, const char *prefix, const char *name)
{
	if (prefix && *prefix)
		snprintf(out, len, "%s.%s", prefix, name);
	else
		snprintf(out, len, "%s", name);
}

/* Every member of group must be one of names (NULL-terminated). */
static void check_known(struct checker *ck, const config_setting_t *group, const char *prefix,
			const char *const *names)
{
	char full[128];

	for (int i = 0; !ck->failed && i < config_setting_length(group); i++) {
		const config_setting_t *member = config_setting_get_elem(group, i);
		const char *name = config_setting_name(member);
		bool known = false;

		for (const char *const *n = names; *n; n++)
			if (name && !strcmp(name, *n))
				known = true;
		if (!known) {
			join(full, sizeof(full), prefix, name ? name : "?");
			fail(ck, member, full, "unknown setting");
		}
	}
}

/* The group named name inside parent, or NULL when absent (a wrong type is an error). */
static const config_setting_t *get_group(struct checker *ck, const config_setting_t *parent,
					  const char *name)
{
	const config_setting_t *s = config_setting_get_member(parent, name);

	if (!s || ck->failed)
		return NULL;
	if (!config_setting_is_group(s)) {
		fail(ck, s, name, "expected a group { ... }");
		return NULL;
	}
	return s;
}

static void get_bool(struct checker *ck, const config_setting_t *group, const char *prefix,
		     const char *name, bool *out)
{
	const config_setting_t *s = config_setting_get_member(group, name);
	char full[128];

	if (!s || ck->failed)
		return;
	join(full, sizeof(full), prefix, name);
	if (config_setting_type(s) != CONFIG_TYPE_BOOL) {
		fail(ck, s, full, "expected true or false");
		return;
	}
	*out = config_setting_get_bool(s);
}

/* As written in the file, when libconfig kept only part of the integer s. */
static const char *truncated_literal(const struct checker *ck, const config_setting_t *s)
{
	const char *name = config_setting_name(s);
	unsigned line = config_setting_source_line(s);

	for (size_t i = 0; name && i < ck->scan->wide_count; i++)
		if (ck->scan->wide[i].line == line && !strcmp(ck->scan->wide[i].name, name))
			return ck->scan->wide[i].literal;
	return NULL;
}

static bool get_long(struct checker *ck, const config_setting_t *group, const char *prefix,
		     const char *name, long long lo, long long hi, long long *out)
{
	const config_setting_t *s = config_setting_get_member(group, name);
	char full[128];
	long long v;

	if (!s || ck->failed)
		return false;
	join(full, sizeof(full), prefix, name);
	if (config_setting_type(s) == CONFIG_TYPE_INT)
		v = config_setting_get_int(s);
	else if (config_setting_type(s) == CONFIG_TYPE_INT64)
		v = config_setting_get_int64(s);
	else {
		fail(ck, s, full, "expected an integer");
		return false;
	}
	if (truncated_literal(ck, s)) {
		fail(ck, s, full, "%s is out of range [%lld, %lld]", truncated_literal(ck, s), lo, hi);
		return false;
	}
	if (v < lo || v > hi) {
		fail(ck, s, full, "%lld is out of range [%lld, %lld]", v, lo, hi);
		return false;
	}
	*out = v;
	return true;
}

static void get_int(struct checker *ck, const config_setting_t *group, const char *prefix,
		    const char *name, int lo, int hi, int *out)
{
	long long v;

	if (get_long(ck, group, prefix, name, lo, hi, &v))
		*out = (int)v;
}

static void get_unsigned(struct checker *ck, const config_setting_t *group, const char *prefix,
			 const char *name, unsigned lo, unsigned hi, unsigned *out)
{
	long long v;

	if (get_long(ck, group, prefix, name, lo, hi, &v))
		*out = (unsigned)v;
}

/* Seconds and such: a float, or an integer for convenience. */
static void get_double(struct checker *ck, const config_setting_t *group, const char *prefix,
		       const char *name, double lo, double hi, double *out)
{
	const config_setting_t *s = config_setting_get_member(group, name);
	char full[128];
	double v;

	if (!s || ck->failed)
		return;
	join(full, sizeof(full), prefix, name);
	if (config_setting_type(s) == CONFIG_TYPE_FLOAT)
		v = config_setting_get_float(s);
	else if (config_setting_type(s) == CONFIG_TYPE_INT)
		v = config_setting_get_int(s);
	else if (config_setting_type(s) == CONFIG_TYPE_INT64)
		v = (double)config_setting_get_int64(s);
	else {
		fail(ck, s, full, "expected a number");
		return;
	}
	if (config_setting_type(s) != CONFIG_TYPE_FLOAT && truncated_literal(ck, s)) {
		fail(ck, s, full, "%s is out of range [%g, %g]", truncated_literal(ck, s), lo, hi);
		return;
	}
	if (!(v >= lo && v <= hi)) {
		fail(ck, s, full, "%g is out of range [%g, %g]", v, lo, hi);
		return;
	}
	*out = v;
}

/* A string setting; returns the setting when present and valid. */
static const config_setting_t *get_string(struct checker *ck, const config_setting_t *group,
					  const char *prefix, const char *name, bool allow_empty,
					  char *out, size_t len)
{
	const config_setting_t *s = config_setting_get_member(group, name);
	char full[128];
	const char *v;

	if (!s || ck->failed)
		return NULL;
	join(full, sizeof(full), prefix, name);
	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		fail(ck, s, full, "expected a string");
		return NULL;
	}
	v = config_setting_get_string(s);
	if (!allow_empty && !*v) {
		fail(ck, s, full, "must not be empty");
		return NULL;
	}
	if (strlen(v) >= len) {
		fail(ck, s, full, "longer than %zu characters", len - 1);
		return NULL;
	}
	snprintf(out, len, "%s", v);
	return s;
}

static void get_path(struct checker *ck, const config_setting_t *group, const char *prefix,
		     const char *name, bool allow_empty, char *out, size_t len)
{
	const config_setting_t *s = get_string(ck, group, prefix, name, allow_empty, out, len);
	char full[128];

	if (s && *out && *out != '/') {
		join(full, sizeof(full), prefix, name);
		fail(ck, s, full, "\"%s\" is not an absolute path", out);
	}
}

/* Where an error about name points: the setting, or its group when it was left out. */
static const config_setting_t *member_or_group(const config_setting_t *group, const char *name)
{
	const config_setting_t *s = config_setting_get_member(group, name);

	return s ? s : group;
}

static void parse_source(struct checker *ck, const config_setting_t *entry, size_t index,
			 struct config_source *src)
{
	static const char *const known[] = { "server", "pool", "port", "minpoll", "maxpoll", "iburst",
					     "maxsources", "key", "nts", "nts_port", NULL };
	char prefix[32];
	bool has_server, has_pool;
	int port = 123, nts_port = NTS_KE_PORT;

	snprintf(prefix, sizeof(prefix), "sources[%zu]", index);
	if (!config_setting_is_group(entry)) {
		fail(ck, entry, prefix, "expected a group { server = \"...\"; } or { pool = \"...\"; }");
		return;
	}
	check_known(ck, entry, prefix, known);
	has_server = config_setting_get_member(entry, "server") != NULL;
	has_pool = config_setting_get_member(entry, "pool") != NULL;
	if (!ck->failed && has_server == has_pool) {
		fail(ck, entry, prefix, has_server ? "both server and pool given: one entry is one or the other"
					      : "needs server = \"NAME\" or pool = \"NAME\"");
		return;
	}
	src->pool = has_pool;
	src->line = config_setting_source_line(entry);
	src->port = 123;
	src->minpoll = 6;
	src->maxpoll = 10;
	src->iburst = false;
	src->maxsources = has_pool ? 4 : 1;
	get_string(ck, entry, prefix, has_pool ? "pool" : "server", false, src->name, sizeof(src->name));
	get_int(ck, entry, prefix, "port", 1, 65535, &port);
	src->port = (uint16_t)port;
	get_int(ck, entry, prefix, "minpoll", SOURCE_MIN_POLL, SOURCE_MAX_POLL, &src->minpoll);
	get_int(ck, entry, prefix, "maxpoll", SOURCE_MIN_POLL, SOURCE_MAX_POLL, &src->maxpoll);
	get_bool(ck, entry, prefix, "iburst", &src->iburst);
	if (!ck->failed && src->minpoll > src->maxpoll) {
		char full[64];

		snprintf(full, sizeof(full), "%s.maxpoll", prefix);
		fail(ck, member_or_group(entry, "maxpoll"), full, "%d is below minpoll %d", src->maxpoll,
		     src->minpoll);
	}
	if (!has_pool && config_setting_get_member(entry, "maxsources")) {
		char full[64];

		snprintf(full, sizeof(full), "%s.maxsources", prefix);
		fail(ck, config_setting_get_member(entry, "maxsources"), full, "only a pool has maxsources");
	}
	get_unsigned(ck, entry, prefix, "maxsources", 1, CONFIG_POOL_MAX_SOURCES, &src->maxsources);
	if (config_setting_get_member(entry, "key")) {
		long long key = 0;

		src->key_line = config_setting_source_line(config_setting_get_member(entry, "key"));
		if (get_long(ck, entry, prefix, "key", 1, UINT32_MAX, &key))
			src->key = (uint32_t)key;
	}
	src->nts = false;
	get_bool(ck, entry, prefix, "nts", &src->nts);
	get_int(ck, entry, prefix, "nts_port", 1, 65535, &nts_port);
	src->nts_port = (uint16_t)nts_port;
	if (!ck->failed && src->nts && src->key) {
		char full[64];

		snprintf(full, sizeof(full), "%s.key", prefix);
		fail(ck, config_setting_get_member(entry, "key"), full, "a source is either NTS or keyed, not both");
	}
	if (!ck->failed && !src->nts && config_setting_get_member(entry, "nts_port")) {
		char full[64];

		snprintf(full, sizeof(full), "%s.nts_port", prefix);
		fail(ck, config_setting_get_member(entry, "nts_port"), full, "only an NTS source (nts = true) has nts_port");
	}
}

static void parse_sources(struct checker *ck, const config_setting_t *root, struct daemon_config *cfg)
{
	const config_setting_t *list = config_setting_get_member(root, "sources");
	size_t total = 0;

	if (!list)
		return;
	if (!config_setting_is_list(list) && !config_setting_is_array(list)) {
		fail(ck, list, "sources", "expected a list ( { server = \"...\"; }, ... )");
		return;
	}
	for (int i = 0; !ck->failed && i < config_setting_length(list); i++) {
		const config_setting_t *entry = config_setting_get_elem(list, i);

		if (cfg->source_count == CONFIG_MAX_SOURCES) {
			fail(ck, entry, "sources", "more than %d entries", CONFIG_MAX_SOURCES);
			return;
		}
		parse_source(ck, entry, (size_t)i, &cfg->sources[cfg->source_count]);
		total += cfg->sources[cfg->source_count].maxsources;
		cfg->source_count++;
	}
	if (!ck->failed && total > CONFIG_MAX_SOURCES)
		fail(ck, list, "sources", "%zu sources in all (pools count maxsources); at most %d", total,
		     CONFIG_MAX_SOURCES);
}

static void parse_clock(struct checker *ck, const config_setting_t *root, struct daemon_config *cfg)
{
	static const char *const known[] = { "adjust", "step_threshold", "panic_threshold",
					     "allow_initial_insane_step", "stepout", "max_steps", "minsources",
					     "max_distance", "driftfile", "local_stratum", NULL };
	const config_setting_t *g = get_group(ck, root, "clock");
	struct engine_config *e = &cfg->engine;

	if (!g)
		return;
	check_known(ck, g, "clock", known);
	get_bool(ck, g, "clock", "adjust", &e->adjust);
	get_double(ck, g, "clock", "step_threshold", 0.0, 1e6, &e->step_threshold);
	get_double(ck, g, "clock", "panic_threshold", 0.0, 1e9, &e->panic_threshold);
	get_bool(ck, g, "clock", "allow_initial_insane_step", &e->allow_initial_insane_step);
	get_double(ck, g, "clock", "stepout", 0.0, 1e6, &e->stepout);
	get_int(ck, g, "clock", "max_steps", -1, 1000000, &e->max_steps);
	get_unsigned(ck, g, "clock", "minsources", 1, CONFIG_MAX_SOURCES, &e->minsources);
	get_double(ck, g, "clock", "max_distance", 0.001, 16.0, &e->max_distance);
	get_path(ck, g, "clock", "driftfile", true, cfg->driftfile, sizeof(cfg->driftfile));
	get_unsigned(ck, g, "clock", "local_stratum", 0, 15, &e->local_stratum);
	if (!ck->failed && e->panic_threshold > 0 && e->step_threshold > e->panic_threshold)
		fail(ck, member_or_group(g, "step_threshold"), "clock.step_threshold",
		     "%g is above panic_threshold %g", e->step_threshold, e->panic_threshold);
}

/* An array of strings, each parsed by parse(text, element). */
static size_t get_string_array(struct checker *ck, const config_setting_t *group, const char *name,
			       size_t max, const char *what, bool (*parse)(const char *, void *),
			       void *elements, size_t element_size)
{
	const config_setting_t *s = config_setting_get_member(group, name);
	char full[64];
	size_t n = 0;

	if (!s || ck->failed)
		return 0;
	snprintf(full, sizeof(full), "serve.%s", name);
	if (!config_setting_is_array(s) && !config_setting_is_list(s)) {
		fail(ck, s, full, "expected an array [ \"...\", ... ]");
		return 0;
	}
	for (int i = 0; !ck->failed && i < config_setting_length(s); i++) {
		const config_setting_t *item = config_setting_get_elem(s, i);
		const char *text = config_setting_get_string(item);

		if (n == max) {
			fail(ck, item, full, "more than %zu entries", max);
			break;
		}
		if (!text) {
			fail(ck, item, full, "expected strings");
			break;
		}
		if (!parse(text, (char *)elements + n * element_size)) {
			fail(ck, item, full, "\"%s\" is not %s", text, what);
			break;
		}
		n++;
	}
	return n;
}

static bool parse_addr(const char *text, void *out)
{
	return netaddr_parse(text, out);
}

static bool parse_prefix(const char *text, void *out)
{
	return netprefix_parse(text, out);
}

static void parse_serve_nts(struct checker *ck, const config_setting_t *serve, struct serve_nts_config *nts)
{
	static const char *const known[] = { "certificate", "key", "port", "rotate", "nts_server_keys_file",
					     "max_connections", "timeout", "ntp_server", "ntp_port", NULL };
	const config_setting_t *g = get_group(ck, serve, "nts");
	int port = nts->port, ntp_port = 0;

	if (!g)
		return;
	nts->enabled = true;
	check_known(ck, g, "serve.nts", known);
	if (!ck->failed && (!config_setting_get_member(g, "certificate") || !config_setting_get_member(g, "key")))
		fail(ck, g, "serve.nts", "needs certificate = \"/path/cert.pem\" and key = \"/path/key.pem\"");
	get_path(ck, g, "serve.nts", "certificate", false, nts->certificate, sizeof(nts->certificate));
	get_path(ck, g, "serve.nts", "key", false, nts->key, sizeof(nts->key));
	get_int(ck, g, "serve.nts", "port", 1, 65535, &port);
	nts->port = (uint16_t)port;
	get_unsigned(ck, g, "serve.nts", "rotate", 0, 365u * 86400u, &nts->rotate);
	get_path(ck, g, "serve.nts", "nts_server_keys_file", false, nts->keys_file, sizeof(nts->keys_file));
	get_unsigned(ck, g, "serve.nts", "max_connections", 1, 10000, &nts->max_connections);
	get_double(ck, g, "serve.nts", "timeout", 0.1, 60.0, &nts->timeout);
	get_string(ck, g, "serve.nts", "ntp_server", false, nts->ntp_server, sizeof(nts->ntp_server));
	get_int(ck, g, "serve.nts", "ntp_port", 1, 65535, &ntp_port);
	nts->ntp_port = (uint16_t)ntp_port;
}

static void parse_serve(struct checker *ck, const config_setting_t *root, struct daemon_config *cfg)
{
	static const char *const known[] = { "listen", "port", "allow", "deny", "ratelimit", "threads", "rcvbuf",
					     "nts", NULL };
	static const char *const rl_known[] = { "interval", "burst", "kod", "table_size", NULL };
	const config_setting_t *g = get_group(ck, root, "serve");
	const config_setting_t *rl;
	struct serve_config *sv = &cfg->serve;
	int port = sv->port;

	if (!g)
		return;
	sv->enabled = true;
	check_known(ck, g, "serve", known);
	if (config_setting_get_member(g, "listen"))
		sv->listen_count = get_string_array(ck, g, "listen", SERVE_MAX_LISTEN, "an IPv4 or IPv6 address",
						    parse_addr, sv->listen, sizeof(sv->listen[0]));
	else {
		netaddr_parse("0.0.0.0", &sv->listen[0]);
		netaddr_parse("::", &sv->listen[1]);
		sv->listen_count = 2;
		sv->listen_default = true;
	}
	get_int(ck, g, "serve", "port", 1, 65535, &port);
	sv->port = (uint16_t)port;
	for (size_t i = 0; i < sv->listen_count; i++)
		sv->listen[i].port = sv->port;
	sv->allow_count = get_string_array(ck, g, "allow", SERVE_MAX_PREFIXES, "an address or ADDRESS/BITS",
					   parse_prefix, sv->allow, sizeof(sv->allow[0]));
	sv->deny_count = get_string_array(ck, g, "deny", SERVE_MAX_PREFIXES, "an address or ADDRESS/BITS",
					  parse_prefix, sv->deny, sizeof(sv->deny[0]));
	rl = get_group(ck, g, "ratelimit");
	if (rl) {
		sv->ratelimit_interval = SERVE_RATELIMIT_DEFAULT_INTERVAL;
		check_known(ck, rl, "serve.ratelimit", rl_known);
		get_double(ck, rl, "serve.ratelimit", "interval", 0.001, 3600.0, &sv->ratelimit_interval);
		get_unsigned(ck, rl, "serve.ratelimit", "burst", 1, 100000, &sv->ratelimit_burst);
		get_bool(ck, rl, "serve.ratelimit", "kod", &sv->ratelimit_kod);
		get_unsigned(ck, rl, "serve.ratelimit", "table_size", 16, RATELIMIT_MAX_TABLE, &sv->ratelimit_table_size);
	}
	get_unsigned(ck, g, "serve", "threads", 0, 64, &sv->threads);
	get_int(ck, g, "serve", "rcvbuf", 0, 1 << 30, &sv->rcvbuf);
	parse_serve_nts(ck, g, &sv->nts);
}

static void parse_log(struct checker *ck, const config_setting_t *root, struct daemon_config *cfg)
{
	static const char *const known[] = { "level", "syslog", NULL };
	const config_setting_t *g = get_group(ck, root, "log");
	const config_setting_t *s;
	char level[16];

	if (!g)
		return;
	check_known(ck, g, "log", known);
	s = get_string(ck, g, "log", "level", false, level, sizeof(level));
	if (s) {
		size_t i;

		for (i = 0; i < sizeof(log_level_names) / sizeof(log_level_names[0]); i++)
			if (!strcmp(level, log_level_names[i]))
				break;
		if (i == sizeof(log_level_names) / sizeof(log_level_names[0]))
			fail(ck, s, "log.level", "\"%s\" is not one of error, warning, notice, info, debug", level);
		else
			cfg->log_level = (enum log_level)i;
	}
	get_bool(ck, g, "log", "syslog", &cfg->log_syslog);
}

static void parse_statsd(struct checker *ck, const config_setting_t *root, struct daemon_config *cfg)
{
	static const char *const known[] = { "address", "prefix", "interval", NULL };
	const config_setting_t *g = get_group(ck, root, "statsd");
	const config_setting_t *s;
	char text[CONFIG_NAME_LEN], host[CONFIG_NAME_LEN];

	if (!g)
		return;
	cfg->statsd.enabled = true;
	check_known(ck, g, "statsd", known);
	s = get_string(ck, g, "statsd", "address", false, text, sizeof(text));
	if (s) {
		uint16_t port = 8125;
		struct net_addr addr;

		if (!netaddr_split_host_port(text, host, sizeof(host), &port) || !netaddr_parse(host, &addr) ||
		    port == 0)
			fail(ck, s, "statsd.address", "\"%s\" is not a numeric ADDRESS or ADDRESS:PORT", text);
		else {
			addr.port = port;
			cfg->statsd.address = addr;
		}
	}
	s = get_string(ck, g, "statsd", "prefix", false, cfg->statsd.prefix, sizeof(cfg->statsd.prefix));
	if (s && strspn(cfg->statsd.prefix, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") !=
			 strlen(cfg->statsd.prefix))
		fail(ck, s, "statsd.prefix", "\"%s\" may only hold letters, digits, '_', '.' and '-'",
		     cfg->statsd.prefix);
	get_unsigned(ck, g, "statsd", "interval", 1, 3600, &cfg->statsd.interval);
}

static void parse_security(struct checker *ck, const config_setting_t *root, struct daemon_config *cfg)
{
	static const char *const known[] = { "seccomp", "clock_process", NULL };
	const config_setting_t *g = get_group(ck, root, "security");

	if (!g)
		return;
	check_known(ck, g, "security", known);
	get_bool(ck, g, "security", "seccomp", &cfg->seccomp);
	get_bool(ck, g, "security", "clock_process", &cfg->clock_process);
}

static void parse_root(struct checker *ck, const config_setting_t *root, struct daemon_config *cfg)
{
	static const char *const known[] = { "sources", "clock", "serve", "control", "user", "pidfile", "log",
					     "statsd", "security", "keys", "nts_trusted_certs", "nts_dumpdir", NULL };
	static const char *const control_known[] = { "socket", NULL };
	const config_setting_t *control;

	check_known(ck, root, "", known);
	parse_sources(ck, root, cfg);
	parse_clock(ck, root, cfg);
	parse_serve(ck, root, cfg);
	control = get_group(ck, root, "control");
	if (control) {
		check_known(ck, control, "control", control_known);
		get_path(ck, control, "control", "socket", true, cfg->control_socket, sizeof(cfg->control_socket));
	}
	get_string(ck, root, "", "user", false, cfg->user, sizeof(cfg->user));
	get_path(ck, root, "", "pidfile", true, cfg->pidfile, sizeof(cfg->pidfile));
	get_path(ck, root, "", "keys", true, cfg->keys, sizeof(cfg->keys));
	get_path(ck, root, "", "nts_trusted_certs", true, cfg->nts_trusted_certs, sizeof(cfg->nts_trusted_certs));
	get_path(ck, root, "", "nts_dumpdir", true, cfg->nts_dumpdir, sizeof(cfg->nts_dumpdir));
	parse_log(ck, root, cfg);
	parse_statsd(ck, root, cfg);
	parse_security(ck, root, cfg);
}

static const char *file_kind(mode_t mode)
{
	if (S_ISDIR(mode))
		return "a directory";
	if (S_ISFIFO(mode))
		return "a FIFO";
	if (S_ISSOCK(mode))
		return "a socket";
	if (S_ISCHR(mode) || S_ISBLK(mode))
		return "a device";
	return "a special file";
}

/* The whole file, NUL-terminated, to free; NULL with a message in err. Only
 * a regular file is read, and the open cannot block: a FIFO would stall the
 * daemon, and libconfig's scanner exits the process on a directory. */
static char *read_text(const char *path, size_t *len, char *err, size_t err_len)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	struct stat st;
	char *text = NULL;
	size_t n = 0;
	ssize_t got = 1;

	if (fd < 0) {
		snprintf(err, err_len, "%s:0: file: cannot open: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) < 0) {
		snprintf(err, err_len, "%s:0: file: cannot open: %s", path, strerror(errno));
	} else if (!S_ISREG(st.st_mode)) {
		snprintf(err, err_len, "%s:0: file: not a regular file (%s)", path, file_kind(st.st_mode));
	} else if (!(text = malloc(CONFIG_MAX_FILE_SIZE + 1))) {
		snprintf(err, err_len, "%s:0: file: out of memory", path);
	} else {
		while (n <= CONFIG_MAX_FILE_SIZE && (got = read(fd, text + n, CONFIG_MAX_FILE_SIZE + 1 - n)) > 0)
			n += (size_t)got;
		if (got < 0 || n > CONFIG_MAX_FILE_SIZE) {
			snprintf(err, err_len, "%s:0: file: %s", path,
				 got < 0 ? strerror(errno) : "larger than 1 MiB");
			free(text);
			text = NULL;
		} else {
			text[n] = '\0';
		}
	}
	close(fd);
	*len = n;
	return text;
}

int config_load(const char *path, struct daemon_config *cfg, char *err, size_t err_len)
{
	struct config_scan scan;
	struct checker ck = { .path = path, .err = err, .err_len = err_len, .scan = &scan };
	config_t lc;
	size_t len;
	char *text;
	int ok;

	set_defaults(cfg);
	text = read_text(path, &len, err, err_len);
	if (!text)
		return -1;
	config_scan(text, len, &scan);
	if (scan.nul_line || scan.include_line) {
		if (scan.nul_line)
			snprintf(err, err_len, "%s:%u: file: a NUL byte: not a text file", path, scan.nul_line);
		else
			snprintf(err, err_len, "%s:%u: @include: not supported: one file holds the whole configuration",
				 path, scan.include_line);
		free(text);
		return -1;
	}
	config_init(&lc);
	ok = config_read_string(&lc, text);
	free(text);
	if (ok != CONFIG_TRUE) {
		snprintf(err, err_len, "%s:%d: syntax: %s", path, config_error_line(&lc), config_error_text(&lc));
		config_destroy(&lc);
		return -1;
	}
	parse_root(&ck, config_root_setting(&lc), cfg);
	config_destroy(&lc);
	return ck.failed ? -1 : 0;
}

/* Reads exactly len bytes; false on EOF or an error first. */
static bool read_all(int fd, void *buf, size_t len)
{
	for (size_t got = 0; got < len;) {
		ssize_t n = read(fd, (char *)buf + got, len - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		got += (size_t)n;
	}
	return true;
}

static bool write_all(int fd, const void *buf, size_t len)
{
	for (size_t done = 0; done < len;) {
		ssize_t n = write(fd, (const char *)buf + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		done += (size_t)n;
	}
	return true;
}

int config_reload(const char *path, struct daemon_config *cfg, char *err, size_t err_len)
{
	int fds[2], ret = -1, status;
	pid_t pid;
	bool whole;

	if (pipe2(fds, O_CLOEXEC) < 0) {
		snprintf(err, err_len, "%s:0: file: cannot read it apart: %s", path, strerror(errno));
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		snprintf(err, err_len, "%s:0: file: cannot read it apart: %s", path, strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (pid == 0) {
		close(fds[0]);
		ret = config_load(path, cfg, err, err_len);
		_exit(write_all(fds[1], &ret, sizeof(ret)) && write_all(fds[1], err, err_len) &&
		      write_all(fds[1], cfg, sizeof(*cfg)) ? 0 : 1);
	}
	close(fds[1]);
	whole = read_all(fds[0], &ret, sizeof(ret)) && read_all(fds[0], err, err_len) &&
		read_all(fds[0], cfg, sizeof(*cfg));
	close(fds[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!whole) {
		snprintf(err, err_len, "%s:0: file: the parser died (%s %d)", path,
			 WIFSIGNALED(status) ? "signal" : "exit status",
			 WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
		return -1;
	}
	err[err_len - 1] = '\0';
	return ret;
}

int config_check_keys(const struct daemon_config *cfg, const char *path, const struct auth_keyring *ring,
		      char *err, size_t err_len)
{
	for (size_t i = 0; i < cfg->source_count; i++) {
		const struct config_source *s = &cfg->sources[i];

		if (!s->key || auth_keyring_find(ring, s->key))
			continue;
		if (!cfg->keys[0])
			snprintf(err, err_len, "%s:%u: sources[%zu].key: key %u, but no keys file (keys = \"PATH\";)",
				 path, s->key_line, i, s->key);
		else
			snprintf(err, err_len, "%s:%u: sources[%zu].key: key %u is not in %s", path, s->key_line, i,
				 s->key, cfg->keys);
		return -1;
	}
	return 0;
}

/* libconfig reads "1" as an integer: floats always carry a point. */
static void print_double(FILE *out, const char *indent, const char *name, double v)
{
	char buf[64];

	snprintf(buf, sizeof(buf), "%.9g", v);
	if (!strpbrk(buf, ".eEn"))
		strcat(buf, ".0");
	fprintf(out, "%s%s = %s;\n", indent, name, buf);
}

/* A string as libconfig reads it back: quoted, with its escapes. */
static void print_quoted(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", out);
		else if (c == '\t')
			fputs("\\t", out);
		else if (c < 0x20 || c == 0x7f)
			fprintf(out, "\\x%02x", c);
		else
			fputc(c, out);
	}
	fputc('"', out);
}

/* indent name = "value";\n */
static void print_string(FILE *out, const char *indent, const char *name, const char *value)
{
	fprintf(out, "%s%s = ", indent, name);
	print_quoted(out, value);
	fputs(";\n", out);
}

static const char *yes(bool b)
{
	return b ? "true" : "false";
}

static void print_prefixes(FILE *out, const char *name, const struct net_prefix *p, size_t n)
{
	char buf[NETADDR_TEXT_LEN];

	fprintf(out, "  %s = [", name);
	for (size_t i = 0; i < n; i++) {
		netaddr_format(&p[i].addr, buf, sizeof(buf));
		fprintf(out, "%s\"%s/%u\"", i ? ", " : " ", buf, p[i].bits);
	}
	fprintf(out, "%s];\n", n ? " " : "");
}

static void print_serve_nts(FILE *out, const struct serve_nts_config *nts)
{
	fprintf(out, "  nts = {\n");
	print_string(out, "    ", "certificate", nts->certificate);
	print_string(out, "    ", "key", nts->key);
	fprintf(out, "    port = %u;\n    rotate = %u;\n", nts->port, (unsigned)nts->rotate);
	print_string(out, "    ", "nts_server_keys_file", nts->keys_file);
	fprintf(out, "    max_connections = %u;\n", nts->max_connections);
	print_double(out, "    ", "timeout", nts->timeout);
	if (nts->ntp_server[0])
		print_string(out, "    ", "ntp_server", nts->ntp_server);
	if (nts->ntp_port)
		fprintf(out, "    ntp_port = %u;\n", nts->ntp_port);
	fprintf(out, "  };\n");
}

void config_print(const struct daemon_config *cfg, FILE *out)
{
	const struct engine_config *e = &cfg->engine;
	const struct serve_config *sv = &cfg->serve;
	char buf[NETADDR_TEXT_LEN];

	fprintf(out, "sources = (");
	for (size_t i = 0; i < cfg->source_count; i++) {
		const struct config_source *s = &cfg->sources[i];

		fprintf(out, "%s\n  { %s = ", i ? "," : "", s->pool ? "pool" : "server");
		print_quoted(out, s->name);
		fprintf(out, "; port = %u; minpoll = %d; maxpoll = %d; iburst = %s;", s->port, s->minpoll, s->maxpoll,
			yes(s->iburst));
		if (s->pool)
			fprintf(out, " maxsources = %u;", s->maxsources);
		if (s->key)
			fprintf(out, " key = %u;", s->key);
		if (s->nts)
			fprintf(out, " nts = true; nts_port = %u;", s->nts_port);
		fprintf(out, " }");
	}
	fprintf(out, "%s);\n", cfg->source_count ? "\n" : "");

	fprintf(out, "clock = {\n  adjust = %s;\n", yes(e->adjust));
	print_double(out, "  ", "step_threshold", e->step_threshold);
	print_double(out, "  ", "panic_threshold", e->panic_threshold);
	fprintf(out, "  allow_initial_insane_step = %s;\n", yes(e->allow_initial_insane_step));
	print_double(out, "  ", "stepout", e->stepout);
	fprintf(out, "  max_steps = %d;\n  minsources = %u;\n", e->max_steps, e->minsources);
	print_double(out, "  ", "max_distance", e->max_distance);
	print_string(out, "  ", "driftfile", cfg->driftfile);
	fprintf(out, "  local_stratum = %u;\n};\n", e->local_stratum);

	if (sv->enabled) {
		fprintf(out, "serve = {\n  listen = [");
		for (size_t i = 0; i < sv->listen_count; i++) {
			netaddr_format(&sv->listen[i], buf, sizeof(buf));
			fprintf(out, "%s\"%s\"", i ? ", " : " ", buf);
		}
		fprintf(out, "%s];\n  port = %u;\n", sv->listen_count ? " " : "", sv->port);
		print_prefixes(out, "allow", sv->allow, sv->allow_count);
		print_prefixes(out, "deny", sv->deny, sv->deny_count);
		if (sv->ratelimit_interval > 0.0) {
			fprintf(out, "  ratelimit = {\n");
			print_double(out, "    ", "interval", sv->ratelimit_interval);
			fprintf(out, "    burst = %u;\n    kod = %s;\n    table_size = %u;\n  };\n",
				sv->ratelimit_burst, yes(sv->ratelimit_kod), sv->ratelimit_table_size);
		} else {
			fprintf(out, "  # ratelimit: off (no ratelimit group)\n");
		}
		fprintf(out, "  threads = %u;\n  rcvbuf = %d;\n", sv->threads, sv->rcvbuf);
		if (sv->nts.enabled)
			print_serve_nts(out, &sv->nts);
		fprintf(out, "};\n");
	} else {
		fprintf(out, "# serve: no section, not serving\n");
	}
	fputs("control = { socket = ", out);
	print_quoted(out, cfg->control_socket);
	fputs("; };\n", out);
	print_string(out, "", "user", cfg->user);
	print_string(out, "", "pidfile", cfg->pidfile);
	print_string(out, "", "keys", cfg->keys);
	print_string(out, "", "nts_trusted_certs", cfg->nts_trusted_certs);
	print_string(out, "", "nts_dumpdir", cfg->nts_dumpdir);
	fprintf(out, "log = { level = \"%s\"; syslog = %s; };\n", log_level_str(cfg->log_level),
		yes(cfg->log_syslog));
	if (cfg->statsd.enabled) {
		netaddr_format_with_port(&cfg->statsd.address, buf, sizeof(buf));
		fprintf(out, "statsd = { address = \"%s\"; prefix = \"%s\"; interval = %u; };\n", buf,
			cfg->statsd.prefix, cfg->statsd.interval);
	} else {
		fprintf(out, "# statsd: no section, not reporting\n");
	}
	fprintf(out, "security = { seccomp = %s; clock_process = %s; };\n", yes(cfg->seccomp),
		yes(cfg->clock_process));
}
