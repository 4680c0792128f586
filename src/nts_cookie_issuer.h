/* The master keys as the serving threads see them: the main loop rotates
 * and publishes (nts_cookie_issuer_publish), the NTP workers and the NTS-KE
 * thread copy them when the generation they hold is stale. A mutex, not a
 * seqlock: it is taken once per thread per rotation (a week), never per
 * packet. */
#ifndef STRATA_NTS_COOKIE_ISSUER_H
#define STRATA_NTS_COOKIE_ISSUER_H

#include <stdint.h>

#include "nts_key_rotation.h"

struct nts_cookie_issuer;

struct nts_cookie_issuer *nts_cookie_issuer_create(void);
void nts_cookie_issuer_destroy(struct nts_cookie_issuer *issuer);

/* New keys for everyone (after a rotation or a reload of the shared file). */
void nts_cookie_issuer_publish(struct nts_cookie_issuer *issuer, const struct nts_master_keys *keys);

/* The generation of the keys published last; 0 before the first. Cheap: an
 * atomic load, to be compared with the one a thread holds. */
uint32_t nts_cookie_issuer_generation(const struct nts_cookie_issuer *issuer);

/* Copies the keys; returns their generation. */
uint32_t nts_cookie_issuer_copy(struct nts_cookie_issuer *issuer, struct nts_master_keys *out);

#endif
