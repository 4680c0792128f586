/* The load generator of bench/serve: NTP client requests over UDP on
 * loopback from many source addresses, so a rate limiter sees many clients.
 *
 *   loadgen -s ADDR:PORT [-c SOURCES] [-b FIRST-SOURCE] [-w IN-FLIGHT] [-r RATE]
 *           [-d SECONDS] [-p SERVER-PID]
 *
 * One socket, bound to the wildcard address, sends from SOURCES successive
 * addresses from FIRST-SOURCE on (IP_PKTINFO per datagram) and receives every
 * answer, 64 datagrams per system call each way. Its cost per request is then
 * below a server's, so the server, not the generator, sets the pace: with one
 * socket per source the generator polled hundreds of sockets for a datagram
 * or two each and was the bottleneck of every server it measured.
 *
 * Every request carries its sequence number in the transmit timestamp, which
 * comes back as the origin; a ring of send times indexed by it gives the
 * latency and tells an answer from a stray. A request unanswered after 200 ms
 * counts as lost. Closed loop (default): SOURCES x IN-FLIGHT requests
 * outstanding in all, a new one sent for each answer or loss, from the next
 * source in turn. Open loop (-r): RATE requests per second in total, whatever
 * comes back.
 *
 * With -n KEYFILE (built with -DLOADGEN_NTS against the build's core
 * library, as bench/serve --nts does), every request is an NTS request
 * (RFC 8915): unique identifier, the cookie and an authenticator under the
 * client-to-server key from KEYFILE (bench/nts_ke's output), the sequence
 * number in the transmit timestamp as before; answers are matched on their
 * header alone (the generator does not decrypt them: its cost per request
 * stays below the server's).
 *
 * With -t, the kernel stamps each answer as it arrives, and the generator
 * measures how long before that the server read the transmit timestamp
 * (T3) it put in the answer: the same clock at both ends, so this is the
 * answer's own time from the server's clock read to our socket, which a
 * client counts as round trip and half of as offset. A server that reads
 * the clock once for a batch of answers, or signs the answers after it,
 * shows it here.
 *
 * Prints one line of key=value: sent, answered, lost (%), answered per second,
 * latency p50 and p99 (µs), with -t the T3-to-arrival p50 and p99 (µs), and
 * with -p the server's CPU time per answer (µs) from /proc/PID/stat (utime +
 * stime of all its threads) and its user-space part (utime). Bounded: -d at
 * most 600 s, at most 2^20 requests outstanding. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/net_tstamp.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64
#define MAX_SOURCES (1u << 20)
#define RING (1u << 20)         /* requests outstanding at most */
#define HIST_US 200000          /* latency histogram: 1 µs bins up to 200 ms */
#define LOST_AFTER_NS 200000000LL
#define TICK_NS 500000LL        /* open loop: send what is owed every 0.5 ms */
#define CONTROL_LEN CMSG_SPACE(sizeof(struct in_pktinfo))
#define REQUEST_MAX 512
/* -t: T3 to arrival in 0.1 µs bins, from -STAMP_NEGATIVE_US on */
#define STAMP_BINS 200001
#define STAMP_NEGATIVE_US 1000
#define STAMP_CONTROL_LEN CMSG_SPACE(3 * sizeof(struct timespec))
#define NTP_UNIX_OFFSET 2208988800.0

/* A request in the ring: its sequence number and when it went, or 0 once
 * answered or lost. */
struct request {
	uint64_t seq;
	int64_t sent_ns;
};

static struct request ring[RING];
static uint64_t next_seq = 1, oldest_seq = 1; /* sent: [oldest_seq, next_seq) */
static uint32_t histogram[HIST_US + 1];
static bool stamps;
static uint32_t stamp_histogram[STAMP_BINS];
static uint64_t stamped;
static struct sockaddr_in server;
static uint64_t answered, lost, bad;
static int fd;
static uint32_t first_source; /* host order; 0: let the kernel choose */
static unsigned sources = 16, next_source;

static void put64(uint8_t *p, uint64_t v);

#ifdef LOADGEN_NTS
#include "nts_ef.h"

static bool nts;
static struct nts_aead nts_c2s;
static struct nts_cookie nts_cookie;
static const uint8_t nts_uid[NTS_UID_LEN] = { 0x55 };

static size_t unhex(const char *text, uint8_t *out, size_t max)
{
	size_t n = 0;
	unsigned byte;

	while (n < max && sscanf(text + 2 * n, "%2x", &byte) == 1)
		out[n++] = (uint8_t)byte;
	return n;
}

