/* NTS cookies as this server makes them (RFC 8915 section 6 leaves the
 * format to the server): the client's two keys sealed under the current
 * master key, so that the server keeps no state per client.
 *
 *   cookie = master key id (4) | nonce (16) | AES-SIV-CMAC-256(master key,
 *            nonce, ad = key id, plain = AEAD id (2) | 0 (2) | C2S | S2C)
 *
 * 104 bytes for AES-SIV-CMAC-256 client keys (a multiple of 4: the cookie
 * fills its extension field with no padding to strip). Pure: the master keys
 * come keyed, the nonce comes from the caller. */
#ifndef STRATA_NTS_COOKIE_H
#define STRATA_NTS_COOKIE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nts_aead.h"
#include "nts_key_rotation.h"
#include "nts_ke_records.h"

#define NTS_COOKIE_NONCE_LEN 16

/* The master keys, keyed for AES-SIV; [0] seals, all open. */
struct nts_cookie_keys {
	size_t count;
	uint32_t ids[NTS_MASTER_KEYS_MAX];
	struct nts_aead aead[NTS_MASTER_KEYS_MAX];
};

/* false (and nothing to deinit) when GnuTLS refuses a key. */
bool nts_cookie_keys_init(struct nts_cookie_keys *ck, const struct nts_master_keys *keys);
void nts_cookie_keys_deinit(struct nts_cookie_keys *ck);

/* Seals the client's keys (same algorithm) into out. false without a
 * current key or when the keys are not a supported pair. */
bool nts_cookie_seal(const struct nts_cookie_keys *ck, const struct nts_key *c2s, const struct nts_key *s2c,
		     const uint8_t nonce[NTS_COOKIE_NONCE_LEN], struct nts_cookie *out);

/* Opens cookie[0..len): false when its key is not held, it was altered,
 * or what is inside is not a pair of keys. */
bool nts_cookie_open(const struct nts_cookie_keys *ck, const uint8_t *cookie, size_t len, struct nts_key *c2s,
		     struct nts_key *s2c);

#endif
