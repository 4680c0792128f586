/* Test vectors are written in hex: this turns one into bytes. */
#ifndef STRATA_TEST_UNHEX_H
#define STRATA_TEST_UNHEX_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Writes strlen(hex) / 2 bytes to out; returns how many. */
static inline size_t unhex(const char *hex, uint8_t *out)
{
	size_t n = strlen(hex) / 2;

	for (size_t i = 0; i < n; i++) {
		unsigned v;

		sscanf(hex + 2 * i, "%2x", &v);
		out[i] = (uint8_t)v;
	}
	return n;
}

#endif
