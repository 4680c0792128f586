/* bench/aead_cost_driver (built and run by bench/aead_cost): the
 * AES-SIV-CMAC-256 work of one authenticated NTS answer, in CPU time, by
 * each AES-SIV this machine's libraries offer:
 * strata's own (src/nts_aead.c, over nettle), GnuTLS's AEAD API keyed per key
 * as chronyd keys it, and, where built in, libgcrypt's SIV mode (not a
 * dependency of strata: measured to know what another library would give).
 * OpenSSL 3.0's AES-128-SIV is left out: through EVP it gives a wrong tag
 * for an empty plaintext (EVP_EncryptFinal_ex fails), and an empty
 * plaintext is what an NTS request's authenticator covers.
 *
 * One answer, as src/nts_serve.c makes it for the request bench/serve --nts
 * sends (one cookie, no placeholders):
 *   - the cookie opened under the server's key (keyed once, not per answer);
 *   - the request's authenticator checked under its C2S key (keyed per answer;
 *     strata keys only the tag's half, nts_aead_init_tag_only);
 *   - a new cookie sealed under the server's key;
 *   - the answer encrypted under its S2C key (keyed per answer).
 * Every library's output is compared with strata's first, so a wrong use
 * cannot look fast. Prints, per library, the best of five runs of N answers
 * (µs per answer), the libraries interleaved.
 *
 *   aead_cost [N]      (default 200000) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#ifdef WITH_GCRYPT
#include <gcrypt.h>
#endif

#include "nts_aead.h"

#define NONCE_LEN 16
#define COOKIE_AD_LEN 4       /* the master key's id */
#define COOKIE_PLAIN_LEN 68   /* AEAD id, two zero bytes, C2S and S2C keys */
#define REQUEST_AD_LEN 192    /* header 48, unique id field 36, cookie field 108 */
#define ANSWER_AD_LEN 84      /* header 48, unique id field 36 */
#define ANSWER_PLAIN_LEN 108  /* one cookie field */
#define COOKIE_LEN (NTS_AEAD_TAG_LEN + COOKIE_PLAIN_LEN)
#define ANSWER_LEN (NTS_AEAD_TAG_LEN + ANSWER_PLAIN_LEN)

static uint8_t master[32], c2s[32], s2c[32], nonce[NONCE_LEN];
static uint8_t cookie_ad[COOKIE_AD_LEN], cookie_plain[COOKIE_PLAIN_LEN], request_ad[REQUEST_AD_LEN];
static uint8_t answer_ad[ANSWER_AD_LEN], answer_plain[ANSWER_PLAIN_LEN];

/* What one answer's operations produce: the same for every library. */
struct answer_out {
	uint8_t opened[COOKIE_PLAIN_LEN];
	uint8_t request_tag[NTS_AEAD_TAG_LEN];
	uint8_t sealed[COOKIE_LEN];
	uint8_t answer[ANSWER_LEN];
};

/* The cookie every answer opens, sealed by strata's code. */
static uint8_t cookie[COOKIE_LEN];

static double cpu_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static struct nts_key key_of(const uint8_t value[32])
{
	struct nts_key k = { .aead = NTS_AEAD_AES_SIV_CMAC_256, .len = 32 };

	memcpy(k.value, value, 32);
	return k;
}

/* strata: src/nts_aead.c, as nts_serve.c and nts_cookie.c call it */
static struct nts_aead strata_master;

static int strata_setup(void)
{
	struct nts_key k = key_of(master);

	return nts_aead_init(&strata_master, &k) ? 0 : -1;
}

static int strata_answer(struct answer_out *o)
{
	struct nts_key kc = key_of(c2s), ks = key_of(s2c);
	struct nts_aead c, s;
	int ok;

	c.aead = s.aead = 0; /* nothing keyed yet, as nts_serve.c starts: nts_aead_deinit leaves them */
	ok = nts_aead_decrypt(&strata_master, nonce, NONCE_LEN, cookie_ad, COOKIE_AD_LEN, cookie, COOKIE_LEN,
			      o->opened) &&
	     nts_aead_init_tag_only(&c, &kc) &&
	     nts_aead_encrypt(&c, nonce, NONCE_LEN, request_ad, REQUEST_AD_LEN, NULL, 0, o->request_tag) &&
	     nts_aead_encrypt(&strata_master, nonce, NONCE_LEN, cookie_ad, COOKIE_AD_LEN, cookie_plain,
			      COOKIE_PLAIN_LEN, o->sealed) &&
	     nts_aead_init(&s, &ks) &&
	     nts_aead_encrypt(&s, nonce, NONCE_LEN, answer_ad, ANSWER_AD_LEN, answer_plain, ANSWER_PLAIN_LEN,
			      o->answer);
	/* the server wipes both keyed contexts after each answer */
	nts_aead_deinit(&c);
	nts_aead_deinit(&s);
	return ok ? 0 : -1;
}

