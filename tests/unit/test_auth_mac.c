/* MACs against independent references: RFC 4493's AES-CMAC examples, and
 * requests captured from chronyd 4.3 (keyfile with the keys below, "server
 * 127.0.0.N port 12000 key N"), whose digests were also checked with
 * Python's hashlib and cryptography (hash(key || packet), AES-CMAC). */
#include "cmocka_all.h"
#include "unhex.h"

#include <stdio.h>
#include <string.h>

#include "auth_keys.h"
#include "auth_mac.h"
#include "packet.h"

static struct auth_key make_key(uint32_t id, enum auth_type type, const char *hex)
{
	struct auth_key key = { .id = id, .type = type };

	key.len = unhex(hex, key.value);
	return key;
}

/* RFC 4493 section 4: AES-128 key 2b7e1516..., messages of 0, 16, 40, 64 bytes. */
static void aes_cmac_matches_rfc4493(void **state)
{
	(void)state;
	static const char *msg = "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51"
				 "30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710";
	static const struct {
		size_t len;
		const char *mac;
	} examples[] = {
		{ 0, "bb1d6929e95937287fa37d129b756746" },
		{ 16, "070a16b46b4d4144f79bdd9dd04a287c" },
		{ 40, "dfa66747de9ae63030ca32611497c827" },
		{ 64, "51f0bebf7e3b9d92fc49741779363cfe" },
	};
	struct auth_key key = make_key(7, AUTH_AES128_CMAC, "2b7e151628aed2a6abf7158809cf4f3c");

	for (size_t i = 0; i < sizeof(examples) / sizeof(examples[0]); i++) {
		uint8_t buf[64 + AUTH_MAX_MAC_LEN], expected[16];

		unhex(msg, buf);
		unhex(examples[i].mac, expected);
		assert_int_equal(auth_mac_append(&key, buf, examples[i].len, 16), examples[i].len + 20);
		assert_int_equal(buf[examples[i].len + 3], 7); /* key id, big-endian */
		assert_memory_equal(buf + examples[i].len + 4, expected, 16);
		assert_true(auth_mac_verify(&key, buf, examples[i].len, expected, 16));
	}
}

struct capture {
	enum auth_type type;
	const char *key;
	const char *packet;
};

/* chronyd's requests; SHA256 and SHA512 go out as NTPv3 with the whole
 * digest (chrony keeps NTPv4 MACs to 20 bytes). */
static const struct capture chronyd_requests[] = {
	{ AUTH_MD5, "6162636465666768696a6b6c6d6e6f7071727374",
	  "230000200000000000000000000000000000000000000000000000000000000000000000000000005285330f0895a877"
	  "00000001f31a7c818ee055d2d930f2cc93f6941e" },
	{ AUTH_SHA1, "0102030405060708090a0b0c0d0e0f1011121314",
	  "23000020000000000000000000000000000000000000000000000000000000000000000000000000e98c82b1718223f0"
	  "000000020343fd17a22084ea9eacdaf315ddc9e33dba41e6" },
	{ AUTH_SHA256, "7374726174612d7368613235362d6b6579", /* ASCII:strata-sha256-key */
	  "1b000020000000000000000000000000000000000000000000000000000000000000000000000000190cda415cfc08c1"
	  "00000003426b3cc3c843623d483bc74564b95f4f219ff457f2dc8fb6ae46e9b6908672c7" },
	{ AUTH_AES128_CMAC, "2b7e151628aed2a6abf7158809cf4f3c",
	  "23000020000000000000000000000000000000000000000000000000000000000000000000000000f3297cd18728fb2e"
	  "00000004ed83f2d6c57dda669518b2fd75d3915e" },
	{ AUTH_SHA512, "000102030405060708090a0b0c0d0e0f",
	  "1b000020000000000000000000000000000000000000000000000000000000000000000000000000ba3fb2d29db8384f"
	  "00000005d9e9c4a5bb163acdabdf8b2243b911faadc3d3c7f7ce46687d0842d2952745e37199edd6c05374b31777b9b0"
	  "c2e8afbd375896a2b7d17a2292c2644bd626a6a4" },
};

