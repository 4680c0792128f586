#include "packet.h"

#include <string.h>

#include "byteorder.h"

#define EXTENSION_MIN_LEN 16
#define KEY_ID_LEN 4
#define MAC_MIN_LEN (KEY_ID_LEN + 16)   /* MD5, AES-CMAC */
#define MAC_V4_MAX_LEN (KEY_ID_LEN + 20) /* longer digests are cut to 20 in NTPv4 */
#define MAC_MAX_LEN (KEY_ID_LEN + 64)    /* SHA-512, whole, in NTPv3 */

/* A MAC is a key id and a digest. NTPv4 tells it from extension fields by
 * its length (RFC 7822); before NTPv4 whatever follows the header is one. */
static bool is_mac_length(size_t remaining, uint8_t version)
{
	if (version < 4)
		return remaining >= MAC_MIN_LEN && remaining <= MAC_MAX_LEN;
	return remaining >= MAC_MIN_LEN && remaining <= MAC_V4_MAX_LEN;
}

/* A key id and a whole SHA-256 or SHA-512 digest, right after the header. */
static bool is_whole_long_mac(size_t trailer_len)
{
	return trailer_len == KEY_ID_LEN + 32 || trailer_len == MAC_MAX_LEN;
}

/* RFC 5905: a crypto-NAK is a key id of 0 alone. Any other 4 bytes are no
 * MAC of any kind. */
static bool is_crypto_nak(const uint8_t *p, size_t remaining)
{
	return remaining == KEY_ID_LEN && load_be32(p) == 0;
}

/* RFC 7822: a MAC is recognised by its length; anything else must be a chain
 * of extension fields, each at least 16 bytes and a multiple of 4 long, that
 * fits in what is left. An extension field without a following MAC is at
 * least 28 bytes long, so the lengths never collide. */
static enum packet_status walk_trailer(const uint8_t *buf, size_t len, uint8_t version,
				       struct ntp_packet_trailer *trailer)
{
	size_t pos = NTP_HEADER_LEN;

	memset(trailer, 0, sizeof(*trailer));
	while (pos < len) {
		size_t remaining = len - pos;

		if (is_mac_length(remaining, version) || is_crypto_nak(buf + pos, remaining)) {
			trailer->has_mac = true;
			trailer->mac_offset = pos;
			trailer->key_id = load_be32(buf + pos);
			trailer->mac_len = remaining - KEY_ID_LEN;
			return PACKET_OK;
		}
		if (version < 4 || remaining < EXTENSION_MIN_LEN)
			return PACKET_BAD_EXTENSION;

		size_t field_len = (size_t)buf[pos + 2] << 8 | buf[pos + 3];

		if (field_len < EXTENSION_MIN_LEN || field_len % 4 != 0 || field_len > remaining)
			return PACKET_BAD_EXTENSION;
		pos += field_len;
		trailer->extension_fields++;
	}
	return PACKET_OK;
}

enum packet_status packet_decode(const uint8_t *buf, size_t len, struct ntp_packet *packet,
				 struct ntp_packet_trailer *trailer)
{
	struct ntp_packet_trailer unused;
	enum packet_status status;

	if (len < NTP_HEADER_LEN)
		return PACKET_TOO_SHORT;
	if (len % 4 != 0)
		return PACKET_BAD_LENGTH;

	packet->leap = buf[0] >> 6;
	packet->version = (buf[0] >> 3) & 7;
	packet->mode = buf[0] & 7;
	packet->stratum = buf[1];
	packet->poll = (int8_t)buf[2];
	packet->precision = (int8_t)buf[3];
	packet->root_delay = load_be32(buf + 4);
	packet->root_dispersion = load_be32(buf + 8);
	packet->refid = load_be32(buf + 12);
	packet->reference = load_be64(buf + 16);
	packet->origin = load_be64(buf + NTP_ORIGIN_OFFSET);
	packet->receive = load_be64(buf + NTP_RECEIVE_OFFSET);
	packet->transmit = load_be64(buf + NTP_TRANSMIT_OFFSET);

	if (!trailer)
		trailer = &unused;
	status = walk_trailer(buf, len, packet->version, trailer);
	if (status == PACKET_BAD_EXTENSION && is_whole_long_mac(len - NTP_HEADER_LEN)) {
		/* NTPsec's ntpdig sends whole SHA256/SHA512 digests in NTPv4:
		 * no extension field chain, so it can only be that. */
		memset(trailer, 0, sizeof(*trailer));
		trailer->has_mac = true;
		trailer->mac_offset = NTP_HEADER_LEN;
		trailer->key_id = load_be32(buf + NTP_HEADER_LEN);
		trailer->mac_len = len - NTP_HEADER_LEN - KEY_ID_LEN;
		status = PACKET_OK;
	}
	return status;
}

size_t packet_encode(const struct ntp_packet *packet, uint8_t out[NTP_HEADER_LEN])
{
	out[0] = (uint8_t)((packet->leap & 3) << 6 | (packet->version & 7) << 3 | (packet->mode & 7));
	out[1] = packet->stratum;
	out[2] = (uint8_t)packet->poll;
	out[3] = (uint8_t)packet->precision;
	store_be32(out + 4, packet->root_delay);
	store_be32(out + 8, packet->root_dispersion);
	store_be32(out + 12, packet->refid);
	store_be64(out + 16, packet->reference);
	store_be64(out + NTP_ORIGIN_OFFSET, packet->origin);
	store_be64(out + NTP_RECEIVE_OFFSET, packet->receive);
	store_be64(out + NTP_TRANSMIT_OFFSET, packet->transmit);
	return NTP_HEADER_LEN;
}

const char *packet_status_str(enum packet_status status)
{
	switch (status) {
	case PACKET_OK:
		return "ok";
	case PACKET_TOO_SHORT:
		return "shorter than an NTP header";
	case PACKET_BAD_LENGTH:
		return "length not a multiple of 4";
	case PACKET_BAD_EXTENSION:
		return "malformed extension field or MAC";
	}
	return "unknown";
}
