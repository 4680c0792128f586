/* recvmmsg, sendmmsg, pipe2 */
#define _GNU_SOURCE

#include "server.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "acl.h"
#include "log.h"
#include "nts_cookie.h"
#include "nts_cookie_issuer.h"
#include "nts_ke_server.h"
#include "nts_server_keys.h"
#include "ratelimit.h"
#include "serve.h"
#include "serve_stamps.h"
#include "udp.h"

#define BATCH 64
/* Larger than any request we answer (NTS requests run to a few hundred
 * bytes); anything truncated is malformed anyway. */
#define REQUEST_MAX 1024
#define CONTROL_LEN 128 /* room for SCM_TIMESTAMPING's three timespecs */
/* Batches per wakeup before the loop (the daemon's, or a worker's with its
 * stop pipe) gets a turn: under load a socket refills while a batch is
 * answered, and another recvmmsg is far cheaper than a trip around a loop. */
#define BATCHES_PER_WAKEUP 256
/* Answers are sent this many at a time, each chunk as soon as it is signed:
 * an answer's T3 is read before it is signed, and it leaves only after the
 * answers sent with it before it, and half of that time is an error in the
 * client's offset. Under bench/serve's full load (--stamps, median / 99th
 * percentile from T3 to arrival): one sendmmsg per batch of up to 64, 37 /
 * 80 us for plain answers and 102 / 154 us for NTS ones; four at a time,
 * 2.6 / 5.6 and 4.4 / 21 us at no CPU cost we could measure (3.1 / 17 us
 * for NTS since only the authenticator is made after T3: nts_serve.h); one
 * at a time (chronyd's way: 0.8 / 2.0 and 1.2 / 2.5 us), 1.5 / 5.5 us for
 * NTS at 4 % more CPU per answer. */
#define SEND_CHUNK 4
#define DEFAULT_RCVBUF (4 << 20)
/* An answer as the error queue gives it back: the frame's headers, then up
 * to the largest answer */
#define SENT_FRAME_MAX (SERVE_REPLY_MAX + 128)
#define STAMP_CONTROL_LEN 32 /* room for udp_stamp_request's message */
/* How often the master key file is looked at (rotation due, or a new
 * version written by the server we share it with). */
#define NTS_KEYS_CHECK_INTERVAL 60

/* What one serving thread (or the main loop) counts; only it writes. */
struct counters {
	_Atomic uint64_t received, answered, rate_limited, kod_sent, malformed, denied, authenticated, auth_failed;
	_Atomic uint64_t interleaved;
	_Atomic uint64_t nts_requests, nts_answered, nts_naks, nts_auth_failed;
};

/* The published system state, one writer (the main loop), many readers. */
struct seqlock {
	_Atomic uint32_t seq;
	struct serve_snapshot snap;
};

/* New access lists and a new rate limiter table for one worker, handed over
 * by server_reconfigure and taken by the worker itself between batches. */
struct worker_update {
	struct acl acl;
	struct net_prefix *lists; /* what acl refers to: allow, then deny */
	struct ratelimit *rl;
};

struct worker {
	struct server *srv;
	struct acl acl;          /* its own: replaced by the worker alone */
	struct net_prefix *lists; /* what acl refers to */
	_Atomic(struct worker_update *) update; /* pending, NULL: none */
	int *fds;                /* one per listen address, and the poll set the thread waits on */
	struct pollfd *pfds;
	size_t fd_count;
	struct ratelimit *rl;
	pthread_mutex_t rl_lock;  /* taken once per batch, and by server_clients */
	pthread_t thread;
	bool running;
	bool one_at_a_time;      /* sendmsg, not sendmmsg: see send_some */
	struct serve_stamps *stamps; /* interleaved mode: when our answers left */
	struct nts_cookie_keys cookie_keys; /* this thread's keyed copy of the master keys */
	uint32_t cookie_generation;
	struct nts_serve nts;
	struct counters counters __attribute__((aligned(64)));
	/* batch buffers */
	struct mmsghdr in[BATCH], out[BATCH];
	struct iovec in_iov[BATCH], out_iov[BATCH];
	struct sockaddr_storage peers[BATCH];
	uint8_t control[BATCH][CONTROL_LEN] __attribute__((aligned(8)));
	uint8_t stamp_control[STAMP_CONTROL_LEN] __attribute__((aligned(8))); /* the same for every answer */
	size_t stamp_control_len;
	uint8_t requests[BATCH][REQUEST_MAX];
	struct serve_reply replies[BATCH];
};

