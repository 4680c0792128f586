/* libFuzzer harness for the server's request path: whatever a stranger sends
 * goes through the answer builder and the rate limiter. Besides "no crash, no
 * undefined behaviour" it asserts what keeps the server from being an
 * amplifier or a liar:
 * - a reply is built only for a well-formed mode 3 request of version 1-4
 *   with a transmit timestamp, and is exactly one 48-byte header (the output
 *   buffer is exactly that big, so ASan catches a longer write);
 * - the reply is mode 4, echoes the version and the client's transmit
 *   timestamp as origin, carries our stratum and the kernel receive time;
 * - a KoD for the same request is stratum 0 "RATE" and echoes the same;
 * - with keys, an answer carries a MAC only when the request had a valid
 *   one, and is never longer than the request;
 * - the rate limiter's table never holds more clients than it was given. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "acl.h"
#include "auth_mac.h"
#include "ratelimit.h"
#include "refid.h"
#include "serve.h"

#define TABLE_SIZE 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct ratelimit *limiter(void)
{
	static struct ratelimit *rl;
	struct ratelimit_config cfg = { .interval = 1.0, .burst = 2, .kod = true, .table_size = TABLE_SIZE };

	if (!rl)
		rl = ratelimit_create(&cfg);
	if (!rl)
		abort();
	return rl;
}

static void check_reply(const uint8_t *data, const uint8_t *out, const struct serve_snapshot *snap,
			struct timespec rx)
{
	struct ntp_packet req, reply;

	/* the header alone: the builder has already judged the trailer */
	if (packet_decode(data, NTP_HEADER_LEN, &req, NULL) != PACKET_OK)
		abort();
	if (packet_decode(out, NTP_HEADER_LEN, &reply, NULL) != PACKET_OK)
		abort();
	if (req.mode != NTP_MODE_CLIENT || req.version < 1 || req.version > 4 || req.transmit == 0)
		abort();
	if (reply.mode != NTP_MODE_SERVER || reply.version != req.version || reply.origin != req.transmit ||
	    reply.stratum != snap->stratum || reply.leap != snap->leap || reply.refid != snap->refid ||
	    reply.receive != ntp_ts_from_timespec(rx) || reply.transmit != 0)
		abort();
}

/* The same request, twice from one client against a burst of one, through
 * serve_request: answered, then kissed. */
static void check_kod(const uint8_t *data, size_t size, const struct serve_snapshot *snap, struct timespec rx)
{
	struct ratelimit_config cfg = { .interval = 1.0, .burst = 1, .kod = true, .table_size = 16 };
	struct ratelimit *rl = ratelimit_create(&cfg);
	struct serve_config open_cfg = { 0 };
	struct serve_request request = { .bytes = data, .len = size, .rx = rx, .now = { 100, 0 } };
	struct serve_reply *out = malloc(sizeof(*out));
	struct acl acl;
	struct ntp_packet req, kod;
	struct ntp_packet_trailer trailer;

	if (!out || !rl || !netaddr_parse("127.0.0.1", &request.peer))
		abort();
	request.peer.port = 4000;
	acl_from_config(&open_cfg, &acl);
	packet_decode(data, size, &req, &trailer);
	if (trailer.has_mac) {
		/* no keys: a MAC is never answered */
		if (serve_request(&acl, NULL, rl, snap, &request, out) != SERVE_AUTH_FAILED)
			abort();
	} else if (serve_request(&acl, NULL, rl, snap, &request, out) != SERVE_ANSWER ||
		   serve_request(&acl, NULL, rl, snap, &request, out) != SERVE_KISS ||
		   serve_sign_reply(out) != NTP_HEADER_LEN) {
		abort();
	}
	if (!trailer.has_mac &&
	    (packet_decode(out->bytes, NTP_HEADER_LEN, &kod, NULL) != PACKET_OK || kod.stratum != 0 ||
	     kod.mode != NTP_MODE_SERVER || kod.refid != refid_from_name("RATE") || kod.origin != req.transmit))
		abort();
	ratelimit_destroy(rl);
	free(out);
}

/* With a keyring holding the request's key id (data decides the type):
 * whatever comes back is no longer than the request, and signed only when
 * the request's MAC was valid. */
static void check_keys(const uint8_t *data, size_t size, const struct serve_snapshot *snap, struct timespec rx)
{
	struct ratelimit_config cfg = { .interval = 1.0, .burst = 4, .kod = true, .table_size = 16 };
	struct ratelimit *rl = ratelimit_create(&cfg);
	struct serve_config open_cfg = { 0 };
	struct serve_request request = { .bytes = data, .len = size, .rx = rx, .now = { 100, 0 } };
	struct serve_reply *out = malloc(sizeof(*out));
	struct auth_key key = { .type = (enum auth_type)(data[1] % 8), .len = 32 };
	struct auth_keyring ring = { .count = 1, .keys = &key };
	struct ntp_packet req;
	struct ntp_packet_trailer trailer;
	struct acl acl;

	if (!out || !rl || !netaddr_parse("127.0.0.1", &request.peer))
		abort();
	request.peer.port = 4000;
	acl_from_config(&open_cfg, &acl);
	packet_decode(data, size, &req, &trailer);
	key.id = trailer.key_id;
	switch (serve_request(&acl, &ring, rl, snap, &request, out)) {
	case SERVE_ANSWER:
	case SERVE_KISS:
		if (serve_sign_reply(out) > size || (out->key != NULL) != trailer.has_mac)
			abort();
		if (out->key && !auth_mac_verify(&key, data, trailer.mac_offset, data + trailer.mac_offset + 4,
						 trailer.mac_len))
			abort();
		break;
	case SERVE_AUTH_FAILED:
		if (!trailer.has_mac)
			abort();
		break;
	default:
		abort();
	}
	ratelimit_destroy(rl);
	free(out);
}

/* The client address and the time come from the request's own bytes, so the
 * fuzzer steers the limiter too. */
static void check_limiter(const uint8_t *data, size_t size)
{
	struct net_addr addr = { .family = (data[0] & 1) ? AF_INET6 : AF_INET };
	struct timespec now = { .tv_sec = data[1] % 64, .tv_nsec = (long)data[2] * 3900000L };
	enum ratelimit_verdict v;

	memcpy(addr.bytes, data + 24, 16);
	if (size >= 56)
		addr.bytes[15] ^= data[size - 1];
	v = ratelimit_check(limiter(), &addr, now);
	if (v != RATELIMIT_PASS && v != RATELIMIT_KOD && v != RATELIMIT_DROP)
		abort();
	if (ratelimit_entries(limiter()) > TABLE_SIZE)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct engine_system sys = {
		.leap = NTP_LEAP_NONE,
		.stratum = 3,
		.precision = -23,
		.refid = 0xc0000201u,
		.reference_time = { 1700000000, 0 },
		.root_delay = 0.012,
		.root_dispersion = 0.004,
	};
	const struct timespec rx = { 1700000064, 123456789 };
	struct serve_snapshot snap;
	uint8_t *out = malloc(NTP_HEADER_LEN);
	enum serve_verdict verdict;

	if (!out)
		abort();
	serve_snapshot_from_system(&sys, &snap);
	verdict = serve_build_reply(data, size, &snap, rx, out);
	if (serve_verdict_str(verdict) == NULL)
		abort();
	if (verdict == SERVE_REPLY) {
		if (size < NTP_HEADER_LEN)
			abort();
		check_reply(data, out, &snap, rx);
		check_kod(data, size, &snap, rx);
		check_keys(data, size, &snap, rx);
		check_limiter(data, size);
	}
	free(out);
	return 0;
}
