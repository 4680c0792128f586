#include "nts_aead.h"

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

static gnutls_cipher_algorithm_t gnutls_algorithm(uint16_t aead)
{
	switch (aead) {
	case NTS_AEAD_AES_SIV_CMAC_256:
		return GNUTLS_CIPHER_AES_128_SIV;
	case NTS_AEAD_AES_SIV_CMAC_512:
		return GNUTLS_CIPHER_AES_256_SIV;
	default:
		return GNUTLS_CIPHER_UNKNOWN;
	}
}

size_t nts_aead_key_len(uint16_t aead)
{
	gnutls_cipher_algorithm_t alg = gnutls_algorithm(aead);

	return alg == GNUTLS_CIPHER_UNKNOWN ? 0 : gnutls_cipher_get_key_size(alg);
}

const char *nts_aead_name(uint16_t aead)
{
	switch (aead) {
	case NTS_AEAD_AES_SIV_CMAC_256:
		return "AES-SIV-CMAC-256";
	case NTS_AEAD_AES_SIV_CMAC_512:
		return "AES-SIV-CMAC-512";
	default:
		return "unknown";
	}
}

size_t nts_aead_supported(uint16_t *out, size_t max)
{
	/* the required algorithm first: every server has it, and its 32-byte
	 * keys keep cookies short */
	static const uint16_t preference[] = { NTS_AEAD_AES_SIV_CMAC_256, NTS_AEAD_AES_SIV_CMAC_512 };
	size_t n = 0;

	for (size_t i = 0; i < sizeof(preference) / sizeof(preference[0]) && n < max; i++)
		if (nts_aead_key_len(preference[i]) > 0)
			out[n++] = preference[i];
	return n;
}

bool nts_aead_init(struct nts_aead *ctx, const struct nts_key *key)
{
	gnutls_cipher_algorithm_t alg = gnutls_algorithm(key->aead);
	gnutls_datum_t datum = { .data = (unsigned char *)key->value, .size = key->len };
	gnutls_aead_cipher_hd_t handle;

	ctx->handle = NULL;
	if (alg == GNUTLS_CIPHER_UNKNOWN || key->len != gnutls_cipher_get_key_size(alg))
		return false;
	if (gnutls_aead_cipher_init(&handle, alg, &datum) < 0)
		return false;
	ctx->handle = handle;
	ctx->aead = key->aead;
	return true;
}

void nts_aead_deinit(struct nts_aead *ctx)
{
	if (ctx->handle)
		gnutls_aead_cipher_deinit(ctx->handle);
	ctx->handle = NULL;
}

bool nts_aead_encrypt(const struct nts_aead *ctx, const uint8_t *nonce, size_t nonce_len, const uint8_t *ad,
		      size_t ad_len, const uint8_t *plain, size_t plain_len, uint8_t *out)
{
	size_t out_len = plain_len + NTS_AEAD_TAG_LEN;

	if (!ctx->handle || nonce_len == 0)
		return false;
	return gnutls_aead_cipher_encrypt(ctx->handle, nonce, nonce_len, ad, ad_len, NTS_AEAD_TAG_LEN, plain,
					  plain_len, out, &out_len) == 0 &&
	       out_len == plain_len + NTS_AEAD_TAG_LEN;
}

bool nts_aead_decrypt(const struct nts_aead *ctx, const uint8_t *nonce, size_t nonce_len, const uint8_t *ad,
		      size_t ad_len, const uint8_t *cipher, size_t cipher_len, uint8_t *plain)
{
	size_t plain_len;
	/* GnuTLS writes nothing for an empty plaintext but still wants a buffer */
	uint8_t none[1];

	if (!ctx->handle || nonce_len == 0 || cipher_len < NTS_AEAD_TAG_LEN)
		return false;
	plain_len = cipher_len - NTS_AEAD_TAG_LEN;
	return gnutls_aead_cipher_decrypt(ctx->handle, nonce, nonce_len, ad, ad_len, NTS_AEAD_TAG_LEN, cipher,
					  cipher_len, plain_len ? plain : none, &plain_len) == 0 &&
	       plain_len == cipher_len - NTS_AEAD_TAG_LEN;
}
