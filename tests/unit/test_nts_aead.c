/* AES-SIV-CMAC through nettle against independent references.
 *
 * RFC 5297's examples (A.1, A.2) use S2V over several associated-data
 * strings; the AEAD interface NTS uses (RFC 5297 6, RFC 5116) takes exactly
 * one, then the nonce. So the vectors below are RFC 5297's keys, associated
 * data and plaintexts in that one-string-and-a-nonce form, with outputs
 * published with nettle's and miscreant's test suites and reproduced by
 * Python's cryptography (OpenSSL) AESSIV, which also gives RFC 5297's own
 * A.1 and A.2 outputs byte for byte when called with their component lists:
 *   AESSIV(key).encrypt(plaintext, [ad, nonce]) */
#include "cmocka_all.h"
#include "unhex.h"

#include <stdio.h>
#include <string.h>

#include "nts_aead.h"

struct vector {
	uint16_t aead;
	const char *key, *ad, *nonce, *plain, *out;
};

static const struct vector vectors[] = {
	/* RFC 5297 A.2's key, first AD, nonce and plaintext */
	{ NTS_AEAD_AES_SIV_CMAC_256, "7f7e7d7c7b7a79787776757473727170404142434445464748494a4b4c4d4e4f",
	  "00112233445566778899aabbccddeeffdeaddadadeaddadaffeeddccbbaa99887766554433221100",
	  "09f911029d74e35bd84156c5635688c0",
	  "7468697320697320736f6d6520706c61696e7465787420746f20656e6372797074207573696e67205349562d414553",
	  "85825e22e90cf2ddda2c548dc7c1b6310dcdaca0cebf9dc6cb90583f5bf1506e02cd48832b00e4e598b2b22a53e6199d"
	  "4df0c1666a35a0433b250dc134d776" },
	/* RFC 5297 A.1's key, AD and plaintext with the one-byte nonce 02 */
	{ NTS_AEAD_AES_SIV_CMAC_256, "fffefdfcfbfaf9f8f7f6f5f4f3f2f1f0f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff",
	  "101112131415161718191a1b1c1d1e1f2021222324252627", "02", "112233445566778899aabbccddee",
	  "7300cd9b3f514a44ed660db614157f59f0382e23ae0e6e6227a03dd32619" },
	/* AES-SIV-CMAC-512 (two AES-256 keys), RFC 5297 A.2's AD, nonce, plaintext */
	{ NTS_AEAD_AES_SIV_CMAC_512,
	  "c27df2fdaec35d4a2a412a50c3e8c47d2d568e91a38e54148abdc0b6e86caf87"
	  "695c0a8adf4c5f8eb2c6c8b136529864f3b84b3ae8e3676ce760c461f3a13e83",
	  "00112233445566778899aabbccddeeffdeaddadadeaddadaffeeddccbbaa99887766554433221100",
	  "09f911029d74e35bd84156c5635688c0",
	  "7468697320697320736f6d6520706c61696e7465787420746f20656e6372797074207573696e67205349562d414553",
	  "5a979b0da58fde8051621ae6bf96feda50933da8047bc306fabaf0c3d9fa8471c70a7def39a2f91d68a2021c99ac7e2a"
	  "24535a134ba23ec15787cebe5c53cc" },
};

static void setup_key(struct nts_aead *ctx, uint16_t aead, const char *hex)
{
	struct nts_key key = { .aead = aead };

	key.len = (uint8_t)unhex(hex, key.value);
	assert_true(nts_aead_init(ctx, &key));
}

static void vectors_encrypt_and_decrypt(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		const struct vector *v = &vectors[i];
		uint8_t ad[64], nonce[16], plain[64], expected[96], out[96], back[64];
		size_t ad_len = unhex(v->ad, ad), nonce_len = unhex(v->nonce, nonce);
		size_t plain_len = unhex(v->plain, plain), out_len = unhex(v->out, expected);
		struct nts_aead ctx;

		setup_key(&ctx, v->aead, v->key);
		assert_int_equal(out_len, plain_len + NTS_AEAD_TAG_LEN);
		assert_true(nts_aead_encrypt(&ctx, nonce, nonce_len, ad, ad_len, plain, plain_len, out));
		assert_memory_equal(out, expected, out_len);
		assert_true(nts_aead_decrypt(&ctx, nonce, nonce_len, ad, ad_len, expected, out_len, back));
		assert_memory_equal(back, plain, plain_len);
		nts_aead_deinit(&ctx);
	}
}

