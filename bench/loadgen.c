/* The load generator of bench/serve: NTP client requests over UDP on
 * loopback, from many sockets (optionally each bound to its own 127.x source
 * address so a rate limiter sees many clients), batched with sendmmsg and
 * recvmmsg so it is not the bottleneck.
 *
 *   loadgen -s ADDR:PORT [-c SOCKETS] [-b FIRST-SOURCE] [-w IN-FLIGHT] [-r RATE]
 *           [-d SECONDS] [-p SERVER-PID]
 *
 * Closed loop (default): every socket keeps IN-FLIGHT requests outstanding and
 * sends a new one for each reply (a request unanswered for 200 ms counts as
 * lost and is replaced). Open loop (-r): RATE requests per second in total,
 * whatever comes back. The send time travels in the transmit timestamp and
 * comes back as the origin, so latency needs no table.
 *
 * Prints one line of key=value: sent, answered, lost (%), answered per second,
 * latency p50 and p99 (µs), and with -p the server's CPU time per answer (µs)
 * from /proc/PID/stat (utime + stime of all its threads). Bounded: -d at most
 * 600 s. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
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
#define MAX_SOCKETS 1024
#define HIST_US 200000          /* latency histogram: 1 µs bins up to 200 ms */
#define LOST_AFTER_NS 200000000LL
#define TICK_NS 500000LL          /* open loop: send what is owed every 0.5 ms */

struct sock {
	int fd;
	unsigned in_flight;
	int64_t last_activity_ns;
};

static struct sock socks[MAX_SOCKETS];
static uint32_t histogram[HIST_US + 1];
static struct sockaddr_in server;
static uint64_t sent, answered, bad;

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

/* Sends count requests on s; returns how many went. */
static unsigned send_requests(struct sock *s, unsigned count)
{
	static uint8_t reqs[BATCH][48];
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	unsigned done = 0;

	if (count > BATCH)
		count = BATCH;
	int64_t t = now_ns();

	for (unsigned i = 0; i < count; i++) {
		memset(reqs[i], 0, 48);
		reqs[i][0] = 0xe3;                /* leap 3, version 4, mode 3 */
		reqs[i][2] = 6;
		put64(reqs[i] + 40, (uint64_t)t); /* nonzero: a monotonic time */
		iov[i] = (struct iovec){ reqs[i], 48 };
		msgs[i].msg_hdr = (struct msghdr){ .msg_name = &server, .msg_namelen = sizeof(server),
						   .msg_iov = &iov[i], .msg_iovlen = 1 };
	}
	while (done < count) {
		int n = sendmmsg(s->fd, msgs + done, count - done, MSG_DONTWAIT);

		if (n <= 0)
			break;
		done += (unsigned)n;
	}
	sent += done;
	s->in_flight += done;
	return done;
}

