/* What the NTS-KE server answers (RFC 8915 section 4.1), apart from TLS:
 * bytes of a request in, the algorithm to export keys for (or the error to
 * answer), and the response records out. Pure; the TLS edge
 * (nts_ke_server.c) exports the keys and seals the cookies in between. */
#ifndef STRATA_NTS_KE_EXCHANGE_H
#define STRATA_NTS_KE_EXCHANGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nts_ke_records.h"
#include "serve_config.h"

/* Cookies in a response: RFC 8915 section 4.1.6 recommends eight. */
#define NTS_KE_EXCHANGE_COOKIES 8

struct nts_ke_exchange_config {
	char server[NTS_KE_MAX_SERVER_LEN + 1]; /* "": no NTPv4 Server Negotiation record */
	uint16_t port;                          /* 0: no NTPv4 Port Negotiation record */
};

void nts_ke_exchange_config_from(const struct serve_nts_config *cfg, struct nts_ke_exchange_config *out);

enum nts_ke_verdict {
	NTS_KE_VERDICT_PARTIAL = 0,  /* read more */
	NTS_KE_VERDICT_KEYS,         /* export keys for *aead, seal cookies, nts_ke_exchange_response */
	NTS_KE_VERDICT_NO_NTPV4,     /* answer an empty Next Protocol record */
	NTS_KE_VERDICT_ERROR,        /* answer an Error record with *error */
};

/* The verdict on request[0..len) as far as it has come; full says the
 * buffer cannot take more (a request too long for it is a bad request). */
enum nts_ke_verdict nts_ke_exchange_decide(const uint8_t *request, size_t len, bool full, uint16_t *aead,
					   uint16_t *error);

/* The response for a verdict other than PARTIAL: with KEYS, aead and the
 * cookies; with ERROR, the error code. Returns its length, 0 when out is
 * too small. */
size_t nts_ke_exchange_response(const struct nts_ke_exchange_config *cfg, enum nts_ke_verdict verdict,
				uint16_t aead, uint16_t error, const struct nts_cookie *cookies, size_t n_cookies,
				uint8_t *out, size_t cap);

#endif
