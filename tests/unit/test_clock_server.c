/* The clock process's request checks (clock_server.c), on the real Linux
 * clock code with an injected syscall: a sane request reaches clock_adjtime
 * as the struct timex it should be, an insane or malformed one never does.
 * Then the same over a real socketpair, the engine's proxy on one end. */
#include "cmocka_all.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock_proxy.h"
#include "clock_server.h"
#include "linux_clock.h"
#include "log.h"

static struct timex last_call;
static int call_count;
static int log_count;

/* Counts and keeps the calls that change the clock; a slew also reads what
 * the kernel holds first (ADJ_OFFSET_SS_READ), which changes nothing and
 * here answers the last single-shot slew, as if none of it had run yet. */
static int fake_adjtime(clockid_t clock, struct timex *tx)
{
	static long held_us;

	(void)clock;
	if (tx->modes == ADJ_OFFSET_SS_READ) {
		tx->offset = held_us;
		return TIME_OK;
	}
	if (tx->modes == ADJ_OFFSET_SINGLESHOT)
		held_us = tx->offset;
	last_call = *tx;
	call_count++;
	return TIME_OK;
}

static void count_log(void *ctx, enum log_level level, const char *message)
{
	(void)ctx;
	(void)level;
	(void)message;
	log_count++;
}

static struct linux_clock *lc;
static struct clock_server srv;

static int setup_panic(double panic, bool allow_initial)
{
	call_count = 0;
	log_count = 0;
	memset(&last_call, 0, sizeof(last_call));
	log_set_sink(count_log, NULL, LOG_LEVEL_DEBUG);
	lc = linux_clock_create(fake_adjtime, true);
	srv = (struct clock_server){ .clock = linux_clock_ops(lc), .limits = clock_limits_for(panic, allow_initial) };
	return lc ? 0 : -1;
}

static int setup(void **state)
{
	(void)state;
	return setup_panic(1000.0, false);
}

static int setup_insane_allowed(void **state)
{
	(void)state;
	return setup_panic(1000.0, true);
}

static int teardown(void **state)
{
	(void)state;
	linux_clock_destroy(lc);
	return 0;
}

static int ask(uint32_t op, double value)
{
	struct clock_request rq;
	struct clock_reply reply;

	memset(&rq, 0, sizeof(rq));
	rq.op = op;
	rq.value = value;
	clock_server_handle(&srv, &rq, sizeof(rq), &reply);
	return reply.result;
}

static int ask_status(const struct clock_status *status)
{
	struct clock_request rq;
	struct clock_reply reply;

	memset(&rq, 0, sizeof(rq));
	rq.op = CLOCK_WIRE_SET_STATUS;
	memcpy(&rq.status, status, sizeof(*status));
	clock_server_handle(&srv, &rq, sizeof(rq), &reply);
	return reply.result;
}

static void test_sane_step_reaches_the_clock(void **state)
{
	(void)state;
	assert_int_equal(ask(CLOCK_WIRE_STEP, -0.25), 0);
	assert_int_equal(call_count, 1);
	assert_int_equal(last_call.modes, ADJ_SETOFFSET | ADJ_NANO);
	assert_int_equal(last_call.time.tv_sec, -1);
	assert_int_equal(last_call.time.tv_usec, 750000000);
}

static void test_step_is_bounded_by_twice_the_panic_threshold(void **state)
{
	(void)state;
	assert_int_equal(ask(CLOCK_WIRE_STEP, 1999.0), 0);
	assert_int_equal(ask(CLOCK_WIRE_STEP, 2001.0), -EINVAL);
	assert_int_equal(ask(CLOCK_WIRE_STEP, -1e9), -EINVAL);
	assert_int_equal(ask(CLOCK_WIRE_STEP, NAN), -EINVAL);
	assert_int_equal(ask(CLOCK_WIRE_STEP, INFINITY), -EINVAL);
	assert_int_equal(call_count, 1);
}

static void test_initial_insane_step_only_once(void **state)
{
	(void)state;
	assert_int_equal(ask(CLOCK_WIRE_STEP, 1.7e9), 0);
	assert_int_equal(last_call.time.tv_sec, 1700000000);
	assert_int_equal(ask(CLOCK_WIRE_STEP, 1.7e9), -EINVAL);
	assert_int_equal(ask(CLOCK_WIRE_STEP, 1500.0), 0);
	assert_int_equal(call_count, 2);
}

