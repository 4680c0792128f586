/* pipe2 */
#define _GNU_SOURCE

#include "config.h"
#include "config_text.h"
#include "config_scan.h"
#include "linux_clock.h"
#include "nts_key_rotation.h"
#include "nts_ke_records.h"
#include "ratelimit.h"
#include "source_options.h"

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

/* A quorum larger than this is a typo, not a configuration. */
#define CONFIG_MAX_MINSOURCES 1000

/* The validation state: the first error wins, later checks are skipped. */
struct checker {
	const char *path;
	char *err;
	size_t err_len;
	bool failed;
	const struct config_text *text; /* where each line came from; the integers libconfig truncated */
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
	cfg->max_slew_rate = LINUX_CLOCK_DEFAULT_MAX_SLEW_RATE;
	snprintf(cfg->pidfile, sizeof(cfg->pidfile), "%s/strata/stratad.pid", RUNSTATEDIR);
	cfg->log_level = LOG_LEVEL_INFO;
	cfg->log_syslog = true;
	snprintf(cfg->history.dir, sizeof(cfg->history.dir), "%s/log/strata", LOCALSTATEDIR);
	cfg->history.logchange = 1.0;
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
	if (where)
		config_text_where(ck->text, config_setting_source_line(where), &file, &line);
	n = snprintf(ck->err, ck->err_len, "%s:%u: %s: ", file, line, name);
	if (n < 0 || (size_t)n >= ck->err_len)
		return;
	va_start(ap, fmt);
	vsnprintf(ck->err + n, ck->err_len - n, fmt, ap);
	va_end(ap);
}

