/* libFuzzer harness for the bytes every NTP peer can send us: the packet
 * codec and the reply checks. Besides "no crash, no undefined behaviour" it
 * asserts the invariants the rest of strata relies on:
 * - a decoded header encodes back to the same 48 bytes, and decodes again to
 *   the same fields;
 * - the trailer walk never claims more bytes than the packet has, and a MAC
 *   it finds has a length some key type gives (or is a crypto-NAK, key 0);
 * - a MAC checked under a key never reads past the packet, and a header we
 *   sign verifies while the fuzzer's own digest, differing, does not;
 * - reply_check accepts only a mode 4, version 1-4, synchronized, non-KoD
 *   reply whose origin is what we sent; a KoD is recognised only at stratum 0. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth_mac.h"
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
	if (t->has_mac && t->mac_offset + 4 + t->mac_len != size)
		abort();
	if (t->has_mac && t->mac_len == 0 && t->key_id != 0)
		abort();
	if (t->has_mac && t->mac_len != 0 && (t->mac_len < 16 || t->mac_len > 64))
		abort();
}

/* Every key type on the MAC the packet carries, then on one we make. */
static void check_macs(const uint8_t *data, size_t size, const struct ntp_packet_trailer *t)
{
	static const enum auth_type types[] = { AUTH_MD5, AUTH_SHA1, AUTH_SHA224, AUTH_SHA256, AUTH_SHA384, AUTH_SHA512,
						AUTH_AES128_CMAC, AUTH_AES256_CMAC };
	uint8_t signed_copy[NTP_HEADER_LEN + AUTH_MAX_MAC_LEN];

	if (!t->has_mac)
		return;
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		struct auth_key key = { .id = t->key_id, .type = types[i], .len = 32 };
		size_t len;

		memset(key.value, 0x5c, sizeof(key.value));
		auth_mac_verify(&key, data, t->mac_offset, data + t->mac_offset + 4, t->mac_len);
		memcpy(signed_copy, data, NTP_HEADER_LEN);
		len = auth_mac_append(&key, signed_copy, NTP_HEADER_LEN, auth_send_digest_len(&key));
		if (len != NTP_HEADER_LEN + 4 + auth_send_digest_len(&key) ||
		    !auth_mac_verify(&key, signed_copy, NTP_HEADER_LEN, signed_copy + 52, len - 52))
			abort();
		if (t->mac_offset == NTP_HEADER_LEN && t->mac_len == len - 52 &&
		    memcmp(data + 52, signed_copy + 52, t->mac_len) != 0 &&
		    auth_mac_verify(&key, data, NTP_HEADER_LEN, data + 52, t->mac_len))
			abort();
	}
	(void)size;
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
	check_macs(data, size, &trailer);
	check_verdicts(&p);
	return 0;
}
