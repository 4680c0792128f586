/* The client side of an NTS key exchange (RFC 8915 4): TCP to the KE
 * server, TLS 1.3 with ALPN "ntske/1", the certificate verified against the
 * system's trust store or a CA file with the server's name checked, the
 * request, the response, and the keys exported from the session. An edge:
 * it blocks, but every step has the deadline of the whole exchange, so a
 * server that hangs costs at most timeout seconds. stratadate calls it
 * directly; stratad runs it on a worker thread (nts_ke_worker). */
#ifndef STRATA_NTS_KE_CLIENT_H
#define STRATA_NTS_KE_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netaddr.h"
#include "nts_client.h"

#define NTS_KE_DEFAULT_TIMEOUT 10.0 /* seconds for a whole exchange */

struct nts_ke_client_config {
	char name[256];           /* the KE server's name: resolved, sent as SNI, checked in the certificate */
	struct net_addr addr;     /* family 0: resolve name; else connect here (a pool's member) */
	uint16_t port;            /* 0: NTS_KE_PORT */
	int family;               /* for resolving: AF_UNSPEC, AF_INET, AF_INET6 */
	char trusted_certs[4096]; /* PEM CA file; "": the system's trust store */
	double timeout;           /* seconds; 0: NTS_KE_DEFAULT_TIMEOUT */
};

/* Runs one exchange. On success *out holds the keys, cookies, the NTP
 * server's address (negotiated or the KE server's, port 123 unless
 * negotiated) and a fresh seed. On failure false, and why in err. */
bool nts_ke_client_exchange(const struct nts_ke_client_config *cfg, struct nts_ke_result *out, char *err,
			    size_t errlen);

#endif
