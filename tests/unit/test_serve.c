#include "cmocka_all.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "auth_mac.h"
#include "refid.h"
#include "serve.h"

static const struct timespec REF_TIME = { 1700000000, 0 };
static const struct timespec RX = { 1700000100, 250000000 };
static const ntp_ts CLIENT_TX = 0xe8f1a2b3c4d5e6f7ULL;

static void make_request(uint8_t *buf, size_t len, unsigned version, unsigned mode)
{
	struct ntp_packet req = {
		.leap = NTP_LEAP_UNSYNC,
		.version = (uint8_t)version,
		.mode = (uint8_t)mode,
		.poll = 6,
		.transmit = CLIENT_TX,
	};

	memset(buf, 0, len);
	packet_encode(&req, buf);
}

static void synced_snapshot(struct serve_snapshot *snap)
{
	struct engine_system sys = {
		.leap = NTP_LEAP_NONE,
		.stratum = 3,
		.precision = -24,
		.refid = 0xc0000201u,
		.reference_time = REF_TIME,
		.root_delay = 0.010,
		.root_dispersion = 0.001,
		.dispersion_rate = 3e-6,
	};

	serve_snapshot_from_system(&sys, snap);
}

static struct ntp_packet decode_reply(const uint8_t *out)
{
	struct ntp_packet reply;

	assert_int_equal(packet_decode(out, NTP_HEADER_LEN, &reply, NULL), PACKET_OK);
	return reply;
}

static void client_request_gets_a_server_reply(void **state)
{
	(void)state;
	struct serve_snapshot snap;
	uint8_t req[NTP_HEADER_LEN], out[NTP_HEADER_LEN];

	synced_snapshot(&snap);
	make_request(req, sizeof(req), 4, NTP_MODE_CLIENT);
	assert_int_equal(serve_build_reply(req, sizeof(req), &snap, RX, out), SERVE_REPLY);

	struct ntp_packet reply = decode_reply(out);

	assert_int_equal(reply.leap, NTP_LEAP_NONE);
	assert_int_equal(reply.version, 4);
	assert_int_equal(reply.mode, NTP_MODE_SERVER);
	assert_int_equal(reply.stratum, 3);
	assert_int_equal(reply.poll, 6);
	assert_int_equal(reply.precision, -24);
	assert_int_equal(reply.refid, 0xc0000201u);
	assert_true(reply.reference == ntp_ts_from_timespec(REF_TIME));
	assert_true(reply.origin == CLIENT_TX);
	/* odd receive, even transmit: what interleaved mode tells them apart by */
	assert_true(reply.receive == (ntp_ts_from_timespec(RX) | 1));
	assert_true(reply.transmit == 0);
	assert_int_equal(reply.root_delay, ntp_short_from_seconds(0.010));
	/* 100.25 s after the update, at the engine's rate: 0.001 + 3e-6 * 100.25 */
	assert_int_equal(reply.root_dispersion, ntp_short_from_seconds(0.001 + 3e-6 * 100.25));

	struct timespec tx = { 1700000100, 250100000 };

	serve_stamp_transmit(out, tx);
	reply = decode_reply(out);
	assert_true(reply.transmit == (ntp_ts_from_timespec(tx) & ~(ntp_ts)1));
	assert_true(reply.origin == CLIENT_TX);
}

static void every_version_from_1_to_4_is_echoed(void **state)
{
	(void)state;
	struct serve_snapshot snap;
	uint8_t req[NTP_HEADER_LEN], out[NTP_HEADER_LEN];

	synced_snapshot(&snap);
	for (unsigned v = 0; v < 8; v++) {
		make_request(req, sizeof(req), v, NTP_MODE_CLIENT);
		enum serve_verdict verdict = serve_build_reply(req, sizeof(req), &snap, RX, out);

		if (v >= 1 && v <= 4) {
			assert_int_equal(verdict, SERVE_REPLY);
			assert_int_equal(decode_reply(out).version, v);
		} else {
			assert_int_equal(verdict, SERVE_DROP_VERSION);
		}
	}
}

static void other_modes_get_nothing(void **state)
{
	(void)state;
	struct serve_snapshot snap;
	uint8_t req[NTP_HEADER_LEN], out[NTP_HEADER_LEN];

	synced_snapshot(&snap);
	for (unsigned mode = 0; mode < 8; mode++) {
		if (mode == NTP_MODE_CLIENT)
			continue;
		make_request(req, sizeof(req), 4, mode);
		assert_int_equal(serve_build_reply(req, sizeof(req), &snap, RX, out), SERVE_DROP_MODE);
	}
}

