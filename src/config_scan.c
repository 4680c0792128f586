#include "config_scan.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct cursor {
	const char *text;
	size_t len, i;
	unsigned line;
	struct config_scan *out;
};

static int peek(const struct cursor *c, size_t ahead)
{
	return c->i + ahead < c->len ? (unsigned char)c->text[c->i + ahead] : -1;
}

/* Moves one byte on, counting lines and noting NUL bytes wherever they are. */
static void advance(struct cursor *c)
{
	if (c->text[c->i] == '\n')
		c->line++;
	else if (c->text[c->i] == '\0' && !c->out->nul_line)
		c->out->nul_line = c->line;
	c->i++;
}

static bool is_digit(int ch)
{
	return ch >= '0' && ch <= '9';
}

static bool is_name_char(int ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || is_digit(ch) || ch == '_' || ch == '-' ||
	       ch == '*';
}

static void skip_line(struct cursor *c)
{
	while (c->i < c->len && c->text[c->i] != '\n')
		advance(c);
}

static void skip_block_comment(struct cursor *c)
{
	c->i += 2;
	while (c->i < c->len && !(peek(c, 0) == '*' && peek(c, 1) == '/'))
		advance(c);
	if (c->i < c->len)
		c->i += 2;
}

static void skip_string(struct cursor *c)
{
	c->i++;
	while (c->i < c->len && peek(c, 0) != '"') {
		if (peek(c, 0) == '\\' && c->i + 1 < c->len)
			advance(c);
		advance(c);
	}
	if (c->i < c->len)
		c->i++;
}

/* Whether libconfig 1.5 would keep a value other than the one written:
 * without L an integer is an int (a hex one its 32 bits), with L a long long. */
static bool truncated(const char *tok, size_t n)
{
	char digits[40];
	const char *p = tok;
	bool hex, wide_type = false;
	size_t len;

	if (n >= sizeof(digits) - 1)
		return !memchr(tok, '.', n); /* far too many digits for any integer */
	if (*p == '-' || *p == '+')
		p++;
	hex = p[0] == '0' && (p[1] == 'x' || p[1] == 'X');
	len = n - (size_t)(p - tok);
	if (memchr(p, '.', len) || (!hex && (memchr(p, 'e', len) || memchr(p, 'E', len))))
		return false; /* a float */
	while (len > 0 && (p[len - 1] == 'L' || p[len - 1] == 'l')) {
		len--;
		wide_type = true;
	}
	memcpy(digits, tok, (size_t)(p - tok) + len);
	digits[(size_t)(p - tok) + len] = '\0';
	errno = 0;
	if (hex) {
		unsigned long long v = strtoull(digits, NULL, 16);

		return errno == ERANGE || v > (wide_type ? (unsigned long long)LLONG_MAX : 0x7fffffffULL);
	} else {
		long long v = strtoll(digits, NULL, 10);

		return errno == ERANGE || (!wide_type && (v < INT_MIN || v > INT_MAX));
	}
}

static void number(struct cursor *c, const char *name)
{
	size_t start = c->i;
	bool hex = false;

	c->i++;
	while (c->i < c->len) {
		int ch = peek(c, 0), prev = (unsigned char)c->text[c->i - 1];

		if (ch == 'x' || ch == 'X')
			hex = true;
		if (is_name_char(ch) && ch != '-' && ch != '*')
			c->i++;
		else if (ch == '.' || ((ch == '-' || ch == '+') && !hex && (prev == 'e' || prev == 'E')))
			c->i++;
		else
			break;
	}
	if (truncated(c->text + start, c->i - start) && c->out->wide_count < CONFIG_SCAN_MAX_WIDE) {
		struct config_scan_wide *w = &c->out->wide[c->out->wide_count++];
		size_t n = c->i - start;

		if (n >= sizeof(w->literal))
			n = sizeof(w->literal) - 1;
		w->line = c->line;
		memcpy(w->literal, c->text + start, n);
		w->literal[n] = '\0';
		snprintf(w->name, sizeof(w->name), "%s", name);
	}
}

static bool is_blank(int ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r';
}

/* Only blanks between the line's start and position i. */
static bool starts_line(const struct cursor *c, size_t i)
{
	while (i > 0 && is_blank((unsigned char)c->text[i - 1]))
		i--;
	return i == 0 || c->text[i - 1] == '\n';
}

/* The quoted path at the cursor into inc->path; the problem, or NULL. */
static const char *include_path(struct cursor *c, struct config_scan_include *inc)
{
	size_t n = 0;

	if (peek(c, 0) != '"')
		return "expected @include \"PATH\"";
	c->i++;
	while (c->i < c->len && peek(c, 0) != '"' && peek(c, 0) != '\n') {
		if (peek(c, 0) == '\\' && (peek(c, 1) == '"' || peek(c, 1) == '\\'))
			c->i++;
		if (n + 1 >= sizeof(inc->path))
			return "the path is too long";
		inc->path[n++] = c->text[c->i++];
	}
	inc->path[n] = '\0';
	if (peek(c, 0) != '"')
		return "the path's closing quote is missing";
	c->i++;
	if (n == 0)
		return "the path is empty";
	while (is_blank(peek(c, 0)))
		c->i++;
	if (peek(c, 0) != -1 && peek(c, 0) != '\n' && peek(c, 0) != '#' && !(peek(c, 0) == '/' && peek(c, 1) == '/'))
		return "text after the path (one @include per line)";
	return NULL;
}

/* An @include directive at the cursor, recorded with the span it replaces. */
static void include(struct cursor *c)
{
	struct config_scan_include spare, *inc = &spare;

	if (c->out->include_count < CONFIG_SCAN_MAX_INCLUDES)
		inc = &c->out->includes[c->out->include_count];
	c->out->include_count++;
	memset(inc, 0, sizeof(*inc));
	inc->line = c->line;
	inc->start = c->i;
	if (!starts_line(c, c->i))
		inc->problem = "must start a line";
	c->i += 8;
	if (!is_blank(peek(c, 0)) && !inc->problem)
		inc->problem = "expected @include \"PATH\"";
	while (is_blank(peek(c, 0)))
		c->i++;
	if (!inc->problem)
		inc->problem = include_path(c, inc);
	skip_line(c);
	if (c->i < c->len)
		advance(c);
	inc->end = c->i;
}

void config_scan(const char *text, size_t len, struct config_scan *out)
{
	struct cursor c = { .text = text, .len = len, .line = 1, .out = out };
	char name[64] = "";

	memset(out, 0, sizeof(*out));
	while (c.i < c.len) {
		int ch = peek(&c, 0);

		if (ch == '#' || (ch == '/' && peek(&c, 1) == '/')) {
			skip_line(&c);
		} else if (ch == '/' && peek(&c, 1) == '*') {
			skip_block_comment(&c);
		} else if (ch == '"') {
			skip_string(&c);
		} else if (ch == '@') {
			if (c.len - c.i >= 8 && !memcmp(c.text + c.i, "@include", 8))
				include(&c);
			else
				skip_line(&c);
		} else if (is_digit(ch) || ((ch == '-' || ch == '+') && is_digit(peek(&c, 1)))) {
			number(&c, name);
		} else if (is_name_char(ch)) {
			size_t n = 0;

			while (c.i < c.len && is_name_char(peek(&c, 0))) {
				if (n < sizeof(name) - 1)
					name[n++] = c.text[c.i];
				c.i++;
			}
			name[n] = '\0';
		} else {
			advance(&c);
		}
	}
}
