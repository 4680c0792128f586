#include "cmocka_all.h"

#include <math.h>
#include <string.h>

#include "ntp_time.h"
#include "refid.h"
#include "source.h"

#define LOCAL_PRECISION -20
#define PRECISIONS (2 * 0x1p-20) /* ours and the test server's */
#define ROOT_DELAY (1.0 / 64)
#define ROOT_DISPERSION (1.0 / 128)
#define TS_TOLERANCE 3e-9 /* ns rounding at both conversions */

static const struct timespec t0 = { 1700000000, 0 };

static struct source *make(bool iburst, bool pool, int minpoll, int maxpoll, double max_distance)
{
	struct source_config cfg = { .name = "test", .minpoll = minpoll, .maxpoll = maxpoll,
				     .iburst = iburst, .pool_member = pool };
	struct source_limits limits = { .max_distance = max_distance, .precision = LOCAL_PRECISION };
	struct source *src;

	assert_true(netaddr_parse("192.0.2.1", &cfg.addr));
	cfg.addr.port = 123;
	src = source_create(&cfg, &limits, t0);
	assert_non_null(src);
	return src;
}

static struct ntp_packet decode(const uint8_t *buf)
{
	struct ntp_packet p;

	assert_int_equal(packet_decode(buf, NTP_HEADER_LEN, &p, NULL), PACKET_OK);
	return p;
}

/* An honest server whose clock is `offset` ahead of ours, answering with
 * given receive and transmit times (true time). */
static struct ntp_packet answer(const uint8_t *request, struct timespec t2, struct timespec t3)
{
	struct ntp_packet q = decode(request);

	return (struct ntp_packet){
		.leap = NTP_LEAP_NONE, .version = 4, .mode = NTP_MODE_SERVER, .stratum = 2,
		.poll = q.poll, .precision = -20,
		.root_delay = ntp_short_from_seconds(ROOT_DELAY),
		.root_dispersion = ntp_short_from_seconds(ROOT_DISPERSION),
		.refid = 0xc0000202,
		.reference = ntp_ts_from_timespec(timespec_add(t2, -30)),
		.origin = q.transmit,
		.receive = ntp_ts_from_timespec(t2),
		.transmit = ntp_ts_from_timespec(t3),
	};
}

static enum source_result deliver(struct source *src, const struct ntp_packet *reply, struct timespec t4)
{
	uint8_t buf[NTP_HEADER_LEN];

	packet_encode(reply, buf);
	return source_handle_reply(src, buf, sizeof(buf), t4);
}

/* A poll at t1 answered after a symmetric round trip of `delay`. */
static enum source_result round_trip(struct source *src, struct timespec t1, double offset, double delay)
{
	uint8_t request[SOURCE_REQUEST_MAX];
	struct timespec t2 = timespec_add(t1, offset + delay / 2);
	struct ntp_packet reply;

	assert_int_equal(source_poll(src, t1, 0x12345678, request, NULL), SOURCE_POLL_SENT);
	reply = answer(request, t2, t2);
	return deliver(src, &reply, timespec_add(t1, delay));
}

static struct source_status status(const struct source *src, struct timespec now)
{
	struct source_status st;

	source_get_status(src, now, &st);
	return st;
}

static void builds_a_client_request_with_a_random_fraction(void **state)
{
	(void)state;
	struct source *src = make(false, false, SOURCE_DEFAULT_MINPOLL, SOURCE_DEFAULT_MAXPOLL, 0);
	uint8_t out[SOURCE_REQUEST_MAX];
	struct ntp_packet p;

	assert_string_equal(source_name(src), "test");
	assert_int_equal(timespec_diff(source_next_poll(src), t0), 0);
	assert_int_equal(source_poll(src, t0, 0xdeadbeef, out, NULL), SOURCE_POLL_SENT);
	p = decode(out);
	assert_int_equal(p.mode, NTP_MODE_CLIENT);
	assert_int_equal(p.version, 4);
	assert_int_equal(p.poll, SOURCE_DEFAULT_MINPOLL);
	assert_int_equal(p.precision, LOCAL_PRECISION);
	assert_int_equal(p.transmit >> 32, ntp_ts_from_timespec(t0) >> 32);
	assert_int_equal(p.transmit & 0xffffffffu, 0xdeadbeef);
	assert_int_equal(timespec_diff(source_next_poll(src), t0), 64);
	source_destroy(src);
}

static void rejects_bad_poll_configuration(void **state)
{
	(void)state;
	struct source_config cfg = { .minpoll = 8, .maxpoll = 6 };
	struct source_limits limits = { .precision = LOCAL_PRECISION };

	assert_null(source_create(&cfg, &limits, t0));
	cfg = (struct source_config){ .minpoll = -7, .maxpoll = 0 };
	assert_null(source_create(&cfg, &limits, t0));
	cfg = (struct source_config){ .minpoll = 6, .maxpoll = 25 };
	assert_null(source_create(&cfg, &limits, t0));
}

static void computes_offset_and_delay_from_the_four_timestamps(void **state)
{
	(void)state;
	struct source *src = make(false, false, SOURCE_DEFAULT_MINPOLL, SOURCE_DEFAULT_MAXPOLL, 0);
	uint8_t request[SOURCE_REQUEST_MAX];
	struct ntp_packet reply;
	struct timespec t1 = { t0.tv_sec, 250000000 };
	/* The server is 0.5 s ahead; 10 ms out, 1 ms inside, 10 ms back. */
	struct timespec t2 = timespec_add(t1, 0.510), t3 = timespec_add(t1, 0.511);
	struct timespec t4 = timespec_add(t1, 0.021);
	struct source_status st;

	assert_int_equal(source_poll(src, t1, 7, request, NULL), SOURCE_POLL_SENT);
	reply = answer(request, t2, t3);
	assert_int_equal(deliver(src, &reply, t4), SOURCE_SAMPLE_ACCEPTED);
	st = status(src, t4);
	assert_true(st.have_estimate);
	assert_float_equal(st.offset, 0.5, TS_TOLERANCE);
	assert_float_equal(st.delay, 0.020, TS_TOLERANCE);
	assert_float_equal(st.root_delay, ROOT_DELAY + 0.020, TS_TOLERANCE);
	assert_int_equal(st.stratum, 2);
	assert_int_equal(st.refid, 0xc0000202);
	assert_int_equal(st.reach, 1);
	assert_float_equal(st.estimate_age, 0, 0);
	/* the last reply is the estimate here: the only sample */
	assert_true(st.have_sample);
	assert_float_equal(st.last_rx_age, 0, 0);
	assert_float_equal(st.last_offset, 0.5, TS_TOLERANCE);
	assert_float_equal(st.last_delay, 0.020, TS_TOLERANCE);
	source_destroy(src);
}

/* The kernel's stamp of the request leaving replaces the clock read before
 * the send as T1: the 40 us the send path took count neither as round trip
 * nor as half of it in offset. A stamp before that read is another
 * request's, and one after the reply comes too late. */
static void the_kernel_transmit_time_is_t1(void **state)
{
	(void)state;
	struct source *src = make(false, false, SOURCE_DEFAULT_MINPOLL, SOURCE_DEFAULT_MAXPOLL, 0);
	uint8_t request[SOURCE_REQUEST_MAX];
	struct ntp_packet reply;
	struct timespec read = { t0.tv_sec, 250000000 };
	struct timespec left = timespec_add(read, 40e-6);
	/* the same clock: 5 us out, 10 us inside, 5 us back */
	struct timespec t2 = timespec_add(left, 5e-6), t3 = timespec_add(t2, 10e-6);
	struct timespec t4 = timespec_add(t3, 5e-6);
	struct source_status st;

	assert_false(source_transmitted(src, left)); /* nothing sent */
	assert_int_equal(source_poll(src, read, 7, request, NULL), SOURCE_POLL_SENT);
	assert_false(source_transmitted(src, timespec_add(read, -1e-6)));
	assert_true(source_transmitted(src, left));
	reply = answer(request, t2, t3);
	assert_int_equal(deliver(src, &reply, t4), SOURCE_SAMPLE_ACCEPTED);
	st = status(src, t4);
	assert_float_equal(st.last_offset, 0.0, TS_TOLERANCE);
	assert_float_equal(st.last_delay, 10e-6, TS_TOLERANCE);
	assert_false(source_transmitted(src, t4));

	/* without the stamp, as before: 40 us more round trip, 20 us of offset */
	read = timespec_add(read, 64.0);
	t2 = timespec_add(read, 45e-6);
	t3 = timespec_add(t2, 10e-6);
	t4 = timespec_add(t3, 5e-6);
	assert_int_equal(source_poll(src, read, 8, request, NULL), SOURCE_POLL_SENT);
	reply = answer(request, t2, t3);
	assert_int_equal(deliver(src, &reply, t4), SOURCE_SAMPLE_HELD); /* the filter keeps the quicker one */
	st = status(src, t4);
	assert_float_equal(st.last_offset, 20e-6, TS_TOLERANCE);
	assert_float_equal(st.last_delay, 50e-6, TS_TOLERANCE);
	source_destroy(src);
}