struct server {
	const struct auth_keyring *keys;
	struct seqlock published __attribute__((aligned(64)));
	unsigned threads;
	size_t worker_count;        /* 1 (the main loop) or threads */
	struct worker *workers;
	int stop_pipe[2];
	int64_t leap_mono_for;      /* the leap second leap_mono is of (note_leap_time) */
	struct timespec leap_mono;
	/* NTS: the master keys (main loop), as published to the threads, and the KE server */
	bool nts_enabled;
	struct nts_server_keys nts_keys;
	time_t nts_next_check;      /* CLOCK_MONOTONIC seconds */
	struct nts_cookie_issuer *issuer;
	struct nts_ke_server *ke;
};

static void fail(char *err, size_t err_len, const char *fmt, const char *what, int error)
{
	char text[NETADDR_TEXT_LEN + 64];

	snprintf(text, sizeof(text), fmt, what);
	snprintf(err, err_len, "%s: %s", text, strerror(error));
}

/* A copy of cfg's allow and deny lists in one allocation, and acl over it. */
static struct net_prefix *copy_lists(const struct serve_config *cfg, struct acl *acl)
{
	size_t n = cfg->allow_count + cfg->deny_count;
	struct net_prefix *lists = malloc(n ? n * sizeof(lists[0]) : 1);

	if (!lists)
		return NULL;
	if (cfg->allow_count)
		memcpy(lists, cfg->allow, cfg->allow_count * sizeof(lists[0]));
	if (cfg->deny_count)
		memcpy(lists + cfg->allow_count, cfg->deny, cfg->deny_count * sizeof(lists[0]));
	*acl = (struct acl){ .allow_count = cfg->allow_count, .allow = lists,
			     .deny_count = cfg->deny_count, .deny = lists + cfg->allow_count };
	return lists;
}

static void free_update(struct worker_update *u)
{
	if (!u)
		return;
	ratelimit_destroy(u->rl);
	free(u->lists);
	free(u);
}

/* Takes a pending reconfiguration: only the worker's own thread (or the main
 * loop for the worker it serves) touches its acl and rl, so nothing locks. */
static void take_update(struct worker *w)
{
	struct worker_update *u = atomic_exchange_explicit(&w->update, NULL, memory_order_acquire);

	if (!u)
		return;
	w->acl = u->acl;
	free(w->lists);
	w->lists = u->lists;
	ratelimit_destroy(w->rl);
	w->rl = u->rl;
	free(u);
}

static void close_worker(struct worker *w)
{
	free_update(atomic_exchange(&w->update, NULL));
	nts_cookie_keys_deinit(&w->cookie_keys);
	for (size_t i = 0; i < w->fd_count; i++)
		udp_close(w->fds[i]);
	w->fd_count = 0;
	free(w->fds);
	free(w->pfds);
	w->fds = NULL;
	w->pfds = NULL;
	ratelimit_destroy(w->rl);
	w->rl = NULL;
	free(w->stamps);
	w->stamps = NULL;
	free(w->lists);
	w->lists = NULL;
}

static void prepare_buffers(struct worker *w)
{
	for (size_t i = 0; i < BATCH; i++) {
		w->in_iov[i] = (struct iovec){ w->requests[i], REQUEST_MAX };
		w->out_iov[i] = (struct iovec){ w->replies[i].bytes, NTP_HEADER_LEN };
	}
	w->stamp_control_len = udp_stamp_request(w->stamp_control, sizeof(w->stamp_control));
}

static int open_worker(struct server *srv, struct worker *w, const struct serve_config *cfg,
		       const struct net_addr *listen, size_t listen_count, size_t required,
		       const struct ratelimit_config *rl_cfg, char *err, size_t err_len)
{
	w->srv = srv;
	prepare_buffers(w);
	pthread_mutex_init(&w->rl_lock, NULL);
	w->lists = copy_lists(cfg, &w->acl);
	w->rl = ratelimit_create(rl_cfg);
	w->stamps = calloc(1, sizeof(*w->stamps));
	w->fds = malloc(listen_count * sizeof(w->fds[0]));
	w->pfds = malloc((listen_count + 1) * sizeof(w->pfds[0]));
	if (!w->rl || !w->stamps || !w->lists || !w->fds || !w->pfds) {
		snprintf(err, err_len, "rate limiter table of %u clients: out of memory", rl_cfg->table_size);
		return -1;
	}
	for (size_t i = 0; i < listen_count; i++) {
		int fd = udp_open_server(&listen[i], cfg->threads, cfg->rcvbuf > 0 ? cfg->rcvbuf : DEFAULT_RCVBUF);
		char text[NETADDR_TEXT_LEN];

		if (fd >= 0) {
			w->fds[w->fd_count++] = fd;
			continue;
		}
		if (i < required) {
			netaddr_format_with_port(&listen[i], text, sizeof(text));
			fail(err, err_len, "serve: cannot listen on %s", text, -fd);
			return -1;
		}
	}
	if (w->fd_count == 0) {
		snprintf(err, err_len, "serve: no address to listen on");
		return -1;
	}
	return 0;
}

