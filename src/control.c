/* accept4 */
#define _GNU_SOURCE

#include "paths.h"
#include "control.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#ifndef SO_PEERGROUPS
#define SO_PEERGROUPS 59        /* Linux 4.13; older headers lack it */
#endif
#define CONTROL_MAX_GROUPS 256

struct control_client {
	int fd;                  /* -1: free slot */
	unsigned long serial;    /* accept order: the oldest is evicted when full */
	struct timespec deadline; /* CLOCK_MONOTONIC: closed then, finished or not */
	bool may_change;
	char request[CONTROL_REQUEST_MAX];
	size_t request_len;
	char *reply;             /* NULL until the request line is complete */
	size_t reply_len;
	size_t reply_sent;
};

struct control {
	int listen_fd;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	control_handler_fn handler;
	void *ctx;
	gid_t group;             /* the socket's: its members may change things */
	unsigned long serial;
	struct control_client clients[CONTROL_MAX_CLIENTS];
};

static bool socket_answers(const struct sockaddr_un *sun)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool answers;

	if (fd < 0)
		return false;
	answers = connect(fd, (const struct sockaddr *)sun, sizeof(*sun)) == 0;
	close(fd);
	return answers;
}

struct control *control_create(const char *path, uid_t owner, gid_t group, control_handler_fn handler,
			       void *ctx, char *why, size_t why_len)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct control *ctl;
	struct stat st;
	mode_t old_umask;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(why, why_len, "%s: path too long for a Unix socket", path);
		return NULL;
	}
	if (path_make_parent_dir(path, owner, group) < 0) {
		snprintf(why, why_len, "%s: cannot create its directory: %s", path, strerror(errno));
		return NULL;
	}
	ctl = calloc(1, sizeof(*ctl));
	if (!ctl) {
		snprintf(why, why_len, "out of memory");
		return NULL;
	}
	snprintf(ctl->path, sizeof(ctl->path), "%s", path);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	ctl->handler = handler;
	ctl->ctx = ctx;
	ctl->group = owner != (uid_t)-1 ? group : getegid();
	for (size_t i = 0; i < CONTROL_MAX_CLIENTS; i++)
		ctl->clients[i].fd = -1;
	/* A socket left by a daemon that died is removed; one that still answers
	 * belongs to a running daemon, and anything else is not ours to remove. */
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode)) {
		if (socket_answers(&sun)) {
			snprintf(why, why_len, "%s: another stratad is running (its control socket answers)", path);
			free(ctl);
			return NULL;
		}
		unlink(path);
	}
	ctl->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (ctl->listen_fd < 0) {
		snprintf(why, why_len, "%s: socket: %s", path, strerror(errno));
		free(ctl);
		return NULL;
	}
	old_umask = umask(0111);
	if (bind(ctl->listen_fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		snprintf(why, why_len, "%s: bind: %s", path, strerror(errno));
		umask(old_umask);
		close(ctl->listen_fd);
		free(ctl);
		return NULL;
	}
	umask(old_umask);
	if (chmod(path, 0666) < 0 || (owner != (uid_t)-1 && chown(path, owner, group) < 0) ||
	    listen(ctl->listen_fd, CONTROL_MAX_CLIENTS) < 0) {
		snprintf(why, why_len, "%s: %s", path, strerror(errno));
		control_destroy(ctl);
		return NULL;
	}
	return ctl;
}

static void client_close(struct control_client *c)
{
	if (c->fd >= 0)
		close(c->fd);
	free(c->reply);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

void control_destroy(struct control *ctl)
{
	if (!ctl)
		return;
	for (size_t i = 0; i < CONTROL_MAX_CLIENTS; i++)
		client_close(&ctl->clients[i]);
	close(ctl->listen_fd);
	unlink(ctl->path);
	free(ctl);
}

size_t control_pollfds(const struct control *ctl, struct pollfd *fds, size_t max)
{
	size_t n = 0;

	if (max == 0)
		return 0;
	fds[n++] = (struct pollfd){ .fd = ctl->listen_fd, .events = POLLIN };
	for (size_t i = 0; i < CONTROL_MAX_CLIENTS && n < max; i++) {
		const struct control_client *c = &ctl->clients[i];

		if (c->fd >= 0)
			fds[n++] = (struct pollfd){ .fd = c->fd, .events = c->reply ? POLLOUT : POLLIN };
	}
	return n;
}

static struct timespec monotonic_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t;
}

static long ms_until(struct timespec deadline, struct timespec now)
{
	return (long)(deadline.tv_sec - now.tv_sec) * 1000 + (deadline.tv_nsec - now.tv_nsec) / 1000000;
}

/* Root, the daemon's own user, or the socket's group among the peer's
 * groups, as the kernel saw them at connect(): nothing the client says. */
static bool peer_may_change(const struct control *ctl, int fd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	gid_t groups[CONTROL_MAX_GROUPS];

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return false;
	if (cred.uid == 0 || cred.uid == geteuid() || cred.gid == ctl->group)
		return true;
	len = sizeof(groups);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) < 0)
		return false;
	for (size_t i = 0; i < len / sizeof(groups[0]); i++)
		if (groups[i] == ctl->group)
			return true;
	return false;
}

