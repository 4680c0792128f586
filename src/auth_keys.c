#include "auth_keys.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define LINE_MAX_LEN 1024
#define AES128_KEY_LEN 16
#define AES256_KEY_LEN 32

struct type_name {
	const char *name;
	enum auth_type type;
};

/* chrony's names, ntpd's and NTPsec's; compared without case as ntpd does. */
static const struct type_name type_names[] = {
	{ "MD5", AUTH_MD5 },       { "M", AUTH_MD5 },
	{ "SHA1", AUTH_SHA1 },     { "SHA-1", AUTH_SHA1 },
	{ "SHA224", AUTH_SHA224 }, { "SHA-224", AUTH_SHA224 },
	{ "SHA256", AUTH_SHA256 }, { "SHA-256", AUTH_SHA256 },
	{ "SHA384", AUTH_SHA384 }, { "SHA-384", AUTH_SHA384 },
	{ "SHA512", AUTH_SHA512 }, { "SHA-512", AUTH_SHA512 },
	{ "AES128", AUTH_AES128_CMAC }, { "AES128CMAC", AUTH_AES128_CMAC },
	{ "AES", AUTH_AES128_CMAC },    { "AES-128", AUTH_AES128_CMAC },
	{ "AES256", AUTH_AES256_CMAC }, { "AES256CMAC", AUTH_AES256_CMAC },
	{ "AES-256", AUTH_AES256_CMAC },
};

const char *auth_type_name(enum auth_type type)
{
	switch (type) {
	case AUTH_MD5:
		return "MD5";
	case AUTH_SHA1:
		return "SHA1";
	case AUTH_SHA224:
		return "SHA224";
	case AUTH_SHA256:
		return "SHA256";
	case AUTH_SHA384:
		return "SHA384";
	case AUTH_SHA512:
		return "SHA512";
	case AUTH_AES128_CMAC:
		return "AES128";
	case AUTH_AES256_CMAC:
		return "AES256";
	}
	return "?";
}

struct parser {
	const char *path;
	unsigned line;
	char *err;
	size_t err_len;
};

