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
#include "engine.h"
#include "linux_clock.h"
#include "listenfds.h"
#include "log.h"
#include "logsink.h"
#include "metrics.h"
#include "notify.h"
#include "ntp_time.h"
#include "privdrop.h"
#include "privsep.h"
#include "resolver.h"
#include "seccomp_filter.h"
#include "server.h"
#include "statsd.h"
#include "status.h"
#include "upstream.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif

#define DAEMON_DRIFT_INTERVAL 3600.0
#define DAEMON_MAX_POLLFDS 160
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
	struct server *server;
	struct control *control;
	bool ever_synchronized;
	enum sync_state last_state;
	enum unsync_reason last_reason;
	struct timespec next_drift_write;
	char status[160];             /* the service manager's STATUS= line */
	char pidfile[CONFIG_PATH_LEN]; /* the one we wrote, "" if none */
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

	if (!d->cfg.driftfile[0] || !d->ever_synchronized || !d->cfg.engine.adjust)
		return;
	if (driftfile_write(d->cfg.driftfile, engine_frequency_ppm(d->engine), why, sizeof(why)) < 0)
		log_msg(LOG_LEVEL_WARNING, "drift file not saved: %s", why);
}

static void load_drift(struct daemon *d)
{
	char why[PATH_MAX + 128];
	double ppm;

	if (!d->cfg.driftfile[0])
		return;
	switch (driftfile_read(d->cfg.driftfile, d->real_clock.max_frequency_ppm, &ppm, why, sizeof(why))) {
	case DRIFTFILE_OK:
		d->cfg.engine.have_initial_frequency = true;
		d->cfg.engine.initial_frequency_ppm = ppm;
		log_msg(LOG_LEVEL_INFO, "frequency %+.3f ppm from %s", ppm, d->cfg.driftfile);
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

static void print_metrics(struct daemon *d, struct timespec now, FILE *out)
{
	struct engine_tracking t;
	struct serve_counters c = { 0 };
	struct metrics_snapshot snap;
	size_t need;
	char *text;

	take_snapshot(d, now, &t, &c, &snap);
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

static void control_handler(void *ctx, const char *command, enum control_format format, FILE *out)
{
	struct daemon *d = ctx;
	struct timespec now = now_of(d);
	bool json = format == CONTROL_JSON;

	if (!strcmp(command, "tracking")) {
		struct engine_tracking t;

		engine_get_tracking(d->engine, now, &t);
		status_tracking(out, &t, json);
	} else if (!strcmp(command, "sources") || !strcmp(command, "sourcestats") || !strcmp(command, "authdata")) {
		size_t n;
		struct source_status *infos = collect_sources(d, now, &n);

		if (!infos) {
			fprintf(out, "error: out of memory\n");
			return;
		}
		if (!strcmp(command, "sources"))
			status_sources(out, infos, n, json, format == CONTROL_VERBOSE);
		else if (!strcmp(command, "sourcestats"))
			status_sourcestats(out, infos, n, json);
		else
			status_authdata(out, infos, n, json);
		free(infos);
	} else if (!strcmp(command, "serverstats")) {
		struct serve_counters c = { 0 };

		if (d->server)
			server_get_counters(d->server, &c);
		status_serverstats(out, &c, d->server != NULL, json);
	} else if (!strcmp(command, "metrics")) {
		print_metrics(d, now, out);
	} else {
		fprintf(out, "error: unknown command \"%s\" (tracking, sources, sourcestats, authdata, serverstats, metrics)\n",
			command);
	}
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

/* Everything but the sources, logging and statsd is fixed once running. */
static void keep_running_settings(const struct daemon_config *running, struct daemon_config *next)
{
	struct config_source sources[CONFIG_MAX_SOURCES];
	size_t count = next->source_count;
	enum log_level level = next->log_level;
	bool use_syslog = next->log_syslog;
	struct config_statsd statsd = next->statsd;

	memcpy(sources, next->sources, sizeof(sources));
	*next = *running;
	next->statsd = statsd;
	memcpy(next->sources, sources, sizeof(sources));
	next->source_count = count;
	next->log_level = level;
	next->log_syslog = use_syslog;
}

/* Compared as --check-config prints them, so only configured values count. */
static bool needs_restart(const struct daemon_config *running, const struct daemon_config *next)
{
	struct daemon_config merged = *next;
	char *text_a = NULL, *text_b = NULL;
	size_t len_a = 0, len_b = 0;
	FILE *fa, *fb;
	bool differ = true;

	keep_running_settings(running, &merged);
	fa = open_memstream(&text_a, &len_a);
	fb = open_memstream(&text_b, &len_b);
	if (fa && fb) {
		config_print(&merged, fa);
		config_print(next, fb);
	}
	if (fa)
		fclose(fa);
	if (fb)
		fclose(fb);
	if (text_a && text_b)
		differ = strcmp(text_a, text_b) != 0;
	free(text_a);
	free(text_b);
	return differ;
}

/* SIGHUP: the new file replaces the running configuration only when valid. */
static void reload(struct daemon *d)
{
	struct daemon_config next;
	char err[512];

	notify_reloading();
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
		notify_ready(d->status);
		return;
	}
	upstream_set_nts(d->upstream, d->nts_ke, next.nts_trusted_certs, next.nts_dumpdir);
	upstream_reconfigure(d->upstream, next.sources, next.source_count, now_of(d));
	/* The StatsD counters restart only when the collector or the names change. */
	if (memcmp(&next.statsd, &d->cfg.statsd, sizeof(next.statsd)) != 0) {
		statsd_fini();
		if (!start_statsd(&next, now_of(d))) {
			log_msg(LOG_LEVEL_ERROR, "statsd: not sending metrics until the next reload");
			next.statsd.enabled = false; /* the loop asks statsd only while it runs */
		}
	}
	if (needs_restart(&d->cfg, &next))
		log_msg(LOG_LEVEL_NOTICE, "reloaded the sources, logging and statsd; the other changes take effect "
					  "at the next start");
	/* The rest is what the running engine and sockets were built from. */
	keep_running_settings(&d->cfg, &next);
	d->cfg = next;
	set_log_sink(&d->cfg, d->foreground, d->debug);
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

static void run(struct daemon *d)
{
	struct pollfd fds[DAEMON_MAX_POLLFDS];

	unblock_signals();
	for (;;) {
		struct timespec now, due;
		size_t n = 0, up_first, up_n, srv_first, srv_n = 0, ctl_first, ctl_n, res_index = 0, ke_index;
		bool resolving;
		int server_fds[SERVE_MAX_LISTEN * 2];

		if (stop_signal) {
			log_msg(LOG_LEVEL_NOTICE, "exiting on signal %d", (int)stop_signal);
			notify_stopping();
			return;
		}
		if (reload_signal) {
			reload_signal = 0;
			reload(d);
		}
		now = now_of(d);
		upstream_send_due(d->upstream, now);
		upstream_maintain(d->upstream, now);
		if (timespec_diff(now, d->next_drift_write) >= 0) {
			save_drift(d);
			d->next_drift_write = timespec_add(now, DAEMON_DRIFT_INTERVAL);
		}
		due = earliest(engine_next_wakeup(d->engine), upstream_next_wakeup(d->upstream, now));
		due = earliest(due, d->next_drift_write);
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
		ke_index = n;
		fds[n++] = (struct pollfd){ .fd = nts_ke_worker_fd(d->nts_ke), .events = POLLIN };
		up_first = n;
		up_n = upstream_pollfds(d->upstream, fds + n, DAEMON_MAX_POLLFDS - n);
		n += up_n;
		srv_first = n;
		if (d->server) {
			size_t k = server_poll_fds(d->server, server_fds, sizeof(server_fds) / sizeof(server_fds[0]));

			for (size_t i = 0; i < k && n < DAEMON_MAX_POLLFDS; i++, srv_n++)
				fds[n++] = (struct pollfd){ .fd = server_fds[i], .events = POLLIN };
		}
		ctl_first = n;
		ctl_n = d->control ? control_pollfds(d->control, fds + n, DAEMON_MAX_POLLFDS - n) : 0;
		n += ctl_n;

		if (stop_signal || reload_signal)
			continue; /* came in while the above ran: see to it before sleeping */
		if (poll(fds, n, poll_timeout_ms(now, due)) < 0) {
			if (errno == EINTR)
				continue;
			log_msg(LOG_LEVEL_ERROR, "poll: %s", strerror(errno));
			return;
		}
		now = now_of(d);
		if (resolving && fds[res_index].revents) {
			struct resolver_result result;

			while (resolver_take(d->resolver, &result))
				upstream_resolved(d->upstream, &result, now);
		}
		if (fds[ke_index].revents) {
			struct nts_ke_outcome outcome;

			while (nts_ke_worker_take(d->nts_ke, &outcome))
				upstream_nts_outcome(d->upstream, &outcome, now);
		}
		upstream_dispatch(d->upstream, fds + up_first, up_n);
		for (size_t i = 0; i < srv_n; i++)
			if (fds[srv_first + i].revents)
				server_handle_readable(d->server, fds[srv_first + i].fd);
		if (ctl_n)
			control_dispatch(d->control, fds + ctl_first, ctl_n);
		/* Every pass, not only after a reply: polls that go unanswered,
		 * pool replacement and reloads change the engine's state too. */
		publish(d);
		note_state(d, now);
	}
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

static int setup(struct daemon *d, const struct options *opt)
{
	char why[512];
	uid_t uid = (uid_t)-1;
	gid_t gid = (gid_t)-1;
	uint64_t seed;
	struct timespec now;
	struct engine_tracking tracking;
	bool root = geteuid() == 0, keep_sys_time;

	if (root && !privdrop_lookup(d->cfg.user, &uid, &gid, why, sizeof(why))) {
		log_msg(LOG_LEVEL_ERROR, "%s", why);
		return -1;
	}
	d->linux_clock = linux_clock_create(NULL, d->cfg.engine.adjust);
	if (!d->linux_clock) {
		log_msg(LOG_LEVEL_ERROR, "out of memory");
		return -1;
	}
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
	/* With a clock process, it alone keeps CAP_SYS_TIME. */
	keep_sys_time = d->cfg.engine.adjust && !d->privsep.clock_pid;
	if (privdrop_switch(d->cfg.user, keep_sys_time, why, sizeof(why)) < 0) {
		log_msg(LOG_LEVEL_ERROR, "%s", why);
		return -1;
	}
	if (root)
		log_msg(LOG_LEVEL_INFO, "running as %s with %s", d->cfg.user,
			keep_sys_time ? "CAP_SYS_TIME only" : "no capabilities");
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
	if (d->cfg.source_count == 0)
		log_msg(LOG_LEVEL_WARNING, "no sources configured: nothing to synchronize to");
	d->upstream = upstream_create(d->engine, d->resolver, &d->clock, &d->cfg.serve, &d->keys, d->cfg.sources,
				      d->cfg.source_count, now);
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
	upstream_destroy(d->upstream);
	control_destroy(d->control);
	server_destroy(d->server);
	resolver_destroy(d->resolver);
	nts_ke_worker_destroy(d->nts_ke);
	if (d->engine)
		engine_destroy(d->engine);
	if (d->linux_clock)
		linux_clock_destroy(d->linux_clock);
	auth_keyring_free(&d->keys);
	/* only our own: a second instance that failed to start leaves the first's */
	if (d->pidfile[0])
		unlink(d->pidfile);
	privsep_stop(&d->privsep);
}

int main(int argc, char **argv)
{
	struct options opt;
	struct daemon d = { 0 };
	char err[512];
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
		return DAEMON_EXIT_CONFIG;
	}
	if (opt.check_config) {
		auth_keyring_free(&d.keys);
		config_print(&d.cfg, stdout);
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
