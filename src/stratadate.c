/* stratadate: query NTP servers once and set the clock, with ntpdate's
 * command line, output and exit codes. Every address of every server is
 * asked `samples` times in parallel; each server's minimum-delay sample
 * stands for it; the truechimers are found and combined by select_run; the
 * clock is stepped or slewed through linux_clock. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <math.h>
#include <netdb.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "filter.h"
#include "json_writer.h"
#include "linux_clock.h"
#include "privdrop.h"
#include "log.h"
#include "netaddr.h"
#include "ntp_time.h"
#include "packet.h"
#include "refid.h"
#include "reply_check.h"
#include "resolver.h"
#include "select.h"
#include "source.h"
#include "udp.h"

#define PROGRAM "stratadate"
#define DEFAULT_SAMPLES 4
#define MAX_SAMPLES 8
#define DEFAULT_TIMEOUT 1.0
/* Between two requests to one server: ntpd's `limited` counts a spacing
 * below 1 s (rounded) against the client, and its average gate allows about
 * 11 requests at 1 s; chrony's ratelimit allows a burst of 8. */
#define REQUEST_SPACING 1.0
/* ntpdate's rule: at or beyond half a second the clock is stepped. */
#define STEP_THRESHOLD 0.5
/* Our own clock's reading error, added to every sample's dispersion. */
#define LOCAL_PRECISION 1e-6
#define MAX_TARGETS SELECT_MAX_CANDIDATES
#define RECEIVE_BUFFER 1024

struct options {
	bool query_only;
	bool always_step;
	bool always_slew;
	bool json;
	bool debug;
	unsigned samples;
	double timeout;
	unsigned version;
	int family;
};

struct sample {
	bool answered;
	const char *rejected;   /* why the reply was not used; NULL when it was */
	char reason[64];        /* rejected points here when the reason is composed */
	double offset;          /* seconds, true - local */
	double delay;           /* seconds */
	struct ntp_packet reply;
};

struct target {
	const char *name;       /* as given on the command line */
	struct net_addr addr;
	char text[NETADDR_TEXT_LEN]; /* the address alone, as ntpdate prints it */
	int fd;
	unsigned sent;
	unsigned malformed;     /* datagrams that were not NTP packets */
	bool waiting;           /* a request is outstanding */
	bool done;
	ntp_ts cookie;          /* the transmit field of the outstanding request */
	struct timespec t1;     /* CLOCK_REALTIME just before it was sent */
	double sent_at;         /* CLOCK_MONOTONIC seconds, for spacing and timeouts */
	struct sample samples[MAX_SAMPLES];
	char error[160];        /* why the server gives no result, "" when it may */
	int best;               /* index of the minimum-delay usable sample, -1 if none */
	double jitter;
	double root_distance;
	enum select_state state;
	bool candidate;
};

static struct target targets[MAX_TARGETS];
static size_t target_count;

static void stderr_sink(void *ctx, enum log_level level, const char *message)
{
	(void)ctx;
	(void)level;
	fprintf(stderr, "%s: %s\n", PROGRAM, message);
}

static double monotonic_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return timespec_to_double(t);
}

static void usage(FILE *out)
{
	fprintf(out, "usage: %s [-q] [-b | -B] [-u] [-p samples] [-t timeout] [-o version] [-4 | -6]\n"
		"                  [--json] [-d] server ...\n", PROGRAM);
}

static bool parse_number(const char *text, double min, double max, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(text, &end);
	if (errno || end == text || *end || !(v >= min && v <= max))
		return false;
	*out = v;
	return true;
}

