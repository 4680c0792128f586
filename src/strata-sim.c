/* strata-sim: the engine against a simulated clock and network, in virtual
 * time, deterministic for a seed. Options come from the command line or a
 * scenario file (the same names without the dashes, one per line); the result
 * is one JSON object, and the exit status says whether the scenario's
 * "expect" criteria hold. */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "json_writer.h"
#include "leap_load.h"
#include "log.h"
#include "packet.h"
#include "refid.h"
#include "sim_clock.h"
#include "sim_net.h"
#include "sim_random.h"
#include "upstream.h"

#define MAX_SERVERS 16
#define MAX_OUTAGES 4
#define MAX_EXPECT 32
#define MAX_FLIGHTS 256
#define MAX_LOG 64
/* the global figures, then five per server */
#define MAX_FIGURES (40 + 6 * MAX_SERVERS)
/* the simulated DNS */
#define POOL_NAME "pool.sim"
#define DNS_DELAY 0.02          /* seconds a lookup takes */
#define MAX_QUERIES 16          /* lookups out at once */
/* 2016-12-31 00:00:00 UTC: the day that ended with a leap second */
#define SIM_EPOCH 1483142400
#define SECONDS_PER_DAY 86400
/* "time to sync": from when on the offset stays within this */
#define SETTLE_OFFSET 1e-3
/* seconds the simulated server takes between receive and transmit */
#define SERVER_TURNAROUND 5e-6

enum jitter_kind { JITTER_NONE, JITTER_EXPONENTIAL, JITTER_UNIFORM };

struct window {
	double start, length;
};

struct sim_server {
	double delay;           /* base one-way delay, seconds */
	double asymmetry;       /* up - down, seconds */
	enum jitter_kind jitter_kind;
	double jitter;          /* mean extra delay each way */
	double loss;            /* probability */
	double error;           /* its clock's constant error, seconds */
	unsigned stratum;
	int minpoll, maxpoll;
	bool iburst;
	bool announce_leap;
	unsigned outages;
	struct window outage[MAX_OUTAGES];
	bool dns_limited;       /* the pool's name resolves to it only within dns */
	struct window dns;
	double error_from;      /* its error applies from this time on (0: from the start) */
	struct source_config options; /* the per-source options (prefer, maxdelay, ...) */
	unsigned request_version; /* of the last request it received */
	int id;                 /* the engine's */
	unsigned long selected; /* measurements it was system peer or combined at */
	unsigned long falseticker;
	unsigned long selected_after_warmup, falseticker_after_warmup; /* from warmup on */
};

struct expect {
	char metric[32];
	char op[3];
	double value;
	char text[96];
};

struct scenario {
	char name[128];
	unsigned long long seed;
	double duration, warmup, measure_interval;
	double start_of_day;
	double clock_offset, clock_freq, wander;
	double reference_error; /* offsets are measured against UTC plus this */
	bool leap_insert;
	size_t leap_tables;
	struct leap_table leap_table[2]; /* leap-list, then leap-tz */
	unsigned outages;
	struct window outage[MAX_OUTAGES];
	struct engine_config engine;
	bool pool;              /* the servers are the members of one pool, reached through upstream.c */
	struct config_source pool_cfg;
	unsigned dns_outages;   /* the DNS fails in these windows */
	struct window dns_outage[MAX_OUTAGES];
	unsigned servers;
	struct sim_server server[MAX_SERVERS];
	unsigned expects;
	struct expect expect[MAX_EXPECT];
	bool quiet;
	bool trace;
	bool debug;
};

struct flight {
	double deliver;
	int server;
	int fd;                 /* pool: the socket upstream.c sent from */
	uint8_t bytes[NTP_HEADER_LEN];
};

struct metrics {
	double sum2, max;
	unsigned long count;
	double max_after_sync;
	double first_sync;      /* < 0: never */
	double settled;         /* from then on |offset| stays within SETTLE_OFFSET */
	bool insane_seen;
	double insane_offset;
	double leap_offset_max; /* |offset| within an hour after the leap */
	double leap_settled;    /* seconds after the leap from which |offset| < SETTLE_OFFSET; -1: never */
	double clock_jump_min;  /* the clock's reading against true time from one measurement to the next */
	double clock_jump_max;
	double last_local, last_tau;
	bool have_last;
	double outage_start_offset, outage_end_offset, outage_drift;
	bool outage_started;
	unsigned log_count;
	char log[MAX_LOG][160];
};

static struct metrics *log_metrics;

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("strata-sim: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(2);
}

/* A number with an optional unit: ns us ms s m h d ppm ppb %. */
static double parse_value(const char *text, const char *what)
{
	static const struct { const char *unit; double scale; } units[] = {
		{ "ns", 1e-9 }, { "us", 1e-6 }, { "ms", 1e-3 }, { "s", 1.0 }, { "m", 60.0 }, { "h", 3600.0 },
		{ "d", 86400.0 }, { "ppm", 1.0 }, { "ppb", 1e-3 }, { "%", 0.01 }, { "", 1.0 },
	};
	char *end;
	double v;

	errno = 0;
	v = strtod(text, &end);
	if (end == text || errno)
		die("%s: not a number: '%s'", what, text);
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (strcmp(end, units[i].unit) == 0)
			return v * units[i].scale;
	die("%s: unknown unit in '%s'", what, text);
	return 0.0;
}

static bool parse_bool(const char *text, const char *what)
{
	if (!text || !strcmp(text, "yes") || !strcmp(text, "true") || !strcmp(text, "1"))
		return true;
	if (!strcmp(text, "no") || !strcmp(text, "false") || !strcmp(text, "0"))
		return false;
	die("%s: expected yes or no, not '%s'", what, text);
	return false;
}

static void parse_window(const char *text, struct window *w, const char *what)
{
	char buf[64], *colon;

	snprintf(buf, sizeof(buf), "%s", text);
	colon = strchr(buf, ':');
	if (!colon)
		die("%s: expected START:LENGTH, not '%s'", what, text);
	*colon = '\0';
	w->start = parse_value(buf, what);
	w->length = parse_value(colon + 1, what);
}

static bool parse_source_option(struct source_config *o, const char *kv, const char *v);

