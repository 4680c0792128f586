#include "cmocka_all.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "engine.h"
#include "log.h"
#include "ntp_time.h"
#include "refclock_filter.h"
#include "refid.h"
#include "sim_clock.h"

#define MAX_SERVERS 4
#define MAX_CALLS 4096
#define ROUND_TRIP 0.002          /* seconds, symmetric */
#define SERVER_ROOT_DELAY 0.001
#define SERVER_ROOT_DISPERSION 0.001
#define UPSTREAM_REFID 0xc0000201 /* the servers' own reference, 192.0.2.1 */
#define MAX_LOOP_ROUNDS 10000

/* A clock that records every call the engine makes on it and passes it on to
 * the simulator's clock (no frequency error), which runs steps, slews and
 * frequency changes as Linux does: a slew moves the clock only from the next
 * whole second, so the engine's view of the pending slew is checked here too. */
enum call_kind { CALL_STEP, CALL_SLEW, CALL_FREQUENCY, CALL_STATUS };

struct call {
	enum call_kind kind;
	double value;                   /* offset or ppm */
	struct clock_status status;
};

struct fake_clock {
	struct call calls[MAX_CALLS];
	size_t count;
	struct sim_clock sim;
	struct clock_ops sim_ops;
};

struct fake_server {
	int id;
	struct net_addr addr;
	double ahead;                   /* server - true, seconds */
	unsigned stratum;
	enum ntp_leap leap;
	bool silent;
	double extra_delay;             /* seconds added to ROUND_TRIP, both ways alike */
	double delay_growth;            /* seconds extra_delay grows by after each exchange */
};

struct world {
	struct engine *engine;
	struct fake_clock clock;
	struct timespec true_now;
	struct fake_server servers[MAX_SERVERS];
	size_t servers_count;
};

static struct world w;
#define FAR_FROM_LEAPS 1700000000 /* 2023-11-14 22:13:20 UTC, far from a leap second */
#define LEAP_MIDNIGHT 1483228800  /* 2017-01-01: 2016 ended with 23:59:60 */
static struct timespec t0 = { FAR_FROM_LEAPS, 0 };

static void record(enum call_kind kind, double value, const struct clock_status *status)
{
	assert_true(w.clock.count < MAX_CALLS);
	w.clock.calls[w.clock.count++] = (struct call){ .kind = kind, .value = value,
							.status = status ? *status : (struct clock_status){ 0 } };
}

static struct timespec local_now(void)
{
	sim_clock_advance(&w.clock.sim, timespec_diff(w.true_now, t0));
	return sim_clock_now(&w.clock.sim);
}

/* The true time at which the clock will read local. */
static struct timespec true_time_of(struct timespec local)
{
	return timespec_add(local, timespec_diff(w.true_now, local_now()));
}

static int fake_read(void *ctx, struct timespec *now)
{
	(void)ctx;
	*now = local_now();
	return 0;
}

static int fake_step(void *ctx, double offset)
{
	(void)ctx;
	record(CALL_STEP, offset, NULL);
	return w.clock.sim_ops.step(w.clock.sim_ops.ctx, offset);
}

static int fake_slew(void *ctx, double offset)
{
	(void)ctx;
	record(CALL_SLEW, offset, NULL);
	return w.clock.sim_ops.slew(w.clock.sim_ops.ctx, offset);
}

static int fake_slew_state(void *ctx, struct clock_slew *out)
{
	(void)ctx;
	local_now(); /* the simulated kernel, brought up to the true time */
	return w.clock.sim_ops.slew_state(w.clock.sim_ops.ctx, out);
}

static int fake_set_frequency(void *ctx, double ppm)
{
	(void)ctx;
	record(CALL_FREQUENCY, ppm, NULL);
	return w.clock.sim_ops.set_frequency(w.clock.sim_ops.ctx, ppm);
}

static int fake_set_status(void *ctx, const struct clock_status *status)
{
	(void)ctx;
	record(CALL_STATUS, 0.0, status);
	return 0;
}

static size_t calls_of(enum call_kind kind)
{
	size_t n = 0;

	for (size_t i = 0; i < w.clock.count; i++)
		n += w.clock.calls[i].kind == kind;
	return n;
}

static size_t clock_changing_calls(void)
{
	return calls_of(CALL_STEP) + calls_of(CALL_SLEW) + calls_of(CALL_FREQUENCY);
}

static const struct call *first_call(enum call_kind kind)
{
	for (size_t i = 0; i < w.clock.count; i++)
		if (w.clock.calls[i].kind == kind)
			return &w.clock.calls[i];
	return NULL;
}

static const struct call *last_call(enum call_kind kind)
{
	for (size_t i = w.clock.count; i > 0; i--)
		if (w.clock.calls[i - 1].kind == kind)
			return &w.clock.calls[i - 1];
	return NULL;
}

static bool some_status_says_synchronized(void)
{
	for (size_t i = 0; i < w.clock.count; i++)
		if (w.clock.calls[i].kind == CALL_STATUS && w.clock.calls[i].status.synchronized)
			return true;
	return false;
}

static struct engine_config default_config(void)
{
	struct engine_config cfg;

	engine_config_defaults(&cfg);
	return cfg;
}

static void start(const struct engine_config *cfg)
{
	struct clock_ops ops = {
		.ctx = &w.clock, .read = fake_read, .step = fake_step, .slew = fake_slew, .slew_state = fake_slew_state,
		.set_frequency = fake_set_frequency, .set_status = fake_set_status,
		.max_frequency_ppm = 500.0, .max_slew_ppm = 500.0,
	};

	memset(&w, 0, sizeof(w));
	w.true_now = t0;
	sim_clock_init(&w.clock.sim, t0.tv_sec, 0.0, 0.0, 0.0, NULL);
	sim_clock_ops(&w.clock.sim, &w.clock.sim_ops);
	w.engine = engine_create(cfg, &ops, local_now());
	assert_non_null(w.engine);
}

static int stop(void **state)
{
	(void)state;
	engine_destroy(w.engine);
	w.engine = NULL;
	t0.tv_sec = FAR_FROM_LEAPS; /* the next test starts there unless it says otherwise */
	return 0;
}

/* A server at 127.0.0.N (N from 2), polled with iburst. */
static struct fake_server *add_server_polling(double ahead, unsigned stratum, int minpoll, int maxpoll, bool iburst)
{
	struct fake_server *s = &w.servers[w.servers_count];
	struct source_config cfg = { .iburst = iburst, .minpoll = minpoll, .maxpoll = maxpoll };
	char text[32];

	assert_true(w.servers_count < MAX_SERVERS);
	snprintf(text, sizeof(text), "127.0.0.%zu", w.servers_count + 2);
	assert_true(netaddr_parse(text, &cfg.addr));
	cfg.addr.port = NTP_PORT;
	*s = (struct fake_server){ .addr = cfg.addr, .ahead = ahead, .stratum = stratum, .leap = NTP_LEAP_NONE };
	s->id = engine_add_source(w.engine, &cfg, local_now());
	assert_true(s->id >= 0);
	w.servers_count++;
	return s;
}

static struct fake_server *add_server(double ahead, unsigned stratum)
{
	return add_server_polling(ahead, stratum, SOURCE_DEFAULT_MINPOLL, SOURCE_DEFAULT_MAXPOLL, true);
}

static struct fake_server *server_of(int id)
{
	for (size_t i = 0; i < w.servers_count; i++)
		if (w.servers[i].id == id)
			return &w.servers[i];
	fail_msg("the engine asked for source %d it was never given", id);
	return NULL;
}

static struct ntp_packet decode(const uint8_t *buf)
{
	struct ntp_packet p;

	assert_int_equal(packet_decode(buf, NTP_HEADER_LEN, &p, NULL), PACKET_OK);
	return p;
}

/* The request the engine sends the server now; false when it sends none. */
static bool request_to(const struct fake_server *s, struct ntp_packet *request)
{
	uint8_t buf[SOURCE_REQUEST_MAX];

	if (engine_build_request(w.engine, s->id, local_now(), buf) == 0)
		return false;
	*request = decode(buf);
	return true;
}

/* What the honest server answers, half a round trip after the request left. */
static struct ntp_packet answer(const struct fake_server *s, const struct ntp_packet *request)
{
	struct timespec server_now = timespec_add(w.true_now, s->ahead + (ROUND_TRIP + s->extra_delay) / 2);

