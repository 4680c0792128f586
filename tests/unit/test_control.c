#include "cmocka_all.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "control.h"

/* What the daemon's handler was asked, as the control module split it. */
struct seen {
	int calls;
	char command[64];
	char args[256];
	enum control_format format;
	bool may_change;
};

static struct seen seen;
static char path[108];

static void record(void *ctx, const struct control_request *req, FILE *out)
{
	(void)ctx;
	seen.calls++;
	snprintf(seen.command, sizeof(seen.command), "%s", req->command);
	snprintf(seen.args, sizeof(seen.args), "%s", req->args);
	seen.format = req->format;
	seen.may_change = req->may_change;
	fprintf(out, "answer\n");
}

static struct control *open_control(void)
{
	char why[256];
	struct control *ctl;

	snprintf(path, sizeof(path), "/tmp/strata-test-control-%ld/ctl.sock", (long)getpid());
	ctl = control_create(path, (uid_t)-1, (gid_t)-1, record, NULL, why, sizeof(why));
	assert_non_null(ctl);
	memset(&seen, 0, sizeof(seen));
	return ctl;
}

static void close_control(struct control *ctl)
{
	char dir[sizeof(path)];

	control_destroy(ctl);
	snprintf(dir, sizeof(dir), "%s", path);
	*strrchr(dir, '/') = '\0';
	rmdir(dir);
}

static int connect_client(void)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	return fd;
}

/* The daemon's loop, a few rounds without blocking for long. */
static void spin(struct control *ctl, int rounds)
{
	for (int i = 0; i < rounds; i++) {
		struct pollfd fds[CONTROL_MAX_CLIENTS + 1];
		size_t n = control_pollfds(ctl, fds, CONTROL_MAX_CLIENTS + 1);

		assert_true(poll(fds, n, 20) >= 0);
		control_dispatch(ctl, fds, n);
	}
}

static void a_request_is_split_into_command_arguments_and_format(void **state)
{
	(void)state;
	struct control *ctl = open_control();
	struct stat st;
	char reply[64] = "";
	int fd = connect_client();

	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0666);
	assert_true(send(fd, "burst 2/4 127.0.0.1 json\n", 25, 0) == 25);
	spin(ctl, 5);
	assert_int_equal(seen.calls, 1);
	assert_string_equal(seen.command, "burst");
	assert_string_equal(seen.args, "2/4 127.0.0.1");
	assert_int_equal(seen.format, CONTROL_JSON);
	/* the test runs as root or as the socket's owner: it may change things */
	assert_true(seen.may_change);
	assert_true(recv(fd, reply, sizeof(reply) - 1, 0) > 0);
	assert_string_equal(reply, "answer\n");
	close(fd);

	fd = connect_client();
	assert_true(send(fd, "sources verbose\n", 16, 0) == 16);
	spin(ctl, 5);
	assert_string_equal(seen.command, "sources");
	assert_string_equal(seen.args, "");
	assert_int_equal(seen.format, CONTROL_VERBOSE);
	close(fd);

	fd = connect_client();
	assert_true(send(fd, "tracking\n", 9, 0) == 9);
	spin(ctl, 5);
	assert_string_equal(seen.command, "tracking");
	assert_int_equal(seen.format, CONTROL_TEXT);
	close(fd);
	close_control(ctl);
}

/* A silent client holds a slot only until its time is up, and the loop is
 * told when that is; a line longer than a request may be is hung up on. */
static void silent_and_oversized_clients_are_bounded(void **state)
{
	(void)state;
	struct control *ctl = open_control();
	char big[CONTROL_REQUEST_MAX + 16];
	char byte;
	int silent = connect_client(), oversized;
	int timeout;

	assert_int_equal(control_timeout_ms(ctl), -1);
	spin(ctl, 2);
	timeout = control_timeout_ms(ctl);
	assert_true(timeout > 0 && timeout <= CONTROL_CLIENT_TIMEOUT_MS + 1);

	oversized = connect_client();
	memset(big, 'x', sizeof(big));
	assert_true(send(oversized, big, sizeof(big), 0) == (ssize_t)sizeof(big));
	spin(ctl, 5);
	assert_int_equal(seen.calls, 0);
	assert_true(recv(oversized, &byte, 1, 0) <= 0);

	/* past the deadline: the daemon closes it by itself */
	usleep((CONTROL_CLIENT_TIMEOUT_MS + 50) * 1000);
	spin(ctl, 1);
	assert_int_equal(recv(silent, &byte, 1, MSG_DONTWAIT), 0);
	assert_int_equal(control_timeout_ms(ctl), -1);
	close(silent);
	close(oversized);
	close_control(ctl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_request_is_split_into_command_arguments_and_format),
		cmocka_unit_test(silent_and_oversized_clients_are_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
