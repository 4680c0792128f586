/* accept4, pipe2 */
#define _GNU_SOURCE

#include "nts_ke_server.h"

#include <errno.h>
#include <fcntl.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "acl.h"
#include "log.h"
#include "netaddr.h"
#include "nts_cookie.h"
#include "nts_ke_exchange.h"
#include "nts_ke_tls.h"
#include "seccomp_filter.h"

/* The response: a few records and eight cookies of ~100 bytes. */
#define RESPONSE_MAX 2048
/* Accepts per wakeup: a flood of connects cannot keep the loop from the
 * sessions it already has. */
#define ACCEPTS_PER_WAKEUP 32
/* Connections at once from one address: one host cannot take every slot
 * (a key exchange needs one; a NAT of many clients a few). */
#define PER_ADDRESS_MAX 8

enum conn_state { CONN_HANDSHAKE, CONN_READ, CONN_WRITE, CONN_BYE };

struct conn {
	int fd;                      /* -1: free */
	struct net_addr peer;        /* port 0: the address alone */
	gnutls_session_t session;
	enum conn_state state;
	struct timespec deadline;    /* monotonic */
	uint8_t request[NTS_KE_REQUEST_MAX];
	size_t request_len;
	uint8_t response[RESPONSE_MAX];
	size_t response_len, response_sent;
};

struct nts_ke_server {
	struct acl acl;
	struct nts_ke_exchange_config exchange;
	struct nts_cookie_issuer *cookies;
	struct nts_cookie_keys cookie_keys; /* the thread's own keyed copy */
	uint32_t cookie_generation;
	gnutls_certificate_credentials_t creds;
	int *listen_fds;             /* listen_count of them; one per serve.listen address at most */
	size_t listen_count;
	unsigned max_connections;
	double timeout;
	struct conn *conns;
	size_t open;                 /* conns in use */
	int stop_pipe[2], go_pipe[2];
	pthread_t thread;
	bool running;
	_Atomic uint64_t connections, errors, issued;
};

static void count(_Atomic uint64_t *counter, uint64_t n)
{
	atomic_fetch_add_explicit(counter, n, memory_order_relaxed);
}

static int listen_on(const struct net_addr *addr)
{
	struct sockaddr_storage ss;
	socklen_t len = netaddr_to_sockaddr(addr, &ss);
	int one = 1;
	int fd = socket(addr->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (addr->family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, 128) < 0) {
		int error = errno;

		close(fd);
		return -error;
	}
	return fd;
}

static int open_listeners(struct nts_ke_server *ke, const struct serve_config *cfg, char *err, size_t err_len)
{
	size_t required = cfg->listen_default ? 1 : cfg->listen_count;

	ke->listen_fds = calloc(cfg->listen_count ? cfg->listen_count : 1, sizeof(ke->listen_fds[0]));
	if (!ke->listen_fds) {
		snprintf(err, err_len, "serve.nts: out of memory");
		return -1;
	}
	for (size_t i = 0; i < cfg->listen_count; i++) {
		struct net_addr addr = cfg->listen[i];
		char text[NETADDR_TEXT_LEN];
		int fd;

		addr.port = cfg->nts.port;
		fd = listen_on(&addr);
		if (fd >= 0) {
			ke->listen_fds[ke->listen_count++] = fd;
			continue;
		}
		if (i < required) {
			netaddr_format_with_port(&addr, text, sizeof(text));
			snprintf(err, err_len, "serve.nts: cannot listen on %s: %s", text, strerror(-fd));
			return -1;
		}
	}
	if (ke->listen_count == 0) {
		snprintf(err, err_len, "serve.nts: no address to listen on");
		return -1;
	}
	return 0;
}

struct nts_ke_server *nts_ke_server_create(const struct serve_config *cfg, struct nts_cookie_issuer *cookies,
					   char *err, size_t err_len)
{
	struct nts_ke_server *ke = calloc(1, sizeof(*ke));
	int r;

	if (!ke) {
		snprintf(err, err_len, "serve.nts: out of memory");
		return NULL;
	}
	ke->stop_pipe[0] = ke->stop_pipe[1] = ke->go_pipe[0] = ke->go_pipe[1] = -1;
	acl_from_config(cfg, &ke->acl);
	nts_ke_exchange_config_from(&cfg->nts, &ke->exchange);
	ke->cookies = cookies;
	ke->max_connections = cfg->nts.max_connections;
	ke->timeout = cfg->nts.timeout;
	ke->conns = calloc(ke->max_connections, sizeof(ke->conns[0]));
	if (!ke->conns) {
		snprintf(err, err_len, "serve.nts: out of memory");
		free(ke);
		return NULL;
	}
	for (size_t i = 0; i < ke->max_connections; i++)
		ke->conns[i].fd = -1;
	r = gnutls_certificate_allocate_credentials(&ke->creds);
	if (r >= 0)
		r = gnutls_certificate_set_x509_key_file(ke->creds, cfg->nts.certificate, cfg->nts.key,
							 GNUTLS_X509_FMT_PEM);
	if (r < 0) {
		snprintf(err, err_len, "serve.nts: certificate %s with key %s: %s", cfg->nts.certificate,
			 cfg->nts.key, gnutls_strerror(r));
		nts_ke_server_destroy(ke);
		return NULL;
	}
	if (open_listeners(ke, cfg, err, err_len) < 0) {
		nts_ke_server_destroy(ke);
		return NULL;
	}
	return ke;
}

