/* pipe2 */
#define _GNU_SOURCE

/* stratad: the daemon. One loop waits in poll() for a socket, a signal or the
 * next timer, hands the event to the engine (or the server, the resolver, the
 * control socket) and carries out what comes back. Nothing here decides
 * anything about time. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "paths.h"
#include "auth_keyfile.h"
#include "config.h"
#include "control.h"
#include "detach.h"
#include "driftfile.h"
#include "leap_load.h"
#include "engine.h"
#include "history.h"
#include "history_log.h"
#include "json_writer.h"
#include "linux_clock.h"
#include "listenfds.h"
#include "log.h"
#include "logsink.h"
#include "metrics.h"
#include "metrics_json.h"
#include "notify.h"
#include "ntp_time.h"
#include "privdrop.h"
#include "privsep.h"
#include "refclocks.h"
#include "resolver.h"
#include "seccomp_filter.h"
#include "server.h"
#include "sourcedir.h"
#include "statsd.h"
#include "source_line.h"
#include "status.h"
#include "status_control.h"
#include "upstream.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif

#define DAEMON_DRIFT_INTERVAL 3600.0
/* Descriptors polled besides one per source and the server's sockets: the
 * resolver, the control socket and its clients. */
#define DAEMON_POLLFDS_BESIDES_SOURCES 160
#define DAEMON_EXIT_CONFIG 2
#define PRECISION_MAX_READS 100000

struct options {
	const char *config_path;
	bool foreground;
	bool no_adjust;
	bool check_config;
	bool debug;
};

struct daemon {
	struct daemon_config cfg;
	struct auth_keyring keys;     /* read once at start (as root): fixed while running */
	const char *config_path;
	bool foreground;
	bool no_adjust;
	bool debug;
	struct linux_clock *linux_clock;
	struct clock_ops real_clock;  /* linux_clock's, or the clock process's proxy */
	struct privsep privsep;
	struct clock_ops clock;       /* what the engine drives: real_clock, reporting EPERM once */
	bool eperm_reported;
	struct engine *engine;
	struct resolver *resolver;
	struct nts_ke_worker *nts_ke;   /* NTS key exchanges, off the loop */
	struct upstream *upstream;
	struct refclocks *refclocks;  /* NULL: none configured */
	struct server *server;
	struct control *control;
	struct history history;       /* when the history logs and logchange speak */
	struct history_log *history_log; /* NULL: no history logs */
	bool ever_synchronized;
	enum sync_state last_state;
	enum unsync_reason last_reason;
	struct timespec next_drift_write;
	char status[160];             /* the service manager's STATUS= line */
	char pidfile[CONFIG_PATH_LEN]; /* the one we wrote, "" if none */
	size_t leap_table_count;      /* clock.leapsecond_list, then clock.leapsectz: read at start and reload */
	struct leap_table leap_tables[2];
};

/* Signals only set flags, which the loop reads before it sleeps; a signal
 * that lands while it sleeps ends poll() with EINTR. No self-pipe: a pipe in
 * the poll set reads as always ready under clknetsim, which would spin the
 * simulated daemon. A signal landing in the few instructions between the
 * last check and poll() waits for the next wakeup, as in chronyd. */
static volatile sig_atomic_t stop_signal, reload_signal;

static void on_signal(int sig)
{
	if (sig == SIGHUP)
		reload_signal = 1;
	else
		stop_signal = sig;
}

static const int handled_signals[] = { SIGTERM, SIGINT, SIGHUP };

static void handled_set(sigset_t *set)
{
	sigemptyset(set);
	for (size_t i = 0; i < sizeof(handled_signals) / sizeof(handled_signals[0]); i++)
		sigaddset(set, handled_signals[i]);
}

/* The handlers are installed with the signals blocked, so the threads that
 * start later (resolver, serving workers) inherit the block and only the
 * main loop, which unblocks them in run(), is ever interrupted. */
static int install_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal, .sa_flags = SA_RESTART };
	sigset_t set;

	handled_set(&set);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -1;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(handled_signals) / sizeof(handled_signals[0]); i++)
		if (sigaction(handled_signals[i], &sa, NULL) < 0)
			return -1;
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

static void unblock_signals(void)
{
	sigset_t set;

	handled_set(&set);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
}

/* The clock as the engine sees it: a refused change is said once, clearly. */
static int report_eperm(struct daemon *d, int ret, const char *what)
{
	if (ret == -EPERM && !d->eperm_reported) {
		log_msg(LOG_LEVEL_ERROR,
			"cannot %s the clock: permission denied. stratad needs CAP_SYS_TIME: start it as root, "
			"or run it with -x (clock.adjust = false) to measure and serve without adjusting",
			what);
		d->eperm_reported = true;
	}
	return ret;
}

static int clock_read(void *ctx, struct timespec *now)
{
	struct daemon *d = ctx;

	return d->real_clock.read(d->real_clock.ctx, now);
}

static int clock_step(void *ctx, double offset)
{
	struct daemon *d = ctx;

	return report_eperm(d, d->real_clock.step(d->real_clock.ctx, offset), "step");
}

static int clock_slew(void *ctx, double offset)
{
	struct daemon *d = ctx;

	return report_eperm(d, d->real_clock.slew(d->real_clock.ctx, offset), "slew");
}

static int clock_slew_state(void *ctx, struct clock_slew *out)
{
	struct daemon *d = ctx;

	return d->real_clock.slew_state(d->real_clock.ctx, out);
}

static int clock_set_frequency(void *ctx, double ppm)
{
	struct daemon *d = ctx;

	return report_eperm(d, d->real_clock.set_frequency(d->real_clock.ctx, ppm), "set the frequency of");
}

static int clock_set_status(void *ctx, const struct clock_status *status)
{
	struct daemon *d = ctx;

	return report_eperm(d, d->real_clock.set_status(d->real_clock.ctx, status), "set the status of");
}

static struct timespec now_of(struct daemon *d)
{
	struct timespec now = { 0, 0 };

	d->clock.read(d->clock.ctx, &now);
	return now;
}

/* log2 of the smallest step the clock reads in, as the engine reports it. */
static int8_t measure_precision(void)
{
	double best = 1.0;

	for (int i = 0; i < 64; i++) {
		struct timespec a, b;
		double step;
		int reads = 0; /* bounded: a simulated clock may stand still between events */

		clock_gettime(CLOCK_REALTIME, &a);
		do
			clock_gettime(CLOCK_REALTIME, &b);
		while (b.tv_sec == a.tv_sec && b.tv_nsec == a.tv_nsec && ++reads < PRECISION_MAX_READS);
		step = timespec_diff(b, a);
		if (step > 0 && step < best)
			best = step;
	}
	return (int8_t)ceil(log2(best));
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: stratad [-c FILE] [-n] [-x] [-d] [--check-config]\n"
		"  -c FILE         configuration file (default %s/stratad.conf)\n"
		"  -n              stay in the foreground and log to stderr\n"
		"  -x              never adjust the clock: measure, select, serve and report only\n"
		"  -d              log debug messages\n"
		"  --check-config  validate the configuration, print it with every default, and exit\n",
		SYSCONFDIR);
}

