/* The leap-second table, and the IERS/NIST leap-seconds.list file that fills
 * it (the one tzdata ships as /usr/share/zoneinfo/leap-seconds.list). Pure:
 * the text is handed in, the table comes out; the SHA-1 of the #h line is
 * checked with nettle.
 *
 * The file: lines "NTPSECONDS TAIOFFSET [# comment]" give TAI - UTC from that
 * midnight (NTP seconds since 1900) on; "#@ NTPSECONDS" is the expiry, "#$
 * NTPSECONDS" the last update, "#h H1 H2 H3 H4 H5" the SHA-1 (five 32-bit
 * words in hexadecimal) of the digits of the #$ and #@ lines and of the data
 * lines, in file order, comments and whitespace left out; other "#" lines are
 * comments. */
#ifndef STRATA_LEAP_LIST_H
#define STRATA_LEAP_LIST_H

#include <stddef.h>
#include <stdint.h>

#define LEAP_TABLE_MAX 128
/* expires of a table that never expires (the right/UTC zone: no expiry date) */
#define LEAP_NEVER_EXPIRES INT64_MAX

struct leap_table {
	size_t count;
	int64_t when[LEAP_TABLE_MAX];   /* Unix seconds: the midnight UTC from which tai[i] holds */
	int tai[LEAP_TABLE_MAX];        /* TAI - UTC in seconds from when[i] on */
	int64_t expires;                /* Unix seconds after which the table says nothing */
};

struct leap_list_error {
	unsigned line;                  /* 0: the file as a whole (a missing line, the hash) */
	char message[160];
};

/* Parses a leap-seconds.list held in text (len bytes, no NUL needed). Returns
 * 0, or -1 with err saying what and on which line: a malformed line, times
 * not increasing, TAI - UTC moving by other than one second, a missing or
 * wrong #@ or #h line. A file with any error gives no table at all: a list
 * that is wrong in one place cannot be trusted in another. */
int leap_list_parse(const char *text, size_t len, struct leap_table *out, struct leap_list_error *err);

/* Appends a change of TAI - UTC to tai at the midnight when (Unix seconds);
 * returns 0, or -1 when the table is full or when is not after the last
 * entry. For tables built from other sources (the right/UTC zone). */
int leap_table_add(struct leap_table *table, int64_t when, int tai);

#endif