static double until(struct timespec deadline, struct timespec now)
{
	return (double)(deadline.tv_sec - now.tv_sec) + (double)(deadline.tv_nsec - now.tv_nsec) * 1e-9;
}

static void close_conn(struct nts_ke_server *ke, struct conn *c, bool failed)
{
	if (c->fd < 0)
		return;
	gnutls_deinit(c->session);
	close(c->fd);
	c->fd = -1;
	ke->open--;
	if (failed)
		count(&ke->errors, 1);
}

static bool start_session(struct nts_ke_server *ke, struct conn *c, int fd)
{
	if (gnutls_init(&c->session, GNUTLS_SERVER | GNUTLS_NONBLOCK | GNUTLS_NO_SIGNAL) < 0)
		return false;
	if (nts_ke_tls_prepare(c->session) != 0 ||
	    gnutls_credentials_set(c->session, GNUTLS_CRD_CERTIFICATE, ke->creds) < 0) {
		gnutls_deinit(c->session);
		return false;
	}
	gnutls_transport_set_int(c->session, fd);
	c->fd = fd;
	c->state = CONN_HANDSHAKE;
	c->request_len = 0;
	c->response_len = c->response_sent = 0;
	return true;
}

static struct conn *free_conn(struct nts_ke_server *ke)
{
	for (size_t i = 0; i < ke->max_connections; i++)
		if (ke->conns[i].fd < 0)
			return &ke->conns[i];
	return NULL;
}

static unsigned open_from(const struct nts_ke_server *ke, const struct net_addr *peer)
{
	unsigned n = 0;

	for (size_t i = 0; i < ke->max_connections; i++)
		n += ke->conns[i].fd >= 0 && netaddr_equal(&ke->conns[i].peer, peer);
	return n;
}

/* The access list, and the limit per address; *peer without its port. */
static bool admit(const struct nts_ke_server *ke, const struct sockaddr_storage *ss, socklen_t len,
		  struct net_addr *peer)
{
	if (!netaddr_from_sockaddr((const struct sockaddr *)ss, len, peer) || !acl_allows(&ke->acl, peer))
		return false;
	peer->port = 0;
	return open_from(ke, peer) < PER_ADDRESS_MAX;
}

static void accept_some(struct nts_ke_server *ke, int lfd, struct timespec now)
{
	for (int i = 0; i < ACCEPTS_PER_WAKEUP; i++) {
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);
		struct net_addr peer;
		struct conn *c;
		int fd = accept4(lfd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0)
			return;
		count(&ke->connections, 1);
		c = free_conn(ke);
		if (!c || !admit(ke, &ss, len, &peer) || !start_session(ke, c, fd)) {
			close(fd);
			count(&ke->errors, 1);
			continue;
		}
		ke->open++;
		c->peer = peer;
		c->deadline = now;
		c->deadline.tv_sec += (time_t)ke->timeout;
		c->deadline.tv_nsec += (long)((ke->timeout - (double)(time_t)ke->timeout) * 1e9);
		if (c->deadline.tv_nsec >= 1000000000L) {
			c->deadline.tv_sec++;
			c->deadline.tv_nsec -= 1000000000L;
		}
	}
}

/* The thread's keyed master keys, renewed when the main loop published others. */
static bool current_cookie_keys(struct nts_ke_server *ke)
{
	struct nts_master_keys keys;
	bool ok;

	if (ke->cookie_keys.count && nts_cookie_issuer_generation(ke->cookies) == ke->cookie_generation)
		return true;
	nts_cookie_keys_deinit(&ke->cookie_keys);
	ke->cookie_generation = nts_cookie_issuer_copy(ke->cookies, &keys);
	ok = nts_cookie_keys_init(&ke->cookie_keys, &keys) && ke->cookie_keys.count > 0;
	memset(&keys, 0, sizeof(keys));
	return ok;
}