static void unsynchronized_says_so(void **state)
{
	(void)state;
	struct engine_system sys = { .leap = NTP_LEAP_UNSYNC, .stratum = 16, .precision = -20 };
	struct serve_snapshot snap;
	uint8_t req[NTP_HEADER_LEN], out[NTP_HEADER_LEN];

	serve_snapshot_from_system(&sys, &snap);
	make_request(req, sizeof(req), 4, NTP_MODE_CLIENT);
	assert_int_equal(serve_build_reply(req, sizeof(req), &snap, RX, out), SERVE_REPLY);

	struct ntp_packet reply = decode_reply(out);

	assert_int_equal(reply.leap, NTP_LEAP_UNSYNC);
	assert_int_equal(reply.stratum, 16);
	assert_true(reply.reference == 0);
	/* Never updated: the dispersion is as large as the format holds. */
	assert_int_equal(reply.root_dispersion, UINT32_MAX);

	/* A leap of 3 with any stratum is still stratum 16, and stratum 0 is no kiss. */
	sys.stratum = 4;
	serve_snapshot_from_system(&sys, &snap);
	assert_int_equal(snap.stratum, 16);
	sys.leap = NTP_LEAP_NONE;
	sys.stratum = 0;
	serve_snapshot_from_system(&sys, &snap);
	assert_int_equal(snap.stratum, 16);
	assert_int_equal(snap.leap, NTP_LEAP_UNSYNC);
}

static void local_stratum_serves_its_name(void **state)
{
	(void)state;
	struct engine_system sys = {
		.leap = NTP_LEAP_NONE,
		.stratum = 10,
		.precision = -22,
		.refid = refid_from_name("LOCL"),
		.reference_time = RX,
	};
	struct serve_snapshot snap;
	uint8_t req[NTP_HEADER_LEN], out[NTP_HEADER_LEN];

	serve_snapshot_from_system(&sys, &snap);
	make_request(req, sizeof(req), 3, NTP_MODE_CLIENT);
	assert_int_equal(serve_build_reply(req, sizeof(req), &snap, RX, out), SERVE_REPLY);

	struct ntp_packet reply = decode_reply(out);

	assert_int_equal(reply.stratum, 10);
	assert_int_equal(reply.leap, NTP_LEAP_NONE);
	assert_int_equal(reply.refid, refid_from_name("LOCL"));
	assert_int_equal(reply.root_delay, 0);
	assert_int_equal(reply.root_dispersion, 0);
	assert_true(reply.reference == ntp_ts_from_timespec(RX));

	/* as the engine reports it: no reference time, the clock is its own reference */
	sys.reference_time = (struct timespec){ 0, 0 };
	sys.root_dispersion = 0.0001;
	serve_snapshot_from_system(&sys, &snap);
	assert_int_equal(serve_build_reply(req, sizeof(req), &snap, RX, out), SERVE_REPLY);
	reply = decode_reply(out);
	assert_int_equal(reply.stratum, 10);
	assert_true(reply.reference == ntp_ts_from_timespec(RX));
	assert_int_equal(reply.root_dispersion, ntp_short_from_seconds(0.0001));
}

static void leap_warning_is_passed_on(void **state)
{
	(void)state;
	struct engine_system sys = { .leap = NTP_LEAP_INSERT, .stratum = 2, .reference_time = REF_TIME };
	struct serve_snapshot snap;
	uint8_t req[NTP_HEADER_LEN], out[NTP_HEADER_LEN];

	serve_snapshot_from_system(&sys, &snap);
	make_request(req, sizeof(req), 4, NTP_MODE_CLIENT);
	assert_int_equal(serve_build_reply(req, sizeof(req), &snap, RX, out), SERVE_REPLY);
	assert_int_equal(decode_reply(out).leap, NTP_LEAP_INSERT);
}

#define LEAP_MIDNIGHT 1483228800 /* 2017-01-01, after 2016-12-31 23:59:60 */

/* The leap bits go out before midnight and not after; stratum and refid
 * stay what the engine says throughout. */