/* GnuTLS: one handle per key, as chronyd's siv_gnutls.c keys a new key */
static gnutls_aead_cipher_hd_t gnutls_master;

static int gnutls_setup(void)
{
	gnutls_datum_t k = { master, 32 };

	return gnutls_aead_cipher_init(&gnutls_master, GNUTLS_CIPHER_AES_128_SIV, &k);
}

static int gnutls_keyed_encrypt(const uint8_t key[32], const uint8_t *ad, size_t ad_len, const uint8_t *plain,
				size_t plain_len, uint8_t *out)
{
	gnutls_datum_t k = { (uint8_t *)key, 32 };
	gnutls_aead_cipher_hd_t h;
	size_t out_len = NTS_AEAD_TAG_LEN + plain_len;
	int r = gnutls_aead_cipher_init(&h, GNUTLS_CIPHER_AES_128_SIV, &k);

	if (r < 0)
		return r;
	r = gnutls_aead_cipher_encrypt(h, nonce, NONCE_LEN, ad, ad_len, NTS_AEAD_TAG_LEN, plain, plain_len, out,
				       &out_len);
	gnutls_aead_cipher_deinit(h);
	return r;
}

static int gnutls_answer(struct answer_out *o)
{
	size_t opened_len = COOKIE_PLAIN_LEN, sealed_len = COOKIE_LEN;

	if (gnutls_aead_cipher_decrypt(gnutls_master, nonce, NONCE_LEN, cookie_ad, COOKIE_AD_LEN, NTS_AEAD_TAG_LEN,
				       cookie, COOKIE_LEN, o->opened, &opened_len) < 0 ||
	    gnutls_keyed_encrypt(c2s, request_ad, REQUEST_AD_LEN, NULL, 0, o->request_tag) < 0 ||
	    gnutls_aead_cipher_encrypt(gnutls_master, nonce, NONCE_LEN, cookie_ad, COOKIE_AD_LEN, NTS_AEAD_TAG_LEN,
				       cookie_plain, COOKIE_PLAIN_LEN, o->sealed, &sealed_len) < 0 ||
	    gnutls_keyed_encrypt(s2c, answer_ad, ANSWER_AD_LEN, answer_plain, ANSWER_PLAIN_LEN, o->answer) < 0)
		return -1;
	return 0;
}

#ifdef WITH_GCRYPT
/* libgcrypt: handles opened once and keyed again per key; SIV takes the
 * associated data, then the nonce, after a reset for every message */
static gcry_cipher_hd_t gcry_master, gcry_client;

static int gcry_setup(void)
{
	if (!gcry_check_version(NULL))
		return -1;
	gcry_control(GCRYCTL_INITIALIZATION_FINISHED, 0);
	if (gcry_cipher_open(&gcry_master, GCRY_CIPHER_AES128, GCRY_CIPHER_MODE_SIV, 0) ||
	    gcry_cipher_open(&gcry_client, GCRY_CIPHER_AES128, GCRY_CIPHER_MODE_SIV, 0))
		return -1;
	return gcry_cipher_setkey(gcry_master, master, 32) ? -1 : 0;
}

static int gcry_start(gcry_cipher_hd_t h, const uint8_t *ad, size_t ad_len)
{
	return gcry_cipher_reset(h) || gcry_cipher_authenticate(h, ad, ad_len) || gcry_cipher_setiv(h, nonce, NONCE_LEN)
		       ? -1
		       : 0;
}

static int gcry_seal(gcry_cipher_hd_t h, const uint8_t *ad, size_t ad_len, const uint8_t *plain, size_t plain_len,
		     uint8_t *out)
{
	if (gcry_start(h, ad, ad_len) ||
	    gcry_cipher_encrypt(h, out + NTS_AEAD_TAG_LEN, plain_len, plain_len ? plain : out, plain_len))
		return -1;
	return gcry_cipher_gettag(h, out, NTS_AEAD_TAG_LEN) ? -1 : 0;
}