	return (struct ntp_packet){
		.leap = s->leap, .version = NTP_VERSION, .mode = NTP_MODE_SERVER, .stratum = (uint8_t)s->stratum,
		.poll = request->poll, .precision = -20,
		.root_delay = ntp_short_from_seconds(SERVER_ROOT_DELAY),
		.root_dispersion = ntp_short_from_seconds(SERVER_ROOT_DISPERSION),
		.refid = UPSTREAM_REFID,
		.reference = ntp_ts_from_timespec(timespec_add(server_now, -16.0)),
		.origin = request->transmit,
		.receive = ntp_ts_from_timespec(server_now),
		.transmit = ntp_ts_from_timespec(server_now),
	};
}

/* A kiss-o'-death with the right origin. */
static struct ntp_packet kiss(const struct ntp_packet *request, const char *code, int8_t poll)
{
	return (struct ntp_packet){
		.leap = NTP_LEAP_UNSYNC, .version = NTP_VERSION, .mode = NTP_MODE_SERVER, .stratum = 0,
		.poll = poll, .refid = refid_from_name(code), .origin = request->transmit,
		.receive = request->transmit, .transmit = request->transmit,
	};
}

/* The reply arrives one round trip after the request was sent. */
static void deliver(const struct fake_server *s, const struct ntp_packet *reply)
{
	uint8_t buf[NTP_HEADER_LEN];

	packet_encode(reply, buf);
	w.true_now = timespec_add(w.true_now, ROUND_TRIP + s->extra_delay);
	engine_handle_reply(w.engine, s->id, buf, sizeof(buf), local_now());
}

static void exchange(struct fake_server *s)
{
	struct ntp_packet request, reply;

	if (!request_to(s, &request) || s->silent)
		return;
	reply = answer(s, &request);
	deliver(s, &reply);
	s->extra_delay += s->delay_growth;
}

/* The daemon's loop for `seconds` of true time: wait for the engine's next
 * wakeup, send what is due, the servers answer. */
static void run_for(double seconds)
{
	struct timespec end = timespec_add(w.true_now, seconds);

	for (unsigned round = 0;; round++) {
		struct timespec wakeup = true_time_of(engine_next_wakeup(w.engine));
		int id;

		assert_true(round < MAX_LOOP_ROUNDS);
		if (timespec_diff(wakeup, end) > 0.0)
			break;
		if (timespec_diff(wakeup, w.true_now) > 0.0)
			w.true_now = wakeup;
		id = engine_due_request(w.engine, local_now());
		if (id >= 0)
			exchange(server_of(id));
	}
	w.true_now = end;
}

static struct engine_tracking tracking(void)
{
	struct engine_tracking t;

	engine_get_tracking(w.engine, local_now(), &t);
	return t;
}

static struct source_status source_info(const struct fake_server *s)
{
	struct source_status info;

	assert_true(engine_get_source(w.engine, s->id, local_now(), &info));
	return info;
}

static struct engine_system system_state(void)
{
	struct engine_system sys;

	engine_get_system(w.engine, &sys);
	return sys;
}

static void assert_unsynchronized_downstream(void)
{
	struct engine_system sys = system_state();

	assert_int_equal(sys.leap, NTP_LEAP_UNSYNC);
	assert_int_equal(sys.stratum, NTP_MAX_STRATUM);
}

static void due_at_start_and_request_is_client_v4_with_nonce(void **state)
{
	struct engine_config cfg = default_config();
	struct fake_server *a, *b;
	struct ntp_packet request, reply;

	(void)state;
	start(&cfg);
	a = add_server(0.0, 2);
	b = add_server(0.0, 2);
	/* both are due, one request at a time: a first */
	assert_int_equal(engine_due_request(w.engine, local_now()), a->id);

	/* the request is built a moment after (the loop reads the clock again) */
	w.true_now = timespec_add(w.true_now, 0.001);
	assert_true(request_to(a, &request));
	assert_int_equal(request.mode, NTP_MODE_CLIENT);
	assert_int_equal(request.version, 4);
	/* honest seconds: the fraction is the nonce */
	assert_int_equal(request.transmit >> 32, (uint64_t)t0.tv_sec + NTP_UNIX_EPOCH_DELTA);
	/* a is no longer due; b is, once the separation (0.2 s at a 64 s poll)
	 * from a's request has passed, and the loop sleeps till then */
	assert_float_equal(timespec_diff(engine_next_wakeup(w.engine), local_now()), 0.2, 1e-9);
	assert_int_equal(engine_due_request(w.engine, local_now()), -1);
	assert_float_equal(timespec_diff(engine_next_wakeup(w.engine), local_now()), 0.2, 1e-9);
	w.true_now = timespec_add(w.true_now, 0.2);
	assert_int_equal(engine_due_request(w.engine, local_now()), b->id);

	reply = answer(a, &request);
	deliver(a, &reply);
	assert_int_equal(source_info(a).reach, 1);
	assert_int_equal(source_info(a).stratum, 2);
	assert_int_equal(source_info(a).refid, UPSTREAM_REFID);
}

/* The local times of the next `count` requests, sources answering at once. */
static void request_times(struct timespec *times, int *ids, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		w.true_now = timespec_add(true_time_of(engine_next_wakeup(w.engine)), 1e-6);
		ids[i] = engine_due_request(w.engine, local_now());
		assert_true(ids[i] >= 0);
		times[i] = local_now();
		exchange(server_of(ids[i]));
	}
}

/* chrony's sampling separation: an eighth of the poll interval, at least 2 ms */
static void requests_leave_spaced_by_the_poll(void **state)
{
	static const struct {
		int poll;
		double separation;
	} cases[] = { { -4, 1.0 / 128 }, { -6, 0.002 }, { 6, 0.2 } };

	(void)state;
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		struct engine_config cfg = default_config();
		struct timespec times[6];
		int ids[6];

		start(&cfg);
		for (int i = 0; i < 3; i++)
			add_server_polling(0.0, 2, cases[c].poll, cases[c].poll, false);
		request_times(times, ids, 6);
		for (size_t i = 1; i < 6; i++) {
			double gap = timespec_diff(times[i], times[i - 1]);

			assert_true(gap >= cases[c].separation);
			/* the first three all due at start: each the separation after the other */
			if (i < 3)
				assert_float_equal(gap, cases[c].separation, 2e-6);
		}
		/* every source in turn, and again in the same order */
		for (size_t i = 0; i < 3; i++) {
			assert_int_equal(ids[i], w.servers[i].id);
			assert_int_equal(ids[i + 3], w.servers[i].id);
		}
		stop(NULL);
	}
}

/* Each interval is the poll's, longer by a random part below 2 %. */
static void poll_intervals_are_randomly_longer(void **state)
{
	struct engine_config cfg = default_config();
	struct timespec times[21];
	int ids[21];
	double shortest = 1e9, longest = 0.0;

	(void)state;
	start(&cfg);
	add_server_polling(0.0, 2, 6, 6, false);
	request_times(times, ids, 21);
	for (size_t i = 1; i < 21; i++) {
		double interval = timespec_diff(times[i], times[i - 1]);

		assert_true(interval >= 64.0);
		assert_true(interval < 64.0 * (1 + SOURCE_POLL_RANDOMNESS) + 2e-6);
		shortest = fmin(shortest, interval);
		longest = fmax(longest, interval);
	}
	/* 20 draws from [0, 1.28 s) spread over more than half of it */
	assert_true(longest - shortest > 0.64);
}

static void reply_with_wrong_origin_is_ignored(void **state)
{
	struct engine_config cfg = default_config();
	struct fake_server *s;
	struct ntp_packet request, reply;
	struct engine_tracking t;

	(void)state;
	start(&cfg);
	s = add_server(0.3, 2);
	assert_true(request_to(s, &request));
	reply = answer(s, &request);
	reply.origin ^= 1;
	deliver(s, &reply);

	t = tracking();
	assert_int_equal(t.state, SYNC_UNSYNCHRONIZED);
	assert_int_equal(t.reason, UNSYNC_STARTING);
	assert_int_equal(t.stratum, NTP_MAX_STRATUM);
	assert_int_equal(source_info(s).reach, 0);
	assert_false(source_info(s).have_sample);
	assert_false(source_info(s).have_estimate);
	assert_int_equal(source_info(s).stratum, 0);
	assert_int_equal(clock_changing_calls(), 0);

	/* the request stayed open: the genuine reply is still taken */
	reply.origin ^= 1;
	deliver(s, &reply);
	assert_int_equal(source_info(s).reach, 1);
}