static void chronyd_macs_verify_and_are_reproduced(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(chronyd_requests) / sizeof(chronyd_requests[0]); i++) {
		const struct capture *c = &chronyd_requests[i];
		struct auth_key key = make_key((uint32_t)i + 1, c->type, c->key);
		uint8_t packet[200], ours[200];
		size_t len = unhex(c->packet, packet);
		size_t digest_len = len - NTP_HEADER_LEN - AUTH_KEY_ID_LEN;
		struct ntp_packet p;
		struct ntp_packet_trailer t;

		assert_int_equal(packet_decode(packet, len, &p, &t), PACKET_OK);
		assert_true(t.has_mac);
		assert_int_equal(t.key_id, key.id);
		assert_int_equal(t.mac_len, digest_len);
		assert_int_equal(digest_len, auth_digest_len(c->type));
		assert_true(auth_mac_verify(&key, packet, NTP_HEADER_LEN, packet + 52, digest_len));
		/* the same MAC from our side, whole */
		memcpy(ours, packet, NTP_HEADER_LEN);
		assert_int_equal(auth_mac_append(&key, ours, NTP_HEADER_LEN, digest_len), len);
		assert_memory_equal(ours, packet, len);
		/* and cut to 20 bytes, as NTPv4 carries it: still valid */
		if (digest_len > AUTH_V4_DIGEST_LEN)
			assert_true(auth_mac_verify(&key, packet, NTP_HEADER_LEN, packet + 52, AUTH_V4_DIGEST_LEN));
	}
}

/* SHA224 and SHA384 (ntpd's and NTPsec's, chrony's SHA384): digests from
 * Python's hashlib of key "strata-sha2" || the header of chronyd's MD5 request. */
static void sha224_and_sha384_match_hashlib(void **state)
{
	(void)state;
	static const struct {
		enum auth_type type;
		const char *digest;
	} cases[] = {
		{ AUTH_SHA224, "0ffa14c7c817b7a359ea0a8022903dc8ec4b355a6bfef494a5562d81" },
		{ AUTH_SHA384, "2cc1bcc51b6ebf3f83e702e5ea55ee6b96f8b5edce7f6f7a65ed70439ed830c7"
			       "d4f5429a9c628fa10f77eba2958692b9" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct auth_key key = make_key(3, cases[i].type, "7374726174612d73686132");
		uint8_t packet[NTP_HEADER_LEN + AUTH_MAX_MAC_LEN], digest[AUTH_MAX_DIGEST_LEN];
		size_t n = unhex(cases[i].digest, digest);

		unhex(chronyd_requests[0].packet, packet);
		assert_int_equal(auth_digest_len(cases[i].type), n);
		assert_int_equal(auth_mac_append(&key, packet, NTP_HEADER_LEN, n), NTP_HEADER_LEN + 4 + n);
		assert_memory_equal(packet + 52, digest, n);
		assert_int_equal(auth_send_digest_len(&key), 20);
		assert_true(auth_mac_verify(&key, packet, NTP_HEADER_LEN, digest, 20));
		assert_true(auth_mac_verify(&key, packet, NTP_HEADER_LEN, digest, n));
	}
}

static void bad_macs_fail(void **state)
{
	(void)state;
	const struct capture *c = &chronyd_requests[0];
	struct auth_key key = make_key(1, c->type, c->key);
	struct auth_key other = key;
	uint8_t packet[200];
	size_t len = unhex(c->packet, packet);

	other.value[0] ^= 1;
	assert_false(auth_mac_verify(&other, packet, NTP_HEADER_LEN, packet + 52, 16));
	for (size_t bit = 0; bit < 8 * 16; bit += 13) {
		packet[52 + bit / 8] ^= (uint8_t)(1 << bit % 8);
		assert_false(auth_mac_verify(&key, packet, NTP_HEADER_LEN, packet + 52, 16));
		packet[52 + bit / 8] ^= (uint8_t)(1 << bit % 8);
	}
	packet[40] ^= 0x80; /* the signed part */
	assert_false(auth_mac_verify(&key, packet, NTP_HEADER_LEN, packet + 52, 16));
	packet[40] ^= 0x80;
	/* a truncated digest is not a MAC: only whole or 20 bytes */
	assert_false(auth_mac_verify(&key, packet, NTP_HEADER_LEN, packet + 52, 12));
	assert_false(auth_mac_verify(&key, packet, NTP_HEADER_LEN, packet + 52, 0));
	assert_true(auth_mac_verify(&key, packet, NTP_HEADER_LEN, packet + 52, len - 52));
}

static void we_send_at_most_20_bytes(void **state)
{
	(void)state;
	struct auth_key k = { .id = 1, .len = 16 };

	k.type = AUTH_MD5;
	assert_int_equal(auth_send_digest_len(&k), 16);
	k.type = AUTH_SHA1;
	assert_int_equal(auth_send_digest_len(&k), 20);
	k.type = AUTH_SHA256;
	assert_int_equal(auth_send_digest_len(&k), 20);
	k.type = AUTH_SHA512;
	assert_int_equal(auth_send_digest_len(&k), 20);
	k.type = AUTH_AES128_CMAC;
	assert_int_equal(auth_send_digest_len(&k), 16);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(aes_cmac_matches_rfc4493),
		cmocka_unit_test(chronyd_macs_verify_and_are_reproduced),
		cmocka_unit_test(sha224_and_sha384_match_hashlib),
		cmocka_unit_test(bad_macs_fail),
		cmocka_unit_test(we_send_at_most_20_bytes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
