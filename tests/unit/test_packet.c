#include "cmocka_all.h"

#include <string.h>

#include "packet.h"
#include "reply_check.h"

/* A server reply written out by hand from RFC 5905's field layout:
 * leap 0, version 4, mode 4, stratum 2, poll 6, precision -20,
 * root delay 0.5 s, root dispersion 0.25 s, refid 192.0.2.1. */
static const uint8_t golden_reply[NTP_HEADER_LEN] = {
	0x24, 0x02, 0x06, 0xec,
	0x00, 0x00, 0x80, 0x00,
	0x00, 0x00, 0x40, 0x00,
	0xc0, 0x00, 0x02, 0x01,
	0xe9, 0x00, 0x00, 0x00, 0x80, 0x00, 0x00, 0x00, /* reference */
	0xe9, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, /* origin */
	0xe9, 0x00, 0x00, 0x01, 0x40, 0x00, 0x00, 0x00, /* receive */
	0xe9, 0x00, 0x00, 0x01, 0x40, 0x00, 0x10, 0x00, /* transmit */
};

/* A real reply captured from chronyd 4.3 (local stratum 10, -x, on a loopback
 * port) to a version 4 request whose transmit field was 0x0123456789abcdef. */
static const uint8_t chronyd_reply[NTP_HEADER_LEN] = {
	0x24, 0x0a, 0x00, 0xe7,
	0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00,
	0x7f, 0x7f, 0x01, 0x01,
	0xee, 0xac, 0x2b, 0xec, 0xe0, 0xdd, 0x47, 0x72, /* reference */
	0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, /* origin: our transmit, echoed */
	0xee, 0xac, 0x2b, 0xf3, 0x8f, 0xc7, 0xa8, 0xbb, /* receive */
	0xee, 0xac, 0x2b, 0xf3, 0x92, 0x2d, 0xa3, 0x7a, /* transmit */
};

static void decodes_a_chronyd_reply(void **state)
{
	(void)state;
	struct ntp_packet p;
	struct ntp_packet_trailer trailer;
	uint8_t out[NTP_HEADER_LEN];

	assert_int_equal(packet_decode(chronyd_reply, sizeof(chronyd_reply), &p, &trailer), PACKET_OK);
	assert_int_equal(p.leap, NTP_LEAP_NONE);
	assert_int_equal(p.version, 4);
	assert_int_equal(p.mode, NTP_MODE_SERVER);
	assert_int_equal(p.stratum, 10);
	assert_int_equal(p.poll, 0);
	assert_int_equal(p.precision, -25);
	assert_int_equal(p.root_delay, 0);
	assert_int_equal(p.root_dispersion, 0);
	assert_int_equal(p.refid, 0x7f7f0101u); /* chronyd's local reference, 127.127.1.1 */
	assert_int_equal(p.origin, 0x0123456789abcdefull);
	assert_true(p.transmit > p.receive);
	assert_true(p.receive > p.reference);
	assert_int_equal(trailer.extension_fields, 0);
	assert_false(trailer.has_mac);
	assert_int_equal(reply_check(&p, 0x0123456789abcdefull), REPLY_OK);
	assert_int_equal(reply_check(&p, 0x0123456789abcdeeull), REPLY_BOGUS_ORIGIN);
	packet_encode(&p, out);
	assert_memory_equal(out, chronyd_reply, NTP_HEADER_LEN);
}

static void decodes_every_header_field(void **state)
{
	(void)state;
	struct ntp_packet p;
	struct ntp_packet_trailer trailer;

	assert_int_equal(packet_decode(golden_reply, sizeof(golden_reply), &p, &trailer), PACKET_OK);
	assert_int_equal(p.leap, NTP_LEAP_NONE);
	assert_int_equal(p.version, 4);
	assert_int_equal(p.mode, NTP_MODE_SERVER);
	assert_int_equal(p.stratum, 2);
	assert_int_equal(p.poll, 6);
	assert_int_equal(p.precision, -20);
	assert_int_equal(p.root_delay, 0x8000);
	assert_int_equal(p.root_dispersion, 0x4000);
	assert_int_equal(p.refid, 0xc0000201u);
	assert_int_equal(p.reference, 0xe900000080000000ull);
	assert_int_equal(p.origin, 0xe900000100000000ull);
	assert_int_equal(p.receive, 0xe900000140000000ull);
	assert_int_equal(p.transmit, 0xe900000140001000ull);
	assert_int_equal(trailer.extension_fields, 0);
	assert_false(trailer.has_mac);
}