static void steps_once_to_a_server_ahead_then_tracks_it(void **state)
{
	struct engine_config cfg = default_config();
	struct fake_server *s;
	struct engine_tracking t;
	struct engine_system sys;

	(void)state;
	start(&cfg);
	s = add_server(0.3, 2);
	run_for(600);

	assert_int_equal(calls_of(CALL_STEP), 1);
	assert_float_equal(first_call(CALL_STEP)->value, 0.3, 0.003);
	assert_true(some_status_says_synchronized());
	t = tracking();
	assert_int_equal(t.state, SYNC_SYNCHRONIZED);
	assert_int_equal(t.reason, UNSYNC_NONE);
	assert_int_equal(t.stratum, 3);
	assert_int_equal(t.refid, 0x7f000002); /* 127.0.0.2 */
	assert_string_equal(t.reference_name, "127.0.0.2:123");
	assert_int_equal(t.steps, 1);
	assert_true(fabs(t.system_offset) < 0.001);
	assert_int_equal(t.leap, NTP_LEAP_NONE);
	assert_int_equal(source_info(s).selection, SOURCE_SYSTEM_PEER);
	assert_true(fabs(source_info(s).offset) < 0.001);

	sys = system_state();
	assert_int_equal(sys.leap, NTP_LEAP_NONE);
	assert_int_equal(sys.stratum, 3);
	assert_int_equal(sys.refid, 0x7f000002);
	assert_true(sys.root_delay >= SERVER_ROOT_DELAY);
}

/* What we serve grows from the last clock update (at max_clock_error plus
 * the discipline's frequency skew, not RFC 5905's PHI), on top
 * of the server's root dispersion, our newest measurement's dispersion and
 * the jitter. Every reply here takes 2 us longer than the one before, so the
 * clock filter keeps its oldest sample (up to 8 polls old): that age must not
 * reach the error bound we serve, since the discipline used the newest. */
static void served_dispersion_grows_from_the_last_update_not_the_filtered_sample(void **state)
{
	struct engine_config cfg = default_config();
	struct fake_server *s;
	struct engine_tracking t;
	struct engine_system sys;
	double own, age;

	(void)state;
	cfg.adjust = false;
	start(&cfg);
	s = add_server(0.0, 1);
	s->delay_growth = 2e-6;
	run_for(13 * 60);
	t = tracking();
	sys = system_state();
	assert_int_equal(t.state, SYNC_SYNCHRONIZED);
	/* the filter's estimate is old: the bug this guards against grew from it */
	assert_true(source_info(s).estimate_age > 4 * 64.0);
	own = sys.root_dispersion - SERVER_ROOT_DISPERSION;
	/* precision of both clocks (2 x 2^-20 s), PHI x delay, jitter (>= precision) */
	assert_true(own > 0.0);
	assert_true(own < 20e-6);
	/* tracking says what a client is served now: the update's bound grown
	 * over its age at 1 ppm (the default max_clock_error) plus the skew */
	age = timespec_diff(local_now(), t.reference_time);
	assert_true(age >= 0.0 && age < 64.0);
	assert_true(t.skew_ppm > 0.0 && t.skew_ppm < 1.0);
	assert_float_equal(sys.dispersion_rate, (1.0 + t.skew_ppm) * 1e-6, 1e-12);
	assert_float_equal(t.root_dispersion, sys.root_dispersion + sys.dispersion_rate * age, 1e-9);
	/* and the source's view: the last reply is fresh, the estimate is not */
	assert_true(source_info(s).last_rx_age < 64.0);
}

static void without_adjust_measures_and_never_touches_the_clock(void **state)
{
	struct engine_config cfg = default_config();
	struct engine_tracking t;

	(void)state;
	cfg.adjust = false;
	start(&cfg);
	add_server(0.3, 2);
	run_for(600);

	assert_int_equal(w.clock.count, 0);
	t = tracking();
	assert_int_equal(t.state, SYNC_SYNCHRONIZED);
	assert_int_equal(t.stratum, 3);
	assert_float_equal(t.system_offset, 0.3, 0.003);
	assert_float_equal(t.last_offset, 0.3, 0.003);
	assert_int_equal(t.steps, 0);
	assert_int_equal(system_state().stratum, 3);
}

static void without_sources_stays_starting_and_unsynchronized(void **state)
{
	struct engine_config cfg = default_config();
	struct engine_tracking t;

	(void)state;
	start(&cfg);
	assert_int_equal(engine_due_request(w.engine, local_now()), -1);
	/* nothing to poll: the loop need not wake before an hour, but never in the past */
	assert_true(timespec_diff(engine_next_wakeup(w.engine), local_now()) > 0.0);
	run_for(3 * 3600);
	t = tracking();
	/* no sample ever came, so "starting" is the honest reason */
	assert_int_equal(t.state, SYNC_UNSYNCHRONIZED);
	assert_int_equal(t.reason, UNSYNC_STARTING);
	assert_int_equal(t.stratum, NTP_MAX_STRATUM);
	/* no update ever: no bound, not 15 ppm times the Unix time */
	assert_true(isinf(t.root_dispersion));
	assert_int_equal(t.reference_time.tv_sec, 0);
	assert_unsynchronized_downstream();
	assert_int_equal(clock_changing_calls(), 0);
}

static void a_source_gone_silent_leaves_no_usable_source(void **state)
{
	struct engine_config cfg = default_config();
	struct fake_server *s;
	struct engine_tracking t;

	(void)state;
	start(&cfg);
	s = add_server(0.0, 2);
	run_for(300);
	assert_int_equal(tracking().state, SYNC_SYNCHRONIZED);

	s->silent = true;
	run_for(3 * 3600);
	t = tracking();
	assert_int_equal(source_info(s).selection, SOURCE_UNREACHABLE);
	assert_int_equal(t.state, SYNC_UNSYNCHRONIZED);
	assert_int_equal(t.reason, UNSYNC_NO_SOURCES);
	assert_unsynchronized_downstream();
	/* the kernel is told too */
	assert_false(last_call(CALL_STATUS)->status.synchronized);
}

static void quorum_not_met_leaves_the_clock_alone(void **state)
{
	struct engine_config cfg = default_config();
	struct fake_server *s;

	(void)state;
	cfg.minsources = 2;
	start(&cfg);
	s = add_server(0.3, 2);
	run_for(600);

	assert_int_equal(tracking().state, SYNC_UNSYNCHRONIZED);
	assert_int_equal(tracking().reason, UNSYNC_QUORUM_NOT_MET);
	assert_int_equal(clock_changing_calls(), 0);
	assert_false(some_status_says_synchronized());
	assert_unsynchronized_downstream();
	/* the source itself is fine, only alone */
	assert_int_equal(source_info(s).reach, 0xff);
	assert_float_equal(source_info(s).offset, 0.3, 0.003);
}

/* A server that answers as unsynchronized is shown so, reachable, and
 * polled at its usual rate; a silent one is unreachable and backs off. */
static void unsynchronized_server_is_shown_reachable(void **state)
{
	struct engine_config cfg = default_config();
	struct fake_server *unsync, *dead;
	struct source_status info;

	(void)state;
	start(&cfg);
	unsync = add_server(0.0, 2);
	unsync->leap = NTP_LEAP_UNSYNC;
	dead = add_server(0.0, 2);
	dead->silent = true;
	run_for(3600);

	info = source_info(unsync);
	assert_int_equal(info.selection, SOURCE_SERVER_UNSYNCHRONIZED);
	assert_int_equal(info.reach, 0xff);
	assert_int_equal(info.poll, SOURCE_DEFAULT_MINPOLL);
	info = source_info(dead);
	assert_int_equal(info.selection, SOURCE_UNREACHABLE);
	assert_true(info.poll > SOURCE_DEFAULT_MINPOLL);
	assert_int_equal(tracking().state, SYNC_UNSYNCHRONIZED);
}

static void insane_time_is_refused(void **state)
{
	struct engine_config cfg = default_config();
	struct engine_tracking t;

	(void)state;
	start(&cfg);
	add_server(7200.0, 2);
	add_server(7200.0, 2);
	run_for(600);

	t = tracking();
	assert_int_equal(t.state, SYNC_UNSYNCHRONIZED);
	assert_int_equal(t.reason, UNSYNC_INSANE_TIME);
	assert_float_equal(t.insane_offset, 7200.0, 0.01);
	assert_int_equal(t.steps, 0);
	assert_int_equal(clock_changing_calls(), 0);
	assert_false(some_status_says_synchronized());
	assert_unsynchronized_downstream();
}

