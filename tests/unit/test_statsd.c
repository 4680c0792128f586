#include "cmocka_all.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "ntp_time.h"
#include "statsd.h"

/* A collector on a loopback port the kernel picks. */
static int collector_open(struct net_addr *addr)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	assert_true(netaddr_from_sockaddr((struct sockaddr *)&sin, len, addr));
	return fd;
}

static ssize_t collector_read(int fd, char *buf, size_t len)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	ssize_t n;

	if (poll(&p, 1, 2000) != 1)
		return -1;
	n = recv(fd, buf, len - 1, 0);
	if (n >= 0)
		buf[n] = '\0';
	return n;
}

static bool collector_quiet(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, 50) == 0;
}

static int warnings;

static void count_warnings(void *ctx, enum log_level level, const char *message)
{
	(void)ctx;
	(void)message;
	warnings += level <= LOG_LEVEL_WARNING;
}

static const struct timespec t0 = { 1700000000, 0 };

static void sends_on_schedule(void **state)
{
	(void)state;
	struct net_addr addr;
	int fd = collector_open(&addr);
	struct engine_tracking tracking = { .stratum = 2, .steps = 3 };
	struct serve_counters serve = { .answered = 10 };
	struct metrics_snapshot snap = { &tracking, NULL, 0, &serve };
	char buf[2048];

	assert_true(statsd_init(&addr, "p", 10, t0));
	assert_false(statsd_due(t0));
	assert_int_equal(statsd_next_due(t0).tv_sec, t0.tv_sec + 10);
	assert_false(statsd_due(timespec_add(t0, 9.999)));
	assert_true(statsd_due(timespec_add(t0, 10)));

	/* the loop was 3 s late: the next send stays on the 10 s grid */
	statsd_send(&snap, timespec_add(t0, 13));
	assert_int_equal(statsd_next_due(timespec_add(t0, 13)).tv_sec, t0.tv_sec + 20);
	assert_true(collector_read(fd, buf, sizeof(buf)) > 0);
	assert_non_null(strstr(buf, "p.stratum:2|g\n"));
	assert_non_null(strstr(buf, "p.clock_steps:3|c\n"));
	assert_non_null(strstr(buf, "\np.server.answered:10|c"));

	serve.answered = 15;
	statsd_send(&snap, timespec_add(t0, 20));
	assert_true(collector_read(fd, buf, sizeof(buf)) > 0);
	assert_non_null(strstr(buf, "\np.server.answered:5|c"));

	/* a loop that fell behind by several intervals sends once, then waits a full interval */
	statsd_send(&snap, timespec_add(t0, 75));
	assert_int_equal(statsd_next_due(timespec_add(t0, 75)).tv_sec, t0.tv_sec + 85);

	/* the clock went back a day: the schedule restarts from now */
	assert_int_equal(statsd_next_due(timespec_add(t0, -86400)).tv_sec, t0.tv_sec - 86400 + 10);
	statsd_fini();
	assert_false(statsd_due(timespec_add(t0, 1e6)));
	close(fd);
}

static void a_dead_collector_costs_nothing(void **state)
{
	(void)state;
	struct net_addr addr;
	int fd = collector_open(&addr);
	struct engine_tracking tracking = { .stratum = 16 };
	struct metrics_snapshot snap = { &tracking, NULL, 0, NULL };
	char buf[2048];

	close(fd); /* nobody listens on that port now: sends get ECONNREFUSED */
	log_set_sink(count_warnings, NULL, LOG_LEVEL_DEBUG);
	assert_true(statsd_init(&addr, "p", 1, t0));
	for (int i = 1; i <= 20; i++)
		statsd_send(&snap, timespec_add(t0, i));
	assert_int_equal(warnings, 0);
	log_set_sink(NULL, NULL, LOG_LEVEL_DEBUG);

	/* the collector comes back on the same port and gets the next send */
	struct sockaddr_storage ss;
	socklen_t len = netaddr_to_sockaddr(&addr, &ss);
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&ss, len), 0);
	assert_true(collector_quiet(fd));
	statsd_send(&snap, timespec_add(t0, 21));
	assert_true(collector_read(fd, buf, sizeof(buf)) > 0);
	assert_non_null(strstr(buf, "p.stratum:16|g"));
	statsd_fini();
	close(fd);
}

static void bad_settings_are_refused(void **state)
{
	(void)state;
	struct net_addr addr;
	char long_prefix[STATSD_PREFIX_MAX + 2];

	assert_true(netaddr_parse("127.0.0.1", &addr));
	addr.port = 8125;
	memset(long_prefix, 'a', sizeof(long_prefix) - 1);
	long_prefix[sizeof(long_prefix) - 1] = '\0';
	assert_false(statsd_init(&addr, long_prefix, 10, t0));
	assert_false(statsd_init(&addr, "p", 0, t0));
	assert_false(statsd_due(timespec_add(t0, 1e6)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sends_on_schedule),
		cmocka_unit_test(a_dead_collector_costs_nothing),
		cmocka_unit_test(bad_settings_are_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
