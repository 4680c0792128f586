/*
 * guest-clock-probe: a small UDP time-echo tool for the strata VM tests.
 *
 * One static binary, used on both sides of the qemu user-mode network:
 *
 *   serve [-p PORT] [-b ADDR] [-t SECONDS] [-c COUNT]
 *       Answer probe requests with this machine's CLOCK_REALTIME: the kernel
 *       receive timestamp of the request (SO_TIMESTAMPNS) and a transmit
 *       timestamp taken just before sending.  Stops after SECONDS or COUNT
 *       requests, whichever comes first (defaults 3600 s, 1000000).
 *
 *   query HOST PORT [-n SAMPLES] [-r ROUNDS] [-i ROUND_INTERVAL_S]
 *                   [-g SAMPLE_GAP_MS] [-w TIMEOUT_MS] [-q]
 *       Measure the offset of the server's clock against ours, NTP style:
 *         offset = ((t2 - t1) + (t3 - t4)) / 2,  delay = (t4 - t1) - (t3 - t2)
 *       Each round sends SAMPLES requests one after another; the sample with
 *       the smallest delay gives the round's offset.  One line per round:
 *         round=K t=HOST_REALTIME offset=S delay=S p10=S p90=S samples=N
 *       (p10/p90 over all samples' offsets of the round), then
 *         median_offset=S rounds=N
 *       Exits 1 when a round got no reply at all.  HOST must be numeric.
 *
 *   step SECONDS
 *       Step CLOCK_REALTIME relatively by SECONDS with
 *       clock_adjtime(ADJ_SETOFFSET | ADJ_NANO): more precise than setting an
 *       absolute time (no read-compute-write race).  Needs CAP_SYS_TIME: run
 *       it only inside the guest.
 *
 *   set-offset HOST PORT TARGET [-n SAMPLES] [-r ROUNDS]
 *       Measure our offset against HOST (like query), then step so that our
 *       clock is TARGET seconds ahead of HOST's.  Guest only, like step.
 *
 *   realmono
 *       Print CLOCK_REALTIME - CLOCK_MONOTONIC in seconds (the reading with
 *       the shortest bracket of 9 tries).  A change of this value between two
 *       calls means the realtime clock was stepped in between (a slew moves
 *       CLOCK_MONOTONIC too).
 *
 *   leapwatch SECONDS
 *       Watch the kernel's clock for SECONDS (at most 600), reading it with
 *       adjtimex() every 10 ms (read only).  One line each time the second
 *       shown or the kernel's leap state changes, the inserted second shown as
 *       23:59:60 (the kernel's TIME_OOP state, in which the clock reads
 *       23:59:59 again):
 *         @@LEAPWATCH 2016-12-31T23:59:60.003 state=OOP realmono=S realraw=S
 *       (realraw: CLOCK_REALTIME - CLOCK_MONOTONIC_RAW, which a slew moves)
 *       then  @@LEAPWATCH-END polls=N oop=0|1 back=S fwd=S  with the largest
 *       fall and rise of CLOCK_REALTIME - CLOCK_MONOTONIC between two polls
 *       (a stepped or inserted second shows as back=-1).
 *
 *   pulse PORT SECONDS
 *       Guest only: a pulse-per-second source for the kernel's pps_parport
 *       driver. For each datagram on UDP PORT, pulse the strobe line of the
 *       emulated parallel port at 0x378 (qemu raises its interrupt, the
 *       driver timestamps it as an assert edge), then echo the datagram.
 *       Ends after SECONDS: "@@PULSES N".
 *
 *   tick HOST PORT SECONDS
 *       Host side of pulse: one datagram at each whole second of
 *       CLOCK_REALTIME for SECONDS, so the guest's pulses mark the host's
 *       seconds. Reads the echoes and ends with
 *         @@TICKS sent=N echoed=M rtt_median=S
 *       (half the round trip estimates how late a pulse is).
 *
 * All loops are bounded in count and time.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/io.h>
#include <sys/socket.h>
#include <sys/timex.h>
#include <time.h>
#include <unistd.h>

#define MAGIC 0x53565031u /* "SVP1" */
#define PKT_LEN 32
#define MAX_SAMPLES 1000
#define MAX_ROUNDS 10000