/* "c2s HEX" and "cookie HEX" lines. */
static bool nts_load(const char *path)
{
	char line[1024];
	struct nts_key c2s = { .aead = NTS_AEAD_AES_SIV_CMAC_256 };
	FILE *f = fopen(path, "r");

	while (f && fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "c2s ", 4))
			c2s.len = (uint8_t)unhex(line + 4, c2s.value, sizeof(c2s.value));
		else if (!strncmp(line, "cookie ", 7))
			nts_cookie.len = (uint16_t)unhex(line + 7, nts_cookie.data, sizeof(nts_cookie.data));
	}
	if (f)
		fclose(f);
	return c2s.len == 32 && nts_cookie.len > 0 && nts_aead_init(&nts_c2s, &c2s) && (nts = true);
}

/* The NTS fields after the header in req[0..48); the new length. */
static size_t nts_append(uint8_t *req, uint64_t seq)
{
	uint8_t nonce[NTS_NONCE_LEN];

	put64(nonce, seq);
	put64(nonce + 8, ~seq);
	return nts_ef_request_append(&nts_c2s, nts_uid, sizeof(nts_uid), &nts_cookie, 0, nonce, sizeof(nonce), req,
				     48, REQUEST_MAX);
}
#endif

static int64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (56 - 8 * i));
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static uint64_t outstanding(void)
{
	return next_seq - oldest_seq;
}

/* Sends up to count requests (at most BATCH, and never more outstanding than
 * the ring holds), each from the next source; returns how many went. */
static unsigned send_requests(unsigned count)
{
	static uint8_t reqs[BATCH][REQUEST_MAX];
	static uint8_t control[BATCH][CONTROL_LEN] __attribute__((aligned(8)));
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	int n;

	if (count > BATCH)
		count = BATCH;
	if (count > RING - outstanding())
		count = (unsigned)(RING - outstanding());
	for (unsigned i = 0; i < count; i++) {
		memset(reqs[i], 0, 48);
		reqs[i][0] = 0xe3;                      /* leap 3, version 4, mode 3 */
		reqs[i][2] = 6;
		put64(reqs[i] + 40, next_seq + i);      /* transmit: comes back as the origin */
		iov[i] = (struct iovec){ reqs[i], 48 };
#ifdef LOADGEN_NTS
		if (nts)
			iov[i].iov_len = nts_append(reqs[i], next_seq + i);
#endif
		msgs[i].msg_hdr = (struct msghdr){ .msg_name = &server, .msg_namelen = sizeof(server),
						   .msg_iov = &iov[i], .msg_iovlen = 1 };
		if (first_source) {
			struct msghdr *h = &msgs[i].msg_hdr;
			struct in_pktinfo info = { .ipi_spec_dst.s_addr = htonl(first_source + next_source) };
			struct cmsghdr *c;

			h->msg_control = control[i];
			h->msg_controllen = CONTROL_LEN;
			c = CMSG_FIRSTHDR(h);
			c->cmsg_level = IPPROTO_IP;
			c->cmsg_type = IP_PKTINFO;
			c->cmsg_len = CMSG_LEN(sizeof(info));
			memcpy(CMSG_DATA(c), &info, sizeof(info));
			next_source = (next_source + 1) % sources;
		}
	}
	int64_t t = now_ns();

	n = count ? sendmmsg(fd, msgs, count, MSG_DONTWAIT) : 0;
	for (int i = 0; i < n; i++)
		ring[(next_seq + (uint64_t)i) % RING] = (struct request){ next_seq + (uint64_t)i, t };
	if (n <= 0)
		return 0;
	next_seq += (uint64_t)n;
	return (unsigned)n;
}

/* -t: how long before the kernel's arrival stamp the server read T3. */
static void record_stamp(struct msghdr *msg, const uint8_t *answer)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(msg); c; c = CMSG_NXTHDR(msg, c)) {
		struct timespec ts[3];

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_TIMESTAMPING)
			continue;
		memcpy(ts, CMSG_DATA(c), sizeof(ts));
		uint64_t t3 = get64(answer + 40);
		double t3_unix = (double)(t3 >> 32) - NTP_UNIX_OFFSET + (double)(t3 & 0xffffffffu) / 4294967296.0;
		double us = ((double)ts[0].tv_sec - t3_unix + (double)ts[0].tv_nsec * 1e-9) * 1e6;
		double bin = (us + STAMP_NEGATIVE_US) * 10.0;

		stamp_histogram[bin < 0 ? 0 : bin >= STAMP_BINS ? STAMP_BINS - 1 : (int)bin]++;
		stamped++;
		return;
	}
}

