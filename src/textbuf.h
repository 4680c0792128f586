/* Appending formatted text to a fixed buffer: overflow is remembered rather
 * than silently truncating a reply. */
#ifndef STRATA_TEXTBUF_H
#define STRATA_TEXTBUF_H

#include <stdbool.h>
#include <stddef.h>

struct textbuf {
	char *buf;
	size_t cap;
	size_t len;
	bool overflow;
};

void textbuf_init(struct textbuf *tb, char *buf, size_t cap);
void textbuf_printf(struct textbuf *tb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void textbuf_putc(struct textbuf *tb, char c);

#endif
