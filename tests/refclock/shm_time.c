/* Attaching and writing ntpd's SHM segments, for the test programs that
 * play a reference clock. */
#include <sys/ipc.h>
#include <sys/shm.h>

#include "shm_time.h"

struct shm_time *shm_time_attach(int unit)
{
	int id = shmget(SHM_TIME_KEY(unit), sizeof(struct shm_time), IPC_CREAT | (unit < 2 ? 0600 : 0666));
	void *p;

	if (id < 0)
		return NULL;
	p = shmat(id, NULL, 0);
	return p == (void *)-1 ? NULL : p;
}

void shm_time_publish(struct shm_time *t, const struct shm_time *sample)
{
	t->valid = 0;
	t->mode = 1;
	t->count++;
	__sync_synchronize();
	t->clock_sec = sample->clock_sec;
	t->clock_usec = sample->clock_usec;
	t->clock_nsec = sample->clock_nsec;
	t->receive_sec = sample->receive_sec;
	t->receive_usec = sample->receive_usec;
	t->receive_nsec = sample->receive_nsec;
	t->leap = sample->leap;
	t->precision = sample->precision;
	t->nsamples = sample->nsamples;
	__sync_synchronize();
	t->count++;
	t->valid = 1;
}
