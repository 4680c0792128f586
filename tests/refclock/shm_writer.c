/* A SHM reference clock of the test's own: writes ntpd's shared memory
 * segment NTP<unit> as gpsd does (mode 1: count bumped around the update,
 * then valid set), every 0.2 s for the given seconds, with the reference
 * time a known offset from the local clock. Independent of strata's code:
 * it lays the segment out itself.
 *   shm_writer UNIT OFFSET SECONDS   (OFFSET: reference - local, seconds) */
#include <stdio.h>
#include <stdlib.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <time.h>

struct shm_time {
	int mode;
	volatile int count;
	time_t clock_sec;
	int clock_usec;
	time_t receive_sec;
	int receive_usec;
	int leap;
	int precision;
	int nsamples;
	volatile int valid;
	unsigned clock_nsec;
	unsigned receive_nsec;
	int dummy[8];
};

int main(int argc, char **argv)
{
	struct shm_time *t;
	int unit, id;
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
	id = shmget(0x4e545030 + unit, sizeof(*t), IPC_CREAT | (unit < 2 ? 0600 : 0666));
	if (id < 0 || (t = shmat(id, NULL, 0)) == (void *)-1) {
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
		t->mode = 1;
		t->count++;
		__sync_synchronize();
		t->clock_sec = ref.tv_sec;
		t->clock_usec = (int)(ref.tv_nsec / 1000);
		t->clock_nsec = (unsigned)ref.tv_nsec;
		t->receive_sec = now.tv_sec;
		t->receive_usec = (int)(now.tv_nsec / 1000);
		t->receive_nsec = (unsigned)now.tv_nsec;
		t->leap = 0;
		t->precision = -20;
		t->nsamples = 3;
		__sync_synchronize();
		t->count++;
		t->valid = 1;
		nanosleep(&pause, NULL);
	}
	return 0;
}