static int64_t now_ns(clockid_t clk)
{
	struct timespec ts;
	clock_gettime(clk, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void put32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (24 - 8 * i));
}

static uint32_t get32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put64(unsigned char *p, int64_t v)
{
	put32(p, (uint32_t)((uint64_t)v >> 32));
	put32(p + 4, (uint32_t)v);
}

static int64_t get64(const unsigned char *p)
{
	return (int64_t)((uint64_t)get32(p) << 32 | get32(p + 4));
}

static void usage(void)
{
	fputs("usage: guest-clock-probe serve [-p PORT] [-b ADDR] [-t SECONDS] [-c COUNT]\n"
	      "       guest-clock-probe query HOST PORT [-n N] [-r ROUNDS] [-i S] [-g MS] [-w MS] [-q]\n"
	      "       guest-clock-probe step SECONDS\n"
	      "       guest-clock-probe set-offset HOST PORT TARGET [-n N] [-r ROUNDS]\n"
	      "       guest-clock-probe realmono\n"
	      "       guest-clock-probe leapwatch SECONDS\n"
	      "       guest-clock-probe pulse PORT SECONDS\n"
	      "       guest-clock-probe tick HOST PORT SECONDS\n",
	      stderr);
	exit(2);
}

static long num_arg(const char *s, long lo, long hi)
{
	char *end;
	long v = strtol(s, &end, 10);
	if (*s == '\0' || *end != '\0' || v < lo || v > hi) {
		fprintf(stderr, "guest-clock-probe: bad number '%s' (want %ld..%ld)\n", s, lo, hi);
		exit(2);
	}
	return v;
}

static double dbl_arg(const char *s)
{
	char *end;
	double v = strtod(s, &end);
	if (*s == '\0' || *end != '\0' || !isfinite(v)) {
		fprintf(stderr, "guest-clock-probe: bad number '%s'\n", s);
		exit(2);
	}
	return v;
}

static int udp_socket(void)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0) {
		perror("socket");
		exit(1);
	}
	int one = 1;
	/* kernel receive timestamps; fall back to clock_gettime if refused */
	(void)setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one);
	return fd;
}

/* recvmsg with the kernel's receive timestamp (CLOCK_REALTIME) in *rx_ns. */
static ssize_t recv_ts(int fd, unsigned char *buf, size_t len, struct sockaddr_in *from, int64_t *rx_ns)
{
	char ctrl[256];
	struct iovec iov = {buf, len};
	struct msghdr msg = {0};
	msg.msg_name = from;
	msg.msg_namelen = from ? sizeof *from : 0;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = ctrl;
	msg.msg_controllen = sizeof ctrl;
	ssize_t n = recvmsg(fd, &msg, MSG_DONTWAIT);
	int64_t fallback = now_ns(CLOCK_REALTIME);
	if (n < 0)
		return n;
	*rx_ns = fallback;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
			struct timespec ts;
			memcpy(&ts, CMSG_DATA(c), sizeof ts);
			*rx_ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
		}
	}
	return n;
}