/* Listen addresses with their ports, into out[cfg->listen_count]. Returns
 * how many must succeed: every configured one, or one of the default
 * wildcards, since a host may have no IPv6 (or no IPv4). */
static size_t listen_addresses(const struct serve_config *cfg, struct net_addr *out, size_t *count)
{
	uint16_t port = cfg->port ? cfg->port : NTP_PORT;

	*count = cfg->listen_count;
	for (size_t i = 0; i < *count; i++) {
		out[i] = cfg->listen[i];
		if (out[i].port == 0)
			out[i].port = port;
	}
	return cfg->listen_default && *count > 0 ? 1 : *count;
}

/* Nonces for the answers, drawn from GnuTLS a page at a time: each
 * gnutls_rnd call costs about 480 instructions beyond the bytes it makes,
 * more than the 32 bytes an answer uses (callgrind: 800 a call of 32 bytes,
 * 320 per 32 bytes in calls of 2048). One pool per serving thread; a byte
 * handed out is never handed out again. (The only fork after serving starts
 * is config.c's reload parser, which sends nothing.) */
#define NONCE_POOL 2048
static _Thread_local struct {
	uint8_t bytes[NONCE_POOL];
	size_t used;
} nonce_pool = { .used = NONCE_POOL };

static void nts_random(void *out, size_t len)
{
	uint8_t *dst = out;

	while (len > 0) {
		size_t n = NONCE_POOL - nonce_pool.used;

		if (n == 0) {
			if (gnutls_rnd(GNUTLS_RND_NONCE, nonce_pool.bytes, NONCE_POOL) < 0)
				abort(); /* a nonce that may repeat breaks AES-SIV's privacy: never send one */
			nonce_pool.used = 0;
			n = NONCE_POOL;
		}
		if (n > len)
			n = len;
		memcpy(dst, nonce_pool.bytes + nonce_pool.used, n);
		nonce_pool.used += n;
		dst += n;
		len -= n;
	}
}

/* The KE server binds now, while root; the keys come after the drop
 * (server_start), so that their file belongs to the user that rewrites it. */
static int create_nts(struct server *srv, const struct serve_config *cfg, char *err, size_t err_len)
{
	srv->nts_enabled = true;
	srv->nts_keys.path = cfg->nts.keys_file[0] ? cfg->nts.keys_file : NULL;
	srv->nts_keys.rotate = cfg->nts.rotate;
	srv->issuer = nts_cookie_issuer_create();
	if (!srv->issuer) {
		snprintf(err, err_len, "serve.nts: out of memory");
		return -1;
	}
	for (size_t i = 0; i < srv->worker_count; i++)
		srv->workers[i].nts = (struct nts_serve){ &srv->workers[i].cookie_keys, nts_random };
	srv->ke = nts_ke_server_create(cfg, srv->issuer, err, err_len);
	return srv->ke ? 0 : -1;
}

/* Reads or rotates the master keys when due, and hands new ones to the
 * threads. Serving goes on with the keys held when the file cannot be read. */
static int update_nts_keys(struct server *srv, bool force, char *err, size_t err_len)
{
	struct timespec mono, real;
	bool changed;
	int r;

	clock_gettime(CLOCK_MONOTONIC, &mono);
	if (!force && mono.tv_sec < srv->nts_next_check)
		return 0;
	srv->nts_next_check = mono.tv_sec + NTS_KEYS_CHECK_INTERVAL;
	clock_gettime(CLOCK_REALTIME, &real);
	r = nts_server_keys_update(&srv->nts_keys, real.tv_sec, &changed, err, err_len);
	/* A rotated key that could not be saved is still used: its cookies
	 * get NAKs after a restart, which clients recover from. */
	if (changed && srv->nts_keys.keys.count) {
		nts_cookie_issuer_publish(srv->issuer, &srv->nts_keys.keys);
		log_msg(LOG_LEVEL_INFO, "NTS master key %08x current (%zu held)",
			(unsigned)nts_keys_current(&srv->nts_keys.keys)->id, srv->nts_keys.keys.count);
	}
	return r;
}

/* One worker's rate limiter settings, with a fresh random key. */
static int ratelimit_config_for(const struct serve_config *cfg, unsigned threads, struct ratelimit_config *out,
				char *err, size_t err_len)
{
	*out = (struct ratelimit_config){
		.interval = cfg->ratelimit_interval,
		.burst = cfg->ratelimit_burst ? cfg->ratelimit_burst : 1,
		.kod = cfg->ratelimit_kod,
		.table_size = cfg->ratelimit_table_size ? cfg->ratelimit_table_size : 65536,
	};
	if (getrandom(out->key, sizeof(out->key), 0) != (ssize_t)sizeof(out->key)) {
		fail(err, err_len, "serve: %s", "random key for the rate limiter", errno);
		return -1;
	}
	/* Each worker keeps its own table: its socket gets every packet of the
	 * clients steered to it (udp_open_server). */
	if (threads)
		out->table_size = (out->table_size + threads - 1) / threads;
	return 0;
}