static void test_no_guard_leaves_the_linux_limits(void **state)
{
	(void)state;
	teardown(NULL);
	setup_panic(0.0, false);
	assert_int_equal(ask(CLOCK_WIRE_STEP, 1.7e9), 0);
	assert_int_equal(ask(CLOCK_WIRE_STEP, 2e12), -EINVAL);
	assert_int_equal(ask(CLOCK_WIRE_SLEW, 2000.0), 0);
	assert_int_equal(ask(CLOCK_WIRE_SLEW, 2200.0), -EINVAL);
	assert_int_equal(call_count, 2);
}

static void test_slew_is_bounded(void **state)
{
	(void)state;
	assert_int_equal(ask(CLOCK_WIRE_SLEW, 0.125), 0);
	assert_int_equal(last_call.modes, ADJ_OFFSET_SINGLESHOT);
	assert_int_equal(last_call.offset, 125000);
	assert_int_equal(ask(CLOCK_WIRE_SLEW, 2001.0), -EINVAL);
	assert_int_equal(ask(CLOCK_WIRE_SLEW, NAN), -EINVAL);
	assert_int_equal(call_count, 1);
}

static void test_frequency_within_500_ppm(void **state)
{
	(void)state;
	assert_int_equal(ask(CLOCK_WIRE_SET_FREQUENCY, -499.5), 0);
	assert_int_equal(last_call.modes, ADJ_FREQUENCY);
	assert_int_equal(last_call.freq, lround(-499.5 * 65536.0));
	assert_int_equal(ask(CLOCK_WIRE_SET_FREQUENCY, 500.0), 0);
	assert_int_equal(ask(CLOCK_WIRE_SET_FREQUENCY, 500.001), -EINVAL);
	assert_int_equal(ask(CLOCK_WIRE_SET_FREQUENCY, -1e6), -EINVAL);
	assert_int_equal(ask(CLOCK_WIRE_SET_FREQUENCY, NAN), -EINVAL);
	assert_int_equal(call_count, 2);
}

static void test_status_checked(void **state)
{
	struct clock_status ok = { .synchronized = true, .leap = NTP_LEAP_INSERT, .max_error = 0.5,
				   .est_error = 0.001 };
	struct clock_status bad;
	unsigned char two = 2;

	(void)state;
	assert_int_equal(ask_status(&ok), 0);
	assert_int_equal(last_call.status, STA_INS);
	assert_int_equal(last_call.maxerror, 500000);

	bad = ok;
	bad.leap = NTP_LEAP_UNSYNC;
	assert_int_equal(ask_status(&bad), -EINVAL);
	bad = ok;
	bad.leap = (enum ntp_leap)77;
	assert_int_equal(ask_status(&bad), -EINVAL);
	bad = ok;
	memcpy(&bad.synchronized, &two, 1);
	assert_int_equal(ask_status(&bad), -EINVAL);
	bad = ok;
	bad.max_error = -1.0;
	assert_int_equal(ask_status(&bad), -EINVAL);
	bad = ok;
	bad.est_error = INFINITY;
	assert_int_equal(ask_status(&bad), -EINVAL);
	bad = ok;
	bad.max_error = NAN;
	assert_int_equal(ask_status(&bad), -EINVAL);
	assert_int_equal(call_count, 1);
	/* large but sane: the clock caps it at its own limit */
	bad = ok;
	bad.max_error = 1000.0;
	assert_int_equal(ask_status(&bad), 0);
	assert_int_equal(last_call.maxerror, 16000000);
}

static void test_malformed_messages_refused(void **state)
{
	unsigned char msg[sizeof(struct clock_request) + 8];
	struct clock_request rq = { .op = CLOCK_WIRE_SLEW, .value = 0.001 };
	struct clock_reply reply;

	(void)state;
	memset(msg, 0, sizeof(msg));
	memcpy(msg, &rq, sizeof(rq));
	clock_server_handle(&srv, msg, sizeof(rq) - 1, &reply);
	assert_int_equal(reply.result, -EINVAL);
	clock_server_handle(&srv, msg, sizeof(rq) + 1, &reply);
	assert_int_equal(reply.result, -EINVAL);
	clock_server_handle(&srv, msg, 0, &reply);
	assert_int_equal(reply.result, -EINVAL);
	assert_int_equal(ask(CLOCK_WIRE_OPS, 0.0), -EINVAL);
	assert_int_equal(ask(0xffffffffu, 0.0), -EINVAL);
	assert_int_equal(call_count, 0);
	clock_server_handle(&srv, msg, sizeof(rq), &reply);
	assert_int_equal(reply.result, 0);
	assert_int_equal(call_count, 1);
}

