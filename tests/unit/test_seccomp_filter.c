/* The seccomp allow-lists of stratad's processes, installed for real in a
 * forked child that then makes one call: an allowed one returns, a denied one
 * ends the child with status 128 + SIGSYS after its name reaches stderr. The
 * filter and the handler are the daemon's own; nothing in the daemon exists
 * for this test. */
#include "cmocka_all.h"

#include <errno.h>
#include <pthread.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/timex.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "driftfile.h"
#include "resolver.h"
#include "seccomp_filter.h"

enum call { CALL_CHDIR, CALL_SOCKET_INET, CALL_SOCKET_INET6, CALL_SOCKET_UNIX, CALL_SOCKET_PACKET,
	    CALL_UNLINK, CALL_EXECVE, CALL_CHDIR_IN_THREAD, CALL_DRIFT_FILE, CALL_RESOLVE, CALL_ISATTY,
	    CALL_TIOCSTI, CALL_CONFIG_RELOAD, CALL_NEW_THREAD,
	    CALL_READ_CLOCK_STATE, CALL_GETRANDOM, CALL_ACCEPT };

static char drift_path[64];
static char config_path[64];


static long make(enum call call)
{
	char *const argv[] = { "/bin/true", NULL };

	switch (call) {
	case CALL_CHDIR:
		return syscall(SYS_chdir, "/");
	case CALL_SOCKET_INET:
		return syscall(SYS_socket, AF_INET, SOCK_DGRAM, 0);
	case CALL_SOCKET_INET6:
		return syscall(SYS_socket, AF_INET6, SOCK_DGRAM, 0);
	case CALL_SOCKET_UNIX:
		return syscall(SYS_socket, AF_UNIX, SOCK_DGRAM, 0);
	case CALL_SOCKET_PACKET:
		return syscall(SYS_socket, AF_PACKET, SOCK_DGRAM, 0);
	case CALL_UNLINK:
		return syscall(SYS_unlink, "/nonexistent/strata-seccomp-test");
	case CALL_EXECVE:
		return syscall(SYS_execve, argv[0], argv, NULL);
	case CALL_DRIFT_FILE: {
		/* the engine's real work, not a syscall picked for the test */
		char why[256];
		struct drift_state saved = { .frequency_ppm = -12.5, .wander_ppm_per_s = 0.01 }, read = { 0 };

		if (driftfile_write(drift_path, &saved, why, sizeof(why)) < 0 ||
		    driftfile_read(drift_path, 500.0, &read, why, sizeof(why)) != DRIFTFILE_OK ||
		    read.frequency_ppm != -12.5)
			_exit(4);
		return 0;
	}
	case CALL_CONFIG_RELOAD: {
		/* SIGHUP's reload parses in a forked child of the engine */
		static struct daemon_config cfg;
		char why[256];

		if (config_reload(config_path, &cfg, why, sizeof(why)) != 0 || cfg.source_count != 1)
			_exit(6);
		return 0;
	}
	case CALL_READ_CLOCK_STATE: {
		/* modes 0: reads the kernel's clock state, changes nothing */
		struct timex tx = { .modes = 0 };

		return syscall(SYS_clock_adjtime, CLOCK_REALTIME, &tx);
	}
	case CALL_NEW_THREAD:
		/* the flags of a thread; were it allowed, the child would crash on
		 * the shared stack and the test fail */
		return syscall(SYS_clone, CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD, 0, NULL,
			       NULL, 0);
	case CALL_RESOLVE: {
		struct net_addr addrs[4];
		size_t count;

		if (resolver_lookup("localhost", AF_UNSPEC, 123, addrs, 4, &count) != 0 || count == 0)
			_exit(5);
		return 0;
	}
	case CALL_ISATTY:
		return isatty(STDIN_FILENO);
	case CALL_TIOCSTI: {
		char c = '\n';

		return syscall(SYS_ioctl, STDIN_FILENO, TIOCSTI, &c);
	}
	case CALL_GETRANDOM: {
		char buf[16];

		return syscall(SYS_getrandom, buf, sizeof(buf), 0);
	}
	case CALL_ACCEPT:
		return syscall(SYS_accept4, -1, NULL, NULL, 0); /* EBADF, not a trap */
	case CALL_CHDIR_IN_THREAD:
		break;
	}
	return -1;
}

