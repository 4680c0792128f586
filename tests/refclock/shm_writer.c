/* A SHM reference clock of the test's own: writes ntpd's shared memory
 * segment NTP<unit> as gpsd does (mode 1: count bumped around the update,
 * then valid set), every 0.2 s for the given seconds, with the reference
 * time a known offset from the local clock. Independent of strata's code:
 * it lays the segment out itself.
 *   shm_writer UNIT OFFSET SECONDS   (OFFSET: reference - local, seconds) */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "shm_time.h"

int main(int argc, char **argv)
{
	struct shm_time *t;
	int unit;
	double offset, seconds;
	long long offset_ns;

	if (argc != 4) {
		fprintf(stderr, "usage: shm_writer UNIT OFFSET SECONDS\n");
		return 2;
	}
	unit = atoi(argv[1]);
	offset = atof(argv[2]);
	seconds = atof(argv[3]);
	offset_ns = (long long)(offset * 1e9 + (offset >= 0 ? 0.5 : -0.5));
	t = shm_time_attach(unit);
	if (!t) {
		perror("shm_writer: shmget/shmat");
		return 1;
	}
	for (int i = 0; i < seconds * 5; i++) {
		struct timespec now, ref, pause = { 0, 200000000 };
		long long ns;

		clock_gettime(CLOCK_REALTIME, &now);
		ns = (long long)now.tv_sec * 1000000000LL + now.tv_nsec + offset_ns;
		ref.tv_sec = (time_t)(ns / 1000000000LL);
		ref.tv_nsec = (long)(ns % 1000000000LL);
		shm_time_publish(t, &(struct shm_time){
			.clock_sec = ref.tv_sec,
			.clock_usec = (int)(ref.tv_nsec / 1000),
			.clock_nsec = (unsigned)ref.tv_nsec,
			.receive_sec = now.tv_sec,
			.receive_usec = (int)(now.tv_nsec / 1000),
			.receive_nsec = (unsigned)now.tv_nsec,
			.precision = -20,
			.nsamples = 3,
		});
		nanosleep(&pause, NULL);
	}
	return 0;
}
