/* Answers to downstream clients: request bytes and the published system state
 * in, reply bytes or the reason for silence out. Pure: no clock, no socket, no
 * allocation, so it runs in the hot path of every serving thread and under a
 * fuzzer alike.
 *
 * Only mode 3 (client) requests of versions 1 to 4 are answered, with a
 * 48-byte mode 4 header: never larger than the request, never a control or
 * private mode answer, so the server cannot amplify a spoofed flood. */
#ifndef STRATA_SERVE_H
#define STRATA_SERVE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "acl.h"
#include "auth_keys.h"
#include "auth_mac.h"
#include "engine.h"
#include "leap.h"
#include "netaddr.h"
#include "ntp_time.h"
#include "nts_serve.h"
#include "packet.h"
#include "ratelimit.h"
#include "serve_stamps.h"

/* The part of the system state that replies are built from, prepared once per
 * clock update (serve_snapshot_from_system) so that each answer only adds the
 * dispersion grown since the reference time. */
struct serve_snapshot {
	uint8_t leap;                /* enum ntp_leap */
	uint8_t stratum;             /* as it goes into replies; 16 unsynchronized */
	int8_t precision;
	uint32_t refid;
	ntp_ts reference;            /* 0 when there never was an update */
	struct timespec reference_time; /* zero with a usable stratum: the local clock is the
					 * reference (local_stratum), stamped at each answer */
	double root_delay;           /* seconds */
	double root_dispersion;      /* seconds at reference_time */
	/* the leap second served time is smeared around (leap_when 0: none) */
	int64_t leap_when;           /* Unix time of the midnight after it */
	int leap_sign;               /* +1 inserted, -1 deleted */
	bool leap_moves_clock;       /* engine_system's */
	struct leap_smear smear;
	struct timespec leap_mono;   /* the monotonic time the clock takes the leap (leap_when, or a
					second before for a deleted one), as the edge saw it coming;
					zero: not known (the clock took the leap when it read leap_when) */
	double dispersion_rate;      /* s/s it grows at from there */
};

enum serve_verdict {
	SERVE_REPLY = 0,             /* out holds a 48-byte answer */
	SERVE_DROP_MALFORMED,        /* short, odd length, bad extension field or MAC */
	SERVE_DROP_VERSION,          /* version 0 or above 4 */
	SERVE_DROP_MODE,             /* anything but mode 3: no network control at all */
	SERVE_DROP_ZERO_TRANSMIT,    /* no transmit timestamp to echo */
};

void serve_snapshot_from_system(const struct engine_system *sys, struct serve_snapshot *out);

/* The header of the answer to the request in req, received at rx (kernel
 * timestamp, CLOCK_REALTIME); a MAC in the request is not looked at (that is
 * serve_request's), a crypto-NAK in it is malformed. The transmit timestamp
 * is left zero: stamp it with serve_stamp_transmit as close to the send as
 * the caller can. */
enum serve_verdict serve_build_reply(const uint8_t *req, size_t len, const struct serve_snapshot *snap,
				     struct timespec rx, uint8_t out[NTP_HEADER_LEN]);

/* Writes the transmit timestamp into a reply. */
void serve_stamp_transmit(uint8_t reply[NTP_HEADER_LEN], struct timespec tx);

/* Seconds the served time stands away from the clock at rx (CLOCK_REALTIME)
 * with the monotonic time mono: the leap smear (leap.h). A clock that takes
 * the leap (leap_moves_clock) has taken it once mono reaches leap_mono: a
 * clock that repeats 23:59:59 cannot say so itself. 0 without a smear. */
double serve_smear_offset(const struct serve_snapshot *snap, struct timespec rx, struct timespec mono);

const char *serve_verdict_str(enum serve_verdict verdict);

/* One datagram as the server received it. */
struct serve_request {
	const uint8_t *bytes;
	size_t len;
	bool truncated;              /* larger than the receive buffer */
	struct net_addr peer;
	struct timespec rx;          /* receive time, CLOCK_REALTIME */
	struct timespec now;         /* monotonic time, for the rate limiter */
	const struct nts_serve *nts; /* NULL: not serving NTS (NTS fields are then ignored) */
	struct serve_stamps *stamps; /* NULL: basic answers only (no interleaved mode) */
};

enum serve_outcome {
	SERVE_ANSWER = 0,            /* reply holds the answer; stamp its transmit time */
	SERVE_KISS,                  /* reply holds a KoD RATE: over the rate limit */
	SERVE_DENIED,                /* refused by the access list: silence */
	SERVE_MALFORMED,             /* not a request we answer: silence */
	SERVE_LIMITED,               /* over the rate limit, no kiss due: silence */
	SERVE_AUTH_FAILED,           /* a MAC with a key we do not hold, or wrong: silence */
	SERVE_NTS_NAK,               /* reply holds an NTS NAK: a cookie we cannot open */
	SERVE_NTS_AUTH_FAILED,       /* an NTS authenticator that does not verify: silence */
};

/* An NTS answer is as long as its request at most; larger requests are
 * truncated by the server's receive buffer and dropped. */
#define SERVE_REPLY_MAX 1024

/* An answer, and for an authenticated request the key to sign it with once
 * its transmit time is stamped (the MAC, or the NTS authenticator, covers
 * it). */
struct serve_reply {
	uint8_t bytes[SERVE_REPLY_MAX];
	double smear;                /* seconds to add to the transmit time (serve_smear_offset) */
	const struct auth_key *key;  /* NULL: no MAC */
	size_t digest_len;           /* as long as the request's */
	struct nts_serve_reply nts;  /* nts.active: NTS fields to append */
	bool nts_nak;
	bool interleaved;            /* transmit holds the stamp of our answer before: leave it */
	bool remember;               /* the client asked for interleaved mode: serve_reply_sending saves it */
};

/* The whole decision about one request, in order: a source port (0 is
 * not one to answer), the access list, the request's form (before the rate
 * limiter, so that garbage never takes a place in its table), the client's
 * rate, then its MAC if it has one: valid under a key in keys (NULL: none)
 * and the answer is signed with that key, else silence. With req->nts, a
 * request with NTS fields has its cookie opened and its authenticator
 * checked (nts_serve.h): an authenticated answer, a NAK, or silence.
 * Requests without a MAC or NTS cost nothing more. */
enum serve_outcome serve_request(const struct acl *acl, const struct auth_keyring *keys, struct ratelimit *rl,
				 const struct serve_snapshot *snap, const struct serve_request *req,
				 struct serve_reply *reply);

/* An answer about to leave, with the clock read now (CLOCK_REALTIME): its
 * transmit timestamp stamped (an interleaved answer has its own already),
 * and, when the client asked for interleaved mode, the answer remembered in
 * stamps for the client's next request (serve_stamps.h). */
void serve_reply_sending(struct serve_reply *reply, struct serve_stamps *stamps, struct timespec now);

/* Appends the MAC when the answer has a key, or the NTS fields (after
 * serve_stamp_transmit for an answer; a kiss keeps the client's
 * timestamp); returns the length to send, 0 for nothing to send. */
size_t serve_sign_reply(struct serve_reply *reply);

#endif