/* Returns the index of the first server argument, or -1 after a message. */
static int parse_options(int argc, char **argv, struct options *opt)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	double v;
	int c;

	*opt = (struct options){ .samples = DEFAULT_SAMPLES, .timeout = DEFAULT_TIMEOUT,
				 .version = NTP_VERSION, .family = AF_UNSPEC };
	while ((c = getopt_long(argc, argv, "46bBdhp:qt:o:u", longopts, NULL)) != -1) {
		switch (c) {
		case '4':
			opt->family = AF_INET;
			break;
		case '6':
			opt->family = AF_INET6;
			break;
		case 'b':
			opt->always_step = true;
			break;
		case 'B':
			opt->always_slew = true;
			break;
		case 'd':
			opt->debug = true;
			break;
		case 'q':
			opt->query_only = true;
			break;
		case 'u':
			/* ntpdate's unprivileged source port: ours always is. */
			break;
		case 'j':
			opt->json = true;
			break;
		case 'p':
			if (!parse_number(optarg, 1, MAX_SAMPLES, &v) || v != floor(v)) {
				fprintf(stderr, "%s: -p: samples must be 1 to %d, not '%s'\n", PROGRAM, MAX_SAMPLES, optarg);
				return -1;
			}
			opt->samples = (unsigned)v;
			break;
		case 't':
			if (!parse_number(optarg, 0.1, 60, &opt->timeout)) {
				fprintf(stderr, "%s: -t: timeout must be 0.1 to 60 seconds, not '%s'\n", PROGRAM, optarg);
				return -1;
			}
			break;
		case 'o':
			if (!parse_number(optarg, 1, 4, &v) || v != floor(v)) {
				fprintf(stderr, "%s: -o: version must be 1 to 4, not '%s'\n", PROGRAM, optarg);
				return -1;
			}
			opt->version = (unsigned)v;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
	}
	if (opt->always_step && opt->always_slew) {
		fprintf(stderr, "%s: -b and -B exclude each other\n", PROGRAM);
		return -1;
	}
	if (optind >= argc) {
		usage(stderr);
		return -1;
	}
	return optind;
}

static void add_target(const char *name, const struct net_addr *addr)
{
	for (size_t i = 0; i < target_count; i++)
		if (netaddr_equal(&targets[i].addr, addr))
			return;
	if (target_count == MAX_TARGETS) {
		log_msg(LOG_LEVEL_WARNING, "%s: more than %d addresses in all, the rest are ignored", name, MAX_TARGETS);
		return;
	}
	struct target *t = &targets[target_count++];

	*t = (struct target){ .name = name, .addr = *addr, .fd = -1, .best = -1 };
	netaddr_format(addr, t->text, sizeof(t->text));
}

/* Adds every address of the server; false after a message naming it. */
static bool resolve(const char *arg, int family)
{
	char host[256];
	uint16_t port = NTP_PORT;
	struct net_addr addrs[MAX_TARGETS + 1]; /* one more, so add_target can say what it leaves out */
	size_t count;
	int err;

	if (!netaddr_split_host_port(arg, host, sizeof(host), &port)) {
		fprintf(stderr, "%s: %s: not a server name or address (name, name:port, [v6addr]:port)\n",
			PROGRAM, arg);
		return false;
	}
	err = resolver_lookup(host, family, port, addrs, MAX_TARGETS + 1, &count);
	if (err) {
		fprintf(stderr, "%s: %s: cannot resolve: %s\n", PROGRAM, arg,
			err == EAI_SYSTEM ? strerror(errno) : resolver_error_str(err));
		return false;
	}
	for (size_t i = 0; i < count; i++)
		add_target(arg, &addrs[i]);
	return true;
}

