/* Interleaved mode as a server (chrony's xleave, RFC 5905's interleaved
 * idea in client/server mode): the transmit timestamp of a basic answer is
 * read before the send, and the time from that read to the wire is an error
 * in the client's offset. The kernel stamps the answer as it leaves; a
 * client that asks gets that stamp in the answer to its next request.
 *
 * How a request asks: its origin is the receive timestamp of our last answer
 * to it. Every answer's receive timestamp is made odd and its transmit
 * timestamp even (a change of 0.23 ns), so an odd origin can only echo a
 * receive timestamp, never a transmit one or zero; only such requests are
 * remembered.
 *
 * The table maps the receive timestamp of each remembered answer to when it
 * left: our clock read before the send, replaced by the kernel's stamp when
 * that comes back (serve_stamps_kernel). Direct-mapped, fixed size, pure: a
 * client whose entry another took, or whose request repeats one already
 * answered interleaved, gets a basic answer, which it takes as ever. */
#ifndef STRATA_SERVE_STAMPS_H
#define STRATA_SERVE_STAMPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "ntp_time.h"

#define SERVE_STAMPS_SLOTS 4096 /* 96 KiB per serving thread */
/* A kernel stamp later than our read by more is not of this answer */
#define SERVE_STAMPS_MAX_TX_DELAY 1.0

struct serve_stamp {
	ntp_ts rx;    /* the receive timestamp served (odd); 0: free */
	ntp_ts tx;    /* when the answer left, as served (even); 0: given out already */
	double smear; /* served time - clock time for this answer (serve_smear_offset) */
};

struct serve_stamps {
	struct serve_stamp slot[SERVE_STAMPS_SLOTS];
};

/* The marks every answer carries (above). */
static inline ntp_ts serve_stamps_mark_rx(ntp_ts rx) { return rx | 1; }
static inline ntp_ts serve_stamps_mark_tx(ntp_ts tx) { return tx & ~(ntp_ts)1; }

/* Whether a request with these timestamps asks for interleaved mode. */
bool serve_stamps_asked(ntp_ts origin, ntp_ts receive, ntp_ts transmit);

/* The transmit timestamp of the answer whose receive timestamp was origin,
 * for an interleaved answer: true once, then the entry gives nothing more. */
bool serve_stamps_take(struct serve_stamps *t, ntp_ts origin, ntp_ts *tx);

/* Remembers an answer sent: its receive timestamp, and when it left as far
 * as we know (our read before the send, served time), with its smear. */
void serve_stamps_save(struct serve_stamps *t, ntp_ts rx, ntp_ts tx, double smear);

/* The kernel's stamp (CLOCK_REALTIME) of the answer whose receive
 * timestamp is rx leaving; kept when it is within SERVE_STAMPS_MAX_TX_DELAY
 * after what was saved, and not given out yet. Returns whether it was. */
bool serve_stamps_kernel(struct serve_stamps *t, ntp_ts rx, struct timespec stamp);

/* The receive timestamp of our answer in a datagram the error queue gave
 * back: the UDP payload alone or the whole frame before it (link layer, IP
 * and UDP headers, as Linux returns it, or clknetsim). False when frame
 * holds no answer of ours (mode 4 with an odd receive timestamp). */
bool serve_stamps_answer_rx(const uint8_t *frame, size_t len, ntp_ts *rx);

#endif
