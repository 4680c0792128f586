#include "nts_ke_exchange.h"

#include <stdio.h>
#include <string.h>

#include "nts_aead.h"

void nts_ke_exchange_config_from(const struct serve_nts_config *cfg, struct nts_ke_exchange_config *out)
{
	snprintf(out->server, sizeof(out->server), "%s", cfg->ntp_server);
	out->port = cfg->ntp_port;
}

enum nts_ke_verdict nts_ke_exchange_decide(const uint8_t *request, size_t len, bool full, uint16_t *aead,
					   uint16_t *error)
{
	struct nts_ke_request req;
	enum nts_ke_status status = nts_ke_request_decode(request, len, &req);

	if (status == NTS_KE_INCOMPLETE && !full)
		return NTS_KE_VERDICT_PARTIAL;
	if (status != NTS_KE_OK) {
		*error = status == NTS_KE_INCOMPLETE ? NTS_KE_ERROR_BAD_REQUEST : nts_ke_status_error_code(status);
		return NTS_KE_VERDICT_ERROR;
	}
	if (!req.ntpv4)
		return NTS_KE_VERDICT_NO_NTPV4;
	/* the client's order of preference: the first we support */
	for (size_t i = 0; i < req.n_aeads; i++) {
		if (nts_aead_key_len(req.aeads[i])) {
			*aead = req.aeads[i];
			return NTS_KE_VERDICT_KEYS;
		}
	}
	*error = NTS_KE_ERROR_BAD_REQUEST;
	return NTS_KE_VERDICT_ERROR;
}

size_t nts_ke_exchange_response(const struct nts_ke_exchange_config *cfg, enum nts_ke_verdict verdict,
				uint16_t aead, uint16_t error, const struct nts_cookie *cookies, size_t n_cookies,
				uint8_t *out, size_t cap)
{
	struct nts_ke_response resp = { 0 };
	size_t len = 0;

	switch (verdict) {
	case NTS_KE_VERDICT_PARTIAL:
		return 0;
	case NTS_KE_VERDICT_ERROR:
		resp.has_error = true;
		resp.error = error;
		break;
	case NTS_KE_VERDICT_NO_NTPV4:
		break;
	case NTS_KE_VERDICT_KEYS:
		resp.ntpv4 = true;
		resp.has_aead = true;
		resp.aead = aead;
		resp.n_cookies = n_cookies < NTS_KE_MAX_COOKIES ? n_cookies : NTS_KE_MAX_COOKIES;
		memcpy(resp.cookies, cookies, resp.n_cookies * sizeof(cookies[0]));
		resp.has_server = cfg->server[0] != '\0';
		snprintf(resp.server, sizeof(resp.server), "%s", cfg->server);
		resp.has_port = cfg->port != 0;
		resp.port = cfg->port;
		break;
	}
	return nts_ke_response_encode(&resp, out, cap, &len) == NTS_KE_OK ? len : 0;
}
