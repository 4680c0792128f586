/* SipHash-2-4 (Aumasson and Bernstein): a keyed 64-bit hash, so that tables
 * indexed by addresses an attacker chooses cannot be aimed at one bucket.
 * Pure. */
#ifndef STRATA_SIPHASH_H
#define STRATA_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

#define SIPHASH_KEY_LEN 16

uint64_t siphash24(const uint8_t key[SIPHASH_KEY_LEN], const void *data, size_t len);

#endif
