#include "auth_mac.h"

#include <nettle/cmac.h>
#include <nettle/md5.h>
#include <nettle/memops.h>
#include <nettle/sha1.h>
#include <nettle/sha2.h>
#include <string.h>

#include "byteorder.h"

size_t auth_digest_len(enum auth_type type)
{
	switch (type) {
	case AUTH_MD5:
		return MD5_DIGEST_SIZE;
	case AUTH_SHA1:
		return SHA1_DIGEST_SIZE;
	case AUTH_SHA224:
		return SHA224_DIGEST_SIZE;
	case AUTH_SHA256:
		return SHA256_DIGEST_SIZE;
	case AUTH_SHA384:
		return SHA384_DIGEST_SIZE;
	case AUTH_SHA512:
		return SHA512_DIGEST_SIZE;
	case AUTH_AES128_CMAC:
	case AUTH_AES256_CMAC:
		return CMAC128_DIGEST_SIZE;
	}
	return 0;
}

size_t auth_send_digest_len(const struct auth_key *key)
{
	size_t len = auth_digest_len(key->type);

	return len < AUTH_V4_DIGEST_LEN ? len : AUTH_V4_DIGEST_LEN;
}

/* The whole digest into out (AUTH_MAX_DIGEST_LEN bytes); returns its length. */
static size_t compute(const struct auth_key *key, const uint8_t *packet, size_t len, uint8_t *out)
{
	union {
		struct md5_ctx md5;
		struct sha1_ctx sha1;
		struct sha256_ctx sha256;
		struct sha512_ctx sha512;
		struct cmac_aes128_ctx aes128;
		struct cmac_aes256_ctx aes256;
	} ctx;
	size_t n = auth_digest_len(key->type);

	switch (key->type) {
	case AUTH_MD5:
		md5_init(&ctx.md5);
		md5_update(&ctx.md5, key->len, key->value);
		md5_update(&ctx.md5, len, packet);
		md5_digest(&ctx.md5, n, out);
		break;
	case AUTH_SHA1:
		sha1_init(&ctx.sha1);
		sha1_update(&ctx.sha1, key->len, key->value);
		sha1_update(&ctx.sha1, len, packet);
		sha1_digest(&ctx.sha1, n, out);
		break;
	case AUTH_SHA256:
		sha256_init(&ctx.sha256);
		sha256_update(&ctx.sha256, key->len, key->value);
		sha256_update(&ctx.sha256, len, packet);
		sha256_digest(&ctx.sha256, n, out);
		break;
	case AUTH_SHA224:
		sha224_init(&ctx.sha256);
		sha224_update(&ctx.sha256, key->len, key->value);
		sha224_update(&ctx.sha256, len, packet);
		sha224_digest(&ctx.sha256, n, out);
		break;
	case AUTH_SHA384:
		sha384_init(&ctx.sha512);
		sha384_update(&ctx.sha512, key->len, key->value);
		sha384_update(&ctx.sha512, len, packet);
		sha384_digest(&ctx.sha512, n, out);
		break;
	case AUTH_SHA512:
		sha512_init(&ctx.sha512);
		sha512_update(&ctx.sha512, key->len, key->value);
		sha512_update(&ctx.sha512, len, packet);
		sha512_digest(&ctx.sha512, n, out);
		break;
	case AUTH_AES128_CMAC:
		cmac_aes128_set_key(&ctx.aes128, key->value);
		cmac_aes128_update(&ctx.aes128, len, packet);
		cmac_aes128_digest(&ctx.aes128, n, out);
		break;
	case AUTH_AES256_CMAC:
		cmac_aes256_set_key(&ctx.aes256, key->value);
		cmac_aes256_update(&ctx.aes256, len, packet);
		cmac_aes256_digest(&ctx.aes256, n, out);
		break;
	}
	memset(&ctx, 0, sizeof(ctx));
	return n;
}

size_t auth_mac_append(const struct auth_key *key, uint8_t *packet, size_t len, size_t digest_len)
{
	uint8_t digest[AUTH_MAX_DIGEST_LEN];
	size_t n = compute(key, packet, len, digest);

	if (digest_len > n)
		digest_len = n;
	store_be32(packet + len, key->id);
	memcpy(packet + len + AUTH_KEY_ID_LEN, digest, digest_len);
	return len + AUTH_KEY_ID_LEN + digest_len;
}

bool auth_mac_verify(const struct auth_key *key, const uint8_t *packet, size_t len, const uint8_t *digest,
		     size_t digest_len)
{
	uint8_t expected[AUTH_MAX_DIGEST_LEN];

	if (digest_len != auth_digest_len(key->type) && digest_len != auth_send_digest_len(key))
		return false;
	compute(key, packet, len, expected);
	return memeql_sec(expected, digest, digest_len) != 0;
}
