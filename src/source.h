/* One upstream server's protocol state, sans-I/O (RFC 5905 9-10): when to
 * poll, the request to send, what a reply means (checks, kiss codes, replay),
 * the sample it gives, its clock filter, reach and poll interval. Time and
 * bytes come in as arguments; nothing here reads a clock or a socket.
 *
 * Offsets follow filter.h: true - local, positive when the local clock is behind.
 *
 * Polling:
 *   - the first poll is due at creation; with iburst the first SOURCE_BURST_POLLS
 *     polls are SOURCE_BURST_INTERVAL seconds apart, and again on the first
 *     poll after the source became unreachable;
 *   - every poll shifts the 8-bit reach register left; an authentic reply to
 *     the outstanding request sets bit 0, so an unanswered poll leaves a 0;
 *   - reach 0 after at least 8 polls is "unreachable": the clock filter is
 *     emptied (old samples would block fresh ones) and while unreachable the
 *     poll interval grows by one step per poll up to maxpoll;
 *   - the poll interval is what the engine asks for with source_set_poll (the
 *     discipline's model knows how long the clock keeps between samples),
 *     rising one step per call, falling at once, always within [the floor
 *     (minpoll), maxpoll];
 *   - KoD RATE raises the poll to max(poll + 1, the server's poll), possibly
 *     past maxpoll (the server's limit wins), and that stays the floor;
 *     KoD DENY/RSTR stops the source for good.
 */
#ifndef STRATA_SOURCE_H
#define STRATA_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "auth_keys.h"
#include "auth_mac.h"
#include "filter.h"
#include "nts_client.h"
#include "netaddr.h"
#include "packet.h"
#include "select.h"

#define SOURCE_DEFAULT_MINPOLL 6
#define SOURCE_DEFAULT_MAXPOLL 10
/* chrony's range: 1/64 s to 194 days. The defaults never go below 64 s; a
 * sub-second poll is only used when the admin sets minpoll below 0. */
#define SOURCE_MIN_POLL (-6)        /* lowest poll accepted in the configuration */
#define SOURCE_MAX_POLL 24          /* highest poll ever used, even under KoD RATE */
#define SOURCE_BURST_POLLS 4
#define SOURCE_BURST_INTERVAL 2     /* seconds between the polls of a burst */
#define SOURCE_DEFAULT_MAX_DISTANCE 1.5
#define SOURCE_MIN_DISTANCE 0.001      /* seconds: floor of a correctness interval's half-width */
#define SOURCE_NAME_LEN 256
/* a request with a MAC, or with NTS extension fields */
#define SOURCE_REQUEST_MAX (NTP_HEADER_LEN + NTS_REQUEST_MAX_EF)

/* One configured server. */
struct source_config {
	struct net_addr addr;   /* with port */
	const char *name;       /* as configured (copied by source_create); NULL: the address */
	int minpoll;            /* log2 seconds, as given (SOURCE_DEFAULT_MINPOLL is 6) */
	int maxpoll;            /* log2 seconds, as given (SOURCE_DEFAULT_MAXPOLL is 10) */
	bool iburst;
	bool pool_member;       /* may be replaced when dead or a falseticker */
	unsigned version;       /* NTP version of the requests, 1 to 4; 0: 4 */
	const struct auth_key *key; /* NULL: none; else every request carries a MAC under it and only
				     * replies with a valid MAC under it count (must outlive the source) */
	bool nts;               /* NTS (RFC 8915): requests only with keys and cookies from a key
				 * exchange (source_nts), replies only when they authenticate; never
				 * plain NTP. Not with key. */
};

/* What the whole system tells every source. */
struct source_limits {
	double max_distance;    /* seconds; farther from the reference is unusable; default 1.5 */
	int8_t precision;       /* log2 seconds of the local clock */
};

/* Where the last selection round put a source. */
enum source_selection {
	SOURCE_UNUSABLE = 0,    /* no sample yet, unsynchronized, too far, KoD */
	SOURCE_UNREACHABLE,
	SOURCE_SERVER_UNSYNCHRONIZED, /* answers, but the server is unsynchronized (leap 3, stratum 0 or 16) */
	SOURCE_FALSETICKER,
	SOURCE_TOO_VARIABLE,    /* truechimer left out by clustering */
	SOURCE_COMBINED,
	SOURCE_SYSTEM_PEER,
};

