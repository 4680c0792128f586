#include "nts_cookie.h"

#include <string.h>

#include "byteorder.h"

#define ID_LEN 4
#define PLAIN_HEADER 4 /* AEAD id, two zero bytes */
#define PLAIN_MAX (PLAIN_HEADER + 2 * NTS_AEAD_MAX_KEY_LEN)
#define COOKIE_LEN(key_len) (ID_LEN + NTS_COOKIE_NONCE_LEN + NTS_AEAD_TAG_LEN + PLAIN_HEADER + 2 * (key_len))

bool nts_cookie_keys_init(struct nts_cookie_keys *ck, const struct nts_master_keys *keys)
{
	memset(ck, 0, sizeof(*ck));
	for (size_t i = 0; i < keys->count && i < NTS_MASTER_KEYS_MAX; i++) {
		struct nts_key k = { .aead = NTS_AEAD_AES_SIV_CMAC_256, .len = NTS_MASTER_KEY_LEN };

		memcpy(k.value, keys->keys[i].key, NTS_MASTER_KEY_LEN);
		if (!nts_aead_init(&ck->aead[i], &k)) {
			nts_cookie_keys_deinit(ck);
			return false;
		}
		memset(&k, 0, sizeof(k));
		ck->ids[i] = keys->keys[i].id;
		ck->count = i + 1;
	}
	return true;
}

void nts_cookie_keys_deinit(struct nts_cookie_keys *ck)
{
	for (size_t i = 0; i < ck->count; i++)
		nts_aead_deinit(&ck->aead[i]);
	ck->count = 0;
}

bool nts_cookie_seal(const struct nts_cookie_keys *ck, const struct nts_key *c2s, const struct nts_key *s2c,
		     const uint8_t nonce[NTS_COOKIE_NONCE_LEN], struct nts_cookie *out)
{
	uint8_t plain[PLAIN_MAX];
	size_t key_len = nts_aead_key_len(c2s->aead);
	size_t plain_len = PLAIN_HEADER + 2 * key_len;
	bool ok;

	if (ck->count == 0 || key_len == 0 || c2s->len != key_len || s2c->aead != c2s->aead || s2c->len != key_len)
		return false;
	plain[0] = (uint8_t)(c2s->aead >> 8);
	plain[1] = (uint8_t)c2s->aead;
	plain[2] = plain[3] = 0;
	memcpy(plain + PLAIN_HEADER, c2s->value, key_len);
	memcpy(plain + PLAIN_HEADER + key_len, s2c->value, key_len);
	store_be32(out->data, ck->ids[0]);
	memcpy(out->data + ID_LEN, nonce, NTS_COOKIE_NONCE_LEN);
	ok = nts_aead_encrypt(&ck->aead[0], nonce, NTS_COOKIE_NONCE_LEN, out->data, ID_LEN, plain, plain_len,
			      out->data + ID_LEN + NTS_COOKIE_NONCE_LEN);
	memset(plain, 0, sizeof(plain));
	out->len = ok ? (uint16_t)COOKIE_LEN(key_len) : 0;
	return ok;
}

bool nts_cookie_open(const struct nts_cookie_keys *ck, const uint8_t *cookie, size_t len, struct nts_key *c2s,
		     struct nts_key *s2c)
{
	uint8_t plain[PLAIN_MAX];
	const struct nts_aead *aead = NULL;
	size_t cipher_len, key_len;
	uint32_t id;

	if (len < COOKIE_LEN(0) || len > COOKIE_LEN(NTS_AEAD_MAX_KEY_LEN))
		return false;
	id = load_be32(cookie);
	for (size_t i = 0; i < ck->count && !aead; i++)
		if (ck->ids[i] == id)
			aead = &ck->aead[i];
	cipher_len = len - ID_LEN - NTS_COOKIE_NONCE_LEN;
	if (!aead || !nts_aead_decrypt(aead, cookie + ID_LEN, NTS_COOKIE_NONCE_LEN, cookie, ID_LEN,
				       cookie + ID_LEN + NTS_COOKIE_NONCE_LEN, cipher_len, plain))
		return false;
	c2s->aead = s2c->aead = (uint16_t)(plain[0] << 8 | plain[1]);
	key_len = nts_aead_key_len(c2s->aead);
	if (key_len == 0 || cipher_len - NTS_AEAD_TAG_LEN != PLAIN_HEADER + 2 * key_len) {
		memset(plain, 0, sizeof(plain));
		return false;
	}
	c2s->len = s2c->len = (uint8_t)key_len;
	memcpy(c2s->value, plain + PLAIN_HEADER, key_len);
	memcpy(s2c->value, plain + PLAIN_HEADER + key_len, key_len);
	memset(plain, 0, sizeof(plain));
	return true;
}
