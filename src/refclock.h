/* Reference clocks: what a configured refclock is and what its driver
 * hands the core. A refclock is a source of stratum 0: its samples go
 * through the same clock filter, selection and discipline as NTP replies.
 * Drivers (refclock_io.c) are thin edges; what a reading means is decided
 * in refclock_decode.c, and a poll's worth of readings becomes one sample in
 * refclock_filter.c, both pure. */
#ifndef STRATA_REFCLOCK_H
#define STRATA_REFCLOCK_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "packet.h" /* enum ntp_leap */

#define REFCLOCK_DEVICE_LEN 108 /* a SOCK path must fit in sun_path */
#define REFCLOCK_REFID_LEN 5    /* four characters and the NUL */
#define REFCLOCK_LOCK_LEN 256   /* a refclock's refid or a server's name */
#define REFCLOCK_DEFAULT_POLL 4 /* log2 seconds, as chrony's refclock */
#define REFCLOCK_DEFAULT_DPOLL 0 /* log2 seconds between reads of a driver, as chrony's */
#define REFCLOCK_DEFAULT_FILTER 64
#define REFCLOCK_MAX_FILTER 256
#define REFCLOCK_DEFAULT_PRECISION 1e-6 /* seconds */
#define REFCLOCK_DEFAULT_DELAY 1e-9     /* seconds */
/* A PPS edge is numbered from its lock's offset only when the two agree
 * on the fraction within this (seconds): else the lock is a second off or
 * the pulse is not the one it should be. */
#define REFCLOCK_PPS_LOCK_LIMIT 0.2

enum refclock_driver {
	REFCLOCK_SHM = 0,       /* ntpd/chrony shared memory segment NTP<unit> (gpsd writes it) */
	REFCLOCK_SOCK,          /* chrony's Unix datagram socket protocol (gpsd sends to it) */
	REFCLOCK_PPS,           /* RFC 2783 /dev/ppsN */
	REFCLOCK_PHC,           /* PTP hardware clock /dev/ptpN */
};

struct refclock_config {
	enum refclock_driver driver;
	char device[REFCLOCK_DEVICE_LEN]; /* SHM: the unit ("0"); else a path */
	char refid[REFCLOCK_REFID_LEN];   /* also its name in status */
	double offset;          /* seconds added to every sample's offset (cable, receiver delay) */
	double delay;           /* seconds, the sample's round-trip delay as selection sees it */
	double precision;       /* seconds, the sample's precision */
	int poll;               /* log2 seconds between samples given to the core */
	int dpoll;              /* log2 seconds between reads of SHM, PPS and PHC (at most poll) */
	unsigned filter;        /* readings kept per poll; the middle ones are averaged */
	char lock[REFCLOCK_LOCK_LEN]; /* PPS, SOCK: what numbers the pulses' seconds: a refclock's refid
				       or a configured server's name; "": none */
	bool clear_edge;        /* PPS: the clear edge instead of assert */
	bool prefer, noselect, trust, require; /* chrony's selection options, as a server's */
	unsigned line;          /* where it was configured, for messages */
};

/* One reading from a driver. Times on the local clock as read then. */
struct refclock_reading {
	struct timespec time;   /* local time of the reading */
	double offset;          /* seconds, true - local, the configured offset included */
	double delay;           /* seconds: how long the reading itself took (PHC), else 0 */
	enum ntp_leap leap;
	bool pulse;             /* SOCK: a PPS reading, only the fraction of a second is known */
};

#endif
