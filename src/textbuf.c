#include "textbuf.h"

#include <stdarg.h>
#include <stdio.h>

void textbuf_init(struct textbuf *tb, char *buf, size_t cap)
{
	tb->buf = buf;
	tb->cap = cap;
	tb->len = 0;
	tb->overflow = cap == 0;
	if (cap)
		buf[0] = '\0';
}

void textbuf_printf(struct textbuf *tb, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (tb->overflow)
		return;
	va_start(ap, fmt);
	n = vsnprintf(tb->buf + tb->len, tb->cap - tb->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= tb->cap - tb->len) {
		tb->overflow = true;
		tb->buf[tb->len] = '\0';
		return;
	}
	tb->len += (size_t)n;
}

void textbuf_putc(struct textbuf *tb, char c)
{
	if (tb->overflow || tb->len + 1 >= tb->cap) {
		tb->overflow = true;
		return;
	}
	tb->buf[tb->len++] = c;
	tb->buf[tb->len] = '\0';
}
