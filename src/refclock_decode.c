#include "refclock_decode.h"

#include <math.h>
#include <string.h>

#include "ntp_time.h"

#define NSEC_PER_SEC 1000000000L

static enum ntp_leap leap_of(int leap)
{
	switch (leap) {
	case 1: return NTP_LEAP_INSERT;
	case 2: return NTP_LEAP_DELETE;
	case 3: return NTP_LEAP_UNSYNC;
	default: return NTP_LEAP_NONE;
	}
}

/* The nanoseconds when the writer filled them in consistently with the
 * microseconds (old writers leave them 0 or stale), else the microseconds. */
static long nanoseconds(int usec, unsigned nsec)
{
	if (nsec < NSEC_PER_SEC && (long)nsec / 1000 == usec)
		return (long)nsec;
	return (long)usec * 1000;
}

/* b - a in seconds, exact for times years apart (a wrong year must give
 * an honest offset, not a rounded one). */
static double seconds_between(time_t a_sec, long a_nsec, time_t b_sec, long b_nsec)
{
	return (double)(b_sec - a_sec) + (double)(b_nsec - a_nsec) * 1e-9;
}

static bool same_sample(const struct refclock_shm_segment *a, const struct refclock_shm_segment *b)
{
	return a->receive_sec == b->receive_sec && a->receive_usec == b->receive_usec &&
	       a->receive_nsec == b->receive_nsec && a->clock_sec == b->clock_sec &&
	       a->clock_usec == b->clock_usec && a->clock_nsec == b->clock_nsec;
}

enum refclock_shm_status refclock_shm_decode(const struct refclock_shm_segment *copy, int count_after,
					     const struct refclock_shm_segment *last, double offset,
					     struct refclock_reading *out)
{
	long clock_ns, receive_ns;

	if (copy->mode != 0 && copy->mode != 1)
		return REFCLOCK_SHM_BAD_MODE;
	if (!copy->valid)
		return REFCLOCK_SHM_NOT_VALID;
	if (copy->mode == 1 && copy->count != count_after)
		return REFCLOCK_SHM_TORN;
	if (last && same_sample(copy, last))
		return REFCLOCK_SHM_SEEN;
	if (copy->clock_usec < 0 || copy->clock_usec >= 1000000 || copy->receive_usec < 0 ||
	    copy->receive_usec >= 1000000)
		return REFCLOCK_SHM_BAD_TIME;
	clock_ns = nanoseconds(copy->clock_usec, copy->clock_nsec);
	receive_ns = nanoseconds(copy->receive_usec, copy->receive_nsec);
	*out = (struct refclock_reading){
		.time = { .tv_sec = copy->receive_sec, .tv_nsec = receive_ns },
		.offset = seconds_between(copy->receive_sec, receive_ns, copy->clock_sec, clock_ns) + offset,
		.leap = leap_of(copy->leap),
	};
	return REFCLOCK_SHM_OK;
}

enum refclock_sock_status refclock_sock_decode(const void *buf, size_t len, double offset,
					       struct refclock_reading *out)
{
	struct refclock_sock_sample s;

	if (len != sizeof(s))
		return REFCLOCK_SOCK_BAD_LENGTH;
	memcpy(&s, buf, sizeof(s));
	if (s.magic != REFCLOCK_SOCK_MAGIC)
		return REFCLOCK_SOCK_BAD_MAGIC;
	if (s.tv.tv_usec < 0 || s.tv.tv_usec >= 1000000 || !isfinite(s.offset))
		return REFCLOCK_SOCK_BAD_TIME;
	*out = (struct refclock_reading){
		.time = { .tv_sec = s.tv.tv_sec, .tv_nsec = (long)s.tv.tv_usec * 1000 },
		.offset = s.offset + offset,
		.leap = leap_of(s.leap),
		.pulse = s.pulse != 0,
	};
	return REFCLOCK_SOCK_OK;
}

bool refclock_pps_number(struct timespec edge, double offset, bool have_lock, double lock_offset,
			 struct refclock_reading *out)
{
	/* the second starts at the edge: true - local is minus the fraction */
	double sample = offset - (double)edge.tv_nsec * 1e-9;

	sample -= floor(sample + 0.5); /* into [-0.5, 0.5) */
	if (have_lock) {
		sample += floor(lock_offset - sample + 0.5);
		if (fabs(lock_offset - sample) > REFCLOCK_PPS_LOCK_LIMIT)
			return false;
	}
	*out = (struct refclock_reading){ .time = edge, .offset = sample, .leap = NTP_LEAP_NONE, .pulse = true };
	return true;
}

bool refclock_phc_offset(const struct refclock_phc_triple *triples, size_t n, double offset,
			 struct refclock_reading *out)
{
	const struct refclock_phc_triple *best = NULL;
	double best_delay = 0.0;
	struct timespec mid;

	for (size_t i = 0; i < n; i++) {
		double delay = timespec_diff(triples[i].sys_after, triples[i].sys_before);

		if (delay >= 0.0 && (!best || delay < best_delay)) {
			best = &triples[i];
			best_delay = delay;
		}
	}
	if (!best)
		return false;
	mid = timespec_add(best->sys_before, best_delay / 2);
	*out = (struct refclock_reading){
		.time = mid,
		.offset = seconds_between(mid.tv_sec, mid.tv_nsec, best->phc.tv_sec, best->phc.tv_nsec) + offset,
		.delay = best_delay,
		.leap = NTP_LEAP_NONE,
	};
	return true;
}

const char *refclock_shm_status_str(enum refclock_shm_status status)
{
	switch (status) {
	case REFCLOCK_SHM_OK: return "ok";
	case REFCLOCK_SHM_NOT_VALID: return "no sample";
	case REFCLOCK_SHM_SEEN: return "sample already read";
	case REFCLOCK_SHM_TORN: return "segment changed while read";
	case REFCLOCK_SHM_BAD_MODE: return "unknown mode";
	case REFCLOCK_SHM_BAD_TIME: return "time fields out of range";
	}
	return "?";
}

const char *refclock_sock_status_str(enum refclock_sock_status status)
{
	switch (status) {
	case REFCLOCK_SOCK_OK: return "ok";
	case REFCLOCK_SOCK_BAD_LENGTH: return "wrong length";
	case REFCLOCK_SOCK_BAD_MAGIC: return "wrong magic number";
	case REFCLOCK_SOCK_BAD_TIME: return "time fields out of range";
	}
	return "?";
}
