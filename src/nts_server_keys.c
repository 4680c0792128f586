#include "nts_server_keys.h"

#include <errno.h>
#include <fcntl.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic_file.h"

#define HEADER "# strata NTS server master keys: secret, keep 0600\n"
/* A header, a creation time and three keys: well below this. */
#define FILE_MAX 1024

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static bool parse_hex(const char *text, uint8_t *out, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		int hi = hex_value(text[2 * i]), lo = hi < 0 ? -1 : hex_value(text[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return false;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return true;
}

static int parse_key_line(const char *line, struct nts_master_keys *out)
{
	char id_hex[9], key_hex[2 * NTS_MASTER_KEY_LEN + 1];
	struct nts_master_key *k;
	uint8_t id[4];
	int end = 0;

	if (out->count == NTS_MASTER_KEYS_MAX)
		return -1;
	if (sscanf(line, "key %8s %64s%n", id_hex, key_hex, &end) != 2 || line[end] != '\0' ||
	    strlen(id_hex) != 8 || strlen(key_hex) != 2 * NTS_MASTER_KEY_LEN)
		return -1;
	k = &out->keys[out->count];
	if (!parse_hex(id_hex, id, sizeof(id)) || !parse_hex(key_hex, k->key, sizeof(k->key)))
		return -1;
	k->id = (uint32_t)id[0] << 24 | (uint32_t)id[1] << 16 | (uint32_t)id[2] << 8 | id[3];
	if (nts_keys_find(out, k->id))
		return -1;
	out->count++;
	return 0;
}

int nts_server_keys_parse(const char *text, struct nts_master_keys *out, char *why, size_t why_len)
{
	char line[160];
	bool have_created = false;
	unsigned lineno = 0;

	memset(out, 0, sizeof(*out));
	while (*text) {
		size_t len = strcspn(text, "\n");
		long long created;
		int end = 0;

		lineno++;
		if (len >= sizeof(line)) {
			snprintf(why, why_len, "line %u: too long", lineno);
			return -1;
		}
		memcpy(line, text, len);
		line[len] = '\0';
		text += len + (text[len] == '\n');
		if (line[0] == '#' || line[0] == '\0')
			continue;
		if (sscanf(line, "created %lld%n", &created, &end) == 1 && line[end] == '\0' && !have_created) {
			out->created = created;
			have_created = true;
		} else if (strncmp(line, "key ", 4) == 0) {
			if (parse_key_line(line, out) < 0) {
				snprintf(why, why_len, "line %u: not \"key <8 hex digits> <64 hex digits>\" "
					 "(or a repeated id, or more than %d keys)", lineno, NTS_MASTER_KEYS_MAX);
				return -1;
			}
		} else {
			snprintf(why, why_len, "line %u: neither \"created <unix time>\" nor \"key ...\"", lineno);
			return -1;
		}
	}
	if (!have_created || out->count == 0) {
		snprintf(why, why_len, "no %s", have_created ? "key" : "creation time");
		return -1;
	}
	return 0;
}

int nts_server_keys_format(const struct nts_master_keys *keys, char *out, size_t len)
{
	int n = snprintf(out, len, HEADER "created %" PRId64 "\n", keys->created);

	for (size_t i = 0; i < keys->count && n >= 0 && (size_t)n < len; i++) {
		n += snprintf(out + n, len - (size_t)n, "key %08" PRIx32 " ", keys->keys[i].id);
		for (size_t j = 0; j < NTS_MASTER_KEY_LEN && (size_t)n < len; j++)
			n += snprintf(out + n, len - (size_t)n, "%02x", keys->keys[i].key[j]);
		if ((size_t)n < len)
			n += snprintf(out + n, len - (size_t)n, "\n");
	}
	return n;
}

static bool same_time(struct timespec a, struct timespec b)
{
	return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec;
}

/* 1: read new keys, 0: the file has not changed or does not exist, -1. */
static int reload(struct nts_server_keys *sk, char *why, size_t why_len)
{
	char text[FILE_MAX + 1], detail[128];
	struct nts_master_keys keys;
	struct stat st;
	ssize_t n;
	int fd = open(sk->path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);

	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		snprintf(why, why_len, "%s: %s", sk->path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(why, why_len, "%s: not a regular file", sk->path);
		close(fd);
		return -1;
	}
	if (sk->keys.count && same_time(st.st_mtim, sk->file_mtime)) {
		close(fd);
		return 0;
	}
	n = read(fd, text, FILE_MAX + 1);
	close(fd);
	if (n < 0 || n > FILE_MAX) {
		snprintf(why, why_len, "%s: %s", sk->path, n < 0 ? strerror(errno) : "too long for a key file");
		return -1;
	}
	text[n] = '\0';
	if (memchr(text, '\0', (size_t)n) || nts_server_keys_parse(text, &keys, detail, sizeof(detail)) < 0) {
		snprintf(why, why_len, "%s: %s", sk->path, memchr(text, '\0', (size_t)n) ? "a NUL byte" : detail);
		return -1;
	}
	sk->keys = keys;
	sk->file_mtime = st.st_mtim;
	return 1;
}

static int save(struct nts_server_keys *sk, char *why, size_t why_len)
{
	char text[FILE_MAX];
	int len = nts_server_keys_format(&sk->keys, text, sizeof(text));
	struct stat st;

	if (atomic_file_write(sk->path, text, (size_t)len, 0600, why, why_len) < 0)
		return -1;
	if (stat(sk->path, &st) == 0)
		sk->file_mtime = st.st_mtim;
	return 0;
}

static int fresh_key(struct nts_master_key *out, char *why, size_t why_len)
{
	uint8_t id[4];

	if (gnutls_rnd(GNUTLS_RND_KEY, out->key, sizeof(out->key)) < 0 ||
	    gnutls_rnd(GNUTLS_RND_NONCE, id, sizeof(id)) < 0) {
		snprintf(why, why_len, "no random bytes for a new NTS master key");
		return -1;
	}
	out->id = (uint32_t)id[0] << 24 | (uint32_t)id[1] << 16 | (uint32_t)id[2] << 8 | id[3];
	return 0;
}

int nts_server_keys_update(struct nts_server_keys *sk, int64_t now, bool *changed, char *why, size_t why_len)
{
	struct nts_master_key fresh;
	int r = 0;

	*changed = false;
	why[0] = '\0';
	if (sk->path) {
		r = reload(sk, why, why_len);
		if (r < 0)
			return -1;
		*changed = r > 0;
	}
	if (nts_keys_decide(&sk->keys, now, sk->rotate) == NTS_KEYS_KEEP)
		return 0;
	if (fresh_key(&fresh, why, why_len) < 0)
		return -1;
	nts_keys_rotate(&sk->keys, &fresh, now);
	memset(&fresh, 0, sizeof(fresh));
	*changed = true;
	return sk->path ? save(sk, why, why_len) : 0;
}
