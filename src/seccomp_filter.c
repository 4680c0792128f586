#include "seccomp_filter.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/pps.h>
#include <linux/ptp_clock.h>
#include <linux/sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#ifndef __has_feature
#define __has_feature(x) 0
#endif
#if defined(__SANITIZE_ADDRESS__) || __has_feature(address_sanitizer)
#define SECCOMP_UNDER_ASAN 1
#else
#define SECCOMP_UNDER_ASAN 0
#endif

/* Names are looked up by name, so a call this architecture does not have
 * (open on arm64) is simply skipped. */
static const char *const everyone[] = {
	"exit", "exit_group", "rt_sigreturn", "restart_syscall", "rt_sigprocmask",
	"write", "writev", "close", "brk", "mmap", "munmap", "madvise", "futex",
	"clock_gettime", "gettimeofday", "clock_nanosleep", "nanosleep", "getpid", "gettid",
	"sendto", "sendmsg", /* syslog, on the socket it opened before the filter */
	NULL
};

static const char *const engine_calls[] = {
	/* files: configuration reloads, the drift file, the pid file, /etc for DNS */
	"read", "readv", "pread64", "openat", "open", "fstat", "newfstatat", "statx", "stat", "lstat",
	"lseek", "fcntl", "fsync", "fdatasync", "fchmod", "rename", "renameat", "renameat2",
	"unlink", "unlinkat", "access", "faccessat", "faccessat2", "umask",
	"getdents64", "getdents", /* @include of a directory, the sourcedir */
	/* sockets: NTP, control, statsd, DNS, systemd notification */
	"connect", "bind", "accept", "accept4", "getsockname", "getpeername", "setsockopt",
	"getsockopt", "recvfrom", "recvmsg", "sendmmsg", "recvmmsg", "shutdown",
	"poll", "ppoll",
	/* memory, threads (started before the filter: none after it), time, randomness */
	"mprotect", "mremap", "set_robust_list", "rseq", "sched_yield", "clock_getres", "time",
	"getrandom", "getuid", "geteuid", "getgid", "getegid", "uname", "sysinfo", "tgkill",
	"rt_sigaction", "wait4", /* the clock process and the janitor at the end, a reload's parser */
	"pipe2", /* to a reload's parser */
	"shmdt", /* a SHM refclock's segment, at the end (attached before the filter) */
	"seccomp", /* the NTS-KE thread stacking its own filter: a filter can only narrow */
	NULL
};

static const char *const clock_calls[] = {
	"recvfrom", "recvmsg", "read", "clock_adjtime", "adjtimex",
	"poll", "ppoll", /* waiting for a request or the end of a frequency slew */
	"connect", /* syslog reconnecting, with socket(AF_UNIX) */
	"fstat", "newfstatat", /* stdio's first use of a stream */
	NULL
};

static const char *const janitor_calls[] = { "read", "unlink", "unlinkat", NULL };

/* TLS on sockets it accepts: nothing else. */
static const char *const nts_ke_calls[] = {
	"read", "recvfrom", "recvmsg", "accept4", "accept", "poll", "ppoll", "getrandom", "mprotect", "mremap",
	"fcntl", NULL
};

/* AddressSanitizer's own needs: the leak check at exit stops the world
 * (clone, ptrace, wait4, /proc/self/task), reports read /proc/self/maps. */
static const char *const asan_calls[] = {
	"sigaltstack", "prctl", "getrlimit", "prlimit64", "readlink", "readlinkat", "openat", "open",
	"read", "fstat", "newfstatat", "lseek", "getdents", "getdents64", "ptrace", "wait4", "clone", "clone3",
	"sched_yield", "sched_getaffinity", "mprotect", "getppid", "kill", "tgkill", "tkill",
	"rt_sigaction", "pipe", "pipe2", "dup", "dup2", "dup3", "mremap", "uname", NULL
};

/* Filled in before the filter: the handler may only read them. */
#define SECCOMP_NAMES 512
static const char *names[SECCOMP_NAMES];
static int syslog_fd = -1;
static const char *role_name = "";
static _Thread_local const char *thread_role_name; /* set only by a thread with a filter of its own */

static size_t append(char *buf, size_t at, size_t len, const char *s)
{
	while (*s && at < len)
		buf[at++] = *s++;
	return at;
}

static size_t append_number(char *buf, size_t at, size_t len, long n)
{
	char digits[24];
	size_t k = 0;
	unsigned long u = n < 0 ? 0UL - (unsigned long)n : (unsigned long)n;

	do
		digits[k++] = (char)('0' + u % 10);
	while ((u /= 10) && k < sizeof(digits));
	if (n < 0 && at < len)
		buf[at++] = '-';
	while (k && at < len)
		buf[at++] = digits[--k];
	return at;
}

/* Async-signal-safe: formats by hand and only write()s and send()s. */
static void on_sigsys(int sig, siginfo_t *info, void *uctx)
{
	char msg[256];
	size_t n;
	int nr = info->si_syscall;

	(void)uctx;
	n = append(msg, 0, sizeof(msg), "<10>stratad: "); /* LOG_DAEMON | LOG_CRIT */
	n = append(msg, n, sizeof(msg), thread_role_name ? thread_role_name : role_name);
	n = append(msg, n, sizeof(msg), ": seccomp denied system call ");
	n = append(msg, n, sizeof(msg), nr >= 0 && nr < SECCOMP_NAMES && names[nr] ? names[nr] : "?");
	n = append(msg, n, sizeof(msg), " (");
	n = append_number(msg, n, sizeof(msg), nr);
	n = append(msg, n, sizeof(msg), "); exiting\n");
	if (syslog_fd >= 0 && send(syslog_fd, msg, n - 1, MSG_NOSIGNAL) < 0) {
		/* nothing more to do: stderr below */
	}
	if (write(STDERR_FILENO, msg + 4, n - 4) < 0) {
		/* nowhere left to say it */
	}
	_exit(128 + sig);
}

