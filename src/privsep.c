/* close_range */
#define _GNU_SOURCE

#include "privsep.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

#include "log.h"
#include "privdrop.h"
#include "seccomp_filter.h"

/* In a child: everything but stdio and keep is closed (the engine's sockets,
 * the readiness pipe, syslog's socket, which syslog() opens again when it
 * next logs), and the signals that stop the engine do not stop it: it ends
 * when the engine's end of its channel closes. */
static void become_helper(int keep)
{
	static const int stop_signals[] = { SIGTERM, SIGINT, SIGHUP };

	closelog();
	if (keep > STDERR_FILENO + 1)
		close_range(STDERR_FILENO + 1, (unsigned)keep - 1, 0);
	close_range((unsigned)keep + 1, ~0U, 0);
	for (size_t i = 0; i < sizeof(stop_signals) / sizeof(stop_signals[0]); i++)
		signal(stop_signals[i], SIG_IGN);
}

static void confine_or_exit(bool seccomp, enum seccomp_role role)
{
	char why[256];

	if (seccomp && seccomp_filter_install(role, why, sizeof(why)) < 0) {
		log_msg(LOG_LEVEL_ERROR, "%s", why);
		_exit(1);
	}
}

static void clock_process(int fd, const struct clock_ops *clock, const struct clock_limits *limits,
			  const char *user, bool seccomp)
{
	struct clock_server srv = { .clock = *clock, .limits = *limits };
	char why[256];
	int ret;

	become_helper(fd);
	if (privdrop_switch(user, true, why, sizeof(why)) < 0) {
		log_msg(LOG_LEVEL_ERROR, "clock process: %s", why);
		_exit(1);
	}
	/* no core dumps and no same-user ptrace or /proc access from the engine */
	prctl(PR_SET_DUMPABLE, 0L, 0L, 0L, 0L);
	confine_or_exit(seccomp, SECCOMP_CLOCK);
	ret = clock_server_run(&srv, fd);
	if (srv.clock.finish)
		srv.clock.finish(srv.clock.ctx);
	if (ret < 0)
		log_msg(LOG_LEVEL_ERROR, "clock process: %s", strerror(-ret));
	_exit(ret < 0);
}

int privsep_start_clock(struct privsep *ps, struct clock_ops *clock, const struct clock_limits *limits,
			const char *user, bool seccomp, char *why, size_t why_len)
{
	int fds[2];
	pid_t pid;
	double max_slew_ppm;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) < 0) {
		snprintf(why, why_len, "clock process: socketpair: %s", strerror(errno));
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		snprintf(why, why_len, "clock process: fork: %s", strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (pid == 0)
		clock_process(fds[1], clock, limits, user, seccomp);
	close(fds[1]);
	ps->clock_pid = pid;
	ps->clock_fd = fds[0];
	max_slew_ppm = clock->max_slew_ppm;
	*clock = clock_proxy_ops(&ps->proxy, fds[0]);
	/* the clock process slews as its clock does (adjtime or the frequency) */
	clock->max_slew_ppm = max_slew_ppm;
	return 0;
}

static void janitor(int fd, const char *const paths[PRIVSEP_JANITOR_PATHS], bool seccomp)
{
	char why[256], byte;
	ssize_t n;

	become_helper(fd);
	if (privdrop_shed(false, why, sizeof(why)) < 0) {
		log_msg(LOG_LEVEL_ERROR, "janitor: %s", why);
		_exit(1);
	}
	confine_or_exit(seccomp, SECCOMP_JANITOR);
	do
		n = read(fd, &byte, 1);
	while (n < 0 && errno == EINTR);
	for (size_t i = 0; i < PRIVSEP_JANITOR_PATHS; i++)
		if (paths[i] && paths[i][0])
			unlink(paths[i]);
	_exit(0);
}

int privsep_start_janitor(struct privsep *ps, const char *const paths[PRIVSEP_JANITOR_PATHS], bool seccomp,
			  char *why, size_t why_len)
{
	int fds[2];
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC) < 0) {
		snprintf(why, why_len, "janitor: pipe: %s", strerror(errno));
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		snprintf(why, why_len, "janitor: fork: %s", strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (pid == 0)
		janitor(fds[0], paths, seccomp);
	close(fds[0]);
	ps->janitor_pid = pid;
	ps->janitor_fd = fds[1];
	return 0;
}

static void end(pid_t *pid, int *fd)
{
	if (!*pid)
		return;
	close(*fd);
	while (waitpid(*pid, NULL, 0) < 0 && errno == EINTR)
		;
	*pid = 0;
}

void privsep_stop(struct privsep *ps)
{
	end(&ps->clock_pid, &ps->clock_fd);
	end(&ps->janitor_pid, &ps->janitor_fd);
}