/* The server gains 1 us a second on us, with +-2 us of noise: sourcestats
 * sees +1 ppm and the noise; the last reply is the newest sample, with
 * chronyc's error (half the root delay plus the root dispersion). */
static void stats_fit_a_line_and_the_last_reply_is_the_newest(void **state)
{
	(void)state;
	struct source *src = make(false, false, 4, 4, 0);
	static const double noise[] = { 2e-6, -2e-6, -2e-6, 2e-6, 2e-6, -2e-6 };
	struct timespec t = t0, last = t0;
	struct source_status st;

	for (int i = 0; i < 6; i++) {
		/* round trips of 2 ms, except the first: the filter keeps that one */
		double delay = i == 0 ? 0.001 : 0.002;

		t = timespec_add(t0, 16.0 * i);
		assert_true(round_trip(src, t, 1e-6 * 16 * i + noise[i], delay) <= SOURCE_SAMPLE_HELD);
		last = timespec_add(t, delay);
	}
	st = status(src, timespec_add(last, 1.0));
	assert_true(st.have_stats);
	assert_int_equal(st.samples, 6);
	assert_float_equal(st.span, 80.001, 1e-6); /* receive times: the first took 1 ms, the rest 2 ms */
	assert_float_equal(st.residual_frequency_ppm, 1.0, 0.1);
	assert_true(st.skew_ppm > 0.0 && st.skew_ppm < 0.1);
	assert_float_equal(st.std_dev, 2.44e-6, 0.01e-6);
	assert_int_equal(st.runs, 4);
	/* the line at now: 81 s after the first sample */
	assert_float_equal(st.stats_offset, 81e-6, 3e-6);
	/* the last reply, not the filter's minimum-delay first one */
	assert_float_equal(st.last_rx_age, 1.0, 1e-6);
	assert_float_equal(st.last_offset, 80e-6 - 2e-6, 1e-7);
	assert_float_equal(st.last_delay, 0.002, 1e-7);
	assert_true(st.last_error >= ROOT_DELAY / 2 + ROOT_DISPERSION + 0.001);
	assert_true(st.last_error < ROOT_DELAY / 2 + ROOT_DISPERSION + 0.001 + 10e-6);
	assert_float_equal(st.estimate_age, 81.001, 1e-6);
	assert_float_equal(st.offset, 2e-6, 1e-7);
	source_destroy(src);
}

static void handles_the_2036_era_rollover(void **state)
{
	(void)state;
	/* 2036-02-07T06:28:16Z: NTP seconds wrap to 0. */
	const time_t era1 = (time_t)4294967296LL - NTP_UNIX_EPOCH_DELTA;
	struct timespec before = { era1 - 1, 900000000 };
	struct timespec after = { era1, 100000000 };
	struct source *src = make(false, false, SOURCE_DEFAULT_MINPOLL, SOURCE_DEFAULT_MAXPOLL, 0);

	/* Local clock in era 0, the server already in era 1. */
	assert_int_equal(round_trip(src, before, 0.3, 0.02), SOURCE_SAMPLE_ACCEPTED);
	assert_float_equal(status(src, before).offset, 0.3, TS_TOLERANCE);
	assert_float_equal(status(src, before).delay, 0.02, TS_TOLERANCE);
	source_destroy(src);

	/* Local clock in era 1, the server still in era 0. */
	src = make(false, false, SOURCE_DEFAULT_MINPOLL, SOURCE_DEFAULT_MAXPOLL, 0);
	assert_int_equal(round_trip(src, after, -0.3, 0.02), SOURCE_SAMPLE_ACCEPTED);
	assert_float_equal(status(src, after).offset, -0.3, TS_TOLERANCE);
	source_destroy(src);
}

static void reach_register_records_answered_polls(void **state)
{
	(void)state;
	struct source *src = make(false, false, SOURCE_DEFAULT_MINPOLL, SOURCE_DEFAULT_MAXPOLL, 0);
	uint8_t out[SOURCE_REQUEST_MAX];
	struct timespec t = t0;

	assert_int_equal(round_trip(src, t, 0.001, 0.01), SOURCE_SAMPLE_ACCEPTED);
	assert_int_equal(status(src, t).reach, 0x01);
	t = source_next_poll(src);
	assert_int_equal(source_poll(src, t, 1, out, NULL), SOURCE_POLL_SENT);
	assert_int_equal(status(src, t).reach, 0x02);
	t = source_next_poll(src);
	assert_int_equal(round_trip(src, t, 0.001, 0.01), SOURCE_SAMPLE_ACCEPTED);
	assert_int_equal(status(src, t).reach, 0x05);

	/* Seven more unanswered polls still leave the last answer in view; the
	 * eighth shifts it out: unreachable. */
	for (int i = 0; i < 7; i++) {
		t = source_next_poll(src);
		assert_int_equal(source_poll(src, t, 1, out, NULL), SOURCE_POLL_SENT);
		assert_false(status(src, t).unreachable);
	}
	assert_int_equal(status(src, t).reach, 0x80);
	t = source_next_poll(src);
	assert_int_equal(source_poll(src, t, 1, out, NULL), SOURCE_POLL_UNREACHABLE);
	assert_true(status(src, t).unreachable);
	assert_int_equal(status(src, t).reach, 0);
	assert_string_equal(source_result_str(SOURCE_POLL_UNREACHABLE), "unreachable (no reply to the last 8 polls)");

	/* While unreachable the poll interval grows one step per poll. */
	assert_int_equal(status(src, t).poll, 6);
	for (int p = 7; p <= 10; p++) {
		t = source_next_poll(src);
		assert_int_equal(source_poll(src, t, 1, out, NULL), SOURCE_POLL_SENT);
		assert_int_equal(status(src, t).poll, p);
		assert_int_equal(timespec_diff(source_next_poll(src), t), 1 << p);
	}
	t = source_next_poll(src);
	assert_int_equal(source_poll(src, t, 1, out, NULL), SOURCE_POLL_SENT);
	assert_int_equal(status(src, t).poll, 10);

	/* The old samples were dropped with the server; it comes back with a
	 * worse delay, which is used at once. */
	assert_false(status(src, t).have_estimate);
	t = source_next_poll(src);
	assert_int_equal(round_trip(src, t, 0.002, 0.05), SOURCE_SAMPLE_ACCEPTED);
	assert_float_equal(status(src, t).offset, 0.002, TS_TOLERANCE);
	assert_false(status(src, t).unreachable);
	source_destroy(src);
}

/* minpoll -2: four requests a second, the burst no slower, and the poll
 * field says so (chrony's range goes down to -6). */
static void sub_second_polls_when_the_admin_asks(void **state)
{
	(void)state;
	struct source *src = make(true, false, -2, -2, 0);
	uint8_t out[SOURCE_REQUEST_MAX];
	struct timespec t = t0;

	for (int i = 0; i < SOURCE_BURST_POLLS + 2; i++) {
		assert_float_equal(timespec_diff(source_next_poll(src), t0), 0.25 * i, 1e-9);
		t = source_next_poll(src);
		assert_int_equal(source_poll(src, t, 1, out, NULL), SOURCE_POLL_SENT);
		assert_int_equal(decode(out).poll, -2);
	}
	/* the engine asking for a longer poll cannot pass maxpoll */
	source_set_poll(src, 6);
	assert_float_equal(timespec_diff(source_next_poll(src), t), 0.25, 1e-9);
	source_destroy(src);
}

static void iburst_sends_quick_polls_at_start_and_after_losing_the_server(void **state)
{
	(void)state;
	struct source *src = make(true, false, SOURCE_DEFAULT_MINPOLL, SOURCE_DEFAULT_MAXPOLL, 0);
	uint8_t out[SOURCE_REQUEST_MAX];
	struct timespec t = t0;
	enum source_result r;

	for (int i = 0; i < SOURCE_BURST_POLLS; i++) {
		assert_int_equal(timespec_diff(source_next_poll(src), t0), 2 * i);
		t = source_next_poll(src);
		assert_int_equal(source_poll(src, t, 1, out, NULL), SOURCE_POLL_SENT);
	}
	assert_int_equal(timespec_diff(source_next_poll(src), t), 64);
	/* Nobody answers: the eighth poll finds the source unreachable and
	 * starts another burst. */
	for (int i = SOURCE_BURST_POLLS; i < 7; i++) {
		t = source_next_poll(src);
		assert_int_equal(source_poll(src, t, 1, out, NULL), SOURCE_POLL_SENT);
	}
	t = source_next_poll(src);
	r = source_poll(src, t, 1, out, NULL);
	assert_int_equal(r, SOURCE_POLL_UNREACHABLE);
	for (int i = 1; i < SOURCE_BURST_POLLS; i++) {
		assert_int_equal(timespec_diff(source_next_poll(src), t), 2);
		t = source_next_poll(src);
		assert_int_equal(source_poll(src, t, 1, out, NULL), SOURCE_POLL_SENT);
	}
	assert_int_equal(timespec_diff(source_next_poll(src), t), 64);
	t = source_next_poll(src);
	assert_int_equal(source_poll(src, t, 1, out, NULL), SOURCE_POLL_SENT);
	assert_int_equal(timespec_diff(source_next_poll(src), t), 128);
	source_destroy(src);
}