static int cmd_serve(int argc, char **argv)
{
	long port = 9123, max_s = 3600, max_count = 1000000;
	const char *bind_addr = "0.0.0.0";
	for (int i = 0; i < argc; i++) {
		if (i + 1 >= argc)
			usage();
		if (!strcmp(argv[i], "-p"))
			port = num_arg(argv[++i], 1, 65535);
		else if (!strcmp(argv[i], "-b"))
			bind_addr = argv[++i];
		else if (!strcmp(argv[i], "-t"))
			max_s = num_arg(argv[++i], 1, 86400);
		else if (!strcmp(argv[i], "-c"))
			max_count = num_arg(argv[++i], 1, 100000000);
		else
			usage();
	}
	int fd = udp_socket();
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	if (inet_pton(AF_INET, bind_addr, &sa.sin_addr) != 1) {
		fprintf(stderr, "guest-clock-probe: bad address %s\n", bind_addr);
		return 2;
	}
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		perror("bind");
		return 1;
	}
	fprintf(stderr, "guest-clock-probe: serving on %s:%ld for at most %ld s\n", bind_addr, port, max_s);
	int64_t deadline = now_ns(CLOCK_MONOTONIC) + (int64_t)max_s * 1000000000;
	long answered = 0;
	while (answered < max_count) {
		int64_t left_ms = (deadline - now_ns(CLOCK_MONOTONIC)) / 1000000;
		if (left_ms <= 0)
			break;
		struct pollfd p = {fd, POLLIN, 0};
		int r = poll(&p, 1, left_ms > 60000 ? 60000 : (int)left_ms);
		if (r < 0 && errno != EINTR) {
			perror("poll");
			return 1;
		}
		if (r <= 0)
			continue;
		unsigned char buf[512];
		struct sockaddr_in from;
		int64_t t2;
		ssize_t n = recv_ts(fd, buf, sizeof buf, &from, &t2);
		if (n != PKT_LEN || get32(buf) != MAGIC)
			continue; /* not ours: never answer, never amplify */
		put64(buf + 16, t2);
		put64(buf + 24, now_ns(CLOCK_REALTIME));
		(void)sendto(fd, buf, PKT_LEN, 0, (struct sockaddr *)&from, sizeof from);
		answered++;
	}
	close(fd);
	return 0;
}

struct sample {
	double offset, delay;
};

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double percentile(double *sorted, int n, double p)
{
	double idx = p * (n - 1);
	int lo = (int)floor(idx), hi = (int)ceil(idx);
	return sorted[lo] + (sorted[hi] - sorted[lo]) * (idx - lo);
}

/* One round: up to n samples; returns how many answered; best = min delay. */
static int one_round(int fd, const struct sockaddr_in *to, int n, int gap_ms, int timeout_ms, uint32_t *seq,
		     struct sample *best, double *p10, double *p90)
{
	double offs[MAX_SAMPLES];
	int got = 0;
	best->delay = INFINITY;
	for (int i = 0; i < n; i++) {
		unsigned char pkt[PKT_LEN] = {0};
		uint32_t my = ++*seq;
		put32(pkt, MAGIC);
		put32(pkt + 4, my);
		int64_t t1 = now_ns(CLOCK_REALTIME);
		put64(pkt + 8, t1);
		if (sendto(fd, pkt, sizeof pkt, 0, (const struct sockaddr *)to, sizeof *to) != PKT_LEN) {
			perror("sendto");
			return got;
		}
		int64_t deadline = now_ns(CLOCK_MONOTONIC) + (int64_t)timeout_ms * 1000000;
		for (int tries = 0; tries < 64; tries++) {
			int64_t left_ms = (deadline - now_ns(CLOCK_MONOTONIC)) / 1000000;
			if (left_ms <= 0)
				break;
			struct pollfd p = {fd, POLLIN, 0};
			if (poll(&p, 1, (int)left_ms) <= 0)
				break;
			unsigned char buf[512];
			int64_t t4;
			ssize_t len = recv_ts(fd, buf, sizeof buf, NULL, &t4);
			if (len != PKT_LEN || get32(buf) != MAGIC || get32(buf + 4) != my || get64(buf + 8) != t1)
				continue; /* stale or foreign: keep waiting */
			int64_t t2 = get64(buf + 16), t3 = get64(buf + 24);
			struct sample s;
			s.offset = ((double)(t2 - t1) + (double)(t3 - t4)) / 2e9;
			s.delay = ((double)(t4 - t1) - (double)(t3 - t2)) / 1e9;
			offs[got++] = s.offset;
			if (s.delay < best->delay)
				*best = s;
			break;
		}
		if (gap_ms > 0 && i + 1 < n)
			usleep((useconds_t)gap_ms * 1000);
	}
	if (got > 0) {
		qsort(offs, (size_t)got, sizeof offs[0], cmp_double);
		*p10 = percentile(offs, got, 0.10);
		*p90 = percentile(offs, got, 0.90);
	}
	return got;
}

