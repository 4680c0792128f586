#include "autoconfig.h"

#include "cmocka_all.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "notify.h"

#ifdef HAVE_LIBSYSTEMD
/* A stand-in for the service manager's notification socket. */
static int manager_fd = -1;
static char manager_path[108];

static int manager_open(void **state)
{
	(void)state;
	struct sockaddr_un sun = { .sun_family = AF_UNIX };

	snprintf(manager_path, sizeof(manager_path), "/tmp/strata-notify-%ld", (long)getpid());
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", manager_path);
	unlink(manager_path);
	manager_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (manager_fd < 0 || bind(manager_fd, (struct sockaddr *)&sun, sizeof(sun)) < 0)
		return -1;
	return setenv("NOTIFY_SOCKET", manager_path, 1);
}

static int manager_close(void **state)
{
	(void)state;
	close(manager_fd);
	unlink(manager_path);
	return unsetenv("NOTIFY_SOCKET");
}

static void manager_expect(const char *expected)
{
	struct pollfd p = { .fd = manager_fd, .events = POLLIN };
	char buf[512];
	ssize_t n;

	assert_int_equal(poll(&p, 1, 2000), 1);
	n = recv(manager_fd, buf, sizeof(buf) - 1, 0);
	assert_true(n > 0);
	buf[n] = '\0';
	assert_string_equal(buf, expected);
}

static void ready_carries_the_status(void **state)
{
	(void)state;
	notify_ready("serving, 2 sources");
	manager_expect("READY=1\nSTATUS=serving, 2 sources");
	notify_status("synchronized\nto x");
	manager_expect("STATUS=synchronized to x");
	notify_stopping();
	manager_expect("STOPPING=1");
}

static void reloading_carries_a_monotonic_time(void **state)
{
	(void)state;
	struct pollfd p = { .fd = manager_fd, .events = POLLIN };
	char buf[512];
	unsigned long long usec;
	ssize_t n;

	notify_reloading();
	assert_int_equal(poll(&p, 1, 2000), 1);
	n = recv(manager_fd, buf, sizeof(buf) - 1, 0);
	assert_true(n > 0);
	buf[n] = '\0';
	assert_int_equal(sscanf(buf, "RELOADING=1\nMONOTONIC_USEC=%llu", &usec), 1);
	assert_true(usec > 0);
}
#endif

static void without_a_manager_nothing_happens(void **state)
{
	(void)state;
	unsetenv("NOTIFY_SOCKET");
	notify_ready("x");
	notify_status("y");
	notify_reloading();
	notify_stopping();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#ifdef HAVE_LIBSYSTEMD
		cmocka_unit_test_setup_teardown(ready_carries_the_status, manager_open, manager_close),
		cmocka_unit_test_setup_teardown(reloading_carries_a_monotonic_time, manager_open,
						manager_close),
#endif
		cmocka_unit_test(without_a_manager_nothing_happens),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