/* "delay=5ms,jitter=2ms,asym=0.5ms,loss=5%,..." */
static void parse_server(struct scenario *sc, const char *spec)
{
	struct sim_server *s;
	char buf[512], *save = NULL;

	if (sc->servers == MAX_SERVERS)
		die("at most %d servers", MAX_SERVERS);
	s = &sc->server[sc->servers++];
	*s = (struct sim_server){ .delay = 100e-6, .jitter_kind = JITTER_EXPONENTIAL, .stratum = 1,
				  .minpoll = SOURCE_DEFAULT_MINPOLL, .maxpoll = SOURCE_DEFAULT_MAXPOLL,
				  .iburst = true };
	snprintf(buf, sizeof(buf), "%s", spec);
	for (char *kv = strtok_r(buf, ", ", &save); kv; kv = strtok_r(NULL, ", ", &save)) {
		char *v = strchr(kv, '=');

		if (v)
			*v++ = '\0';
		if (!strcmp(kv, "delay") && v)
			s->delay = parse_value(v, kv);
		else if (!strcmp(kv, "asym") && v)
			s->asymmetry = parse_value(v, kv);
		else if (!strcmp(kv, "jitter") && v)
			s->jitter = parse_value(v, kv);
		else if (!strcmp(kv, "dist") && v)
			s->jitter_kind = !strcmp(v, "exp") ? JITTER_EXPONENTIAL :
					 !strcmp(v, "uniform") ? JITTER_UNIFORM :
					 !strcmp(v, "none") ? JITTER_NONE : (die("dist: exp, uniform or none"), 0);
		else if (!strcmp(kv, "loss") && v)
			s->loss = parse_value(v, kv);
		else if (!strcmp(kv, "error") && v)
			s->error = parse_value(v, kv);
		else if (!strcmp(kv, "stratum") && v)
			s->stratum = (unsigned)parse_value(v, kv);
		else if (!strcmp(kv, "minpoll") && v)
			s->minpoll = (int)parse_value(v, kv);
		else if (!strcmp(kv, "maxpoll") && v)
			s->maxpoll = (int)parse_value(v, kv);
		else if (!strcmp(kv, "poll") && v)
			s->minpoll = s->maxpoll = (int)parse_value(v, kv);
		else if (!strcmp(kv, "iburst"))
			s->iburst = parse_bool(v, kv);
		else if (!strcmp(kv, "leap"))
			s->announce_leap = parse_bool(v, kv);
		else if (!strcmp(kv, "outage") && v && s->outages < MAX_OUTAGES)
			parse_window(v, &s->outage[s->outages++], kv);
		else if (!strcmp(kv, "dns") && v) {
			s->dns_limited = true;
			parse_window(v, &s->dns, kv);
		} else if (!strcmp(kv, "error-from") && v)
			s->error_from = parse_value(v, kv);
		else if (!parse_source_option(&s->options, kv, v))
			die("server: unknown setting '%s'", kv);
	}
}

/* stratad.conf's per-source options, as key=value (flags alone). */
static bool parse_source_option(struct source_config *o, const char *kv, const char *v)
{
	if (!strcmp(kv, "prefer"))
		o->prefer = parse_bool(v, kv);
	else if (!strcmp(kv, "noselect"))
		o->noselect = parse_bool(v, kv);
	else if (!strcmp(kv, "trust"))
		o->trust = parse_bool(v, kv);
	else if (!strcmp(kv, "require"))
		o->require = parse_bool(v, kv);
	else if (!strcmp(kv, "maxdelay") && v)
		o->maxdelay = parse_value(v, kv);
	else if (!strcmp(kv, "maxdelayratio") && v)
		o->maxdelayratio = parse_value(v, kv);
	else if (!strcmp(kv, "minstratum") && v)
		o->minstratum = (unsigned)parse_value(v, kv);
	else if (!strcmp(kv, "offset") && v)
		o->offset = parse_value(v, kv);
	else if (!strcmp(kv, "version") && v)
		o->version = (unsigned)parse_value(v, kv);
	else if (!strcmp(kv, "maxsamples") && v)
		o->maxsamples = (unsigned)parse_value(v, kv);
	else
		return false;
	return true;
}

/* "maxsources=4,minpoll=6,maxpoll=10,iburst=yes": the pool every server is a member of. */
static void parse_pool(struct scenario *sc, const char *spec)
{
	struct config_source *p = &sc->pool_cfg;
	char buf[256], *save = NULL;

	sc->pool = true;
	*p = (struct config_source){ .pool = true, .port = NTP_PORT, .minpoll = SOURCE_DEFAULT_MINPOLL,
				     .maxpoll = SOURCE_DEFAULT_MAXPOLL, .iburst = true, .maxsources = 4,
				     .version = NTP_VERSION, .maxsamples = FILTER_SIZE };
	snprintf(p->name, sizeof(p->name), "%s", POOL_NAME);
	snprintf(buf, sizeof(buf), "%s", spec ? spec : "");
	for (char *kv = strtok_r(buf, ", ", &save); kv; kv = strtok_r(NULL, ", ", &save)) {
		char *v = strchr(kv, '=');

		if (v)
			*v++ = '\0';
		if (!strcmp(kv, "maxsources") && v)
			p->maxsources = (unsigned)parse_value(v, kv);
		else if (!strcmp(kv, "minpoll") && v)
			p->minpoll = (int)parse_value(v, kv);
		else if (!strcmp(kv, "maxpoll") && v)
			p->maxpoll = (int)parse_value(v, kv);
		else if (!strcmp(kv, "iburst"))
			p->iburst = parse_bool(v, kv);
		else
			die("pool: unknown setting '%s'", kv);
	}
}

static void parse_expect(struct scenario *sc, const char *text)
{
	struct expect *e;
	char value[64];

	if (sc->expects == MAX_EXPECT)
		die("at most %d expect lines", MAX_EXPECT);
	e = &sc->expect[sc->expects++];
	if (sscanf(text, "%31s %2s %63s", e->metric, e->op, value) != 3)
		die("expect: 'METRIC OP VALUE', not '%s'", text);
	if (strcmp(e->op, "<=") && strcmp(e->op, "<") && strcmp(e->op, ">=") && strcmp(e->op, ">") &&
	    strcmp(e->op, "==") && strcmp(e->op, "!="))
		die("expect: unknown operator '%s'", e->op);
	e->value = !strcmp(value, "true") ? 1.0 : !strcmp(value, "false") ? 0.0 : parse_value(value, "expect");
	snprintf(e->text, sizeof(e->text), "%s", text);
}

static void parse_scenario_file(struct scenario *sc, const char *path);

static void set_name(struct scenario *sc, const char *name)
{
	size_t n = strnlen(name, sizeof(sc->name) - 1);

	memmove(sc->name, name, n);
	sc->name[n] = '\0';
}

static enum leap_mode parse_leap_mode(const char *v)
{
	for (enum leap_mode m = LEAP_MODE_SYSTEM; m <= LEAP_MODE_IGNORE; m++)
		if (!strcmp(v, leap_mode_str(m)))
			return m;
	die("leap-mode: %s is not system, step, slew or ignore", v);
	return LEAP_MODE_SYSTEM;
}