/* Keeps where setting s (NULL: not set, nothing kept) came from. */
static void note_where(const struct checker *ck, const config_setting_t *s, struct config_where *out)
{
	const char *file = ck->path;

	*out = (struct config_where){ .line = 0 };
	if (!s)
		return;
	config_text_where(ck->text, config_setting_source_line(s), &file, &out->line);
	snprintf(out->file, sizeof(out->file), "%s", file);
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

static bool get_bool(struct checker *ck, const config_setting_t *group, const char *prefix,
		     const char *name, bool *out)
{
	const config_setting_t *s = config_setting_get_member(group, name);
	char full[128];

	if (!s || ck->failed)
		return false;
	join(full, sizeof(full), prefix, name);
	if (config_setting_type(s) != CONFIG_TYPE_BOOL) {
		fail(ck, s, full, "expected true or false");
		return false;
	}
	*out = config_setting_get_bool(s);
	return true;
}

/* As written in the file, when libconfig kept only part of the integer s. */
static const char *truncated_literal(const struct checker *ck, const config_setting_t *s)
{
	const char *name = config_setting_name(s);
	unsigned line = config_setting_source_line(s);

	const struct config_scan *scan = &ck->text->scan;

	for (size_t i = 0; name && i < scan->wide_count; i++)
		if (scan->wide[i].line == line && !strcmp(scan->wide[i].name, name))
			return scan->wide[i].literal;
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
static bool get_double(struct checker *ck, const config_setting_t *group, const char *prefix,
		       const char *name, double lo, double hi, double *out)
{
	const config_setting_t *s = config_setting_get_member(group, name);
	char full[128];
	double v;

	if (!s || ck->failed)
		return false;
	join(full, sizeof(full), prefix, name);
	if (config_setting_type(s) == CONFIG_TYPE_FLOAT)
		v = config_setting_get_float(s);
	else if (config_setting_type(s) == CONFIG_TYPE_INT)
		v = config_setting_get_int(s);
	else if (config_setting_type(s) == CONFIG_TYPE_INT64)
		v = (double)config_setting_get_int64(s);
	else {
		fail(ck, s, full, "expected a number");
		return false;
	}
	if (config_setting_type(s) != CONFIG_TYPE_FLOAT && truncated_literal(ck, s)) {
		fail(ck, s, full, "%s is out of range [%g, %g]", truncated_literal(ck, s), lo, hi);
		return false;
	}
	if (!(v >= lo && v <= hi)) {
		fail(ck, s, full, "%g is out of range [%g, %g]", v, lo, hi);
		return false;
	}
	*out = v;
	return true;
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

/* Every option of source_options' table that entry sets, in its range. */
static void parse_source_options(struct checker *ck, const config_setting_t *entry, const char *prefix,
				 struct config_source *src)
{
	for (size_t i = 0; i < SOURCE_OPTION_COUNT && !ck->failed; i++) {
		const struct source_option *o = &source_options[i];
		long long integer;
		double number;
		bool flag;

		if (!config_setting_get_member(entry, o->name))
			continue;
		if (o->type == SOURCE_OPTION_FLAG && get_bool(ck, entry, prefix, o->name, &flag))
			source_option_store(src, o, flag);
		else if (o->type == SOURCE_OPTION_INTEGER &&
			 get_long(ck, entry, prefix, o->name, (long long)o->lo, (long long)o->hi, &integer))
			source_option_store(src, o, (double)integer);
		else if (o->type == SOURCE_OPTION_NUMBER && get_double(ck, entry, prefix, o->name, o->lo, o->hi, &number))
			source_option_store(src, o, number);
	}
}

static void parse_source(struct checker *ck, const config_setting_t *entry, size_t index,
			 struct config_source *src)
{
	const char *known[2 + SOURCE_OPTION_COUNT + 1] = { "server", "pool" };
	char prefix[32], why[160];
	bool has_server, has_pool;
	const char *bad;

	for (size_t i = 0; i < SOURCE_OPTION_COUNT; i++)
		known[2 + i] = source_options[i].name;
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
	source_options_defaults(src, has_pool);
	src->line = config_setting_source_line(entry);
	get_string(ck, entry, prefix, has_pool ? "pool" : "server", false, src->name, sizeof(src->name));
	note_where(ck, config_setting_get_member(entry, "key"), &src->key_where);
	parse_source_options(ck, entry, prefix, src);
	bad = source_options_conflict(src, config_setting_get_member(entry, "maxsources") != NULL,
				      config_setting_get_member(entry, "nts_port") != NULL, why, sizeof(why));
	if (!ck->failed && bad) {
		char full[64];

		snprintf(full, sizeof(full), "%s.%s", prefix, bad);
		fail(ck, member_or_group(entry, bad), full, "%s", why);
	}
}

static void parse_sources(struct checker *ck, const config_setting_t *root, struct daemon_config *cfg)
{
	const config_setting_t *list = config_setting_get_member(root, "sources");
	int n;

	if (!list)
		return;
	if (!config_setting_is_list(list) && !config_setting_is_array(list)) {
		fail(ck, list, "sources", "expected a list ( { server = \"...\"; }, ... )");
		return;
	}
	n = config_setting_length(list);
	cfg->sources = calloc(n > 0 ? (size_t)n : 1, sizeof(cfg->sources[0]));
	if (!cfg->sources) {
		fail(ck, list, "sources", "out of memory");
		return;
	}
	for (int i = 0; !ck->failed && i < n; i++) {
		parse_source(ck, config_setting_get_elem(list, i), (size_t)i, &cfg->sources[cfg->source_count]);
		cfg->source_count++;
	}
}

/* clock.leapsecond_list, clock.leapsectz and clock.leap_mode */
static void parse_clock_leap(struct checker *ck, const config_setting_t *g, struct daemon_config *cfg)
{
	const config_setting_t *s;
	char mode[16];
	enum leap_mode m;

	get_path(ck, g, "clock", "leapsecond_list", true, cfg->leapsecond_list, sizeof(cfg->leapsecond_list));
	get_string(ck, g, "clock", "leapsectz", true, cfg->leapsectz, sizeof(cfg->leapsectz));
	/* the tables are read later, by the daemon: its errors name these lines */
	note_where(ck, config_setting_get_member(g, "leapsecond_list"), &cfg->leapsecond_list_where);
	note_where(ck, config_setting_get_member(g, "leapsectz"), &cfg->leapsectz_where);
	s = get_string(ck, g, "clock", "leap_mode", false, mode, sizeof(mode));
	if (!s)
		return;
	for (m = LEAP_MODE_SYSTEM; m <= LEAP_MODE_IGNORE; m++)
		if (!strcmp(mode, leap_mode_str(m)))
			break;
	if (m > LEAP_MODE_IGNORE)
		fail(ck, s, "clock.leap_mode", "\"%s\" is not one of system, step, slew, ignore", mode);
	else
		cfg->engine.leap_mode = m;
}

/* serve.leap_smear and serve.leap_smear_duration */
static void parse_serve_leap(struct checker *ck, const config_setting_t *g, struct daemon_config *cfg)
{
	struct leap_smear *sm = &cfg->engine.leap_smear;
	const config_setting_t *s;
	char shape[16];

	s = get_string(ck, g, "serve", "leap_smear", false, shape, sizeof(shape));
	if (s) {
		if (!strcmp(shape, "off"))
			*sm = (struct leap_smear){ LEAP_SMEAR_OFF, 0.0 };
		else if (!strcmp(shape, "quadratic"))
			*sm = (struct leap_smear){ LEAP_SMEAR_QUADRATIC, LEAP_SMEAR_QUADRATIC_DEFAULT };
		else if (!strcmp(shape, "linear"))
			*sm = (struct leap_smear){ LEAP_SMEAR_LINEAR, LEAP_SMEAR_LINEAR_DEFAULT };
		else
			fail(ck, s, "serve.leap_smear", "\"%s\" is not one of off, quadratic, linear", shape);
	}
	get_double(ck, g, "serve", "leap_smear_duration", 600.0, 7 * 86400.0, &sm->duration);
	/* a smear needs the clock to take the second at midnight: a slewed
	 * clock is off by up to a second for half an hour, which the smear
	 * would serve on top */
	if (!ck->failed && sm->shape != LEAP_SMEAR_OFF && cfg->engine.leap_mode == LEAP_MODE_SLEW)
		fail(ck, s ? s : g, "serve.leap_smear", "needs clock.leap_mode system, step or ignore, not slew");
}

static const char *const refclock_drivers[] = { [REFCLOCK_SHM] = "SHM", [REFCLOCK_SOCK] = "SOCK",
						[REFCLOCK_PPS] = "PPS", [REFCLOCK_PHC] = "PHC" };

/* One refclocks entry: chrony's refclock directive as a group. */
static void parse_refclock(struct checker *ck, const config_setting_t *entry, size_t index,
			   struct refclock_config *rc)
{
	static const char *const known[] = { "driver", "device", "refid", "offset", "delay", "precision", "poll",
					     "dpoll", "filter", "lock", "edge", "prefer", "noselect", "trust",
					     "require", NULL };
	char prefix[32], full[64], driver[8] = "", edge[8] = "assert";
	const config_setting_t *s;
	bool found = false;

	snprintf(prefix, sizeof(prefix), "refclocks[%zu]", index);
	if (!config_setting_is_group(entry)) {
		fail(ck, entry, prefix, "expected a group { driver = \"SHM\"; device = \"0\"; }");
		return;
	}
	check_known(ck, entry, prefix, known);
	*rc = (struct refclock_config){
		.offset = 0.0, .delay = REFCLOCK_DEFAULT_DELAY, .precision = REFCLOCK_DEFAULT_PRECISION,
		.poll = REFCLOCK_DEFAULT_POLL, .dpoll = REFCLOCK_DEFAULT_DPOLL, .filter = REFCLOCK_DEFAULT_FILTER,
		.line = config_setting_source_line(entry),
	};
	s = get_string(ck, entry, prefix, "driver", false, driver, sizeof(driver));
	for (size_t d = 0; s && d < sizeof(refclock_drivers) / sizeof(refclock_drivers[0]); d++)
		if (!strcmp(driver, refclock_drivers[d])) {
			rc->driver = (enum refclock_driver)d;
			found = true;
		}
	snprintf(full, sizeof(full), "%s.driver", prefix);
	if (!ck->failed && !found) {
		fail(ck, member_or_group(entry, "driver"), full, s ? "\"%s\" is not SHM, SOCK, PPS or PHC" :
		     "missing: SHM, SOCK, PPS or PHC", driver);
		return;
	}
	snprintf(full, sizeof(full), "%s.device", prefix);
	if (!ck->failed && !config_setting_get_member(entry, "device"))
		fail(ck, entry, full, "missing");
	if (rc->driver == REFCLOCK_SHM) {
		s = get_string(ck, entry, prefix, "device", false, rc->device, sizeof(rc->device));
		if (s && (strspn(rc->device, "0123456789") != strlen(rc->device) || strlen(rc->device) > 3))
			fail(ck, s, full, "\"%s\" is not a SHM unit number (\"0\", \"1\", ...)", rc->device);
	} else {
		get_path(ck, entry, prefix, "device", false, rc->device, sizeof(rc->device));
	}
	snprintf(rc->refid, sizeof(rc->refid), "%s%s", refclock_drivers[rc->driver],
		 rc->driver == REFCLOCK_SHM ? rc->device : "");
	get_string(ck, entry, prefix, "refid", false, rc->refid, sizeof(rc->refid));
	get_double(ck, entry, prefix, "offset", -1e6, 1e6, &rc->offset);
	get_double(ck, entry, prefix, "delay", 1e-9, 1.0, &rc->delay);
	get_double(ck, entry, prefix, "precision", 1e-9, 1.0, &rc->precision);
	get_int(ck, entry, prefix, "poll", SOURCE_MIN_POLL, 12, &rc->poll);
	get_int(ck, entry, prefix, "dpoll", SOURCE_MIN_POLL, 12, &rc->dpoll);
	get_unsigned(ck, entry, prefix, "filter", 1, REFCLOCK_MAX_FILTER, &rc->filter);
	s = get_string(ck, entry, prefix, "lock", false, rc->lock, sizeof(rc->lock));
	snprintf(full, sizeof(full), "%s.lock", prefix);
	if (s && rc->driver != REFCLOCK_PPS && rc->driver != REFCLOCK_SOCK)
		fail(ck, s, full, "only a PPS or SOCK refclock is locked to another");
	s = get_string(ck, entry, prefix, "edge", false, edge, sizeof(edge));
	snprintf(full, sizeof(full), "%s.edge", prefix);
	if (s && rc->driver != REFCLOCK_PPS)
		fail(ck, s, full, "only a PPS refclock has an edge");
	else if (s && strcmp(edge, "assert") && strcmp(edge, "clear"))
		fail(ck, s, full, "\"%s\" is not assert or clear", edge);
	rc->clear_edge = !strcmp(edge, "clear");
	get_bool(ck, entry, prefix, "prefer", &rc->prefer);
	get_bool(ck, entry, prefix, "noselect", &rc->noselect);
	get_bool(ck, entry, prefix, "trust", &rc->trust);
	get_bool(ck, entry, prefix, "require", &rc->require);
}

static void parse_refclocks(struct checker *ck, const config_setting_t *root, struct daemon_config *cfg)
{
	const config_setting_t *list = config_setting_get_member(root, "refclocks");

	if (!list)
		return;
	if (!config_setting_is_list(list)) {
		fail(ck, list, "refclocks", "expected a list ( { driver = \"SHM\"; device = \"0\"; }, ... )");
		return;
	}
	for (int i = 0; !ck->failed && i < config_setting_length(list); i++) {
		const config_setting_t *entry = config_setting_get_elem(list, i);
		struct refclock_config *rc = &cfg->refclocks[cfg->refclock_count];

		if (cfg->refclock_count == CONFIG_MAX_REFCLOCKS) {
			fail(ck, entry, "refclocks", "more than %d entries", CONFIG_MAX_REFCLOCKS);
			return;
		}
		parse_refclock(ck, entry, (size_t)i, rc);
		for (size_t j = 0; !ck->failed && j < cfg->refclock_count; j++)
			if (!strcmp(cfg->refclocks[j].refid, rc->refid)) {
				char full[64];

				snprintf(full, sizeof(full), "refclocks[%d].refid", i);
				fail(ck, member_or_group(entry, "refid"), full, "\"%s\" is the refid of refclocks[%zu] too",
				     rc->refid, j);
			}
		cfg->refclock_count++;
	}
	for (size_t i = 0; !ck->failed && i < cfg->refclock_count; i++) {
		const struct refclock_config *rc = &cfg->refclocks[i];
		bool found = false;

		for (size_t j = 0; j < cfg->refclock_count; j++)
			found |= j != i && !strcmp(cfg->refclocks[j].refid, rc->lock);
		for (size_t j = 0; j < cfg->source_count; j++)
			found |= !cfg->sources[j].pool && !strcmp(cfg->sources[j].name, rc->lock);
		if (rc->lock[0] && !found) {
			char full[64];

			snprintf(full, sizeof(full), "refclocks[%zu].lock", i);
			fail(ck, member_or_group(config_setting_get_elem(list, (int)i), "lock"), full,
			     "\"%s\" is neither the refid of another refclock nor a server of sources", rc->lock);
		}
	}
}

static void parse_clock(struct checker *ck, const config_setting_t *root, struct daemon_config *cfg)
{
	static const char *const known[] = { "adjust", "step_threshold", "panic_threshold",
					     "allow_initial_insane_step", "stepout", "max_steps", "minsources",
					     "max_distance", "maxjitter", "driftfile", "local_stratum", "leapsecond_list",
					     "leapsectz", "leap_mode", "max_clock_error",
					     "slew_method", "max_slew_rate", NULL };
	const config_setting_t *g = get_group(ck, root, "clock");
	const config_setting_t *s;
	struct engine_config *e = &cfg->engine;
	char method[16];

	if (!g)
		return;
	check_known(ck, g, "clock", known);
	get_bool(ck, g, "clock", "adjust", &e->adjust);
	get_double(ck, g, "clock", "step_threshold", 0.0, 1e6, &e->step_threshold);
	get_double(ck, g, "clock", "panic_threshold", 0.0, 1e9, &e->panic_threshold);
	get_bool(ck, g, "clock", "allow_initial_insane_step", &e->allow_initial_insane_step);
	get_double(ck, g, "clock", "stepout", 0.0, 1e6, &e->stepout);
	get_int(ck, g, "clock", "max_steps", -1, 1000000, &e->max_steps);
	get_unsigned(ck, g, "clock", "minsources", 1, CONFIG_MAX_MINSOURCES, &e->minsources);
	get_double(ck, g, "clock", "max_distance", 0.001, 16.0, &e->max_distance);
	get_double(ck, g, "clock", "maxjitter", 1e-6, 1000.0, &e->max_jitter);
	get_path(ck, g, "clock", "driftfile", true, cfg->driftfile, sizeof(cfg->driftfile));
	get_unsigned(ck, g, "clock", "local_stratum", 0, 15, &e->local_stratum);
	parse_clock_leap(ck, g, cfg);
	get_double(ck, g, "clock", "max_clock_error", 0.0, 100.0, &e->max_clock_error_ppm);
	s = get_string(ck, g, "clock", "slew_method", false, method, sizeof(method));
	if (s && !strcmp(method, "frequency"))
		cfg->slew_by_frequency = true;
	else if (s && !strcmp(method, "adjtime"))
		cfg->slew_by_frequency = false;
	else if (s)
		fail(ck, s, "clock.slew_method", "\"%s\" is not one of frequency, adjtime", method);
	get_double(ck, g, "clock", "max_slew_rate", 1.0, LINUX_CLOCK_MAX_SLEW_RATE, &cfg->max_slew_rate);
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

/* serve.listen, allow or deny: as many elements as the file lists, on the
 * heap (to free; NULL when the setting is absent), their number in *count. */
static void *get_list(struct checker *ck, const config_setting_t *group, const char *name, const char *what,
		      bool (*parse)(const char *, void *), size_t element_size, size_t *count)
{
	const config_setting_t *s = config_setting_get_member(group, name);
	void *list;
	int n;

	if (!s || ck->failed)
		return NULL;
	n = config_setting_length(s);
	list = calloc(n > 0 ? (size_t)n : 1, element_size);
	if (!list) {
		fail(ck, s, name, "out of memory");
		return NULL;
	}
	*count = get_string_array(ck, group, name, (size_t)(n > 0 ? n : 0), what, parse, list, element_size);
	return list;
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
					     "leap_smear", "leap_smear_duration", "nts", NULL };
	static const char *const rl_known[] = { "interval", "burst", "kod", "table_size", NULL };
	const config_setting_t *g = get_group(ck, root, "serve");
	const config_setting_t *rl;
	struct serve_config *sv = &cfg->serve;
	int port = sv->port;

	if (!g)
		return;
	sv->enabled = true;
	check_known(ck, g, "serve", known);
	if (config_setting_get_member(g, "listen")) {
		sv->listen = get_list(ck, g, "listen", "an IPv4 or IPv6 address", parse_addr, sizeof(sv->listen[0]),
				      &sv->listen_count);
	} else if (!(sv->listen = calloc(2, sizeof(sv->listen[0])))) {
		fail(ck, g, "serve.listen", "out of memory");
	} else {
		netaddr_parse("0.0.0.0", &sv->listen[0]);
		netaddr_parse("::", &sv->listen[1]);
		sv->listen_count = 2;
		sv->listen_default = true;
	}
	get_int(ck, g, "serve", "port", 1, 65535, &port);
	sv->port = (uint16_t)port;
	for (size_t i = 0; i < sv->listen_count; i++)
		sv->listen[i].port = sv->port;
	sv->allow = get_list(ck, g, "allow", "an address or ADDRESS/BITS", parse_prefix, sizeof(sv->allow[0]),
			     &sv->allow_count);
	sv->deny = get_list(ck, g, "deny", "an address or ADDRESS/BITS", parse_prefix, sizeof(sv->deny[0]),
			    &sv->deny_count);
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
	parse_serve_leap(ck, g, cfg);
	parse_serve_nts(ck, g, &sv->nts);
}

static void parse_log(struct checker *ck, const config_setting_t *root, struct daemon_config *cfg)
{
	static const char *const known[] = { "level", "syslog", "dir", "measurements", "statistics", "tracking",
					     "logchange", NULL };
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
	get_path(ck, g, "log", "dir", false, cfg->history.dir, sizeof(cfg->history.dir));
	get_bool(ck, g, "log", "measurements", &cfg->history.measurements);
	get_bool(ck, g, "log", "statistics", &cfg->history.statistics);
	get_bool(ck, g, "log", "tracking", &cfg->history.tracking);
	get_double(ck, g, "log", "logchange", 0.0, 1e9, &cfg->history.logchange);
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
	static const char *const known[] = { "sources", "refclocks", "clock", "serve", "control", "user", "pidfile", "log",
					     "statsd", "security", "keys", "sourcedir",
					     "nts_trusted_certs", "nts_dumpdir", NULL };
	static const char *const control_known[] = { "socket", NULL };
	const config_setting_t *control;

	check_known(ck, root, "", known);
	parse_sources(ck, root, cfg);
	parse_refclocks(ck, root, cfg);
	/* adjtime moves the clock in whole microseconds, too coarse for the
	 * samples of a reference clock (bench/clknetsim-refclock, 1 us of noise:
	 * RMS 0.46 us by adjtime, 0.29 us through the frequency), while over
	 * networks of 10 ms of jitter adjtime is ahead (clock.slew_method in
	 * stratad.conf(5)) */
	cfg->slew_by_frequency = cfg->refclock_count > 0;
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
	get_path(ck, root, "", "sourcedir", true, cfg->sourcedir, sizeof(cfg->sourcedir));
	get_path(ck, root, "", "nts_trusted_certs", true, cfg->nts_trusted_certs, sizeof(cfg->nts_trusted_certs));
	get_path(ck, root, "", "nts_dumpdir", true, cfg->nts_dumpdir, sizeof(cfg->nts_dumpdir));
	parse_log(ck, root, cfg);
	parse_statsd(ck, root, cfg);
	parse_security(ck, root, cfg);
}

int config_load(const char *path, struct daemon_config *cfg, char *err, size_t err_len)
{
	struct config_text text;
	struct checker ck = { .path = path, .err = err, .err_len = err_len, .text = &text };
	config_t lc;

	set_defaults(cfg);
	if (config_text_read(path, &text, err, err_len) < 0) {
		config_text_free(&text);
		return -1;
	}
	config_init(&lc);
	if (config_read_string(&lc, text.text) != CONFIG_TRUE) {
		const char *file;
		unsigned line;

		config_text_where(&text, (unsigned)config_error_line(&lc), &file, &line);
		snprintf(err, err_len, "%s:%u: syntax: %s", file, line, config_error_text(&lc));
		ck.failed = true;
	} else {
		parse_root(&ck, config_root_setting(&lc), cfg);
	}
	config_destroy(&lc);
	config_text_free(&text);
	if (ck.failed) {
		config_free(cfg);
		return -1;
	}
	return 0;
}

void config_free(struct daemon_config *cfg)
{
	free(cfg->sources);
	cfg->sources = NULL;
	cfg->source_count = 0;
	free(cfg->serve.listen);
	cfg->serve.listen = NULL;
	cfg->serve.listen_count = 0;
	free(cfg->serve.allow);
	free(cfg->serve.deny);
	cfg->serve.allow = cfg->serve.deny = NULL;
	cfg->serve.allow_count = cfg->serve.deny_count = 0;
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

/* An array of count elements of size bytes that config_reload's child sends
 * after the structure; NULL for none or on failure (*ok false). */
static void *read_array(int fd, size_t count, size_t size, bool *ok)
{
	void *a = NULL;

	/* counts come from the structure: bounded by what a file of
	 * CONFIG_TEXT_MAX_SIZE can list */
	if (!*ok || count == 0 || count > CONFIG_TEXT_MAX_SIZE)
		*ok = *ok && count <= CONFIG_TEXT_MAX_SIZE;
	else if (!(a = calloc(count, size)) || !read_all(fd, a, count * size)) {
		free(a);
		a = NULL;
		*ok = false;
	}
	return a;
}

/* The allow and deny lists, the sources and the listen addresses, in the
 * order the child sent them. */
static bool read_lists(int fd, struct daemon_config *cfg)
{
	struct serve_config *sv = &cfg->serve;
	bool ok = true;

	sv->allow = read_array(fd, sv->allow_count, sizeof(sv->allow[0]), &ok);
	sv->deny = read_array(fd, sv->deny_count, sizeof(sv->deny[0]), &ok);
	cfg->sources = read_array(fd, cfg->source_count, sizeof(cfg->sources[0]), &ok);
	sv->listen = read_array(fd, sv->listen_count, sizeof(sv->listen[0]), &ok);
	if (!ok) {
		/* what was not read has a count and no array: empty them all */
		if (!sv->allow)
			sv->allow_count = 0;
		if (!sv->deny)
			sv->deny_count = 0;
		if (!cfg->sources)
			cfg->source_count = 0;
		if (!sv->listen)
			sv->listen_count = 0;
		config_free(cfg);
	}
	return ok;
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
		/* the lists follow the structure, whose pointers mean nothing to the parent */
		_exit(write_all(fds[1], &ret, sizeof(ret)) && write_all(fds[1], err, err_len) &&
		      write_all(fds[1], cfg, sizeof(*cfg)) &&
		      write_all(fds[1], cfg->serve.allow, cfg->serve.allow_count * sizeof(cfg->serve.allow[0])) &&
		      write_all(fds[1], cfg->serve.deny, cfg->serve.deny_count * sizeof(cfg->serve.deny[0])) &&
		      write_all(fds[1], cfg->sources, cfg->source_count * sizeof(cfg->sources[0])) &&
		      write_all(fds[1], cfg->serve.listen, cfg->serve.listen_count * sizeof(cfg->serve.listen[0])) ? 0 : 1);
	}
	close(fds[1]);
	whole = read_all(fds[0], &ret, sizeof(ret)) && read_all(fds[0], err, err_len) &&
		read_all(fds[0], cfg, sizeof(*cfg)) && read_lists(fds[0], cfg);
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
				 s->key_where.file[0] ? s->key_where.file : path, s->key_where.line, i, s->key);
		else
			snprintf(err, err_len, "%s:%u: sources[%zu].key: key %u is not in %s",
				 s->key_where.file[0] ? s->key_where.file : path, s->key_where.line, i, s->key, cfg->keys);
		return -1;
	}
	return 0;
}

/* libconfig reads "1" as an integer: floats always carry a point. */
static const char *float_text(double v, char buf[64])
{
	snprintf(buf, 64, "%.9g", v);
	if (!strpbrk(buf, ".eEn"))
		strcat(buf, ".0");
	return buf;
}

static void print_double(FILE *out, const char *indent, const char *name, double v)
{
	char buf[64];

	fprintf(out, "%s%s = %s;\n", indent, name, float_text(v, buf));
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

static void print_source_options(FILE *out, const struct config_source *s)
{
	char a[64], b[64], c[64];

	fprintf(out, "\n    prefer = %s; noselect = %s; trust = %s; require = %s;", yes(s->prefer), yes(s->noselect),
		yes(s->trust), yes(s->require));
	fprintf(out, "\n    maxdelay = %s; maxdelayratio = %s; minstratum = %u; offset = %s; version = %u; maxsamples = %u;",
		float_text(s->maxdelay, a), float_text(s->maxdelayratio, b), s->minstratum, float_text(s->offset, c),
		s->version, s->maxsamples);
}

static void print_refclocks(const struct daemon_config *cfg, FILE *out)
{
	if (cfg->refclock_count == 0)
		return;
	fprintf(out, "refclocks = (");
	for (size_t i = 0; i < cfg->refclock_count; i++) {
		const struct refclock_config *rc = &cfg->refclocks[i];

		fprintf(out, "%s\n  { driver = \"%s\"; device = ", i ? "," : "", refclock_drivers[rc->driver]);
		print_quoted(out, rc->device);
		fprintf(out, "; refid = ");
		print_quoted(out, rc->refid);
		fprintf(out, "; offset = %.9g; delay = %.9g; precision = %.9g; poll = %d; dpoll = %d; filter = %u;",
			rc->offset, rc->delay, rc->precision, rc->poll, rc->dpoll, rc->filter);
		if (rc->lock[0]) {
			fprintf(out, " lock = ");
			print_quoted(out, rc->lock);
			fprintf(out, ";");
		}
		if (rc->driver == REFCLOCK_PPS)
			fprintf(out, " edge = \"%s\";", rc->clear_edge ? "clear" : "assert");
		fprintf(out, "\n    prefer = %s; noselect = %s; trust = %s; require = %s; }", yes(rc->prefer),
			yes(rc->noselect), yes(rc->trust), yes(rc->require));
	}
	fprintf(out, "\n);\n");
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
		print_source_options(out, s);
		if (s->nts)
			fprintf(out, " nts = true; nts_port = %u;", s->nts_port);
		if (s->xleave)
			fprintf(out, " xleave = true;");
		fprintf(out, " }");
	}
	fprintf(out, "%s);\n", cfg->source_count ? "\n" : "");
	print_refclocks(cfg, out);

	fprintf(out, "clock = {\n  adjust = %s;\n", yes(e->adjust));
	print_double(out, "  ", "step_threshold", e->step_threshold);
	print_double(out, "  ", "panic_threshold", e->panic_threshold);
	fprintf(out, "  allow_initial_insane_step = %s;\n", yes(e->allow_initial_insane_step));
	print_double(out, "  ", "stepout", e->stepout);
	fprintf(out, "  max_steps = %d;\n  minsources = %u;\n", e->max_steps, e->minsources);
	print_double(out, "  ", "max_distance", e->max_distance);
	print_double(out, "  ", "maxjitter", e->max_jitter);
	print_string(out, "  ", "driftfile", cfg->driftfile);
	fprintf(out, "  local_stratum = %u;\n", e->local_stratum);
	print_string(out, "  ", "leapsecond_list", cfg->leapsecond_list);
	print_string(out, "  ", "leapsectz", cfg->leapsectz);
	fprintf(out, "  leap_mode = \"%s\";\n", leap_mode_str(e->leap_mode));
	print_double(out, "  ", "max_clock_error", e->max_clock_error_ppm);
	print_string(out, "  ", "slew_method", cfg->slew_by_frequency ? "frequency" : "adjtime");
	print_double(out, "  ", "max_slew_rate", cfg->max_slew_rate);
	fprintf(out, "};\n");

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
		fprintf(out, "  leap_smear = \"%s\";\n",
			e->leap_smear.shape == LEAP_SMEAR_QUADRATIC ? "quadratic" :
			e->leap_smear.shape == LEAP_SMEAR_LINEAR ? "linear" : "off");
		if (e->leap_smear.shape != LEAP_SMEAR_OFF)
			print_double(out, "  ", "leap_smear_duration", e->leap_smear.duration);
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
	print_string(out, "", "sourcedir", cfg->sourcedir);
	print_string(out, "", "nts_trusted_certs", cfg->nts_trusted_certs);
	print_string(out, "", "nts_dumpdir", cfg->nts_dumpdir);
	fprintf(out, "log = {\n  level = \"%s\";\n  syslog = %s;\n", log_level_str(cfg->log_level),
		yes(cfg->log_syslog));
	print_string(out, "  ", "dir", cfg->history.dir);
	fprintf(out, "  measurements = %s;\n  statistics = %s;\n  tracking = %s;\n", yes(cfg->history.measurements),
		yes(cfg->history.statistics), yes(cfg->history.tracking));
	print_double(out, "  ", "logchange", cfg->history.logchange);
	fputs("};\n", out);
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