static int gcry_answer(struct answer_out *o)
{
	if (gcry_start(gcry_master, cookie_ad, COOKIE_AD_LEN) ||
	    gcry_cipher_set_decryption_tag(gcry_master, cookie, NTS_AEAD_TAG_LEN) ||
	    gcry_cipher_decrypt(gcry_master, o->opened, COOKIE_PLAIN_LEN, cookie + NTS_AEAD_TAG_LEN,
				COOKIE_PLAIN_LEN) ||
	    gcry_cipher_setkey(gcry_client, c2s, 32) ||
	    gcry_seal(gcry_client, request_ad, REQUEST_AD_LEN, NULL, 0, o->request_tag) ||
	    gcry_seal(gcry_master, cookie_ad, COOKIE_AD_LEN, cookie_plain, COOKIE_PLAIN_LEN, o->sealed) ||
	    gcry_cipher_setkey(gcry_client, s2c, 32) ||
	    gcry_seal(gcry_client, answer_ad, ANSWER_AD_LEN, answer_plain, ANSWER_PLAIN_LEN, o->answer))
		return -1;
	return 0;
}
#endif

struct library {
	const char *name;
	int (*setup)(void);
	int (*answer)(struct answer_out *);
	double best; /* µs per answer */
};

static void fill(uint8_t *p, size_t len, uint8_t seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(seed + 7 * i);
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 200000;
	struct library libs[] = {
		{ "strata (nettle)", strata_setup, strata_answer, 0 },
		{ "GnuTLS, keyed per key", gnutls_setup, gnutls_answer, 0 },
#ifdef WITH_GCRYPT
		{ "libgcrypt", gcry_setup, gcry_answer, 0 },
#endif
	};
	size_t count = sizeof(libs) / sizeof(libs[0]);
	struct answer_out want, got;

	if (n < 1)
		return fprintf(stderr, "aead_cost: N must be at least 1\n"), 2;
	fill(master, sizeof(master), 1);
	fill(c2s, sizeof(c2s), 2);
	fill(s2c, sizeof(s2c), 3);
	fill(nonce, sizeof(nonce), 4);
	fill(cookie_ad, sizeof(cookie_ad), 5);
	fill(cookie_plain, sizeof(cookie_plain), 6);
	fill(request_ad, sizeof(request_ad), 7);
	fill(answer_ad, sizeof(answer_ad), 8);
	fill(answer_plain, sizeof(answer_plain), 9);
	for (size_t i = 0; i < count; i++)
		if (libs[i].setup() < 0)
			return fprintf(stderr, "aead_cost: %s cannot be set up\n", libs[i].name), 1;
	/* libs[0] is strata's: its cookie and answer are what the others must give */
	if (!nts_aead_encrypt(&strata_master, nonce, NONCE_LEN, cookie_ad, COOKIE_AD_LEN, cookie_plain,
			      COOKIE_PLAIN_LEN, cookie) ||
	    strata_answer(&want) < 0)
		return fprintf(stderr, "aead_cost: strata's AES-SIV failed\n"), 1;
	for (size_t i = 0; i < count; i++) {
		memset(&got, 0, sizeof(got));
		if (libs[i].answer(&got) < 0)
			return fprintf(stderr, "aead_cost: %s failed\n", libs[i].name), 1;
		if (memcmp(&got, &want, sizeof(want)) != 0)
			return fprintf(stderr, "aead_cost: %s computes something else than strata\n", libs[i].name), 1;
	}
	for (int run = 0; run < 5; run++)
		for (size_t i = 0; i < count; i++) {
			double start = cpu_now(), us;

			for (long k = 0; k < n; k++)
				if (libs[i].answer(&got) < 0)
					return fprintf(stderr, "aead_cost: %s failed\n", libs[i].name), 1;
			us = (cpu_now() - start) * 1e6 / (double)n;
			if (run == 0 || us < libs[i].best)
				libs[i].best = us;
		}
	printf("AES-SIV-CMAC-256 work of one NTS answer, CPU time, best of 5 runs of %ld:\n", n);
	for (size_t i = 0; i < count; i++)
		printf("  %-24s %6.3f µs  (%.2fx strata's)\n", libs[i].name, libs[i].best, libs[i].best / libs[0].best);
	return 0;
}
