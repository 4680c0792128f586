#include "nts_ke_tls.h"

#include <string.h>

#include "byteorder.h"
#include "nts_ke_records.h"

int nts_ke_tls_prepare(gnutls_session_t session)
{
	gnutls_datum_t alpn = { .data = (unsigned char *)NTS_KE_ALPN, .size = sizeof(NTS_KE_ALPN) - 1 };
	int err = gnutls_priority_set_direct(session, NTS_KE_TLS_PRIORITY, NULL);

	if (err < 0)
		return err;
	return gnutls_alpn_set_protocols(session, &alpn, 1, GNUTLS_ALPN_MANDATORY);
}

bool nts_ke_tls_negotiated(gnutls_session_t session)
{
	gnutls_datum_t alpn;

	if (gnutls_protocol_get_version(session) != GNUTLS_TLS1_3)
		return false;
	if (gnutls_alpn_get_selected_protocol(session, &alpn) < 0)
		return false;
	return alpn.size == sizeof(NTS_KE_ALPN) - 1 && memcmp(alpn.data, NTS_KE_ALPN, alpn.size) == 0;
}

static int export_one(gnutls_session_t session, uint16_t aead, uint8_t direction, struct nts_key *key)
{
	uint8_t context[5];

	store_be16(context, NTS_KE_PROTOCOL_NTPV4);
	store_be16(context + 2, aead);
	context[4] = direction;
	key->aead = aead;
	key->len = (uint8_t)nts_aead_key_len(aead);
	return gnutls_prf_rfc5705(session, sizeof(NTS_KE_EXPORTER_LABEL) - 1, NTS_KE_EXPORTER_LABEL,
				  sizeof(context), (const char *)context, key->len, (char *)key->value);
}

int nts_ke_tls_export_keys(gnutls_session_t session, uint16_t aead, struct nts_key *c2s, struct nts_key *s2c)
{
	int err;

	if (nts_aead_key_len(aead) == 0)
		return GNUTLS_E_INVALID_REQUEST;
	err = export_one(session, aead, 0, c2s);
	if (err == 0)
		err = export_one(session, aead, 1, s2c);
	return err;
}