static void encode_reproduces_golden_bytes(void **state)
{
	(void)state;
	struct ntp_packet p;
	uint8_t out[NTP_HEADER_LEN];

	assert_int_equal(packet_decode(golden_reply, sizeof(golden_reply), &p, NULL), PACKET_OK);
	assert_int_equal(packet_encode(&p, out), NTP_HEADER_LEN);
	assert_memory_equal(out, golden_reply, NTP_HEADER_LEN);
}

static void leap_and_negative_poll_survive(void **state)
{
	(void)state;
	struct ntp_packet p = { .leap = NTP_LEAP_UNSYNC, .version = 3, .mode = NTP_MODE_CLIENT,
				.poll = -3, .precision = -29 };
	struct ntp_packet back;
	uint8_t out[NTP_HEADER_LEN];

	packet_encode(&p, out);
	assert_int_equal(out[0], 0xdb);
	assert_int_equal(packet_decode(out, sizeof(out), &back, NULL), PACKET_OK);
	assert_int_equal(back.leap, NTP_LEAP_UNSYNC);
	assert_int_equal(back.version, 3);
	assert_int_equal(back.mode, NTP_MODE_CLIENT);
	assert_int_equal(back.poll, -3);
	assert_int_equal(back.precision, -29);
}

static enum packet_status decode_with_trailer(const uint8_t *trailer_bytes, size_t trailer_len,
					      struct ntp_packet_trailer *trailer)
{
	uint8_t buf[256];
	struct ntp_packet p;

	memcpy(buf, golden_reply, NTP_HEADER_LEN);
	memcpy(buf + NTP_HEADER_LEN, trailer_bytes, trailer_len);
	return packet_decode(buf, NTP_HEADER_LEN + trailer_len, &p, trailer);
}

static void rejects_short_and_ragged(void **state)
{
	(void)state;
	struct ntp_packet p;
	uint8_t buf[NTP_HEADER_LEN + 3] = { 0x24 };

	assert_int_equal(packet_decode(buf, 47, &p, NULL), PACKET_TOO_SHORT);
	assert_int_equal(packet_decode(buf, 0, &p, NULL), PACKET_TOO_SHORT);
	assert_int_equal(packet_decode(buf, sizeof(buf), &p, NULL), PACKET_BAD_LENGTH);
}

static void recognises_macs_by_length(void **state)
{
	(void)state;
	uint8_t mac[24] = { 0, 0, 0, 7 };
	uint8_t nak[4] = { 0 };
	struct ntp_packet_trailer t;

	assert_int_equal(decode_with_trailer(mac, 20, &t), PACKET_OK);
	assert_true(t.has_mac);
	assert_int_equal(t.key_id, 7);
	assert_int_equal(t.mac_offset, NTP_HEADER_LEN);
	assert_int_equal(t.mac_len, 16);
	assert_int_equal(decode_with_trailer(mac, 24, &t), PACKET_OK);
	assert_int_equal(t.mac_len, 20);
	assert_int_equal(decode_with_trailer(mac, 8, &t), PACKET_BAD_EXTENSION);
	/* a crypto-NAK is key id 0 alone */
	assert_int_equal(decode_with_trailer(nak, 4, &t), PACKET_OK);
	assert_true(t.has_mac);
	assert_int_equal(t.key_id, 0);
	assert_int_equal(t.mac_len, 0);
}

/* Issue 15, defect 5: four bytes that are not a crypto-NAK are no MAC. */
static void four_byte_trailer_with_a_key_id_is_malformed(void **state)
{
	(void)state;
	uint8_t mac[4] = { 0, 0, 0, 7 };
	struct ntp_packet_trailer t;

	assert_int_equal(decode_with_trailer(mac, 4, &t), PACKET_BAD_EXTENSION);
	mac[3] = 0;
	mac[0] = 0x80;
	assert_int_equal(decode_with_trailer(mac, 4, &t), PACKET_BAD_EXTENSION);
}

/* Before NTPv4 all that follows the header is the MAC: chronyd sends whole
 * SHA-256 and SHA-512 digests that way (36 and 68 bytes). */