/* The directory of the scenario file being read: a relative leap-list is
 * found beside it. */
static char scenario_dir[256] = ".";

/* The engine's leap tables, as stratad loads them. */
static void load_leap_table(struct scenario *sc, const char *what, bool zone)
{
	char err[320], path[512];
	int rc;

	if (!zone && what[0] != '/') {
		snprintf(path, sizeof(path), "%s/%s", scenario_dir, what);
		what = path;
	}
	if (sc->leap_tables >= 2)
		die("at most one leap-list and one leap-tz");
	rc = zone ? leap_load_tz(what, SIM_EPOCH, &sc->leap_table[sc->leap_tables], err, sizeof(err)) :
		    leap_load_list(what, &sc->leap_table[sc->leap_tables], err, sizeof(err));
	if (rc != 0)
		die("%s", err);
	sc->leap_tables++;
}

/* One setting, from an option or a scenario line; returns false when unknown. */
static bool apply_setting(struct scenario *sc, const char *key, const char *v)
{
	struct engine_config *ec = &sc->engine;

#define NEED() do { if (!v) die("%s needs a value", key); } while (0)
	if (!strcmp(key, "seed")) { NEED(); sc->seed = strtoull(v, NULL, 0); }
	else if (!strcmp(key, "name")) { NEED(); set_name(sc, v); }
	else if (!strcmp(key, "duration")) { NEED(); sc->duration = parse_value(v, key); }
	else if (!strcmp(key, "warmup")) { NEED(); sc->warmup = parse_value(v, key); }
	else if (!strcmp(key, "start-of-day")) { NEED(); sc->start_of_day = parse_value(v, key); }
	else if (!strcmp(key, "clock-offset")) { NEED(); sc->clock_offset = parse_value(v, key); }
	else if (!strcmp(key, "clock-freq")) { NEED(); sc->clock_freq = parse_value(v, key); }
	else if (!strcmp(key, "reference-error")) { NEED(); sc->reference_error = parse_value(v, key); }
	else if (!strcmp(key, "wander")) { NEED(); sc->wander = parse_value(v, key); }
	else if (!strcmp(key, "drift-file")) { NEED(); ec->have_initial_frequency = true;
		ec->initial_frequency_ppm = parse_value(v, key); }
	else if (!strcmp(key, "leap-insert")) sc->leap_insert = parse_bool(v, key);
	else if (!strcmp(key, "leap-mode")) { NEED(); ec->leap_mode = parse_leap_mode(v); }
	else if (!strcmp(key, "leap-list")) { NEED(); load_leap_table(sc, v, false); }
	else if (!strcmp(key, "leap-tz")) { NEED(); load_leap_table(sc, v, true); }
	else if (!strcmp(key, "outage")) { NEED(); if (sc->outages < MAX_OUTAGES)
		parse_window(v, &sc->outage[sc->outages++], key); }
	else if (!strcmp(key, "server")) { NEED(); parse_server(sc, v); }
	else if (!strcmp(key, "pool")) parse_pool(sc, v);
	else if (!strcmp(key, "dns-outage")) { NEED(); if (sc->dns_outages < MAX_OUTAGES)
		parse_window(v, &sc->dns_outage[sc->dns_outages++], key); }
	else if (!strcmp(key, "expect")) { NEED(); parse_expect(sc, v); }
	else if (!strcmp(key, "scenario")) { NEED(); parse_scenario_file(sc, v); }
	else if (!strcmp(key, "adjust")) ec->adjust = parse_bool(v, key);
	else if (!strcmp(key, "step-threshold")) { NEED(); ec->step_threshold = parse_value(v, key); }
	else if (!strcmp(key, "panic-threshold")) { NEED(); ec->panic_threshold = parse_value(v, key); }
	else if (!strcmp(key, "allow-initial-insane-step")) ec->allow_initial_insane_step = parse_bool(v, key);
	else if (!strcmp(key, "stepout")) { NEED(); ec->stepout = parse_value(v, key); }
	else if (!strcmp(key, "max-steps")) { NEED(); ec->max_steps = (int)parse_value(v, key); }
	else if (!strcmp(key, "minsources")) { NEED(); ec->minsources = (unsigned)parse_value(v, key); }
	else if (!strcmp(key, "local-stratum")) { NEED(); ec->local_stratum = (unsigned)parse_value(v, key); }
	else if (!strcmp(key, "maxjitter")) { NEED(); ec->max_jitter = parse_value(v, key); }
	else if (!strcmp(key, "assumed-wander")) { NEED(); ec->wander_ppm_per_s = parse_value(v, key); }
	else if (!strcmp(key, "quiet")) sc->quiet = parse_bool(v, key);
	else if (!strcmp(key, "trace")) sc->trace = parse_bool(v, key);
	else if (!strcmp(key, "debug")) sc->debug = parse_bool(v, key);
	else return false;
#undef NEED
	return true;
}

static void parse_scenario_file(struct scenario *sc, const char *path)
{
	FILE *f = fopen(path, "r");
	char line[512];
	unsigned lineno = 0;

	if (!f)
		die("%s: %s", path, strerror(errno));
	if (!sc->name[0]) {
		const char *base = strrchr(path, '/');

		set_name(sc, base ? base + 1 : path);
	}
	{
		const char *slash = strrchr(path, '/');

		snprintf(scenario_dir, sizeof(scenario_dir), "%.*s", slash ? (int)(slash - path) : 1,
			 slash ? path : ".");
	}
	while (fgets(line, sizeof(line), f)) {
		char *p = line, *key, *value, *hash = strchr(line, '#');

		lineno++;
		if (hash)
			*hash = '\0';
		while (*p == ' ' || *p == '\t')
			p++;
		p[strcspn(p, "\r\n")] = '\0';
		for (size_t n = strlen(p); n && (p[n - 1] == ' ' || p[n - 1] == '\t'); n--)
			p[n - 1] = '\0';
		if (!*p)
			continue;
		key = p;
		value = p + strcspn(p, " \t");
		if (*value) {
			*value++ = '\0';
			while (*value == ' ' || *value == '\t')
				value++;
		}
		if (!apply_setting(sc, key, *value ? value : NULL))
			die("%s:%u: unknown setting '%s'", path, lineno, key);
	}
	fclose(f);
}