static void parse_host_port(const char *host, const char *port, struct sockaddr_in *to)
{
	memset(to, 0, sizeof *to);
	to->sin_family = AF_INET;
	to->sin_port = htons((uint16_t)num_arg(port, 1, 65535));
	if (inet_pton(AF_INET, host, &to->sin_addr) != 1) {
		fprintf(stderr, "guest-clock-probe: HOST must be a numeric IPv4 address: %s\n", host);
		exit(2);
	}
}

/* Runs the rounds; returns 0 and the median of the rounds' offsets, or 1. */
static int measure(const struct sockaddr_in *to, int n, int rounds, double interval, int gap_ms, int timeout_ms,
		   int quiet, double *median)
{
	static double best_offs[MAX_ROUNDS];
	int fd = udp_socket();
	uint32_t seq = (uint32_t)now_ns(CLOCK_MONOTONIC);
	int failed = 0;
	for (int r = 0; r < rounds; r++) {
		int64_t start = now_ns(CLOCK_MONOTONIC);
		struct sample best;
		double p10 = 0, p90 = 0;
		int got = one_round(fd, to, n, gap_ms, timeout_ms, &seq, &best, &p10, &p90);
		if (got == 0) {
			/* not one of n samples answered: the server is not there, stop */
			printf("round=%d no-reply\n", r + 1);
			failed = 1;
			break;
		} else {
			best_offs[r] = best.offset;
			if (!quiet)
				printf("round=%d t=%.6f offset=%.6f delay=%.6f p10=%.6f p90=%.6f samples=%d\n", r + 1,
				       (double)now_ns(CLOCK_REALTIME) / 1e9, best.offset, best.delay, p10, p90, got);
		}
		fflush(stdout);
		if (r + 1 < rounds) {
			int64_t wait_ns = (int64_t)(interval * 1e9) - (now_ns(CLOCK_MONOTONIC) - start);
			if (wait_ns > 0) {
				struct timespec ts = {wait_ns / 1000000000, wait_ns % 1000000000};
				nanosleep(&ts, NULL);
			}
		}
	}
	close(fd);
	if (failed)
		return 1;
	qsort(best_offs, (size_t)rounds, sizeof best_offs[0], cmp_double);
	*median = percentile(best_offs, rounds, 0.5);
	return 0;
}

static int cmd_query(int argc, char **argv)
{
	if (argc < 2)
		usage();
	struct sockaddr_in to;
	parse_host_port(argv[0], argv[1], &to);
	int n = 20, rounds = 1, gap_ms = 2, timeout_ms = 500, quiet = 0;
	double interval = 1.0;
	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "-q")) {
			quiet = 1;
			continue;
		}
		if (i + 1 >= argc)
			usage();
		if (!strcmp(argv[i], "-n"))
			n = (int)num_arg(argv[++i], 1, MAX_SAMPLES);
		else if (!strcmp(argv[i], "-r"))
			rounds = (int)num_arg(argv[++i], 1, MAX_ROUNDS);
		else if (!strcmp(argv[i], "-i"))
			interval = dbl_arg(argv[++i]);
		else if (!strcmp(argv[i], "-g"))
			gap_ms = (int)num_arg(argv[++i], 0, 10000);
		else if (!strcmp(argv[i], "-w"))
			timeout_ms = (int)num_arg(argv[++i], 1, 60000);
		else
			usage();
	}
	if (interval < 0 || interval > 3600)
		usage();
	double median;
	if (measure(&to, n, rounds, interval, gap_ms, timeout_ms, quiet, &median)) {
		printf("median_offset=none rounds=%d\n", rounds);
		return 1;
	}
	printf("median_offset=%.6f rounds=%d\n", median, rounds);
	return 0;
}

