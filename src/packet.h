/* The NTP packet codec (RFC 5905 header, RFC 7822 extension fields): bytes to
 * struct and back, nothing else. Pure: no I/O, no clock. */
#ifndef STRATA_PACKET_H
#define STRATA_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ntp_time.h"

#define NTP_HEADER_LEN 48
/* Where the header's timestamps sit: a server stamps T3 into an encoded
 * answer, and reads T2 back from one the kernel says has left. */
#define NTP_ORIGIN_OFFSET 24
#define NTP_RECEIVE_OFFSET 32
#define NTP_TRANSMIT_OFFSET 40
#define NTP_PORT 123
#define NTP_VERSION 4
#define NTP_MAX_STRATUM 16 /* 16 means unsynchronized */

enum ntp_leap {
	NTP_LEAP_NONE = 0,
	NTP_LEAP_INSERT = 1,
	NTP_LEAP_DELETE = 2,
	NTP_LEAP_UNSYNC = 3,
};

enum ntp_mode {
	NTP_MODE_RESERVED = 0,
	NTP_MODE_SYMMETRIC_ACTIVE = 1,
	NTP_MODE_SYMMETRIC_PASSIVE = 2,
	NTP_MODE_CLIENT = 3,
	NTP_MODE_SERVER = 4,
	NTP_MODE_BROADCAST = 5,
	NTP_MODE_CONTROL = 6,
	NTP_MODE_PRIVATE = 7,
};

struct ntp_packet {
	uint8_t leap;      /* enum ntp_leap */
	uint8_t version;
	uint8_t mode;      /* enum ntp_mode */
	uint8_t stratum;
	int8_t poll;       /* log2 seconds */
	int8_t precision;  /* log2 seconds */
	uint32_t root_delay;      /* NTP short format */
	uint32_t root_dispersion; /* NTP short format */
	uint32_t refid;    /* the four bytes as a big-endian number */
	ntp_ts reference;
	ntp_ts origin;
	ntp_ts receive;
	ntp_ts transmit;
};

/* What follows the header, as far as it could be walked safely. */
struct ntp_packet_trailer {
	unsigned extension_fields; /* RFC 7822 fields walked */
	bool has_mac;              /* a MAC, or a crypto-NAK (key id 0, no digest) */
	size_t mac_offset;         /* where the key id starts: the MAC covers the bytes before */
	uint32_t key_id;           /* valid when has_mac */
	size_t mac_len;            /* digest length (0 for a crypto-NAK) */
};

enum packet_status {
	PACKET_OK = 0,
	PACKET_TOO_SHORT,          /* fewer than 48 bytes */
	PACKET_BAD_LENGTH,         /* not a multiple of 4 */
	PACKET_BAD_EXTENSION,      /* an extension field or MAC that does not fit */
};

/* Decodes buf into *packet. *trailer may be NULL. Never reads past len, never
 * trusts a length field inside the packet. */
enum packet_status packet_decode(const uint8_t *buf, size_t len, struct ntp_packet *packet,
				 struct ntp_packet_trailer *trailer);

/* Writes the 48-byte header; returns NTP_HEADER_LEN. */
size_t packet_encode(const struct ntp_packet *packet, uint8_t out[NTP_HEADER_LEN]);

const char *packet_status_str(enum packet_status status);

#endif
