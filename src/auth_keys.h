/* Symmetric keys for NTP MACs (RFC 5905 7.3, RFC 8573): the keyring and the
 * parser of a keys file as chrony and ntpd write them. Pure: text in, keyring
 * out; reading the file (and its permissions) is auth_keyfile's.
 *
 * One key a line, "ID TYPE KEY" (chrony also takes "ID KEY", meaning MD5):
 *   ID    1 to 4294967295 (0 is the crypto-NAK's);
 *   TYPE  MD5, SHA1, SHA224, SHA256, SHA384, SHA512 (any case; ntpd's "M" is
 *         MD5), AES128 or
 *         AES256 (chrony's CMAC names), AES128CMAC (ntpd's), AES or AES-128
 *         (NTPsec's);
 *   KEY   "HEX:..." or "ASCII:..." (chrony), else ntpd's rule: up to 20
 *         characters are the key in ASCII, longer ones hex digits.
 * Comments start with '#' anywhere, or with '!', ';' or '%' at the start
 * of a line (chrony). */
#ifndef STRATA_AUTH_KEYS_H
#define STRATA_AUTH_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AUTH_MAX_KEY_LEN 64        /* bytes: a SHA-512 block */
#define AUTH_ASCII_KEY_MAX 20      /* ntpd: a bare key this long or shorter is ASCII */

enum auth_type {
	AUTH_MD5 = 0,
	AUTH_SHA1,
	AUTH_SHA256,
	AUTH_SHA512,
	AUTH_AES128_CMAC,
	AUTH_AES256_CMAC,
	AUTH_SHA224,
	AUTH_SHA384,
};

struct auth_key {
	uint32_t id;
	enum auth_type type;
	size_t len;                  /* bytes of value */
	uint8_t value[AUTH_MAX_KEY_LEN];
};

/* Sorted by id; ids are unique. */
struct auth_keyring {
	size_t count;
	struct auth_key *keys;
};

/* Parses the text of a keys file (len bytes, need not end in NUL) into
 * *ring, replacing nothing: *ring is filled only on success. Returns 0, or
 * -1 with "PATH:LINE: what is wrong" in err (path only names the file in
 * messages). A line that cannot be used is an error, not skipped: a key that
 * silently went missing would show up as authentication failures far away. */
int auth_keys_parse(const char *text, size_t len, const char *path, struct auth_keyring *ring, char *err,
		    size_t err_len);

void auth_keyring_free(struct auth_keyring *ring);

/* NULL when id is not in the ring (or ring is NULL). */
const struct auth_key *auth_keyring_find(const struct auth_keyring *ring, uint32_t id);

/* "MD5", "SHA1", "SHA224", "SHA256", "SHA384", "SHA512", "AES128" or
 * "AES256" (chrony's names). */
const char *auth_type_name(enum auth_type type);

#endif