static void usage(FILE *out)
{
	fputs(
"usage: strata-sim [OPTIONS] [SCENARIO.scn]\n"
"Runs the strata engine against a simulated clock and network in virtual time\n"
"and prints one JSON object. A scenario file holds the same settings, one per\n"
"line without the dashes ('#' starts a comment). Values take units: ns us ms s\n"
"m h d, ppm ppb, %.\n"
"\n"
"Run:\n"
"  --seed N                 random seed (default 1)\n"
"  --duration T             virtual time to run (default 2h)\n"
"  --warmup T               offset figures start after this (default 30m)\n"
"  --start-of-day T         UTC time of day at the start (default 0: midnight)\n"
"  --quiet                  no log lines on stderr\n"
"  --trace                  print the offset at every measurement on stderr\n"
"  --debug                  log every discipline update on stderr\n"
"Clock:\n"
"  --clock-offset X         initial error of the clock (local - true), seconds\n"
"  --clock-freq F           initial frequency error, ppm (positive runs fast)\n"
"  --wander W               random walk of the frequency, ppm per sqrt(second)\n"
"  --reference-error X      measure offsets against UTC + X (the time the servers agree on)\n"
"  --drift-file F           start with this frequency correction (ppm) as if read from a drift file\n"
"  --leap-insert            UTC has a leap second at the end of the first day\n"
"  --leap-mode M            system, step, slew or ignore: what is done to the clock at the leap\n"
"  --leap-list PATH         the engine's leap table from a leap-seconds.list file\n"
"  --leap-tz ZONE           the engine's leap table from a zone with leap seconds (right/UTC)\n"
"  --outage START:LENGTH    no server answers in this window (up to 4)\n"
"Engine (see stratad.conf(5)):\n"
"  --adjust yes|no, --step-threshold X, --panic-threshold X, --allow-initial-insane-step,\n"
"  --stepout T, --max-steps N, --minsources N, --local-stratum N,\n"
"  --assumed-wander W       frequency random walk the discipline allows for (ppm/sqrt(s))\n"
"Servers (repeat --server; each a list of key=value):\n"
"  --server delay=D,asym=A,dist=exp|uniform|none,jitter=J,loss=P,error=E,stratum=S,\n"
"           minpoll=N,maxpoll=N,poll=N,iburst=yes|no,leap=yes|no,outage=START:LENGTH\n"
"     delay: one-way base delay (100us); asym: up minus down; jitter: mean extra delay\n"
"     each way (exponential by default); loss: probability; error: the server clock's\n"
"     constant error (a falseticker or insane time); leap: announce a leap second at the end of the first day (true or not)\n"
"Criteria (repeatable): --expect 'METRIC OP VALUE', OP one of <= < >= > == !=\n"
"  metrics: offset_rms offset_max offset_max_after_sync first_sync settled steps\n"
"           (settled: from then on |offset| stays within 1 ms)\n"
"           steps_after_first freq_error_ppm insane_guard clock_touched\n"
"           slew_rate_max_ppm correction_rate_max_ppm slew_total_rate_max_ppm\n"
"           (slew_total_rate_max_ppm: while a slew runs, its rate plus how far the\n"
"           frequency correction moved from the one the slew began with)\n"
"           synchronized_end unsync_reason_end\n"
"           falseticker_selected leap_announced_before leap_offset_max leap_settled\n"
"           clock_jump_min clock_jump_max (the clock against true time between measurements)\n"
"           outage_drift outage_freq_error_ppm refused_calls\n"
"Exit status: 0 when every criterion holds, 1 when one fails, 2 on bad input.\n",
	      out);
}

static bool outage_active(const struct window *w, unsigned n, double tau)
{
	for (unsigned i = 0; i < n; i++)
		if (tau >= w[i].start && tau < w[i].start + w[i].length)
			return true;
	return false;
}

static double one_way(struct sim_random *r, const struct sim_server *s, double base)
{
	switch (s->jitter_kind) {
	case JITTER_EXPONENTIAL: return base + sim_random_exponential(r, s->jitter);
	case JITTER_UNIFORM: return base + 2.0 * s->jitter * sim_random_uniform(r);
	case JITTER_NONE: break;
	}
	return base;
}

/* True UTC as seconds since the epoch: the servers' time. */
static double utc(const struct scenario *sc, double tau)
{
	double t = sc->start_of_day + tau;

	if (sc->leap_insert && t >= SECONDS_PER_DAY)
		t -= 1.0;
	return t;
}

static ntp_ts ts_from_seconds(double seconds)
{
	double whole = floor(seconds);
	struct timespec t = { SIM_EPOCH + (time_t)whole, (long)((seconds - whole) * 1e9) };

	return ntp_ts_from_timespec(t);
}

static void log_sink(void *ctx, enum log_level level, const char *message)
{
	const struct scenario *sc = ctx;
	struct metrics *m = log_metrics;

	if (m->log_count < MAX_LOG && level < LOG_LEVEL_DEBUG)
		snprintf(m->log[m->log_count++], sizeof(m->log[0]), "%s", message);
	if (!sc->quiet)
		fprintf(stderr, "strata-sim: %s\n", message);
}

struct figure {
	char name[32];
	double value;
};

/* One run: the scenario, the simulated clock and network around the engine,
 * and what is measured. */
struct sim {
	struct scenario *sc;
	struct sim_random rng;
	struct sim_clock clock;
	struct engine *engine;
	struct flight flights[MAX_FLIGHTS]; /* replies on their way back */
	unsigned nflights;
	struct metrics m;
	double next_measure;
	double leap_tau;                /* when the day with the leap second ends */
	/* pool scenarios: upstream.c, the daemon's, over the simulated DNS */
	struct clock_ops ops;           /* the clock upstream.c reads */
	struct upstream *upstream;
	struct { unsigned tag; double deliver; bool fail; } queries[MAX_QUERIES];
	unsigned nqueries;
	unsigned long dns_queries, dns_queries_failed;
	unsigned long sent;             /* requests handed to the network */
	unsigned long socket_changes;   /* when the engine ids below were found */
};

/* Server i's address: 192.0.2.(i + 1), port 123. */
static struct net_addr server_addr(unsigned i)
{
	char name[32];
	struct net_addr addr;

	snprintf(name, sizeof(name), "192.0.2.%u", i + 1);
	netaddr_parse(name, &addr);
	addr.port = NTP_PORT;
	return addr;
}

static int server_by_addr(const struct scenario *sc, const struct net_addr *addr)
{
	for (unsigned i = 0; i < sc->servers; i++) {
		struct net_addr a = server_addr(i);

		if (netaddr_equal(&a, addr))
			return (int)i;
	}
	return -1;
}

static void network_carry(struct sim *sim, struct sim_server *s, int fd, const uint8_t request[NTP_HEADER_LEN]);