/* Drains the answers that are in; returns how many arrived. */
static unsigned receive_replies(void)
{
	static uint8_t bufs[BATCH][128];
	static uint8_t control[BATCH][STAMP_CONTROL_LEN] __attribute__((aligned(8)));
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	unsigned total = 0;
	int n;

	do {
		for (int i = 0; i < BATCH; i++) {
			iov[i] = (struct iovec){ bufs[i], sizeof(bufs[i]) };
			msgs[i].msg_hdr = (struct msghdr){ .msg_iov = &iov[i], .msg_iovlen = 1 };
			if (stamps) {
				msgs[i].msg_hdr.msg_control = control[i];
				msgs[i].msg_hdr.msg_controllen = STAMP_CONTROL_LEN;
			}
		}
		n = recvmmsg(fd, msgs, BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			break;
		int64_t t = now_ns();

		for (int i = 0; i < n; i++) {
			uint64_t seq = get64(bufs[i] + 24);
			struct request *r = &ring[seq % RING];

			if (msgs[i].msg_len < 48 || (bufs[i][0] & 7) != 4 || seq == 0 || r->seq != seq ||
			    r->sent_ns == 0) {
				bad++; /* malformed, a duplicate, or an answer after it was counted lost */
				continue;
			}
			int64_t us = (t - r->sent_ns) / 1000;

			r->sent_ns = 0;
			histogram[us > HIST_US ? HIST_US : us]++;
			if (stamps)
				record_stamp(&msgs[i].msg_hdr, bufs[i]);
			answered++;
			total++;
		}
	} while (n == BATCH);
	return total;
}

/* Moves oldest_seq past the answered, counting what waited too long as lost. */
static void retire(int64_t t)
{
	while (oldest_seq < next_seq) {
		struct request *r = &ring[oldest_seq % RING];

		if (r->sent_ns != 0 && t - r->sent_ns <= LOST_AFTER_NS)
			break;
		if (r->sent_ns != 0) {
			r->sent_ns = 0;
			lost++;
		}
		oldest_seq++;
	}
}

/* The bin below which the share p of count values lie. */
static int percentile(const uint32_t *hist, int bins, uint64_t count, double p)
{
	uint64_t target = (uint64_t)(p * (double)count), seen = 0;

	for (int i = 0; i < bins; i++) {
		seen += hist[i];
		if (seen > target)
			return i;
	}
	return bins - 1;
}

static double stamp_percentile(double p)
{
	return percentile(stamp_histogram, STAMP_BINS, stamped, p) / 10.0 - STAMP_NEGATIVE_US;
}

struct cpu_time {
	double total, user; /* seconds */
};

static bool cpu_time(long pid, struct cpu_time *out)
{
	char path[64], line[2048];
	unsigned long utime, stime;
	double tick = (double)sysconf(_SC_CLK_TCK);
	FILE *f;
	char *p;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	f = fopen(path, "r");
	if (!f || !fgets(line, sizeof(line), f)) {
		if (f)
			fclose(f);
		fprintf(stderr, "loadgen: cannot read %s\n", path);
		return false;
	}
	fclose(f);
	/* after "(comm)", fields 3..: utime is field 14, stime 15 */
	p = strrchr(line, ')');
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime, &stime) != 2) {
		fprintf(stderr, "loadgen: no CPU times in %s\n", path);
		return false;
	}
	out->total = (double)(utime + stime) / tick;
	out->user = (double)utime / tick;
	return true;
}

static bool parse_addr(const char *text, struct sockaddr_in *out, bool with_port)
{
	char host[64];
	const char *colon = strrchr(text, ':');
	size_t len = with_port && colon ? (size_t)(colon - text) : strlen(text);

	if (len >= sizeof(host) || (with_port && !colon))
		return false;
	memcpy(host, text, len);
	host[len] = '\0';
	memset(out, 0, sizeof(*out));
	out->sin_family = AF_INET;
	if (with_port)
		out->sin_port = htons((uint16_t)atoi(colon + 1));
	return inet_pton(AF_INET, host, &out->sin_addr) == 1;
}

static void usage(void)
{
	fprintf(stderr, "usage: loadgen -s ADDR:PORT [-c SOURCES] [-b FIRST-SOURCE] [-w IN-FLIGHT] "
			"[-r RATE] [-d SECONDS] [-p SERVER-PID] [-n KEYFILE] [-t]\n");
	exit(2);
}

static uint64_t in_flight(void)
{
	return next_seq - 1 - answered - lost;
}

/* Closed loop: keep target requests in flight until end. */
static void closed_loop(uint64_t target, int64_t end)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	for (int64_t t = now_ns(); t < end; t = now_ns()) {
		unsigned got = receive_replies();

		retire(t);
		while (in_flight() < target) {
			uint64_t want = target - in_flight();

			if (!send_requests(want < BATCH ? (unsigned)want : BATCH))
				break;
		}
		if (!got && poll(&pfd, 1, 10) < 0 && errno != EINTR)
			exit((perror("poll"), 1));
	}
}

