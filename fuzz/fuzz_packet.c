/* libFuzzer harness for the bytes every NTP peer can send us: the packet
 * codec and the reply checks. Besides "no crash, no undefined behaviour" it
 * asserts the invariants the rest of strata relies on:
 * - a decoded header encodes back to the same 48 bytes, and decodes again to
 *   the same fields;
 * - the trailer walk never claims more bytes than the packet has;
 * - reply_check accepts only a mode 4, version 1-4, synchronized, non-KoD
 *   reply whose origin is what we sent; a KoD is recognised only at stratum 0. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "packet.h"
#include "reply_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_round_trip(const uint8_t *data, const struct ntp_packet *p)
{
	uint8_t out[NTP_HEADER_LEN];
	struct ntp_packet again;

	if (packet_encode(p, out) != NTP_HEADER_LEN || memcmp(out, data, NTP_HEADER_LEN) != 0)
		abort();
	if (packet_decode(out, sizeof(out), &again, NULL) != PACKET_OK)
		abort();
	if (again.leap != p->leap || again.version != p->version || again.mode != p->mode ||
	    again.stratum != p->stratum || again.poll != p->poll || again.precision != p->precision ||
	    again.root_delay != p->root_delay || again.root_dispersion != p->root_dispersion ||
	    again.refid != p->refid || again.reference != p->reference || again.origin != p->origin ||
	    again.receive != p->receive || again.transmit != p->transmit)
		abort();
}

static void check_trailer(size_t size, const struct ntp_packet_trailer *t)
{
	size_t claimed = NTP_HEADER_LEN + (size_t)t->extension_fields * 16;

	if (t->has_mac)
		claimed += 4 + t->mac_len;
	if (claimed > size)
		abort();
	if (t->has_mac && t->mac_len != 0 && t->mac_len != 16 && t->mac_len != 20)
		abort();
}

static void check_verdicts(const struct ntp_packet *p)
{
	enum reply_verdict echoed = reply_check(p, p->origin);
	enum reply_verdict other = reply_check(p, p->origin ^ 1);
	enum kiss_code kiss = reply_kiss_code(p);

	if (other == REPLY_OK)
		abort();
	if (echoed == REPLY_OK &&
	    (p->mode != NTP_MODE_SERVER || p->version < 1 || p->version > 4 || p->stratum == 0 ||
	     p->stratum >= NTP_MAX_STRATUM || p->leap == NTP_LEAP_UNSYNC || p->transmit == 0 ||
	     p->receive == 0))
		abort();
	if ((kiss == KISS_NONE) != (p->stratum != 0))
		abort();
	if (echoed == REPLY_KOD && p->stratum != 0)
		abort();
	if (reply_verdict_str(echoed) == NULL || reply_verdict_str(other) == NULL)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ntp_packet p;
	struct ntp_packet_trailer trailer;
	enum packet_status status = packet_decode(data, size, &p, &trailer);

	if (packet_status_str(status) == NULL)
		abort();
	if (status == PACKET_TOO_SHORT && size >= NTP_HEADER_LEN)
		abort();
	if (status != PACKET_OK)
		return 0;
	check_round_trip(data, &p);
	check_trailer(size, &trailer);
	check_verdicts(&p);
	return 0;
}