static int parse_options(int argc, char **argv, struct options *opt)
{
	static const struct option longopts[] = {
		{ "check-config", no_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	*opt = (struct options){ .config_path = SYSCONFDIR "/stratad.conf" };
	while ((c = getopt_long(argc, argv, "c:nxdh", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			opt->config_path = optarg;
			break;
		case 'n':
			opt->foreground = true;
			break;
		case 'x':
			opt->no_adjust = true;
			break;
		case 'd':
			opt->debug = true;
			break;
		case 'C':
			opt->check_config = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return -1;
	}
	return 0;
}

static void save_drift(struct daemon *d)
{
	char why[PATH_MAX + 128];
	struct drift_state state;

	if (!d->cfg.driftfile[0] || !d->ever_synchronized || !d->cfg.engine.adjust)
		return;
	state.frequency_ppm = engine_frequency_ppm(d->engine);
	state.wander_ppm_per_s = engine_wander_ppm_per_s(d->engine);
	if (driftfile_write(d->cfg.driftfile, &state, why, sizeof(why)) < 0)
		log_msg(LOG_LEVEL_WARNING, "drift file not saved: %s", why);
}

static void load_drift(struct daemon *d)
{
	char why[PATH_MAX + 128], wander[64] = "";
	struct drift_state state;

	if (!d->cfg.driftfile[0])
		return;
	switch (driftfile_read(d->cfg.driftfile, d->real_clock.max_frequency_ppm, &state, why, sizeof(why))) {
	case DRIFTFILE_OK:
		d->cfg.engine.have_initial_frequency = true;
		d->cfg.engine.initial_frequency_ppm = state.frequency_ppm;
		d->cfg.engine.initial_wander_ppm_per_s = state.wander_ppm_per_s;
		if (state.wander_ppm_per_s > 0.0)
			snprintf(wander, sizeof(wander), ", wander %.3g ppm/sqrt(s)", state.wander_ppm_per_s);
		log_msg(LOG_LEVEL_INFO, "frequency %+.3f ppm%s from %s", state.frequency_ppm, wander, d->cfg.driftfile);
		break;
	case DRIFTFILE_MISSING:
		log_msg(LOG_LEVEL_INFO, "no drift file yet (%s): the frequency starts at 0", d->cfg.driftfile);
		break;
	case DRIFTFILE_CORRUPT:
		log_msg(LOG_LEVEL_WARNING, "ignoring the drift file: %s", why);
		break;
	case DRIFTFILE_ERROR:
		log_msg(LOG_LEVEL_WARNING, "cannot read the drift file: %s", why);
		break;
	}
}

/* A writer killed between its temporary file and the rename leaves the
 * temporary behind; one stratad runs at a time (the control socket says so),
 * so any there now is stale. */
static void remove_stale_drift_temps(const struct daemon *d)
{
	char why[PATH_MAX + 128];
	int n;

	if (!d->cfg.driftfile[0])
		return;
	n = driftfile_remove_stale(d->cfg.driftfile, why, sizeof(why));
	if (n > 0)
		log_msg(LOG_LEVEL_NOTICE, "removed %d stale temporary drift file%s next to %s", n, n > 1 ? "s" : "",
			d->cfg.driftfile);
}

/* Every source the engine has, to free; NULL (count 0) when out of memory. */
static struct source_status *collect_sources(struct daemon *d, struct timespec now, size_t *count)
{
	size_t cap = engine_source_capacity(d->engine), n = 0;
	struct source_status *infos = calloc(cap ? cap : 1, sizeof(*infos));

	for (size_t id = 0; infos && id < cap; id++)
		if (engine_source_exists(d->engine, (int)id) && engine_get_source(d->engine, (int)id, now, &infos[n]))
			n++;
	*count = n;
	return infos;
}

/* What the metrics report: the caller frees snap->sources (NULL when out of
 * memory; the source figures are then left out). */
static void take_snapshot(struct daemon *d, struct timespec now, struct engine_tracking *t,
			  struct serve_counters *c, struct metrics_snapshot *snap)
{
	size_t n;
	struct source_status *infos = collect_sources(d, now, &n);

	engine_get_tracking(d->engine, now, t);
	if (d->server)
		server_get_counters(d->server, c);
	*snap = (struct metrics_snapshot){ t, infos, n, d->server ? c : NULL };
}

static void print_metrics(struct daemon *d, struct timespec now, FILE *out, bool json)
{
	struct engine_tracking t;
	struct serve_counters c = { 0 };
	struct metrics_snapshot snap;
	size_t need;
	char *text;

	take_snapshot(d, now, &t, &c, &snap);
	if (json) {
		metrics_json_print(&snap, out);
		free((void *)snap.sources);
		return;
	}
	need = metrics_prometheus_format(&snap, NULL, 0);
	text = malloc(need + 1);
	if (text) {
		metrics_prometheus_format(&snap, text, need + 1);
		fputs(text, out);
	} else {
		fprintf(out, "error: out of memory\n");
	}
	free(text);
	free((void *)snap.sources);
}

static void send_statsd(struct daemon *d, struct timespec now)
{
	struct engine_tracking t;
	struct serve_counters c = { 0 };
	struct metrics_snapshot snap;

	take_snapshot(d, now, &t, &c, &snap);
	statsd_send(&snap, now);
	free((void *)snap.sources);
}

static bool start_statsd(const struct daemon_config *cfg, struct timespec now)
{
	return !cfg->statsd.enabled ||
	       statsd_init(&cfg->statsd.address, cfg->statsd.prefix, cfg->statsd.interval, now);
}

/* The configured sources, then those of the sourcedir (at most
 * SOURCEDIR_MAX_SOURCES, their keys in keys), in an array to free (NULL:
 * out of memory, logged). */
static struct config_source *all_sources(const struct daemon_config *cfg, const struct auth_keyring *keys,
					 size_t *count)
{
	size_t room = cfg->source_count + (cfg->sourcedir[0] ? SOURCEDIR_MAX_SOURCES : 0);
	struct config_source *out = malloc((room ? room : 1) * sizeof(*out));

	*count = 0;
	if (!out) {
		log_msg(LOG_LEVEL_ERROR, "out of memory for the sources");
		return NULL;
	}
	if (cfg->source_count) /* none: cfg->sources is NULL, which memcpy may not take */
		memcpy(out, cfg->sources, cfg->source_count * sizeof(*out));
	*count = cfg->source_count;
	if (cfg->sourcedir[0])
		*count += sourcedir_read(cfg->sourcedir, out + *count, SOURCEDIR_MAX_SOURCES, keys);
	return out;
}

/* The configured sources and the sourcedir's to upstream: those still
 * listed keep their state, the others come and go. Returns how many. */
static size_t reconfigure_sources(struct daemon *d, const struct daemon_config *cfg, struct timespec now)
{
	size_t n;
	struct config_source *entries = all_sources(cfg, &d->keys, &n);

	if (!entries)
		return 0;
	upstream_reconfigure(d->upstream, entries, n, now);
	free(entries);
	return n;
}

/* One command of the control socket: what it is called, whether it changes
 * the daemon (then only root, the daemon's user and the socket's group may
 * run it), and what does it. To add one, write its function and add a row. */
struct control_command {
	const char *name;
	bool changes;
	void (*run)(struct daemon *d, const struct control_request *req, struct timespec now, FILE *out);
};

static bool is_json(const struct control_request *req)
{
	return req->format == CONTROL_JSON;
}

static void cmd_tracking(struct daemon *d, const struct control_request *req, struct timespec now, FILE *out)
{
	struct engine_tracking t;

	engine_get_tracking(d->engine, now, &t);
	status_tracking(out, &t, is_json(req));
}

static void cmd_source_report(struct daemon *d, const struct control_request *req, struct timespec now, FILE *out)
{
	size_t n;
	struct source_status *infos = collect_sources(d, now, &n);

	if (!infos) {
		fprintf(out, "error: out of memory\n");
		return;
	}
	if (!strcmp(req->command, "sources"))
		status_sources(out, infos, n, is_json(req), req->format == CONTROL_VERBOSE);
	else if (!strcmp(req->command, "sourcestats"))
		status_sourcestats(out, infos, n, is_json(req));
	else if (!strcmp(req->command, "authdata"))
		status_authdata(out, infos, n, is_json(req));
	else
		status_selectdata(out, infos, n, is_json(req));
	free(infos);
}

static void cmd_serverstats(struct daemon *d, const struct control_request *req, struct timespec now, FILE *out)
{
	struct serve_counters c = { 0 };

	(void)now;
	if (d->server)
		server_get_counters(d->server, &c);
	status_serverstats(out, &c, d->server != NULL, is_json(req));
}

static void cmd_metrics(struct daemon *d, const struct control_request *req, struct timespec now, FILE *out)
{
	print_metrics(d, now, out, is_json(req));
}

static bool same_host(const struct net_addr *a, const struct net_addr *b)
{
	struct net_addr x = netaddr_unmapped(a), y = netaddr_unmapped(b);

	return x.family == y.family && !memcmp(x.bytes, y.bytes, x.family == AF_INET ? 4 : 16);
}

/* Whether a source is the one an argument names: "all" or "" (every
 * source), its address (with or without the port) or its configured name. */
static bool source_matches(const struct source_status *st, const char *which)
{
	char with_port[NETADDR_TEXT_LEN];
	struct net_addr addr;

	if (!which[0] || !strcmp(which, "all"))
		return true;
	netaddr_format_with_port(&st->addr, with_port, sizeof(with_port));
	if (!strcmp(which, st->name) || !strcmp(which, with_port))
		return true;
	return netaddr_parse(which, &addr) && same_host(&addr, &st->addr);
}

/* The ids of the sources `which` names (at most max); an error line when none. */
static size_t matching_sources(struct daemon *d, const char *which, struct timespec now, int *ids, size_t max,
			       FILE *out)
{
	size_t cap = engine_source_capacity(d->engine), n = 0;
	struct source_status st;

	for (size_t id = 0; id < cap && n < max; id++)
		if (engine_get_source(d->engine, (int)id, now, &st) && source_matches(&st, which))
			ids[n++] = (int)id;
	if (n == 0)
		fprintf(out, "error: no source %s\n", which[0] ? which : "at all");
	return n;
}

static void cmd_online(struct daemon *d, const struct control_request *req, struct timespec now, FILE *out)
{
	int ids[SELECT_MAX_CANDIDATES];
	bool online = !strcmp(req->command, "online");
	size_t n = matching_sources(d, req->args, now, ids, SELECT_MAX_CANDIDATES, out);
	char what[64];

	if (n == 0)
		return;
	for (size_t i = 0; i < n; i++)
		engine_set_online(d->engine, ids[i], online, now);
	log_msg(LOG_LEVEL_NOTICE, "stratactl: %zu source%s %s", n, n == 1 ? "" : "s", online ? "online" : "offline");
	snprintf(what, sizeof(what), "%zu source%s %s", n, n == 1 ? "" : "s", online ? "online" : "offline");
	status_done(out, is_json(req), what);
}

static void cmd_burst(struct daemon *d, const struct control_request *req, struct timespec now, FILE *out)
{
	int ids[SELECT_MAX_CANDIDATES];
	unsigned good, max;
	int used = 0;
	size_t n;
	char what[64];

	if (sscanf(req->args, "%u/%u%n", &good, &max, &used) != 2 || (req->args[used] && req->args[used] != ' ') ||
	    good < 1 || good > max || max > SOURCE_MAX_MANUAL_BURST) {
		fprintf(out, "error: burst wants GOOD/MAX with 1 <= GOOD <= MAX <= %d, then an optional address\n",
			SOURCE_MAX_MANUAL_BURST);
		return;
	}
	n = matching_sources(d, req->args[used] ? req->args + used + 1 : "", now, ids, SELECT_MAX_CANDIDATES, out);
	if (n == 0)
		return;
	for (size_t i = 0; i < n; i++)
		engine_burst(d->engine, ids[i], good, max, now);
	snprintf(what, sizeof(what), "burst %u/%u on %zu source%s", good, max, n, n == 1 ? "" : "s");
	status_done(out, is_json(req), what);
}

static void cmd_makestep(struct daemon *d, const struct control_request *req, struct timespec now, FILE *out)
{
	double offset;
	enum engine_makestep r = engine_makestep(d->engine, now, &offset);
	char what[64];

	if (r != ENGINE_STEPPED) {
		fprintf(out, "error: clock not stepped: %s\n", engine_makestep_str(r));
		return;
	}
	snprintf(what, sizeof(what), "stepped the clock by %+.9f s", offset);
	status_done(out, is_json(req), what);
}

static void cmd_add(struct daemon *d, const struct control_request *req, struct timespec now, FILE *out)
{
	struct config_source src, *grown;
	char why[256], what[CONFIG_NAME_LEN + 32];

	if (source_line_parse(req->args, &src, why, sizeof(why)) < 0) {
		fprintf(out, "error: add: %s\n", why);
		return;
	}
	if (src.key && !auth_keyring_find(&d->keys, src.key)) {
		fprintf(out, "error: add: key %u is not in %s\n", src.key,
			d->cfg.keys[0] ? d->cfg.keys : "the keys file (there is none: keys = \"PATH\";)");
		return;
	}
	for (size_t i = 0; i < d->cfg.source_count; i++)
		if (!strcmp(d->cfg.sources[i].name, src.name) && d->cfg.sources[i].port == src.port) {
			fprintf(out, "error: %s is a source already\n", src.name);
			return;
		}
	grown = realloc(d->cfg.sources, (d->cfg.source_count + 1) * sizeof(*grown));
	if (!grown) {
		fprintf(out, "error: out of memory\n");
		return;
	}
	d->cfg.sources = grown;
	d->cfg.sources[d->cfg.source_count++] = src;
	reconfigure_sources(d, &d->cfg, now);
	log_msg(LOG_LEVEL_NOTICE, "stratactl: added %s %s", src.pool ? "pool" : "server", src.name);
	snprintf(what, sizeof(what), "added %s %s", src.pool ? "pool" : "server", src.name);
	status_done(out, is_json(req), what);
}

static void cmd_delete(struct daemon *d, const struct control_request *req, struct timespec now, FILE *out)
{
	const struct config_source *entry = NULL;
	struct net_addr addr;
	char name[CONFIG_NAME_LEN], what[CONFIG_NAME_LEN + 32];
	size_t kept = 0;

	if (!req->args[0]) {
		fprintf(out, "error: delete wants the address or name of a source\n");
		return;
	}
	if (netaddr_parse(req->args, &addr)) {
		int ids[SELECT_MAX_CANDIDATES];
		size_t n = matching_sources(d, req->args, now, ids, SELECT_MAX_CANDIDATES, out);
		struct source_status st;

		if (n == 0)
			return;
		engine_get_source(d->engine, ids[0], now, &st);
		entry = upstream_entry_of(d->upstream, &st.addr);
		if (entry && entry->pool) {
			fprintf(out, "error: %s is a member of pool %s: delete the pool, or take it offline\n", req->args,
				entry->name);
			return;
		}
	}
	snprintf(name, sizeof(name), "%s", entry ? entry->name : req->args);
	for (size_t i = 0; i < d->cfg.source_count; i++)
		if (strcmp(d->cfg.sources[i].name, name) != 0)
			d->cfg.sources[kept++] = d->cfg.sources[i];
	if (kept == d->cfg.source_count) {
		fprintf(out, "error: no source %s\n", req->args);
		return;
	}
	d->cfg.source_count = kept;
	reconfigure_sources(d, &d->cfg, now);
	log_msg(LOG_LEVEL_NOTICE, "stratactl: deleted %s", name);
	snprintf(what, sizeof(what), "deleted %s", name);
	status_done(out, is_json(req), what);
}

static void cmd_ntpdata(struct daemon *d, const struct control_request *req, struct timespec now, FILE *out)
{
	int ids[SELECT_MAX_CANDIDATES];
	struct source_status st[SELECT_MAX_CANDIDATES];
	struct source_exchange x[SELECT_MAX_CANDIDATES];
	size_t n = matching_sources(d, req->args, now, ids, SELECT_MAX_CANDIDATES, out);

	if (n == 0)
		return;
	for (size_t i = 0; i < n; i++) {
		engine_get_source(d->engine, ids[i], now, &st[i]);
		engine_get_exchange(d->engine, ids[i], &x[i]);
	}
	status_ntpdata(out, st, x, n, is_json(req));
}

static void cmd_activity(struct daemon *d, const struct control_request *req, struct timespec now, FILE *out)
{
	struct status_activity a = { .unresolved = upstream_unresolved(d->upstream) };
	size_t n;
	struct source_status *infos = collect_sources(d, now, &n);

	if (!infos) {
		fprintf(out, "error: out of memory\n");
		return;
	}
	for (size_t i = 0; i < n; i++) {
		if (infos[i].bursting && infos[i].burst_then_offline)
			a.burst_offline++;
		else if (infos[i].bursting)
			a.burst_online++;
		else if (infos[i].offline)
			a.offline++;
		else
			a.online++;
	}
	free(infos);
	status_activity(out, &a, is_json(req));
}

/* The most clients "clients" lists: the reply stays small whatever the table holds. */
#define CONTROL_CLIENTS_MAX 256

static void cmd_clients(struct daemon *d, const struct control_request *req, struct timespec now, FILE *out)
{
	struct ratelimit_client clients[CONTROL_CLIENTS_MAX];
	unsigned max = 64;
	struct timespec mono;
	size_t n = 0;

	(void)now;
	if (req->args[0] && (sscanf(req->args, "%u", &max) != 1 || max < 1 || max > CONTROL_CLIENTS_MAX)) {
		fprintf(out, "error: clients takes the number of clients to list, 1 to %d (default 64)\n",
			CONTROL_CLIENTS_MAX);
		return;
	}
	clock_gettime(CLOCK_MONOTONIC_COARSE, &mono); /* the rate limiter's clock */
	if (d->server)
		n = server_clients(d->server, clients, max);
	status_clients(out, clients, n, d->server != NULL, mono, is_json(req));
}

static void cmd_waitsync(struct daemon *d, const struct control_request *req, struct timespec now, FILE *out)
{
	struct engine_tracking t;

	engine_get_tracking(d->engine, now, &t);
	status_syncstate(out, &t, is_json(req));
}

/* "stratactl reload sources": the sourcedir read again. */
static void cmd_reload(struct daemon *d, const struct control_request *req, struct timespec now, FILE *out)
{
	size_t n;

	if (strcmp(req->args, "sources") != 0) {
		fprintf(out, "error: reload takes one argument: sources\n");
		return;
	}
	n = reconfigure_sources(d, &d->cfg, now);
	log_msg(LOG_LEVEL_INFO, "sources reloaded: %zu configured, %zu from %s", d->cfg.source_count,
		n - d->cfg.source_count, d->cfg.sourcedir[0] ? d->cfg.sourcedir : "no sourcedir");
	if (is_json(req)) {
		struct json_writer w;

		json_writer_init(&w, out);
		json_begin_object(&w, NULL);
		json_integer(&w, "configured", (long long)d->cfg.source_count);
		json_integer(&w, "sourcedir", (long long)(n - d->cfg.source_count));
		json_end_object(&w);
		json_writer_finish(&w);
	} else {
		fprintf(out, "%zu sources: %zu configured, %zu from the sourcedir\n", n, d->cfg.source_count,
			n - d->cfg.source_count);
	}
}

/* "stratactl cyclelogs": the history logs opened again by name (logrotate). */
static void cmd_cyclelogs(struct daemon *d, const struct control_request *req, struct timespec now, FILE *out)
{
	(void)now;
	history_log_reopen(d->history_log);
	if (is_json(req)) {
		struct json_writer w;

		json_writer_init(&w, out);
		json_begin_object(&w, NULL);
		json_bool(&w, "reopened", d->history_log != NULL);
		json_end_object(&w);
		json_writer_finish(&w);
	} else {
		fprintf(out, "history logs %s\n",
			d->history_log ? "reopened" : "off (no log.measurements, log.statistics or log.tracking)");
	}
}

static const struct control_command control_commands[] = {
	{ "tracking", false, cmd_tracking },
	{ "sources", false, cmd_source_report },
	{ "sourcestats", false, cmd_source_report },
	{ "authdata", false, cmd_source_report },
	{ "selectdata", false, cmd_source_report },
	{ "serverstats", false, cmd_serverstats },
	{ "metrics", false, cmd_metrics },
	{ "ntpdata", false, cmd_ntpdata },
	{ "activity", false, cmd_activity },
	{ "clients", false, cmd_clients },
	{ "waitsync", false, cmd_waitsync },
	{ "online", true, cmd_online },
	{ "offline", true, cmd_online },
	{ "burst", true, cmd_burst },
	{ "makestep", true, cmd_makestep },
	{ "add", true, cmd_add },
	{ "delete", true, cmd_delete },
	{ "reload", true, cmd_reload },
	{ "cyclelogs", true, cmd_cyclelogs },
};

static void control_handler(void *ctx, const struct control_request *req, FILE *out)
{
	struct daemon *d = ctx;

	for (size_t i = 0; i < sizeof(control_commands) / sizeof(control_commands[0]); i++) {
		const struct control_command *c = &control_commands[i];

		if (strcmp(req->command, c->name) != 0)
			continue;
		if (c->changes && !req->may_change) {
			fprintf(out, "error: permission denied: \"%s\" changes the daemon, which only root, the user "
				     "stratad runs as and members of its control socket's group may do (%s)\n",
				req->command, d->cfg.control_socket);
			return;
		}
		c->run(d, req, now_of(d), out);
		return;
	}
	fprintf(out, "error: unknown command \"%s\" (see stratactl --help)\n", req->command);
}

/* One line for systemctl status. */
static void status_line(const struct engine_tracking *t, char *buf, size_t len)
{
	if (t->state == SYNC_SYNCHRONIZED)
		snprintf(buf, len, "synchronized to %s, stratum %u", t->reference_name, t->stratum);
	else if (t->state == SYNC_LOCAL)
		snprintf(buf, len, "serving the local clock at stratum %u", t->stratum);
	else
		snprintf(buf, len, "unsynchronized: %s", unsync_reason_str(t->reason));
}

/* The sync state changes are what an operator wants to read in the log; the
 * service manager's status line also follows the system peer and stratum. */
static void note_state(struct daemon *d, struct timespec now)
{
	struct engine_tracking t;
	char line[sizeof(d->status)];

	engine_get_tracking(d->engine, now, &t);
	if (t.state == SYNC_SYNCHRONIZED)
		d->ever_synchronized = true;
	status_line(&t, line, sizeof(line));
	if (strcmp(line, d->status) != 0) {
		memcpy(d->status, line, sizeof(line));
		notify_status(d->status);
	}
	if (t.state == d->last_state && t.reason == d->last_reason)
		return;
	if (t.state == SYNC_SYNCHRONIZED)
		log_msg(LOG_LEVEL_NOTICE, "%s", d->status);
	else if (t.state == SYNC_LOCAL)
		log_msg(LOG_LEVEL_NOTICE, "%s (%s)", d->status, unsync_reason_str(t.reason));
	else if (t.reason != UNSYNC_STARTING)
		log_msg(LOG_LEVEL_WARNING, "%s", d->status);
	d->last_state = t.state;
	d->last_reason = t.reason;
}

/* chrony's logchange: a clock update that found the clock off by more than
 * the threshold is worth a warning. */
static void log_change(struct daemon *d, const struct engine_tracking *t)
{
	double limit = d->cfg.history.logchange;

	switch (history_change(&d->history, t, limit, d->cfg.engine.adjust)) {
	case HISTORY_CHANGE_STEPPED:
		log_msg(LOG_LEVEL_WARNING, "clock stepped by %+.6f s (more than logchange %g s)", t->last_offset, limit);
		break;
	case HISTORY_CHANGE_SLEWING:
		log_msg(LOG_LEVEL_WARNING, "clock off by %+.6f s (more than logchange %g s): slewing", t->last_offset,
			limit);
		break;
	case HISTORY_CHANGE_NOT_ADJUSTED:
		log_msg(LOG_LEVEL_WARNING, "clock off by %+.6f s (more than logchange %g s): not adjusted (%s)",
			t->last_offset, limit, d->no_adjust ? "-x" : "clock.adjust = false");
		break;
	case HISTORY_CHANGE_NONE:
		break;
	}
}

/* The history logs' lines for what happened since the last pass: a clock
 * update, and (when replies came in) the sources' new samples. */
static void record_history(struct daemon *d, struct timespec now, bool replies)
{
	struct engine_tracking t;
	size_t cap = engine_source_capacity(d->engine);

	engine_get_tracking(d->engine, now, &t);
	if (history_clock_updated(&d->history, &t)) {
		history_log_tracking(d->history_log, &t);
		log_change(d, &t);
	}
	if (!replies || (!history_log_wants(d->history_log, HISTORY_MEASUREMENTS) &&
			 !history_log_wants(d->history_log, HISTORY_STATISTICS)))
		return;
	for (size_t id = 0; id < cap && id < HISTORY_MAX_SOURCES; id++) {
		struct source_status s;
		struct timespec rx;

		if (!engine_source_exists(d->engine, (int)id) || !engine_get_source(d->engine, (int)id, now, &s)) {
			history_forget(&d->history, (int)id);
			continue;
		}
		if (history_sample_arrived(&d->history, (int)id, &s, now, &rx)) {
			history_log_measurement(d->history_log, &s, rx);
			history_log_statistics(d->history_log, &s, now);
		}
	}
}

static void publish(struct daemon *d)
{
	struct engine_system sys;

	if (!d->server)
		return;
	engine_get_system(d->engine, &sys);
	server_publish(d->server, &sys);
}

static void set_log_sink(const struct daemon_config *cfg, bool foreground, bool debug)
{
	enum log_level level = debug ? LOG_LEVEL_DEBUG : cfg->log_level;

	if (foreground || !cfg->log_syslog)
		logsink_use_stderr("stratad", level);
	else
		logsink_use_syslog("stratad", level);
}

/* A reload applies the sources (the sourcedir, nts_trusted_certs and
 * nts_dumpdir with them), logging and the history logs, statsd, the clock's
 * step policy, quorum, limits, max_clock_error and local_stratum, the leap
 * tables and leap_mode, and, when the server took them
 * (serve_reloaded), its access lists and rate limits; the rest
 * (restart_only_changes) is what the running engine, sockets and processes
 * were built from, kept from the running configuration. next becomes the
 * merge, owning its lists; what running still owns is the caller's to free. */
static void keep_running_settings(struct daemon_config *running, struct daemon_config *next, bool serve_reloaded)
{
	struct daemon_config merged = *running;
	struct engine_config *e = &merged.engine;
	struct serve_config *sv = &merged.serve;

	/* the new sources move to the merge; the old stay with running */
	merged.sources = next->sources;
	merged.source_count = next->source_count;
	next->sources = NULL;
	next->source_count = 0;
	/* the listen addresses stay (restart-only): running's move to the merge */
	running->serve.listen = NULL;
	running->serve.listen_count = 0;
	free(next->serve.listen);
	next->serve.listen = NULL;
	next->serve.listen_count = 0;
	merged.history = next->history;
	memcpy(merged.sourcedir, next->sourcedir, sizeof(merged.sourcedir));
	/* upstream takes these for its next key exchange and dump (reload) */
	memcpy(merged.nts_trusted_certs, next->nts_trusted_certs, sizeof(merged.nts_trusted_certs));
	memcpy(merged.nts_dumpdir, next->nts_dumpdir, sizeof(merged.nts_dumpdir));
	/* reload read the list again (load_leap_tables); the zone stays */
	memcpy(merged.leapsecond_list, next->leapsecond_list, sizeof(merged.leapsecond_list));
	merged.leapsecond_list_where = next->leapsecond_list_where;
	e->leap_mode = next->engine.leap_mode;
	merged.log_level = next->log_level;
	merged.log_syslog = next->log_syslog;
	merged.statsd = next->statsd;
	e->step_threshold = next->engine.step_threshold;
	e->stepout = next->engine.stepout;
	e->max_steps = next->engine.max_steps;
	e->minsources = next->engine.minsources;
	e->max_distance = next->engine.max_distance;
	e->max_jitter = next->engine.max_jitter;
	e->local_stratum = next->engine.local_stratum;
	e->max_clock_error_ppm = next->engine.max_clock_error_ppm;
	if (serve_reloaded) {
		/* the new lists move to the merge; the old stay with running */
		sv->allow = next->serve.allow;
		sv->allow_count = next->serve.allow_count;
		sv->deny = next->serve.deny;
		sv->deny_count = next->serve.deny_count;
		sv->ratelimit_interval = next->serve.ratelimit_interval;
		sv->ratelimit_burst = next->serve.ratelimit_burst;
		sv->ratelimit_kod = next->serve.ratelimit_kod;
		sv->ratelimit_table_size = next->serve.ratelimit_table_size;
	} else {
		/* the running lists move to the merge; the unused new ones go */
		config_free(next);
		running->serve.allow = running->serve.deny = NULL;
		running->serve.allow_count = running->serve.deny_count = 0;
	}
	*next = merged;
}

static bool same_nts_server(const struct serve_nts_config *a, const struct serve_nts_config *b)
{
	return a->enabled == b->enabled && !strcmp(a->certificate, b->certificate) && !strcmp(a->key, b->key) &&
	       a->port == b->port && a->rotate == b->rotate && !strcmp(a->keys_file, b->keys_file) &&
	       a->max_connections == b->max_connections && a->timeout == b->timeout &&
	       !strcmp(a->ntp_server, b->ntp_server) && a->ntp_port == b->ntp_port;
}

/* The addresses alone: a new port is serve.port's change. */
static bool same_listen(const struct serve_config *a, const struct serve_config *b)
{
	if (a->listen_count != b->listen_count)
		return false;
	for (size_t i = 0; i < a->listen_count; i++) {
		struct net_addr x = a->listen[i], y = b->listen[i];

		x.port = y.port = 0;
		if (!netaddr_equal(&x, &y))
			return false;
	}
	return true;
}

/* The settings that changed and take effect only at the next start (why, in
 * stratad.conf(5) RELOADING), as "a, b, c"; "" when none. */
static void restart_only_changes(const struct daemon_config *running, const struct daemon_config *next, char *out,
				 size_t len)
{
	const struct engine_config *a = &running->engine, *b = &next->engine;
	const struct serve_config *x = &running->serve, *y = &next->serve;
	const struct { bool changed; const char *name; } settings[] = {
		{ a->adjust != b->adjust, "clock.adjust" },
		{ a->panic_threshold != b->panic_threshold, "clock.panic_threshold" },
		{ a->allow_initial_insane_step != b->allow_initial_insane_step, "clock.allow_initial_insane_step" },
		{ strcmp(running->driftfile, next->driftfile) != 0, "clock.driftfile" },
		{ running->refclock_count != next->refclock_count ||
			  memcmp(running->refclocks, next->refclocks, running->refclock_count * sizeof(running->refclocks[0])),
		  "refclocks" },
		{ x->enabled != y->enabled, "serve (the section)" },
		{ x->enabled && y->enabled && !same_listen(x, y), "serve.listen" },
		{ x->enabled && y->enabled && x->port != y->port, "serve.port" },
		{ x->enabled && y->enabled && x->threads != y->threads, "serve.threads" },
		{ x->enabled && y->enabled && x->rcvbuf != y->rcvbuf, "serve.rcvbuf" },
		{ x->enabled && y->enabled && !same_nts_server(&x->nts, &y->nts), "serve.nts" },
		{ strcmp(running->control_socket, next->control_socket) != 0, "control.socket" },
		{ strcmp(running->user, next->user) != 0, "user" },
		{ strcmp(running->pidfile, next->pidfile) != 0, "pidfile" },
		{ strcmp(running->keys, next->keys) != 0, "keys" },
		{ strcmp(running->leapsectz, next->leapsectz) != 0, "clock.leapsectz" },
		{ memcmp(&a->leap_smear, &b->leap_smear, sizeof(a->leap_smear)) != 0, "serve.leap_smear" },
		{ running->slew_by_frequency != next->slew_by_frequency, "clock.slew_method" },
		{ running->max_slew_rate != next->max_slew_rate, "clock.max_slew_rate" },
		{ running->seccomp != next->seccomp, "security.seccomp" },
		{ running->clock_process != next->clock_process, "security.clock_process" },
	};
	size_t used = 0;

	out[0] = '\0';
	for (size_t i = 0; i < sizeof(settings) / sizeof(settings[0]) && used < len; i++)
		if (settings[i].changed)
			used += (size_t)snprintf(out + used, len - used, "%s%s", used ? ", " : "", settings[i].name);
}

/* The leap tables the configuration names (clock.leapsecond_list, then
 * clock.leapsectz): a list that does not parse, or a zone without leap
 * seconds, is a configuration error ("FILE:LINE: setting: why" in err). The list
 * is read at start and at each reload; the zone only at start: reading it
 * sets TZ, which other threads' getenv (the resolver's) may read at the same
 * time, so a reload (reloading) takes the running zone's table, running_zone
 * (NULL: none), whatever the file says. */
static int load_leap_tables(const struct daemon_config *cfg, bool reloading, const struct leap_table *running_zone,
			    struct leap_table tables[2], size_t *count, char *err, size_t err_len)
{
	struct timespec now;
	char why[400];

	clock_gettime(CLOCK_REALTIME, &now);
	*count = 0;
	if (cfg->leapsecond_list[0]) {
		if (leap_load_list(cfg->leapsecond_list, &tables[*count], why, sizeof(why)) < 0) {
			snprintf(err, err_len, "%s:%u: clock.leapsecond_list: %s", cfg->leapsecond_list_where.file,
				 cfg->leapsecond_list_where.line, why);
			return -1;
		}
		(*count)++;
	}
	if (reloading) {
		if (running_zone)
			tables[(*count)++] = *running_zone;
	} else if (cfg->leapsectz[0]) {
		if (leap_load_tz(cfg->leapsectz, now.tv_sec, &tables[*count], why, sizeof(why)) < 0) {
			snprintf(err, err_len, "%s:%u: clock.leapsectz: %s", cfg->leapsectz_where.file,
				 cfg->leapsectz_where.line, why);
			return -1;
		}
		(*count)++;
	}
	return 0;
}

/* Gives the engine the tables and says what they are, as tracking shows them. */
static void apply_leap_tables(struct daemon *d, struct timespec now)
{
	struct engine_tracking t;
	char table[96], next[64];

	engine_set_leap_tables(d->engine, d->leap_tables, d->leap_table_count);
	if (d->cfg.leapsecond_list[0] && now.tv_sec >= d->leap_tables[0].expires)
		log_msg(LOG_LEVEL_WARNING, "%s expired %lld days ago: not used (update tzdata); leap seconds come from %s",
			d->cfg.leapsecond_list, (long long)(now.tv_sec - d->leap_tables[0].expires) / 86400,
			d->cfg.leapsectz[0] ? d->cfg.leapsectz : "the sources");
	engine_get_tracking(d->engine, now, &t);
	if (!t.leap_table_expires || t.leap_table_expired)
		return; /* none, or the expired list the warning named */
	status_leap_table_str(table, sizeof(table), &t);
	status_next_leap_str(next, sizeof(next), &t);
	log_msg(LOG_LEVEL_INFO, "leap seconds from %s%s%s: table %s, next leap %s, leap_mode %s",
		d->cfg.leapsecond_list, d->cfg.leapsecond_list[0] && d->cfg.leapsectz[0] ? " and " : "",
		d->cfg.leapsectz, table, next, leap_mode_str(d->cfg.engine.leap_mode));
}

/* SIGHUP: the new file replaces the running configuration only when valid,
 * its leap tables included. */
static void reload(struct daemon *d)
{
	struct daemon_config next;
	struct leap_table leap_tables[2];
	size_t leap_table_count;
	char err[1024], restart[512];
	bool serve_reloaded;

	notify_reloading();
	history_log_reopen(d->history_log); /* logrotate's signal, whatever the file says */
	if (config_reload(d->config_path, &next, err, sizeof(err)) < 0) {
		log_msg(LOG_LEVEL_ERROR, "configuration not reloaded, keeping the running one: %s", err);
		notify_ready(d->status);
		return;
	}
	if (d->no_adjust)
		next.engine.adjust = false;
	/* The keys were read as root at the start; new sources use those. */
	if (config_check_keys(&next, d->config_path, &d->keys, err, sizeof(err)) < 0) {
		log_msg(LOG_LEVEL_ERROR, "configuration not reloaded, keeping the running one: %s", err);
		config_free(&next);
		notify_ready(d->status);
		return;
	}
	/* serve.leap_smear stays as started (restart_only_changes): the file's
	 * own check cannot see that pair */
	if (d->cfg.engine.leap_smear.shape != LEAP_SMEAR_OFF && next.engine.leap_mode == LEAP_MODE_SLEW) {
		log_msg(LOG_LEVEL_ERROR,
			"configuration not reloaded, keeping the running one: clock.leap_mode slew: the running "
			"serve.leap_smear (changed only by a restart) needs system, step or ignore");
		config_free(&next);
		notify_ready(d->status);
		return;
	}
	if (load_leap_tables(&next, true, d->cfg.leapsectz[0] ? &d->leap_tables[d->leap_table_count - 1] : NULL, leap_tables,
			     &leap_table_count, err, sizeof(err)) < 0) {
		log_msg(LOG_LEVEL_ERROR,
			"configuration not reloaded, keeping the running one and its leap tables: %s", err);
		config_free(&next);
		notify_ready(d->status);
		return;
	}
	upstream_set_nts(d->upstream, d->nts_ke, next.nts_trusted_certs, next.nts_dumpdir);
	reconfigure_sources(d, &next, now_of(d));
	/* The StatsD counters restart only when the collector or the names change. */
	if (memcmp(&next.statsd, &d->cfg.statsd, sizeof(next.statsd)) != 0) {
		statsd_fini();
		if (!start_statsd(&next, now_of(d))) {
			log_msg(LOG_LEVEL_ERROR, "statsd: not sending metrics until the next reload");
			next.statsd.enabled = false; /* the loop asks statsd only while it runs */
		}
	}
	engine_reconfigure(d->engine, &next.engine);
	serve_reloaded = d->server && d->cfg.serve.enabled && next.serve.enabled;
	if (serve_reloaded && server_reconfigure(d->server, &next.serve, err, sizeof(err)) < 0) {
		log_msg(LOG_LEVEL_ERROR, "%s: keeping the running access lists and rate limits", err);
		serve_reloaded = false;
	}
	restart_only_changes(&d->cfg, &next, restart, sizeof(restart));
	if (restart[0])
		log_msg(LOG_LEVEL_NOTICE, "reloaded; these changes take effect at the next start: %s", restart);
	/* The rest is what the running engine, sockets and processes were built from. */
	keep_running_settings(&d->cfg, &next, serve_reloaded);
	if (memcmp(&next.history, &d->cfg.history, sizeof(next.history)) != 0) {
		history_log_close(d->history_log);
		d->history_log = history_log_open(&next.history);
	}
	config_free(&d->cfg);
	d->cfg = next;
	set_log_sink(&d->cfg, d->foreground, d->debug);
	memcpy(d->leap_tables, leap_tables, sizeof(leap_tables));
	d->leap_table_count = leap_table_count;
	apply_leap_tables(d, now_of(d));
	log_msg(LOG_LEVEL_INFO, "configuration reloaded from %s", d->config_path);
	notify_ready(d->status);
}

static int poll_timeout_ms(struct timespec now, struct timespec due)
{
	double wait = timespec_diff(due, now);

	if (wait <= 0)
		return 0;
	if (wait > 3600)
		wait = 3600;
	/* Round up: waking a little early would only find nothing due and poll again. */
	return (int)ceil(wait * 1000.0);
}

static struct timespec earliest(struct timespec a, struct timespec b)
{
	return timespec_diff(a, b) <= 0 ? a : b;
}

/* Runs the clock's own housekeeping when due (the end of a slew through the
 * frequency), here when the clock is in this process: a clock process keeps
 * its own time (clock_server_run). The time it next wants it in *next. */
static bool clock_tick(struct daemon *d, struct timespec now, struct timespec *next)
{
	const struct clock_ops *c = &d->real_clock;

	if (!c->next_tick || !c->next_tick(c->ctx, next))
		return false;
	if (timespec_diff(now, *next) >= 0) {
		c->tick(c->ctx);
		return c->next_tick(c->ctx, next);
	}
	return true;
}

static void run(struct daemon *d)
{
	struct pollfd *fds = NULL;
	size_t fds_cap = 0;
	/* the listen addresses are fixed while running */
	size_t server_fd_count = d->server ? server_socket_count(d->server) : 0;
	int *server_fds = malloc((server_fd_count ? server_fd_count : 1) * sizeof(server_fds[0]));

	if (!server_fds) {
		log_msg(LOG_LEVEL_ERROR, "out of memory for the poll set");
		return;
	}

	unblock_signals();
	for (;;) {
		struct timespec now, due, tick;
		size_t n = 0, up_first, up_n, rc_first, rc_n, srv_first, srv_n = 0, ctl_first, ctl_n, res_index = 0, ke_index = 0;
		int timeout;
		bool resolving, key_exchanging, replies = false;
		size_t needed;

		if (stop_signal) {
			log_msg(LOG_LEVEL_NOTICE, "exiting on signal %d", (int)stop_signal);
			notify_stopping();
			break;
		}
		if (reload_signal) {
			reload_signal = 0;
			reload(d);
		}
		now = now_of(d);
		refclocks_run(d->refclocks, now);
		upstream_send_due(d->upstream, now);
		upstream_maintain(d->upstream, now);
		/* one descriptor per source, and the sources have no fixed number */
		needed = DAEMON_POLLFDS_BESIDES_SOURCES + server_fd_count + upstream_socket_count(d->upstream);
		if (fds_cap < needed) {
			size_t cap = 2 * needed;
			struct pollfd *grown = realloc(fds, cap * sizeof(fds[0]));

			if (!grown) {
				log_msg(LOG_LEVEL_ERROR, "out of memory for the poll set");
				break;
			}
			fds = grown;
			fds_cap = cap;
		}
		if (timespec_diff(now, d->next_drift_write) >= 0) {
			save_drift(d);
			d->next_drift_write = timespec_add(now, DAEMON_DRIFT_INTERVAL);
		}
		due = earliest(engine_next_wakeup(d->engine), upstream_next_wakeup(d->upstream, now));
		due = earliest(due, d->next_drift_write);
		if (clock_tick(d, now, &tick))
			due = earliest(due, tick);
		if (d->refclocks)
			due = earliest(due, refclocks_next_wakeup(d->refclocks, now));
		if (d->cfg.statsd.enabled) {
			if (statsd_due(now))
				send_statsd(d, now);
			due = earliest(due, statsd_next_due(now));
		}

		/* only while a lookup is out (the reload and upstream_maintain
		 * above may have started one): clknetsim reads a pipe as always ready */
		resolving = resolver_busy(d->resolver);
		if (resolving) {
			res_index = n;
			fds[n++] = (struct pollfd){ .fd = resolver_fd(d->resolver), .events = POLLIN };
		}
		key_exchanging = nts_ke_worker_busy(d->nts_ke);
		if (key_exchanging) {
			ke_index = n;
			fds[n++] = (struct pollfd){ .fd = nts_ke_worker_fd(d->nts_ke), .events = POLLIN };
		}
		up_first = n;
		up_n = upstream_pollfds(d->upstream, fds + n, fds_cap - n);
		n += up_n;
		rc_first = n;
		rc_n = refclocks_pollfds(d->refclocks, fds + n, fds_cap - n);
		n += rc_n;
		srv_first = n;
		if (d->server) {
			size_t k = server_poll_fds(d->server, server_fds, server_fd_count);

			for (size_t i = 0; i < k && n < fds_cap; i++, srv_n++)
				fds[n++] = (struct pollfd){ .fd = server_fds[i], .events = POLLIN };
		}
		ctl_first = n;
		ctl_n = d->control ? control_pollfds(d->control, fds + n, fds_cap - n) : 0;
		n += ctl_n;

		if (stop_signal || reload_signal)
			continue; /* came in while the above ran: see to it before sleeping */
		timeout = poll_timeout_ms(now, due);
		if (d->control) {
			int ctl_timeout = control_timeout_ms(d->control);

			if (ctl_timeout >= 0 && (timeout < 0 || ctl_timeout < timeout))
				timeout = ctl_timeout;
		}
		if (poll(fds, n, timeout) < 0) {
			if (errno == EINTR)
				continue;
			log_msg(LOG_LEVEL_ERROR, "poll: %s", strerror(errno));
			break;
		}
		now = now_of(d);
		if (resolving && fds[res_index].revents) {
			struct resolver_result result;

			while (resolver_take(d->resolver, &result))
				upstream_resolved(d->upstream, &result, now);
		}
		if (key_exchanging && fds[ke_index].revents) {
			struct nts_ke_outcome outcome;

			while (nts_ke_worker_take(d->nts_ke, &outcome))
				upstream_nts_outcome(d->upstream, &outcome, now);
		}
		upstream_dispatch(d->upstream, fds + up_first, up_n);
		for (size_t i = 0; i < up_n && !replies; i++)
			replies = fds[up_first + i].revents != 0;
		refclocks_dispatch(d->refclocks, fds + rc_first, rc_n, now);
		for (size_t i = 0; i < srv_n; i++)
			if (fds[srv_first + i].revents)
				server_handle_ready(d->server, fds[srv_first + i].fd, fds[srv_first + i].revents);
		if (ctl_n)
			control_dispatch(d->control, fds + ctl_first, ctl_n);
		/* Every pass, not only after a reply: polls that go unanswered,
		 * pool replacement and reloads change the engine's state too. */
		publish(d);
		note_state(d, now);
		record_history(d, now, replies);
	}
	free(fds);
	free(server_fds);
}

static int write_pidfile(const char *path, uid_t uid, gid_t gid)
{
	FILE *f;

	if (!path[0])
		return 0;
	if (path_make_parent_dir(path, uid, gid) < 0)
		return -1;
	f = fopen(path, "we");
	if (!f)
		return -1;
	fprintf(f, "%ld\n", (long)getpid());
	return fclose(f);
}

/* Only the changes need the privilege: with adjusting on (and not asked to
 * keep it in this process), a clock process makes them. */
static int start_clock_process(struct daemon *d)
{
	struct clock_limits limits;
	char why[512];

	if (!d->cfg.engine.adjust || !d->cfg.clock_process)
		return 0;
	limits = clock_limits_for(d->cfg.engine.panic_threshold, d->cfg.engine.allow_initial_insane_step);
	if (privsep_start_clock(&d->privsep, &d->real_clock, &limits, d->cfg.user, d->cfg.seccomp, why,
				sizeof(why)) < 0) {
		log_msg(LOG_LEVEL_ERROR, "%s", why);
		return -1;
	}
	return 0;
}

/* Started as root, the files in a root-owned directory can only be removed
 * by root: the janitor keeps uid 0 for that. */
static int start_janitor(struct daemon *d)
{
	const char *paths[PRIVSEP_JANITOR_PATHS] = { d->pidfile, d->control ? d->cfg.control_socket : "" };
	char why[512];

	if (privsep_start_janitor(&d->privsep, paths, d->cfg.seccomp, why, sizeof(why)) < 0) {
		log_msg(LOG_LEVEL_ERROR, "%s", why);
		return -1;
	}
	return 0;
}

static bool history_wanted(const struct config_history *h)
{
	return h->measurements || h->statistics || h->tracking;
}

/* The directory itself, mode 0755, given to the daemon's user. */
static int make_history_dir(const char *dir, uid_t uid, gid_t gid)
{
	char inside[CONFIG_PATH_LEN + 2];

	snprintf(inside, sizeof(inside), "%s/x", dir);
	return path_make_parent_dir(inside, uid, gid);
}

static int setup(struct daemon *d, const struct options *opt)
{
	char why[512];
	uid_t uid = (uid_t)-1;
	gid_t gid = (gid_t)-1;
	uint64_t seed;
	struct timespec now;
	struct engine_tracking tracking;
	bool root = geteuid() == 0, keep_sys_time;
	struct config_source *entries;
	size_t entry_count;

	if (root && !privdrop_lookup(d->cfg.user, &uid, &gid, why, sizeof(why))) {
		log_msg(LOG_LEVEL_ERROR, "%s", why);
		return -1;
	}
	d->linux_clock = linux_clock_create(NULL, d->cfg.engine.adjust);
	if (!d->linux_clock) {
		log_msg(LOG_LEVEL_ERROR, "out of memory");
		return -1;
	}
	linux_clock_set_slew_method(d->linux_clock,
				    d->cfg.slew_by_frequency ? LINUX_CLOCK_SLEW_FREQUENCY : LINUX_CLOCK_SLEW_ADJTIME,
				    d->cfg.max_slew_rate);
	d->real_clock = linux_clock_ops(d->linux_clock);
	if (start_clock_process(d) < 0)
		return -1;
	d->clock = (struct clock_ops){ .ctx = d, .read = clock_read, .step = clock_step, .slew = clock_slew,
				       .slew_state = clock_slew_state,
				       .set_frequency = clock_set_frequency, .set_status = clock_set_status,
				       .max_frequency_ppm = d->real_clock.max_frequency_ppm,
				       .max_slew_ppm = d->real_clock.max_slew_ppm };
	if (!d->cfg.engine.adjust)
		log_msg(LOG_LEVEL_NOTICE, "not adjusting the clock (%s): measuring, selecting and serving only",
			opt->no_adjust ? "-x" : "clock.adjust = false");
	load_drift(d);
	d->cfg.engine.precision = measure_precision();
	if (getrandom(&seed, sizeof(seed), 0) == sizeof(seed))
		d->cfg.engine.random_seed = seed;
	now = now_of(d);
	d->engine = engine_create(&d->cfg.engine, &d->clock, now);
	if (!d->engine) {
		log_msg(LOG_LEVEL_ERROR, "out of memory");
		return -1;
	}
	apply_leap_tables(d, now);
	if (d->cfg.serve.enabled) {
		d->server = server_create(&d->cfg.serve, &d->keys, why, sizeof(why));
		if (!d->server) {
			log_msg(LOG_LEVEL_ERROR, "cannot serve: %s", why);
			return -1;
		}
	}
	listenfds_close(); /* the service manager's sockets: copies taken, the rest unused */
	if (d->cfg.control_socket[0]) {
		d->control = control_create(d->cfg.control_socket, uid, gid, control_handler, d, why, sizeof(why));
		if (!d->control) {
			log_msg(LOG_LEVEL_ERROR, "control socket: %s", why);
			return -1;
		}
	} else {
		log_msg(LOG_LEVEL_INFO, "no control socket configured: stratactl cannot reach this daemon");
	}
	remove_stale_drift_temps(d);
	if (write_pidfile(d->cfg.pidfile, uid, gid) < 0)
		log_msg(LOG_LEVEL_WARNING, "cannot write the pid file %s: %s", d->cfg.pidfile, strerror(errno));
	else
		snprintf(d->pidfile, sizeof(d->pidfile), "%s", d->cfg.pidfile);
	/* The history logs are opened after the drop, and again at each cyclelogs: their directory must be ours. */
	if (root && history_wanted(&d->cfg.history) && make_history_dir(d->cfg.history.dir, uid, gid) < 0)
		log_msg(LOG_LEVEL_WARNING, "cannot create the history logs' directory %s: %s", d->cfg.history.dir,
			strerror(errno));
	/* The drift file is written after the drop: its directory must be ours then. */
	if (root && d->cfg.driftfile[0] && path_make_parent_dir(d->cfg.driftfile, uid, gid) < 0)
		log_msg(LOG_LEVEL_WARNING, "cannot create the drift file's directory: %s", strerror(errno));
	if (root && d->cfg.serve.nts.enabled && d->cfg.serve.nts.keys_file[0] &&
	    path_make_parent_dir(d->cfg.serve.nts.keys_file, uid, gid) < 0)
		log_msg(LOG_LEVEL_WARNING, "cannot create the NTS key file's directory: %s", strerror(errno));
	/* nts_dumpdir too: written by the engine, which holds keys in it */
	if (root && d->cfg.nts_dumpdir[0]) {
		char inside[CONFIG_PATH_LEN + 4];

		snprintf(inside, sizeof(inside), "%s/x", d->cfg.nts_dumpdir);
		if (path_make_parent_dir(inside, uid, gid) < 0)
			log_msg(LOG_LEVEL_WARNING, "cannot create nts_dumpdir %s: %s", d->cfg.nts_dumpdir,
				strerror(errno));
	}
	if (root && start_janitor(d) < 0)
		return -1;
	/* The devices and SHM units 0 and 1 are root's: opened before the drop. */
	if (d->cfg.refclock_count) {
		d->refclocks = refclocks_create(d->cfg.refclocks, d->cfg.refclock_count, refclock_ioctl_system, why,
						sizeof(why));
		if (!d->refclocks) {
			log_msg(LOG_LEVEL_ERROR, "%s", why);
			return -1;
		}
		if (refclocks_start(d->refclocks, d->engine, now) < 0) {
			log_msg(LOG_LEVEL_ERROR, "too many sources for the engine");
			return -1;
		}
	}
	/* With a clock process, it alone keeps CAP_SYS_TIME. */
	keep_sys_time = d->cfg.engine.adjust && !d->privsep.clock_pid;
	if (privdrop_switch(d->cfg.user, keep_sys_time, why, sizeof(why)) < 0) {
		log_msg(LOG_LEVEL_ERROR, "%s", why);
		return -1;
	}
	if (root)
		log_msg(LOG_LEVEL_INFO, "running as %s with %s", d->cfg.user,
			keep_sys_time ? "CAP_SYS_TIME only" : "no capabilities");
	history_init(&d->history);
	d->history_log = history_log_open(&d->cfg.history);
	/* Threads start after the drop, so they hold no more than the process. */
	d->resolver = resolver_create();
	if (!d->resolver) {
		log_msg(LOG_LEVEL_ERROR, "cannot start the resolver thread");
		return -1;
	}
	/* before the seccomp filter too: it allows no new threads */
	d->nts_ke = nts_ke_worker_create();
	if (!d->nts_ke) {
		log_msg(LOG_LEVEL_ERROR, "cannot start the NTS key exchange thread");
		return -1;
	}
	if (d->server && server_start(d->server, why, sizeof(why)) < 0) {
		log_msg(LOG_LEVEL_ERROR, "cannot serve: %s", why);
		return -1;
	}
	entries = all_sources(&d->cfg, &d->keys, &entry_count);
	if (!entries)
		return -1;
	if (entry_count == 0 && d->cfg.refclock_count == 0)
		log_msg(LOG_LEVEL_WARNING, "no sources configured: nothing to synchronize to");
	d->upstream = upstream_create(d->engine, d->resolver, &d->clock, &d->cfg.serve, &d->keys, entries,
				      entry_count, now);
	free(entries);
	if (!d->upstream) {
		log_msg(LOG_LEVEL_ERROR, "out of memory");
		return -1;
	}
	upstream_set_nts(d->upstream, d->nts_ke, d->cfg.nts_trusted_certs, d->cfg.nts_dumpdir);
	d->last_state = SYNC_UNSYNCHRONIZED;
	d->last_reason = UNSYNC_STARTING;
	d->next_drift_write = timespec_add(now, DAEMON_DRIFT_INTERVAL);
	publish(d);
	if (!start_statsd(&d->cfg, now))
		return -1;
	if (d->cfg.seccomp &&
	    seccomp_filter_install(d->cfg.engine.adjust && !d->cfg.clock_process ? SECCOMP_ENGINE_WITH_CLOCK
										  : SECCOMP_ENGINE,
				   why, sizeof(why)) < 0) {
		log_msg(LOG_LEVEL_ERROR, "%s", why);
		return -1;
	}
	server_release(d->server, d->cfg.seccomp);
	/* Configuration loaded, sockets bound, privileges dropped: ready. */
	engine_get_tracking(d->engine, now, &tracking);
	status_line(&tracking, d->status, sizeof(d->status));
	notify_ready(d->status);
	return 0;
}

static void teardown(struct daemon *d)
{
	if (d->engine)
		save_drift(d);
	statsd_fini();
	history_log_close(d->history_log);
	upstream_destroy(d->upstream);
	refclocks_destroy(d->refclocks);
	control_destroy(d->control);
	server_destroy(d->server);
	resolver_destroy(d->resolver);
	nts_ke_worker_destroy(d->nts_ke);
	if (d->engine)
		engine_destroy(d->engine);
	if (d->linux_clock)
		linux_clock_destroy(d->linux_clock);
	auth_keyring_free(&d->keys);
	config_free(&d->cfg);
	/* only our own: a second instance that failed to start leaves the first's */
	if (d->pidfile[0])
		unlink(d->pidfile);
	privsep_stop(&d->privsep);
}

int main(int argc, char **argv)
{
	struct options opt;
	struct daemon d = { 0 };
	char err[1024];
	int status;

	if (parse_options(argc, argv, &opt) < 0)
		return DAEMON_EXIT_CONFIG;
	if (config_load(opt.config_path, &d.cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return DAEMON_EXIT_CONFIG;
	}
	if (opt.no_adjust)
		d.cfg.engine.adjust = false;
	if ((d.cfg.keys[0] && auth_keyfile_load(d.cfg.keys, &d.keys, err, sizeof(err)) < 0) ||
	    config_check_keys(&d.cfg, opt.config_path, &d.keys, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		auth_keyring_free(&d.keys);
		config_free(&d.cfg);
		return DAEMON_EXIT_CONFIG;
	}
	if (load_leap_tables(&d.cfg, false, NULL, d.leap_tables, &d.leap_table_count, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		auth_keyring_free(&d.keys);
		config_free(&d.cfg);
		return DAEMON_EXIT_CONFIG;
	}
	if (opt.check_config) {
		auth_keyring_free(&d.keys);
		config_print(&d.cfg, stdout);
		config_free(&d.cfg);
		return 0;
	}
	d.config_path = opt.config_path;
	d.foreground = opt.foreground;
	d.no_adjust = opt.no_adjust;
	d.debug = opt.debug;
	if (install_signals() < 0) {
		fprintf(stderr, "stratad: cannot install signal handlers: %s\n", strerror(errno));
		return 1;
	}
	if (!opt.foreground && detach_start() < 0) {
		fprintf(stderr, "stratad: cannot detach: %s\n", strerror(errno));
		return 1;
	}
	set_log_sink(&d.cfg, opt.foreground, opt.debug);
	log_msg(LOG_LEVEL_INFO, "starting with %s", opt.config_path);
	status = setup(&d, &opt) == 0 ? 0 : 1;
	detach_done(status);
	if (status == 0)
		run(&d);
	teardown(&d);
	logsink_fini();
	return status;
}
