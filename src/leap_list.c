#include "leap_list.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <nettle/sha1.h>

#include "ntp_time.h"

#define SECONDS_PER_DAY 86400
#define HASH_WORDS 5

struct parse {
	struct leap_table *table;
	struct leap_list_error *err;
	struct sha1_ctx sha;
	bool have_expiry, have_hash;
	uint32_t hash[HASH_WORDS];
	unsigned line;
};

static int fail(struct parse *p, unsigned line, const char *fmt, ...)
{
	va_list ap;

	p->err->line = line;
	va_start(ap, fmt);
	vsnprintf(p->err->message, sizeof(p->err->message), fmt, ap);
	va_end(ap);
	return -1;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

static const char *skip_space(const char *s, const char *end)
{
	while (s < end && is_space(*s))
		s++;
	return s;
}

/* A decimal number of at most 12 digits; NULL when there is none. */
static const char *read_number(const char *s, const char *end, int64_t *out)
{
	int digits = 0;

	*out = 0;
	while (s < end && *s >= '0' && *s <= '9' && digits < 13) {
		*out = *out * 10 + (*s++ - '0');
		digits++;
	}
	return digits == 0 || digits > 12 ? NULL : s;
}

/* The hash covers the digits of the line, in order, and nothing else. */
static void hash_digits(struct parse *p, const char *s, const char *end)
{
	for (; s < end; s++)
		if (*s >= '0' && *s <= '9')
			sha1_update(&p->sha, 1, (const uint8_t *)s);
}

/* "#@ NTPSECONDS" or "#$ NTPSECONDS": one number and nothing else. */
static int special_number(struct parse *p, const char *s, const char *end, const char *what, int64_t *out)
{
	const char *after = read_number(skip_space(s, end), end, out);

	if (!after || skip_space(after, end) != end)
		return fail(p, p->line, "the %s line is not one NTP time in seconds", what);
	hash_digits(p, s, end);
	return 0;
}

/* "#h" and five words of up to 8 hexadecimal digits (some files leave out
 * their leading zeros). */
static int hash_line(struct parse *p, const char *s, const char *end)
{
	for (int i = 0; i < HASH_WORDS; i++) {
		uint32_t word = 0;
		int digits = 0;

		s = skip_space(s, end);
		for (; s < end && !is_space(*s); s++, digits++) {
			int v = *s >= '0' && *s <= '9' ? *s - '0' :
				*s >= 'a' && *s <= 'f' ? *s - 'a' + 10 :
				*s >= 'A' && *s <= 'F' ? *s - 'A' + 10 : -1;

			if (v < 0 || digits == 8)
				return fail(p, p->line, "the #h line is not five hexadecimal 32-bit words");
			word = word << 4 | (uint32_t)v;
		}
		if (digits == 0)
			return fail(p, p->line, "the #h line is not five hexadecimal 32-bit words");
		p->hash[i] = word;
	}
	if (skip_space(s, end) != end)
		return fail(p, p->line, "the #h line has more than five words");
	p->have_hash = true;
	return 0;
}

static int data_line(struct parse *p, const char *s, const char *end)
{
	struct leap_table *t = p->table;
	const char *comment = memchr(s, '#', (size_t)(end - s));
	const char *data_end = comment ? comment : end;
	int64_t ntp, tai;
	const char *q = read_number(s, data_end, &ntp);

	if (!q || q == data_end || !is_space(*q) || !(q = read_number(skip_space(q, data_end), data_end, &tai)) ||
	    skip_space(q, data_end) != data_end)
		return fail(p, p->line, "not \"NTPSECONDS TAIOFFSET [# comment]\"");
	if (ntp < NTP_UNIX_EPOCH_DELTA || (ntp - NTP_UNIX_EPOCH_DELTA) % SECONDS_PER_DAY != 0)
		return fail(p, p->line, "%" PRId64 " is not a midnight UTC after 1970", ntp);
	if (tai > 1000)
		return fail(p, p->line, "TAI - UTC of %" PRId64 " s is out of range", tai);
	if (t->count > 0 && ntp - NTP_UNIX_EPOCH_DELTA <= t->when[t->count - 1])
		return fail(p, p->line, "times must increase from line to line");
	if (t->count > 0 && tai != t->tai[t->count - 1] + 1 && tai != t->tai[t->count - 1] - 1)
		return fail(p, p->line, "TAI - UTC changes by %+" PRId64 " s: a leap second is one second",
			    tai - t->tai[t->count - 1]);
	if (leap_table_add(t, ntp - NTP_UNIX_EPOCH_DELTA, (int)tai) != 0)
		return fail(p, p->line, "more than %d entries", LEAP_TABLE_MAX);
	hash_digits(p, s, data_end);
	return 0;
}

static int parse_line(struct parse *p, const char *s, const char *end)
{
	int64_t value;

	if (end - s >= 2 && s[0] == '#') {
		if (s[1] == '@') {
			if (special_number(p, s + 2, end, "#@ (expiry)", &value) != 0)
				return -1;
			if (value < NTP_UNIX_EPOCH_DELTA)
				return fail(p, p->line, "the expiry is before 1970");
			p->table->expires = value - NTP_UNIX_EPOCH_DELTA;
			p->have_expiry = true;
			return 0;
		}
		if (s[1] == '$')
			return special_number(p, s + 2, end, "#$ (last update)", &value);
		if (s[1] == 'h')
			return hash_line(p, s + 2, end);
	}
	if (s < end && s[0] == '#')
		return 0;
	if (skip_space(s, end) == end)
		return 0;
	return data_line(p, s, end);
}

/* What the whole file must have, checked once every line was read. */
static int check_whole(struct parse *p)
{
	uint8_t digest[SHA1_DIGEST_SIZE];

	if (p->table->count == 0)
		return fail(p, 0, "no leap second lines");
	if (!p->have_expiry)
		return fail(p, 0, "no #@ (expiry) line");
	if (!p->have_hash)
		return fail(p, 0, "no #h (SHA-1) line");
	sha1_digest(&p->sha, sizeof(digest), digest);
	for (int i = 0; i < HASH_WORDS; i++) {
		uint32_t word = (uint32_t)digest[4 * i] << 24 | (uint32_t)digest[4 * i + 1] << 16 |
				(uint32_t)digest[4 * i + 2] << 8 | digest[4 * i + 3];

		if (word != p->hash[i])
			return fail(p, 0, "the #h SHA-1 does not match the contents: a damaged or edited file");
	}
	return 0;
}

static int parse_lines(struct parse *p, const char *s, const char *end)
{
	while (s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		const char *line_end = nl ? nl : end;

		p->line++;
		if (memchr(s, '\0', (size_t)(line_end - s)))
			return fail(p, p->line, "a NUL byte: not a text file");
		if (parse_line(p, s, line_end) != 0)
			return -1;
		s = nl ? nl + 1 : end;
	}
	return check_whole(p);
}

int leap_list_parse(const char *text, size_t len, struct leap_table *out, struct leap_list_error *err)
{
	struct parse p = { .table = out, .err = err };

	memset(out, 0, sizeof(*out));
	memset(err, 0, sizeof(*err));
	sha1_init(&p.sha);
	if (parse_lines(&p, text, text + len) != 0) {
		memset(out, 0, sizeof(*out));
		return -1;
	}
	return 0;
}

int leap_table_add(struct leap_table *table, int64_t when, int tai)
{
	if (table->count >= LEAP_TABLE_MAX || (table->count > 0 && when <= table->when[table->count - 1]))
		return -1;
	table->when[table->count] = when;
	table->tai[table->count] = tai;
	table->count++;
	return 0;
}