/* The guest's kernel is booted with "strata.guest=1" (tests/vm/lib.sh): the
 * only clock this program may step is the guest's own. */
static int running_in_guest(void)
{
	char cmdline[4096] = "";
	FILE *f = fopen("/proc/cmdline", "r");

	if (!f)
		return 0;
	if (!fgets(cmdline, sizeof(cmdline), f))
		cmdline[0] = '\0';
	fclose(f);
	return strstr(cmdline, "strata.guest=1") != NULL;
}

static int step_by(double seconds)
{
	struct timex tx = {0};

	if (!running_in_guest()) {
		fprintf(stderr, "step: refused, this is not the test guest (no strata.guest=1 on the kernel command line)\n");
		return 1;
	}
	int64_t ns = (int64_t)llround(seconds * 1e9);
	tx.modes = ADJ_SETOFFSET | ADJ_NANO;
	/* time.tv_usec holds nanoseconds with ADJ_NANO and must be in [0, 1e9) */
	tx.time.tv_sec = ns / 1000000000;
	tx.time.tv_usec = ns % 1000000000;
	if (tx.time.tv_usec < 0) {
		tx.time.tv_sec -= 1;
		tx.time.tv_usec += 1000000000;
	}
	if (clock_adjtime(CLOCK_REALTIME, &tx) < 0) {
		perror("clock_adjtime(ADJ_SETOFFSET)");
		return 1;
	}
	return 0;
}

static int cmd_step(int argc, char **argv)
{
	if (argc != 1)
		usage();
	double s = dbl_arg(argv[0]);
	if (fabs(s) > 1e8)
		usage();
	if (step_by(s))
		return 1;
	printf("stepped=%.9f\n", s);
	return 0;
}

static int cmd_set_offset(int argc, char **argv)
{
	if (argc < 3)
		usage();
	struct sockaddr_in to;
	parse_host_port(argv[0], argv[1], &to);
	double target = dbl_arg(argv[2]);
	int n = 20, rounds = 3;
	for (int i = 3; i < argc; i++) {
		if (i + 1 >= argc)
			usage();
		if (!strcmp(argv[i], "-n"))
			n = (int)num_arg(argv[++i], 1, MAX_SAMPLES);
		else if (!strcmp(argv[i], "-r"))
			rounds = (int)num_arg(argv[++i], 1, 100);
		else
			usage();
	}
	/* query gives the server's clock minus ours; we want ours minus the server's */
	double server_minus_us;
	if (measure(&to, n, rounds, 0.05, 2, 200, 1, &server_minus_us)) {
		fprintf(stderr, "guest-clock-probe: set-offset: no reply from the server\n");
		return 1;
	}
	double ours = -server_minus_us;
	if (step_by(target - ours))
		return 1;
	printf("offset_before=%.6f stepped=%.6f target=%.6f\n", ours, target - ours, target);
	return 0;
}

static int cmd_realmono(void)
{
	int64_t best_bracket = INT64_MAX, best = 0;
	for (int i = 0; i < 9; i++) {
		int64_t m1 = now_ns(CLOCK_MONOTONIC);
		int64_t rt = now_ns(CLOCK_REALTIME);
		int64_t m2 = now_ns(CLOCK_MONOTONIC);
		if (m2 - m1 < best_bracket) {
			best_bracket = m2 - m1;
			best = rt - (m1 + (m2 - m1) / 2);
		}
	}
	printf("%" PRId64 ".%09" PRId64 "\n", best / 1000000000, best % 1000000000);
	return 0;
}