static void poll_follows_the_engine_rising_one_step_at_a_time(void **state)
{
	(void)state;
	struct source *src = make(false, false, 6, 8, 0);
	struct timespec t = t0;

	assert_int_equal(round_trip(src, t, 0.001, 0.01), SOURCE_SAMPLE_ACCEPTED);
	/* Asked for 10: one step per call, then clamped to maxpoll. */
	source_set_poll(src, 10);
	assert_int_equal(status(src, t).poll, 7);
	assert_int_equal(timespec_diff(source_next_poll(src), t), 128);
	source_set_poll(src, 10);
	assert_int_equal(status(src, t).poll, 8);
	source_set_poll(src, 10);
	assert_int_equal(status(src, t).poll, 8);
	assert_int_equal(timespec_diff(source_next_poll(src), t), 256);
	/* Down at once, but never below minpoll. */
	source_set_poll(src, 0);
	assert_int_equal(status(src, t).poll, 6);
	assert_int_equal(timespec_diff(source_next_poll(src), t), 64);
	source_destroy(src);
}

static void latest_sample_is_kept_even_when_the_filter_holds_it(void **state)
{
	(void)state;
	struct source *src = make(false, false, 6, 10, 0);
	struct timespec t = t0;
	struct filter_sample latest;

	assert_false(source_latest_sample(src, &latest));
	assert_int_equal(round_trip(src, t, 0.001, 0.01), SOURCE_SAMPLE_ACCEPTED);
	t = source_next_poll(src);
	/* More delay than the first: the filter keeps its estimate, yet the
	 * sample is there for the discipline. */
	assert_int_equal(round_trip(src, t, 0.003, 0.05), SOURCE_SAMPLE_HELD);
	assert_true(source_latest_sample(src, &latest));
	assert_float_equal(latest.offset, 0.003, 1e-9);
	assert_float_equal(latest.delay, 0.05, 1e-9);
	assert_float_equal(status(src, t).offset, 0.001, 1e-9);
	/* A step moves it with the others. */
	source_correct(src, t, 0.002, 0.0);
	assert_true(source_latest_sample(src, &latest));
	assert_float_equal(latest.offset, 0.001, 1e-9);
	source_destroy(src);
}

static struct ntp_packet kiss(const uint8_t *request, const char *code, int8_t poll)
{
	struct ntp_packet p = answer(request, t0, t0);

	p.stratum = 0;
	p.leap = NTP_LEAP_UNSYNC;
	p.refid = refid_from_name(code);
	p.poll = poll;
	return p;
}

static void kod_rate_backs_off(void **state)
{
	(void)state;
	struct source *src = make(true, false, 6, 10, 0);
	uint8_t request[SOURCE_REQUEST_MAX];
	struct ntp_packet reply;
	struct timespec t = t0;

	assert_int_equal(source_poll(src, t, 1, request, NULL), SOURCE_POLL_SENT);
	reply = kiss(request, "RATE", 9);
	assert_int_equal(deliver(src, &reply, t), SOURCE_KOD_RATE);
	assert_int_equal(status(src, t).poll, 9);
	assert_string_equal(status(src, t).kiss, "RATE");
	/* The burst is over: the next poll waits the full interval. */
	assert_int_equal(timespec_diff(source_next_poll(src), t), 512);

	t = source_next_poll(src);
	assert_int_equal(source_poll(src, t, 2, request, NULL), SOURCE_POLL_SENT);
	reply = kiss(request, "RATE", 4);
	assert_int_equal(deliver(src, &reply, t), SOURCE_KOD_RATE);
	assert_int_equal(status(src, t).poll, 10);
	/* Past maxpoll when the server insists. */
	t = source_next_poll(src);
	assert_int_equal(source_poll(src, t, 3, request, NULL), SOURCE_POLL_SENT);
	reply = kiss(request, "RATE", 12);
	assert_int_equal(deliver(src, &reply, t), SOURCE_KOD_RATE);
	assert_int_equal(status(src, t).poll, 12);
	assert_false(status(src, t).stopped);
	/* The discipline cannot poll below the server's limit, nor past it. */
	source_set_poll(src, 15);
	assert_int_equal(status(src, t).poll, 12);
	source_set_poll(src, 4);
	assert_int_equal(status(src, t).poll, 12);
	source_destroy(src);
}

static void kod_deny_and_rstr_stop_the_source(void **state)
{
	(void)state;
	const char *codes[] = { "DENY", "RSTR" };

	for (int i = 0; i < 2; i++) {
		struct source *src = make(false, true, SOURCE_DEFAULT_MINPOLL, SOURCE_DEFAULT_MAXPOLL, 0);
		uint8_t request[SOURCE_REQUEST_MAX];
		struct ntp_packet reply;

		assert_false(source_wants_replacement(src, t0));
		assert_int_equal(source_poll(src, t0, 1, request, NULL), SOURCE_POLL_SENT);
		reply = kiss(request, codes[i], 6);
		assert_int_equal(deliver(src, &reply, t0), SOURCE_KOD_STOP);
		assert_true(status(src, t0).stopped);
		assert_string_equal(status(src, t0).kiss, codes[i]);
		assert_int_equal(source_poll(src, t0, 1, request, NULL), SOURCE_STOPPED);
		assert_int_equal(deliver(src, &reply, t0), SOURCE_STOPPED);
		assert_true(source_wants_replacement(src, t0));
		source_destroy(src);
	}
}

static void spoofed_kod_is_ignored(void **state)
{
	(void)state;
	struct source *src = make(false, false, SOURCE_DEFAULT_MINPOLL, SOURCE_DEFAULT_MAXPOLL, 0);
	uint8_t request[SOURCE_REQUEST_MAX];
	struct ntp_packet reply;
	struct timespec t2 = timespec_add(t0, 0.005);

	assert_int_equal(source_poll(src, t0, 0xabcdef01, request, NULL), SOURCE_POLL_SENT);
	reply = kiss(request, "DENY", 6);
	reply.origin ^= 1; /* an off-path guess that missed the nonce */
	assert_int_equal(deliver(src, &reply, t0), SOURCE_BOGUS);
	assert_false(status(src, t0).stopped);
	assert_string_equal(status(src, t0).kiss, "");
	/* The genuine reply still gets through. */
	reply = answer(request, t2, t2);
	assert_int_equal(deliver(src, &reply, timespec_add(t0, 0.01)), SOURCE_SAMPLE_ACCEPTED);
	source_destroy(src);
}

static void accepts_one_reply_per_request(void **state)
{
	(void)state;
	struct source *src = make(false, false, SOURCE_DEFAULT_MINPOLL, SOURCE_DEFAULT_MAXPOLL, 0);
	uint8_t request[SOURCE_REQUEST_MAX], buf[NTP_HEADER_LEN];
	struct ntp_packet reply;
	struct timespec t2 = timespec_add(t0, 0.005), t4 = timespec_add(t0, 0.01);

	packet_encode(&(struct ntp_packet){ .mode = NTP_MODE_SERVER, .version = 4 }, buf);
	assert_int_equal(source_handle_reply(src, buf, sizeof(buf), t0), SOURCE_BOGUS); /* nothing asked */
	assert_int_equal(source_poll(src, t0, 42, request, NULL), SOURCE_POLL_SENT);
	assert_int_equal(source_handle_reply(src, buf, 20, t4), SOURCE_MALFORMED);
	reply = answer(request, t2, t2);
	packet_encode(&reply, buf);
	assert_int_equal(source_handle_reply(src, buf, sizeof(buf), t4), SOURCE_SAMPLE_ACCEPTED);
	assert_int_equal(source_handle_reply(src, buf, sizeof(buf), timespec_add(t4, 1)), SOURCE_DUPLICATE);
	assert_int_equal(status(src, t4).samples, 1);
	assert_float_equal(status(src, t4).offset, 0, TS_TOLERANCE);
	source_destroy(src);
}

/* A server that answers but is unsynchronized is reachable: it is shown as
 * such and its poll stays, unlike a dead server's. */
