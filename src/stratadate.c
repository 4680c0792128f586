/* stratadate: query NTP servers once and set the clock, with ntpdate's
 * command line, output and exit codes. It is a short-lived loop around the
 * same client core as stratad: every address of every server is a struct
 * source (source.c: reply checks, kiss codes, clock filter, root distance),
 * asked `samples` times in parallel; the sources that can be candidates are
 * chosen and combined by select_run; the clock is stepped or slewed through
 * linux_clock. Only the timing (requests 1 s apart, a timeout each) and the
 * ntpdate policy (step at 0.5 s, -b, -B) are its own. */
#include "autoconfig.h"

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
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "auth_keyfile.h"
#include "json_writer.h"
#include "linux_clock.h"
#include "privdrop.h"
#include "log.h"
#include "logsink.h"
#include "netaddr.h"
#include "nts_ke_client.h"
#include "ntp_time.h"
#include "packet.h"
#include "refid.h"
#include "resolver.h"
#include "select.h"
#include "source.h"
#include "status.h"
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
/* Our own clock's reading error, log2 seconds (1 us), as source_limits wants it. */
#define LOCAL_PRECISION (-20)
#define MAX_TARGETS SELECT_MAX_CANDIDATES
#define RECEIVE_BUFFER 4096 /* an NTS reply with eight 256-byte cookies takes 2204 */
/* The insane-time guard of a one-shot client. stratad refuses anything past
 * its panic threshold (1000 s); a one-shot client is what sets the clock at
 * boot or after a VM was resumed from an old snapshot, so it allows up to a
 * year, and any offset at all when the local clock reads before this
 * program's epoch (a reset RTC), but never a time before that epoch: no
 * honest server is 10 or 100 years off a working clock. */
#define PANIC_THRESHOLD (366 * 86400.0)
#define STRATA_EPOCH 1767225600 /* 2026-01-01T00:00:00Z */
#define DEFAULT_KEY_FILE "/etc/ntp.keys" /* ntpdate's */

struct options {
	bool query_only;
	bool always_step;
	bool always_slew;
	bool json;
	bool debug;
	bool syslog;
	bool verbose;
	unsigned samples;
	double timeout;
	unsigned version;
	int family;
	long key_id;            /* -a, 0: none */
	const char *key_file;   /* -k, NULL: ntpdate's default */
	const struct auth_key *key; /* key_id's, from key_file; NULL: no authentication */
	bool nts;               /* --nts: NTS-KE to each server first, then only authenticated replies */
	const char *nts_ca;     /* --nts-ca: PEM file of trusted CAs; NULL: the system's store */
};

/* What became of one request, for -d and --json. */
struct sample {
	bool answered;
	char status[96];        /* "ok", or why the reply gave no sample */
	unsigned stratum;
	double offset;          /* seconds, true - local, when status is "ok" */
	double delay;
};

struct target {
	const char *name;       /* as given on the command line */
	struct net_addr addr;
	char address[NETADDR_TEXT_LEN]; /* the address alone */
	char text[NETADDR_TEXT_LEN];    /* as lines print it: the address, with the port when not 123 */
	struct source *src;     /* the client core: checks, kiss codes, filter, distance */
	int fd;
	unsigned sent;
	unsigned malformed;     /* datagrams that were not NTP packets */
	unsigned bogus;         /* datagrams that answered nothing we asked (mode, origin, oversized) */
	unsigned auth_failed;   /* replies without a valid MAC under the -a key */
	char dropped[96];       /* why the last of those was dropped */
	bool waiting;           /* a request is outstanding */
	bool done;
	bool rate_limited;      /* KoD RATE: asked no more, as ntpdate */
	double sent_at;         /* CLOCK_MONOTONIC seconds, for spacing and timeouts */
	struct sample samples[MAX_SAMPLES];
	struct ntp_packet last_reply; /* the last reply that gave a sample, for display */
	char error[200];        /* why the server gives no result, "" when it may */
	bool candidate;
	struct select_candidate cand;
};