/* Every byte of tag, ciphertext, associated data and nonce counts. */
static void any_change_fails(void **state)
{
	(void)state;
	const struct vector *v = &vectors[0];
	uint8_t ad[64], nonce[16], cipher[96], plain[64];
	size_t ad_len = unhex(v->ad, ad), nonce_len = unhex(v->nonce, nonce), len = unhex(v->out, cipher);
	struct nts_aead ctx;

	setup_key(&ctx, v->aead, v->key);
	for (size_t i = 0; i < len; i++) {
		cipher[i] ^= 0x01;
		assert_false(nts_aead_decrypt(&ctx, nonce, nonce_len, ad, ad_len, cipher, len, plain));
		cipher[i] ^= 0x01;
	}
	ad[ad_len - 1] ^= 0x80;
	assert_false(nts_aead_decrypt(&ctx, nonce, nonce_len, ad, ad_len, cipher, len, plain));
	ad[ad_len - 1] ^= 0x80;
	nonce[0] ^= 0x80;
	assert_false(nts_aead_decrypt(&ctx, nonce, nonce_len, ad, ad_len, cipher, len, plain));
	nonce[0] ^= 0x80;
	assert_false(nts_aead_decrypt(&ctx, nonce, nonce_len, ad, ad_len - 1, cipher, len, plain));
	assert_false(nts_aead_decrypt(&ctx, nonce, nonce_len, ad, ad_len, cipher, len - 1, plain));
	assert_true(nts_aead_decrypt(&ctx, nonce, nonce_len, ad, ad_len, cipher, len, plain));
	nts_aead_deinit(&ctx);
}

