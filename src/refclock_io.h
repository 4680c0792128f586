/* The reference clocks' drivers, thin edges: attach the SHM segment, bind
 * the SOCK socket, open /dev/ppsN and /dev/ptpN (all before privileges are
 * dropped), then copy readings out of them. What a reading means is
 * refclock_decode.c's. The PPS and PHC ioctls go through an injectable
 * function so the unit tests can play the kernel. */
#ifndef STRATA_REFCLOCK_IO_H
#define STRATA_REFCLOCK_IO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "refclock.h"
#include "refclock_decode.h"

/* ioctl(2) as the drivers call it: 0, or -1 with errno set. */
typedef int (*refclock_ioctl_fn)(int fd, unsigned long request, void *arg);
int refclock_ioctl_system(int fd, unsigned long request, void *arg);

/* SHM unit n: the segment with key NTP0 + n, created when missing as chrony
 * and ntpd do (mode 0600 for units 0 and 1, which only root may write,
 * 0666 above). NULL with a message in why. */
volatile struct refclock_shm_segment *refclock_shm_attach(unsigned unit, char *why, size_t why_len);
void refclock_shm_detach(volatile struct refclock_shm_segment *segment);
/* Copies the segment and decodes it. Unlike ntpd and chrony it never
 * clears valid: a sample is told from the last one (*last, updated) by its
 * times, so chronyd or ntpd can read the same segment beside stratad, each
 * seeing every sample it reads before another reader clears valid. */
enum refclock_shm_status refclock_shm_read(volatile struct refclock_shm_segment *segment,
					   struct refclock_shm_segment *last, double offset,
					   struct refclock_reading *out);

/* The SOCK driver's datagram socket at path (a stale one is replaced),
 * non-blocking: the fd, or -1 with a message in why. */
int refclock_sock_open(const char *path, char *why, size_t why_len);

struct refclock_pps {
	int fd;
	bool clear_edge;
	uint32_t last_sequence;
	bool have_sequence;
	refclock_ioctl_fn ioctl;
};

/* Opens /dev/ppsN and makes it capture the edge wanted (PPS_SETPARAMS, which
 * needs CAP_SYS_TIME, only when it does not already). 0, or -1 with why. */
int refclock_pps_open(struct refclock_pps *pps, const char *path, bool clear_edge, refclock_ioctl_fn ioctl_fn,
		      char *why, size_t why_len);
/* The edge captured since the last call, without waiting (PPS_FETCH with a
 * zero timeout): 1 with its local time in *edge, 0 when none is new, -1 on
 * an error (errno). */
int refclock_pps_fetch(struct refclock_pps *pps, struct timespec *edge);

enum refclock_phc_method {
	REFCLOCK_PHC_PRECISE = 0, /* cross-timestamped by the hardware */
	REFCLOCK_PHC_EXTENDED,    /* system/PHC/system sandwiches, taken by the driver */
	REFCLOCK_PHC_PLAIN,       /* interleaved system and PHC readings */
	REFCLOCK_PHC_NONE,        /* none works */
};

#define REFCLOCK_PHC_SAMPLES 10

struct refclock_phc {
	int fd;
	enum refclock_phc_method method; /* the best one that worked */
	refclock_ioctl_fn ioctl;
};

int refclock_phc_open(struct refclock_phc *phc, const char *path, refclock_ioctl_fn ioctl_fn, char *why,
		      size_t why_len);
/* Reads the PHC against CLOCK_REALTIME with the best method the device
 * supports, falling back when one is not supported. Fills in up to
 * REFCLOCK_PHC_SAMPLES triples; returns how many, or -1 (errno). */
int refclock_phc_read(struct refclock_phc *phc, struct refclock_phc_triple *triples);

const char *refclock_phc_method_str(enum refclock_phc_method method);

#endif