/* Open loop: rate requests per second in all, sent every tick, whatever comes back. */
static void open_loop(double rate, int64_t end)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	int64_t next_tick = now_ns();
	double owed = 0.0;

	for (int64_t t = next_tick; t < end; t = now_ns()) {
		if (t >= next_tick) {
			owed += rate * (double)(t - next_tick + TICK_NS) / 1e9;
			next_tick = t + TICK_NS;
			while (owed >= 1.0) {
				unsigned want = owed > BATCH ? BATCH : (unsigned)owed;
				unsigned went = send_requests(want);

				owed -= went ? went : want;
			}
		}
		/* sleep until the next tick or an answer, not spin (the server needs the other core) */
		int64_t wait_ns = next_tick - now_ns();
		struct timespec timeout = { 0, wait_ns > 0 ? (long)wait_ns : 0 };

		if (ppoll(&pfd, 1, &timeout, NULL) < 0 && errno != EINTR)
			exit((perror("ppoll"), 1));
		receive_replies();
		retire(now_ns());
	}
}

int main(int argc, char **argv)
{
	unsigned window = 8;
	double rate = 0.0, duration = 5.0;
	long pid = 0;
	struct sockaddr_in first = { 0 }, any = { .sin_family = AF_INET };
	int rcvbuf = 4 << 20, probe = IP_PMTUDISC_PROBE;
	int opt;

	while ((opt = getopt(argc, argv, "s:c:b:w:r:d:p:n:t")) != -1) {
		switch (opt) {
		case 's':
			if (!parse_addr(optarg, &server, true))
				usage();
			break;
		case 'c':
			sources = (unsigned)atoi(optarg);
			break;
		case 'b':
			if (!parse_addr(optarg, &first, false))
				usage();
			first_source = ntohl(first.sin_addr.s_addr);
			break;
		case 'w':
			window = (unsigned)atoi(optarg);
			break;
		case 'r':
			rate = atof(optarg);
			break;
		case 'd':
			duration = atof(optarg);
			break;
		case 'p':
			pid = atol(optarg);
			break;
		case 't':
			stamps = true;
			break;
		case 'n':
#ifdef LOADGEN_NTS
			if (!nts_load(optarg))
				return fprintf(stderr, "loadgen: no c2s key and cookie in %s\n", optarg), 2;
			break;
#else
			return fprintf(stderr, "loadgen: built without NTS (-DLOADGEN_NTS)\n"), 2;
#endif
		default:
			usage();
		}
	}
	if (!server.sin_port || sources < 1 || sources > MAX_SOURCES || window < 1 || duration <= 0 ||
	    duration > 600)
		usage();
	/* Bound to the wildcard address, the socket receives the answers sent to
	 * every source. DF spares the kernel an IP ID per request, as in stratad. */
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)) < 0 ||
	    setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &probe, sizeof(probe)) < 0 ||
	    bind(fd, (struct sockaddr *)&any, sizeof(any)) < 0)
		return perror("loadgen: socket"), 1;
	int stamp_flags = SOF_TIMESTAMPING_RX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE;

	if (stamps && setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPING, &stamp_flags, sizeof(stamp_flags)) < 0)
		return perror("loadgen: SO_TIMESTAMPING"), 1;

	struct cpu_time cpu_before = { 0 }, cpu_after = { 0 };

	if (pid && !cpu_time(pid, &cpu_before))
		return 1;
	int64_t start = now_ns(), end = start + (int64_t)(duration * 1e9);

	if (rate > 0.0)
		open_loop(rate, end);
	else
		closed_loop((uint64_t)sources * window, end);
	/* let the last answers in, then count what never came */
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	for (int64_t drain = now_ns() + 200000000LL; now_ns() < drain;) {
		poll(&pfd, 1, 10);
		receive_replies();
	}
	double elapsed = (double)(now_ns() - start) / 1e9 - 0.2;
	if (pid && !cpu_time(pid, &cpu_after))
		return 1;
	uint64_t sent = next_seq - 1;

	printf("sent=%llu answered=%llu bad=%llu loss_pct=%.3f rps=%.0f p50_us=%.0f p99_us=%.0f",
	       (unsigned long long)sent, (unsigned long long)answered, (unsigned long long)bad,
	       sent ? 100.0 * (double)(sent - answered) / (double)sent : 0.0, (double)answered / elapsed,
	       (double)percentile(histogram, HIST_US + 1, answered, 0.50),
	       (double)percentile(histogram, HIST_US + 1, answered, 0.99));
	if (stamps)
		printf(" t3_p50_us=%.1f t3_p99_us=%.1f", stamp_percentile(0.50), stamp_percentile(0.99));
	if (pid) {
		double cpu = cpu_after.total - cpu_before.total, user = cpu_after.user - cpu_before.user;

		printf(" cpu_s=%.2f cpu_us_per_reply=%.2f user_us_per_reply=%.2f", cpu,
		       answered ? cpu * 1e6 / (double)answered : 0.0, answered ? user * 1e6 / (double)answered : 0.0);
	}
	printf("\n");
	return 0;
}