static void unsynchronized_server_stays_reachable(void **state)
{
	(void)state;
	struct source *src = make(false, false, 6, 10, 0);
	uint8_t request[SOURCE_REQUEST_MAX];
	struct ntp_packet reply;
	struct timespec t = t0;
	struct source_status st;

	for (int i = 0; i < 12; i++) {
		assert_int_equal(source_poll(src, t, 7, request, NULL), SOURCE_POLL_SENT);
		reply = answer(request, timespec_add(t, 0.005), timespec_add(t, 0.005));
		if (i % 2) {
			reply.stratum = NTP_MAX_STRATUM;
		} else { /* ntpd's way: stratum 0, leap 3, kiss code INIT */
			reply.stratum = 0;
			reply.leap = NTP_LEAP_UNSYNC;
			reply.refid = refid_from_name("INIT");
		}
		assert_int_equal(deliver(src, &reply, timespec_add(t, 0.01)), SOURCE_UNSYNCHRONIZED);
		t = source_next_poll(src);
	}
	assert_string_equal(source_last_rejection(src), "server is unsynchronized");
	st = status(src, t);
	assert_false(st.unreachable);
	assert_true(st.unsynchronized);
	assert_int_equal(st.reach, 0xff);
	assert_int_equal(st.poll, 6);
	assert_int_equal(st.samples, 0);
	/* the INIT reply names its kiss code */
	assert_int_equal(source_poll(src, t, 7, request, NULL), SOURCE_POLL_SENT);
	reply = answer(request, timespec_add(t, 0.005), timespec_add(t, 0.005));
	reply.stratum = 0;
	reply.leap = NTP_LEAP_UNSYNC;
	reply.refid = refid_from_name("INIT");
	assert_int_equal(deliver(src, &reply, timespec_add(t, 0.01)), SOURCE_UNSYNCHRONIZED);
	assert_string_equal(source_last_rejection(src), "server is unsynchronized (kiss code INIT)");
	/* a dead server, for comparison: unreachable, and its poll backs off */
	source_destroy(src);
	src = make(false, false, 6, 10, 0);
	t = t0;
	for (int i = 0; i < 12; i++) {
		assert_true(source_poll(src, t, 7, request, NULL) != SOURCE_STOPPED);
		t = source_next_poll(src);
	}
	st = status(src, t);
	assert_true(st.unreachable);
	assert_false(st.unsynchronized);
	assert_true(st.poll > 6);
	source_destroy(src);
}

/* Absurd but well-formed replies, as an attacker or a broken server sends
 * them: each is refused with its reason. */
static void absurd_replies_are_refused(void **state)
{
	(void)state;
	struct source *src = make(false, false, 0, 0, 0);
	uint8_t request[SOURCE_REQUEST_MAX];
	struct ntp_packet reply, injected;
	struct timespec t = t0, t2;

	/* the largest root delay and dispersion: 98,304 s of root distance */
	assert_int_equal(source_poll(src, t, 3, request, NULL), SOURCE_POLL_SENT);
	t2 = timespec_add(t, 0.005);
	reply = answer(request, t2, t2);
	reply.root_delay = 0xffffffffu;
	reply.root_dispersion = 0xffffffffu;
	assert_int_equal(deliver(src, &reply, timespec_add(t, 0.01)), SOURCE_TOO_FAR);
	assert_non_null(strstr(source_last_rejection(src), "root distance"));

	/* a precision of 2^127 s: 3.4e38 s of root distance */
	t = source_next_poll(src);
	assert_int_equal(source_poll(src, t, 3, request, NULL), SOURCE_POLL_SENT);
	t2 = timespec_add(t, 0.005);
	reply = answer(request, t2, t2);
	reply.precision = 127;
	assert_int_equal(deliver(src, &reply, timespec_add(t, 0.01)), SOURCE_TOO_FAR);

	/* a datagram that is no server reply, even with the right origin, is
	 * ignored (the mode is checked before the origin): the request stays open */
	t = source_next_poll(src);
	assert_int_equal(source_poll(src, t, 3, request, NULL), SOURCE_POLL_SENT);
	t2 = timespec_add(t, 0.005);
	reply = answer(request, t2, t2);
	injected = reply;
	injected.mode = NTP_MODE_CLIENT;
	assert_int_equal(deliver(src, &injected, timespec_add(t, 0.002)), SOURCE_BOGUS);
	assert_string_equal(source_last_rejection(src), "not a server reply (wrong mode)");
	injected = reply;
	injected.origin ^= 1;
	assert_int_equal(deliver(src, &injected, timespec_add(t, 0.003)), SOURCE_BOGUS);
	assert_int_equal(deliver(src, &reply, timespec_add(t, 0.01)), SOURCE_SAMPLE_ACCEPTED);
	assert_string_equal(source_last_rejection(src), "");

	/* KoD RATE says so */
	t = source_next_poll(src);
	assert_int_equal(source_poll(src, t, 3, request, NULL), SOURCE_POLL_SENT);
	reply = kiss(request, "RATE", 8);
	assert_int_equal(deliver(src, &reply, timespec_add(t, 0.01)), SOURCE_KOD_RATE);
	assert_string_equal(source_last_rejection(src), "rate limited by the server (kiss code RATE)");
	source_destroy(src);
}

static void requests_carry_the_configured_version(void **state)
{
	(void)state;
	struct source_config cfg = { .name = "v3", .version = 3 };
	struct source_limits limits = { .precision = LOCAL_PRECISION };
	uint8_t request[SOURCE_REQUEST_MAX];
	struct source *src = source_create(&cfg, &limits, t0);

	assert_non_null(src);
	assert_int_equal(source_poll(src, t0, 1, request, NULL), SOURCE_POLL_SENT);
	assert_int_equal(decode(request).version, 3);
	source_destroy(src);
	cfg.version = 5;
	assert_null(source_create(&cfg, &limits, t0));
}

static void applies_the_rfc_5905_header_tests(void **state)
{
	(void)state;
	struct source *src = make(false, false, SOURCE_DEFAULT_MINPOLL, SOURCE_DEFAULT_MAXPOLL, 0);
	uint8_t request[SOURCE_REQUEST_MAX];
	struct ntp_packet reply;
	struct timespec t = t0, t2;
	struct select_candidate c;

	/* Unsynchronized server: reachable at the network level, not usable. */
	assert_int_equal(source_poll(src, t, 1, request, NULL), SOURCE_POLL_SENT);
	t2 = timespec_add(t, 0.005);
	reply = answer(request, t2, t2);
	reply.leap = NTP_LEAP_UNSYNC;
	assert_int_equal(deliver(src, &reply, timespec_add(t, 0.01)), SOURCE_UNSYNCHRONIZED);
	assert_false(source_select_candidate(src, t, &c));

	/* Root distance beyond max_distance (default 1.5 s). */
	t = source_next_poll(src);
	assert_int_equal(source_poll(src, t, 1, request, NULL), SOURCE_POLL_SENT);
	t2 = timespec_add(t, 0.005);
	reply = answer(request, t2, t2);
	reply.root_dispersion = ntp_short_from_seconds(1.5);
	assert_int_equal(deliver(src, &reply, timespec_add(t, 0.01)), SOURCE_TOO_FAR);

	/* Reference time after the transmit time. */
	t = source_next_poll(src);
	assert_int_equal(source_poll(src, t, 1, request, NULL), SOURCE_POLL_SENT);
	t2 = timespec_add(t, 0.005);
	reply = answer(request, t2, t2);
	reply.reference = reply.transmit + (1ull << 32);
	assert_int_equal(deliver(src, &reply, timespec_add(t, 0.01)), SOURCE_BAD_HEADER);

	/* A server "busy" 100 ms inside a 10 ms round trip. */
	t = source_next_poll(src);
	assert_int_equal(source_poll(src, t, 1, request, NULL), SOURCE_POLL_SENT);
	reply = answer(request, timespec_add(t, -0.05), timespec_add(t, 0.05));
	assert_int_equal(deliver(src, &reply, timespec_add(t, 0.01)), SOURCE_BAD_HEADER);

	/* Zero timestamps. */
	t = source_next_poll(src);
	assert_int_equal(source_poll(src, t, 1, request, NULL), SOURCE_POLL_SENT);
	t2 = timespec_add(t, 0.005);
	reply = answer(request, t2, t2);
	reply.receive = 0;
	assert_int_equal(deliver(src, &reply, timespec_add(t, 0.01)), SOURCE_BAD_HEADER);
	assert_int_equal(status(src, t).samples, 0);
	assert_int_equal(status(src, t).reach & 1, 0);

	/* Transmitted before it received the request. */
	t = source_next_poll(src);
	assert_int_equal(source_poll(src, t, 1, request, NULL), SOURCE_POLL_SENT);
	reply = answer(request, timespec_add(t, 0.006), timespec_add(t, 0.004));
	assert_int_equal(deliver(src, &reply, timespec_add(t, 0.01)), SOURCE_BAD_HEADER);
	assert_string_equal(source_last_rejection(src), "server transmit time before its receive time");

	/* ...but by less than the server's precision it is the noise chronyd
	 * writes below it, in an answer sent within that precision. */
	t = source_next_poll(src);
	assert_int_equal(source_poll(src, t, 1, request, NULL), SOURCE_POLL_SENT);
	reply = answer(request, timespec_add(t, 0.005), timespec_add(t, 0.005 - 2e-8));
	reply.precision = -20;
	assert_int_not_equal(deliver(src, &reply, timespec_add(t, 0.01)), SOURCE_BAD_HEADER);

	/* No reference time at all (ntpd in orphan mode sends zero): not a fault. */
	t = source_next_poll(src);
	assert_int_equal(source_poll(src, t, 1, request, NULL), SOURCE_POLL_SENT);
	t2 = timespec_add(t, 0.005);
	reply = answer(request, t2, t2);
	reply.reference = 0;
	assert_int_equal(deliver(src, &reply, timespec_add(t, 0.01)), SOURCE_SAMPLE_ACCEPTED);
	source_destroy(src);

	/* A tighter max_distance turns away what the default accepts. */
	src = make(false, false, SOURCE_DEFAULT_MINPOLL, SOURCE_DEFAULT_MAXPOLL, 0.02);
	assert_int_equal(round_trip(src, t0, 0, 0.01), SOURCE_TOO_FAR);
	source_destroy(src);
}