static void assert_serving_local_clock(void)
{
	struct engine_system sys = system_state();

	assert_int_equal(tracking().state, SYNC_LOCAL);
	assert_int_equal(tracking().stratum, 10);
	/* tracking tells what clients are told */
	assert_int_equal(tracking().leap, NTP_LEAP_NONE);
	assert_int_equal(tracking().refid, 0x4c4f434c);
	assert_int_equal(sys.leap, NTP_LEAP_NONE);
	assert_int_equal(sys.stratum, 10);
	assert_int_equal(sys.refid, 0x4c4f434c); /* "LOCL" */
}

static void local_stratum_serves_the_local_clock_without_sources(void **state)
{
	struct engine_config cfg = default_config();
	struct fake_server *s;

	(void)state;
	cfg.local_stratum = 10;
	start(&cfg);
	/* no source is usable from the very start */
	assert_serving_local_clock();
	s = add_server(0.0, 2);
	s->silent = true;
	run_for(3 * 3600);
	assert_int_equal(source_info(s).selection, SOURCE_UNREACHABLE);
	assert_serving_local_clock();
	assert_int_equal(clock_changing_calls(), 0);
	/* the local clock is its own reference, now, as the packets carry it */
	assert_int_equal(tracking().reference_time.tv_sec, local_now().tv_sec);
	assert_float_equal(tracking().root_dispersion, 0.0, 0.0);
}

static void kod_deny_stops_the_source(void **state)
{
	struct engine_config cfg = default_config();
	struct fake_server *s;
	struct ntp_packet request, reply;
	struct source_status info;

	(void)state;
	start(&cfg);
	s = add_server(0.0, 2);
	assert_true(request_to(s, &request));
	reply = kiss(&request, "DENY", 6);
	deliver(s, &reply);

	info = source_info(s);
	assert_true(info.stopped);
	assert_string_equal(info.kiss, "DENY");
	assert_false(request_to(s, &request));
	/* a stopped source is never due again, and the loop is not woken for it */
	w.true_now = timespec_add(w.true_now, 3600);
	assert_int_equal(engine_due_request(w.engine, local_now()), -1);
	assert_true(timespec_diff(engine_next_wakeup(w.engine), local_now()) > 0.0);
}

static void kod_deny_from_the_system_peer_unsynchronizes(void **state)
{
	struct engine_config cfg = default_config();
	struct fake_server *s;
	struct ntp_packet request, reply;

	(void)state;
	start(&cfg);
	s = add_server(0.0, 2);
	run_for(300);
	assert_int_equal(tracking().state, SYNC_SYNCHRONIZED);

	w.true_now = true_time_of(engine_next_wakeup(w.engine));
	assert_true(request_to(s, &request));
	reply = kiss(&request, "DENY", 6);
	deliver(s, &reply);
	assert_true(source_info(s).stopped);
	assert_int_equal(tracking().state, SYNC_UNSYNCHRONIZED);
	assert_int_equal(tracking().reason, UNSYNC_NO_SOURCES);
	assert_unsynchronized_downstream();
}

static void kod_rate_raises_the_poll(void **state)
{
	struct engine_config cfg = default_config();
	struct fake_server *s;
	struct ntp_packet request, reply;
	struct source_status info;

	(void)state;
	start(&cfg);
	s = add_server(0.0, 2);
	assert_int_equal(source_info(s).poll, SOURCE_DEFAULT_MINPOLL);

	/* a server asking for less than one more step still gets one more */
	assert_true(request_to(s, &request));
	reply = kiss(&request, "RATE", 0);
	deliver(s, &reply);
	info = source_info(s);
	assert_false(info.stopped);
	assert_string_equal(info.kiss, "RATE");
	assert_int_equal(info.poll, SOURCE_DEFAULT_MINPOLL + 1);
	/* the burst is off: nothing due before the new poll interval (and its
	 * random part) */
	w.true_now = timespec_add(w.true_now, 64);
	assert_int_equal(engine_due_request(w.engine, local_now()), -1);
	w.true_now = timespec_add(w.true_now, 64 + 128 * SOURCE_POLL_RANDOMNESS);
	assert_int_equal(engine_due_request(w.engine, local_now()), s->id);

	/* the server's own limit wins, even past maxpoll */
	assert_true(request_to(s, &request));
	reply = kiss(&request, "RATE", 12);
	deliver(s, &reply);
	assert_int_equal(source_info(s).poll, 12);
}

static void falseticker_is_voted_out(void **state)
{
	struct engine_config cfg = default_config();
	struct fake_server *good1, *good2, *bad;
	struct source_status i1, i2;
	unsigned peers;

	(void)state;
	start(&cfg);
	good1 = add_server(0.0005, 2);
	good2 = add_server(-0.0005, 2);
	bad = add_server(0.25, 2);
	run_for(600);

	assert_int_equal(source_info(bad).selection, SOURCE_FALSETICKER);
	i1 = source_info(good1);
	i2 = source_info(good2);
	assert_true(i1.selection == SOURCE_COMBINED || i1.selection == SOURCE_SYSTEM_PEER);
	assert_true(i2.selection == SOURCE_COMBINED || i2.selection == SOURCE_SYSTEM_PEER);
	peers = (i1.selection == SOURCE_SYSTEM_PEER) + (i2.selection == SOURCE_SYSTEM_PEER);
	assert_int_equal(peers, 1);
	/* the falseticker never moved the clock */
	assert_int_equal(calls_of(CALL_STEP), 0);
	assert_int_equal(tracking().state, SYNC_SYNCHRONIZED);
	assert_true(fabs(tracking().system_offset) < 0.001);
}

/* Every survivor feeds the discipline, but what is served downstream names
 * the system peer, even right after another survivor spoke. */
static void stratum_and_refid_follow_the_system_peer(void **state)
{
	struct engine_config cfg = default_config();
	struct fake_server *a, *b, *peer, *other;
	struct source_status peer_info;

	(void)state;
	start(&cfg);
	a = add_server(0.0001, 1);
	b = add_server(-0.0001, 3);
	run_for(600);
	peer = source_info(a).selection == SOURCE_SYSTEM_PEER ? a : b;
	other = peer == a ? b : a;
	assert_int_equal(source_info(peer).selection, SOURCE_SYSTEM_PEER);
	assert_int_equal(source_info(other).selection, SOURCE_COMBINED);

	w.true_now = timespec_add(w.true_now, 1);
	exchange(other);
	peer_info = source_info(peer);
	assert_int_equal(tracking().stratum, peer_info.stratum + 1);
	assert_int_equal(tracking().refid, refid_from_addr(&peer_info.addr));
	assert_int_equal(system_state().stratum, peer_info.stratum + 1);
	assert_int_equal(system_state().refid, refid_from_addr(&peer_info.addr));
}

/* Removing the system peer (pool replacement, reload) takes it out of what
 * is served at the next turn of the loop, without waiting for a reply. */
static void removing_the_system_peer_reselects(void **state)
{
	struct engine_config cfg = default_config();
	struct fake_server *s;

	(void)state;
	start(&cfg);
	s = add_server(0.0, 2);
	run_for(60);
	assert_int_equal(tracking().state, SYNC_SYNCHRONIZED);
	engine_remove_source(w.engine, s->id);
	assert_true(timespec_diff(engine_next_wakeup(w.engine), local_now()) <= 0.0);
	run_for(1);
	assert_int_equal(tracking().state, SYNC_UNSYNCHRONIZED);
	assert_unsynchronized_downstream();
}

/* the leap of 2016 and the one before, valid until 2017-06-28 */
static struct leap_table table_2017(void)
{
	struct leap_table t = { .expires = 1498608000 };

	leap_table_add(&t, 1435708800, 36);
	leap_table_add(&t, LEAP_MIDNIGHT, 37);
	return t;
}

/* Two servers on 2016-12-31 from `before` seconds before its end, announcing leap. */
static void start_leap_day(struct engine_config *cfg, double before, enum ntp_leap leap, bool table)
{
	struct leap_table t = table_2017();
	struct fake_server *a, *b;

	t0.tv_sec = LEAP_MIDNIGHT - (time_t)before;
	start(cfg);
	if (table)
		engine_set_leap_tables(w.engine, &t, 1);
	a = add_server(0.0, 2);
	b = add_server(0.0, 2);
	a->leap = leap;
	b->leap = leap;
}