static void accept_client(struct control *ctl)
{
	struct control_client *slot = NULL;
	int fd = accept4(ctl->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (fd < 0)
		return;
	for (size_t i = 0; i < CONTROL_MAX_CLIENTS; i++) {
		struct control_client *c = &ctl->clients[i];

		if (c->fd < 0) {
			slot = c;
			break;
		}
		if (!slot || c->serial < slot->serial)
			slot = c;
	}
	/* All busy: a client that never finishes must not lock the others out. */
	client_close(slot);
	slot->fd = fd;
	slot->serial = ++ctl->serial;
	slot->deadline = monotonic_now();
	slot->deadline.tv_sec += CONTROL_CLIENT_TIMEOUT_MS / 1000;
	slot->deadline.tv_nsec += (CONTROL_CLIENT_TIMEOUT_MS % 1000) * 1000000L;
	if (slot->deadline.tv_nsec >= 1000000000L) {
		slot->deadline.tv_sec++;
		slot->deadline.tv_nsec -= 1000000000L;
	}
	slot->may_change = peer_may_change(ctl, fd);
}

/* Splits "COMMAND ARGS... [json|verbose]" in place. */
static struct control_request parse_request(char *line)
{
	struct control_request req = { .command = line, .args = "", .format = CONTROL_TEXT };
	char *last = strrchr(line, ' ');
	char *space;

	if (last && (!strcmp(last + 1, "json") || !strcmp(last + 1, "verbose"))) {
		req.format = !strcmp(last + 1, "json") ? CONTROL_JSON : CONTROL_VERBOSE;
		*last = '\0';
	}
	space = strchr(line, ' ');
	if (space) {
		*space = '\0';
		req.args = space + 1;
	}
	return req;
}

static void build_reply(struct control *ctl, struct control_client *c)
{
	struct control_request req = parse_request(c->request);
	FILE *out = open_memstream(&c->reply, &c->reply_len);

	if (!out) {
		client_close(c);
		return;
	}
	req.may_change = c->may_change;
	ctl->handler(ctl->ctx, &req, out);
	if (fclose(out) != 0 || !c->reply) {
		client_close(c);
		return;
	}
	c->reply_sent = 0;
	if (c->reply_len == 0)
		client_close(c);
}

static void read_request(struct control *ctl, struct control_client *c)
{
	ssize_t n = recv(c->fd, c->request + c->request_len, sizeof(c->request) - 1 - c->request_len, 0);
	char *newline;

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		client_close(c);
		return;
	}
	c->request_len += (size_t)n;
	c->request[c->request_len] = '\0';
	newline = strchr(c->request, '\n');
	if (!newline) {
		if (c->request_len == sizeof(c->request) - 1)
			client_close(c);
		return;
	}
	*newline = '\0';
	build_reply(ctl, c);
}

static void write_reply(struct control_client *c)
{
	ssize_t n = send(c->fd, c->reply + c->reply_sent, c->reply_len - c->reply_sent, MSG_NOSIGNAL);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n < 0) {
		client_close(c);
		return;
	}
	c->reply_sent += (size_t)n;
	if (c->reply_sent == c->reply_len)
		client_close(c);
}

static void close_expired(struct control *ctl)
{
	struct timespec now = monotonic_now();

	for (size_t i = 0; i < CONTROL_MAX_CLIENTS; i++)
		if (ctl->clients[i].fd >= 0 && ms_until(ctl->clients[i].deadline, now) <= 0)
			client_close(&ctl->clients[i]);
}

int control_timeout_ms(const struct control *ctl)
{
	struct timespec now = monotonic_now();
	long least = -1;

	for (size_t i = 0; i < CONTROL_MAX_CLIENTS; i++) {
		long ms;

		if (ctl->clients[i].fd < 0)
			continue;
		ms = ms_until(ctl->clients[i].deadline, now);
		if (least < 0 || ms < least)
			least = ms < 0 ? 0 : ms;
	}
	/* rounded up: waking a millisecond early would only spin */
	return least < 0 ? -1 : (int)least + 1;
}

void control_dispatch(struct control *ctl, const struct pollfd *fds, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		if (!fds[i].revents)
			continue;
		if (fds[i].fd == ctl->listen_fd) {
			accept_client(ctl);
			continue;
		}
		for (size_t j = 0; j < CONTROL_MAX_CLIENTS; j++) {
			struct control_client *c = &ctl->clients[j];

			if (c->fd != fds[i].fd)
				continue;
			if (c->reply && (fds[i].revents & (POLLOUT | POLLERR | POLLHUP)))
				write_reply(c);
			else if (!c->reply && (fds[i].revents & (POLLIN | POLLERR | POLLHUP)))
				read_request(ctl, c);
			break;
		}
	}
	close_expired(ctl);
}

char *control_query(const char *path, const char *command, enum control_format format, char *why,
		    size_t why_len)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char request[CONTROL_REQUEST_MAX], chunk[4096];
	char *reply = NULL;
	size_t reply_len = 0;
	FILE *out;
	ssize_t n;
	int len, fd;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(why, why_len, "%s: path too long for a Unix socket", path);
		return NULL;
	}
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		snprintf(why, why_len, "cannot connect to %s: %s (is stratad running?)", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	len = snprintf(request, sizeof(request), "%s%s\n", command,
		       format == CONTROL_JSON ? " json" : format == CONTROL_VERBOSE ? " verbose" : "");
	if (len < 0 || (size_t)len >= sizeof(request) || send(fd, request, (size_t)len, MSG_NOSIGNAL) != len) {
		snprintf(why, why_len, "%s: cannot send the request", path);
		close(fd);
		return NULL;
	}
	out = open_memstream(&reply, &reply_len);
	if (!out) {
		snprintf(why, why_len, "out of memory");
		close(fd);
		return NULL;
	}
	while ((n = recv(fd, chunk, sizeof(chunk), 0)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		fwrite(chunk, 1, (size_t)n, out);
	}
	if (n < 0)
		snprintf(why, why_len, "%s: %s", path, strerror(errno));
	close(fd);
	if (fclose(out) != 0 || n < 0) {
		free(reply);
		return NULL;
	}
	return reply;
}
