/* libFuzzer harness for the control socket's request reader: the input is
 * what one client sends, delivered through a real Unix socket to the real
 * control module (control_create, control_pollfds, control_dispatch), in
 * chunks of the size the first byte gives (0: all at once), then the client
 * half-closes and reads the reply to the end.
 * Besides "no crash, no undefined behaviour, no leak, no hang" it checks the
 * reader against a model written here from the protocol (control.h): the
 * request is the bytes before the first newline when that comes within
 * CONTROL_REQUEST_MAX - 1 bytes and no NUL precedes it: "COMMAND [ARGS...]",
 * a last word "json" asking for JSON, "verbose" for the long text. The
 * handler echoes what it was given, so the client must read
 * exactly the model's answer, or nothing (the connection closed) when there
 * is no complete request; and no client may stay connected afterwards. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "control.h"

#define ROUNDS_MAX 10000        /* dispatch rounds before the reader is called hung */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[] = "/tmp/fuzz-control-XXXXXX";
static char path[sizeof(dir) + 16];
static struct control *ctl;

static const char *format_word(enum control_format format)
{
	return format == CONTROL_JSON ? " json" : format == CONTROL_VERBOSE ? " verbose" : "";
}

static void echo_handler(void *ctx, const struct control_request *req, FILE *out)
{
	(void)ctx;
	if (strlen(req->command) + strlen(req->args) >= CONTROL_REQUEST_MAX || strchr(req->command, '\n') ||
	    strchr(req->args, '\n') || strchr(req->command, ' '))
		abort();
	fprintf(out, "[%s|%s]%s%s\n", req->command, req->args, format_word(req->format),
		req->may_change ? " may change" : " may not change");
}

static void cleanup(void)
{
	control_destroy(ctl);
	rmdir(dir);
}

static struct control *control(void)
{
	char why[256];

	if (ctl)
		return ctl;
	if (!mkdtemp(dir))
		abort();
	snprintf(path, sizeof(path), "%s/control", dir);
	ctl = control_create(path, (uid_t)-1, (gid_t)-1, echo_handler, NULL, why, sizeof(why));
	if (!ctl) {
		fprintf(stderr, "%s\n", why);
		abort();
	}
	atexit(cleanup);
	return ctl;
}

/* Whatever the control module wants to do now, done; false once idle. */
static bool dispatch_once(void)
{
	struct pollfd fds[CONTROL_MAX_CLIENTS + 1];
	size_t n = control_pollfds(ctl, fds, CONTROL_MAX_CLIENTS + 1);

	if (poll(fds, n, 0) <= 0)
		return false;
	control_dispatch(ctl, fds, n);
	return true;
}

/* The model: the reply the echo handler must produce for this stream, or ""
 * when the connection must close unanswered. */
static void expected_reply(const uint8_t *s, size_t size, char *out, size_t len)
{
	char line[CONTROL_REQUEST_MAX];
	const uint8_t *nl = memchr(s, '\n', size);
	size_t n;
	char *space, *last;
	enum control_format format = CONTROL_TEXT;

	out[0] = '\0';
	if (!nl || (size_t)(nl - s) > CONTROL_REQUEST_MAX - 2 || memchr(s, '\0', (size_t)(nl - s)))
		return;
	n = (size_t)(nl - s);
	memcpy(line, s, n);
	line[n] = '\0';
	/* the fuzzer connects as the socket's own user, who may change things */
	last = strrchr(line, ' ');
	if (last && (!strcmp(last + 1, "json") || !strcmp(last + 1, "verbose"))) {
		format = !strcmp(last + 1, "json") ? CONTROL_JSON : CONTROL_VERBOSE;
		*last = '\0';
	}
	space = strchr(line, ' ');
	if (space)
		*space = '\0';
	snprintf(out, len, "[%s|%s]%s may change\n", line, space ? space + 1 : "", format_word(format));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char want[CONTROL_REQUEST_MAX + 16], got[CONTROL_REQUEST_MAX + 16];
	size_t chunk, got_len = 0, rounds = 0;
	struct pollfd idle[CONTROL_MAX_CLIENTS + 1];
	int fd;

	if (size == 0)
		return 0;
	control();
	chunk = data[0] ? data[0] : size;
	data++;
	size--;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0)
		abort();
	for (size_t off = 0; off < size; off += chunk) {
		size_t n = size - off < chunk ? size - off : chunk;

		/* the reader may already have closed: the rest is not read */
		if (send(fd, data + off, n, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
			break;
		while (dispatch_once() && ++rounds < ROUNDS_MAX)
			;
	}
	shutdown(fd, SHUT_WR);
	for (;;) {
		ssize_t n = recv(fd, got + got_len, sizeof(got) - 1 - got_len, MSG_DONTWAIT);

		if (n == 0 || (n < 0 && errno != EAGAIN))
			break;
		if (n > 0) {
			got_len += (size_t)n;
			if (got_len == sizeof(got) - 1)
				abort(); /* longer than any echo */
		}
		if (!dispatch_once() && n < 0 && ++rounds > ROUNDS_MAX)
			abort(); /* neither answered nor closed */
	}
	close(fd);
	got[got_len] = '\0';
	expected_reply(data, size, want, sizeof(want));
	if (strcmp(got, want) != 0) {
		fprintf(stderr, "control reply \"%s\", the model says \"%s\"\n", got, want);
		abort();
	}
	/* nothing but the listening socket is left */
	if (control_pollfds(ctl, idle, CONTROL_MAX_CLIENTS + 1) != 1)
		abort();
	return 0;
}
