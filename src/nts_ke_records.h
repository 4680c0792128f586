/* NTS Key Establishment records (RFC 8915 4): encode and decode the client's
 * request and the server's response. Pure: bytes in, structs out, bounded by
 * the sizes below; every malformed message is rejected with a reason.
 *
 * A record is a 16-bit type whose top bit is the critical bit, a 16-bit body
 * length and the body. A message ends with an End of Message record. The
 * decoders take what has arrived so far and say NTS_KE_INCOMPLETE until the
 * End of Message is in, so a TLS edge can read in pieces. */
#ifndef STRATA_NTS_KE_RECORDS_H
#define STRATA_NTS_KE_RECORDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NTS_KE_PORT 4460
#define NTS_KE_ALPN "ntske/1"
#define NTS_KE_EXPORTER_LABEL "EXPORTER-network-time-security"

#define NTS_KE_CRITICAL 0x8000u
enum nts_ke_record_type {
	NTS_KE_END_OF_MESSAGE = 0,
	NTS_KE_NEXT_PROTOCOL = 1,
	NTS_KE_ERROR = 2,
	NTS_KE_WARNING = 3,
	NTS_KE_AEAD_ALGORITHM = 4,
	NTS_KE_NEW_COOKIE = 5,
	NTS_KE_NTPV4_SERVER = 6,
	NTS_KE_NTPV4_PORT = 7,
};

#define NTS_KE_PROTOCOL_NTPV4 0

/* Error record codes */
#define NTS_KE_ERROR_UNRECOGNIZED_CRITICAL 0
#define NTS_KE_ERROR_BAD_REQUEST 1
#define NTS_KE_ERROR_INTERNAL 2

/* Bounds. A message of up to 8 cookies of 256 bytes and the rest fits in 4
 * KiB; anything longer than NTS_KE_MAX_MESSAGE is refused, not buffered. */
#define NTS_KE_MAX_MESSAGE 16384
#define NTS_KE_MAX_COOKIES 8
#define NTS_KE_MAX_COOKIE_LEN 256
#define NTS_KE_MAX_AEADS 8
#define NTS_KE_MAX_SERVER_LEN 255

struct nts_cookie {
	uint16_t len;
	uint8_t data[NTS_KE_MAX_COOKIE_LEN];
};

/* What a client sends. It always offers NTPv4 as next protocol (the only one
 * there is); AEADs in its order of preference. */
struct nts_ke_request {
	uint16_t aeads[NTS_KE_MAX_AEADS];
	size_t n_aeads;
	bool ntpv4;            /* decoded: NTPv4 was among the protocols offered */
	bool has_server;       /* asks for this NTP server (rare; servers may ignore) */
	char server[NTS_KE_MAX_SERVER_LEN + 1];
	bool has_port;
	uint16_t port;
};

/* What a server answers. */
struct nts_ke_response {
	bool has_error;
	uint16_t error;
	bool has_warning;
	uint16_t warning;
	bool ntpv4;            /* the server chose NTPv4 (false: an empty list, none) */
	bool has_aead;
	uint16_t aead;
	struct nts_cookie cookies[NTS_KE_MAX_COOKIES];
	size_t n_cookies;
	unsigned cookies_dropped; /* beyond NTS_KE_MAX_COOKIES: not kept */
	bool has_server;
	char server[NTS_KE_MAX_SERVER_LEN + 1];
	bool has_port;
	uint16_t port;
};

enum nts_ke_status {
	NTS_KE_OK = 0,
	NTS_KE_INCOMPLETE,         /* no End of Message yet: read more */
	NTS_KE_TOO_LONG,           /* longer than NTS_KE_MAX_MESSAGE without an End of Message */
	NTS_KE_TRAILING_DATA,      /* bytes after the End of Message */
	NTS_KE_UNKNOWN_CRITICAL,   /* a critical record of a type we do not know */
	NTS_KE_NOT_CRITICAL,       /* a record the RFC wants critical without the bit */
	NTS_KE_BAD_RECORD_LENGTH,  /* a body of the wrong size for its type */
	NTS_KE_DUPLICATE_RECORD,   /* a record that may appear once, twice */
	NTS_KE_BAD_SERVER_NAME,    /* empty, too long, or not printable ASCII */
	NTS_KE_COOKIE_TOO_LONG,    /* longer than NTS_KE_MAX_COOKIE_LEN */
	NTS_KE_UNEXPECTED_RECORD,  /* a record the other side must not send (a cookie in a request) */
	NTS_KE_NO_NEXT_PROTOCOL,   /* the mandatory Next Protocol record is missing */
	NTS_KE_TOO_MANY_ENTRIES,   /* more protocols or algorithms than we keep */
	/* response_check's verdicts on a well-formed response */
	NTS_KE_SERVER_ERROR,       /* the server sent an Error record */
	NTS_KE_NO_NTPV4,           /* the server did not choose NTPv4 */
	NTS_KE_NO_AEAD,            /* no AEAD record with NTPv4 */
	NTS_KE_AEAD_NOT_OFFERED,   /* an algorithm the client did not offer */
	NTS_KE_NO_COOKIES,         /* no New Cookie record */
	NTS_KE_TOO_MANY_VALUES,    /* a response list with more than one protocol or algorithm */
	NTS_KE_NO_SPACE,           /* encode: the buffer is too small */
};

const char *nts_ke_status_str(enum nts_ke_status status);

/* The Error code a server answers a request that failed with status
 * (NTS_KE_ERROR_UNRECOGNIZED_CRITICAL or NTS_KE_ERROR_BAD_REQUEST). */
uint16_t nts_ke_status_error_code(enum nts_ke_status status);

/* Encode into out[0..cap); *len receives the length. NTS_KE_NO_SPACE when
 * it does not fit; NTS_KE_BAD_SERVER_NAME, NTS_KE_COOKIE_TOO_LONG etc. for a
 * struct that would not decode. */
enum nts_ke_status nts_ke_request_encode(const struct nts_ke_request *req, uint8_t *out, size_t cap, size_t *len);
enum nts_ke_status nts_ke_response_encode(const struct nts_ke_response *resp, uint8_t *out, size_t cap,
					  size_t *len);

/* Decode buf[0..len) (what has arrived so far). NTS_KE_OK once the End of
 * Message is in and everything before it is well formed; unknown
 * non-critical records are skipped. */
enum nts_ke_status nts_ke_request_decode(const uint8_t *buf, size_t len, struct nts_ke_request *req);
enum nts_ke_status nts_ke_response_decode(const uint8_t *buf, size_t len, struct nts_ke_response *resp);

/* A client's verdict on a decoded response to a request that offered
 * offered[0..n): NTS_KE_OK when it carries NTPv4, one offered AEAD and at
 * least one cookie, and no error. */
enum nts_ke_status nts_ke_response_check(const struct nts_ke_response *resp, const uint16_t *offered, size_t n);

#endif