/* The simulated DNS: the pool's name resolves to the servers whose dns
 * window holds the time of the answer, rotated by one per query as
 * round-robin DNS does; in a dns-outage it fails. */
static void dns_lookup(void *ctx, unsigned tag, const char *name, uint16_t port)
{
	struct sim *sim = ctx;

	(void)port;
	if (strcmp(name, POOL_NAME) || sim->nqueries == MAX_QUERIES)
		die("upstream looked up '%s' (the simulated DNS knows only %s)", name, POOL_NAME);
	sim->dns_queries++;
	sim->queries[sim->nqueries].tag = tag;
	sim->queries[sim->nqueries].deliver = sim->clock.tau + DNS_DELAY;
	sim->queries[sim->nqueries].fail =
		outage_active(sim->sc->dns_outage, sim->sc->dns_outages, sim->clock.tau);
	sim->dns_queries_failed += sim->queries[sim->nqueries].fail;
	sim->nqueries++;
}

static void dns_answer(struct sim *sim, unsigned index)
{
	const struct scenario *sc = sim->sc;
	struct resolver_result r = { .tag = sim->queries[index].tag };
	bool fail = sim->queries[index].fail;

	sim->queries[index] = sim->queries[--sim->nqueries];
	if (fail) {
		r.error = -3; /* EAI_AGAIN */
	} else {
		for (unsigned k = 0; k < sc->servers && r.count < RESOLVER_MAX_ADDRS; k++) {
			unsigned i = (unsigned)((k + sim->dns_queries - 1) % sc->servers);
			const struct sim_server *s = &sc->server[i];

			if (!s->dns_limited || outage_active(&s->dns, 1, sim->clock.tau))
				r.addrs[r.count++] = server_addr(i);
		}
		if (r.count == 0)
			r.error = -2; /* EAI_NONAME */
	}
	upstream_resolved(sim->upstream, &r, sim_clock_now(&sim->clock));
}

static void net_send(void *ctx, int fd, const uint8_t *buf, size_t len, const struct net_addr *to)
{
	struct sim *sim = ctx;
	int i = server_by_addr(sim->sc, to);

	if (i < 0 || len < NTP_HEADER_LEN)
		die("upstream sent to an unknown address");
	sim->sent++;
	network_carry(sim, &sim->sc->server[i], fd, buf);
}

/* The engine's id of server i (-1 when it is not a source): fixed in direct
 * scenarios, found by address in pool ones whenever sources came or went. */
static int engine_id_of(struct sim *sim, unsigned i)
{
	struct scenario *sc = sim->sc;

	if (!sc->pool)
		return sc->server[i].id;
	if (sim->socket_changes != sim_net_socket_changes()) {
		sim->socket_changes = sim_net_socket_changes();
		for (unsigned k = 0; k < sc->servers; k++)
			sc->server[k].id = -1;
		for (int id = 0; id < (int)engine_source_capacity(sim->engine); id++) {
			struct source_status st;
			int k;

			if (engine_get_source(sim->engine, id, sim_clock_now(&sim->clock), &st) &&
			    (k = server_by_addr(sc, &st.addr)) >= 0)
				sc->server[k].id = id;
		}
	}
	return sc->server[i].id;
}

static void sim_start(struct sim *sim, struct scenario *sc)
{
	struct sim_net_ops net;

	*sim = (struct sim){ .sc = sc, .m = { .first_sync = -1.0 }, .leap_tau = SECONDS_PER_DAY - sc->start_of_day };
	sim_random_seed(&sim->rng, sc->seed);
	sim_clock_init(&sim->clock, SIM_EPOCH, sc->start_of_day + sc->clock_offset, sc->clock_freq, sc->wander,
		       &sim->rng);
	sim_clock_ops(&sim->clock, &sim->ops);
	log_metrics = &sim->m;
	log_set_sink(log_sink, sc, sc->debug ? LOG_LEVEL_DEBUG : LOG_LEVEL_NOTICE);
	sc->engine.random_seed = sc->seed ^ 0xa5a5a5a5ULL;
	sim->engine = engine_create(&sc->engine, &sim->ops, sim_clock_now(&sim->clock));
	if (!sim->engine)
		die("engine_create failed");
	engine_set_leap_tables(sim->engine, sc->leap_table, sc->leap_tables);
	sim->m.leap_settled = -1.0;
	if (sc->pool) {
		net = (struct sim_net_ops){ .ctx = sim, .lookup = dns_lookup, .send = net_send };
		sim_net_set_ops(&net);
		sim->socket_changes = (unsigned long)-1;
		sim->upstream = upstream_create(sim->engine, NULL, &sim->ops, NULL, NULL, &sc->pool_cfg, 1,
						sim_clock_now(&sim->clock));
		if (!sim->upstream)
			die("upstream_create failed");
		return;
	}
	for (unsigned i = 0; i < sc->servers; i++) {
		struct sim_server *s = &sc->server[i];
		char name[NETADDR_TEXT_LEN];
		struct source_config cfg = s->options;

		cfg.minpoll = s->minpoll;
		cfg.maxpoll = s->maxpoll;
		cfg.iburst = s->iburst;
		cfg.addr = server_addr(i);
		netaddr_format(&cfg.addr, name, sizeof(name));
		cfg.name = name;
		s->id = engine_add_source(sim->engine, &cfg, sim_clock_now(&sim->clock));
		if (s->id < 0)
			die("server %u: bad settings", i + 1);
	}
}

/* The simulated server: an honest stratum-N answer (off by its own error),
 * received `up` seconds after the request left at tau. */
static void server_answer(const struct sim *sim, const struct sim_server *s, const struct ntp_packet *request,
			  double tau, double up, uint8_t out[NTP_HEADER_LEN])
{
	const struct scenario *sc = sim->sc;
	double t2 = utc(sc, tau + up) + (tau >= s->error_from ? s->error : 0.0);
	/* servers with leap=yes announce one whether UTC has it (leap-insert) or not */
	bool leap_day = tau < sim->leap_tau && tau > sim->leap_tau - SECONDS_PER_DAY / 2;
	struct ntp_packet reply = {
		.leap = s->announce_leap && leap_day ? NTP_LEAP_INSERT : NTP_LEAP_NONE,
		.version = request->version, /* as ours: the client's version, echoed */
		.mode = NTP_MODE_SERVER,
		.stratum = (uint8_t)s->stratum,
		.poll = request->poll,
		.precision = -24,
		.root_delay = 0,
		.root_dispersion = ntp_short_from_seconds(1e-5),
		.refid = refid_from_name("GPS"),
		.reference = ts_from_seconds(t2 - 8.0),
		.origin = request->transmit,
		.receive = ts_from_seconds(t2),
		.transmit = ts_from_seconds(t2 + SERVER_TURNAROUND),
	};

	packet_encode(&reply, out);
}

