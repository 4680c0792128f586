/* Starts stratad's clock process (privsep.c, with its privilege drop and
 * seccomp filter) around a fake clock that only prints what it is asked, so
 * the process may keep CAP_SYS_TIME without any clock being touched. Prints
 * what the kernel says about the clock process (/proc/PID/status), the
 * results of sane and insane requests, the tick a slew asks for (which the
 * clock process must wake for by itself) and the round trip of a request.
 * usage: privsep_probe USER [ROUND_TRIPS] */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "privsep.h"

/* snprintf and write(): all the clock process's filter allows the fake */
static void say(const char *what, double value)
{
	char line[96];
	int n = snprintf(line, sizeof(line), "fake clock: %s %+.6f\n", what, value);

	if (write(1, line, (size_t)n) < 0)
		_exit(1);
}

static int fake_step(void *ctx, double offset)
{
	(void)ctx;
	say("step", offset);
	return 0;
}

/* A slew wants its tick 50 ms later, as a slew through the frequency
 * wants its end: the clock process must wake for it on its own. */
static struct timespec tick_due;
static int tick_armed;

static int fake_read(void *ctx, struct timespec *now)
{
	(void)ctx;
	return clock_gettime(CLOCK_REALTIME, now) < 0 ? -errno : 0;
}

static int fake_slew(void *ctx, double offset)
{
	(void)ctx;
	say("slew", offset);
	fake_read(ctx, &tick_due);
	tick_due.tv_nsec += 50000000L;
	if (tick_due.tv_nsec >= 1000000000L) {
		tick_due.tv_sec++;
		tick_due.tv_nsec -= 1000000000L;
	}
	tick_armed = 1;
	return 0;
}

static bool fake_next_tick(void *ctx, struct timespec *when)
{
	(void)ctx;
	*when = tick_due;
	return tick_armed;
}

static void fake_tick(void *ctx)
{
	struct timespec now;

	fake_read(ctx, &now);
	say("tick, late by (s)", (double)(now.tv_sec - tick_due.tv_sec) + (double)(now.tv_nsec - tick_due.tv_nsec) * 1e-9);
	tick_armed = 0;
}

static void fake_finish(void *ctx)
{
	(void)ctx;
	say("finish", 0.0);
}

/* silent: the round trips are timed with it */
static int fake_set_frequency(void *ctx, double ppm)
{
	(void)ctx;
	(void)ppm;
	return 0;
}

static int fake_set_status(void *ctx, const struct clock_status *status)
{
	(void)ctx;
	say(status->synchronized ? "status synchronized, leap" : "status unsynchronized, leap", status->leap);
	return 0;
}

static void print_status(pid_t pid)
{
	char path[64], line[256];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
	f = fopen(path, "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "Uid:", 4) || !strncmp(line, "Cap", 3) || !strncmp(line, "NoNewPrivs:", 11) ||
		    !strncmp(line, "Seccomp:", 8))
			printf("clock process %s", line);
	fclose(f);
}

static int by_value(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double now_mono(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
	struct clock_ops clock = { .read = fake_read, .step = fake_step, .slew = fake_slew,
				   .set_frequency = fake_set_frequency, .set_status = fake_set_status,
				   .max_slew_ppm = 83333.333, .next_tick = fake_next_tick, .tick = fake_tick,
				   .finish = fake_finish };
	struct timespec pause = { 0, 200000000L };
	struct clock_limits limits = clock_limits_for(1000.0, false);
	struct clock_status bad_leap = { .synchronized = true, .leap = NTP_LEAP_UNSYNC };
	struct clock_status good = { .synchronized = true, .leap = NTP_LEAP_INSERT, .max_error = 0.1 };
	struct privsep ps = { 0 };
	int trips = argc > 2 ? atoi(argv[2]) : 10000;
	double *rtt;
	char why[256];

	if (argc < 2 || trips < 1) {
		fprintf(stderr, "usage: privsep_probe USER [ROUND_TRIPS]\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IONBF, 0);
	if (privsep_start_clock(&ps, &clock, &limits, argv[1], true, why, sizeof(why)) < 0) {
		fprintf(stderr, "privsep_probe: %s\n", why);
		return 1;
	}
	/* answered, so the clock process has dropped and confined itself */
	printf("step 0.25: %d\n", clock.step(clock.ctx, 0.25));
	print_status(ps.clock_pid);
	printf("step 5000: %d\n", clock.step(clock.ctx, 5000.0));
	printf("slew -0.5: %d\n", clock.slew(clock.ctx, -0.5));
	nanosleep(&pause, NULL); /* for the tick the slew asked for */
	printf("the engine's max_slew_ppm: %.3f\n", clock.max_slew_ppm);
	printf("frequency 600: %d\n", clock.set_frequency(clock.ctx, 600.0));
	printf("frequency nan: %d\n", clock.set_frequency(clock.ctx, 0.0 / 0.0));
	printf("frequency -12.5: %d\n", clock.set_frequency(clock.ctx, -12.5));
	printf("status leap 3: %d\n", clock.set_status(clock.ctx, &bad_leap));
	printf("status leap 1: %d\n", clock.set_status(clock.ctx, &good));

	rtt = calloc((size_t)trips, sizeof(*rtt));
	if (!rtt)
		return 1;
	for (int i = 0; i < trips; i++) {
		double t0 = now_mono();

		clock.set_frequency(clock.ctx, 1.0);
		rtt[i] = now_mono() - t0;
	}
	qsort(rtt, (size_t)trips, sizeof(*rtt), by_value);
	printf("round trip over %d requests: median %.1f us, 99th percentile %.1f us\n", trips,
	       rtt[trips / 2] * 1e6, rtt[trips * 99 / 100] * 1e6);
	free(rtt);
	privsep_stop(&ps);
	printf("clock process ended\n");
	return 0;
}
