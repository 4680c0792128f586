/* The TLS side of NTS-KE shared by client and server (RFC 8915 4, 5.1):
 * TLS 1.3 only, ALPN "ntske/1", and the keys exported from the session.
 * An edge: it works on a GnuTLS session the caller drives. */
#ifndef STRATA_NTS_KE_TLS_H
#define STRATA_NTS_KE_TLS_H

#include <gnutls/gnutls.h>
#include <stdbool.h>

#include "nts_aead.h"

/* Priority string: the system's defaults, any version but TLS 1.3 removed. */
#define NTS_KE_TLS_PRIORITY "NORMAL:-VERS-ALL:+VERS-TLS1.3"

/* Sets the priority and the ALPN protocol on a new session; returns a
 * GnuTLS error code (0 on success). */
int nts_ke_tls_prepare(gnutls_session_t session);

/* After the handshake: true when TLS 1.3 and "ntske/1" were negotiated. */
bool nts_ke_tls_negotiated(gnutls_session_t session);

/* The client-to-server and server-to-client keys for aead, exported with
 * the label "EXPORTER-network-time-security" and the context protocol id
 * (NTPv4: 0) || AEAD id || 0 (c2s) or 1 (s2c). Returns a GnuTLS error code
 * (0 on success); GNUTLS_E_INVALID_REQUEST for an unsupported aead. */
int nts_ke_tls_export_keys(gnutls_session_t session, uint16_t aead, struct nts_key *c2s, struct nts_key *s2c);

#endif