static void announced_leap_second_reaches_the_clock(void **state)
{
	struct engine_config cfg = default_config();
	const struct call *status;

	(void)state;
	start_leap_day(&cfg, 7200, NTP_LEAP_INSERT, false);
	run_for(600);

	status = last_call(CALL_STATUS);
	assert_true(status->status.synchronized);
	assert_int_equal(status->status.leap, NTP_LEAP_INSERT);
	assert_int_equal(tracking().leap, NTP_LEAP_INSERT);
	assert_int_equal(system_state().leap, NTP_LEAP_INSERT);
}

/* ntpd announces a leap for the whole month: the kernel would insert it
 * at the end of the first day it hears of it. */
static void a_leap_announced_mid_month_waits(void **state)
{
	struct engine_config cfg = default_config();
	struct fake_server *a;

	(void)state;
	start(&cfg);
	a = add_server(0.0, 2);
	a->leap = NTP_LEAP_INSERT;
	run_for(600);
	assert_int_equal(last_call(CALL_STATUS)->status.leap, NTP_LEAP_NONE);
	assert_int_equal(system_state().leap, NTP_LEAP_NONE);
}

static unsigned outvoted_logs;

static void count_outvoted(void *ctx, enum log_level level, const char *message)
{
	(void)ctx;
	if (level == LOG_LEVEL_WARNING && strstr(message, "leap table says otherwise"))
		outvoted_logs++;
}

/* The table announces the leap no server announces, and says so once. */
static void the_table_announces_and_outvotes(void **state)
{
	struct engine_config cfg = default_config();

	(void)state;
	outvoted_logs = 0;
	log_set_sink(count_outvoted, NULL, LOG_LEVEL_DEBUG);
	start_leap_day(&cfg, 7200, NTP_LEAP_NONE, true);
	run_for(1200);
	log_set_sink(NULL, NULL, LOG_LEVEL_DEBUG);
	assert_int_equal(last_call(CALL_STATUS)->status.leap, NTP_LEAP_INSERT);
	assert_int_equal(system_state().leap, NTP_LEAP_INSERT);
	assert_int_equal(outvoted_logs, 1);
}

/* Served leap, stratum and refid before, at and after the leap second:
 * the leap bits go at midnight, stratum and refid stay. */
static void served_state_across_the_leap(void **state)
{
	struct engine_config cfg = default_config();
	struct engine_system before, after;

	(void)state;
	start_leap_day(&cfg, 600, NTP_LEAP_INSERT, true);
	run_for(599);
	engine_get_system(w.engine, &before);
	assert_int_equal(before.leap, NTP_LEAP_INSERT);
	assert_int_equal(before.stratum, 3);
	assert_int_equal(before.leap_when, LEAP_MIDNIGHT);
	assert_int_equal(before.leap_sign, 1);
	run_for(4);
	engine_get_system(w.engine, &after);
	assert_int_equal(after.leap, NTP_LEAP_NONE);
	assert_int_equal(after.stratum, 3);
	assert_int_equal(after.refid, before.refid);
	assert_int_equal(after.leap_when, LEAP_MIDNIGHT); /* the one that passed, for the smear */
}

/* the call that took the second, if any: |value + 1| small */
static const struct call *leap_call(enum call_kind kind)
{
	for (size_t i = 0; i < w.clock.count; i++)
		if (w.clock.calls[i].kind == kind && fabs(w.clock.calls[i].value + 1.0) < 0.01)
			return &w.clock.calls[i];
	return NULL;
}

static void leap_mode_run(enum leap_mode mode)
{
	struct engine_config cfg = default_config();

	cfg.leap_mode = mode;
	start_leap_day(&cfg, 600, NTP_LEAP_INSERT, true);
	run_for(599.5);
	/* nothing has taken the second before midnight */
	assert_null(leap_call(CALL_STEP));
	assert_null(leap_call(CALL_SLEW));
	assert_int_equal(last_call(CALL_STATUS)->status.leap, mode == LEAP_MODE_SYSTEM ? NTP_LEAP_INSERT : NTP_LEAP_NONE);
	run_for(1.0);
}

static void leap_mode_step_steps_at_midnight(void **state)
{
	(void)state;
	leap_mode_run(LEAP_MODE_STEP);
	assert_non_null(leap_call(CALL_STEP));
	assert_null(leap_call(CALL_SLEW));
	/* the clock reads the second before midnight again */
	assert_int_equal(local_now().tv_sec, LEAP_MIDNIGHT - 1);
}

/* A slew running at midnight: the step is exactly the second, and the
 * slew runs on after it rather than joining the step. */
static void leap_mode_step_keeps_the_slew_in_progress(void **state)
{
	struct engine_config cfg = default_config();
	struct clock_slew before, after;
	const struct call *step;

	(void)state;
	cfg.leap_mode = LEAP_MODE_STEP;
	start_leap_day(&cfg, 60, NTP_LEAP_INSERT, true);
	w.servers[0].ahead = w.servers[1].ahead = 0.05; /* slewed, not stepped */
	run_for(59.5);
	assert_int_equal(fake_slew_state(NULL, &before), 0);
	assert_true(fabs(before.pending) > 0.01);
	run_for(1.0);
	step = leap_call(CALL_STEP);
	assert_non_null(step);
	assert_true(fabs(step->value + 1.0) < 1e-9);
	assert_int_equal(fake_slew_state(NULL, &after), 0);
	/* a second's slew at most (500 ppm) went by, and none was lost */
	assert_true(fabs(after.pending - before.pending) <= 0.0006);
	assert_int_equal(local_now().tv_sec, LEAP_MIDNIGHT - 1);
}

/* A deleted second is 23:59:59, which the clock never shows: stepped
 * forward as it begins. (The servers announce it; the table has none.) */
static void leap_mode_step_deletes_23_59_59(void **state)
{
	struct engine_config cfg = default_config();
	size_t forward = 0;

	(void)state;
	cfg.leap_mode = LEAP_MODE_STEP;
	start_leap_day(&cfg, 600, NTP_LEAP_DELETE, false);
	run_for(598.5);
	assert_int_equal(system_state().leap, NTP_LEAP_DELETE);
	for (size_t i = 0; i < w.clock.count; i++)
		forward += w.clock.calls[i].kind == CALL_STEP && fabs(w.clock.calls[i].value - 1.0) < 0.01;
	assert_int_equal(forward, 0);
	run_for(1.0);
	for (size_t i = 0; i < w.clock.count; i++)
		forward += w.clock.calls[i].kind == CALL_STEP && fabs(w.clock.calls[i].value - 1.0) < 0.01;
	assert_int_equal(forward, 1);
	assert_int_equal(local_now().tv_sec, LEAP_MIDNIGHT);
	assert_int_equal(system_state().leap, NTP_LEAP_NONE);
}

static void leap_mode_slew_slews_from_midnight(void **state)
{
	(void)state;
	leap_mode_run(LEAP_MODE_SLEW);
	assert_null(leap_call(CALL_STEP));
	assert_non_null(leap_call(CALL_SLEW));
	assert_int_equal(local_now().tv_sec, LEAP_MIDNIGHT);
	/* the clock holds the second as a slew still to run */
	struct clock_slew st;

	assert_int_equal(fake_slew_state(NULL, &st), 0);
	assert_true(fabs(st.pending + 1.0) < 0.002);
}

static void leap_mode_system_and_ignore_leave_the_clock(void **state)
{
	(void)state;
	leap_mode_run(LEAP_MODE_SYSTEM);
	assert_null(leap_call(CALL_STEP));
	assert_null(leap_call(CALL_SLEW));
	stop(NULL);
	leap_mode_run(LEAP_MODE_IGNORE);
	assert_null(leap_call(CALL_STEP));
	assert_null(leap_call(CALL_SLEW));
	assert_int_equal(local_now().tv_sec, LEAP_MIDNIGHT);
}

/* tzdata replaced by one without the 2016 leap (a reload): the leap the
 * old table announced goes at the next clock update, and the clock is not
 * stepped at midnight. */