static struct sim_server *server_of(struct sim *sim, int id)
{
	for (unsigned i = 0; i < sim->sc->servers; i++)
		if (sim->sc->server[i].id == id)
			return &sim->sc->server[i];
	return NULL;
}

/* The network model: the request is lost (loss, outages, or no room in
 * flight) or reaches the server after a random one-way delay, and the answer
 * comes back after another. */
static void network_carry(struct sim *sim, struct sim_server *s, int fd, const uint8_t request[NTP_HEADER_LEN])
{
	const struct scenario *sc = sim->sc;
	double tau = sim->clock.tau, up, down;
	struct ntp_packet in;
	struct flight *f;

	if (sim_random_uniform(&sim->rng) < s->loss || outage_active(sc->outage, sc->outages, tau) ||
	    outage_active(s->outage, s->outages, tau) || sim->nflights == MAX_FLIGHTS)
		return;
	f = &sim->flights[sim->nflights];
	packet_decode(request, NTP_HEADER_LEN, &in, NULL);
	s->request_version = in.version;
	up = one_way(&sim->rng, s, s->delay + s->asymmetry / 2.0);
	down = one_way(&sim->rng, s, s->delay - s->asymmetry / 2.0);
	server_answer(sim, s, &in, tau, up, f->bytes);
	f->deliver = tau + up + SERVER_TURNAROUND + down;
	f->server = (int)(s - sc->server);
	f->fd = fd;
	sim->nflights++;
}

/* The poll due now, if one is: its request goes out through the network.
 * Returns false when none was due (the wakeup was computed at the old
 * rate). A pool scenario goes through upstream.c, which also replaces
 * members and looks the name up again, as the daemon's loop does at every
 * turn. */
static bool send_due_request(struct sim *sim)
{
	int id;
	struct sim_server *s;
	uint8_t request[SOURCE_REQUEST_MAX];

	if (sim->sc->pool) {
		unsigned long before = sim->sent + sim->dns_queries + sim_net_socket_changes();

		upstream_send_due(sim->upstream, sim_clock_now(&sim->clock));
		upstream_maintain(sim->upstream, sim_clock_now(&sim->clock));
		return sim->sent + sim->dns_queries + sim_net_socket_changes() != before;
	}
	id = engine_due_request(sim->engine, sim_clock_now(&sim->clock));
	s = id >= 0 ? server_of(sim, id) : NULL;
	if (s && engine_build_request(sim->engine, id, sim_clock_now(&sim->clock), request))
		network_carry(sim, s, -1, request);
	return id >= 0;
}

/* The reply in flight that lands first, not after `until`; -1: none. */
static int next_flight(const struct sim *sim, double until)
{
	int flight = -1;

	for (unsigned i = 0; i < sim->nflights; i++)
		if (sim->flights[i].deliver <= until &&
		    (flight < 0 || sim->flights[i].deliver < sim->flights[flight].deliver))
			flight = (int)i;
	return flight;
}

static void deliver_flight(struct sim *sim, int index)
{
	struct flight f = sim->flights[index];

	sim->flights[index] = sim->flights[--sim->nflights];
	if (sim->sc->pool) {
		struct net_addr from = server_addr((unsigned)f.server);
		struct pollfd readable = { .fd = f.fd, .events = POLLIN, .revents = POLLIN };

		sim_net_deliver(f.fd, f.bytes, NTP_HEADER_LEN, &from, sim_clock_now(&sim->clock));
		upstream_dispatch(sim->upstream, &readable, 1);
		upstream_maintain(sim->upstream, sim_clock_now(&sim->clock));
		return;
	}
	engine_handle_reply(sim->engine, sim->sc->server[f.server].id, f.bytes, NTP_HEADER_LEN,
			    sim_clock_now(&sim->clock));
}

/* The DNS answer due first, not after `until`; -1: none. */
static int next_query(const struct sim *sim, double until)
{
	int query = -1;

	for (unsigned i = 0; i < sim->nqueries; i++)
		if (sim->queries[i].deliver <= until &&
		    (query < 0 || sim->queries[i].deliver < sim->queries[query].deliver))
			query = (int)i;
	return query;
}

/* The measurement: the clock's true offset and what the engine says, at
 * every measure_interval. */
static void measure(struct sim *sim)
{
	struct scenario *sc = sim->sc;
	struct metrics *m = &sim->m;
	double tau = sim->clock.tau;
	double offset = utc(sc, tau) + sc->reference_error - sim_clock_local(&sim->clock);
	struct engine_tracking tr;

	/* the inserted second reads 23:59:60 on one side of the offset and
	 * 00:00:00 on the other: the same instant, not a second's error */
	if (sc->leap_insert && fabs(tau - sim->leap_tau) < 2.0 && fabs(offset + 1.0) < fabs(offset))
		offset += 1.0;
	engine_get_tracking(sim->engine, sim_clock_now(&sim->clock), &tr);
	if (tr.state == SYNC_SYNCHRONIZED && m->first_sync < 0.0)
		m->first_sync = tau;
	if (tr.reason == UNSYNC_INSANE_TIME) {
		m->insane_seen = true;
		m->insane_offset = tr.insane_offset;
	}
	if (tau >= sc->warmup) {
		m->sum2 += offset * offset;
		m->count++;
		m->max = fmax(m->max, fabs(offset));
	}
	if (m->first_sync >= 0.0)
		m->max_after_sync = fmax(m->max_after_sync, fabs(offset));
	if (fabs(offset) > SETTLE_OFFSET)
		m->settled = tau + sc->measure_interval;
	if (sc->leap_insert && tau >= sim->leap_tau && tau < sim->leap_tau + 3600.0)
		m->leap_offset_max = fmax(m->leap_offset_max, fabs(offset));
	if (sc->leap_insert && tau >= sim->leap_tau && (fabs(offset) > SETTLE_OFFSET || m->leap_settled < 0.0))
		m->leap_settled = fabs(offset) > SETTLE_OFFSET ? -1.0 : tau - sim->leap_tau;
	/* a clock that repeats or skips a second shows here as a jump of -1 or +1 */
	if (m->have_last) {
		double jump = (sim_clock_local(&sim->clock) - m->last_local) - (tau - m->last_tau);

		m->clock_jump_min = fmin(m->clock_jump_min, jump);
		m->clock_jump_max = fmax(m->clock_jump_max, jump);
	}
	m->have_last = true;
	m->last_local = sim_clock_local(&sim->clock);
	m->last_tau = tau;
	if (sc->outages) {
		bool in = outage_active(sc->outage, 1, tau);

		if (in && !m->outage_started) {
			m->outage_started = true;
			m->outage_start_offset = offset;
		} else if (!in && m->outage_started && m->outage_end_offset == 0.0 &&
			   tau >= sc->outage[0].start + sc->outage[0].length) {
			m->outage_end_offset = offset;
			m->outage_drift = offset - m->outage_start_offset;
		}
	}
	for (unsigned i = 0; i < sc->servers; i++) {
		struct source_status info;

		if (!engine_get_source(sim->engine, engine_id_of(sim, i), sim_clock_now(&sim->clock), &info))
			continue;
		bool selected = info.selection == SOURCE_SYSTEM_PEER || info.selection == SOURCE_COMBINED;
		bool falseticker = info.selection == SOURCE_FALSETICKER;

		sc->server[i].selected += selected;
		sc->server[i].falseticker += falseticker;
		sc->server[i].selected_after_warmup += selected && tau >= sc->warmup;
		sc->server[i].falseticker_after_warmup += falseticker && tau >= sc->warmup;
	}
	if (sc->trace)
		fprintf(stderr, "%.0f %.9f %s\n", tau, offset, sync_state_str(tr.state));
}

