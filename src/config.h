/* The daemon's configuration file (libconfig syntax): parsed, every value
 * validated, defaults filled in. An error names the file, the line and the
 * setting: "FILE:LINE: setting: what is wrong". */
#ifndef STRATA_CONFIG_H
#define STRATA_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "auth_keys.h"
#include "engine.h"
#include "log.h"
#include "netaddr.h"
#include "refclock.h"
#include "serve_config.h"

#define CONFIG_NAME_LEN 256
#define CONFIG_PATH_LEN 256
/* A Unix socket path must fit in sun_path. */
#define CONFIG_SOCKET_PATH_LEN 108
#define CONFIG_POOL_MAX_SOURCES 16
#define CONFIG_MAX_REFCLOCKS 8

/* Where a setting was read, for the errors found after parsing: the file
 * (the main one or one it includes) and the line in that file. */
struct config_where {
	char file[CONFIG_PATH_LEN];
	unsigned line;
};

struct config_source {
	char name[CONFIG_NAME_LEN];  /* host name or numeric address */
	bool pool;                   /* resolves to several servers */
	uint16_t port;               /* default 123 */
	int minpoll;                 /* default 6 */
	int maxpoll;                 /* default 10 */
	bool iburst;                 /* default false */
	unsigned maxsources;         /* pool: default 4; server: 1 */
	uint32_t key;                /* symmetric key id; 0: none */
	/* chrony's per-source options, as struct source_config has them */
	bool prefer, noselect, trust, require;
	double maxdelay;             /* seconds; 0: no limit (default) */
	double maxdelayratio;        /* 0: no limit (default); else > 1 */
	unsigned minstratum;         /* default 0 */
	double offset;               /* seconds; default 0 */
	unsigned version;            /* of our requests, 1 to 4; default 4 */
	unsigned maxsamples;         /* clock filter size, 1 to 8; default 8 */
	unsigned line;               /* where it was configured, for messages */
	struct config_where key_where; /* where its key was set */
	bool nts;                    /* NTS (RFC 8915); default false */
	uint16_t nts_port;           /* the NTS-KE server's port; default 4460 */
	bool xleave;                 /* ask for interleaved mode (source.h) */
};

struct config_statsd {
	bool enabled;                /* a statsd section is present */
	struct net_addr address;     /* with port; default 127.0.0.1:8125 */
	char prefix[64];             /* default "strata" */
	unsigned interval;           /* seconds; default 10 */
};

/* The history logs and logchange (chrony's log, logdir and logchange). */
struct config_history {
	char dir[CONFIG_PATH_LEN];   /* default LOCALSTATEDIR/log/strata */
	bool measurements;           /* one line per accepted sample; default false */
	bool statistics;             /* one line per source statistics update; default false */
	bool tracking;               /* one line per clock update; default false */
	double logchange;            /* seconds: warn of a clock update beyond it; 0: never; default 1 */
};

struct daemon_config {
	size_t source_count;
	struct config_source *sources;  /* as many as the file lists, on the heap: config_free */
	size_t refclock_count;
	struct refclock_config refclocks[CONFIG_MAX_REFCLOCKS];
	struct engine_config engine; /* precision and the initial frequency are not configured */
	char driftfile[CONFIG_PATH_LEN];          /* "" : none */
	char leapsecond_list[CONFIG_PATH_LEN];    /* clock.leapsecond_list; "" : none */
	char leapsectz[64];                       /* clock.leapsectz, e.g. "right/UTC"; "" : none */
	struct config_where leapsecond_list_where, leapsectz_where; /* for the loader's errors */
	bool slew_by_frequency;      /* clock.slew_method: "frequency" (true) or "adjtime"; default:
					with refclocks, frequency */
	double max_slew_rate;        /* clock.max_slew_rate, ppm: the frequency method's fastest */
	char keys[CONFIG_PATH_LEN];               /* the keys file; "" : none */
	char sourcedir[CONFIG_PATH_LEN];          /* *.sources files of server/pool lines; "" : none */
	char nts_trusted_certs[CONFIG_PATH_LEN];  /* PEM CAs for NTS-KE; "" : the system's trust store */
	char nts_dumpdir[CONFIG_PATH_LEN];        /* NTS keys and cookies across restarts; "" : not kept */
	struct serve_config serve;
	char control_socket[CONFIG_SOCKET_PATH_LEN];
	char user[64];
	char pidfile[CONFIG_PATH_LEN];            /* "" : none */
	enum log_level log_level;    /* default info */
	bool log_syslog;             /* service mode logs to syslog; default true */
	struct config_history history;
	struct config_statsd statsd;
	bool seccomp;                /* security.seccomp; default true */
	bool clock_process;          /* security.clock_process; default true */
};

/* 0 on success; -1 with a "FILE:LINE: setting: what is wrong" message in err
 * (and nothing to free). A loaded cfg holds lists on the heap: config_free. */
int config_load(const char *path, struct daemon_config *cfg, char *err, size_t err_len);
/* Frees what config_load allocated (the sources, serve.allow and
 * serve.deny); cfg stays usable with empty lists. */
void config_free(struct daemon_config *cfg);


/* config_load in a child process, for a daemon that reads its file again
 * and again: libconfig 1.5 leaks a string token at some syntax errors
 * ("user \"nobody\";" loses 64 bytes per reload) and its scanner exits on a
 * read error; neither reaches the caller. Same results as config_load. */
int config_reload(const char *path, struct daemon_config *cfg, char *err, size_t err_len);
/* Every source's key is in ring (loaded from cfg->keys; NULL when there is
 * none): 0, or -1 with "PATH:LINE: sources[N].key: what is wrong" in err,
 * path being the configuration file's. */
int config_check_keys(const struct daemon_config *cfg, const char *path, const struct auth_keyring *ring,
		      char *err, size_t err_len);

/* Every setting, defaults included, in the file's own syntax. */
void config_print(const struct daemon_config *cfg, FILE *out);

#endif