static void leap_bits_stratum_and_refid_around_a_leap(void **state)
{
	(void)state;
	struct engine_system sys = { .leap = NTP_LEAP_INSERT, .stratum = 2, .refid = 0xc0000202u,
				     .reference_time = { LEAP_MIDNIGHT - 30, 0 }, .leap_when = LEAP_MIDNIGHT,
				     .leap_sign = 1 };
	struct serve_snapshot snap;
	uint8_t req[NTP_HEADER_LEN], out[NTP_HEADER_LEN];
	struct ntp_packet reply;

	make_request(req, sizeof(req), 4, NTP_MODE_CLIENT);
	serve_snapshot_from_system(&sys, &snap);
	assert_int_equal(serve_build_reply(req, sizeof(req), &snap, (struct timespec){ LEAP_MIDNIGHT - 1, 0 }, out),
			 SERVE_REPLY);
	reply = decode_reply(out);
	assert_int_equal(reply.leap, NTP_LEAP_INSERT);
	assert_int_equal(reply.stratum, 2);
	assert_int_equal(reply.refid, 0xc0000202u);
	sys.leap = NTP_LEAP_NONE; /* the engine, past midnight */
	serve_snapshot_from_system(&sys, &snap);
	assert_int_equal(serve_build_reply(req, sizeof(req), &snap, (struct timespec){ LEAP_MIDNIGHT + 1, 0 }, out),
			 SERVE_REPLY);
	reply = decode_reply(out);
	assert_int_equal(reply.leap, NTP_LEAP_NONE);
	assert_int_equal(reply.stratum, 2);
	assert_int_equal(reply.refid, 0xc0000202u);
	/* no smear configured: the clock as it reads */
	assert_true(serve_smear_offset(&snap, (struct timespec){ LEAP_MIDNIGHT - 1, 0 }, (struct timespec){ 9, 0 }) == 0.0);
}

/* A quadratic smear of 1000 s after an inserted second; the monotonic
 * clock reaches the leap at 5000 s. */
static double smeared_receive(struct serve_snapshot *snap, double clock_since_midnight, double mono)
{
	struct serve_config cfg = { 0 };
	struct ratelimit_config rl_cfg = { .interval = 0.0, .burst = 1, .table_size = 16 };
	struct ratelimit *rl = ratelimit_create(&rl_cfg);
	uint8_t req[NTP_HEADER_LEN];
	struct serve_reply reply;
	struct acl acl;
	struct serve_request request = { .bytes = req, .len = sizeof(req),
					 .rx = timespec_add((struct timespec){ LEAP_MIDNIGHT, 0 }, clock_since_midnight),
					 .now = timespec_add((struct timespec){ 0, 0 }, mono) };
	struct ntp_packet p;

	assert_non_null(rl);
	acl_from_config(&cfg, &acl);
	assert_true(netaddr_parse("127.0.0.1", &request.peer));
	request.peer.port = 4000;
	make_request(req, sizeof(req), 4, NTP_MODE_CLIENT);
	assert_int_equal(serve_request(&acl, NULL, rl, snap, &request, &reply), SERVE_ANSWER);
	ratelimit_destroy(rl);
	p = decode_reply(reply.bytes);
	/* the transmit time gets the same smear as the receive time */
	assert_true(fabs(reply.smear - serve_smear_offset(snap, request.rx, request.now)) < 1e-12);
	return ntp_ts_diff(p.receive, ntp_ts_from_timespec((struct timespec){ LEAP_MIDNIGHT, 0 }));
}

static void served_time_is_smeared_across_the_leap(void **state)
{
	(void)state;
	struct engine_system sys = { .leap = NTP_LEAP_NONE, .stratum = 2, .reference_time = { LEAP_MIDNIGHT, 0 },
				     .leap_when = LEAP_MIDNIGHT, .leap_sign = 1, .leap_moves_clock = true,
				     .smear = { LEAP_SMEAR_QUADRATIC, 1000.0 } };
	struct serve_snapshot snap;

	serve_snapshot_from_system(&sys, &snap);
	snap.leap_mono = (struct timespec){ 5000, 0 };
	/* 23:59:59.5 the first time: as the clock reads */
	assert_true(fabs(smeared_receive(&snap, -0.5, 4999.5) + 0.5) < 1e-6);
	/* 23:59:60.5, which the clock reads as 23:59:59.5: one second on */
	assert_true(fabs(smeared_receive(&snap, -0.5, 5000.5) - 0.5) < 1e-6);
	/* halfway: the served time half a second ahead of the clock */
	assert_true(fabs(smeared_receive(&snap, 499.0, 5500.0) - 499.5) < 1e-6);
	/* the end: the clock itself */
	assert_true(fabs(smeared_receive(&snap, 1500.0, 6501.0) - 1500.0) < 1e-6);
}