/* "selected_2": server 2's figure (servers count from 1, as in their addresses). */
static void per_server_figure(struct figure *f, const char *what, unsigned index, double value)
{
	snprintf(f->name, sizeof(f->name), "%s_%u", what, index + 1);
	f->value = value;
}

/* The figures the criteria and the report name; returns how many. */
static size_t collect_figures(struct sim *sim, const struct engine_tracking *tr, struct figure *figures)
{
	const struct scenario *sc = sim->sc;
	const struct metrics *m = &sim->m;
	const struct sim_clock *clock = &sim->clock;
	double rms = m->count ? sqrt(m->sum2 / (double)m->count) : 0.0;
	double freq_error = (clock->oscillator + clock->correction) * 1e6;
	unsigned long falseticker_selected = 0;
	unsigned steps_after_first = clock->steps > 1 ? clock->steps - 1 : 0;
	double outage_freq_error = 0.0;
	size_t nf = 0;

	if (sc->outages && sc->outage[0].length > 0.0)
		outage_freq_error = fabs(m->outage_drift / sc->outage[0].length) * 1e6;
	for (unsigned i = 0; i < sc->servers; i++)
		if (sc->server[i].error != 0.0 && fabs(sc->server[i].error) < 1.0 && sc->servers > 2)
			falseticker_selected += sc->server[i].selected;
	figures[nf++] = (struct figure){ "offset_rms", rms };
	figures[nf++] = (struct figure){ "offset_max", m->max };
	figures[nf++] = (struct figure){ "offset_max_after_sync", m->max_after_sync };
	figures[nf++] = (struct figure){ "first_sync", m->first_sync };
	figures[nf++] = (struct figure){ "settled", m->settled };
	figures[nf++] = (struct figure){ "steps", clock->steps };
	figures[nf++] = (struct figure){ "steps_after_first", steps_after_first };
	figures[nf++] = (struct figure){ "freq_error_ppm", fabs(freq_error) };
	figures[nf++] = (struct figure){ "insane_guard", m->insane_seen };
	figures[nf++] = (struct figure){ "clock_touched", sim_clock_touched(clock) };
	figures[nf++] = (struct figure){ "slew_rate_max_ppm", clock->max_slew_rate * 1e6 };
	figures[nf++] = (struct figure){ "correction_rate_max_ppm", clock->max_correction_rate * 1e6 };
	figures[nf++] = (struct figure){ "slew_total_rate_max_ppm", clock->max_slew_total_rate * 1e6 };
	figures[nf++] = (struct figure){ "synchronized_end", tr->state == SYNC_SYNCHRONIZED };
	figures[nf++] = (struct figure){ "unsync_reason_end", tr->reason };
	figures[nf++] = (struct figure){ "falseticker_selected", (double)falseticker_selected };
	figures[nf++] = (struct figure){ "leap_announced_before",
		clock->leap_announced_tau >= 0.0 && clock->leap_announced_tau < sim->leap_tau };
	figures[nf++] = (struct figure){ "leap_applied", clock->leap_applied_tau >= 0.0 };
	figures[nf++] = (struct figure){ "leap_offset_max", m->leap_offset_max };
	figures[nf++] = (struct figure){ "leap_settled", m->leap_settled };
	figures[nf++] = (struct figure){ "clock_jump_min", m->clock_jump_min };
	figures[nf++] = (struct figure){ "clock_jump_max", m->clock_jump_max };
	figures[nf++] = (struct figure){ "outage_drift", fabs(m->outage_drift) };
	figures[nf++] = (struct figure){ "outage_freq_error_ppm", outage_freq_error };
	figures[nf++] = (struct figure){ "refused_calls", clock->refused };
	figures[nf++] = (struct figure){ "final_frequency_ppm", engine_frequency_ppm(sim->engine) };
	figures[nf++] = (struct figure){ "stratum_end", tr->stratum };
	figures[nf++] = (struct figure){ "dns_queries", (double)sim->dns_queries };
	figures[nf++] = (struct figure){ "dns_queries_failed", (double)sim->dns_queries_failed };
	figures[nf++] = (struct figure){ "sources_end", sc->pool ? sim_net_open_sockets() : sc->servers };
	figures[nf++] = (struct figure){ "replacements", (double)sim_net_closes() };
	for (unsigned i = 0; i < sc->servers; i++) {
		const struct sim_server *s = &sc->server[i];
		struct source_status info = { .samples = 0 };
		bool in_use = engine_get_source(sim->engine, engine_id_of(sim, i), sim_clock_now(&sim->clock), &info);

		per_server_figure(&figures[nf++], "selected", i, (double)s->selected_after_warmup);
		per_server_figure(&figures[nf++], "falseticker", i, (double)s->falseticker_after_warmup);
		per_server_figure(&figures[nf++], "samples", i, info.samples);
		per_server_figure(&figures[nf++], "delay_drops", i, (double)info.delay_drops);
		per_server_figure(&figures[nf++], "request_version", i, s->request_version);
		per_server_figure(&figures[nf++], "in_use", i, in_use);
	}
	return nf;
}

static bool criterion_holds(const struct expect *e, double v)
{
	if (!strcmp(e->op, "<="))
		return v <= e->value;
	if (!strcmp(e->op, "<"))
		return v < e->value;
	if (!strcmp(e->op, ">="))
		return v >= e->value;
	if (!strcmp(e->op, ">"))
		return v > e->value;
	if (!strcmp(e->op, "=="))
		return v == e->value;
	return v != e->value;
}