/* A stratum-1 server next door: its own error bounds are microseconds wide,
 * but the interval used for selection is never narrower than 1 ms. */
static void root_distance_has_a_floor(void **state)
{
	(void)state;
	struct source *src = make(false, false, SOURCE_DEFAULT_MINPOLL, SOURCE_DEFAULT_MAXPOLL, 0);
	uint8_t request[SOURCE_REQUEST_MAX];
	struct timespec t2 = timespec_add(t0, 0.00001);
	struct ntp_packet reply;

	assert_int_equal(source_poll(src, t0, 1, request, NULL), SOURCE_POLL_SENT);
	reply = answer(request, t2, t2);
	reply.root_delay = 0;
	reply.root_dispersion = 0;
	assert_int_equal(deliver(src, &reply, timespec_add(t0, 0.00002)), SOURCE_SAMPLE_ACCEPTED);
	assert_float_equal(source_root_distance(src, timespec_add(t0, 0.00002)), SOURCE_MIN_DISTANCE, 1e-12);
	source_destroy(src);
}

/* The formula stratadate shares: half the round trip to the root, plus every
 * dispersion and the jitter; the floor only below 1 ms. */
static void distance_formula_and_floor(void **state)
{
	(void)state;
	assert_float_equal(source_distance(0.010, 0.002, 0.004, 0.0005, 0.0003), 0.007 + 0.002 + 0.0005 + 0.0003,
			   1e-12);
	assert_float_equal(source_distance(0.0002, 0.00001, 0.0001, 0.000002, 0.000001), SOURCE_MIN_DISTANCE, 1e-12);
	assert_float_equal(source_distance(0, 0, 0.0030, 0, 0.0001), 0.0016, 1e-12);
}

static void root_distance_and_candidate(void **state)
{
	(void)state;
	struct source *src = make(false, false, SOURCE_DEFAULT_MINPOLL, SOURCE_DEFAULT_MAXPOLL, 0);
	struct timespec t4 = timespec_add(t0, 0.02), later = timespec_add(t4, 100);
	double dispersion = PRECISIONS + FILTER_PHI * 0.02;
	double jitter = PRECISIONS;
	double lambda_t4, lambda_later;
	struct select_candidate c;

	assert_true(isinf(source_root_distance(src, t0)));
	assert_false(source_select_candidate(src, t0, &c));
	assert_int_equal(round_trip(src, t0, 0.25, 0.02), SOURCE_SAMPLE_ACCEPTED);
	lambda_t4 = (ROOT_DELAY + 0.02) / 2 + ROOT_DISPERSION + dispersion + jitter;
	lambda_later = lambda_t4 + FILTER_PHI * 100;
	assert_float_equal(source_root_distance(src, t4), lambda_t4, 1e-9);
	assert_float_equal(source_root_distance(src, later), lambda_later, 1e-9);
	assert_true(source_select_candidate(src, later, &c));
	assert_float_equal(c.offset, 0.25, TS_TOLERANCE);
	assert_float_equal(c.root_distance, lambda_later, 1e-9);
	assert_float_equal(c.jitter, jitter, 1e-12);
	assert_float_equal(c.root_delay, ROOT_DELAY + 0.02, 1e-9);
	assert_float_equal(c.root_dispersion, ROOT_DISPERSION + dispersion + FILTER_PHI * 100, 1e-9);
	assert_int_equal(c.stratum, 2);
	source_destroy(src);
}

static void correction_moves_the_estimate_and_the_schedule(void **state)
{
	(void)state;
	struct source *src = make(false, false, SOURCE_DEFAULT_MINPOLL, SOURCE_DEFAULT_MAXPOLL, 0);
	struct timespec t4 = timespec_add(t0, 0.02);
	struct timespec next;

	assert_int_equal(round_trip(src, t0, 0.5, 0.02), SOURCE_SAMPLE_ACCEPTED);
	next = source_next_poll(src);
	source_correct(src, t4, 0.5, 0);
	assert_float_equal(status(src, timespec_add(t4, 0.5)).offset, 0, TS_TOLERANCE);
	assert_float_equal(timespec_diff(source_next_poll(src), next), 0.5, 1e-9);
	source_correct(src, timespec_add(t4, 100.5), 0, 1e-6);
	assert_float_equal(status(src, t4).offset, 1e-6 * 100, 1e-8);
	source_destroy(src);
}

static void pool_members_ask_for_replacement(void **state)
{
	(void)state;
	struct source *pool = make(false, true, SOURCE_DEFAULT_MINPOLL, SOURCE_DEFAULT_MAXPOLL, 0);
	struct source *server = make(false, false, SOURCE_DEFAULT_MINPOLL, SOURCE_DEFAULT_MAXPOLL, 0);
	struct timespec t = t0;
	uint8_t out[SOURCE_REQUEST_MAX];

	assert_int_equal(round_trip(pool, t, 0.5, 0.02), SOURCE_SAMPLE_ACCEPTED);
	assert_int_equal(round_trip(server, t, 0.5, 0.02), SOURCE_SAMPLE_ACCEPTED);
	source_set_selection(pool, SOURCE_FALSETICKER, t);
	source_set_selection(server, SOURCE_FALSETICKER, t);
	/* A falseticker for 8 poll intervals (8 * 64 s). */
	source_set_selection(pool, SOURCE_FALSETICKER, timespec_add(t, 300));
	assert_false(source_wants_replacement(pool, timespec_add(t, 511)));
	assert_true(source_wants_replacement(pool, timespec_add(t, 512)));
	assert_false(source_wants_replacement(server, timespec_add(t, 512)));
	/* Becoming a truechimer again resets the clock. */
	source_set_selection(pool, SOURCE_COMBINED, timespec_add(t, 600));
	source_set_selection(pool, SOURCE_FALSETICKER, timespec_add(t, 700));
	assert_false(source_wants_replacement(pool, timespec_add(t, 1000)));
	assert_string_equal(source_selection_str(SOURCE_FALSETICKER), "falseticker");

	/* An unreachable pool member. */
	source_set_selection(pool, SOURCE_COMBINED, t);
	for (int i = 0; i < 8; i++) {
		t = source_next_poll(pool);
		source_poll(pool, t, 1, out, NULL);
	}
	assert_true(status(pool, t).unreachable);
	assert_true(source_wants_replacement(pool, t));
	source_destroy(pool);
	source_destroy(server);
}

/* A source with a key signs its requests and believes only replies signed
 * with that key: no MAC, a crypto-NAK, another key id, a flipped bit or a
 * cut digest are refused and counted, and the request stays open for the
 * real answer. */
