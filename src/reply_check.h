/* The checks every server reply must pass before its timestamps are used,
 * shared by stratadate and the daemon's sources. Each rejection has a reason
 * a person can read. */
#ifndef STRATA_REPLY_CHECK_H
#define STRATA_REPLY_CHECK_H

#include "packet.h"

enum reply_verdict {
	REPLY_OK = 0,
	REPLY_BAD_MODE,          /* not a server (mode 4) reply */
	REPLY_BAD_VERSION,       /* version 0 or above 4 */
	REPLY_ZERO_TIMESTAMP,    /* zero receive or transmit timestamp */
	REPLY_BOGUS_ORIGIN,      /* origin is not what we sent: bogus, replayed or stale */
	REPLY_KOD,               /* stratum 0: kiss-o'-death, code in the refid */
	REPLY_UNSYNCHRONIZED,    /* leap 3 or stratum 16 and above */
};

enum kiss_code {
	KISS_NONE = 0,
	KISS_DENY,  /* access denied: stop */
	KISS_RSTR,  /* access restricted: stop */
	KISS_RATE,  /* rate exceeded: back off */
	KISS_OTHER, /* informational, e.g. INIT, STEP */
};

/* sent_transmit is the transmit timestamp of our request, which an honest
 * server echoes as the origin. The origin is checked before the kiss code, so
 * a spoofed KoD is a bogus packet, not an order to stop. */
enum reply_verdict reply_check(const struct ntp_packet *reply, ntp_ts sent_transmit);
enum kiss_code reply_kiss_code(const struct ntp_packet *reply);
const char *reply_verdict_str(enum reply_verdict verdict);

/* The on-wire offset (true - local) and round-trip delay of an exchange, from
 * our send time T1 and receive time T4 (local clock) and the server's receive
 * and transmit timestamps T2, T3, placed in the era nearest T4. In basic mode
 * T2 and T3 are the reply's; in interleaved mode they belong to the exchange
 * before (source.h). A negative delay means the server's timestamps cannot be
 * right; callers judge it. */
void reply_offset_delay(ntp_ts server_receive, ntp_ts server_transmit, struct timespec sent,
			struct timespec received, double *offset, double *delay);

#endif
