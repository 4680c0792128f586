/* What a reference clock's raw reading means, pure: the SHM segment gpsd
 * (or ntpd's drivers) write, the datagram of chrony's SOCK protocol, a PPS
 * edge numbered with the second its lock gives, and a PHC offset from the
 * system/PHC/system readings of the PTP_SYS_OFFSET ioctls. The edges
 * (refclock_io.c) only copy bytes and timestamps out of the kernel. */
#ifndef STRATA_REFCLOCK_DECODE_H
#define STRATA_REFCLOCK_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>
#include <sys/time.h>

#include "refclock.h"

/* ntpd's struct shmTime, as gpsd and chrony lay it out on Linux. */
struct refclock_shm_segment {
	int mode;               /* 0: valid is the only handshake; 1: count must not move during the read */
	int count;              /* the writer increments it around every update (mode 1) */
	time_t clock_sec;       /* the reference's time */
	int clock_usec;
	time_t receive_sec;     /* the local clock when the reference said so */
	int receive_usec;
	int leap;               /* 0: none, 1: insert, 2: delete, 3: unsynchronized */
	int precision;
	int nsamples;
	int valid;              /* the writer sets it, the reader clears it */
	unsigned clock_nsec;    /* the same times in nanoseconds, when the writer fills them in */
	unsigned receive_nsec;
	int dummy[8];
};

#define REFCLOCK_SHM_KEY_BASE 0x4e545030 /* "NTP0" */

enum refclock_shm_status {
	REFCLOCK_SHM_OK = 0,
	REFCLOCK_SHM_NOT_VALID,   /* no sample (valid clear: none yet, being written, or taken by a reader
				     that clears it) */
	REFCLOCK_SHM_SEEN,        /* the sample read last time (same receive and clock times) */
	REFCLOCK_SHM_TORN,        /* mode 1 and the count moved while we copied it: read again later */
	REFCLOCK_SHM_BAD_MODE,
	REFCLOCK_SHM_BAD_TIME,    /* microseconds or nanoseconds out of range */
};

/* copy: the segment as copied; count_after: its count read again after the
 * copy; last: the sample read before (NULL: none), so that a sample is taken
 * once without clearing valid. offset: the configured offset, added to the
 * sample's. */
enum refclock_shm_status refclock_shm_decode(const struct refclock_shm_segment *copy, int count_after,
					     const struct refclock_shm_segment *last, double offset,
					     struct refclock_reading *out);

/* chrony's SOCK datagram (refclock_sock.c's struct sock_sample); gpsd sends it. */
struct refclock_sock_sample {
	struct timeval tv;      /* the local time of the sample */
	double offset;          /* true - local, seconds */
	int pulse;              /* a PPS sample: only the offset's fraction of a second means anything */
	int leap;               /* as in SHM */
	int pad;
	int magic;              /* REFCLOCK_SOCK_MAGIC */
};

#define REFCLOCK_SOCK_MAGIC 0x534f434b /* "SOCK" */

enum refclock_sock_status {
	REFCLOCK_SOCK_OK = 0,
	REFCLOCK_SOCK_BAD_LENGTH,
	REFCLOCK_SOCK_BAD_MAGIC,
	REFCLOCK_SOCK_BAD_TIME,   /* microseconds out of range, or an offset that is not a number */
};

enum refclock_sock_status refclock_sock_decode(const void *buf, size_t len, double offset,
					       struct refclock_reading *out);

/* A pulse at local time edge marks the start of a second (plus the
 * configured offset). Without a lock (have_lock false) only the fraction is
 * known: the offset lands in [-0.5, 0.5). With one, the lock's offset
 * (true - local, from the refclock or source that numbers the seconds)
 * picks the second; false when the two disagree on the fraction by more
 * than REFCLOCK_PPS_LOCK_LIMIT (the lock is off, or the pulse is stray). */
bool refclock_pps_number(struct timespec edge, double offset, bool have_lock, double lock_offset,
			 struct refclock_reading *out);

/* One sandwich of a PTP_SYS_OFFSET* ioctl: the system clock before and
 * after reading the PHC (equal for _PRECISE, which is cross-timestamped). */
struct refclock_phc_triple {
	struct timespec sys_before;
	struct timespec phc;
	struct timespec sys_after;
};

/* The triple read fastest (least after - before) gives the offset PHC -
 * system midpoint (plus the configured offset), its delay and its time.
 * False when no triple has after >= before. */
bool refclock_phc_offset(const struct refclock_phc_triple *triples, size_t n, double offset,
			 struct refclock_reading *out);

const char *refclock_shm_status_str(enum refclock_shm_status status);
const char *refclock_sock_status_str(enum refclock_sock_status status);

#endif