/* Drains replies on s; returns how many arrived. */
static unsigned receive_replies(struct sock *s)
{
	static uint8_t bufs[BATCH][128];
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	unsigned total = 0;
	int n;

	do {
		for (int i = 0; i < BATCH; i++) {
			iov[i] = (struct iovec){ bufs[i], sizeof(bufs[i]) };
			msgs[i].msg_hdr = (struct msghdr){ .msg_iov = &iov[i], .msg_iovlen = 1 };
		}
		n = recvmmsg(s->fd, msgs, BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			break;
		int64_t t = now_ns();

		for (int i = 0; i < n; i++) {
			int64_t origin = (int64_t)get64(bufs[i] + 24);

			if (msgs[i].msg_len < 48 || (bufs[i][0] & 7) != 4 || origin <= 0 || origin > t) {
				bad++;
				continue;
			}
			int64_t us = (t - origin) / 1000;

			histogram[us > HIST_US ? HIST_US : us]++;
			answered++;
			total++;
		}
	} while (n == BATCH);
	s->in_flight = s->in_flight > total ? s->in_flight - total : 0;
	if (total)
		s->last_activity_ns = now_ns();
	return total;
}

static double percentile(double p)
{
	uint64_t target = (uint64_t)(p * (double)answered), seen = 0;

	for (int i = 0; i <= HIST_US; i++) {
		seen += histogram[i];
		if (seen > target)
			return i;
	}
	return HIST_US;
}

static double cpu_seconds(long pid)
{
	char path[64], line[2048];
	unsigned long utime, stime;
	FILE *f;
	char *p;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	f = fopen(path, "r");
	if (!f || !fgets(line, sizeof(line), f)) {
		if (f)
			fclose(f);
		return -1.0;
	}
	fclose(f);
	/* after "(comm)", fields 3..: utime is field 14, stime 15 */
	p = strrchr(line, ')');
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime, &stime) != 2)
		return -1.0;
	return (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);
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
	fprintf(stderr, "usage: loadgen -s ADDR:PORT [-c SOCKETS] [-b FIRST-SOURCE] [-w IN-FLIGHT] "
			"[-r RATE] [-d SECONDS] [-p SERVER-PID]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	unsigned nsocks = 16, window = 8;
	double rate = 0.0, duration = 5.0;
	long pid = 0;
	const char *source = NULL;
	struct pollfd pfds[MAX_SOCKETS];
	int opt;

	while ((opt = getopt(argc, argv, "s:c:b:w:r:d:p:")) != -1) {
		switch (opt) {
		case 's':
			if (!parse_addr(optarg, &server, true))
				usage();
			break;
		case 'c':
			nsocks = (unsigned)atoi(optarg);
			break;
		case 'b':
			source = optarg;
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
		default:
			usage();
		}
	}
	if (!server.sin_port || nsocks < 1 || nsocks > MAX_SOCKETS || window < 1 || duration <= 0 || duration > 600)
		usage();

	struct sockaddr_in local = { .sin_family = AF_INET };

	if (source && !parse_addr(source, &local, false))
		usage();
	for (unsigned i = 0; i < nsocks; i++) {
		int rcvbuf = 1 << 20;

		socks[i].fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
		if (socks[i].fd < 0)
			return perror("socket"), 1;
		setsockopt(socks[i].fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
		if (source) {
			struct sockaddr_in me = local;

			me.sin_addr.s_addr = htonl(ntohl(local.sin_addr.s_addr) + i);
			if (bind(socks[i].fd, (struct sockaddr *)&me, sizeof(me)) < 0)
				return perror("bind"), 1;
		}
		pfds[i] = (struct pollfd){ .fd = socks[i].fd, .events = POLLIN };
	}

	double cpu_before = pid ? cpu_seconds(pid) : 0.0;
	int64_t start = now_ns(), end = start + (int64_t)(duration * 1e9), next_tick = start;
	double owed = 0.0;
	unsigned rr = 0;

	for (unsigned i = 0; i < nsocks; i++) {
		socks[i].last_activity_ns = start;
		if (rate <= 0.0)
			send_requests(&socks[i], window);
	}
	for (int64_t t = start; t < end; t = now_ns()) {
		if (rate > 0.0 && t >= next_tick) {
			/* open loop: what the rate owes since the last tick, round robin */
			owed += rate * (double)(t - next_tick + TICK_NS) / 1e9;
			next_tick = t + TICK_NS;
			while (owed >= 1.0) {
				unsigned want = owed > BATCH ? BATCH : (unsigned)owed;
				unsigned got = send_requests(&socks[rr++ % nsocks], want);

				owed -= got ? got : want;
			}
		}
		/* open loop: sleep until the next tick, not spin (the server needs the other core) */
		int64_t wait_ns = rate > 0.0 ? next_tick - now_ns() : 10000000LL;
		struct timespec timeout = { 0, wait_ns > 0 ? (long)wait_ns : 0 };

		if (ppoll(pfds, nsocks, &timeout, NULL) < 0 && errno != EINTR)
			return perror("ppoll"), 1;
		for (unsigned i = 0; i < nsocks; i++) {
			struct sock *s = &socks[i];

			if (pfds[i].revents & POLLIN)
				receive_replies(s);
			if (rate > 0.0)
				continue;
			if (s->in_flight > 0 && t - s->last_activity_ns > LOST_AFTER_NS) {
				s->in_flight = 0;
				s->last_activity_ns = t;
			}
			if (s->in_flight < window)
				send_requests(s, window - s->in_flight);
		}
	}
	/* let the last answers in, then count what never came */
	for (int64_t drain = now_ns() + 200000000LL; now_ns() < drain;) {
		poll(pfds, nsocks, 10);
		for (unsigned i = 0; i < nsocks; i++)
			receive_replies(&socks[i]);
	}
	double elapsed = (double)(now_ns() - start) / 1e9 - 0.2;
	double cpu = pid ? cpu_seconds(pid) - cpu_before : -1.0;

	printf("sent=%llu answered=%llu bad=%llu loss_pct=%.3f rps=%.0f p50_us=%.0f p99_us=%.0f",
	       (unsigned long long)sent, (unsigned long long)answered, (unsigned long long)bad,
	       sent ? 100.0 * (double)(sent - answered) / (double)sent : 0.0, (double)answered / elapsed,
	       percentile(0.50), percentile(0.99));
	if (pid)
		printf(" cpu_s=%.2f cpu_us_per_reply=%.2f", cpu, answered ? cpu * 1e6 / (double)answered : 0.0);
	printf("\n");
	return 0;
}