/* Keys exported from the session for aead, sealed into n cookies. */
static size_t make_cookies(struct nts_ke_server *ke, gnutls_session_t session, uint16_t aead,
			   struct nts_cookie *cookies, size_t n)
{
	struct nts_key c2s, s2c;
	uint8_t nonces[NTS_KE_EXCHANGE_COOKIES][NTS_COOKIE_NONCE_LEN];
	size_t made = 0;

	if (!current_cookie_keys(ke) || nts_ke_tls_export_keys(session, aead, &c2s, &s2c) != 0 ||
	    gnutls_rnd(GNUTLS_RND_NONCE, nonces, sizeof(nonces)) < 0)
		return 0;
	while (made < n && nts_cookie_seal(&ke->cookie_keys, &c2s, &s2c, nonces[made], &cookies[made]))
		made++;
	memset(&c2s, 0, sizeof(c2s));
	memset(&s2c, 0, sizeof(s2c));
	return made;
}

/* The request is whole, or can never be: the response is ready to send.
 * Returns false when the request was bad (counted as an error, but still
 * answered with an Error record as RFC 8915 asks). */
static bool respond(struct nts_ke_server *ke, struct conn *c, enum nts_ke_verdict verdict, uint16_t aead,
		    uint16_t error)
{
	struct nts_cookie cookies[NTS_KE_EXCHANGE_COOKIES];
	size_t n = 0;

	if (verdict == NTS_KE_VERDICT_KEYS) {
		n = make_cookies(ke, c->session, aead, cookies, NTS_KE_EXCHANGE_COOKIES);
		if (n == 0) {
			verdict = NTS_KE_VERDICT_ERROR;
			error = NTS_KE_ERROR_INTERNAL;
		}
	}
	c->response_len = nts_ke_exchange_response(&ke->exchange, verdict, aead, error, cookies, n, c->response,
						   sizeof(c->response));
	c->response_sent = 0;
	c->state = CONN_WRITE;
	count(&ke->issued, n);
	return verdict == NTS_KE_VERDICT_KEYS;
}

/* One step of a connection when its socket is ready; false: close it. */
static bool step(struct nts_ke_server *ke, struct conn *c, bool *failed)
{
	ssize_t n;
	int r;

	*failed = true;
	switch (c->state) {
	case CONN_HANDSHAKE:
		r = gnutls_handshake(c->session);
		if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED)
			return true;
		if (r < 0 || !nts_ke_tls_negotiated(c->session))
			return false;
		/* the request may have come with the handshake's end */
		c->state = CONN_READ;
		/* fall through */
	case CONN_READ:
		for (;;) {
			enum nts_ke_verdict verdict;
			uint16_t aead = 0, error = 0;

			n = gnutls_record_recv(c->session, c->request + c->request_len,
					       sizeof(c->request) - c->request_len);
			if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED)
				return true;
			if (n <= 0) /* end of stream before the request ended, or an alert */
				return false;
			c->request_len += (size_t)n;
			verdict = nts_ke_exchange_decide(c->request, c->request_len,
							 c->request_len == sizeof(c->request), &aead, &error);
			if (verdict != NTS_KE_VERDICT_PARTIAL) {
				if (!respond(ke, c, verdict, aead, error))
					count(&ke->errors, 1);
				return true;
			}
		}
	case CONN_WRITE:
		while (c->response_sent < c->response_len) {
			n = gnutls_record_send(c->session, c->response + c->response_sent,
					       c->response_len - c->response_sent);
			if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED)
				return true;
			if (n < 0)
				return false;
			c->response_sent += (size_t)n;
		}
		c->state = CONN_BYE;
		/* fall through */
	case CONN_BYE:
		r = gnutls_bye(c->session, GNUTLS_SHUT_WR);
		if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED)
			return true;
		*failed = false;
		return false;
	}
	return false;
}

static short wanted(const struct conn *c)
{
	if (c->state == CONN_HANDSHAKE || c->state == CONN_BYE)
		return gnutls_record_get_direction(c->session) ? POLLOUT : POLLIN;
	return c->state == CONN_WRITE ? POLLOUT : POLLIN;
}