static void test_refusals_are_logged_a_few_times_only(void **state)
{
	(void)state;
	for (int i = 0; i < 1000; i++)
		assert_int_equal(ask(CLOCK_WIRE_SET_FREQUENCY, 1e9), -EINVAL);
	assert_int_equal(log_count, 10);
}

static void *serve(void *arg)
{
	return (void *)(intptr_t)clock_server_run(&srv, *(int *)arg);
}

/* The whole channel: proxy, SOCK_SEQPACKET, server, fake syscall. */
static void test_over_the_socketpair(void **state)
{
	int fds[2];
	pthread_t thread;
	struct clock_proxy proxy;
	struct clock_ops ops;
	struct clock_status status = { .synchronized = false };
	unsigned char big[sizeof(struct clock_request) + 16] = { 0 };
	struct clock_reply reply;
	struct clock_slew slew, direct;
	void *ret;

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds), 0);
	assert_int_equal(pthread_create(&thread, NULL, serve, &fds[1]), 0);
	ops = clock_proxy_ops(&proxy, fds[0]);
	assert_int_equal(ops.step(ops.ctx, 0.5), 0);
	assert_int_equal(last_call.time.tv_usec, 500000000);
	assert_int_equal(ops.set_frequency(ops.ctx, 12.5), 0);
	assert_int_equal(last_call.freq, lround(12.5 * 65536.0));
	assert_int_equal(ops.set_frequency(ops.ctx, 700.0), -EINVAL);
	assert_int_equal(ops.set_status(ops.ctx, &status), 0);
	assert_int_equal(last_call.status, STA_UNSYNC);
	assert_int_equal(call_count, 3);
	/* an oversized message is one message: refused whole, not read in parts */
	assert_int_equal(send(fds[0], big, sizeof(big), 0), (ssize_t)sizeof(big));
	assert_int_equal(recv(fds[0], &reply, sizeof(reply), 0), (ssize_t)sizeof(reply));
	assert_int_equal(reply.result, -EINVAL);
	assert_int_equal(call_count, 3);
	/* the slew in progress is the clock process's to tell: it made it */
	assert_int_equal(ops.slew(ops.ctx, 0.002), 0);
	assert_int_equal(ops.slew_state(ops.ctx, &slew), 0);
	assert_int_equal(srv.clock.slew_state(srv.clock.ctx, &direct), 0);
	assert_true(slew.pending >= 0.002); /* what the kernel holds, and this second's chunk */
	assert_float_equal(slew.pending, direct.pending, 1e-5); /* read a moment apart */
	assert_float_equal(slew.rate, direct.rate, 1e-12);
	close(fds[0]);
	pthread_join(thread, &ret);
	assert_int_equal((intptr_t)ret, 0);
	close(fds[1]);
}

/* A clock process that is gone: the change fails and the daemon is told to
 * stop (SIGTERM to itself, ignored here), once. */
static void test_proxy_without_clock_process(void **state)
{
	int fds[2];
	struct clock_proxy proxy;
	struct clock_ops ops;
	void (*old)(int) = signal(SIGTERM, SIG_IGN);

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds), 0);
	ops = clock_proxy_ops(&proxy, fds[0]);
	close(fds[1]);
	assert_int_equal(ops.slew(ops.ctx, 0.001), -EPIPE);
	assert_true(proxy.lost);
	assert_int_equal(log_count, 1);
	assert_int_equal(ops.step(ops.ctx, 0.001), -EPIPE);
	assert_int_equal(log_count, 1);
	close(fds[0]);
	signal(SIGTERM, old);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_sane_step_reaches_the_clock, setup, teardown),
		cmocka_unit_test_setup_teardown(test_step_is_bounded_by_twice_the_panic_threshold, setup, teardown),
		cmocka_unit_test_setup_teardown(test_initial_insane_step_only_once, setup_insane_allowed, teardown),
		cmocka_unit_test_setup_teardown(test_no_guard_leaves_the_linux_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_slew_is_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_frequency_within_500_ppm, setup, teardown),
		cmocka_unit_test_setup_teardown(test_status_checked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed_messages_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refusals_are_logged_a_few_times_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_over_the_socketpair, setup, teardown),
		cmocka_unit_test_setup_teardown(test_proxy_without_clock_process, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