static void a_new_leap_table_decides_from_the_next_update(void **state)
{
	struct engine_config cfg = default_config();
	struct leap_table without = { .expires = 1498608000 };
	struct engine_tracking t;

	(void)state;
	cfg.leap_mode = LEAP_MODE_STEP;
	start_leap_day(&cfg, 7200, NTP_LEAP_NONE, true);
	run_for(1200);
	assert_int_equal(system_state().leap, NTP_LEAP_INSERT);
	t = tracking();
	assert_int_equal(t.leap_table_expires, 1498608000);
	assert_false(t.leap_table_expired);
	assert_int_equal(t.next_leap_when, LEAP_MIDNIGHT);
	assert_int_equal(t.next_leap_sign, 1);

	leap_table_add(&without, 1435708800, 36);
	engine_set_leap_tables(w.engine, &without, 1);
	assert_int_equal(tracking().next_leap_when, 0);
	/* announced until the next update decides again */
	assert_int_equal(system_state().leap, NTP_LEAP_INSERT);
	run_for(1200);
	assert_int_equal(system_state().leap, NTP_LEAP_NONE);
	assert_int_equal(tracking().leap, NTP_LEAP_NONE);
	run_for(4800 + 60);
	assert_true(local_now().tv_sec > LEAP_MIDNIGHT);
	assert_null(leap_call(CALL_STEP));
}

static void an_expired_table_is_reported_as_such(void **state)
{
	struct engine_config cfg = default_config();
	struct leap_table t = table_2017();

	(void)state;
	start(&cfg);
	assert_int_equal(tracking().leap_table_expires, 0);
	engine_set_leap_tables(w.engine, &t, 1);
	assert_int_equal(tracking().leap_table_expires, 1498608000);
	assert_true(tracking().leap_table_expired);
	assert_int_equal(tracking().next_leap_when, 0);
}

/* leap_mode system -> step by a reload before the leap: the kernel is told
 * no more at the next update, and the engine steps at midnight instead. */
static void a_reload_changes_the_leap_mode(void **state)
{
	struct engine_config cfg = default_config();

	(void)state;
	start_leap_day(&cfg, 7200, NTP_LEAP_INSERT, true);
	run_for(1200);
	assert_int_equal(last_call(CALL_STATUS)->status.leap, NTP_LEAP_INSERT);
	assert_int_equal(tracking().leap_mode, LEAP_MODE_SYSTEM);
	cfg.leap_mode = LEAP_MODE_STEP;
	engine_reconfigure(w.engine, &cfg);
	assert_int_equal(tracking().leap_mode, LEAP_MODE_STEP);
	run_for(1200);
	assert_int_equal(last_call(CALL_STATUS)->status.leap, NTP_LEAP_NONE);
	assert_int_equal(system_state().leap, NTP_LEAP_INSERT);
	assert_null(leap_call(CALL_STEP));
	run_for(4800 + 60);
	assert_non_null(leap_call(CALL_STEP));
}

/* A leap_mode changed by a reload after the leap leaves the smear after it
 * as it was: the clock took that second under the old mode. */
static void a_reload_after_the_leap_keeps_its_smear(void **state)
{
	struct engine_config cfg = default_config();

	(void)state;
	cfg.leap_smear = (struct leap_smear){ LEAP_SMEAR_QUADRATIC, LEAP_SMEAR_QUADRATIC_DEFAULT };
	start_leap_day(&cfg, 600, NTP_LEAP_INSERT, true);
	run_for(599);
	assert_true(system_state().leap_moves_clock);
	run_for(60);
	assert_int_equal(system_state().leap_when, LEAP_MIDNIGHT);
	cfg.leap_mode = LEAP_MODE_IGNORE;
	engine_reconfigure(w.engine, &cfg);
	assert_int_equal(system_state().leap_when, LEAP_MIDNIGHT);
	assert_true(system_state().leap_moves_clock);
}

/* Smeared time carries no leap bits: clients must not insert it again. */
static void smeared_service_announces_no_leap(void **state)
{
	struct engine_config cfg = default_config();
	struct engine_system sys;

	(void)state;
	cfg.leap_smear = (struct leap_smear){ LEAP_SMEAR_QUADRATIC, LEAP_SMEAR_QUADRATIC_DEFAULT };
	start_leap_day(&cfg, 600, NTP_LEAP_INSERT, true);
	run_for(300);
	engine_get_system(w.engine, &sys);
	assert_int_equal(sys.leap, NTP_LEAP_NONE);
	assert_int_equal(sys.leap_when, LEAP_MIDNIGHT);
	assert_int_equal(sys.smear.shape, LEAP_SMEAR_QUADRATIC);
	assert_int_equal(last_call(CALL_STATUS)->status.leap, NTP_LEAP_INSERT);
	assert_int_equal(tracking().leap, NTP_LEAP_INSERT);
}

/* A server that first answers a while after start (a network up late): the
 * step reset the offset's variance but kept its covariance with the
 * frequency, grown since start; the next update made the state NaN and the
 * slew of NaN seconds looped for ever in timespec_add. */
static void a_server_answering_late_is_used(void **state)
{
	struct engine_config cfg = default_config();
	struct fake_server *s;

	(void)state;
	start(&cfg);
	s = add_server(0.3, 2);
	s->silent = true;
	run_for(100);
	s->silent = false;
	run_for(600);
	assert_int_equal(tracking().state, SYNC_SYNCHRONIZED);
	assert_int_equal(calls_of(CALL_STEP), 1);
	assert_true(fabs(tracking().system_offset) < 0.001);
}

static unsigned no_answer_warnings;

static void count_no_answer(void *ctx, enum log_level level, const char *message)
{
	(void)ctx;
	if (level == LOG_LEVEL_WARNING && strstr(message, "no source has answered in "))
		no_answer_warnings++;
}

/* Issue 15: with no server ever answering the daemon stayed "starting"
 * without a word. Now it warns once, after 300 s of polling. */
static void silence_from_every_source_is_said_once(void **state)
{
	struct engine_config cfg = default_config();
	struct fake_server *a, *b;

	(void)state;
	start(&cfg);
	log_set_sink(count_no_answer, NULL, LOG_LEVEL_DEBUG);
	no_answer_warnings = 0;
	a = add_server(0.0, 2);
	b = add_server(0.0, 2);
	a->silent = b->silent = true;
	run_for(290);
	assert_int_equal(no_answer_warnings, 0);
	run_for(3600);
	assert_int_equal(no_answer_warnings, 1);
	assert_int_equal(tracking().reason, UNSYNC_STARTING);
	log_set_sink(NULL, NULL, LOG_LEVEL_DEBUG);
}

/* One answer, even long ago, and the sources are not silent: no warning. */
static void one_answer_is_enough_to_stay_quiet(void **state)
{
	struct engine_config cfg = default_config();
	struct fake_server *a;

	(void)state;
	start(&cfg);
	log_set_sink(count_no_answer, NULL, LOG_LEVEL_DEBUG);
	no_answer_warnings = 0;
	a = add_server(0.0, 2);
	run_for(10);
	a->silent = true;
	run_for(3600);
	assert_int_equal(no_answer_warnings, 0);
	log_set_sink(NULL, NULL, LOG_LEVEL_DEBUG);
}

/* Issue 15: a server synchronized to us (its refid is our address) was used
 * like any other, closing a timing loop. */
static void a_server_synchronized_to_us_is_refused(void **state)
{
	struct engine_config cfg = default_config();
	const uint32_t own[] = { 0x7f000001, UPSTREAM_REFID };
	struct fake_server *s;

	(void)state;
	start(&cfg);
	engine_set_own_refids(w.engine, own, 2);
	s = add_server(0.3, 2);
	run_for(20);
	assert_true(source_info(s).reach != 0);
	assert_true(source_info(s).loop);
	assert_int_equal(source_info(s).selection, SOURCE_UNUSABLE);
	assert_int_not_equal(tracking().state, SYNC_SYNCHRONIZED);
	assert_int_equal(clock_changing_calls(), 0);
	assert_unsynchronized_downstream();
	/* once it follows another reference, it is used */
	engine_set_own_refids(w.engine, own, 1);
	run_for(600);
	assert_false(source_info(s).loop);
	assert_int_equal(tracking().state, SYNC_SYNCHRONIZED);
}

/* makestep: once synchronized, the whole remaining correction goes in one
 * step through the clock seam, and the clock then reads the true time. */
