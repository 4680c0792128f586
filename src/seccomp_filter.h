/* System-call allow-lists (libseccomp), one per process of stratad. A call
 * off the list traps: a SIGSYS handler writes the call's name (looked up
 * when the filter is installed, since nothing may be looked up in a signal
 * handler) to stderr and to syslog, and the process exits with status
 * 128 + SIGSYS. Installed in every thread at once (TSYNC); threads started
 * later inherit it. SECCOMP_NTS_KE is the exception: the NTS-KE thread adds
 * it for itself after the engine's (filters stack: a call must pass both),
 * so the code that parses TLS from anyone cannot open a file, make a
 * socket, bind, fork or write the clock, while the rest of the engine can. */
#ifndef STRATA_SECCOMP_FILTER_H
#define STRATA_SECCOMP_FILTER_H

#include <stddef.h>

enum seccomp_role {
	SECCOMP_ENGINE,   /* network, parsing, core, control, reloads, DNS, drift file */
	SECCOMP_CLOCK,    /* the clock process: requests in, clock_adjtime, replies out */
	SECCOMP_JANITOR,  /* waits for the engine to end, then removes two files */
	SECCOMP_ENGINE_WITH_CLOCK, /* the engine making the clock's changes itself (clock_process = false) */
	SECCOMP_NTS_KE,   /* the NTS-KE server thread, on top of the engine's filter: this thread only */
};

/* 0, or -1 with a message. The process must already have no_new_privs. */
int seccomp_filter_install(enum seccomp_role role, char *why, size_t why_len);

#endif