struct server *server_create(const struct serve_config *cfg, const struct auth_keyring *keys, char *err,
			     size_t err_len)
{
	struct server *srv = calloc(1, sizeof(*srv));
	struct net_addr *listen;
	size_t listen_count, required;
	struct ratelimit_config rl_cfg;
	struct engine_system unsynchronized = {
		.leap = NTP_LEAP_UNSYNC,
		.stratum = NTP_MAX_STRATUM,
	};

	if (!srv) {
		snprintf(err, err_len, "serve: out of memory");
		return NULL;
	}
	srv->stop_pipe[0] = srv->stop_pipe[1] = -1;
	srv->keys = keys;
	serve_snapshot_from_system(&unsynchronized, &srv->published.snap);
	if (ratelimit_config_for(cfg, cfg->threads, &rl_cfg, err, err_len) < 0) {
		free(srv);
		return NULL;
	}
	srv->threads = cfg->threads;
	srv->worker_count = cfg->threads ? cfg->threads : 1;
	srv->workers = aligned_alloc(64, srv->worker_count * sizeof(srv->workers[0]));
	if (!srv->workers) {
		snprintf(err, err_len, "serve: out of memory");
		free(srv);
		return NULL;
	}
	memset(srv->workers, 0, srv->worker_count * sizeof(srv->workers[0]));
	listen = malloc(cfg->listen_count ? cfg->listen_count * sizeof(listen[0]) : 1);
	if (!listen) {
		snprintf(err, err_len, "serve: out of memory");
		server_destroy(srv);
		return NULL;
	}
	required = listen_addresses(cfg, listen, &listen_count);
	for (size_t i = 0; i < srv->worker_count; i++) {
		if (open_worker(srv, &srv->workers[i], cfg, listen, listen_count, required, &rl_cfg,
				err, err_len) < 0) {
			free(listen);
			server_destroy(srv);
			return NULL;
		}
	}
	free(listen);
	if (cfg->nts.enabled && create_nts(srv, cfg, err, err_len) < 0) {
		server_destroy(srv);
		return NULL;
	}
	return srv;
}

/* Where the smeared leap second falls on the monotonic clock (which the
 * leap does not move), taken while the clock still reads before its last
 * second: the inserted second reads 23:59:59 again. */
static void note_leap_time(struct server *srv, struct serve_snapshot *snap)
{
	struct timespec real, mono;
	/* the clock takes an inserted second at midnight, a deleted one (23:59:59) a second before */
	int64_t moment = snap->leap_when - (snap->leap_sign < 0 ? 1 : 0);

	if (snap->smear.shape == LEAP_SMEAR_OFF || !snap->leap_when)
		return;
	if (srv->leap_mono_for != snap->leap_when) {
		srv->leap_mono_for = snap->leap_when;
		srv->leap_mono = (struct timespec){ 0, 0 };
	}
	clock_gettime(CLOCK_REALTIME, &real);
	clock_gettime(CLOCK_MONOTONIC_COARSE, &mono);
	if (real.tv_sec < moment - 1)
		srv->leap_mono = timespec_add(mono, (double)(moment - real.tv_sec) - real.tv_nsec * 1e-9);
	snap->leap_mono = srv->leap_mono;
}

