/* Service mode without a service manager: the daemon detaches from the
 * terminal, but the command that started it ends only once start-up is over,
 * with its outcome as the exit status (a readiness pipe, as chronyd and
 * ntpd do), so `stratad && echo up` and init scripts see a busy port or a bad
 * user as a failure. */
#ifndef STRATA_DETACH_H
#define STRATA_DETACH_H

/* Forks: the caller goes on in the child, in a new session, in /, with stdio
 * on /dev/null; the parent waits for detach_done() or the child's end and
 * exits with its status. 0 in the child, -1 (errno) when nothing was forked. */
int detach_start(void);

/* The child's start-up is over: status 0 (running) or the exit status it is
 * about to end with. Does nothing in the foreground or when said before. */
void detach_done(int status);

#endif