static void prepare_report(enum seccomp_role role)
{
	static const char *const roles[] = { "engine", "clock process", "janitor", "engine", "NTS-KE thread" };
	struct sockaddr_un sun = { .sun_family = AF_UNIX, .sun_path = "/dev/log" };
	struct sigaction sa = { .sa_sigaction = on_sigsys, .sa_flags = SA_SIGINFO };

	if (role == SECCOMP_NTS_KE)
		thread_role_name = roles[role];
	else
		role_name = roles[role];
	for (int nr = 0; nr < SECCOMP_NAMES; nr++)
		if (!names[nr])
			names[nr] = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
	if (syslog_fd < 0) {
		syslog_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (syslog_fd >= 0 && connect(syslog_fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
			close(syslog_fd);
			syslog_fd = -1;
		}
	}
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSYS, &sa, NULL);
}

static int allow_list(scmp_filter_ctx ctx, const char *const *list)
{
	for (; *list; list++) {
		int nr = seccomp_syscall_resolve_name(*list);

		if (nr != __NR_SCMP_ERROR && seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0) < 0)
			return -1;
	}
	return 0;
}

/* socket() only for the families a role speaks (the clock process: syslog
 * only); the unit's RestrictAddressFamilies= says the same to the kernel. */
static bool is_engine(enum seccomp_role role)
{
	return role == SECCOMP_ENGINE || role == SECCOMP_ENGINE_WITH_CLOCK;
}

static int allow_sockets(scmp_filter_ctx ctx, enum seccomp_role role)
{
	static const int families[] = { AF_UNIX, AF_INET, AF_INET6 };
	size_t count = is_engine(role) ? 3 : role == SECCOMP_CLOCK ? 1 : 0;

	for (size_t i = 0; i < count; i++)
		if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
				     SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)families[i])) < 0)
			return -1;
	return 0;
}

/* ioctl() only to ask how much a socket holds (the resolver), whether a
 * stream is a terminal (stdio), and to read the PPS and PHC refclocks
 * (opened before the filter): never TIOCSTI into the terminal of the shell
 * that started stratad -n, nor PPS_SETPARAMS, nor anything else. */
static int allow_engine_ioctls(scmp_filter_ctx ctx, enum seccomp_role role)
{
	static const unsigned long requests[] = { FIONREAD, TCGETS, PPS_FETCH, PTP_SYS_OFFSET_PRECISE,
						  PTP_SYS_OFFSET_EXTENDED, PTP_SYS_OFFSET };

	if (!is_engine(role))
		return 0;
	for (size_t i = 0; i < sizeof(requests) / sizeof(requests[0]); i++)
		if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
				     SCMP_A1(SCMP_CMP_EQ, (scmp_datum_t)requests[i])) < 0)
			return -1;
	return 0;
}

/* clone() only as fork(): SIGHUP's reload parses the file in a short-lived
 * copy of the engine (config_reload), under this same filter. No thread, no
 * shared memory, no namespace, and clone3 (whose flags a filter cannot
 * read) not at all. */
static int allow_engine_fork(scmp_filter_ctx ctx, enum seccomp_role role)
{
	const scmp_datum_t shared = CLONE_VM | CLONE_THREAD | CLONE_SIGHAND | CLONE_FILES | CLONE_FS |
				    CLONE_NEWNS | CLONE_NEWUSER | CLONE_NEWNET | CLONE_NEWPID | CLONE_NEWIPC |
				    CLONE_NEWUTS | CLONE_NEWCGROUP | CLONE_PARENT | CLONE_PTRACE;

	if (!is_engine(role))
		return 0;
	return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1, SCMP_A0(SCMP_CMP_MASKED_EQ, shared, 0));
}

int seccomp_filter_install(enum seccomp_role role, char *why, size_t why_len)
{
	static const char *const *const role_calls[] = { engine_calls, clock_calls, janitor_calls, engine_calls,
							 nts_ke_calls };
	scmp_filter_ctx ctx;
	int ret;

	prepare_report(role);
	ctx = seccomp_init(SCMP_ACT_TRAP);
	if (!ctx) {
		snprintf(why, why_len, "seccomp: cannot start a filter");
		return -1;
	}
	ret = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, role != SECCOMP_NTS_KE);
	/* the thread has no_new_privs already, and prctl is not on the engine's list */
	if (ret == 0 && role == SECCOMP_NTS_KE)
		ret = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
	if (ret == 0)
		ret = allow_list(ctx, everyone) < 0 || allow_list(ctx, role_calls[role]) < 0 ||
			      (role == SECCOMP_ENGINE_WITH_CLOCK && allow_list(ctx, clock_calls) < 0) ? -EINVAL : 0;
	if (ret == 0)
		ret = allow_sockets(ctx, role);
	if (ret == 0)
		ret = allow_engine_fork(ctx, role);
	if (ret == 0)
		ret = allow_engine_ioctls(ctx, role);
	if (ret == 0 && SECCOMP_UNDER_ASAN)
		ret = allow_list(ctx, asan_calls) < 0 ? -EINVAL : 0;
	if (ret == 0)
		ret = seccomp_load(ctx);
	seccomp_release(ctx);
	if (ret < 0) {
		snprintf(why, why_len, "seccomp: cannot install the %s filter: %s",
			 role == SECCOMP_NTS_KE ? "NTS-KE thread" : role_name, strerror(-ret));
		return -1;
	}
	return 0;
}