static const char *leap_state(int state)
{
	switch (state) {
	case TIME_OK: return "OK";
	case TIME_INS: return "INS";
	case TIME_DEL: return "DEL";
	case TIME_OOP: return "OOP";
	case TIME_WAIT: return "WAIT";
	case TIME_ERROR: return "ERROR";
	}
	return "?";
}

/* adjtimex() read (only) between two readings of CLOCK_MONOTONIC and
 * CLOCK_MONOTONIC_RAW, whose midpoints it returns: the one with the
 * shortest bracket of a few, so a guest descheduled between two calls
 * (tens of ms under TCG on a busy host) does not show as a step. */
static int bracketed_adjtimex(struct timex *tx, int64_t *mono, int64_t *raw)
{
	int64_t best_bracket = INT64_MAX;
	int state = -1;

	for (int i = 0; i < 5 && best_bracket > 1000000; i++) {
		struct timex t = {0};
		int64_t r1 = now_ns(CLOCK_MONOTONIC_RAW), m1 = now_ns(CLOCK_MONOTONIC);
		int st = adjtimex(&t);
		int64_t m2 = now_ns(CLOCK_MONOTONIC), r2 = now_ns(CLOCK_MONOTONIC_RAW);

		if (st < 0)
			return st;
		if (r2 - r1 < best_bracket) {
			best_bracket = r2 - r1;
			*tx = t;
			*mono = m1 + (m2 - m1) / 2;
			*raw = r1 + (r2 - r1) / 2;
			state = st;
		}
	}
	return state;
}

static int cmd_leapwatch(int argc, char **argv)
{
	if (argc != 1)
		usage();
	long seconds = num_arg(argv[0], 1, 600), polls = 0;
	int64_t end = now_ns(CLOCK_MONOTONIC) + (int64_t)seconds * 1000000000;
	double back = 0.0, fwd = 0.0, last_rm = 0.0;
	char last[64] = "";
	int last_state = -1, oop = 0;

	while (now_ns(CLOCK_MONOTONIC) < end) {
		struct timex tx = {0};
		int64_t mono = 0, raw = 0;
		int state = bracketed_adjtimex(&tx, &mono, &raw);
		long frac = (tx.status & STA_NANO) ? tx.time.tv_usec : tx.time.tv_usec * 1000;
		double rm = (double)tx.time.tv_sec + frac * 1e-9 - mono * 1e-9;
		double rr = (double)tx.time.tv_sec + frac * 1e-9 - raw * 1e-9;
		time_t sec = tx.time.tv_sec;
		struct tm tm;
		char label[64];

		if (state < 0) {
			perror("adjtimex");
			return 1;
		}
		gmtime_r(&sec, &tm);
		if (state == TIME_OOP) {
			tm.tm_sec = 60; /* the kernel reads 23:59:59 again: show the second it is */
			oop = 1;
		}
		snprintf(label, sizeof(label), "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1,
			 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
		if (polls > 0) {
			back = fmin(back, rm - last_rm);
			fwd = fmax(fwd, rm - last_rm);
		}
		if (strcmp(label, last) || state != last_state)
			printf("@@LEAPWATCH %s.%03ld state=%s realmono=%.6f realraw=%.6f\n", label, frac / 1000000,
			       leap_state(state), rm, rr);
		fflush(stdout);
		snprintf(last, sizeof(last), "%s", label);
		last_state = state;
		last_rm = rm;
		polls++;
		usleep(10000);
	}
	printf("@@LEAPWATCH-END polls=%ld oop=%d back=%.6f fwd=%.6f\n", polls, oop, back, fwd);
	return 0;
}

#define PARPORT_BASE 0x378
#define PARPORT_CONTROL (PARPORT_BASE + 2)
#define PARPORT_STROBE 0x01

static int cmd_pulse(int argc, char **argv)
{
	if (argc != 2)
		usage();
	long port = num_arg(argv[0], 1, 65535), secs = num_arg(argv[1], 1, 3600);
	if (!running_in_guest()) {
		fprintf(stderr, "pulse: refused, this is not the test guest\n");
		return 1;
	}
	if (ioperm(PARPORT_BASE, 3, 1) < 0) {
		perror("ioperm");
		return 1;
	}
	int fd = udp_socket();
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0) {
		perror("bind");
		return 1;
	}
	long pulses = 0;
	int64_t end = now_ns(CLOCK_MONOTONIC) + secs * 1000000000LL;
	for (int64_t left; (left = end - now_ns(CLOCK_MONOTONIC)) > 0;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, (int)(left / 1000000 + 1)) <= 0)
			continue;
		unsigned char buf[64];
		struct sockaddr_in from;
		socklen_t fl = sizeof from;
		ssize_t n = recvfrom(fd, buf, sizeof buf, MSG_DONTWAIT, (struct sockaddr *)&from, &fl);
		if (n <= 0)
			continue;
		/* the driver keeps INTEN and SELECT set: only the strobe moves, and
		 * its fall is what qemu turns into the interrupt */
		unsigned char control = inb(PARPORT_CONTROL);
		outb(control | PARPORT_STROBE, PARPORT_CONTROL);
		outb(control & ~PARPORT_STROBE, PARPORT_CONTROL);
		pulses++;
		(void)sendto(fd, buf, (size_t)n, 0, (struct sockaddr *)&from, fl);
	}
	printf("@@PULSES %ld\n", pulses);
	return 0;
}

