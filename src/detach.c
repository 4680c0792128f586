/* pipe2 */
#define _GNU_SOURCE

#include "detach.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static int ready_fd = -1;

/* The parent: one status byte, or, when the child ended first, its own
 * exit status. */
static _Noreturn void wait_for_child(pid_t child, int fd)
{
	unsigned char status;
	ssize_t n;
	int st;

	do
		n = read(fd, &status, 1);
	while (n < 0 && errno == EINTR);
	if (n == 1 && status == 0)
		_exit(0);
	if (n != 1) {
		while (waitpid(child, &st, 0) < 0 && errno == EINTR)
			;
		status = WIFEXITED(st) && WEXITSTATUS(st) ? (unsigned char)WEXITSTATUS(st) : 1;
	}
	fprintf(stderr, "stratad: start-up failed (exit status %u): the reason is in the system log\n", status);
	_exit(status);
}

int detach_start(void)
{
	int fds[2], fd;
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC) < 0)
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid > 0) {
		close(fds[1]);
		wait_for_child(pid, fds[0]);
	}
	close(fds[0]);
	ready_fd = fds[1];
	if (setsid() < 0 || chdir("/") < 0)
		return -1;
	fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -1;
	dup2(fd, STDIN_FILENO);
	dup2(fd, STDOUT_FILENO);
	dup2(fd, STDERR_FILENO);
	if (fd > STDERR_FILENO)
		close(fd);
	return 0;
}

void detach_done(int status)
{
	unsigned char byte = (unsigned char)status;

	if (ready_fd < 0)
		return;
	if (write(ready_fd, &byte, 1) < 0) {
		/* the parent is gone: nobody is waiting */
	}
	close(ready_fd);
	ready_fd = -1;
}