/* A clock that runs through the leap (-x, leap_mode slew or ignore) is
 * smeared the other way: served time falls behind it by the second. */
static void a_clock_that_runs_through_is_smeared_back(void **state)
{
	(void)state;
	struct engine_system sys = { .leap = NTP_LEAP_NONE, .stratum = 2, .reference_time = { LEAP_MIDNIGHT, 0 },
				     .leap_when = LEAP_MIDNIGHT, .leap_sign = 1, .leap_moves_clock = false,
				     .smear = { LEAP_SMEAR_QUADRATIC, 1000.0 } };
	struct serve_snapshot snap;

	serve_snapshot_from_system(&sys, &snap);
	snap.leap_mono = (struct timespec){ 5000, 0 };
	assert_true(fabs(smeared_receive(&snap, 0.5, 5000.5) - 0.5) < 1e-6);
	assert_true(fabs(smeared_receive(&snap, 500.0, 5500.0) - 499.5) < 1e-6);
	assert_true(fabs(smeared_receive(&snap, 1500.0, 6500.0) - 1499.0) < 1e-6);
}

static void malformed_requests_are_dropped(void **state)
{
	(void)state;
	struct serve_snapshot snap;
	uint8_t req[256], out[NTP_HEADER_LEN];

	synced_snapshot(&snap);
	make_request(req, sizeof(req), 4, NTP_MODE_CLIENT);
	for (size_t len = 0; len < NTP_HEADER_LEN; len++)
		assert_int_equal(serve_build_reply(req, len, &snap, RX, out), SERVE_DROP_MALFORMED);
	/* not a multiple of 4 */
	assert_int_equal(serve_build_reply(req, 50, &snap, RX, out), SERVE_DROP_MALFORMED);
	/* an extension field whose length runs past the end */
	req[48] = 0x01;
	req[49] = 0x02;
	req[50] = 0x40;
	req[51] = 0x00;
	assert_int_equal(serve_build_reply(req, 48 + 32, &snap, RX, out), SERVE_DROP_MALFORMED);
	/* a zero-length extension field (would loop forever if trusted) */
	req[50] = 0;
	req[51] = 0;
	assert_int_equal(serve_build_reply(req, 48 + 32, &snap, RX, out), SERVE_DROP_MALFORMED);
	/* trailing bytes on a version 3 request that are not a MAC */
	make_request(req, sizeof(req), 3, NTP_MODE_CLIENT);
	assert_int_equal(serve_build_reply(req, 48 + 16, &snap, RX, out), SERVE_DROP_MALFORMED);
	/* issue 15, defect 5: four bytes after the header were taken for a
	 * crypto-NAK; a key id alone is nothing, and a crypto-NAK (key id 0) is
	 * no request's business */
	make_request(req, sizeof(req), 4, NTP_MODE_CLIENT);
	req[48 + 3] = 1;
	assert_int_equal(serve_build_reply(req, 48 + 4, &snap, RX, out), SERVE_DROP_MALFORMED);
	req[48 + 3] = 0;
	assert_int_equal(serve_build_reply(req, 48 + 4, &snap, RX, out), SERVE_DROP_MALFORMED);
}

static void extension_fields_are_walked_and_not_echoed(void **state)
{
	(void)state;
	struct serve_snapshot snap;
	uint8_t req[NTP_HEADER_LEN + 64], out[NTP_HEADER_LEN + 64];

	synced_snapshot(&snap);
	make_request(req, sizeof(req), 4, NTP_MODE_CLIENT);
	for (size_t i = NTP_HEADER_LEN; i < sizeof(req); i++)
		req[i] = 0xa5;
	/* two 32-byte fields */
	req[48 + 2] = 0;
	req[48 + 3] = 32;
	req[80 + 2] = 0;
	req[80 + 3] = 32;
	memset(out, 0x5a, sizeof(out));
	assert_int_equal(serve_build_reply(req, sizeof(req), &snap, RX, out), SERVE_REPLY);
	/* the builder wrote the header and nothing past it */
	for (size_t i = NTP_HEADER_LEN; i < sizeof(out); i++)
		assert_int_equal(out[i], 0x5a);
	/* a request with an MD5 MAC is answered with the bare header */
	make_request(req, sizeof(req), 4, NTP_MODE_CLIENT);
	assert_int_equal(serve_build_reply(req, NTP_HEADER_LEN + 20, &snap, RX, out), SERVE_REPLY);
}