void server_publish(struct server *srv, const struct engine_system *sys)
{
	struct seqlock *p = &srv->published;
	uint32_t seq = atomic_load_explicit(&p->seq, memory_order_relaxed);
	struct serve_snapshot snap;

	if (srv->nts_enabled) {
		char why[512];

		if (update_nts_keys(srv, false, why, sizeof(why)) < 0)
			log_msg(LOG_LEVEL_WARNING, "serve.nts: master keys: %s (serving on with the keys held)", why);
	}
	serve_snapshot_from_system(sys, &snap);
	note_leap_time(srv, &snap);
	atomic_store_explicit(&p->seq, seq + 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
	p->snap = snap;
	atomic_store_explicit(&p->seq, seq + 2, memory_order_release);
}

static void read_published(struct server *srv, struct serve_snapshot *out)
{
	struct seqlock *p = &srv->published;
	uint32_t before, after;

	do {
		before = atomic_load_explicit(&p->seq, memory_order_acquire);
		*out = p->snap;
		atomic_thread_fence(memory_order_acquire);
		after = atomic_load_explicit(&p->seq, memory_order_relaxed);
	} while (before != after || (before & 1));
}

static void count(_Atomic uint64_t *counter, uint64_t n)
{
	/* Single writer: a plain load and store, no locked instruction. */
	if (n)
		atomic_store_explicit(counter, atomic_load_explicit(counter, memory_order_relaxed) + n,
				      memory_order_relaxed);
}

/* The kernel's stamps of our answers leaving, from fd's error queue (at
 * most max of them), into the worker's table for interleaved mode. */
static void take_sent_stamps(struct worker *w, int fd, unsigned max)
{
	uint8_t frame[SENT_FRAME_MAX];

	for (unsigned i = 0; i < max; i++) {
		struct timespec stamp;
		bool stamped;
		ntp_ts rx;
		ssize_t n = udp_sent_datagram(fd, frame, sizeof(frame), &stamp, &stamped);

		if (n < 0)
			return;
		if (stamped && serve_stamps_answer_rx(frame, (size_t)n, &rx))
			serve_stamps_kernel(w->stamps, rx, stamp);
	}
}

/* Sends from out[first], up to count of them; returns how many, or -1. A
 * descriptor that is not a kernel socket (clknetsim simulates sendmsg but not
 * sendmmsg, which then meets its descriptor as EBADF or ENOTSOCK) or a kernel
 * without sendmmsg turns this worker to one sendmsg per datagram for good.
 * Then a stamped answer's stamp is read right after it: clknetsim keeps
 * only the last one, and reads an empty error queue as the next request. */
static int send_some(struct worker *w, int fd, unsigned first, unsigned count)
{
	if (!w->one_at_a_time) {
		int n = sendmmsg(fd, w->out + first, count, MSG_DONTWAIT);

		if (n >= 0 || (errno != EBADF && errno != ENOTSOCK && errno != ENOSYS))
			return n;
		w->one_at_a_time = true;
	}
	if (sendmsg(fd, &w->out[first].msg_hdr, MSG_DONTWAIT) < 0)
		return -1;
	if (w->out[first].msg_hdr.msg_controllen)
		take_sent_stamps(w, fd, 1);
	return 1;
}

/* Sends out[first..end), retrying after a partial send; what the socket
 * refuses (a full send buffer, an error particular to one peer) is lost like
 * any UDP datagram and not counted. Returns how many were sent, and adds
 * how many of them were kisses to *kods_sent. */
static unsigned send_batch(struct worker *w, int fd, unsigned first, unsigned end, const bool *is_kod,
			   unsigned *kods_sent)
{
	unsigned next = first, sent = 0;

	while (next < end) {
		int n = send_some(w, fd, next, end - next);

		if (n < 0) {
			if (errno != EINTR)
				next++; /* this one is lost; go on with the rest */
			continue;
		}
		for (int i = 0; i < n; i++)
			*kods_sent += is_kod[next + (unsigned)i];
		next += (unsigned)n;
		sent += (unsigned)n;
	}
	return sent;
}

/* The thread's keyed master keys, renewed after the main loop published
 * others (a rotation: weekly); an atomic load per batch otherwise. */
static void refresh_cookie_keys(struct worker *w)
{
	struct nts_master_keys keys;

	if (nts_cookie_issuer_generation(w->srv->issuer) == w->cookie_generation)
		return;
	nts_cookie_keys_deinit(&w->cookie_keys);
	w->cookie_generation = nts_cookie_issuer_copy(w->srv->issuer, &keys);
	if (!nts_cookie_keys_init(&w->cookie_keys, &keys))
		log_msg(LOG_LEVEL_ERROR, "serve.nts: cannot key the master keys: NTS requests go unanswered");
	memset(&keys, 0, sizeof(keys));
}

/* One recvmmsg batch from fd, answered in one send_batch. Returns the
 * number of datagrams received (0 when the socket is drained). */
static int serve_batch(struct worker *w, int fd)
{
	struct server *srv = w->srv;
	struct serve_snapshot snap;
	struct timespec fallback_rx, now_mono, tx;
	struct serve_counters t = { 0 };
	bool is_kod[BATCH];
	unsigned out = 0, kods_sent = 0, sent = 0;
	int n;

	for (int i = 0; i < BATCH; i++) {
		w->in[i].msg_hdr = (struct msghdr){
			.msg_name = &w->peers[i],
			.msg_namelen = sizeof(w->peers[i]),
			.msg_iov = &w->in_iov[i],
			.msg_iovlen = 1,
			.msg_control = w->control[i],
			.msg_controllen = CONTROL_LEN,
		};
	}
	n = recvmmsg(fd, w->in, BATCH, MSG_DONTWAIT, NULL);
	if (n <= 0)
		return 0;
	clock_gettime(CLOCK_REALTIME, &fallback_rx);
	clock_gettime(CLOCK_MONOTONIC_COARSE, &now_mono);
	read_published(srv, &snap);
	if (srv->nts_enabled)
		refresh_cookie_keys(w);

	pthread_mutex_lock(&w->rl_lock);
	for (int i = 0; i < n; i++) {
		struct msghdr *msg = &w->in[i].msg_hdr;
		struct serve_request req = {
			.bytes = w->requests[i],
			.len = w->in[i].msg_len,
			.truncated = (msg->msg_flags & MSG_TRUNC) != 0,
			.now = now_mono,
			.nts = w->cookie_keys.count ? &w->nts : NULL,
			.stamps = w->stamps,
		};

		t.received++;
		if (!netaddr_from_sockaddr(msg->msg_name, msg->msg_namelen, &req.peer)) {
			t.malformed++;
			continue;
		}
		if (!udp_rx_timestamp(msg, &req.rx))
			req.rx = fallback_rx;
		switch (serve_request(&w->acl, srv->keys, w->rl, &snap, &req, &w->replies[out])) {
		case SERVE_DENIED:
			t.denied++;
			continue;
		case SERVE_MALFORMED:
			t.malformed++;
			continue;
		case SERVE_LIMITED:
			t.rate_limited++;
			continue;
		case SERVE_AUTH_FAILED:
			t.auth_failed++;
			continue;
		case SERVE_NTS_AUTH_FAILED:
			t.nts_requests++;
			t.nts_auth_failed++;
			continue;
		case SERVE_NTS_NAK:
			t.nts_requests++;
			t.nts_naks++;
			is_kod[out] = true;
			break;
		case SERVE_KISS:
			t.rate_limited++;
			is_kod[out] = true;
			break;
		case SERVE_ANSWER:
			t.nts_requests += w->replies[out].nts.active;
			is_kod[out] = false;
			break;
		}
		w->out[out].msg_hdr = (struct msghdr){
			.msg_name = msg->msg_name,
			.msg_namelen = msg->msg_namelen,
			.msg_iov = &w->out_iov[out],
			.msg_iovlen = 1,
		};
		/* the kernel stamps only what a client will ask for */
		if (w->replies[out].remember && w->stamp_control_len) {
			w->out[out].msg_hdr.msg_control = w->stamp_control;
			w->out[out].msg_hdr.msg_controllen = w->stamp_control_len;
		}
		out++;
	}
	pthread_mutex_unlock(&w->rl_lock);

	if (out) {
		unsigned kept = 0, unsent = 0, stamped = 0;

		for (unsigned i = 0; i < out; i++) {
			bool nts = w->replies[i].nts.active && !w->replies[i].nts_nak;
			size_t len;

			/* As late as we can: each answer its own reading, and sent
			 * with the few signed next to it (SEND_CHUNK). */
			if (!is_kod[i]) {
				clock_gettime(CLOCK_REALTIME, &tx);
				serve_reply_sending(&w->replies[i], w->stamps, tx);
			}
			len = serve_sign_reply(&w->replies[i]);
			if (len == 0)
				continue; /* NTS fields that could not be made: nothing rather than a bare header */
			w->out_iov[i].iov_len = len;
			t.authenticated += w->replies[i].key != NULL;
			t.nts_answered += nts;
			t.interleaved += w->replies[i].interleaved;
			stamped += w->out[i].msg_hdr.msg_controllen != 0;
			w->out[kept] = w->out[i];
			is_kod[kept++] = is_kod[i];
			if (kept - unsent == SEND_CHUNK) {
				sent += send_batch(w, fd, unsent, kept, is_kod, &kods_sent);
				unsent = kept;
			}
		}
		sent += send_batch(w, fd, unsent, kept, is_kod, &kods_sent);
		if (stamped && !w->one_at_a_time)
			take_sent_stamps(w, fd, stamped);
		t.answered = sent - kods_sent;
		t.kod_sent = kods_sent;
	}

	count(&w->counters.received, t.received);
	count(&w->counters.answered, t.answered);
	count(&w->counters.rate_limited, t.rate_limited);
	count(&w->counters.kod_sent, t.kod_sent);
	count(&w->counters.malformed, t.malformed);
	count(&w->counters.denied, t.denied);
	count(&w->counters.authenticated, t.authenticated);
	count(&w->counters.auth_failed, t.auth_failed);
	count(&w->counters.nts_requests, t.nts_requests);
	count(&w->counters.nts_answered, t.nts_answered);
	count(&w->counters.interleaved, t.interleaved);
	count(&w->counters.nts_naks, t.nts_naks);
	count(&w->counters.nts_auth_failed, t.nts_auth_failed);
	return n;
}

static struct worker *worker_of_fd(struct server *srv, int fd)
{
	for (size_t i = 0; i < srv->worker_count; i++)
		for (size_t j = 0; j < srv->workers[i].fd_count; j++)
			if (srv->workers[i].fds[j] == fd)
				return &srv->workers[i];
	return NULL;
}

/* Serves fd until it is drained or a bounded number of batches went by, so
 * a flood cannot keep the caller from its other work (the main loop's
 * timers, a worker's stop pipe). A short batch means the queue was empty a
 * moment ago: asking again would most often cost a system call for nothing,
 * and what came in since wakes the caller's poll at once. */
static void drain(struct worker *w, int fd, short revents)
{
	take_update(w);
	/* stamps that came after we looked (a real interface's) */
	if (revents & POLLERR)
		take_sent_stamps(w, fd, BATCH);
	for (int i = 0; i < BATCHES_PER_WAKEUP; i++)
		if (serve_batch(w, fd) < BATCH)
			break;
}

void server_handle_ready(struct server *srv, int fd, short revents)
{
	struct worker *w = srv->threads ? NULL : worker_of_fd(srv, fd);

	if (w)
		drain(w, fd, revents);
}

size_t server_socket_count(const struct server *srv)
{
	return srv->threads ? 0 : srv->workers[0].fd_count;
}

size_t server_poll_fds(const struct server *srv, int *fds, size_t max)
{
	size_t n = 0;

	if (srv->threads)
		return 0;
	for (size_t i = 0; i < srv->workers[0].fd_count && n < max; i++)
		fds[n++] = srv->workers[0].fds[i];
	return n;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct pollfd *pfds = w->pfds;
	size_t nfds = w->fd_count;

	for (size_t i = 0; i < nfds; i++)
		pfds[i] = (struct pollfd){ .fd = w->fds[i], .events = POLLIN };
	pfds[nfds] = (struct pollfd){ .fd = w->srv->stop_pipe[0], .events = POLLIN };

	for (;;) {
		if (poll(pfds, nfds + 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pfds[nfds].revents)
			break;
		for (size_t i = 0; i < nfds; i++)
			if (pfds[i].revents)
				drain(w, pfds[i].fd, pfds[i].revents);
	}
	return NULL;
}

static int start_nts(struct server *srv, char *err, size_t err_len)
{
	char why[512];

	if (!srv->nts_enabled)
		return 0;
	if (update_nts_keys(srv, true, why, sizeof(why)) < 0 || srv->nts_keys.keys.count == 0) {
		snprintf(err, err_len, "serve.nts: master keys: %s", why);
		return -1;
	}
	return nts_ke_server_start(srv->ke, err, err_len);
}

void server_release(struct server *srv, bool seccomp)
{
	if (srv)
		nts_ke_server_release(srv->ke, seccomp);
}

int server_start(struct server *srv, char *err, size_t err_len)
{
	if (start_nts(srv, err, err_len) < 0)
		return -1;
	if (!srv->threads)
		return 0;
	if (pipe2(srv->stop_pipe, O_CLOEXEC) < 0) {
		fail(err, err_len, "serve: %s", "pipe for the workers", errno);
		return -1;
	}
	for (size_t i = 0; i < srv->worker_count; i++) {
		int error = pthread_create(&srv->workers[i].thread, NULL, worker_main, &srv->workers[i]);

		if (error) {
			fail(err, err_len, "serve: %s", "starting a worker thread", error);
			return -1;
		}
		srv->workers[i].running = true;
	}
	log_msg(LOG_LEVEL_INFO, "serving with %u worker threads", srv->threads);
	return 0;
}

int server_reconfigure(struct server *srv, const struct serve_config *cfg, char *err, size_t err_len)
{
	struct worker_update **updates;
	struct ratelimit_config rl_cfg;
	size_t made = 0;

	if (ratelimit_config_for(cfg, srv->threads, &rl_cfg, err, err_len) < 0)
		return -1;
	updates = calloc(srv->worker_count, sizeof(updates[0]));
	if (!updates) {
		snprintf(err, err_len, "serve: out of memory");
		return -1;
	}
	/* every table first, so a failure changes nothing */
	for (; made < srv->worker_count; made++) {
		updates[made] = calloc(1, sizeof(*updates[made]));
		if (!updates[made] || !(updates[made]->rl = ratelimit_create(&rl_cfg)) ||
		    !(updates[made]->lists = copy_lists(cfg, &updates[made]->acl))) {
			snprintf(err, err_len, "serve: rate limiter table of %u clients: out of memory", rl_cfg.table_size);
			free_update(updates[made]);
			while (made-- > 0)
				free_update(updates[made]);
			free(updates);
			return -1;
		}
	}
	for (size_t i = 0; i < srv->worker_count; i++)
		/* an update the worker has not taken yet is simply superseded */
		free_update(atomic_exchange_explicit(&srv->workers[i].update, updates[i], memory_order_acq_rel));
	free(updates);
	return 0;
}

void server_get_counters(const struct server *srv, struct serve_counters *out)
{
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < srv->worker_count; i++) {
		const struct counters *c = &srv->workers[i].counters;

		out->received += atomic_load_explicit(&c->received, memory_order_relaxed);
		out->answered += atomic_load_explicit(&c->answered, memory_order_relaxed);
		out->rate_limited += atomic_load_explicit(&c->rate_limited, memory_order_relaxed);
		out->kod_sent += atomic_load_explicit(&c->kod_sent, memory_order_relaxed);
		out->malformed += atomic_load_explicit(&c->malformed, memory_order_relaxed);
		out->denied += atomic_load_explicit(&c->denied, memory_order_relaxed);
		out->authenticated += atomic_load_explicit(&c->authenticated, memory_order_relaxed);
		out->auth_failed += atomic_load_explicit(&c->auth_failed, memory_order_relaxed);
		out->interleaved += atomic_load_explicit(&c->interleaved, memory_order_relaxed);
		out->nts_requests += atomic_load_explicit(&c->nts_requests, memory_order_relaxed);
		out->nts_answered += atomic_load_explicit(&c->nts_answered, memory_order_relaxed);
		out->nts_naks += atomic_load_explicit(&c->nts_naks, memory_order_relaxed);
		out->nts_auth_failed += atomic_load_explicit(&c->nts_auth_failed, memory_order_relaxed);
	}
	out->nts = srv->nts_enabled;
	if (srv->ke) {
		struct nts_ke_counters ke;

		nts_ke_server_get_counters(srv->ke, &ke);
		out->nts_ke_connections = ke.connections;
		out->nts_ke_errors = ke.errors;
	}
}

static int most_recent_first(const void *a, const void *b)
{
	const struct ratelimit_client *x = a, *y = b;

	if (x->last.tv_sec != y->last.tv_sec)
		return x->last.tv_sec < y->last.tv_sec ? 1 : -1;
	return x->last.tv_nsec < y->last.tv_nsec ? 1 : x->last.tv_nsec > y->last.tv_nsec ? -1 : 0;
}

static int by_address(const void *a, const void *b)
{
	const struct ratelimit_client *x = a, *y = b;

	if (x->addr.family != y->addr.family)
		return x->addr.family < y->addr.family ? -1 : 1;
	return memcmp(x->addr.bytes, y->addr.bytes, sizeof(x->addr.bytes));
}

/* One row per client: workers that share a socket from the service
 * manager meet a client's requests in turn, and their tables each count a
 * share. */
static size_t merge_clients(struct ratelimit_client *c, size_t n)
{
	size_t kept = 0;

	qsort(c, n, sizeof(*c), by_address);
	for (size_t i = 0; i < n; i++) {
		struct ratelimit_client *last = kept ? &c[kept - 1] : NULL;

		if (!last || by_address(last, &c[i]) != 0) {
			c[kept++] = c[i];
			continue;
		}
		last->packets += c[i].packets;
		last->drops += c[i].drops;
		if (most_recent_first(&c[i], last) < 0)
			last->last = c[i].last;
	}
	return kept;
}

size_t server_clients(struct server *srv, struct ratelimit_client *out, size_t max)
{
	/* each worker's most recent max, then the most recent max of those */
	struct ratelimit_client *all = calloc(srv->worker_count * max + 1, sizeof(*all));
	size_t n = 0;

	if (!all)
		return 0;
	for (size_t i = 0; i < srv->worker_count; i++) {
		pthread_mutex_lock(&srv->workers[i].rl_lock);
		if (srv->workers[i].rl)
			n += ratelimit_clients(srv->workers[i].rl, all + n, max);
		pthread_mutex_unlock(&srv->workers[i].rl_lock);
	}
	n = merge_clients(all, n);
	qsort(all, n, sizeof(*all), most_recent_first);
	n = n < max ? n : max;
	memcpy(out, all, n * sizeof(*out));
	free(all);
	return n;
}

void server_destroy(struct server *srv)
{
	if (!srv)
		return;
	nts_ke_server_destroy(srv->ke);
	if (srv->stop_pipe[1] >= 0) {
		/* A closed write end wakes every worker's poll at once. */
		close(srv->stop_pipe[1]);
		for (size_t i = 0; i < srv->worker_count; i++)
			if (srv->workers[i].running)
				pthread_join(srv->workers[i].thread, NULL);
		close(srv->stop_pipe[0]);
	}
	for (size_t i = 0; i < srv->worker_count; i++)
		close_worker(&srv->workers[i]);
	free(srv->workers);
	nts_cookie_issuer_destroy(srv->issuer);
	memset(&srv->nts_keys, 0, sizeof(srv->nts_keys));
	free(srv);
}
