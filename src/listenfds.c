#include "listenfds.h"

#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"

#define LISTENFDS_FIRST 3
#define LISTENFDS_MAX 16

static int count = -1;                 /* -1: the environment not read yet */
static bool taken[LISTENFDS_MAX];

/* The descriptors are ours only if LISTEN_PID names this process. */
static int handed_over(void)
{
	const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
	long n;

	if (count >= 0)
		return count;
	count = 0;
	if (pid && fds && strtol(pid, NULL, 10) == (long)getpid()) {
		n = strtol(fds, NULL, 10);
		count = n > 0 ? (int)(n < LISTENFDS_MAX ? n : LISTENFDS_MAX) : 0;
	}
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	return count;
}

static bool bound_to(int fd, const struct net_addr *local)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	struct net_addr addr;
	int type;
	socklen_t type_len = sizeof(type);

	return getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &type_len) == 0 && type == SOCK_DGRAM &&
	       getsockname(fd, (struct sockaddr *)&ss, &len) == 0 &&
	       netaddr_from_sockaddr((struct sockaddr *)&ss, len, &addr) && netaddr_equal(&addr, local);
}

int listenfds_take(const struct net_addr *local)
{
	for (int i = 0; i < handed_over(); i++) {
		int fd = LISTENFDS_FIRST + i, copy;

		if (!bound_to(fd, local))
			continue;
		copy = fcntl(fd, F_DUPFD_CLOEXEC, LISTENFDS_FIRST + LISTENFDS_MAX);
		if (copy < 0 || fcntl(copy, F_SETFL, O_NONBLOCK) < 0) {
			if (copy >= 0)
				close(copy);
			return -1;
		}
		taken[i] = true;
		return copy;
	}
	return -1;
}

void listenfds_close(void)
{
	for (int i = 0; i < handed_over(); i++) {
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);
		struct net_addr addr;
		char text[NETADDR_TEXT_LEN] = "?";

		if (!taken[i] && getsockname(LISTENFDS_FIRST + i, (struct sockaddr *)&ss, &len) == 0 &&
		    netaddr_from_sockaddr((struct sockaddr *)&ss, len, &addr))
			netaddr_format_with_port(&addr, text, sizeof(text));
		if (!taken[i])
			log_msg(LOG_LEVEL_WARNING, "the service manager's socket %s is not in serve.listen: closed",
				text);
		close(LISTENFDS_FIRST + i);
	}
	count = 0;
}
