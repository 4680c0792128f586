/* Copies every sample a writer puts in SHM segment NTP<from> into NTP<to>,
 * so that two readers can each have a segment of their own: a reader clears
 * valid once it has a sample (chronyd does), and of two readers polling one
 * segment at the same rate the one whose phase comes first after the
 * writer's takes every sample. The relay itself never clears valid, and the
 * samples carry their own times, so how late it copies changes nothing a
 * reader computes. Polls every millisecond for the given seconds or until
 * SIGTERM, then says how many samples it copied.
 *   shm_relay FROM TO SECONDS */
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "shm_time.h"

static volatile sig_atomic_t stopping;

static void stop(int sig)
{
	(void)sig;
	stopping = 1;
}

static bool same_times(const struct shm_time *a, const struct shm_time *b)
{
	return a->clock_sec == b->clock_sec && a->clock_usec == b->clock_usec && a->clock_nsec == b->clock_nsec &&
	       a->receive_sec == b->receive_sec && a->receive_usec == b->receive_usec &&
	       a->receive_nsec == b->receive_nsec;
}

/* A consistent copy of a valid sample in *from, or false. */
static bool read_sample(const struct shm_time *from, struct shm_time *out)
{
	int count = from->count;

	__sync_synchronize();
	*out = *from;
	__sync_synchronize();
	return out->valid && (out->mode == 0 || (out->mode == 1 && from->count == count && out->count == count));
}

int main(int argc, char **argv)
{
	struct shm_time *from, *to, sample, last = { 0 };
	long copied = 0;

	if (argc != 4) {
		fprintf(stderr, "usage: shm_relay FROM TO SECONDS\n");
		return 2;
	}
	from = shm_time_attach(atoi(argv[1]));
	to = shm_time_attach(atoi(argv[2]));
	if (!from || !to) {
		perror("shm_relay: shmget/shmat");
		return 1;
	}
	signal(SIGTERM, stop);
	for (long i = 0; i < atof(argv[3]) * 1000 && !stopping; i++) {
		struct timespec pause = { 0, 1000000 };

		if (read_sample(from, &sample) && !same_times(&sample, &last)) {
			shm_time_publish(to, &sample);
			last = sample;
			copied++;
		}
		nanosleep(&pause, NULL);
	}
	fprintf(stderr, "shm_relay: copied %ld samples from NTP%s to NTP%s\n", copied, argv[1], argv[2]);
	return 0;
}