static void serve_loop(struct nts_ke_server *ke)
{
	size_t max_fds = ke->listen_count + ke->max_connections + 1;
	struct pollfd *pfds = calloc(max_fds, sizeof(*pfds));
	struct conn **owner = calloc(max_fds, sizeof(*owner));

	while (pfds && owner) {
		struct timespec now;
		double wait = -1.0;
		size_t n = 0;

		clock_gettime(CLOCK_MONOTONIC, &now);
		pfds[n++] = (struct pollfd){ .fd = ke->stop_pipe[0], .events = POLLIN };
		for (size_t i = 0; i < ke->listen_count; i++)
			pfds[n++] = (struct pollfd){ .fd = ke->listen_fds[i], .events = POLLIN };
		for (size_t i = 0; i < ke->max_connections; i++) {
			struct conn *c = &ke->conns[i];
			double left;

			if (c->fd < 0)
				continue;
			left = until(c->deadline, now);
			if (left <= 0.0) { /* the time limit: whatever it was doing */
				close_conn(ke, c, true);
				continue;
			}
			if (wait < 0.0 || left < wait)
				wait = left;
			owner[n] = c;
			pfds[n++] = (struct pollfd){ .fd = c->fd, .events = wanted(c) };
		}
		if (poll(pfds, n, wait < 0.0 ? -1 : (int)(wait * 1000.0) + 1) < 0) {
			if (errno == EINTR)
				continue;
			log_msg(LOG_LEVEL_ERROR, "serve.nts: poll: %s", strerror(errno));
			break;
		}
		if (pfds[0].revents)
			break;
		clock_gettime(CLOCK_MONOTONIC, &now);
		for (size_t i = 1; i < n; i++) {
			bool failed;

			if (!pfds[i].revents)
				continue;
			if (i <= ke->listen_count)
				accept_some(ke, pfds[i].fd, now);
			else if (owner[i]->fd == pfds[i].fd && !step(ke, owner[i], &failed))
				close_conn(ke, owner[i], failed);
		}
	}
	free(pfds);
	free(owner);
}

static void *ke_main(void *arg)
{
	struct nts_ke_server *ke = arg;
	char go = 0, why[256];

	/* Nothing is accepted before the engine's filter is in every thread
	 * and this thread's own is on top of it. */
	if (read(ke->go_pipe[0], &go, 1) != 1)
		return NULL;
	if (go == 's' && seccomp_filter_install(SECCOMP_NTS_KE, why, sizeof(why)) < 0) {
		log_msg(LOG_LEVEL_ERROR, "serve.nts: %s: not serving NTS-KE", why);
		return NULL;
	}
	serve_loop(ke);
	return NULL;
}

int nts_ke_server_start(struct nts_ke_server *ke, char *err, size_t err_len)
{
	int error;

	if (pipe2(ke->stop_pipe, O_CLOEXEC) < 0 || pipe2(ke->go_pipe, O_CLOEXEC) < 0) {
		snprintf(err, err_len, "serve.nts: pipe: %s", strerror(errno));
		return -1;
	}
	error = pthread_create(&ke->thread, NULL, ke_main, ke);
	if (error) {
		snprintf(err, err_len, "serve.nts: starting the key exchange thread: %s", strerror(error));
		return -1;
	}
	ke->running = true;
	return 0;
}

void nts_ke_server_release(struct nts_ke_server *ke, bool seccomp)
{
	char go = seccomp ? 's' : 'n';

	if (ke && ke->go_pipe[1] >= 0 && write(ke->go_pipe[1], &go, 1) != 1)
		log_msg(LOG_LEVEL_ERROR, "serve.nts: cannot start the key exchange thread: %s", strerror(errno));
}

void nts_ke_server_get_counters(const struct nts_ke_server *ke, struct nts_ke_counters *out)
{
	memset(out, 0, sizeof(*out));
	if (!ke)
		return;
	out->connections = atomic_load_explicit(&ke->connections, memory_order_relaxed);
	out->errors = atomic_load_explicit(&ke->errors, memory_order_relaxed);
	out->cookies = atomic_load_explicit(&ke->issued, memory_order_relaxed);
}

static void close_pipe(int p[2])
{
	for (int i = 0; i < 2; i++)
		if (p[i] >= 0)
			close(p[i]);
}

void nts_ke_server_destroy(struct nts_ke_server *ke)
{
	if (!ke)
		return;
	if (ke->running) {
		/* closed ends wake the thread wherever it waits */
		close(ke->go_pipe[1]);
		ke->go_pipe[1] = -1;
		close(ke->stop_pipe[1]);
		ke->stop_pipe[1] = -1;
		pthread_join(ke->thread, NULL);
	}
	close_pipe(ke->stop_pipe);
	close_pipe(ke->go_pipe);
	for (size_t i = 0; ke->conns && i < ke->max_connections; i++)
		close_conn(ke, &ke->conns[i], false);
	for (size_t i = 0; i < ke->listen_count; i++)
		close(ke->listen_fds[i]);
	free(ke->listen_fds);
	nts_cookie_keys_deinit(&ke->cookie_keys);
	if (ke->creds)
		gnutls_certificate_free_credentials(ke->creds);
	free(ke->conns);
	free(ke);
}
