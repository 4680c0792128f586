#include "nts_aead.h"

#include <string.h>

size_t nts_aead_key_len(uint16_t aead)
{
	switch (aead) {
	case NTS_AEAD_AES_SIV_CMAC_256:
		return SIV_CMAC_AES128_KEY_SIZE;
	case NTS_AEAD_AES_SIV_CMAC_512:
		return SIV_CMAC_AES256_KEY_SIZE;
	default:
		return 0;
	}
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

/* Keys ctx whole, or (tag_only) as nettle's siv_cmac_set_key without its
 * last step, the CTR key (the second half of the key): the CTR context is
 * zeroed, and what would read it (ciphertext) is refused before nettle is
 * called. */
static bool key_siv(struct nts_aead *ctx, const struct nts_key *key, bool tag_only)
{
	size_t key_len = nts_aead_key_len(key->aead);

	ctx->aead = 0;
	if (key_len == 0 || key->len != key_len)
		return false;
	if (key->aead == NTS_AEAD_AES_SIV_CMAC_256 && !tag_only) {
		siv_cmac_aes128_set_key(&ctx->u.siv256, key->value);
	} else if (key->aead == NTS_AEAD_AES_SIV_CMAC_256) {
		struct siv_cmac_aes128_ctx *c = &ctx->u.siv256;

		aes128_set_encrypt_key(&c->cmac_cipher, key->value);
		cmac128_set_key(&c->cmac_key, &c->cmac_cipher, (nettle_cipher_func *)aes128_encrypt);
		memset(&c->ctr_cipher, 0, sizeof(c->ctr_cipher));
	} else if (!tag_only) {
		siv_cmac_aes256_set_key(&ctx->u.siv512, key->value);
	} else {
		struct siv_cmac_aes256_ctx *c = &ctx->u.siv512;

		aes256_set_encrypt_key(&c->cmac_cipher, key->value);
		cmac128_set_key(&c->cmac_key, &c->cmac_cipher, (nettle_cipher_func *)aes256_encrypt);
		memset(&c->ctr_cipher, 0, sizeof(c->ctr_cipher));
	}
	ctx->aead = key->aead;
	ctx->tag_only = tag_only;
	return true;
}

bool nts_aead_init(struct nts_aead *ctx, const struct nts_key *key)
{
	return key_siv(ctx, key, false);
}

bool nts_aead_init_tag_only(struct nts_aead *ctx, const struct nts_key *key)
{
	return key_siv(ctx, key, true);
}

void nts_aead_deinit(struct nts_aead *ctx)
{
	/* the context holds the expanded key */
	if (ctx->aead)
		explicit_bzero(&ctx->u, ctx->aead == NTS_AEAD_AES_SIV_CMAC_256 ? sizeof(ctx->u.siv256)
									       : sizeof(ctx->u.siv512));
	ctx->aead = 0;
}

bool nts_aead_encrypt(const struct nts_aead *ctx, const uint8_t *nonce, size_t nonce_len, const uint8_t *ad,
		      size_t ad_len, const uint8_t *plain, size_t plain_len, uint8_t *out)
{
	size_t out_len = plain_len + NTS_AEAD_TAG_LEN;

	if (!ctx->aead || nonce_len == 0 || (ctx->tag_only && plain_len > 0))
		return false;
	if (ctx->aead == NTS_AEAD_AES_SIV_CMAC_256)
		siv_cmac_aes128_encrypt_message(&ctx->u.siv256, nonce_len, nonce, ad_len, ad, out_len, out, plain);
	else
		siv_cmac_aes256_encrypt_message(&ctx->u.siv512, nonce_len, nonce, ad_len, ad, out_len, out, plain);
	return true;
}

bool nts_aead_decrypt(const struct nts_aead *ctx, const uint8_t *nonce, size_t nonce_len, const uint8_t *ad,
		      size_t ad_len, const uint8_t *cipher, size_t cipher_len, uint8_t *plain)
{
	size_t plain_len;
	int ok;

	if (!ctx->aead || nonce_len == 0 || cipher_len < NTS_AEAD_TAG_LEN ||
	    (ctx->tag_only && cipher_len > NTS_AEAD_TAG_LEN))
		return false;
	plain_len = cipher_len - NTS_AEAD_TAG_LEN;
	if (ctx->aead == NTS_AEAD_AES_SIV_CMAC_256)
		ok = siv_cmac_aes128_decrypt_message(&ctx->u.siv256, nonce_len, nonce, ad_len, ad, plain_len, plain,
						     cipher);
	else
		ok = siv_cmac_aes256_decrypt_message(&ctx->u.siv512, nonce_len, nonce, ad_len, ad, plain_len, plain,
						     cipher);
	/* nettle decrypts before it checks: nothing unauthenticated is left */
	if (!ok)
		explicit_bzero(plain, plain_len);
	return ok;
}