static void zero_transmit_is_dropped(void **state)
{
	(void)state;
	struct serve_snapshot snap;
	uint8_t req[NTP_HEADER_LEN], out[NTP_HEADER_LEN];

	synced_snapshot(&snap);
	make_request(req, sizeof(req), 4, NTP_MODE_CLIENT);
	memset(req + 40, 0, 8);
	assert_int_equal(serve_build_reply(req, sizeof(req), &snap, RX, out), SERVE_DROP_ZERO_TRANSMIT);
}

static void kod_rate_tells_nothing_about_the_clock(void **state)
{
	(void)state;
	struct serve_config cfg = { 0 };
	struct ratelimit_config rl_cfg = { .interval = 1.0, .burst = 1, .kod = true, .table_size = 16 };
	struct ratelimit *rl = ratelimit_create(&rl_cfg);
	struct serve_snapshot snap;
	struct acl acl;
	uint8_t req[NTP_HEADER_LEN];
	struct serve_reply reply;
	struct serve_request request = { .bytes = req, .len = sizeof(req), .rx = RX, .now = { 100, 0 } };

	assert_non_null(rl);
	acl_from_config(&cfg, &acl);
	synced_snapshot(&snap);
	assert_true(netaddr_parse("127.0.0.1", &request.peer));
	request.peer.port = 4000;
	make_request(req, sizeof(req), 4, NTP_MODE_CLIENT);
	assert_int_equal(serve_request(&acl, NULL, rl, &snap, &request, &reply), SERVE_ANSWER);
	assert_int_equal(serve_request(&acl, NULL, rl, &snap, &request, &reply), SERVE_KISS);
	ratelimit_destroy(rl);

	struct ntp_packet kod = decode_reply(reply.bytes);

	assert_int_equal(kod.mode, NTP_MODE_SERVER);
	assert_int_equal(kod.version, 4);
	assert_int_equal(kod.stratum, 0);
	assert_int_equal(kod.leap, NTP_LEAP_UNSYNC);
	assert_int_equal(kod.refid, refid_from_name("RATE"));
	assert_true(kod.origin == CLIENT_TX);
	assert_true(kod.receive == CLIENT_TX);
	assert_true(kod.transmit == CLIENT_TX);
	assert_true(kod.reference == 0);
}

static void dispersion_does_not_shrink_when_the_clock_goes_back(void **state)
{
	(void)state;
	struct serve_snapshot snap;
	uint8_t req[NTP_HEADER_LEN], out[NTP_HEADER_LEN];
	struct timespec before_update = { REF_TIME.tv_sec - 50, 0 };

	synced_snapshot(&snap);
	make_request(req, sizeof(req), 4, NTP_MODE_CLIENT);
	assert_int_equal(serve_build_reply(req, sizeof(req), &snap, before_update, out), SERVE_REPLY);
	assert_int_equal(decode_reply(out).root_dispersion, ntp_short_from_seconds(0.001));
}

static void verdicts_have_names(void **state)
{
	(void)state;
	assert_string_equal(serve_verdict_str(SERVE_REPLY), "reply");
	assert_string_equal(serve_verdict_str(SERVE_DROP_MODE), "not a client request");
}

/* serve_request: the access list first, then the form, then the rate; a
 * malformed request never takes a place in the rate limiter's table. */
