/* The NTS-KE server (RFC 8915 section 4): TLS 1.3 on TCP, ALPN "ntske/1",
 * one request and one response per connection. It runs in a thread of its
 * own, away from the NTP answering path: its poll loop owns every KE socket
 * and TLS session, so a silent, slow or hostile client costs a connection
 * slot and at most `timeout` seconds of it, never a turn of the NTP loop.
 *
 * Bounds: at most max_connections at once, and 8 from one address (the
 * one over a limit is accepted and closed at once, which also keeps the
 * kernel's backlog moving), each closed `timeout` seconds after its accept
 * whatever state it is in, and a request larger than NTS_KE_REQUEST_MAX is
 * answered with an error record and closed.
 *
 *     ke = nts_ke_server_create(&cfg.serve.nts, issuer, err, len);  while root
 *     ... drop privileges ...
 *     nts_ke_server_start(ke, ...)     the thread, before the engine's seccomp
 *     ... seccomp_filter_install(SECCOMP_ENGINE ...) ...
 *     nts_ke_server_release(ke, seccomp)  it installs its own, tighter filter
 *     ... nts_ke_server_destroy(ke);
 */
#ifndef STRATA_NTS_KE_SERVER_H
#define STRATA_NTS_KE_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nts_cookie_issuer.h"
#include "serve_config.h"

/* The largest request read: a real one (next protocol, a few AEAD ids,
 * perhaps a server and a port) is well under 100 bytes. */
#define NTS_KE_REQUEST_MAX 1024

struct nts_ke_counters {
	uint64_t connections;        /* accepted */
	uint64_t errors;             /* refused over the limit, failed handshake, bad request, timeout */
	uint64_t cookies;            /* issued */
};

/* Loads the certificate chain and key, binds the KE port on the serve
 * section's listen addresses. cookies makes the cookies; it must outlive
 * the server. NULL with a message naming the file or address on failure. */
struct nts_ke_server *nts_ke_server_create(const struct serve_config *cfg, struct nts_cookie_issuer *cookies,
					   char *err, size_t err_len);

/* Starts the thread; it waits for nts_ke_server_release before it accepts.
 * 0, or -1 with a message. */
int nts_ke_server_start(struct nts_ke_server *ke, char *err, size_t err_len);

/* Lets the thread run, under its own seccomp filter (on top of the
 * engine's, which the caller installed in every thread) when seccomp. */
void nts_ke_server_release(struct nts_ke_server *ke, bool seccomp);

void nts_ke_server_get_counters(const struct nts_ke_server *ke, struct nts_ke_counters *out);

/* Stops the thread, closes everything. NULL is fine. */
void nts_ke_server_destroy(struct nts_ke_server *ke);

#endif