static void a_keyed_source_takes_only_signed_replies(void **state)
{
	(void)state;
	struct auth_key key = { .id = 42, .type = AUTH_AES128_CMAC, .len = 16, .value = { 1, 2, 3 } };
	struct auth_key other = key;
	struct source_config cfg = { .name = "keyed", .key = &key };
	struct source_limits limits = { .max_distance = 1.5, .precision = LOCAL_PRECISION };
	struct source *src;
	uint8_t request[SOURCE_REQUEST_MAX], buf[SOURCE_REQUEST_MAX];
	struct ntp_packet_trailer t;
	struct ntp_packet p, reply;
	struct timespec t1 = t0, t2 = timespec_add(t0, 0.01);
	size_t len = 0, signed_len;

	assert_true(netaddr_parse("192.0.2.1", &cfg.addr));
	src = source_create(&cfg, &limits, t0);
	assert_non_null(src);
	assert_int_equal(source_poll(src, t1, 7, request, &len), SOURCE_POLL_SENT);
	assert_int_equal(len, NTP_HEADER_LEN + 4 + 16);
	assert_int_equal(packet_decode(request, len, &p, &t), PACKET_OK);
	assert_int_equal(t.key_id, 42);
	assert_true(auth_mac_verify(&key, request, NTP_HEADER_LEN, request + 52, 16));

	reply = answer(request, t2, t2);
	packet_encode(&reply, buf);
	/* unsigned */
	assert_int_equal(source_handle_reply(src, buf, NTP_HEADER_LEN, timespec_add(t1, 0.02)), SOURCE_AUTH_FAILED);
	/* a crypto-NAK */
	memset(buf + NTP_HEADER_LEN, 0, 4);
	assert_int_equal(source_handle_reply(src, buf, NTP_HEADER_LEN + 4, timespec_add(t1, 0.02)),
			 SOURCE_AUTH_FAILED);
	/* another key id, a right digest under another key */
	other.id = 43;
	signed_len = auth_mac_append(&other, buf, NTP_HEADER_LEN, 16);
	assert_int_equal(source_handle_reply(src, buf, signed_len, timespec_add(t1, 0.02)), SOURCE_AUTH_FAILED);
	other.id = 42;
	other.value[0] ^= 1;
	signed_len = auth_mac_append(&other, buf, NTP_HEADER_LEN, 16);
	assert_int_equal(source_handle_reply(src, buf, signed_len, timespec_add(t1, 0.02)), SOURCE_AUTH_FAILED);
	/* the right key, a flipped bit, then the digest cut short */
	signed_len = auth_mac_append(&key, buf, NTP_HEADER_LEN, 16);
	buf[signed_len - 1] ^= 1;
	assert_int_equal(source_handle_reply(src, buf, signed_len, timespec_add(t1, 0.02)), SOURCE_AUTH_FAILED);
	buf[signed_len - 1] ^= 1;
	assert_int_equal(source_handle_reply(src, buf, signed_len - 4, timespec_add(t1, 0.02)),
			 SOURCE_MALFORMED);
	assert_int_equal(status(src, t1).auth_failed, 6);
	assert_int_equal(status(src, t1).auth_ok, 0);
	/* the request is still open: the signed reply is the answer */
	assert_int_equal(source_handle_reply(src, buf, signed_len, timespec_add(t1, 0.02)), SOURCE_SAMPLE_ACCEPTED);
	assert_int_equal(status(src, t1).auth_ok, 1);
	assert_ptr_equal(status(src, t1).key, &key);
	assert_int_equal(status(src, t1).reach, 1);
	source_destroy(src);
}

/* chronyc offline: nothing goes out and the reach register stands still, so
 * a host off the network does not call its servers unreachable; online
 * polls at once. */
static void offline_sends_nothing_and_keeps_reach(void **state)
{
	(void)state;
	struct source *src = make(false, false, 6, 6, 0);
	uint8_t request[SOURCE_REQUEST_MAX];
	struct timespec t = t0;

	assert_int_equal(round_trip(src, t, 0.0, 0.01), SOURCE_SAMPLE_ACCEPTED);
	source_set_online(src, false, t);
	assert_true(source_offline(src));
	assert_true(status(src, t).offline);
	for (int i = 1; i <= 20; i++)
		assert_int_equal(source_poll(src, timespec_add(t, 64.0 * i), 1, request, NULL), SOURCE_STOPPED);
	t = timespec_add(t, 64.0 * 20);
	assert_int_equal(status(src, t).reach, 1);
	assert_false(status(src, t).unreachable);

	source_set_online(src, true, t);
	assert_false(source_offline(src));
	assert_int_equal(timespec_diff(source_next_poll(src), t), 0);
	assert_int_equal(round_trip(src, t, 0.0, 0.01), SOURCE_SAMPLE_ACCEPTED);
	assert_int_equal(status(src, t).reach, 3);
	source_destroy(src);
}

/* chronyc burst good/max: polls 2 s apart from now until `good` samples,
 * then back to the poll interval from the last request. */
static void manual_burst_polls_until_enough_good_samples(void **state)
{
	(void)state;
	struct source *src = make(false, false, 6, 6, 0);
	struct timespec t = t0;

	assert_int_equal(round_trip(src, t, 0.0, 0.01), SOURCE_SAMPLE_ACCEPTED);
	assert_int_equal(timespec_diff(source_next_poll(src), t), 64);
	t = timespec_add(t, 10.0);
	assert_false(source_burst(src, 3, 2, t));    /* good > max */
	assert_false(source_burst(src, 0, 2, t));
	assert_false(source_burst(src, 1, SOURCE_MAX_MANUAL_BURST + 1, t));
	assert_true(source_burst(src, 2, 4, t));
	assert_true(status(src, t).bursting);
	assert_int_equal(timespec_diff(source_next_poll(src), t), 0);
	assert_int_equal(round_trip(src, t, 0.0, 0.01), SOURCE_SAMPLE_ACCEPTED);
	assert_int_equal(timespec_diff(source_next_poll(src), t), SOURCE_BURST_INTERVAL);
	t = source_next_poll(src);
	round_trip(src, t, 0.0, 0.01);
	/* two good samples: over, the next poll a whole interval after this one */
	assert_false(status(src, t).bursting);
	assert_int_equal(timespec_diff(source_next_poll(src), t), 64);
	source_destroy(src);
}

/* Unanswered, a burst ends after max requests; on an offline source it
 * runs and then leaves the source offline. */
static void manual_burst_gives_up_after_max_and_returns_offline(void **state)
{
	(void)state;
	struct source *src = make(false, false, 6, 6, 0);
	uint8_t request[SOURCE_REQUEST_MAX];
	struct timespec t = t0;

	source_set_online(src, false, t);
	assert_true(source_burst(src, 2, 3, t));
	assert_false(source_offline(src));
	assert_true(status(src, t).burst_then_offline);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(timespec_diff(source_next_poll(src), t), i ? SOURCE_BURST_INTERVAL : 0);
		t = source_next_poll(src);
		assert_int_equal(source_poll(src, t, 1, request, NULL), SOURCE_POLL_SENT);
	}
	assert_false(status(src, t).bursting);
	assert_true(source_offline(src));
	assert_int_equal(source_poll(src, timespec_add(t, 64), 1, request, NULL), SOURCE_STOPPED);
	/* offline during a burst: the burst finishes, then offline */
	source_set_online(src, true, t);
	assert_true(source_burst(src, 1, 2, t));
	source_set_online(src, false, t);
	assert_false(source_offline(src));
	assert_int_equal(round_trip(src, t, 0.0, 0.01), SOURCE_SAMPLE_ACCEPTED);
	assert_true(source_offline(src));
	source_destroy(src);
}

/* ntpdata: the last reply as it was sent, and the counts. */
static void the_last_exchange_is_kept(void **state)
{
	(void)state;
	struct source *src = make(false, false, 6, 6, 0);
	struct source_exchange x;
	uint8_t request[SOURCE_REQUEST_MAX];

	source_get_exchange(src, &x);
	assert_false(x.have_reply);
	assert_int_equal(round_trip(src, t0, 0.25, 0.01), SOURCE_SAMPLE_ACCEPTED);
	assert_int_equal(source_poll(src, timespec_add(t0, 64), 1, request, NULL), SOURCE_POLL_SENT);
	source_get_exchange(src, &x);
	assert_true(x.have_reply);
	assert_int_equal(x.reply.stratum, 2);
	assert_int_equal(x.reply.refid, 0xc0000202);
	assert_float_equal(x.offset, 0.25, TS_TOLERANCE);
	assert_float_equal(x.delay, 0.01, TS_TOLERANCE);
	assert_int_equal(x.result, SOURCE_SAMPLE_ACCEPTED);
	assert_int_equal(x.requests, 2);
	assert_int_equal(x.replies, 1);
	assert_int_equal(x.valid_replies, 1);
	source_destroy(src);
}

/* selectdata's letters, from what the source and the last round say. */
static void select_codes_say_why(void **state)
{
	(void)state;
	struct source_status st = { 0 };
	const char *why;

	assert_int_equal(source_select_code(&st, &why), 'M');
	st.offline = true;
	assert_int_equal(source_select_code(&st, &why), 'M');
	assert_non_null(strstr(why, "offline"));
	st = (struct source_status){ .have_estimate = true, .too_far = true };
	assert_int_equal(source_select_code(&st, &why), 'd');
	st.unsynchronized = true;
	assert_int_equal(source_select_code(&st, &why), 's');
	st = (struct source_status){ .have_estimate = true, .loop = true };
	assert_int_equal(source_select_code(&st, &why), 's');
	st = (struct source_status){ .stopped = true };
	assert_int_equal(source_select_code(&st, &why), 'N');
	st = (struct source_status){ .have_estimate = true };
	assert_int_equal(source_select_code(&st, &why), 'W');
	st.selection = SOURCE_FALSETICKER;
	assert_int_equal(source_select_code(&st, &why), 'x');
	st.selection = SOURCE_TOO_VARIABLE;
	assert_int_equal(source_select_code(&st, &why), 'D');
	st.selection = SOURCE_COMBINED;
	assert_int_equal(source_select_code(&st, &why), '+');
	st.selection = SOURCE_SYSTEM_PEER;
	assert_int_equal(source_select_code(&st, &why), '*');
}