/* The report: one JSON document on one line (tools read a run per line).
 * Returns whether every criterion holds. */
static bool report(struct sim *sim)
{
	const struct scenario *sc = sim->sc;
	const struct sim_clock *clock = &sim->clock;
	struct engine_tracking tr;
	struct figure figures[MAX_FIGURES];
	struct json_writer w;
	bool all_pass = true;
	size_t nf;

	engine_get_tracking(sim->engine, sim_clock_now(&sim->clock), &tr);
	nf = collect_figures(sim, &tr, figures);
	json_writer_init_compact(&w, stdout);
	json_begin_object(&w, NULL);
	json_string(&w, "scenario", sc->name);
	json_integer(&w, "seed", (long long)sc->seed);
	json_real(&w, "duration", sc->duration, 9);
	json_real(&w, "warmup", sc->warmup, 9);
	for (size_t i = 0; i < nf; i++)
		json_real(&w, figures[i].name, figures[i].value, 9);
	json_string(&w, "unsync_reason_text", unsync_reason_str(tr.reason));
	json_number(&w, "insane_offset", sim->m.insane_offset, 6);
	json_begin_array(&w, "step_list");
	for (unsigned i = 0; i < clock->steps && i < SIM_CLOCK_MAX_STEPS; i++) {
		json_begin_object(&w, NULL);
		json_number(&w, "at", clock->step_tau[i], 3);
		json_number(&w, "by", clock->step_amount[i], 9);
		json_end_object(&w);
	}
	json_end_array(&w);
	json_begin_array(&w, "sources");
	for (unsigned i = 0; i < sc->servers; i++) {
		struct source_status info = { .selection = SOURCE_UNUSABLE };

		if (!engine_get_source(sim->engine, engine_id_of(sim, i), sim_clock_now(&sim->clock), &info)) {
			struct net_addr addr = server_addr(i);

			netaddr_format(&addr, info.name, sizeof(info.name));
		}
		json_begin_object(&w, NULL);
		json_string(&w, "name", info.name);
		json_real(&w, "error", sc->server[i].error, 6);
		json_string(&w, "final", source_selection_str(info.selection));
		json_integer(&w, "selected_samples", (long long)sc->server[i].selected);
		json_integer(&w, "falseticker_samples", (long long)sc->server[i].falseticker);
		json_integer(&w, "poll", info.poll);
		json_end_object(&w);
	}
	json_end_array(&w);
	json_begin_array(&w, "log");
	for (unsigned i = 0; i < sim->m.log_count; i++)
		json_string(&w, NULL, sim->m.log[i]);
	json_end_array(&w);
	json_begin_array(&w, "criteria");
	for (unsigned i = 0; i < sc->expects; i++) {
		const struct expect *e = &sc->expect[i];
		double v = NAN;
		bool pass;

		for (size_t k = 0; k < nf; k++)
			if (!strcmp(figures[k].name, e->metric))
				v = figures[k].value;
		if (isnan(v))
			die("expect: unknown metric '%s'", e->metric);
		pass = criterion_holds(e, v);
		all_pass &= pass;
		json_begin_object(&w, NULL);
		json_string(&w, "expect", e->text);
		json_real(&w, "value", v, 9);
		json_bool(&w, "pass", pass);
		json_end_object(&w);
	}
	json_end_array(&w);
	json_bool(&w, "pass", all_pass);
	json_end_object(&w);
	json_writer_finish(&w);
	return all_pass;
}

/* The event loop: the next of a measurement, a reply landing and a poll
 * falling due happens, in virtual time, until the scenario's end. */
static int run(struct scenario *sc)
{
	struct sim sim;
	bool pass;

	sim_start(&sim, sc);
	while (sim.clock.tau < sc->duration) {
		struct timespec now = sim_clock_now(&sim.clock);
		double wake = sim.clock.tau + timespec_diff(engine_next_wakeup(sim.engine), now);
		double next, upstream_wake;
		int flight, query = -1;

		if (sc->pool) {
			upstream_wake = sim.clock.tau + timespec_diff(upstream_next_wakeup(sim.upstream, now), now);
			wake = fmin(wake, upstream_wake);
		}
		next = fmax(wake, sim.clock.tau);
		flight = next_flight(&sim, next);
		if (flight >= 0)
			next = sim.flights[flight].deliver;
		if (sc->pool && (query = next_query(&sim, next)) >= 0) {
			next = sim.queries[query].deliver;
			flight = -1;
		}
		if (sim.next_measure <= next) {
			sim_clock_advance(&sim.clock, sim.next_measure);
			measure(&sim);
			sim.next_measure += sc->measure_interval;
		} else if (query >= 0) {
			sim_clock_advance(&sim.clock, next);
			dns_answer(&sim, (unsigned)query);
		} else if (flight >= 0) {
			sim_clock_advance(&sim.clock, next);
			deliver_flight(&sim, flight);
		} else {
			sim_clock_advance(&sim.clock, next);
			if (!send_due_request(&sim))
				/* the wakeup was computed at the old rate: creep up on it */
				sim_clock_advance(&sim.clock, sim.clock.tau + 1e-6);
		}
	}
	pass = report(&sim);
	upstream_destroy(sim.upstream);
	engine_destroy(sim.engine);
	return pass ? 0 : 1;
}

int main(int argc, char **argv)
{
	struct scenario sc = { .seed = 1, .duration = 7200.0, .warmup = 1800.0, .measure_interval = 1.0 };

	engine_config_defaults(&sc.engine);
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout);
			return 0;
		}
		if (!strncmp(a, "--", 2)) {
			const char *key = a + 2, *eq = strchr(key, '=');
			char name[64];
			const char *value = NULL;

			if (eq) {
				snprintf(name, sizeof(name), "%.*s", (int)(eq - key), key);
				value = eq + 1;
			} else {
				snprintf(name, sizeof(name), "%s", key);
				if (i + 1 < argc && strncmp(argv[i + 1], "--", 2) &&
				    strcmp(name, "quiet") && strcmp(name, "trace") && strcmp(name, "debug") && strcmp(name, "leap-insert") &&
				    strcmp(name, "allow-initial-insane-step"))
					value = argv[++i];
			}
			if (!apply_setting(&sc, name, value)) {
				usage(stderr);
				die("unknown option --%s", name);
			}
			continue;
		}
		parse_scenario_file(&sc, a);
	}
	if (!sc.name[0])
		snprintf(sc.name, sizeof(sc.name), "command line");
	return run(&sc);
}
