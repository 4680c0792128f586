#include "nts_ke_client.h"

#include <errno.h>
#include <fcntl.h>
#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>
#include <gnutls/x509.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "nts_ke_tls.h"
#include "resolver.h"

static double monotonic(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static bool fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static bool fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return false;
}

static int remaining_ms(double deadline)
{
	double left = deadline - monotonic();

	return left <= 0 ? 0 : (int)(left * 1000) + 1;
}

/* Connects within the deadline; returns the socket or -1 with err set. */
static int connect_within(const struct net_addr *addr, double deadline, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t sslen = netaddr_to_sockaddr(addr, &ss);
	int fd = socket(addr->family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	struct pollfd pfd;
	int soerr = 0;
	socklen_t soerr_len = sizeof(soerr);
	char text[64];

	netaddr_format_with_port(addr, text, sizeof(text));
	if (fd < 0) {
		fail(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&ss, sslen) < 0 && errno != EINPROGRESS) {
		fail(err, errlen, "connect to %s: %s", text, strerror(errno));
		close(fd);
		return -1;
	}
	pfd = (struct pollfd){ .fd = fd, .events = POLLOUT };
	if (poll(&pfd, 1, remaining_ms(deadline)) <= 0) {
		fail(err, errlen, "connect to %s: timed out", text);
		close(fd);
		return -1;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &soerr_len) < 0 || soerr != 0) {
		fail(err, errlen, "connect to %s: %s", text, strerror(soerr ? soerr : errno));
		close(fd);
		return -1;
	}
	/* back to blocking: GnuTLS's own timeouts bound each wait */
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	return fd;
}

/* The socket's waits end at the deadline too (a peer that trickles bytes). */
static void bound_waits(int fd, double deadline)
{
	int ms = remaining_ms(deadline);
	struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 + 1 };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

static bool handshake_error(gnutls_session_t session, int rc, char *err, size_t errlen)
{
	gnutls_datum_t text;
	unsigned status;

	if (rc == GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR) {
		status = gnutls_session_get_verify_cert_status(session);
		if (gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509, &text, 0) == 0) {
			fail(err, errlen, "certificate rejected: %s", text.data);
			gnutls_free(text.data);
			return false;
		}
	}
	return fail(err, errlen, "TLS handshake: %s", gnutls_strerror(rc));
}

static bool is_address(const char *name)
{
	struct net_addr a;

	return netaddr_parse(name, &a);
}

/* Sends the request and reads the response until its End of Message. */
static bool converse(gnutls_session_t session, struct nts_ke_response *resp, const uint16_t *aeads, size_t n_aeads,
		     double deadline, char *err, size_t errlen)
{
	static __thread uint8_t buf[NTS_KE_MAX_MESSAGE];
	struct nts_ke_request req = { .n_aeads = n_aeads };
	size_t len = 0, req_len;
	enum nts_ke_status status;
	ssize_t n;

	memcpy(req.aeads, aeads, n_aeads * sizeof(aeads[0]));
	if (nts_ke_request_encode(&req, buf, sizeof(buf), &req_len) != NTS_KE_OK)
		return fail(err, errlen, "cannot encode the request");
	do
		n = gnutls_record_send(session, buf, req_len);
	while (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED);
	if (n < 0)
		return fail(err, errlen, "sending the request: %s", gnutls_strerror((int)n));
	for (;;) {
		gnutls_record_set_timeout(session, (unsigned)remaining_ms(deadline));
		n = gnutls_record_recv(session, buf + len, sizeof(buf) - len);
		if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED) {
			if (remaining_ms(deadline) == 0)
				return fail(err, errlen, "timed out waiting for the response");
			continue;
		}
		if (n == GNUTLS_E_TIMEDOUT)
			return fail(err, errlen, "timed out waiting for the response");
		if (n < 0)
			return fail(err, errlen, "reading the response: %s", gnutls_strerror((int)n));
		if (n == 0)
			return fail(err, errlen, "the server closed the connection before the End of Message");
		len += (size_t)n;
		status = nts_ke_response_decode(buf, len, resp);
		if (status == NTS_KE_OK)
			return true;
		if (status != NTS_KE_INCOMPLETE || len == sizeof(buf))
			return fail(err, errlen, "bad response: %s", nts_ke_status_str(status));
	}
}

static bool ntp_address(const struct nts_ke_client_config *cfg, const struct nts_ke_response *resp,
			const struct net_addr *ke_addr, struct net_addr *out, char *err, size_t errlen)
{
	uint16_t port = resp->has_port ? resp->port : 123;
	size_t count;
	int rc;

	if (!resp->has_server) {
		*out = *ke_addr;
		out->port = port;
		return true;
	}
	rc = resolver_lookup(resp->server, cfg->family, port, out, 1, &count);
	if (rc != 0)
		return fail(err, errlen, "cannot resolve the negotiated NTP server %s: %s", resp->server,
			    resolver_error_str(rc));
	return true;
}