static void requests_meet_the_access_list_the_form_then_the_rate(void **state)
{
	(void)state;
	struct serve_config cfg = { 0 };
	struct net_prefix allow, deny;
	struct ratelimit_config rl_cfg = { .interval = 1.0, .burst = 2, .kod = true, .table_size = 16 };
	struct serve_snapshot snap;
	struct acl acl;
	struct ratelimit *rl;
	uint8_t good[NTP_HEADER_LEN], bad[NTP_HEADER_LEN];
	struct serve_reply reply;
	struct serve_request req = { .bytes = good, .len = sizeof(good), .rx = RX, .now = { 100, 0 } };

	cfg.allow = &allow;
	cfg.deny = &deny;
	cfg.allow = &allow;
	assert_true(netprefix_parse("192.0.2.0/24", &cfg.allow[0]));
	cfg.allow_count = 1;
	assert_true(netprefix_parse("192.0.2.66", &cfg.deny[0]));
	cfg.deny_count = 1;
	acl_from_config(&cfg, &acl);
	rl = ratelimit_create(&rl_cfg);
	assert_non_null(rl);
	synced_snapshot(&snap);
	make_request(good, sizeof(good), 4, NTP_MODE_CLIENT);
	make_request(bad, sizeof(bad), 4, NTP_MODE_CONTROL);

	assert_true(netaddr_parse("192.0.2.66", &req.peer));
	req.peer.port = 4000;
	assert_int_equal(serve_request(&acl, NULL, rl, &snap, &req, &reply), SERVE_DENIED);
	assert_true(netaddr_parse("198.51.100.1", &req.peer));
	req.peer.port = 4000;
	assert_int_equal(serve_request(&acl, NULL, rl, &snap, &req, &reply), SERVE_DENIED);

	assert_true(netaddr_parse("192.0.2.7", &req.peer));
	req.peer.port = 0;
	assert_int_equal(serve_request(&acl, NULL, rl, &snap, &req, &reply), SERVE_MALFORMED);
	req.peer.port = 4000;
	req.bytes = bad;
	for (int i = 0; i < 10; i++)
		assert_int_equal(serve_request(&acl, NULL, rl, &snap, &req, &reply), SERVE_MALFORMED);
	assert_int_equal(ratelimit_entries(rl), 0);
	req.truncated = true;
	req.bytes = good;
	assert_int_equal(serve_request(&acl, NULL, rl, &snap, &req, &reply), SERVE_MALFORMED);
	req.truncated = false;

	/* a burst of 2, then a kiss, then silence until the next interval */
	assert_int_equal(serve_request(&acl, NULL, rl, &snap, &req, &reply), SERVE_ANSWER);
	assert_int_equal(decode_reply(reply.bytes).stratum, 3);
	assert_int_equal(serve_sign_reply(&reply), NTP_HEADER_LEN);
	assert_int_equal(serve_request(&acl, NULL, rl, &snap, &req, &reply), SERVE_ANSWER);
	assert_int_equal(serve_request(&acl, NULL, rl, &snap, &req, &reply), SERVE_KISS);
	assert_int_equal(decode_reply(reply.bytes).stratum, 0);
	assert_int_equal(decode_reply(reply.bytes).refid, refid_from_name("RATE"));
	assert_int_equal(serve_request(&acl, NULL, rl, &snap, &req, &reply), SERVE_LIMITED);
	ratelimit_destroy(rl);
}

/* A server with keys: a request signed with a key we hold is answered with a
 * MAC under that key, as long as the request's; a request whose MAC fails,
 * or names a key we lack, gets nothing; requests without a MAC as before. */
