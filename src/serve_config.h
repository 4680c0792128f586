/* What the daemon's configuration says about serving time downstream, and
 * the counters the server keeps: shared by the config parser, the server and
 * the control socket. */
#ifndef STRATA_SERVE_CONFIG_H
#define STRATA_SERVE_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "netaddr.h"

#define SERVE_RATELIMIT_DEFAULT_INTERVAL 1.0

/* serve.nts: the NTS-KE server and authenticated answers (RFC 8915). */
#define SERVE_NTS_PATH_LEN 256
#define SERVE_NTS_PORT_DEFAULT 4460

struct serve_nts_config {
	bool enabled;                 /* a serve.nts group is present */
	char certificate[SERVE_NTS_PATH_LEN]; /* PEM chain, ours first */
	char key[SERVE_NTS_PATH_LEN];         /* PEM private key */
	uint16_t port;                /* NTS-KE TCP port; default 4460 */
	uint32_t rotate;              /* master key rotation, seconds; default one week; 0: never */
	char keys_file[SERVE_NTS_PATH_LEN];   /* master keys; default in the state directory */
	unsigned max_connections;     /* concurrent KE connections; default 100 */
	double timeout;               /* seconds a KE connection may last; default 2 */
	char ntp_server[256];         /* "": none; else sent as NTPv4 Server Negotiation */
	uint16_t ntp_port;            /* 0: none; else sent as NTPv4 Port Negotiation */
};

struct serve_config {
	bool enabled;                 /* a serve section is present */
	size_t listen_count;
	struct net_addr *listen;      /* on the heap, port set from .port: config_free */
	bool listen_default;          /* the wildcards 0.0.0.0 and :: filled in: either may be missing */
	uint16_t port;                /* default 123 */
	/* as many as configured, on the heap: config_free releases them */
	size_t allow_count;           /* loopback is always allowed unless denied */
	struct net_prefix *allow;
	size_t deny_count;            /* deny wins over allow */
	struct net_prefix *deny;
	double ratelimit_interval;    /* seconds between requests a client may average; 0 (the default
					 without a ratelimit group): no limit; with the group, 1.0 */
	unsigned ratelimit_burst;     /* requests allowed at once; default 8 */
	bool ratelimit_kod;           /* answer a limited client with KoD RATE (itself limited); default true */
	unsigned ratelimit_table_size;/* clients tracked; default 65536 */
	unsigned threads;             /* 0: serve in the main loop; N: N workers on SO_REUSEPORT sockets */
	int rcvbuf;                   /* SO_RCVBUF bytes; default 4 MiB */
	struct serve_nts_config nts;
};

struct serve_counters {
	uint64_t received;
	uint64_t answered;
	uint64_t rate_limited;
	uint64_t kod_sent;
	uint64_t malformed;           /* short, bad extension fields, wrong mode or version */
	uint64_t denied;              /* by the access list */
	uint64_t authenticated;       /* answers with a MAC (a valid MAC came in) */
	uint64_t auth_failed;         /* a MAC with an unknown key id, or wrong: no answer */
	uint64_t interleaved;         /* answers in interleaved mode (serve_stamps.h) */
	bool nts;                     /* serving NTS: the counters below mean something */
	uint64_t nts_requests;        /* requests with an NTS cookie */
	uint64_t nts_answered;        /* authenticated NTS answers sent */
	uint64_t nts_naks;            /* NTS NAKs: a cookie we cannot open */
	uint64_t nts_auth_failed;     /* a cookie we opened, a wrong authenticator: silence */
	uint64_t nts_ke_connections;  /* NTS-KE connections accepted */
	uint64_t nts_ke_errors;       /* refused, failed handshake, bad request, time limit */
};

#endif
