/* ntpd's struct shmTime as gpsd and chrony lay it out on Linux, written out
 * here rather than taken from strata's src/refclock_decode.h, so that the
 * test programs check strata's layout instead of sharing it. */
#ifndef TESTS_REFCLOCK_SHM_TIME_H
#define TESTS_REFCLOCK_SHM_TIME_H

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

#define SHM_TIME_KEY(unit) (0x4e545030 + (unit)) /* "NTP0" + unit */

/* NTP<unit>, created if absent (units 0 and 1 for root only, as ntpd has
 * them); NULL with errno set on failure. */
struct shm_time *shm_time_attach(int unit);

/* sample's times, leap, precision and nsamples into t as gpsd writes them
 * (mode 1: count bumped around the update, valid set last). */
void shm_time_publish(struct shm_time *t, const struct shm_time *sample);

#endif