static void authenticated_requests_get_signed_answers(void **state)
{
	(void)state;
	struct auth_key keys[2] = {
		{ .id = 10, .type = AUTH_SHA1, .len = 4, .value = { 1, 2, 3, 4 } },
		{ .id = 20, .type = AUTH_AES128_CMAC, .len = 16, .value = { 0x2b, 0x7e } },
	};
	struct auth_keyring ring = { .count = 2, .keys = keys };
	struct serve_config cfg = { 0 };
	struct net_prefix allow;
	struct ratelimit_config rl_cfg = { .interval = 1.0, .burst = 100, .kod = true, .table_size = 16 };
	struct serve_snapshot snap;
	struct acl acl;
	struct ratelimit *rl;
	uint8_t req[NTP_HEADER_LEN + AUTH_MAX_MAC_LEN];
	struct serve_reply reply;
	struct serve_request r = { .bytes = req, .rx = RX, .now = { 100, 0 } };
	struct ntp_packet_trailer t;
	struct ntp_packet p;
	size_t len;
	struct timespec tx = { 1700000100, 250100000 };

	cfg.allow = &allow;
	assert_true(netprefix_parse("192.0.2.0/24", &cfg.allow[0]));
	cfg.allow_count = 1;
	acl_from_config(&cfg, &acl);
	rl = ratelimit_create(&rl_cfg);
	synced_snapshot(&snap);
	assert_true(netaddr_parse("192.0.2.7", &r.peer));
	r.peer.port = 4000;

	for (int k = 0; k < 2; k++) {
		make_request(req, sizeof(req), 4, NTP_MODE_CLIENT);
		r.len = auth_mac_append(&keys[k], req, NTP_HEADER_LEN, auth_send_digest_len(&keys[k]));
		assert_int_equal(serve_request(&acl, &ring, rl, &snap, &r, &reply), SERVE_ANSWER);
		assert_ptr_equal(reply.key, &keys[k]);
		serve_stamp_transmit(reply.bytes, tx);
		len = serve_sign_reply(&reply);
		assert_int_equal(len, r.len);
		assert_int_equal(packet_decode(reply.bytes, len, &p, &t), PACKET_OK);
		assert_true(t.has_mac);
		assert_int_equal(t.key_id, keys[k].id);
		assert_true(p.transmit == (ntp_ts_from_timespec(tx) & ~(ntp_ts)1));
		assert_true(auth_mac_verify(&keys[k], reply.bytes, NTP_HEADER_LEN, reply.bytes + 52, t.mac_len));
	}
	/* a flipped bit anywhere: silence */
	make_request(req, sizeof(req), 4, NTP_MODE_CLIENT);
	r.len = auth_mac_append(&keys[0], req, NTP_HEADER_LEN, 20);
	req[60] ^= 4;
	assert_int_equal(serve_request(&acl, &ring, rl, &snap, &r, &reply), SERVE_AUTH_FAILED);
	req[60] ^= 4;
	req[2] ^= 1;
	assert_int_equal(serve_request(&acl, &ring, rl, &snap, &r, &reply), SERVE_AUTH_FAILED);
	req[2] ^= 1;
	assert_int_equal(serve_request(&acl, &ring, rl, &snap, &r, &reply), SERVE_ANSWER);
	/* a key id we do not hold, or no keys at all */
	req[48 + 3] = 11;
	assert_int_equal(serve_request(&acl, &ring, rl, &snap, &r, &reply), SERVE_AUTH_FAILED);
	req[48 + 3] = 10;
	assert_int_equal(serve_request(&acl, NULL, rl, &snap, &r, &reply), SERVE_AUTH_FAILED);
	/* a MAC of the wrong length for its key (MD5-sized under a SHA1 key) */
	r.len = NTP_HEADER_LEN + 20;
	assert_int_equal(serve_request(&acl, &ring, rl, &snap, &r, &reply), SERVE_AUTH_FAILED);
	/* no MAC: answered bare */
	r.len = NTP_HEADER_LEN;
	assert_int_equal(serve_request(&acl, &ring, rl, &snap, &r, &reply), SERVE_ANSWER);
	assert_null(reply.key);
	assert_int_equal(serve_sign_reply(&reply), NTP_HEADER_LEN);
	ratelimit_destroy(rl);
}

/* One exchange of an interleaved client: origin (0 or our last receive
 * timestamp), receive (its nonce), transmit. */
static enum serve_outcome exchange(struct serve_request *r, uint8_t *req, ntp_ts origin, ntp_ts nonce,
				   ntp_ts transmit, struct serve_reply *reply, const struct acl *acl,
				   struct ratelimit *rl, const struct serve_snapshot *snap)
{
	struct ntp_packet p = { .version = 4, .mode = NTP_MODE_CLIENT, .poll = 6, .origin = origin,
				.receive = nonce, .transmit = transmit };

	packet_encode(&p, req);
	return serve_request(acl, NULL, rl, snap, r, reply);
}

/* A client that asks (an odd origin: our receive timestamp echoed) gets,
 * from its third request on, the stamp of our answer before leaving as the
 * transmit timestamp, the kernel's once that came back, and its nonce as
 * origin; once only, and never a client that does not ask. */