static void makestep_steps_the_remaining_correction(void **state)
{
	struct engine_config cfg = default_config();
	struct fake_server *s;
	double offset;

	(void)state;
	start(&cfg);
	s = add_server(0.0, 2);
	assert_int_equal(engine_makestep(w.engine, local_now(), &offset), ENGINE_STEP_NOT_SYNCHRONIZED);
	assert_int_equal(calls_of(CALL_STEP), 0);
	run_for(600);
	assert_int_equal(calls_of(CALL_STEP), 0);
	/* the server moves 50 ms ahead: below step_threshold, so a slew begins */
	s->ahead = 0.05;
	run_for(200);
	assert_int_equal(calls_of(CALL_STEP), 0);
	assert_int_equal(engine_makestep(w.engine, local_now(), &offset), ENGINE_STEPPED);
	assert_int_equal(calls_of(CALL_STEP), 1);
	/* what the clock was told covers what the slews had not done yet */
	assert_float_equal(timespec_diff(timespec_add(w.true_now, s->ahead), local_now()), 0.0, 0.002);
	assert_true(fabs(tracking().system_offset) < 0.002);
	assert_int_equal(tracking().steps, 1);
	/* and the samples moved with the clock: the next ones agree */
	run_for(300);
	assert_int_equal(tracking().state, SYNC_SYNCHRONIZED);
	assert_true(fabs(source_info(s).offset) < 0.002);
}

static void makestep_without_adjust_leaves_the_clock_alone(void **state)
{
	struct engine_config cfg = default_config();
	double offset;

	(void)state;
	cfg.adjust = false;
	start(&cfg);
	add_server(0.3, 2);
	run_for(600);
	assert_int_equal(tracking().state, SYNC_SYNCHRONIZED);
	assert_int_equal(engine_makestep(w.engine, local_now(), &offset), ENGINE_STEP_NOT_ADJUSTING);
	assert_int_equal(w.clock.count, 0);
	assert_float_equal(offset, 0.0, 0.0);
}

/* offline: no request, the source keeps its reach and is never called
 * unreachable; online: polled at once. */
static void an_offline_source_is_not_polled(void **state)
{
	struct engine_config cfg = default_config();
	struct fake_server *s;
	struct ntp_packet request;
	uint8_t reach;

	(void)state;
	start(&cfg);
	s = add_server(0.0, 2);
	run_for(600);
	reach = source_info(s).reach;
	assert_int_not_equal(reach, 0);
	engine_set_online(w.engine, s->id, false, local_now());
	s->silent = true; /* would empty the reach register if it were polled */
	run_for(7200);
	assert_int_equal(source_info(s).reach, reach);
	assert_false(source_info(s).unreachable);
	assert_false(request_to(s, &request));
	s->silent = false;
	engine_set_online(w.engine, s->id, true, local_now());
	assert_float_equal(timespec_diff(true_time_of(engine_next_wakeup(w.engine)), w.true_now), 0.0, 1e-6);
	run_for(1);
	assert_int_equal(source_info(s).reach, (uint8_t)(reach << 1 | 1));
}

/* SIGHUP: the quorum, the limits and local_stratum act at once on a running engine. */
static void a_reload_changes_the_quorum_limits_and_local_stratum(void **state)
{
	struct engine_config cfg = default_config();

	(void)state;
	start(&cfg);
	add_server(0.0, 2);
	run_for(600);
	assert_int_equal(tracking().state, SYNC_SYNCHRONIZED);

	cfg.minsources = 2;
	engine_reconfigure(w.engine, &cfg);
	run_for(1);
	assert_int_equal(tracking().state, SYNC_UNSYNCHRONIZED);
	assert_int_equal(tracking().reason, UNSYNC_QUORUM_NOT_MET);

	cfg.local_stratum = 10;
	engine_reconfigure(w.engine, &cfg);
	assert_int_equal(tracking().state, SYNC_LOCAL);
	assert_int_equal(tracking().stratum, 10);

	/* back to one source, but a distance limit its ~3 ms cannot meet */
	cfg = default_config();
	cfg.max_distance = 0.001;
	engine_reconfigure(w.engine, &cfg);
	run_for(1);
	assert_int_equal(tracking().state, SYNC_UNSYNCHRONIZED);
	assert_int_equal(tracking().reason, UNSYNC_NO_SOURCES);

	/* synchronized again with the source's next sample (within maxpoll) */
	cfg.max_distance = 1.5;
	engine_reconfigure(w.engine, &cfg);
	run_for(1100);
	assert_int_equal(tracking().state, SYNC_SYNCHRONIZED);
}

/* The source table has no fixed size (it was 64): 300 sources get their
 * own ids, a freed id is used again, and a selection round takes them all. */
static void the_source_table_grows(void **state)
{
	struct engine_config cfg = default_config();
	int ids[300];

	(void)state;
	start(&cfg);
	for (int i = 0; i < 300; i++) {
		char text[32];
		struct source_config sc = { .minpoll = 6, .maxpoll = 10 };

		snprintf(text, sizeof(text), "10.0.%d.%d", i / 250, i % 250 + 1);
		assert_true(netaddr_parse(text, &sc.addr));
		sc.addr.port = 123;
		ids[i] = engine_add_source(w.engine, &sc, local_now());
		assert_true(ids[i] >= 0);
		for (int k = 0; k < i; k++)
			assert_int_not_equal(ids[k], ids[i]);
	}
	assert_true(engine_source_capacity(w.engine) >= 300);
	engine_remove_source(w.engine, ids[123]);
	assert_false(engine_source_exists(w.engine, ids[123]));
	{
		struct source_config sc = { .minpoll = 6, .maxpoll = 10 };

		assert_true(netaddr_parse("10.9.9.9", &sc.addr));
		assert_int_equal(engine_add_source(w.engine, &sc, local_now()), ids[123]);
	}
	/* every one is due (the removal's selection round runs over the whole
	 * table first), each in its turn, and each builds its request */
	{
		static bool polled[400];
		uint8_t request[SOURCE_REQUEST_MAX];

		for (int i = 0; i < 300; i++) {
			int due;

			/* (a microsecond on: true and local time round apart by a nanosecond) */
			w.true_now = timespec_add(true_time_of(engine_next_wakeup(w.engine)), 1e-6);
			due = engine_due_request(w.engine, local_now());
			assert_true(due >= 0 && due < 400 && !polled[due]);
			polled[due] = true;
			assert_int_equal(engine_build_request(w.engine, due, local_now(), request), NTP_HEADER_LEN);
		}
	}
	assert_int_equal(tracking().state, SYNC_UNSYNCHRONIZED);
}

/* A reference clock: a stratum-0 source fed by engine_refclock_poll. */
static int add_refclock(const char *refid)
{
	struct source_config cfg = { .name = refid, .minpoll = 4, .maxpoll = 4, .refclock = true,
				     .refid = refid_from_name(refid), .refclock_precision = -20 };
	int id = engine_add_source(w.engine, &cfg, local_now());

	assert_true(id >= 0);
	return id;
}

/* count polls of 16 s of the refclocks ids[0..n), each aheads[k] seconds
 * off the true time (NAN: it delivers nothing). */
static void refclock_polls(const int *ids, const double *aheads, size_t n, unsigned count)
{
	for (unsigned p = 0; p < count; p++) {
		w.true_now = timespec_add(w.true_now, 16.0);
		for (size_t k = 0; k < n; k++) {
			struct timespec local = local_now();
			struct filter_sample sample = {
				.offset = timespec_diff(w.true_now, local) + aheads[k],
				.delay = 1e-9, .dispersion = 1e-6, .time = local,
			};

			/* as refclocks.c keeps readings */
			engine_reading_unadjusted(w.engine, &sample.time, &sample.offset);

			engine_refclock_poll(w.engine, ids[k], isnan(aheads[k]) ? NULL : &sample, NTP_LEAP_NONE, local);
		}
	}
}

static struct source_status refclock_info(int id)
{
	struct source_status info;

	assert_true(engine_get_source(w.engine, id, local_now(), &info));
	return info;
}

static void a_refclock_is_stratum_0_and_makes_us_stratum_1(void **state)
{
	struct engine_config cfg = default_config();
	int id;
	double ahead = 0.0005;
	struct engine_system sys;
	char refid[5];

	(void)state;
	start(&cfg);
	id = add_refclock("GPS");
	refclock_polls(&id, &ahead, 1, 20);
	sys = system_state();
	refid_ascii(sys.refid, refid);
	assert_int_equal(sys.stratum, 1);
	assert_string_equal(refid, "GPS");
	assert_true(refclock_info(id).refclock);
	assert_int_equal(refclock_info(id).stratum, 0);
	assert_int_equal(refclock_info(id).selection, SOURCE_SYSTEM_PEER);
	assert_int_equal(refclock_info(id).reach, 0377);
	/* it disciplines the clock as an NTP source would: slewed onto it */
	assert_null(first_call(CALL_STEP));
	assert_float_equal(tracking().system_offset, 0.0, 1e-4);
}