static void fail_target(struct target *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail_target(struct target *t, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(t->error, sizeof(t->error), fmt, ap);
	va_end(ap);
	t->done = true;
	t->waiting = false;
}

static const char *errno_cause(int err)
{
	if (err == -ECONNREFUSED)
		return "connection refused (no NTP server on that port)";
	if (err == -ENETUNREACH || err == -EHOSTUNREACH)
		return "no route to the server";
	return strerror(-err);
}

static bool open_target(struct target *t)
{
	struct net_addr local = { .family = t->addr.family };
	int err;

	t->fd = udp_open(&local);
	if (t->fd < 0) {
		fail_target(t, "cannot open a socket: %s", strerror(-t->fd));
		return false;
	}
	err = udp_connect(t->fd, &t->addr);
	if (err < 0) {
		fail_target(t, "%s", errno_cause(err));
		return false;
	}
	return true;
}

static void send_request(struct target *t, const struct options *opt, double now)
{
	struct ntp_packet request = { .leap = NTP_LEAP_UNSYNC, .version = (uint8_t)opt->version,
				      .mode = NTP_MODE_CLIENT };
	uint8_t buf[NTP_HEADER_LEN];
	int err;

	/* The transmit field is a random nonce, not our clock: it tells
	 * observers nothing, and a reply must echo it to be believed. */
	do {
		if (getrandom(&t->cookie, sizeof(t->cookie), 0) != sizeof(t->cookie))
			t->cookie = (ntp_ts)random() << 32 | (ntp_ts)random();
	} while (t->cookie == 0);
	request.transmit = t->cookie;
	packet_encode(&request, buf);

	clock_gettime(CLOCK_REALTIME, &t->t1);
	err = udp_send(t->fd, buf, sizeof(buf), NULL);
	t->sent_at = now;
	t->sent++;
	if (err < 0) {
		fail_target(t, "%s", errno_cause(err));
		return;
	}
	t->waiting = true;
	log_msg(LOG_LEVEL_DEBUG, "%s: request %u sent", t->text, t->sent);
}

/* The outstanding request is over (answered or timed out); the target is
 * done once every sample has been asked for. */
static void end_request(struct target *t, const struct options *opt)
{
	t->waiting = false;
	if (t->sent >= opt->samples)
		t->done = true;
}

static void finish_sample(struct target *t, struct sample *s, const struct options *opt)
{
	end_request(t, opt);
	if (s->rejected)
		log_msg(LOG_LEVEL_DEBUG, "%s: sample %u rejected: %s", t->text, t->sent, s->rejected);
	else
		log_msg(LOG_LEVEL_DEBUG, "%s: sample %u: stratum %u, offset %+.6f, delay %.6f", t->text, t->sent,
			s->reply.stratum, s->offset, s->delay);
}

/* A reply to the outstanding request of t; rx is T4. */
static void handle_reply(struct target *t, const uint8_t *buf, size_t len, struct timespec rx,
			 const struct options *opt)
{
	struct ntp_packet p;
	enum packet_status status = packet_decode(buf, len, &p, NULL);
	struct sample *s;
	enum reply_verdict verdict;

	if (status != PACKET_OK) {
		t->malformed++;
		log_msg(LOG_LEVEL_DEBUG, "%s: dropped a datagram of %zu bytes: %s", t->text, len,
			packet_status_str(status));
		return;
	}
	verdict = reply_check(&p, t->cookie);
	if (!t->waiting || verdict == REPLY_BOGUS_ORIGIN) {
		/* Late, duplicated or forged: not an answer to what we asked. */
		log_msg(LOG_LEVEL_DEBUG, "%s: dropped a reply: %s", t->text,
			t->waiting ? reply_verdict_str(verdict) : "no request outstanding");
		return;
	}
	s = &t->samples[t->sent - 1];
	s->answered = true;
	s->reply = p;
	if (verdict == REPLY_KOD) {
		char code[5];
		enum kiss_code kiss = reply_kiss_code(&p);

		refid_ascii(p.refid, code);
		/* ntpd sends its unsynchronized stratum 16 as 0 with INIT: not an order.
		 * openntpd sends refid 0 there, which names no kiss code at all. */
		snprintf(s->reason, sizeof(s->reason), code[0] ? "%s (kiss code %s)" : "%s",
			 p.leap == NTP_LEAP_UNSYNC ? "server is unsynchronized" : "kiss-o'-death", code);
		s->rejected = s->reason;
		finish_sample(t, s, opt);
		if (kiss == KISS_DENY || kiss == KISS_RSTR)
			fail_target(t, "kiss-o'-death %s: the server refuses to serve us", code);
		else if (kiss == KISS_RATE)
			t->done = true; /* asked to slow down: no more requests, earlier samples stand */
		return;
	}
	if (verdict != REPLY_OK) {
		s->rejected = reply_verdict_str(verdict);
		finish_sample(t, s, opt);
		return;
	}

	reply_offset_delay(&p, t->t1, rx, &s->offset, &s->delay);
	if (ntp_ts_diff(p.transmit, p.receive) < 0)
		s->rejected = "server transmit time before its receive time";
	else if (s->delay < 0)
		s->rejected = "server held the request longer than the round trip took";
	finish_sample(t, s, opt);
}

static void receive_all(struct target *t, const struct options *opt)
{
	uint8_t buf[RECEIVE_BUFFER];
	struct udp_datagram d;
	ssize_t n;

	while (!t->done && (n = udp_receive(t->fd, buf, sizeof(buf), &d)) != -EAGAIN) {
		if (n < 0) {
			fail_target(t, "%s", errno_cause((int)n));
			return;
		}
		if (d.truncated) {
			log_msg(LOG_LEVEL_DEBUG, "%s: dropped an oversized datagram", t->text);
			continue;
		}
		if (!d.kernel_stamp)
			log_msg(LOG_LEVEL_DEBUG, "%s: no kernel receive timestamp, using the clock after the receive",
				t->text);
		handle_reply(t, buf, (size_t)n, d.rx_time, opt);
	}
}

/* Sends, waits and receives until every target is done. */
static void run_queries(const struct options *opt)
{
	struct pollfd pfds[MAX_TARGETS];
	size_t map[MAX_TARGETS];

	for (size_t i = 0; i < target_count; i++)
		open_target(&targets[i]);
	for (;;) {
		double now = monotonic_now();
		double wake = INFINITY;
		size_t nfds = 0;

		for (size_t i = 0; i < target_count; i++) {
			struct target *t = &targets[i];

			if (t->waiting && now >= t->sent_at + opt->timeout) {
				log_msg(LOG_LEVEL_DEBUG, "%s: request %u timed out", t->text, t->sent);
				end_request(t, opt);
			}
			if (t->done)
				continue;
			if (!t->waiting && (t->sent == 0 || now >= t->sent_at + REQUEST_SPACING))
				send_request(t, opt, now);
			if (t->done)
				continue;
			wake = fmin(wake, t->waiting ? t->sent_at + opt->timeout : t->sent_at + REQUEST_SPACING);
			pfds[nfds] = (struct pollfd){ .fd = t->fd, .events = POLLIN };
			map[nfds++] = i;
		}
		if (nfds == 0)
			return;

		int ms = (int)ceil((wake - now) * 1000);

		if (poll(pfds, nfds, ms < 0 ? 0 : ms) < 0 && errno != EINTR) {
			fprintf(stderr, "%s: poll: %s\n", PROGRAM, strerror(errno));
			exit(1);
		}
		for (size_t k = 0; k < nfds; k++)
			if (pfds[k].revents)
				receive_all(&targets[map[k]], opt);
	}
}

/* The sample that stands for a target with a result (best >= 0). */
static const struct sample *best_sample(const struct target *t)
{
	return &t->samples[t->best];
}

/* The minimum-delay usable sample stands for the server, with the jitter of
 * the others about it and the root distance stratad would give it. */
static void summarize(struct target *t)
{
	unsigned answered = 0, usable = 0;
	double sum = 0;

	for (unsigned i = 0; i < t->sent; i++) {
		struct sample *s = &t->samples[i];

		answered += s->answered;
		if (!s->answered || s->rejected)
			continue;
		usable++;
		if (t->best < 0 || s->delay < t->samples[t->best].delay)
			t->best = (int)i;
	}
	if (t->error[0])
		return;
	if (t->best < 0) {
		const char *last = NULL;

		for (unsigned i = 0; i < t->sent; i++)
			if (t->samples[i].rejected)
				last = t->samples[i].rejected;
		if (answered == 0 && t->malformed > 0)
			snprintf(t->error, sizeof(t->error), "only malformed replies (%u), no NTP answer", t->malformed);
		else if (answered == 0)
			snprintf(t->error, sizeof(t->error), "no reply (%u request%s timed out)", t->sent,
				 t->sent == 1 ? "" : "s");
		else
			snprintf(t->error, sizeof(t->error), "every reply rejected: %s", last);
		return;
	}

	const struct sample *b = best_sample(t);

	for (unsigned i = 0; i < t->sent; i++) {
		struct sample *s = &t->samples[i];

		if (s->answered && !s->rejected && (int)i != t->best)
			sum += (s->offset - b->offset) * (s->offset - b->offset);
	}
	t->jitter = usable > 1 ? sqrt(sum / (usable - 1)) : 0;

	double precision = ldexp(1, b->reply.precision) + LOCAL_PRECISION;
	double dispersion = precision + FILTER_PHI * b->delay;

	t->jitter = fmax(t->jitter, precision);
	t->root_distance = source_distance(ntp_short_to_seconds(b->reply.root_delay),
					   ntp_short_to_seconds(b->reply.root_dispersion), b->delay, dispersion,
					   t->jitter);
	t->candidate = true;
}

static const char *state_str(const struct target *t)
{
	if (!t->candidate)
		return "unusable";
	switch (t->state) {
	case SELECT_FALSETICKER:
		return "falseticker";
	case SELECT_OUTLIER:
		return "outlier";
	case SELECT_COMBINED:
		return "combined";
	case SELECT_SYSTEM_PEER:
		return "system peer";
	}
	return "unknown";
}

/* Selection over every target with a usable sample; the chosen target or NULL. */
static struct target *select_targets(struct select_result *result)
{
	struct select_candidate cands[MAX_TARGETS];
	struct target *which[MAX_TARGETS];
	size_t n = 0;

	for (size_t i = 0; i < target_count; i++) {
		struct target *t = &targets[i];

		if (!t->candidate)
			continue;
		const struct sample *b = best_sample(t);

		cands[n] = (struct select_candidate){
			.offset = b->offset,
			.root_distance = t->root_distance,
			.jitter = t->jitter,
			.root_delay = ntp_short_to_seconds(b->reply.root_delay) + b->delay,
			.root_dispersion = ntp_short_to_seconds(b->reply.root_dispersion) + t->jitter,
			.stratum = b->reply.stratum,
		};
		which[n++] = t;
	}
	*result = (struct select_result){ .status = SELECT_NO_CANDIDATES };
	if (n == 0)
		return NULL;
	select_run(cands, n, 1, -1, result);
	for (size_t i = 0; i < n; i++)
		which[i]->state = cands[i].state;
	return result->status == SELECT_OK ? which[result->system_peer] : NULL;
}

/* ntpdate's syslog-style line: " 4 Dec 10:55:36 stratadate[123]: ..." */
static void print_log_line(FILE *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void print_log_line(FILE *out, const char *fmt, ...)
{
	static const char months[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	time_t now = time(NULL);
	struct tm tm;
	va_list ap;

	localtime_r(&now, &tm);
	fprintf(out, "%2d %s %02d:%02d:%02d %s[%d]: ", tm.tm_mday, months[tm.tm_mon], tm.tm_hour, tm.tm_min,
		tm.tm_sec, PROGRAM, (int)getpid());
	va_start(ap, fmt);
	vfprintf(out, fmt, ap);
	va_end(ap);
	fputc('\n', out);
}

static void print_json(const struct select_result *result, const struct target *chosen, const char *action,
		       bool applied)
{
	struct json_writer w;

	json_writer_init(&w, stdout);
	json_begin_object(&w, NULL);
	json_begin_array(&w, "servers");
	for (size_t i = 0; i < target_count; i++) {
		const struct target *t = &targets[i];

		json_begin_object(&w, NULL);
		json_string(&w, "server", t->name);
		json_string(&w, "address", t->text);
		json_integer(&w, "port", t->addr.port);
		if (t->candidate) {
			const struct sample *b = best_sample(t);
			const struct ntp_packet *r = &b->reply;
			char refid[REFID_TEXT_LEN];

			refid_format(r->refid, r->stratum, refid);
			json_integer(&w, "stratum", r->stratum);
			json_integer(&w, "leap", r->leap);
			json_string(&w, "refid", refid);
			json_number(&w, "root_delay", ntp_short_to_seconds(r->root_delay), 6);
			json_number(&w, "root_dispersion", ntp_short_to_seconds(r->root_dispersion), 6);
			json_number(&w, "offset", b->offset, 9);
			json_number(&w, "delay", b->delay, 9);
			json_number(&w, "jitter", t->jitter, 9);
			json_number(&w, "root_distance", t->root_distance, 9);
		}
		json_string(&w, "selection", state_str(t));
		if (t->error[0])
			json_string(&w, "error", t->error);
		else
			json_null(&w, "error");
		json_begin_array(&w, "samples");
		for (unsigned k = 0; k < t->sent; k++) {
			const struct sample *s = &t->samples[k];

			json_begin_object(&w, NULL);
			if (!s->answered) {
				json_string(&w, "status", "no reply");
			} else {
				json_string(&w, "status", s->rejected ? s->rejected : "ok");
				json_integer(&w, "stratum", s->reply.stratum);
				if (!s->rejected) {
					json_number(&w, "offset", s->offset, 9);
					json_number(&w, "delay", s->delay, 9);
				}
			}
			json_end_object(&w);
		}
		json_end_array(&w);
		json_end_object(&w);
	}
	json_end_array(&w);
	if (chosen) {
		json_begin_object(&w, "result");
		json_string(&w, "system_peer", chosen->text);
		json_number(&w, "offset", result->offset, 9);
		json_number(&w, "jitter", result->jitter, 9);
		json_integer(&w, "truechimers", (long long)result->truechimers);
		json_integer(&w, "survivors", (long long)result->survivors);
		json_end_object(&w);
	} else {
		json_null(&w, "result");
		json_string(&w, "error", select_status_str(result->status));
	}
	json_string(&w, "action", action);
	json_bool(&w, "applied", applied);
	json_end_object(&w);
	json_writer_finish(&w);
}

int main(int argc, char **argv)
{
	struct options opt;
	struct select_result result;
	struct target *chosen;
	int first = parse_options(argc, argv, &opt);
	bool adjust, step, applied = false;
	int status = 0;
	char why[256];

	if (first < 0)
		return 1;
	log_set_sink(stderr_sink, NULL, opt.debug ? LOG_LEVEL_DEBUG : LOG_LEVEL_WARNING);
	for (int i = first; i < argc; i++)
		resolve(argv[i], opt.family);
	if (target_count == 0) {
		print_log_line(stderr, "no servers can be used, exiting");
		return 1;
	}
	/* The sockets are bound: keep only what changing the clock needs, if anything. */
	if (privdrop_shed(!opt.query_only && !opt.debug, why, sizeof(why)) < 0) {
		fprintf(stderr, "%s: %s\n", PROGRAM, why);
		return 1;
	}

	run_queries(&opt);
	for (size_t i = 0; i < target_count; i++) {
		summarize(&targets[i]);
		udp_close(targets[i].fd);
		if (targets[i].error[0])
			fprintf(stderr, "%s: %s (%s): %s\n", PROGRAM, targets[i].name, targets[i].text,
				targets[i].error);
	}
	chosen = select_targets(&result);

	if (!opt.json && (opt.query_only || opt.debug)) {
		for (size_t i = 0; i < target_count; i++) {
			const struct sample *b;

			if (!targets[i].candidate)
				continue;
			b = best_sample(&targets[i]);
			printf("server %s, stratum %u, offset %.6f, delay %.5f\n", targets[i].text, b->reply.stratum,
			       b->offset, b->delay);
		}
	}

	if (!chosen) {
		if (result.status != SELECT_NO_CANDIDATES)
			fprintf(stderr, "%s: %s\n", PROGRAM, select_status_str(result.status));
		if (opt.json)
			print_json(&result, NULL, "none", false);
		print_log_line(stderr, "no server suitable for synchronization found");
		return 1;
	}

	step = opt.always_step || (!opt.always_slew && fabs(result.offset) >= STEP_THRESHOLD);
	/* ntpdate -d goes through every step but never touches the clock. */
	adjust = !opt.query_only && !opt.debug;
	if (adjust) {
		struct linux_clock *clock = linux_clock_create(NULL, true);
		struct clock_ops ops;
		int err;

		if (!clock) {
			fprintf(stderr, "%s: out of memory\n", PROGRAM);
			return 1;
		}
		ops = linux_clock_ops(clock);
		err = step ? ops.step(ops.ctx, result.offset) : ops.slew(ops.ctx, result.offset);
		linux_clock_destroy(clock);
		/* linux_clock has said why (no permission, or the cause). */
		if (err < 0)
			status = 1;
		applied = err == 0;
	}
	if (opt.json)
		print_json(&result, chosen, step ? "step" : "slew", applied);
	else if (status == 0)
		print_log_line(stdout, "%s time server %s offset %.6f sec", step ? "step" : "adjust", chosen->text,
			       result.offset);
	return status;
}
