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
 *   - each interval is longer by a random fraction below SOURCE_POLL_RANDOMNESS
 *     (chrony's): clients started together, after a power cut say, drift
 *     apart instead of reaching their server in the same instant forever;
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
 *     KoD DENY/RSTR stops the source for good;
 *   - an offline source (source_set_online, chronyc's offline) sends nothing
 *     and its reach register stands still, so a laptop off the network does
 *     not count its servers unreachable; going online polls at once;
 *   - a manual burst (source_burst, chronyc's burst good/max) polls every
 *     SOURCE_BURST_INTERVAL seconds until `good` samples were accepted or
 *     `max` requests went out, then the poll goes back to its interval (and
 *     an offline source back offline).
 */
/*
 * Interleaved mode (cfg.xleave, chrony's xleave): a server reads the T3 it
 * puts in a reply before its send, and the time from that read to the wire
 * counts as round trip and half of it as offset (2.3 us against a chronyd on
 * loopback). A server that stamps its replies as they leave (chronyd, with
 * the kernel's transmit timestamps) gives that stamp in its next reply when
 * asked:
 *   - the request's origin is the server's receive timestamp T2 from the last
 *     answered exchange, and its receive field a nonce (the seconds of that
 *     exchange's T4, a random fraction), never equal to its origin or transmit;
 *   - a reply whose origin is that nonce is interleaved: its transmit field is
 *     the server's stamp of its last reply leaving, T3' of the exchange before,
 *     whose T1, T2 and T4 were kept; the sample is that exchange's, at its T4;
 *   - a reply whose origin is the request's transmit is basic, as always (a
 *     server without interleaved mode, or one that has no stamp for us);
 *   - the first interleaved reply after a basic one gives no sample: that
 *     exchange gave its own;
 *   - after an unanswered request the next one is basic (the server's stamp
 *     would be of an older reply than the exchange kept).
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
#define SOURCE_POLL_RANDOMNESS 0.02 /* an interval is up to 2 % longer, at random */
#define SOURCE_MAX_MANUAL_BURST 32  /* the most requests one manual burst may send */
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
	/* chrony's per-source options (stratad.conf(5)); zero values are the defaults */
	bool prefer;            /* among the survivors, only preferred ones are combined */
	bool noselect;          /* measured and shown, never a candidate for selection */
	bool trust;             /* a falseticker only when another trusted source disagrees */
	bool require;           /* the clock is updated only while a required source is a truechimer */
	double maxdelay;        /* seconds; a sample with a longer round trip is dropped; 0: no limit */
	double maxdelayratio;   /* a sample whose delay exceeds this times the least delay in the
				   clock filter is dropped; 0: no limit (else > 1) */
	unsigned minstratum;    /* the server's stratum counts as at least this in selection */
	double offset;          /* seconds added to every offset measured: a known path asymmetry
				   (up minus down delay D needs -D / 2) */
	unsigned maxsamples;    /* clock filter size, 1 to FILTER_SIZE; 0: FILTER_SIZE */
	bool refclock;          /* a reference clock: stratum 0, samples from source_refclock_poll, never
				   polled over the network; minpoll = maxpoll is its poll */
	uint32_t refid;         /* refclock: its refid, served as ours while it is the system peer */
	int8_t refclock_precision; /* refclock: log2 seconds */
	bool nts;               /* NTS (RFC 8915): requests only with keys and cookies from a key
				 * exchange (source_nts), replies only when they authenticate; never
				 * plain NTP. Not with key. */
	bool xleave;            /* ask for interleaved mode (above) */
};

/* What the whole system tells every source. */
struct source_limits {
	double max_distance;    /* seconds; farther from the reference is unusable; default 1.5 */
	double max_jitter;      /* seconds; a source with more jitter is not selectable; 0: no limit */
	int8_t precision;       /* log2 seconds of the local clock */
};

/* Where the last selection round put a source. */
enum source_selection {
	SOURCE_UNUSABLE = 0,    /* no sample yet, unsynchronized, too far, KoD */
	SOURCE_UNREACHABLE,
	SOURCE_SERVER_UNSYNCHRONIZED, /* answers, but the server is unsynchronized (leap 3, stratum 0 or 16) */
	SOURCE_NOSELECT,        /* configured noselect: measured only */
	SOURCE_JITTER_EXCEEDED, /* its jitter exceeds max_jitter: not a candidate */
	SOURCE_FALSETICKER,
	SOURCE_TOO_VARIABLE,    /* truechimer left out by clustering */
	SOURCE_NOT_PREFERRED,   /* truechimer left out because preferred sources survived */
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
	SOURCE_DELAY_EXCEEDED,      /* the round trip exceeds maxdelay or maxdelayratio: sample dropped */
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
	uint64_t delay_drops;             /* samples dropped by maxdelay or maxdelayratio */
	uint32_t refid;
	enum ntp_leap leap;
	int poll;                         /* log2 seconds */
	uint8_t reach;
	/* the last accepted reply (chronyc's LastRx and Last sample) */
	bool have_sample;
	double last_rx_age;               /* seconds since it arrived */
	double last_offset;               /* seconds, corrected like every sample for later clock changes */
	double last_delay;                /* seconds, round trip */
	bool last_interleaved;            /* of an interleaved reply (T3 the server's stamp of it leaving) */
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
	bool refclock;                    /* a reference clock (stratum 0) */
	const struct auth_key *key;       /* as configured, NULL: none */
	uint64_t auth_ok;                 /* replies whose MAC was valid */
	uint64_t auth_failed;             /* replies without a valid MAC under the key (malformed included) */
	bool too_far;                     /* its estimate's root distance exceeds max_distance */
	bool offline;                     /* not polled until set online */
	bool bursting;                    /* a manual burst is running */
	bool burst_then_offline;          /* ...on an offline source, which goes back offline after it */
	bool nts;                         /* as configured */
	bool prefer, noselect, trust, require; /* as configured */
	double maxdelay;                  /* as configured, seconds; 0: no limit */
	struct nts_client_status nts_status; /* when nts */
	double nts_last_ke_age;           /* seconds since the last successful key exchange; -1: none */
};

/* The last exchange with a source, as it was on the wire (chronyc ntpdata). */
struct source_exchange {
	bool have_reply;                  /* a reply to one of our requests was decoded */
	struct ntp_packet reply;          /* its header, as sent */
	struct timespec t4;               /* local time the reply arrived */
	double offset;                    /* seconds, of that exchange, before any later clock change */
	double delay;                     /* seconds, round trip */
	double response_time;             /* seconds the server held the request (T3 - T2) */
	enum source_result result;        /* what the reply gave */
	char rejection[80];               /* why it gave no sample, "" if it gave one */
	uint64_t requests;                /* sent */
	uint64_t replies;                 /* datagrams handed in */
	uint64_t valid_replies;           /* that gave a sample */
	bool interleaved;                 /* the reply was interleaved: offset and delay are of the
					   exchange before it */
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
/* As configured (name pointing at the source's copy). */
const struct source_config *source_config(const struct source *src);

/* A reload: new system-wide limits (max_distance, max_jitter; the precision
 * is the clock's and stays). */
void source_set_limits(struct source *src, const struct source_limits *limits);

/* When the next request is due (local time). */
struct timespec source_next_poll(const struct source *src);
/* Seconds between polls at the current poll exponent (a burst's are shorter). */
double source_poll_interval(const struct source *src);
/* A KoD DENY or RSTR stopped it for good: it is never polled again. */
bool source_stopped(const struct source *src);
/* The leap indicator of the server's last authentic reply. */
enum ntp_leap source_leap(const struct source *src);

/* A reference clock's poll: sample is the one its readings since the last
 * poll gave (offset, delay, dispersion, local time), NULL when there were
 * none. Shifts reach like a network poll, so a refclock that stops
 * delivering becomes unreachable as a dead server does. Returns
 * SOURCE_SAMPLE_ACCEPTED or _HELD for a sample, else SOURCE_POLL_SENT or
 * SOURCE_POLL_UNREACHABLE. */
enum source_result source_refclock_poll(struct source *src, const struct filter_sample *sample,
					enum ntp_leap leap, struct timespec now);
bool source_is_refclock(const struct source *src);
/* The refid a server synchronized to this source announces: a refclock's
 * own, else the server's address (RFC 5905 7.3). */
uint32_t source_served_refid(const struct source *src);

/* Writes the request (mode 3, version 4) for a poll at now, the local time
 * read just before sending, followed by a MAC when the source has a key; its
 * length goes to *len (NULL: the caller knows there is no key, 48 bytes).
 * The transmit timestamp carries now's seconds and the low 32 bits of
 * `random` as its fraction: it is a nonce an off-path attacker must guess,
 * while T1 for the offset is now itself. The high 32 bits lengthen the
 * interval to the next poll (SOURCE_POLL_RANDOMNESS; 0: not at all), so the
 * timing of one request tells nothing of another's nonce. Returns
 * SOURCE_POLL_SENT, SOURCE_POLL_UNREACHABLE or SOURCE_STOPPED (nothing
 * written). */
enum source_result source_poll(struct source *src, struct timespec now, uint64_t random,
			       uint8_t out[SOURCE_REQUEST_MAX], size_t *len);

/* The local time the kernel says the request left (its transmit
 * timestamp): T1 from then on, when the request still awaits its reply and
 * the time is not before the clock read source_poll was given (else it is
 * another request's, and false is returned). The clock read comes first by
 * what building the request (an NTS request's encryption) and the send path
 * took, which would count as round trip, and half of it as offset. */
bool source_transmitted(struct source *src, struct timespec when);

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
 * part in selection: not noselect, an estimate, reachable, not stopped, the
 * server synchronized, the root distance within max_distance and the jitter
 * within max_jitter. The candidate's stratum is at least minstratum, and it
 * carries the prefer, trust and require options. */
bool source_select_candidate(const struct source *src, struct timespec now,
			     struct select_candidate *candidate);

/* Why a source is not a candidate, for its selection state: SOURCE_NOSELECT,
 * SOURCE_JITTER_EXCEEDED, SOURCE_UNREACHABLE, SOURCE_SERVER_UNSYNCHRONIZED or
 * SOURCE_UNUSABLE. */
enum source_selection source_unselectable_reason(const struct source *src, struct timespec now);

void source_get_status(const struct source *src, struct timespec now, struct source_status *out);

/* Offline: no request goes out and reach stands still; online: polled at
 * now (with iburst, a burst). A running manual burst on an offline source
 * ends offline. */
void source_set_online(struct source *src, bool online, struct timespec now);
/* A manual burst: polls every SOURCE_BURST_INTERVAL s from now until good
 * samples were accepted or max requests sent. False (nothing changed) when
 * 1 <= good <= max <= SOURCE_MAX_MANUAL_BURST does not hold or the source is
 * stopped by KoD. An offline source runs the burst and goes back offline. */
bool source_burst(struct source *src, unsigned good, unsigned max, struct timespec now);
bool source_offline(const struct source *src);

void source_get_exchange(const struct source *src, struct source_exchange *out);

/* A pool member that was stopped by KoD, is unreachable (reach 0 after 8
 * polls), or was a falseticker continuously for 8 of its poll intervals. */
bool source_wants_replacement(const struct source *src, struct timespec now);

/* chronyc selectdata's state letter for a source as the last selection
 * round left it, and why in words: N stopped by a kiss-o'-death, s the
 * server is unsynchronized or synchronized to us, M no usable sample (none
 * yet, or unreachable), d root distance over max_distance, W selectable but
 * fewer agreeing sources than minsources, x falseticker, D a truechimer left
 * out by clustering, + combined, * the system peer. */
char source_select_code(const struct source_status *st, const char **why);

const char *source_result_str(enum source_result result);
const char *source_selection_str(enum source_selection selection);

#endif