/* Outcome of source_poll and source_handle_reply, for the log and counters. */
enum source_result {
	SOURCE_POLL_SENT = 0,       /* a request was written */
	SOURCE_POLL_UNREACHABLE,    /* a request was written; the source just became unreachable */
	SOURCE_SAMPLE_ACCEPTED,     /* the reply gave a sample and the filter a new estimate */
	SOURCE_SAMPLE_HELD,         /* the reply gave a sample; the filter kept its estimate (older or spike) */
	SOURCE_MALFORMED,           /* not a decodable NTP packet */
	SOURCE_BOGUS,               /* not an answer to our request (mode, version, origin): it stays open */
	SOURCE_DUPLICATE,           /* a second reply to a request already answered */
	SOURCE_UNSYNCHRONIZED,      /* the server answered but is unsynchronized (leap 3, stratum 0 or 16) */
	SOURCE_BAD_HEADER,          /* an answer with impossible timestamps: zero, reference after
				       transmit, transmit before receive, or a negative delay */
	SOURCE_TOO_FAR,             /* the sample's root distance exceeds max_distance */
	SOURCE_KOD_RATE,            /* kiss-o'-death RATE: poll raised */
	SOURCE_KOD_STOP,            /* kiss-o'-death DENY or RSTR: the source is stopped for good */
	SOURCE_KOD_OTHER,           /* another kiss code: reply ignored */
	SOURCE_STOPPED,             /* the source is stopped: nothing sent, replies ignored */
	SOURCE_AUTH_FAILED,         /* the source has a key and the reply no valid MAC under it, or
				       an NTS source and the reply does not authenticate */
	SOURCE_NTS_WAITING,         /* an NTS source without keys or cookies: nothing sent, a key
				       exchange is needed */
	SOURCE_NTS_NAK,             /* an NTS NAK with our identifier: keys and cookies dropped */
};

/* For status displays and the engine's view of a source. */
struct source_status {
	char name[SOURCE_NAME_LEN];
	struct net_addr addr;
	enum source_selection selection;  /* as last told by source_set_selection */
	unsigned stratum;                 /* the server's, 0 before any reply */
	uint32_t refid;
	enum ntp_leap leap;
	int poll;                         /* log2 seconds */
	uint8_t reach;
	/* the last accepted reply (chronyc's LastRx and Last sample) */
	bool have_sample;
	double last_rx_age;               /* seconds since it arrived */
	double last_offset;               /* seconds, corrected like every sample for later clock changes */
	double last_delay;                /* seconds, round trip */
	double last_error;                /* seconds: half the root delay plus the root dispersion through
					     the server, as chronyc's +/- */
	/* the clock filter's estimate (the minimum-delay sample), which selection uses */
	bool have_estimate;
	double estimate_age;              /* seconds since the chosen sample */
	double offset;                    /* seconds */
	double delay;                     /* seconds, round trip to the server */
	double dispersion;                /* seconds, grown to now */
	double jitter;                    /* seconds */
	double root_delay;                /* seconds: the server's plus our delay */
	double root_distance;             /* seconds: lambda, see source_root_distance; the estimate's error */
	/* a straight line through the filter's samples (chronyc's sourcestats) */
	unsigned samples;                 /* in the clock filter */
	bool have_stats;                  /* at least REGRESS_MIN_POINTS samples over some time */
	unsigned runs;                    /* runs of residuals of one sign */
	double span;                      /* seconds from the oldest sample to the newest */
	double residual_frequency_ppm;    /* the line's slope: positive, the local clock loses on the source */
	double skew_ppm;                  /* standard error of that slope */
	double stats_offset;              /* seconds, the line at now */
	double std_dev;                   /* seconds, of the samples about the line */
	char kiss[5];                     /* last kiss code received, "" if none */
	bool stopped;
	bool unreachable;
	bool unsynchronized;              /* it answers, but the server says it is unsynchronized */
	bool loop;                        /* set by the engine: synchronized to us (its refid is ours), never selected */
	const struct auth_key *key;       /* as configured, NULL: none */
	uint64_t auth_ok;                 /* replies whose MAC was valid */
	uint64_t auth_failed;             /* replies without a valid MAC under the key (malformed included) */
	bool nts;                         /* as configured */
	struct nts_client_status nts_status; /* when nts */
	double nts_last_ke_age;           /* seconds since the last successful key exchange; -1: none */
};

struct source;

/* Returns NULL when out of memory or cfg is invalid (poll out of
 * [SOURCE_MIN_POLL, SOURCE_MAX_POLL] or minpoll > maxpoll). Allocates once;
 * nothing else does. */