/* Started before the filter, as stratad's threads are, and told to go on after it. */
static void *thread_chdir(void *arg)
{
	char byte;

	if (read(*(int *)arg, &byte, 1) == 1)
		make(CALL_CHDIR);
	return NULL;
}

/* The child's exit status, and what it wrote to stderr in out. */
static int run(enum seccomp_role role, enum call call, char *out, size_t out_len)
{
	int pipefd[2], status;
	ssize_t n, got = 0;
	pid_t pid;

	assert_int_equal(pipe(pipefd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char why[256];
		pthread_t thread;
		int go[2];

		dup2(pipefd[1], STDERR_FILENO);
		if (call == CALL_CHDIR_IN_THREAD && (pipe(go) < 0 || pthread_create(&thread, NULL, thread_chdir, &go[0])))
			_exit(3);
		/* the NTS-KE thread stacks its filter on the engine's */
		if (role == SECCOMP_NTS_KE && seccomp_filter_install(SECCOMP_ENGINE, why, sizeof(why)) < 0) {
			fprintf(stderr, "%s\n", why);
			_exit(2);
		}
		if (seccomp_filter_install(role, why, sizeof(why)) < 0) {
			fprintf(stderr, "%s\n", why);
			_exit(2);
		}
		if (call == CALL_CHDIR_IN_THREAD) {
			if (write(go[1], "", 1) == 1)
				pthread_join(thread, NULL);
		} else {
			make(call);
		}
		_exit(0);
	}
	close(pipefd[1]);
	while (got < (ssize_t)out_len - 1 && (n = read(pipefd[0], out + got, out_len - 1 - got)) > 0)
		got += n;
	out[got] = '\0';
	close(pipefd[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static void expect_denied(enum seccomp_role role, enum call call, const char *role_name, const char *name,
			  long nr)
{
	char out[512], expected[128];

	snprintf(expected, sizeof(expected), "%s: seccomp denied system call %s (%ld); exiting\n", role_name, name,
		 nr);
	assert_int_equal(run(role, call, out, sizeof(out)), 128 + SIGSYS);
	assert_non_null(strstr(out, expected));
}

static void expect_allowed(enum seccomp_role role, enum call call)
{
	char out[512];

	assert_int_equal(run(role, call, out, sizeof(out)), 0);
	assert_string_equal(out, "");
}

/* The thread that speaks TLS to strangers: no socket, no file, no
 * process, even where the engine under it may. */
static void test_nts_ke_thread(void **state)
{
	(void)state;
	expect_allowed(SECCOMP_NTS_KE, CALL_GETRANDOM);
	expect_allowed(SECCOMP_NTS_KE, CALL_ACCEPT);
	expect_denied(SECCOMP_NTS_KE, CALL_SOCKET_INET, "NTS-KE thread", "socket", SYS_socket);
	expect_denied(SECCOMP_NTS_KE, CALL_UNLINK, "NTS-KE thread", "unlink", SYS_unlink);
	expect_denied(SECCOMP_NTS_KE, CALL_ISATTY, "NTS-KE thread", "ioctl", SYS_ioctl);
	expect_denied(SECCOMP_NTS_KE, CALL_EXECVE, "NTS-KE thread", "execve", SYS_execve);
}

static void test_engine(void **state)
{
	(void)state;
	expect_allowed(SECCOMP_ENGINE, CALL_SOCKET_INET);
	expect_allowed(SECCOMP_ENGINE, CALL_SOCKET_INET6);
	expect_allowed(SECCOMP_ENGINE, CALL_SOCKET_UNIX);
	expect_allowed(SECCOMP_ENGINE, CALL_UNLINK);
	expect_denied(SECCOMP_ENGINE, CALL_SOCKET_PACKET, "engine", "socket", SYS_socket);
	expect_denied(SECCOMP_ENGINE, CALL_CHDIR, "engine", "chdir", SYS_chdir);
	expect_denied(SECCOMP_ENGINE, CALL_EXECVE, "engine", "execve", SYS_execve);
	expect_allowed(SECCOMP_ENGINE, CALL_ISATTY);
	expect_denied(SECCOMP_ENGINE, CALL_TIOCSTI, "engine", "ioctl", SYS_ioctl);
}

/* What the engine does after its filter is in place passes it. */
static void test_engine_work(void **state)
{
	char dir[] = "/tmp/strata-seccomp-XXXXXX";
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(drift_path, sizeof(drift_path), "%s/drift", dir);
	snprintf(config_path, sizeof(config_path), "%s/stratad.conf", dir);
	f = fopen(config_path, "w");
	assert_non_null(f);
	fputs("sources = ( { server = \"127.0.0.1\"; } );\n", f);
	fclose(f);
	expect_allowed(SECCOMP_ENGINE, CALL_DRIFT_FILE);
	expect_allowed(SECCOMP_ENGINE, CALL_RESOLVE);
	expect_allowed(SECCOMP_ENGINE, CALL_CONFIG_RELOAD);
	unlink(drift_path);
	unlink(config_path);
	rmdir(dir);
}

static void test_engine_threads(void **state)
{
	(void)state;
	expect_denied(SECCOMP_ENGINE, CALL_CHDIR_IN_THREAD, "engine", "chdir", SYS_chdir);
#ifndef __SANITIZE_ADDRESS__
	/* a copy of itself for a reload, yes; a new thread, no (AddressSanitizer's
	 * leak check needs clone, so its builds allow it) */
	expect_denied(SECCOMP_ENGINE, CALL_NEW_THREAD, "engine", "clone", SYS_clone);
#endif
}

/* clock_process = false: the engine makes the clock's calls itself */
static void test_engine_with_clock(void **state)
{
	(void)state;
	expect_denied(SECCOMP_ENGINE, CALL_READ_CLOCK_STATE, "engine", "clock_adjtime", SYS_clock_adjtime);
	expect_allowed(SECCOMP_ENGINE_WITH_CLOCK, CALL_READ_CLOCK_STATE);
	expect_allowed(SECCOMP_ENGINE_WITH_CLOCK, CALL_SOCKET_INET);
	expect_denied(SECCOMP_ENGINE_WITH_CLOCK, CALL_EXECVE, "engine", "execve", SYS_execve);
}

static void test_clock_process(void **state)
{
	(void)state;
	expect_allowed(SECCOMP_CLOCK, CALL_SOCKET_UNIX);
	expect_denied(SECCOMP_CLOCK, CALL_SOCKET_INET, "clock process", "socket", SYS_socket);
	expect_denied(SECCOMP_CLOCK, CALL_UNLINK, "clock process", "unlink", SYS_unlink);
	expect_denied(SECCOMP_CLOCK, CALL_EXECVE, "clock process", "execve", SYS_execve);
}

static void test_janitor(void **state)
{
	(void)state;
	expect_allowed(SECCOMP_JANITOR, CALL_UNLINK);
	expect_denied(SECCOMP_JANITOR, CALL_SOCKET_UNIX, "janitor", "socket", SYS_socket);
	expect_denied(SECCOMP_JANITOR, CALL_CHDIR, "janitor", "chdir", SYS_chdir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_engine),
		cmocka_unit_test(test_nts_ke_thread),
		cmocka_unit_test(test_engine_work),
		cmocka_unit_test(test_engine_threads),
		cmocka_unit_test(test_engine_with_clock),
		cmocka_unit_test(test_clock_process),
		cmocka_unit_test(test_janitor),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
