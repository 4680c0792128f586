/* The AEAD algorithms of NTS (RFC 8915 5.1, IANA "AEAD Algorithms"),
 * computed by nettle's SIV-CMAC (RFC 5297). Pure: keys are arguments; no I/O,
 * no allocation.
 *
 *   15 AEAD_AES_SIV_CMAC_256  siv_cmac_aes128, 32-byte key (required)
 *   17 AEAD_AES_SIV_CMAC_512  siv_cmac_aes256, 64-byte key
 * nettle 3.8 has no AES-GCM-SIV (30), and neither has GnuTLS 3.7.
 *
 * nettle directly rather than GnuTLS's AEAD API (which wraps the same
 * nettle code): a server keys two contexts per NTS request (the client's
 * C2S and S2C keys), and gnutls_aead_cipher_init/deinit added an allocation,
 * a free and an algorithm lookup to each (callgrind, bench/nts_serve_cost).
 *
 * The interface is RFC 5297's nonce-based AEAD (RFC 5116): S2V over one
 * associated-data string and the nonce; the output is the 16-byte tag (the
 * synthetic IV) followed by the ciphertext. nettle asserts a non-empty nonce,
 * so every call here refuses an empty one. */
#ifndef STRATA_NTS_AEAD_H
#define STRATA_NTS_AEAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <nettle/siv-cmac.h>

#define NTS_AEAD_AES_SIV_CMAC_256 15
#define NTS_AEAD_AES_SIV_CMAC_512 17
#define NTS_AEAD_TAG_LEN 16
#define NTS_AEAD_MAX_KEY_LEN 64

/* A key with its algorithm: what the TLS exporter produces and cookies hold. */
struct nts_key {
	uint16_t aead;
	uint8_t len;
	uint8_t value[NTS_AEAD_MAX_KEY_LEN];
};

/* A keyed cipher, set up once per key (the key schedule is the costly
 * part); held by value, so keying one is a computation, not an allocation. */
struct nts_aead {
	uint16_t aead; /* 0: not keyed */
	bool tag_only; /* nts_aead_init_tag_only: no CTR key */
	union {
		struct siv_cmac_aes128_ctx siv256;
		struct siv_cmac_aes256_ctx siv512;
	} u;
};

/* Key length of an algorithm we support; 0 for any other id. */
size_t nts_aead_key_len(uint16_t aead);

/* "AES-SIV-CMAC-256", ...; "unknown" for an id we do not support. */
const char *nts_aead_name(uint16_t aead);

/* The algorithms we support, in our order of preference; returns how many
 * (at most max) were written. */
size_t nts_aead_supported(uint16_t *out, size_t max);

/* False when the algorithm is unsupported or the key has the wrong length.
 * nts_aead_deinit wipes the keyed context. */
bool nts_aead_init(struct nts_aead *ctx, const struct nts_key *key);
void nts_aead_deinit(struct nts_aead *ctx);

/* Keyed for what carries no ciphertext, a tag alone: S2V's CMAC key, not the
 * CTR key that only ciphertext needs. That is an NTS request as chrony and
 * NTPsec send it, and a server keys each request's C2S key once: one AES key
 * schedule of two is 0.1 us of the 4.3 an answer costs (bench/serve --nts).
 * Under such a context nts_aead_decrypt refuses anything longer than a tag,
 * and nts_aead_encrypt anything but an empty plaintext. */
bool nts_aead_init_tag_only(struct nts_aead *ctx, const struct nts_key *key);

/* out receives NTS_AEAD_TAG_LEN + plain_len bytes (tag, then ciphertext).
 * out may not overlap the inputs. */
bool nts_aead_encrypt(const struct nts_aead *ctx, const uint8_t *nonce, size_t nonce_len, const uint8_t *ad,
		      size_t ad_len, const uint8_t *plain, size_t plain_len, uint8_t *out);

/* plain receives cipher_len - NTS_AEAD_TAG_LEN bytes; false when the input
 * does not authenticate (or is shorter than the tag). */
bool nts_aead_decrypt(const struct nts_aead *ctx, const uint8_t *nonce, size_t nonce_len, const uint8_t *ad,
		      size_t ad_len, const uint8_t *cipher, size_t cipher_len, uint8_t *plain);

#endif