/* A PPS-like refclock read every second, four readings a poll, as
 * refclocks.c keeps them (engine_reading_unadjusted): the 500 ppm slew that runs
 * between the readings of one poll must not bias its sample, and the
 * scatter of a poll's readings is the sample's noise, or each poll
 * over-corrects the last and the clock swings (seen in the VM's PPS
 * scenario: the frequency between -50 and +103 ppm, the offset +-3.5 ms
 * around the pulses). */
static void refclock_readings_taken_during_a_slew_agree(void **state)
{
	struct engine_config cfg = default_config();
	struct refclock_filter filter;
	struct refclock_filter_sample fs;
	double worst_late = 0.0;
	int id;

	(void)state;
	start(&cfg);
	sim_clock_init(&w.clock.sim, t0.tv_sec, -0.008, 30.0, 0.0, NULL);
	{
		struct source_config sc = { .name = "PPS", .minpoll = 2, .maxpoll = 2, .refclock = true,
					    .refid = refid_from_name("PPS"), .refclock_precision = -20 };

		id = engine_add_source(w.engine, &sc, local_now());
		assert_true(id >= 0);
	}
	refclock_filter_init(&filter, 64);
	for (int second = 1; second <= 600; second++) {
		struct timespec local;
		struct refclock_reading r;

		w.true_now = timespec_add(w.true_now, 1.0);
		local = local_now();
		r = (struct refclock_reading){ .time = local, .offset = timespec_diff(w.true_now, local) };
		engine_reading_unadjusted(w.engine, &r.time, &r.offset);
		refclock_filter_add(&filter, &r);
		if (second % 4 == 0 && refclock_filter_take(&filter, 1e-6, 1e-9, &fs)) {
			struct filter_sample sample = { .offset = fs.offset, .delay = fs.delay,
							.dispersion = fs.dispersion, .time = fs.time };

			engine_refclock_poll(w.engine, id, &sample, NTP_LEAP_NONE, local);
		}
		if (second > 300)
			worst_late = fmax(worst_late, fabs(timespec_diff(w.true_now, local_now())));
	}
	assert_null(first_call(CALL_STEP));
	/* 8 ms slewed away within the first minutes, then no swing */
	assert_true(worst_late < 100e-6);
}

static void a_refclock_that_stops_delivering_is_unreachable(void **state)
{
	struct engine_config cfg = default_config();
	int id;
	double ahead = 0.0, silent = NAN;

	(void)state;
	start(&cfg);
	id = add_refclock("GPS");
	refclock_polls(&id, &ahead, 1, 10);
	assert_int_equal(system_state().stratum, 1);
	refclock_polls(&id, &silent, 1, 7);
	assert_int_equal(refclock_info(id).selection, SOURCE_SYSTEM_PEER); /* the old samples still hold */
	refclock_polls(&id, &silent, 1, 1);
	assert_int_equal(refclock_info(id).selection, SOURCE_UNREACHABLE);
	assert_int_equal(refclock_info(id).reach, 0);
	assert_int_equal(tracking().reason, UNSYNC_NO_SOURCES);
	assert_unsynchronized_downstream();
}

static void a_gps_a_second_off_is_a_falseticker_not_a_step(void **state)
{
	struct engine_config cfg = default_config();
	int ids[3];
	double aheads[3] = { 0.0, 0.0002, 1.0 };

	(void)state;
	start(&cfg);
	ids[0] = add_refclock("PPS");
	ids[1] = add_refclock("PHC");
	ids[2] = add_refclock("GPS");
	refclock_polls(ids, aheads, 3, 20);
	assert_int_equal(refclock_info(ids[2]).selection, SOURCE_FALSETICKER);
	assert_int_equal(system_state().stratum, 1);
	assert_null(first_call(CALL_STEP));
	assert_float_equal(tracking().system_offset, 0.0001, 2e-4);
}

static void a_gps_a_year_off_alone_is_insane_time_not_a_step(void **state)
{
	struct engine_config cfg = default_config();
	int id;
	double ahead = 365 * 86400.0;

	(void)state;
	start(&cfg);
	id = add_refclock("GPS");
	refclock_polls(&id, &ahead, 1, 5);
	assert_null(first_call(CALL_STEP));
	assert_int_equal(tracking().reason, UNSYNC_INSANE_TIME);
	assert_unsynchronized_downstream();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(due_at_start_and_request_is_client_v4_with_nonce, stop),
		cmocka_unit_test_teardown(requests_leave_spaced_by_the_poll, stop),
		cmocka_unit_test_teardown(poll_intervals_are_randomly_longer, stop),
		cmocka_unit_test_teardown(reply_with_wrong_origin_is_ignored, stop),
		cmocka_unit_test_teardown(steps_once_to_a_server_ahead_then_tracks_it, stop),
		cmocka_unit_test_teardown(served_dispersion_grows_from_the_last_update_not_the_filtered_sample, stop),
		cmocka_unit_test_teardown(without_adjust_measures_and_never_touches_the_clock, stop),
		cmocka_unit_test_teardown(without_sources_stays_starting_and_unsynchronized, stop),
		cmocka_unit_test_teardown(a_source_gone_silent_leaves_no_usable_source, stop),
		cmocka_unit_test_teardown(quorum_not_met_leaves_the_clock_alone, stop),
		cmocka_unit_test_teardown(insane_time_is_refused, stop),
		cmocka_unit_test_teardown(unsynchronized_server_is_shown_reachable, stop),
		cmocka_unit_test_teardown(local_stratum_serves_the_local_clock_without_sources, stop),
		cmocka_unit_test_teardown(kod_deny_stops_the_source, stop),
		cmocka_unit_test_teardown(kod_deny_from_the_system_peer_unsynchronizes, stop),
		cmocka_unit_test_teardown(kod_rate_raises_the_poll, stop),
		cmocka_unit_test_teardown(falseticker_is_voted_out, stop),
		cmocka_unit_test_teardown(stratum_and_refid_follow_the_system_peer, stop),
		cmocka_unit_test_teardown(removing_the_system_peer_reselects, stop),
		cmocka_unit_test_teardown(announced_leap_second_reaches_the_clock, stop),
		cmocka_unit_test_teardown(a_leap_announced_mid_month_waits, stop),
		cmocka_unit_test_teardown(the_table_announces_and_outvotes, stop),
		cmocka_unit_test_teardown(served_state_across_the_leap, stop),
		cmocka_unit_test_teardown(leap_mode_step_steps_at_midnight, stop),
		cmocka_unit_test_teardown(leap_mode_step_keeps_the_slew_in_progress, stop),
		cmocka_unit_test_teardown(leap_mode_step_deletes_23_59_59, stop),
		cmocka_unit_test_teardown(leap_mode_slew_slews_from_midnight, stop),
		cmocka_unit_test_teardown(leap_mode_system_and_ignore_leave_the_clock, stop),
		cmocka_unit_test_teardown(smeared_service_announces_no_leap, stop),
		cmocka_unit_test_teardown(a_server_answering_late_is_used, stop),
		cmocka_unit_test_teardown(silence_from_every_source_is_said_once, stop),
		cmocka_unit_test_teardown(makestep_steps_the_remaining_correction, stop),
		cmocka_unit_test_teardown(makestep_without_adjust_leaves_the_clock_alone, stop),
		cmocka_unit_test_teardown(an_offline_source_is_not_polled, stop),
		cmocka_unit_test_teardown(one_answer_is_enough_to_stay_quiet, stop),
		cmocka_unit_test_teardown(a_server_synchronized_to_us_is_refused, stop),
		cmocka_unit_test_teardown(a_reload_changes_the_quorum_limits_and_local_stratum, stop),
		cmocka_unit_test_teardown(a_new_leap_table_decides_from_the_next_update, stop),
		cmocka_unit_test_teardown(an_expired_table_is_reported_as_such, stop),
		cmocka_unit_test_teardown(a_reload_changes_the_leap_mode, stop),
		cmocka_unit_test_teardown(a_reload_after_the_leap_keeps_its_smear, stop),
		cmocka_unit_test_teardown(the_source_table_grows, stop),
		cmocka_unit_test_teardown(a_refclock_is_stratum_0_and_makes_us_stratum_1, stop),
		cmocka_unit_test_teardown(refclock_readings_taken_during_a_slew_agree, stop),
		cmocka_unit_test_teardown(a_refclock_that_stops_delivering_is_unreachable, stop),
		cmocka_unit_test_teardown(a_gps_a_second_off_is_a_falseticker_not_a_step, stop),
		cmocka_unit_test_teardown(a_gps_a_year_off_alone_is_insane_time_not_a_step, stop),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