static int cmd_tick(int argc, char **argv)
{
	if (argc != 3)
		usage();
	struct sockaddr_in to;
	parse_host_port(argv[0], argv[1], &to);
	long secs = num_arg(argv[2], 1, 3600), sent = 0, echoed = 0;
	static double rtt[3600];
	int fd = udp_socket();
	for (long i = 0; i < secs; i++) {
		struct timespec next;
		clock_gettime(CLOCK_REALTIME, &next);
		next.tv_sec++;
		next.tv_nsec = 0;
		while (clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &next, NULL) == EINTR)
			;
		unsigned char buf[8];
		int64_t t1 = now_ns(CLOCK_MONOTONIC);
		put64(buf, (int64_t)i);
		if (sendto(fd, buf, sizeof buf, 0, (struct sockaddr *)&to, sizeof to) == (ssize_t)sizeof buf)
			sent++;
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, 200) == 1 && recv(fd, buf, sizeof buf, MSG_DONTWAIT) == (ssize_t)sizeof buf &&
		    get64(buf) == i)
			rtt[echoed++] = (double)(now_ns(CLOCK_MONOTONIC) - t1) / 1e9;
	}
	qsort(rtt, (size_t)echoed, sizeof rtt[0], cmp_double);
	printf("@@TICKS sent=%ld echoed=%ld rtt_median=%.6f\n", sent, echoed, echoed ? rtt[echoed / 2] : -1.0);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		usage();
	const char *cmd = argv[1];
	if (!strcmp(cmd, "serve"))
		return cmd_serve(argc - 2, argv + 2);
	if (!strcmp(cmd, "query"))
		return cmd_query(argc - 2, argv + 2);
	if (!strcmp(cmd, "step"))
		return cmd_step(argc - 2, argv + 2);
	if (!strcmp(cmd, "set-offset"))
		return cmd_set_offset(argc - 2, argv + 2);
	if (!strcmp(cmd, "realmono"))
		return cmd_realmono();
	if (!strcmp(cmd, "leapwatch"))
		return cmd_leapwatch(argc - 2, argv + 2);
	if (!strcmp(cmd, "pulse"))
		return cmd_pulse(argc - 2, argv + 2);
	if (!strcmp(cmd, "tick"))
		return cmd_tick(argc - 2, argv + 2);
	usage();
	return 2;
}