/* A source with chrony's per-source options set in cfg (name, address and polls filled in). */
static struct source *make_with(struct source_config cfg, double max_jitter)
{
	struct source_limits limits = { .precision = LOCAL_PRECISION, .max_jitter = max_jitter };
	struct source *src;

	cfg.name = "options";
	cfg.minpoll = cfg.maxpoll = 4;
	assert_true(netaddr_parse("192.0.2.1", &cfg.addr));
	cfg.addr.port = 123;
	src = source_create(&cfg, &limits, t0);
	assert_non_null(src);
	return src;
}

static void maxdelay_drops_slow_samples_but_counts_the_answer(void **state)
{
	(void)state;
	struct source *src = make_with((struct source_config){ .maxdelay = 0.050 }, 0);
	struct timespec t = t0;

	assert_int_equal(round_trip(src, t, 0.001, 0.060), SOURCE_DELAY_EXCEEDED);
	assert_non_null(strstr(source_last_rejection(src), "maxdelay"));
	assert_int_equal(status(src, t).reach, 1);
	assert_int_equal(status(src, t).samples, 0);
	assert_int_equal(status(src, t).delay_drops, 1);
	t = timespec_add(t, 16);
	assert_int_equal(round_trip(src, t, 0.001, 0.040), SOURCE_SAMPLE_ACCEPTED);
	assert_int_equal(status(src, t).samples, 1);
	source_destroy(src);
}

static void maxdelayratio_drops_queued_samples_until_the_route_changed(void **state)
{
	(void)state;
	struct source *src = make_with((struct source_config){ .maxdelayratio = 2.0, .maxsamples = 4 }, 0);
	struct timespec t = t0;

	/* the first sample has nothing to compare with */
	assert_int_equal(round_trip(src, t, 0.001, 0.010), SOURCE_SAMPLE_ACCEPTED);
	t = timespec_add(t, 16);
	assert_int_equal(round_trip(src, t, 0.001, 0.019), SOURCE_SAMPLE_HELD);
	t = timespec_add(t, 16);
	assert_int_equal(round_trip(src, t, 0.001, 0.021), SOURCE_DELAY_EXCEEDED);
	assert_non_null(strstr(source_last_rejection(src), "maxdelayratio"));
	/* four in a row (the filter's size): the path is longer for good */
	for (int i = 0; i < 2; i++) {
		t = timespec_add(t, 16);
		assert_int_equal(round_trip(src, t, 0.001, 0.030), SOURCE_DELAY_EXCEEDED);
	}
	t = timespec_add(t, 16);
	assert_int_equal(round_trip(src, t, 0.001, 0.030), SOURCE_SAMPLE_ACCEPTED);
	assert_int_equal(status(src, t).samples, 1);
	assert_int_equal(status(src, t).delay_drops, 3);
	source_destroy(src);
}

static void offset_corrects_every_measured_offset(void **state)
{
	(void)state;
	struct source *src = make_with((struct source_config){ .offset = -0.0005 }, 0);
	struct filter_sample last;

	assert_int_equal(round_trip(src, t0, 0.002, 0.010), SOURCE_SAMPLE_ACCEPTED);
	assert_true(source_latest_sample(src, &last));
	assert_float_equal(last.offset, 0.0015, 1e-8);
	source_destroy(src);
}

static void selection_options_reach_the_candidate(void **state)
{
	(void)state;
	struct select_candidate c;
	struct source *src = make_with((struct source_config){ .minstratum = 5, .prefer = true, .trust = true,
								.require = true }, 0);
	struct timespec t = timespec_add(t0, 1);

	assert_int_equal(round_trip(src, t0, 0.002, 0.010), SOURCE_SAMPLE_ACCEPTED);
	assert_true(source_select_candidate(src, t, &c));
	assert_int_equal(c.stratum, 5); /* the server says 2 */
	assert_int_equal(status(src, t).stratum, 2);
	assert_true(c.prefer && c.trust && c.require);
	source_destroy(src);

	src = make_with((struct source_config){ .noselect = true }, 0);
	assert_int_equal(round_trip(src, t0, 0.002, 0.010), SOURCE_SAMPLE_ACCEPTED);
	assert_false(source_select_candidate(src, t, &c));
	assert_int_equal(source_unselectable_reason(src, t), SOURCE_NOSELECT);
	source_destroy(src);
}

static void maxjitter_leaves_a_noisy_source_out(void **state)
{
	(void)state;
	struct select_candidate c;
	struct source *src = make_with((struct source_config){ 0 }, 0.001);
	struct timespec t = t0;

	for (int i = 0; i < 4; i++, t = timespec_add(t, 16))
		round_trip(src, t, i % 2 ? 0.010 : -0.010, 0.010 - 0.001 * i);
	assert_true(status(src, t).jitter > 0.001);
	assert_false(source_select_candidate(src, t, &c));
	assert_int_equal(source_unselectable_reason(src, t), SOURCE_JITTER_EXCEEDED);
	source_destroy(src);
}