static struct target targets[MAX_TARGETS];
static struct auth_keyring keyring; /* -k's, while the sources use its key */
static size_t target_count;
static bool use_syslog;

static double monotonic_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return timespec_to_double(t);
}

static struct timespec realtime_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	return t;
}

/* ntpdate's syslog-style line: " 4 Dec 10:55:36 stratadate[123]: ...", or
 * the message alone to syslog with -s. */
static void report(FILE *out, int priority, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void report(FILE *out, int priority, const char *fmt, ...)
{
	static const char months[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	time_t now = time(NULL);
	struct tm tm;
	va_list ap;

	va_start(ap, fmt);
	if (use_syslog) {
		vsyslog(priority, fmt, ap);
		va_end(ap);
		return;
	}
	localtime_r(&now, &tm);
	fprintf(out, "%2d %s %02d:%02d:%02d %s[%d]: ", tm.tm_mday, months[tm.tm_mon], tm.tm_hour, tm.tm_min,
		tm.tm_sec, PROGRAM, (int)getpid());
	vfprintf(out, fmt, ap);
	va_end(ap);
	fputc('\n', out);
}

/* "stratadate: ..." on stderr, or to syslog with -s. */
static void error_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void error_line(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (use_syslog) {
		vsyslog(LOG_ERR, fmt, ap);
	} else {
		fprintf(stderr, "%s: ", PROGRAM);
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
	}
	va_end(ap);
}

static void usage(FILE *out)
{
	fprintf(out, "usage: %s [-46bBdqsuv] [-a keyid] [-e authdelay] [-k keyfile] [-o version]\n"
		"                  [-p samples] [-t timeout] [--json] [--nts [--nts-ca file]] server ...\n", PROGRAM);
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
		{ "nts", no_argument, NULL, 'N' },
		{ "nts-ca", required_argument, NULL, 'C' },
		{ NULL, 0, NULL, 0 },
	};
	double v;
	int c;

	*opt = (struct options){ .samples = DEFAULT_SAMPLES, .timeout = DEFAULT_TIMEOUT,
				 .version = NTP_VERSION, .family = AF_UNSPEC };
	while ((c = getopt_long(argc, argv, "46a:bBde:hk:o:p:qst:uv", longopts, NULL)) != -1) {
		switch (c) {
		case '4':
			opt->family = AF_INET;
			break;
		case '6':
			opt->family = AF_INET6;
			break;
		case 'a':
			if (!parse_number(optarg, 1, 4294967295.0, &v) || v != floor(v)) {
				fprintf(stderr, "%s: -a: key id must be 1 to 4294967295, not '%s'\n", PROGRAM, optarg);
				return -1;
			}
			opt->key_id = (long)v;
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
		case 'e':
			/* ntpdate's authentication delay: our MACs cost microseconds
			 * and the delay is measured, so it is checked and ignored. */
			if (!parse_number(optarg, 0, 1, &v) || v == 1) {
				fprintf(stderr, "%s: -e: authentication delay must be 0 to below 1 second, not '%s'\n",
					PROGRAM, optarg);
				return -1;
			}
			break;
		case 'k':
			opt->key_file = optarg;
			break;
		case 'q':
			opt->query_only = true;
			break;
		case 's':
			opt->syslog = true;
			break;
		case 'u':
			/* ntpdate's unprivileged source port: ours always is. */
			break;
		case 'v':
			opt->verbose = true;
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
		case 'N':
			opt->nts = true;
			break;
		case 'C':
			opt->nts_ca = optarg;
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
	if (opt->nts && opt->key_id) {
		fprintf(stderr, "%s: --nts and -a exclude each other\n", PROGRAM);
		return -1;
	}
	if (opt->nts_ca && !opt->nts) {
		fprintf(stderr, "%s: --nts-ca needs --nts\n", PROGRAM);
		return -1;
	}
	if (optind >= argc) {
		usage(stderr);
		return -1;
	}
	return optind;
}

static void add_target(const char *name, const struct net_addr *addr, const struct options *opt)
{
	for (size_t i = 0; i < target_count; i++)
		if (netaddr_equal(&targets[i].addr, addr))
			return;
	if (target_count == MAX_TARGETS) {
		log_msg(LOG_LEVEL_WARNING, "%s: more than %d addresses in all, the rest are ignored", name, MAX_TARGETS);
		return;
	}
	struct target *t = &targets[target_count];
	struct source_config cfg = { .addr = *addr, .name = name, .version = opt->version, .key = opt->key,
				     .nts = opt->nts };
	struct source_limits limits = { .precision = LOCAL_PRECISION };

	*t = (struct target){ .name = name, .addr = *addr, .fd = -1 };
	t->src = source_create(&cfg, &limits, realtime_now());
	if (!t->src) {
		fprintf(stderr, "%s: out of memory\n", PROGRAM);
		exit(1);
	}
	netaddr_format(addr, t->address, sizeof(t->address));
	if (addr->port == NTP_PORT)
		netaddr_format(addr, t->text, sizeof(t->text));
	else
		netaddr_format_with_port(addr, t->text, sizeof(t->text));
	target_count++;
}

/* --nts: a key exchange with the server (server[:port], the port the KE
 * server's, 4460 by default) gives the NTP address, keys and cookies. */
static bool key_exchange(const char *arg, const struct options *opt)
{
	struct nts_ke_client_config cfg = { .port = NTS_KE_PORT, .family = opt->family };
	struct nts_ke_result result;
	char why[256];

	if (!netaddr_split_host_port(arg, cfg.name, sizeof(cfg.name), &cfg.port)) {
		error_line("%s: not a server name or address (name, name:port, [v6addr]:port)", arg);
		return false;
	}
	snprintf(cfg.trusted_certs, sizeof(cfg.trusted_certs), "%s", opt->nts_ca ? opt->nts_ca : "");
	if (!nts_ke_client_exchange(&cfg, &result, why, sizeof(why))) {
		error_line("%s: NTS key exchange failed: %s", arg, why);
		return false;
	}
	log_msg(LOG_LEVEL_DEBUG, "%s: NTS key exchange: %s, %zu cookies", arg, nts_aead_name(result.c2s.aead),
		result.n_cookies);
	add_target(arg, &result.ntp_addr, opt);
	for (size_t i = 0; i < target_count; i++)
		if (netaddr_equal(&targets[i].addr, &result.ntp_addr) &&
		    !source_nts_ke_done(targets[i].src, &result, realtime_now())) {
			error_line("%s: NTS: cannot use the negotiated keys", arg);
			return false;
		}
	return true;
}

/* Adds every address of the server; false after a message naming it. */
static bool resolve(const char *arg, const struct options *opt)
{
	char host[256];
	uint16_t port = NTP_PORT;
	struct net_addr addrs[MAX_TARGETS + 1]; /* one more, so add_target can say what it leaves out */
	size_t count;
	int err;

	if (!netaddr_split_host_port(arg, host, sizeof(host), &port)) {
		error_line("%s: not a server name or address (name, name:port, [v6addr]:port)", arg);
		return false;
	}
	err = resolver_lookup(host, opt->family, port, addrs, MAX_TARGETS + 1, &count);
	if (err) {
		error_line("%s: cannot resolve: %s", arg, err == EAI_SYSTEM ? strerror(errno) : resolver_error_str(err));
		return false;
	}
	for (size_t i = 0; i < count; i++)
		add_target(arg, &addrs[i], opt);
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

/* The kernel's time of the request leaving, mostly known right after the
 * send, else on POLLERR (as stratad's upstream reads it). */
static void take_sent_time(struct target *t, bool late)
{
	struct timespec sent;

	if ((late ? udp_late_sent_time(t->fd, &sent) : udp_sent_time(t->fd, &sent)) > 0)
		source_transmitted(t->src, sent);
}

static void send_request(struct target *t, const struct options *opt, double now)
{
	uint8_t buf[SOURCE_REQUEST_MAX];
	size_t len;
	uint32_t nonce;
	int err;

	if (getrandom(&nonce, sizeof(nonce), 0) != sizeof(nonce))
		nonce = (uint32_t)random();
	/* T1 is read just before the send; the source keeps it apart from the
	 * nonce it puts in the transmit field. */
	switch (source_poll(t->src, realtime_now(), nonce, buf, &len)) {
	case SOURCE_STOPPED:
		t->done = true;
		return;
	case SOURCE_NTS_WAITING:
		fail_target(t, "%s", source_last_rejection(t->src));
		return;
	default:
		break;
	}
	err = udp_send(t->fd, buf, len, NULL);
	t->sent_at = now;
	t->sent++;
	if (err < 0) {
		fail_target(t, "%s", errno_cause(err));
		return;
	}
	t->waiting = true;
	take_sent_time(t, false);
	log_msg(LOG_LEVEL_DEBUG, "%s: request %u sent (NTP version %u)", t->text, t->sent, opt->version);
}

/* The outstanding request is over (answered or timed out); the target is
 * done once every sample has been asked for. */
static void end_request(struct target *t, const struct options *opt)
{
	t->waiting = false;
	if (t->sent >= opt->samples)
		t->done = true;
}

static void drop_datagram(struct target *t, unsigned *counter, const char *why)
{
	(*counter)++;
	snprintf(t->dropped, sizeof(t->dropped), "%s", why);
	log_msg(LOG_LEVEL_DEBUG, "%s: dropped a datagram: %s", t->text, why);
}

/* A datagram from the server's address; rx is T4. The source decides what
 * it is; only what to wait for next is decided here. */
static void handle_reply(struct target *t, const uint8_t *buf, size_t len, struct timespec rx,
			 const struct options *opt)
{
	enum source_result r = source_handle_reply(t->src, buf, len, rx);
	struct sample *s = t->sent ? &t->samples[t->sent - 1] : NULL;
	struct filter_sample latest;
	struct source_status st;
	char offset[32];

	switch (r) {
	case SOURCE_MALFORMED:
		drop_datagram(t, &t->malformed, source_last_rejection(t->src));
		return;
	case SOURCE_BOGUS:
		/* Not an answer to what we asked (an injected or stray datagram):
		 * the request stays open and we keep waiting. */
		drop_datagram(t, &t->bogus, source_last_rejection(t->src));
		return;
	case SOURCE_AUTH_FAILED:
		/* -a: unsigned, or not by our key; the request stays open too. */
		drop_datagram(t, &t->auth_failed, source_last_rejection(t->src));
		return;
	case SOURCE_DUPLICATE:
	case SOURCE_STOPPED:
	case SOURCE_POLL_SENT:
	case SOURCE_POLL_UNREACHABLE:
	case SOURCE_NTS_WAITING:
		log_msg(LOG_LEVEL_DEBUG, "%s: dropped a reply: %s", t->text, source_result_str(r));
		return;
	case SOURCE_SAMPLE_ACCEPTED:
	case SOURCE_SAMPLE_HELD:
		source_latest_sample(t->src, &latest);
		packet_decode(buf, len, &t->last_reply, NULL);
		*s = (struct sample){ .answered = true, .stratum = t->last_reply.stratum,
				      .offset = latest.offset, .delay = latest.delay };
		snprintf(s->status, sizeof(s->status), "ok");
		log_msg(LOG_LEVEL_DEBUG, "%s: sample %u: stratum %u, offset %s, delay %.6f", t->text, t->sent,
			s->stratum, status_format_fixed(offset, sizeof(offset), s->offset, 6), s->delay);
		break;
	case SOURCE_UNSYNCHRONIZED:
	case SOURCE_BAD_HEADER:
	case SOURCE_TOO_FAR:
	case SOURCE_DELAY_EXCEEDED:
	case SOURCE_KOD_RATE:
	case SOURCE_KOD_STOP:
	case SOURCE_KOD_OTHER:
	case SOURCE_NTS_NAK:
		source_get_status(t->src, rx, &st);
		*s = (struct sample){ .answered = true, .stratum = st.stratum };
		snprintf(s->status, sizeof(s->status), "%s", source_last_rejection(t->src));
		log_msg(LOG_LEVEL_DEBUG, "%s: sample %u rejected: %s", t->text, t->sent, s->status);
		break;
	}
	end_request(t, opt);
	if (r == SOURCE_NTS_NAK) {
		fail_target(t, "%s", source_last_rejection(t->src));
	} else if (r == SOURCE_KOD_STOP) {
		source_get_status(t->src, rx, &st);
		fail_target(t, "kiss-o'-death %s: the server refuses to serve us", st.kiss);
	} else if (r == SOURCE_KOD_RATE) {
		/* As ntpdate: no more requests to it; earlier samples stand. */
		t->rate_limited = true;
		t->done = true;
	}
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
			drop_datagram(t, &t->bogus, "oversized datagram (more than 4096 bytes)");
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
			error_line("poll: %s", strerror(errno));
			exit(1);
		}
		for (size_t k = 0; k < nfds; k++) {
			if (pfds[k].revents & POLLERR)
				take_sent_time(&targets[map[k]], true);
			if (pfds[k].revents)
				receive_all(&targets[map[k]], opt);
		}
	}
}

/* A candidate for selection, as stratad's sources are; else t->error says why. */
static void summarize(struct target *t, struct timespec now)
{
	unsigned answered = 0;
	const char *last = NULL;

	t->candidate = !t->error[0] && source_select_candidate(t->src, now, &t->cand);
	if (t->candidate || t->error[0])
		return;
	for (unsigned i = 0; i < t->sent; i++) {
		if (!t->samples[i].answered)
			continue;
		answered++;
		if (strcmp(t->samples[i].status, "ok"))
			last = t->samples[i].status;
	}
	if (answered == 0 && t->auth_failed > 0) {
		struct source_status st;

		source_get_status(t->src, now, &st);
		if (st.nts)
			snprintf(t->error, sizeof(t->error), "no reply authenticated by NTS (%u refused: %s)",
				 t->auth_failed, t->dropped);
		else
			snprintf(t->error, sizeof(t->error), "no reply authenticated with key %u (%u refused: %s)",
				 st.key ? st.key->id : 0, t->auth_failed, t->dropped);
	}
	else if (answered == 0 && t->bogus > 0)
		snprintf(t->error, sizeof(t->error), "only bogus replies (%u): %s", t->bogus + t->malformed, t->dropped);
	else if (answered == 0 && t->malformed > 0)
		snprintf(t->error, sizeof(t->error), "only malformed replies (%u), no NTP answer: %s", t->malformed,
			 t->dropped);
	else if (answered == 0)
		snprintf(t->error, sizeof(t->error), "no reply (%u request%s timed out)", t->sent,
			 t->sent == 1 ? "" : "s");
	else
		snprintf(t->error, sizeof(t->error), "every reply rejected: %s",
			 last ? last : "the server is not usable now");
}

static const char *state_str(const struct target *t)
{
	if (!t->candidate)
		return "unusable";
	switch (t->cand.state) {
	case SELECT_FALSETICKER:
		return "falseticker";
	case SELECT_NOT_PREFERRED:
	case SELECT_OUTLIER:
		return "outlier";
	case SELECT_COMBINED:
		return "combined";
	case SELECT_SYSTEM_PEER:
		return "system peer";
	}
	return "unknown";
}

/* Selection over every candidate, as stratad's (quorum 1); the chosen target or NULL. */
static struct target *select_targets(struct select_result *result)
{
	struct select_candidate cands[MAX_TARGETS];
	struct target *which[MAX_TARGETS];
	size_t n = 0;

	for (size_t i = 0; i < target_count; i++) {
		if (!targets[i].candidate)
			continue;
		cands[n] = targets[i].cand;
		which[n++] = &targets[i];
	}
	*result = (struct select_result){ .status = SELECT_NO_CANDIDATES };
	if (n == 0)
		return NULL;
	select_run(cands, n, 1, -1, result);
	for (size_t i = 0; i < n; i++)
		which[i]->cand.state = cands[i].state;
	return result->status == SELECT_OK ? which[result->system_peer] : NULL;
}

/* Why the combined offset must not be used, or NULL: see PANIC_THRESHOLD. */
static const char *insane_time(double offset, struct timespec local)
{
	double corrected = (double)local.tv_sec + offset;

	if (corrected < STRATA_EPOCH)
		return "it would set the clock before 2026";
	if (local.tv_sec >= STRATA_EPOCH && fabs(offset) > PANIC_THRESHOLD)
		return "beyond the one-shot panic threshold of 366 days";
	return NULL;
}

static void print_json(const struct select_result *result, const struct target *chosen, const char *action,
		       bool applied, const char *refused)
{
	struct json_writer w;
	struct timespec now = realtime_now();

	json_writer_init(&w, stdout);
	json_begin_object(&w, NULL);
	json_begin_array(&w, "servers");
	for (size_t i = 0; i < target_count; i++) {
		const struct target *t = &targets[i];
		struct source_status auth;

		json_begin_object(&w, NULL);
		json_string(&w, "server", t->name);
		json_string(&w, "address", t->address);
		json_integer(&w, "port", t->addr.port);
		source_get_status(t->src, now, &auth);
		json_string(&w, "authentication", auth.nts ? "nts" : auth.key ? "symmetric" : "none");
		if (t->candidate) {
			const struct ntp_packet *r = &t->last_reply;
			struct source_status st;
			char refid[REFID_TEXT_LEN];

			source_get_status(t->src, now, &st);
			refid_format(r->refid, r->stratum, refid);
			json_integer(&w, "stratum", r->stratum);
			json_integer(&w, "leap", r->leap);
			json_string(&w, "refid", refid);
			json_number(&w, "root_delay", ntp_short_to_seconds(r->root_delay), 6);
			json_number(&w, "root_dispersion", ntp_short_to_seconds(r->root_dispersion), 6);
			json_number(&w, "offset", st.offset, 9);
			json_number(&w, "delay", st.delay, 9);
			json_number(&w, "jitter", st.jitter, 9);
			json_number(&w, "root_distance", t->cand.root_distance, 9);
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
				json_string(&w, "status", s->status);
				json_integer(&w, "stratum", s->stratum);
				if (!strcmp(s->status, "ok")) {
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
		json_string(&w, "system_peer", chosen->address);
		json_integer(&w, "system_peer_port", chosen->addr.port);
		json_number(&w, "offset", result->offset, 9);
		json_number(&w, "jitter", result->jitter, 9);
		json_integer(&w, "truechimers", (long long)result->truechimers);
		json_integer(&w, "survivors", (long long)result->survivors);
		json_end_object(&w);
	} else {
		json_null(&w, "result");
	}
	if (refused)
		json_string(&w, "error", refused);
	else if (!chosen)
		json_string(&w, "error", select_status_str(result->status));
	json_string(&w, "action", action);
	json_bool(&w, "applied", applied);
	json_end_object(&w);
	json_writer_finish(&w);
}

static void print_server_lines(void)
{
	for (size_t i = 0; i < target_count; i++) {
		struct source_status st;
		char offset[32], delay[32];

		if (!targets[i].candidate)
			continue;
		source_get_status(targets[i].src, realtime_now(), &st);
		printf("server %s, stratum %u, offset %s, delay %s\n", targets[i].text, st.stratum,
		       status_format_fixed(offset, sizeof(offset), st.offset, 6), status_format_fixed(delay, sizeof(delay), st.delay, 5));
	}
}

static void stderr_sink(void *ctx, enum log_level level, const char *message)
{
	(void)ctx;
	(void)level;
	fprintf(stderr, "%s: %s\n", PROGRAM, message);
}

/* -a as ntpdate: the key from -k's file (ntpdate's /etc/ntp.keys by default),
 * chrony's or ntpd's format; -k alone reads nothing, as ntpdate. */
static int load_key(struct options *opt, struct auth_keyring *ring)
{
	char err[512];

	if (!opt->key_id)
		return 0;
	if (!opt->key_file)
		opt->key_file = DEFAULT_KEY_FILE;
	if (auth_keyfile_load(opt->key_file, ring, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s: -k: %s\n", PROGRAM, err);
		return -1;
	}
	opt->key = auth_keyring_find(ring, (uint32_t)opt->key_id);
	if (!opt->key) {
		fprintf(stderr, "%s: -a: key %ld is not in %s\n", PROGRAM, opt->key_id, opt->key_file);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct options opt;
	struct select_result result;
	struct target *chosen;
	int first = parse_options(argc, argv, &opt);
	bool adjust, step, applied = false;
	const char *refused;
	char offset[32];
	int status = 0;
	char why[256];

	if (first < 0 || load_key(&opt, &keyring) < 0)
		return 1;
	use_syslog = opt.syslog;
	if (use_syslog)
		logsink_use_syslog(PROGRAM, opt.debug ? LOG_LEVEL_DEBUG : LOG_LEVEL_WARNING);
	else
		log_set_sink(stderr_sink, NULL, opt.debug ? LOG_LEVEL_DEBUG : LOG_LEVEL_WARNING);
	if (opt.verbose)
		report(stdout, LOG_NOTICE, "%s %s (strata)", PROGRAM, PACKAGE_VERSION);
	for (int i = first; i < argc; i++)
		opt.nts ? key_exchange(argv[i], &opt) : resolve(argv[i], &opt);
	if (target_count == 0) {
		report(stderr, LOG_ERR, "no servers can be used, exiting");
		return 1;
	}
	/* The sockets are bound: keep only what changing the clock needs, if anything. */
	if (privdrop_shed(!opt.query_only && !opt.debug, why, sizeof(why)) < 0) {
		fprintf(stderr, "%s: %s\n", PROGRAM, why);
		return 1;
	}

	run_queries(&opt);
	for (size_t i = 0; i < target_count; i++) {
		struct target *t = &targets[i];

		summarize(t, realtime_now());
		udp_close(t->fd);
		if (t->error[0])
			error_line("%s (%s): %s", t->name, t->text, t->error);
		else if (t->rate_limited)
			error_line("%s (%s): rate limited by the server (kiss code RATE): asked no more", t->name,
				   t->text);
	}
	chosen = select_targets(&result);

	if (!opt.json && (opt.query_only || opt.debug))
		print_server_lines();

	refused = chosen ? insane_time(result.offset, realtime_now()) : NULL;
	if (!chosen || refused) {
		if (refused)
			error_line("insane time: %s puts the clock %s s off, %s; not using it", chosen->text,
				   status_format_fixed(offset, sizeof(offset), result.offset, 3), refused);
		else if (result.status != SELECT_NO_CANDIDATES)
			error_line("%s", select_status_str(result.status));
		if (opt.json)
			print_json(&result, chosen, "none", false, refused);
		report(stderr, LOG_ERR, "no server suitable for synchronization found");
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
			error_line("out of memory");
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
		print_json(&result, chosen, step ? "step" : "slew", applied, NULL);
	else if (status == 0)
		report(stdout, LOG_NOTICE, "%s time server %s offset %s sec", step ? "step" : "adjust", chosen->text,
		       status_format_fixed(offset, sizeof(offset), result.offset, 6));
	for (size_t i = 0; i < target_count; i++)
		source_destroy(targets[i].src);
	return status;
}