static void ntpv3_takes_whole_long_digests(void **state)
{
	(void)state;
	uint8_t buf[NTP_HEADER_LEN + 72] = { 0x1b }; /* version 3, mode 3 */
	struct ntp_packet p;
	struct ntp_packet_trailer t;

	buf[NTP_HEADER_LEN + 3] = 5;
	assert_int_equal(packet_decode(buf, NTP_HEADER_LEN + 68, &p, &t), PACKET_OK);
	assert_true(t.has_mac);
	assert_int_equal(t.key_id, 5);
	assert_int_equal(t.mac_len, 64);
	assert_int_equal(packet_decode(buf, NTP_HEADER_LEN + 36, &p, &t), PACKET_OK);
	assert_int_equal(t.mac_len, 32);
	assert_int_equal(packet_decode(buf, NTP_HEADER_LEN + 72, &p, &t), PACKET_BAD_EXTENSION);
	assert_int_equal(packet_decode(buf, NTP_HEADER_LEN + 16, &p, &t), PACKET_BAD_EXTENSION);
	/* in NTPv4 a 36-byte trailer that is no extension field is a whole
	 * SHA-256 digest (NTPsec's ntpdig sends them so), a 40-byte one nothing */
	buf[0] = 0x23;
	assert_int_equal(packet_decode(buf, NTP_HEADER_LEN + 36, &p, &t), PACKET_OK);
	assert_true(t.has_mac);
	assert_int_equal(t.key_id, 5);
	assert_int_equal(t.mac_len, 32);
	assert_int_equal(packet_decode(buf, NTP_HEADER_LEN + 68, &p, &t), PACKET_OK);
	assert_int_equal(t.mac_len, 64);
	assert_int_equal(packet_decode(buf, NTP_HEADER_LEN + 40, &p, &t), PACKET_BAD_EXTENSION);
	/* a real 36-byte extension field stays one */
	buf[NTP_HEADER_LEN + 2] = 0;
	buf[NTP_HEADER_LEN + 3] = 36;
	assert_int_equal(packet_decode(buf, NTP_HEADER_LEN + 36, &p, &t), PACKET_OK);
	assert_false(t.has_mac);
	assert_int_equal(t.extension_fields, 1);
}

static void walks_extension_fields(void **state)
{
	(void)state;
	uint8_t fields[28 + 16 + 20] = { 0 };
	struct ntp_packet_trailer t;

	/* A 28-byte field alone. */
	fields[0] = 0x01; fields[1] = 0x04; fields[2] = 0; fields[3] = 28;
	assert_int_equal(decode_with_trailer(fields, 28, &t), PACKET_OK);
	assert_int_equal(t.extension_fields, 1);
	assert_false(t.has_mac);

	/* Then a 16-byte field and an MD5 MAC. */
	fields[28 + 3] = 16;
	assert_int_equal(decode_with_trailer(fields, sizeof(fields), &t), PACKET_OK);
	assert_int_equal(t.extension_fields, 2);
	assert_true(t.has_mac);
}

static void never_trusts_extension_lengths(void **state)
{
	(void)state;
	uint8_t field[32] = { 0 };
	struct ntp_packet_trailer t;

	field[3] = 0; /* zero length would loop forever if trusted */
	assert_int_equal(decode_with_trailer(field, 32, &t), PACKET_BAD_EXTENSION);
	field[3] = 36; /* longer than the packet */
	assert_int_equal(decode_with_trailer(field, 32, &t), PACKET_BAD_EXTENSION);
	field[3] = 30; /* not a multiple of 4 */
	assert_int_equal(decode_with_trailer(field, 32, &t), PACKET_BAD_EXTENSION);
	field[2] = 0xff; field[3] = 0xfc; /* huge */
	assert_int_equal(decode_with_trailer(field, 32, &t), PACKET_BAD_EXTENSION);
}

/* Before NTPv4 there are no extension fields: what follows the header is a
 * MAC (chronyd reads it so), or the packet is malformed. */
static void version_3_has_no_extension_fields(void **state)
{
	(void)state;
	uint8_t buf[NTP_HEADER_LEN + 28] = { 0 };
	struct ntp_packet p;
	struct ntp_packet_trailer t;

	memcpy(buf, golden_reply, NTP_HEADER_LEN);
	buf[0] = 0x1c; /* v3 server */
	buf[NTP_HEADER_LEN + 3] = 28;
	assert_int_equal(packet_decode(buf, sizeof(buf), &p, &t), PACKET_OK);
	assert_true(t.has_mac);
	assert_int_equal(t.extension_fields, 0);
	assert_int_equal(t.key_id, 28);
	assert_int_equal(packet_decode(buf, NTP_HEADER_LEN + 12, &p, NULL), PACKET_BAD_EXTENSION);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(decodes_every_header_field),
		cmocka_unit_test(decodes_a_chronyd_reply),
		cmocka_unit_test(encode_reproduces_golden_bytes),
		cmocka_unit_test(leap_and_negative_poll_survive),
		cmocka_unit_test(rejects_short_and_ragged),
		cmocka_unit_test(recognises_macs_by_length),
		cmocka_unit_test(four_byte_trailer_with_a_key_id_is_malformed),
		cmocka_unit_test(ntpv3_takes_whole_long_digests),
		cmocka_unit_test(walks_extension_fields),
		cmocka_unit_test(never_trusts_extension_lengths),
		cmocka_unit_test(version_3_has_no_extension_fields),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