static void rejects_invalid_options(void **state)
{
	(void)state;
	struct source_limits limits = { .precision = LOCAL_PRECISION };
	const struct source_config bad[] = {
		{ .minpoll = 6, .maxpoll = 10, .maxsamples = FILTER_SIZE + 1 },
		{ .minpoll = 6, .maxpoll = 10, .maxdelay = -1 },
		{ .minpoll = 6, .maxpoll = 10, .maxdelayratio = 1.0 },
		{ .minpoll = 6, .maxpoll = 10, .minstratum = 16 },
		{ .minpoll = 6, .maxpoll = 10, .offset = NAN },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_null(source_create(&bad[i], &limits, t0));
}

/* Interleaved mode against a server 100 us ahead whose replies leave 8 us
 * after it reads their T3: 5 us each way, 20 us inside the server. */
#define XL_OFFSET 100e-6
#define XL_LATE 8e-6

struct xl_exchange {
	struct timespec t1, t2, t3, t3_left, t4; /* t2, t3, t3_left: server (true) time */
};

static struct xl_exchange xl_times(struct timespec t1)
{
	struct xl_exchange e = { .t1 = t1 };

	e.t2 = timespec_add(t1, XL_OFFSET + 5e-6);
	e.t3 = timespec_add(e.t2, 20e-6);
	e.t3_left = timespec_add(e.t3, XL_LATE);
	e.t4 = timespec_add(e.t3_left, -XL_OFFSET + 5e-6);
	return e;
}

static struct source *make_xleave(void)
{
	return make_with((struct source_config){ .xleave = true }, 0);
}

/* The server's interleaved reply: origin our receive field, transmit the
 * time its last reply left. */
static struct ntp_packet interleaved_answer(const uint8_t *request, struct timespec t2, struct timespec last_left)
{
	struct ntp_packet reply = answer(request, t2, t2);

	reply.origin = decode(request).receive;
	reply.transmit = ntp_ts_from_timespec(last_left);
	return reply;
}

/* A poll at e's T1 answered in basic mode and taken. */
static struct ntp_packet xl_basic(struct source *src, const struct xl_exchange *e, uint32_t random)
{
	uint8_t request[SOURCE_REQUEST_MAX];
	struct ntp_packet reply;

	assert_int_equal(source_poll(src, e->t1, random, request, NULL), SOURCE_POLL_SENT);
	reply = answer(request, e->t2, e->t3);
	assert_int_equal(deliver(src, &reply, e->t4), SOURCE_SAMPLE_ACCEPTED);
	return reply;
}

/* A poll at e's T1 answered in interleaved mode with the time the server's
 * last reply left; the request in *request. */
static enum source_result xl_interleaved(struct source *src, const struct xl_exchange *e, struct timespec last_left,
					 uint32_t random, struct ntp_packet *request)
{
	uint8_t buf[SOURCE_REQUEST_MAX];
	struct ntp_packet reply;

	assert_int_equal(source_poll(src, e->t1, random, buf, NULL), SOURCE_POLL_SENT);
	*request = decode(buf);
	reply = interleaved_answer(buf, e->t2, last_left);
	return deliver(src, &reply, e->t4);
}

static void interleaved_replies_measure_the_exchange_before(void **state)
{
	(void)state;
	struct source *src = make_xleave();
	struct xl_exchange e1 = xl_times(t0), e2 = xl_times(timespec_add(t0, 16)), e3 = xl_times(timespec_add(t0, 32));
	struct ntp_packet q, first;
	struct source_exchange x;

	/* basic first: the late T3 costs half its lateness */
	first = xl_basic(src, &e1, 0x11111111);
	assert_float_equal(status(src, e1.t4).last_offset, XL_OFFSET - XL_LATE / 2, TS_TOLERANCE);

	/* the next request names that exchange: its T2, and a nonce. The first
	 * interleaved reply measures exchange 1 again, exactly; its basic
	 * sample already counted */
	assert_int_equal(xl_interleaved(src, &e2, e1.t3_left, 0x22222222, &q), SOURCE_SAMPLE_HELD);
	assert_true(q.origin == first.receive);
	assert_int_equal((uint32_t)q.receive, (uint32_t)~0x22222222u);
	assert_int_equal((int64_t)(q.receive >> 32), (int64_t)(ntp_ts_from_timespec(e1.t4) >> 32));
	assert_int_equal((uint32_t)q.transmit, 0x22222222u);
	source_get_exchange(src, &x);
	assert_true(x.interleaved);
	assert_float_equal(x.offset, XL_OFFSET, TS_TOLERANCE);
	assert_float_equal(x.delay, 10e-6, TS_TOLERANCE);

	/* from then on each reply gives the exchange before it, at its T4 */
	assert_int_equal(xl_interleaved(src, &e3, e2.t3_left, 0x33333333, &q), SOURCE_SAMPLE_ACCEPTED);
	assert_true(q.origin == ntp_ts_from_timespec(e2.t2));
	assert_float_equal(status(src, e3.t4).last_offset, XL_OFFSET, TS_TOLERANCE);
	assert_float_equal(status(src, e3.t4).last_delay, 10e-6, TS_TOLERANCE);
	assert_float_equal(status(src, e3.t4).last_rx_age, timespec_diff(e3.t4, e2.t4), 1e-9);
	source_destroy(src);
}

static void interleaved_requests_take_basic_replies_and_refuse_others(void **state)
{
	(void)state;
	struct source *src = make_xleave();
	uint8_t request[SOURCE_REQUEST_MAX];
	struct xl_exchange e1 = xl_times(t0), e2 = xl_times(timespec_add(t0, 16)), e3 = xl_times(timespec_add(t0, 32));
	struct ntp_packet reply, bogus;
	struct source_exchange x;

	xl_basic(src, &e1, 1);
	assert_int_equal(source_poll(src, e2.t1, 2, request, NULL), SOURCE_POLL_SENT);
	/* echoing neither nonce: not ours */
	bogus = interleaved_answer(request, e2.t2, e1.t3_left);
	bogus.origin ^= 0x100;
	assert_int_equal(deliver(src, &bogus, e2.t4), SOURCE_BOGUS);
	/* the server's stamp of its last reply before our last request came in */
	bogus = interleaved_answer(request, e2.t2, timespec_add(e1.t2, -1e-3));
	assert_int_equal(deliver(src, &bogus, e2.t4), SOURCE_BAD_HEADER);
	/* a server without interleaved mode answers basic: taken as ever */
	reply = xl_basic(src, &e3, 3);
	source_get_exchange(src, &x);
	assert_false(x.interleaved);
	assert_float_equal(x.offset, XL_OFFSET - XL_LATE / 2, TS_TOLERANCE);
	/* a replay of it is a duplicate */
	assert_int_equal(deliver(src, &reply, e3.t4), SOURCE_DUPLICATE);
	source_destroy(src);
}

static void interleaved_mode_restarts_after_a_lost_reply(void **state)
{
	(void)state;
	struct source *src = make_xleave();
	struct source *plain = make_with((struct source_config){ 0 }, 0);
	uint8_t request[SOURCE_REQUEST_MAX];
	struct xl_exchange e1 = xl_times(timespec_add(t0, 1));
	struct ntp_packet q;

	assert_int_equal(source_poll(src, t0, 1, request, NULL), SOURCE_POLL_SENT);
	q = decode(request);
	assert_true(q.origin == 0 && q.receive == 0); /* nothing to name yet */
	xl_basic(src, &e1, 1);
	assert_int_equal(source_poll(src, timespec_add(t0, 16), 2, request, NULL), SOURCE_POLL_SENT);
	assert_true(decode(request).origin != 0);
	/* unanswered: the next request is basic */
	assert_int_equal(source_poll(src, timespec_add(t0, 32), 3, request, NULL), SOURCE_POLL_SENT);
	q = decode(request);
	assert_true(q.origin == 0 && q.receive == 0);

	/* without xleave a request never names an exchange */
	xl_basic(plain, &e1, 1);
	assert_int_equal(source_poll(plain, timespec_add(t0, 16), 2, request, NULL), SOURCE_POLL_SENT);
	q = decode(request);
	assert_true(q.origin == 0 && q.receive == 0);
	source_destroy(plain);
	source_destroy(src);
}

/* The kept exchange's local times move with a clock step as the filter's
 * samples do, so the sample it gives later is in the clock's new terms. */
static void a_step_moves_the_kept_exchange(void **state)
{
	(void)state;
	struct source *src = make_xleave();
	struct xl_exchange e1 = xl_times(t0), e2 = xl_times(timespec_add(t0, 16)), e3 = xl_times(timespec_add(t0, 32));
	struct ntp_packet q;
	const double step = 50e-6; /* the clock moved 50 us forward: 50 us less offset */
	enum source_result r;

	xl_basic(src, &e1, 1);
	assert_int_equal(xl_interleaved(src, &e2, e1.t3_left, 2, &q), SOURCE_SAMPLE_HELD);
	/* exchange 2 is kept, its sample still to come, when the clock steps */
	source_correct(src, timespec_add(e2.t4, 1), step, 0);
	e3.t1 = timespec_add(e3.t1, step);
	e3.t4 = timespec_add(e3.t4, step);
	/* the filter may hold it as a spike after the step: the sample is what counts */
	r = xl_interleaved(src, &e3, e2.t3_left, 3, &q);
	assert_true(r == SOURCE_SAMPLE_ACCEPTED || r == SOURCE_SAMPLE_HELD);
	assert_float_equal(status(src, e3.t4).last_offset, XL_OFFSET - step, TS_TOLERANCE);
	assert_float_equal(status(src, e3.t4).last_delay, 10e-6, TS_TOLERANCE);
	source_destroy(src);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(builds_a_client_request_with_a_random_fraction),
		cmocka_unit_test(rejects_bad_poll_configuration),
		cmocka_unit_test(computes_offset_and_delay_from_the_four_timestamps),
		cmocka_unit_test(the_kernel_transmit_time_is_t1),
		cmocka_unit_test(handles_the_2036_era_rollover),
		cmocka_unit_test(reach_register_records_answered_polls),
		cmocka_unit_test(sub_second_polls_when_the_admin_asks),
		cmocka_unit_test(stats_fit_a_line_and_the_last_reply_is_the_newest),
		cmocka_unit_test(iburst_sends_quick_polls_at_start_and_after_losing_the_server),
		cmocka_unit_test(poll_follows_the_engine_rising_one_step_at_a_time),
		cmocka_unit_test(latest_sample_is_kept_even_when_the_filter_holds_it),
		cmocka_unit_test(kod_rate_backs_off),
		cmocka_unit_test(kod_deny_and_rstr_stop_the_source),
		cmocka_unit_test(spoofed_kod_is_ignored),
		cmocka_unit_test(accepts_one_reply_per_request),
		cmocka_unit_test(applies_the_rfc_5905_header_tests),
		cmocka_unit_test(unsynchronized_server_stays_reachable),
		cmocka_unit_test(absurd_replies_are_refused),
		cmocka_unit_test(requests_carry_the_configured_version),
		cmocka_unit_test(root_distance_and_candidate),
		cmocka_unit_test(root_distance_has_a_floor),
		cmocka_unit_test(distance_formula_and_floor),
		cmocka_unit_test(correction_moves_the_estimate_and_the_schedule),
		cmocka_unit_test(pool_members_ask_for_replacement),
		cmocka_unit_test(a_keyed_source_takes_only_signed_replies),
		cmocka_unit_test(offline_sends_nothing_and_keeps_reach),
		cmocka_unit_test(manual_burst_polls_until_enough_good_samples),
		cmocka_unit_test(manual_burst_gives_up_after_max_and_returns_offline),
		cmocka_unit_test(the_last_exchange_is_kept),
		cmocka_unit_test(interleaved_replies_measure_the_exchange_before),
		cmocka_unit_test(interleaved_requests_take_basic_replies_and_refuse_others),
		cmocka_unit_test(interleaved_mode_restarts_after_a_lost_reply),
		cmocka_unit_test(a_step_moves_the_kept_exchange),
		cmocka_unit_test(select_codes_say_why),
		cmocka_unit_test(maxdelay_drops_slow_samples_but_counts_the_answer),
		cmocka_unit_test(maxdelayratio_drops_queued_samples_until_the_route_changed),
		cmocka_unit_test(offset_corrects_every_measured_offset),
		cmocka_unit_test(selection_options_reach_the_candidate),
		cmocka_unit_test(maxjitter_leaves_a_noisy_source_out),
		cmocka_unit_test(rejects_invalid_options),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
