#include "serve_stamps.h"

#include "byteorder.h"
#include "packet.h"

#define SLOT_BITS 12
_Static_assert(SERVE_STAMPS_SLOTS == 1u << SLOT_BITS, "SERVE_STAMPS_SLOTS is 2^SLOT_BITS");

#define UDP_HEADER_LEN 8
/* The headers the kernel returns before the UDP one: link layer (Ethernet
 * with two VLAN tags, 22) and IPv6 with room for extension headers. */
#define MAX_HEADERS 128

static struct serve_stamp *slot_of(struct serve_stamps *t, ntp_ts rx)
{
	/* rx is ours (our clock's fraction), not the client's choice */
	return &t->slot[(rx * 0x9e3779b97f4a7c15u) >> (64 - SLOT_BITS)];
}

bool serve_stamps_asked(ntp_ts origin, ntp_ts receive, ntp_ts transmit)
{
	return (origin & 1) && receive != transmit;
}

bool serve_stamps_take(struct serve_stamps *t, ntp_ts origin, ntp_ts *tx)
{
	struct serve_stamp *s = slot_of(t, origin);

	if (s->rx != origin || s->tx == 0)
		return false;
	*tx = s->tx;
	s->tx = 0; /* a replayed request gets no second one */
	return true;
}

void serve_stamps_save(struct serve_stamps *t, ntp_ts rx, ntp_ts tx, double smear)
{
	*slot_of(t, rx) = (struct serve_stamp){ .rx = rx, .tx = serve_stamps_mark_tx(tx), .smear = smear };
}

bool serve_stamps_kernel(struct serve_stamps *t, ntp_ts rx, struct timespec stamp)
{
	struct serve_stamp *s = slot_of(t, rx);
	ntp_ts served;
	double delay;

	if (s->rx != rx || s->tx == 0)
		return false;
	served = serve_stamps_mark_tx(ntp_ts_from_timespec(timespec_add(stamp, s->smear)));
	delay = ntp_ts_diff(served, s->tx);
	if (delay < 0.0 || delay > SERVE_STAMPS_MAX_TX_DELAY)
		return false;
	s->tx = served;
	return true;
}

static bool is_answer(const uint8_t *p, size_t len, ntp_ts *rx)
{
	if (len < NTP_HEADER_LEN || (p[0] & 7) != NTP_MODE_SERVER)
		return false;
	*rx = load_be64(p + NTP_RECEIVE_OFFSET);
	return (*rx & 1) != 0;
}

bool serve_stamps_answer_rx(const uint8_t *frame, size_t len, ntp_ts *rx)
{
	/* the UDP header is where its length field says the rest of the
	 * frame is: found so, whatever the link layer and IP version */
	for (size_t at = 0; at <= MAX_HEADERS && at + UDP_HEADER_LEN + NTP_HEADER_LEN <= len; at++)
		if (load_be16(frame + at + 4) == len - at &&
		    is_answer(frame + at + UDP_HEADER_LEN, len - at - UDP_HEADER_LEN, rx))
			return true;
	return is_answer(frame, len, rx);
}