/* An NTS request encrypts nothing: the output is the tag alone. */
static void empty_plaintext_is_a_tag(void **state)
{
	(void)state;
	uint8_t nonce[16] = { 1 }, ad[48] = { 0x23 }, tag[NTS_AEAD_TAG_LEN], none[1];
	struct nts_aead ctx;

	setup_key(&ctx, NTS_AEAD_AES_SIV_CMAC_256, "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
	assert_true(nts_aead_encrypt(&ctx, nonce, sizeof(nonce), ad, sizeof(ad), NULL, 0, tag));
	assert_true(nts_aead_decrypt(&ctx, nonce, sizeof(nonce), ad, sizeof(ad), tag, sizeof(tag), none));
	assert_false(nts_aead_decrypt(&ctx, nonce, sizeof(nonce), ad, sizeof(ad), tag, sizeof(tag) - 1, none));
	nts_aead_deinit(&ctx);
}

/* Keyed for the tag alone, a context checks (and makes) what a fully keyed
 * one does when nothing is encrypted: the expected tags are OpenSSL's
 * (Python's cryptography, AESSIV(key).encrypt(b"", [ad, nonce])) for
 * RFC 5297 A.1's key and AD with the nonce 02, and the AES-SIV-CMAC-512
 * vector's key, AD and nonce. Ciphertext, which needs the CTR key it
 * lacks, is refused. */
static void a_tag_only_key_checks_tags_and_refuses_ciphertext(void **state)
{
	static const struct vector tags[] = {
		{ NTS_AEAD_AES_SIV_CMAC_256, "fffefdfcfbfaf9f8f7f6f5f4f3f2f1f0f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff",
		  "101112131415161718191a1b1c1d1e1f2021222324252627", "02", "", "50b5cf541113e33329d390d75deff3e4" },
		{ NTS_AEAD_AES_SIV_CMAC_512, vectors[2].key, vectors[2].ad, vectors[2].nonce, "",
		  "1b0848f2f6666574369382568b3a9fb9" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(tags) / sizeof(tags[0]); i++) {
		const struct vector *v = &tags[i];
		uint8_t ad[64], nonce[16], expected[NTS_AEAD_TAG_LEN], tag[NTS_AEAD_TAG_LEN], none[1];
		uint8_t cipher[96], plain[64] = { 0x5a };
		size_t ad_len = unhex(v->ad, ad), nonce_len = unhex(v->nonce, nonce);
		struct nts_key key = { .aead = v->aead };
		struct nts_aead full, tag_only;

		assert_int_equal(unhex(v->out, expected), NTS_AEAD_TAG_LEN);
		key.len = (uint8_t)unhex(v->key, key.value);
		assert_true(nts_aead_init(&full, &key));
		assert_true(nts_aead_init_tag_only(&tag_only, &key));
		assert_true(nts_aead_encrypt(&full, nonce, nonce_len, ad, ad_len, NULL, 0, tag));
		assert_memory_equal(tag, expected, NTS_AEAD_TAG_LEN);
		memset(tag, 0, sizeof(tag));
		assert_true(nts_aead_encrypt(&tag_only, nonce, nonce_len, ad, ad_len, NULL, 0, tag));
		assert_memory_equal(tag, expected, NTS_AEAD_TAG_LEN);
		assert_true(nts_aead_decrypt(&tag_only, nonce, nonce_len, ad, ad_len, expected, sizeof(expected), none));
		for (size_t bit = 0; bit < 8 * NTS_AEAD_TAG_LEN; bit++) {
			memcpy(tag, expected, sizeof(tag));
			tag[bit / 8] ^= (uint8_t)(1u << bit % 8);
			assert_false(nts_aead_decrypt(&tag_only, nonce, nonce_len, ad, ad_len, tag, sizeof(tag), none));
		}
		ad[0] ^= 1;
		assert_false(nts_aead_decrypt(&tag_only, nonce, nonce_len, ad, ad_len, expected, sizeof(expected), none));
		ad[0] ^= 1;
		nonce[0] ^= 1;
		assert_false(nts_aead_decrypt(&tag_only, nonce, nonce_len, ad, ad_len, expected, sizeof(expected), none));
		nonce[0] ^= 1;
		/* one byte of ciphertext, authentic under the full key */
		assert_true(nts_aead_encrypt(&full, nonce, nonce_len, ad, ad_len, plain, 1, cipher));
		assert_true(nts_aead_decrypt(&full, nonce, nonce_len, ad, ad_len, cipher, NTS_AEAD_TAG_LEN + 1, plain));
		assert_false(nts_aead_decrypt(&tag_only, nonce, nonce_len, ad, ad_len, cipher, NTS_AEAD_TAG_LEN + 1,
					      plain));
		assert_false(nts_aead_encrypt(&tag_only, nonce, nonce_len, ad, ad_len, plain, 1, cipher));
		nts_aead_deinit(&full);
		nts_aead_deinit(&tag_only);
	}
}

/* nettle asserts a non-empty nonce: refused before. */
static void bad_arguments_are_refused(void **state)
{
	(void)state;
	uint8_t nonce[16] = { 0 }, ad[8] = { 0 }, out[64];
	struct nts_key key = { .aead = NTS_AEAD_AES_SIV_CMAC_256, .len = 16 };
	struct nts_aead ctx;
	uint16_t list[4];

	assert_false(nts_aead_init(&ctx, &key)); /* 16 bytes: not a SIV-CMAC-256 key */
	assert_false(nts_aead_init_tag_only(&ctx, &key));
	key.len = 32;
	key.aead = 30; /* AES-128-GCM-SIV: nettle 3.8 lacks it */
	assert_false(nts_aead_init(&ctx, &key));
	assert_false(nts_aead_init_tag_only(&ctx, &key));
	assert_int_equal(nts_aead_key_len(30), 0);
	assert_string_equal(nts_aead_name(30), "unknown");
	key.aead = NTS_AEAD_AES_SIV_CMAC_256;
	assert_true(nts_aead_init(&ctx, &key));
	assert_false(nts_aead_encrypt(&ctx, nonce, 0, ad, sizeof(ad), NULL, 0, out));
	assert_false(nts_aead_decrypt(&ctx, nonce, 0, ad, sizeof(ad), out, 16, out + 32));
	nts_aead_deinit(&ctx);
	assert_int_equal(nts_aead_key_len(NTS_AEAD_AES_SIV_CMAC_256), 32);
	assert_int_equal(nts_aead_key_len(NTS_AEAD_AES_SIV_CMAC_512), 64);
	assert_int_equal(nts_aead_supported(list, 4), 2);
	assert_int_equal(list[0], NTS_AEAD_AES_SIV_CMAC_256);
	assert_int_equal(nts_aead_supported(list, 1), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(vectors_encrypt_and_decrypt),
		cmocka_unit_test(any_change_fails),
		cmocka_unit_test(empty_plaintext_is_a_tag),
		cmocka_unit_test(a_tag_only_key_checks_tags_and_refuses_ciphertext),
		cmocka_unit_test(bad_arguments_are_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
