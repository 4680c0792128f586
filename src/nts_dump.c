#include "nts_dump.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "byteorder.h"

#define DUMP_MAGIC "strata-nts-dump 1\n"

static void file_name(const char *dir, const struct net_addr *addr, char *out, size_t len)
{
	char text[NETADDR_TEXT_LEN];

	netaddr_format_with_port(addr, text, sizeof(text));
	for (char *p = text; *p; p++)
		if (*p == ':' || *p == '[' || *p == ']' || *p == '/')
			*p = '_';
	snprintf(out, len, "%s/%s.nts", dir, text);
}

/* name, the two keys, the cookies: length-prefixed, big-endian */
static size_t encode(const char *name, const struct nts_ke_result *r, uint8_t *buf, size_t cap)
{
	size_t n = strlen(DUMP_MAGIC), name_len = strlen(name);
	const struct nts_key *keys[2] = { &r->c2s, &r->s2c };

	if (cap < n + 2 + name_len + 2 * (4 + NTS_AEAD_MAX_KEY_LEN) + 2 +
			  r->n_cookies * (2 + NTS_KE_MAX_COOKIE_LEN))
		return 0;
	memcpy(buf, DUMP_MAGIC, n);
	store_be16(buf + n, (uint16_t)name_len);
	memcpy(buf + n + 2, name, name_len);
	n += 2 + name_len;
	for (int i = 0; i < 2; i++) {
		store_be16(buf + n, keys[i]->aead);
		store_be16(buf + n + 2, keys[i]->len);
		memcpy(buf + n + 4, keys[i]->value, keys[i]->len);
		n += 4 + keys[i]->len;
	}
	store_be16(buf + n, (uint16_t)r->n_cookies);
	n += 2;
	for (size_t i = 0; i < r->n_cookies; i++) {
		store_be16(buf + n, r->cookies[i].len);
		memcpy(buf + n + 2, r->cookies[i].data, r->cookies[i].len);
		n += 2 + r->cookies[i].len;
	}
	return n;
}

bool nts_dump_save(const char *dir, const char *name, const struct nts_ke_result *r, char *err, size_t errlen)
{
	static uint8_t buf[8192];
	char path[4096], tmp[4200];
	size_t len = encode(name, r, buf, sizeof(buf));
	int fd;

	if (len == 0) {
		snprintf(err, errlen, "state too large");
		return false;
	}
	file_name(dir, &r->ntp_addr, path, sizeof(path));
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0 || write(fd, buf, len) != (ssize_t)len || fsync(fd) < 0 || close(fd) < 0) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		if (fd >= 0)
			close(fd);
		unlink(tmp);
		return false;
	}
	if (rename(tmp, path) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		unlink(tmp);
		return false;
	}
	return true;
}

struct reader {
	const uint8_t *p;
	size_t left;
	bool bad;
};

static const uint8_t *take(struct reader *rd, size_t n)
{
	const uint8_t *p = rd->p;

	if (rd->bad || rd->left < n) {
		rd->bad = true;
		return NULL;
	}
	rd->p += n;
	rd->left -= n;
	return p;
}

static uint16_t take16(struct reader *rd)
{
	const uint8_t *p = take(rd, 2);

	return p ? load_be16(p) : 0;
}

static bool decode(const uint8_t *buf, size_t len, const char *name, struct nts_ke_result *r)
{
	struct reader rd = { .p = buf, .left = len };
	struct nts_key *keys[2] = { &r->c2s, &r->s2c };
	const uint8_t *p = take(&rd, strlen(DUMP_MAGIC));
	size_t name_len;

	if (!p || memcmp(p, DUMP_MAGIC, strlen(DUMP_MAGIC)) != 0)
		return false;
	name_len = take16(&rd);
	p = take(&rd, name_len);
	if (!p || name_len != strlen(name) || memcmp(p, name, name_len) != 0)
		return false;
	for (int i = 0; i < 2; i++) {
		keys[i]->aead = take16(&rd);
		keys[i]->len = (uint8_t)take16(&rd);
		if (keys[i]->len == 0 || keys[i]->len != nts_aead_key_len(keys[i]->aead) ||
		    !(p = take(&rd, keys[i]->len)))
			return false;
		memcpy(keys[i]->value, p, keys[i]->len);
	}
	r->n_cookies = take16(&rd);
	if (r->n_cookies == 0 || r->n_cookies > NTS_CLIENT_COOKIES)
		return false;
	for (size_t i = 0; i < r->n_cookies; i++) {
		r->cookies[i].len = take16(&rd);
		if (r->cookies[i].len == 0 || r->cookies[i].len > NTS_KE_MAX_COOKIE_LEN ||
		    !(p = take(&rd, r->cookies[i].len)))
			return false;
		memcpy(r->cookies[i].data, p, r->cookies[i].len);
	}
	return !rd.bad && rd.left == 0;
}

bool nts_dump_load(const char *dir, const char *name, struct nts_ke_result *r, char *err, size_t errlen)
{
	static uint8_t buf[8192];
	char path[4096];
	ssize_t len;
	int fd;

	err[0] = '\0';
	file_name(dir, &r->ntp_addr, path, sizeof(path));
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		if (errno != ENOENT)
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return false;
	}
	len = read(fd, buf, sizeof(buf));
	close(fd);
	unlink(path);
	if (len < 0 || (size_t)len == sizeof(buf) || !decode(buf, (size_t)len, name, r)) {
		snprintf(err, errlen, "%s: not a dump of %s's NTS state, ignored", path, name);
		return false;
	}
	return true;
}