static void interleaved_answers_carry_the_last_answers_stamp(void **state)
{
	(void)state;
	struct serve_config cfg = { 0 };
	struct ratelimit_config rl_cfg = { .interval = 0.0, .burst = 100, .table_size = 16 };
	struct ratelimit *rl = ratelimit_create(&rl_cfg);
	struct serve_stamps *stamps = calloc(1, sizeof(*stamps));
	struct serve_snapshot snap;
	struct acl acl;
	uint8_t req[NTP_HEADER_LEN];
	struct serve_reply reply;
	struct serve_request r = { .bytes = req, .len = sizeof(req), .now = { 100, 0 }, .stamps = stamps };
	struct timespec rx1 = RX, tx1 = { RX.tv_sec, RX.tv_nsec + 9000 }, rx2 = { RX.tv_sec + 1, 0 },
			tx2 = { RX.tv_sec + 1, 9000 }, wire2 = { RX.tv_sec + 1, 14000 }, rx3 = { RX.tv_sec + 2, 0 };
	ntp_ts served_rx1, served_rx2;
	struct ntp_packet p;

	assert_non_null(rl);
	assert_non_null(stamps);
	acl_from_config(&cfg, &acl);
	synced_snapshot(&snap);
	assert_true(netaddr_parse("127.0.0.1", &r.peer));
	r.peer.port = 4000;

	/* first: origin 0, basic, not remembered */
	r.rx = rx1;
	assert_int_equal(exchange(&r, req, 0, 0, CLIENT_TX, &reply, &acl, rl, &snap), SERVE_ANSWER);
	assert_false(reply.interleaved);
	assert_false(reply.remember);
	serve_reply_sending(&reply, stamps, tx1);
	p = decode_reply(reply.bytes);
	served_rx1 = p.receive;
	assert_true(p.transmit == (ntp_ts_from_timespec(tx1) & ~(ntp_ts)1));

	/* second: asks, but nothing is known of the first: basic, remembered */
	r.rx = rx2;
	assert_int_equal(exchange(&r, req, served_rx1, 0x1111, CLIENT_TX + 1, &reply, &acl, rl, &snap), SERVE_ANSWER);
	assert_false(reply.interleaved);
	assert_true(reply.remember);
	serve_reply_sending(&reply, stamps, tx2);
	p = decode_reply(reply.bytes);
	served_rx2 = p.receive;
	assert_true(p.origin == CLIENT_TX + 1);
	/* the kernel's stamp of it leaving, 5 us after our read */
	assert_true(serve_stamps_kernel(stamps, served_rx2, wire2));

	/* third: interleaved */
	r.rx = rx3;
	assert_int_equal(exchange(&r, req, served_rx2, 0x2222, CLIENT_TX + 2, &reply, &acl, rl, &snap), SERVE_ANSWER);
	assert_true(reply.interleaved);
	serve_reply_sending(&reply, stamps, (struct timespec){ rx3.tv_sec, 9000 });
	p = decode_reply(reply.bytes);
	assert_true(p.origin == 0x2222);
	assert_true(p.receive == (ntp_ts_from_timespec(rx3) | 1));
	assert_true(p.transmit == (ntp_ts_from_timespec(wire2) & ~(ntp_ts)1));

	/* the same request again: the stamp was given out, basic */
	assert_int_equal(exchange(&r, req, served_rx2, 0x2222, CLIENT_TX + 2, &reply, &acl, rl, &snap), SERVE_ANSWER);
	assert_false(reply.interleaved);
	assert_true(decode_reply(reply.bytes).origin == CLIENT_TX + 2);

	/* a server without the table: never remembered */
	r.stamps = NULL;
	assert_int_equal(exchange(&r, req, served_rx2, 0x3333, CLIENT_TX + 3, &reply, &acl, rl, &snap), SERVE_ANSWER);
	assert_false(reply.remember);
	assert_false(reply.interleaved);
	ratelimit_destroy(rl);
	free(stamps);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(client_request_gets_a_server_reply),
		cmocka_unit_test(every_version_from_1_to_4_is_echoed),
		cmocka_unit_test(other_modes_get_nothing),
		cmocka_unit_test(unsynchronized_says_so),
		cmocka_unit_test(local_stratum_serves_its_name),
		cmocka_unit_test(leap_warning_is_passed_on),
		cmocka_unit_test(leap_bits_stratum_and_refid_around_a_leap),
		cmocka_unit_test(served_time_is_smeared_across_the_leap),
		cmocka_unit_test(a_clock_that_runs_through_is_smeared_back),
		cmocka_unit_test(malformed_requests_are_dropped),
		cmocka_unit_test(extension_fields_are_walked_and_not_echoed),
		cmocka_unit_test(zero_transmit_is_dropped),
		cmocka_unit_test(kod_rate_tells_nothing_about_the_clock),
		cmocka_unit_test(dispersion_does_not_shrink_when_the_clock_goes_back),
		cmocka_unit_test(verdicts_have_names),
		cmocka_unit_test(requests_meet_the_access_list_the_form_then_the_rate),
		cmocka_unit_test(authenticated_requests_get_signed_answers),
		cmocka_unit_test(interleaved_answers_carry_the_last_answers_stamp),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