struct source *source_create(const struct source_config *cfg, const struct source_limits *limits,
			     struct timespec now);
void source_destroy(struct source *src);
const char *source_name(const struct source *src);
const struct net_addr *source_addr(const struct source *src);

/* When the next request is due (local time). */
struct timespec source_next_poll(const struct source *src);
/* A KoD DENY or RSTR stopped it for good: it is never polled again. */
bool source_stopped(const struct source *src);
/* The leap indicator of the server's last authentic reply. */
enum ntp_leap source_leap(const struct source *src);

/* Writes the request (mode 3, version 4) for a poll at now, the local time
 * read just before sending, followed by a MAC when the source has a key; its
 * length goes to *len (NULL: the caller knows there is no key, 48 bytes).
 * The transmit timestamp carries now's seconds and `random` as its
 * fraction: it is a nonce an off-path attacker must guess, while T1 for the
 * offset is now itself. Returns SOURCE_POLL_SENT, SOURCE_POLL_UNREACHABLE or
 * SOURCE_STOPPED (nothing written). */
enum source_result source_poll(struct source *src, struct timespec now, uint32_t random,
			       uint8_t out[SOURCE_REQUEST_MAX], size_t *len);

/* A datagram from the source's address; receive_time is the local time it
 * arrived (T4, a kernel timestamp when available). A source with a key takes
 * only replies with a valid MAC under that key (SOURCE_AUTH_FAILED, the
 * request staying open, for anything else: a crypto-NAK, no MAC, another
 * key id, a wrong digest), never falling back to unauthenticated ones. */
enum source_result source_handle_reply(struct source *src, const uint8_t *buf, size_t len,
				       struct timespec receive_time);

/* Why the last datagram handed to source_handle_reply gave no sample, for
 * people ("" after a sample): the check that failed, or the kiss code. */
const char *source_last_rejection(const struct source *src);

/* The NTS state of an NTS source (NULL for any other), for the edge that
 * runs its key exchanges. */
struct nts_client *source_nts(struct source *src);
/* A key exchange succeeded: the keys and cookies are taken and the next
 * poll is due at once. False when the keys cannot be used. */
bool source_nts_ke_done(struct source *src, const struct nts_ke_result *result, struct timespec now);

/* The noise floor of its measurements: the precision of both clocks, seconds. */
double source_precision(const struct source *src);

/* The newest sample of the source (offset, delay, time), corrected with the
 * clock like the filter's, passed on by the filter or not. */
bool source_latest_sample(const struct source *src, struct filter_sample *sample);

/* The local clock was corrected (see filter_correct for the conventions);
 * call for every step, slew taken as done, and frequency change. */
void source_correct(struct source *src, struct timespec when, double step, double frequency_change);

/* The engine's verdict after a selection round; returns the previous one. */
enum source_selection source_set_selection(struct source *src, enum source_selection selection,
					   struct timespec now);

/* Asks for a poll interval (log2 seconds): the poll rises by at most one
 * step per call and falls at once, within [the floor (minpoll, or the
 * server's rate limit), maxpoll]. The next poll is
 * rescheduled from the last one, except during a burst. */
void source_set_poll(struct source *src, int poll);

/* lambda (RFC 5905) = (root_delay + delay) / 2 + root_dispersion +
 * dispersion + jitter, and never below SOURCE_MIN_DISTANCE: the half-width
 * of a server's correctness interval, from its reply's root delay and root
 * dispersion and our measurement of it. stratadate uses it too. */
double source_distance(double root_delay, double root_dispersion, double delay, double dispersion, double jitter);

/* source_distance of the source's estimate, with the dispersion grown by
 * FILTER_PHI per second of age to now. Infinity when there is no estimate. */
double source_root_distance(const struct source *src, struct timespec now);

/* True, and *candidate filled in (state left alone), when the source can take
 * part in selection: an estimate, reachable, not stopped, the server
 * synchronized and the root distance within max_distance. */
bool source_select_candidate(const struct source *src, struct timespec now,
			     struct select_candidate *candidate);

void source_get_status(const struct source *src, struct timespec now, struct source_status *out);

/* A pool member that was stopped by KoD, is unreachable (reach 0 after 8
 * polls), or was a falseticker continuously for 8 of its poll intervals. */
bool source_wants_replacement(const struct source *src, struct timespec now);

const char *source_result_str(enum source_result result);
const char *source_selection_str(enum source_selection selection);

#endif