static bool exchange_with(const struct nts_ke_client_config *cfg, const struct net_addr *addr,
			  gnutls_certificate_credentials_t cred, struct nts_ke_result *out, double deadline,
			  char *err, size_t errlen)
{
	uint16_t aeads[NTS_KE_MAX_AEADS];
	size_t n_aeads = nts_aead_supported(aeads, NTS_KE_MAX_AEADS);
	struct nts_ke_response *resp = calloc(1, sizeof(*resp));
	gnutls_session_t session = NULL;
	enum nts_ke_status status;
	bool ok = false;
	int fd, rc;

	if (!resp)
		return fail(err, errlen, "out of memory");
	fd = connect_within(addr, deadline, err, errlen);
	if (fd < 0)
		goto out;
	bound_waits(fd, deadline);
	if ((rc = gnutls_init(&session, GNUTLS_CLIENT)) < 0 || (rc = nts_ke_tls_prepare(session)) < 0 ||
	    (rc = gnutls_credentials_set(session, GNUTLS_CRD_CERTIFICATE, cred)) < 0) {
		fail(err, errlen, "TLS set-up: %s", gnutls_strerror(rc));
		goto out;
	}
	if (!is_address(cfg->name))
		gnutls_server_name_set(session, GNUTLS_NAME_DNS, cfg->name, strlen(cfg->name));
	gnutls_session_set_verify_cert(session, cfg->name, 0);
	gnutls_transport_set_int(session, fd);
	gnutls_handshake_set_timeout(session, (unsigned)remaining_ms(deadline));
	do
		rc = gnutls_handshake(session);
	while (rc < 0 && !gnutls_error_is_fatal(rc) && remaining_ms(deadline) > 0);
	if (rc < 0) {
		handshake_error(session, rc, err, errlen);
		goto out;
	}
	if (!nts_ke_tls_negotiated(session)) {
		fail(err, errlen, "the server did not negotiate TLS 1.3 with ALPN %s", NTS_KE_ALPN);
		goto out;
	}
	if (!converse(session, resp, aeads, n_aeads, deadline, err, errlen))
		goto out;
	status = nts_ke_response_check(resp, aeads, n_aeads);
	if (status != NTS_KE_OK) {
		if (status == NTS_KE_SERVER_ERROR)
			fail(err, errlen, "the server sent error %u", resp->error);
		else
			fail(err, errlen, "unusable response: %s", nts_ke_status_str(status));
		goto out;
	}
	memset(out, 0, sizeof(*out));
	if ((rc = nts_ke_tls_export_keys(session, resp->aead, &out->c2s, &out->s2c)) < 0) {
		fail(err, errlen, "key export: %s", gnutls_strerror(rc));
		goto out;
	}
	out->n_cookies = resp->n_cookies < NTS_CLIENT_COOKIES ? resp->n_cookies : NTS_CLIENT_COOKIES;
	memcpy(out->cookies, resp->cookies, out->n_cookies * sizeof(out->cookies[0]));
	if (gnutls_rnd(GNUTLS_RND_KEY, out->seed, sizeof(out->seed)) < 0) {
		fail(err, errlen, "no system randomness");
		goto out;
	}
	ok = ntp_address(cfg, resp, addr, &out->ntp_addr, err, errlen);
	gnutls_bye(session, GNUTLS_SHUT_WR);
out:
	if (session)
		gnutls_deinit(session);
	if (fd >= 0)
		close(fd);
	free(resp);
	return ok;
}

bool nts_ke_client_exchange(const struct nts_ke_client_config *cfg, struct nts_ke_result *out, char *err,
			    size_t errlen)
{
	double deadline = monotonic() + (cfg->timeout > 0 ? cfg->timeout : NTS_KE_DEFAULT_TIMEOUT);
	uint16_t port = cfg->port ? cfg->port : NTS_KE_PORT;
	gnutls_certificate_credentials_t cred;
	struct net_addr addr = cfg->addr;
	size_t count;
	bool ok;
	int rc;

	if (addr.family == 0) {
		rc = resolver_lookup(cfg->name, cfg->family, port, &addr, 1, &count);
		if (rc != 0)
			return fail(err, errlen, "cannot resolve %s: %s", cfg->name, resolver_error_str(rc));
	}
	addr.port = port;
	if (gnutls_certificate_allocate_credentials(&cred) < 0)
		return fail(err, errlen, "out of memory");
	rc = cfg->trusted_certs[0] ? gnutls_certificate_set_x509_trust_file(cred, cfg->trusted_certs, GNUTLS_X509_FMT_PEM)
				   : gnutls_certificate_set_x509_system_trust(cred);
	if (rc <= 0) {
		gnutls_certificate_free_credentials(cred);
		if (!cfg->trusted_certs[0])
			return fail(err, errlen, "no trusted certificates in the system store");
		return fail(err, errlen, "no trusted certificates in %s: %s", cfg->trusted_certs,
			    rc < 0 ? gnutls_strerror(rc) : "none found");
	}
	ok = exchange_with(cfg, &addr, cred, out, deadline, err, errlen);
	gnutls_certificate_free_credentials(cred);
	return ok;
}