__attribute__((format(printf, 2, 3)))
static int fail(struct parser *p, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(p->err, p->err_len, "%s:%u: ", p->path, p->line);

	if (n >= 0 && (size_t)n < p->err_len) {
		va_start(ap, fmt);
		vsnprintf(p->err + n, p->err_len - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static bool parse_type(const char *word, enum auth_type *type)
{
	for (size_t i = 0; i < sizeof(type_names) / sizeof(type_names[0]); i++)
		if (!strcasecmp(word, type_names[i].name)) {
			*type = type_names[i].type;
			return true;
		}
	return false;
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static bool is_hex(const char *s, size_t len)
{
	if (len == 0 || len % 2)
		return false;
	for (size_t i = 0; i < len; i++)
		if (hex_value(s[i]) < 0)
			return false;
	return true;
}

/* Returns the key's length in bytes, or -1 with the message set. */
static int decode_key(struct parser *p, const char *word, uint8_t out[AUTH_MAX_KEY_LEN])
{
	size_t len = strlen(word);
	bool hex;

	if (!strncmp(word, "HEX:", 4)) {
		word += 4;
		len -= 4;
		if (!is_hex(word, len))
			return fail(p, "HEX: key is not an even number of hex digits");
		hex = true;
	} else if (!strncmp(word, "ASCII:", 6)) {
		word += 6;
		len -= 6;
		hex = false;
	} else {
		/* ntpd's rule; a long key that is not hex can only be chrony's ASCII */
		hex = len > AUTH_ASCII_KEY_MAX && is_hex(word, len);
	}
	if (hex)
		len /= 2;
	if (len == 0)
		return fail(p, "empty key");
	if (len > AUTH_MAX_KEY_LEN)
		return fail(p, "key of %zu bytes: at most %d", len, AUTH_MAX_KEY_LEN);
	for (size_t i = 0; i < len; i++)
		out[i] = hex ? (uint8_t)(hex_value(word[2 * i]) << 4 | hex_value(word[2 * i + 1])) : (uint8_t)word[i];
	return (int)len;
}

static bool parse_id(const char *word, uint32_t *id)
{
	char *end;
	unsigned long long v;

	if (!isdigit((unsigned char)word[0]))
		return false;
	errno = 0;
	v = strtoull(word, &end, 10);
	if (errno || *end || v == 0 || v > UINT32_MAX)
		return false;
	*id = (uint32_t)v;
	return true;
}

/* Splits line (modified) into at most max words; returns how many, or
 * max + 1 when there are more. */
static size_t split_words(char *line, char **words, size_t max)
{
	size_t n = 0;
	char *save = NULL;

	for (char *w = strtok_r(line, " \t\r\n", &save); w; w = strtok_r(NULL, " \t\r\n", &save)) {
		if (n == max)
			return max + 1;
		words[n++] = w;
	}
	return n;
}

static int parse_line(struct parser *p, char *line, struct auth_key *key)
{
	char *words[3];
	char *hash = strchr(line, '#');
	size_t n;
	int len;

	if (hash)
		*hash = '\0';
	line += strspn(line, " \t\r");
	if (strchr("!;%", line[0]) && line[0])
		return 0;
	n = split_words(line, words, 3);
	if (n == 0)
		return 0;
	if (n == 1 || n > 3)
		return fail(p, "expected \"ID TYPE KEY\"");
	memset(key, 0, sizeof(*key));
	if (!parse_id(words[0], &key->id))
		return fail(p, "key id \"%s\" is not a number from 1 to 4294967295", words[0]);
	if (n == 2)
		key->type = AUTH_MD5; /* chrony: "ID KEY" */
	else if (!parse_type(words[1], &key->type))
		return fail(p, "key %u: unknown type \"%s\" (MD5, SHA1, SHA224, SHA256, SHA384, SHA512, AES128, AES256, AES128CMAC)",
			    key->id, words[1]);
	len = decode_key(p, words[n - 1], key->value);
	if (len < 0)
		return -1;
	key->len = (size_t)len;
	if ((key->type == AUTH_AES128_CMAC && key->len != AES128_KEY_LEN) ||
	    (key->type == AUTH_AES256_CMAC && key->len != AES256_KEY_LEN))
		return fail(p, "key %u: %s needs a key of %d bytes, not %zu", key->id, auth_type_name(key->type),
			    key->type == AUTH_AES128_CMAC ? AES128_KEY_LEN : AES256_KEY_LEN, key->len);
	return 1;
}

static int compare_ids(const void *a, const void *b)
{
	uint32_t x = ((const struct auth_key *)a)->id, y = ((const struct auth_key *)b)->id;

	return x < y ? -1 : x > y;
}

int auth_keys_parse(const char *text, size_t len, const char *path, struct auth_keyring *ring, char *err,
		    size_t err_len)
{
	struct parser p = { .path = path, .err = err, .err_len = err_len };
	struct auth_key *keys = NULL;
	size_t count = 0, cap = 0, pos = 0;

	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t line_len = (nl ? (size_t)(nl - text) : len) - pos;
		char line[LINE_MAX_LEN];
		struct auth_key key;
		int r;

		p.line++;
		if (line_len >= sizeof(line)) {
			fail(&p, "line longer than %d characters", LINE_MAX_LEN - 1);
			goto error;
		}
		memcpy(line, text + pos, line_len);
		line[line_len] = '\0';
		pos += line_len + 1;
		if (strlen(line) != line_len) {
			fail(&p, "NUL byte in the line");
			goto error;
		}
		r = parse_line(&p, line, &key);
		if (r < 0)
			goto error;
		if (r == 0)
			continue;
		if (count == cap) {
			size_t next = cap ? cap * 2 : 16;
			struct auth_key *grown = realloc(keys, next * sizeof(*keys));

			if (!grown) {
				fail(&p, "out of memory");
				goto error;
			}
			keys = grown;
			cap = next;
		}
		keys[count++] = key;
		explicit_bzero(&key, sizeof(key));
	}
	if (count)
		qsort(keys, count, sizeof(*keys), compare_ids);
	for (size_t i = 1; i < count; i++)
		if (keys[i].id == keys[i - 1].id) {
			snprintf(err, err_len, "%s: key %u is defined twice", path, keys[i].id);
			goto error;
		}
	ring->count = count;
	ring->keys = keys;
	return 0;
error:
	if (keys)
		explicit_bzero(keys, cap * sizeof(*keys));
	free(keys);
	return -1;
}

void auth_keyring_free(struct auth_keyring *ring)
{
	if (ring->keys)
		explicit_bzero(ring->keys, ring->count * sizeof(ring->keys[0]));
	free(ring->keys);
	ring->keys = NULL;
	ring->count = 0;
}

const struct auth_key *auth_keyring_find(const struct auth_keyring *ring, uint32_t id)
{
	struct auth_key probe = { .id = id };

	if (!ring || !ring->count)
		return NULL;
	return bsearch(&probe, ring->keys, ring->count, sizeof(ring->keys[0]), compare_ids);
}
