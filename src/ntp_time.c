#include "ntp_time.h"

#include <math.h>

#define FRAC_PER_SECOND 4294967296.0
#define NSEC_PER_SEC 1000000000L

ntp_ts ntp_ts_from_timespec(struct timespec t)
{
	uint32_t seconds = (uint32_t)((uint64_t)t.tv_sec + NTP_UNIX_EPOCH_DELTA);
	/* Round to nearest: ns -> 2^-32 s, exact for every ns value. */
	uint64_t fraction = (((uint64_t)t.tv_nsec << 32) + NSEC_PER_SEC / 2) / NSEC_PER_SEC;

	if (fraction >> 32) {
		fraction = 0;
		seconds++;
	}
	return ((ntp_ts)seconds << 32) | fraction;
}

struct timespec ntp_ts_to_timespec(ntp_ts ts, struct timespec pivot)
{
	/* The pivot's own NTP seconds (mod 2^32) tell how far ts is from it;
	 * the signed 32-bit distance puts ts within +-68 years of the pivot. */
	uint32_t pivot_ntp_seconds = (uint32_t)((uint64_t)pivot.tv_sec + NTP_UNIX_EPOCH_DELTA);
	int32_t seconds_from_pivot = (int32_t)((uint32_t)(ts >> 32) - pivot_ntp_seconds);
	uint64_t fraction = ts & 0xffffffffu;
	struct timespec t;

	t.tv_sec = pivot.tv_sec + seconds_from_pivot;
	t.tv_nsec = (long)((fraction * NSEC_PER_SEC + (1ULL << 31)) >> 32);
	if (t.tv_nsec >= NSEC_PER_SEC) {
		t.tv_nsec -= NSEC_PER_SEC;
		t.tv_sec++;
	}
	return t;
}

double ntp_ts_diff(ntp_ts a, ntp_ts b)
{
	return (double)(int64_t)(a - b) / FRAC_PER_SECOND;
}

uint32_t ntp_short_from_seconds(double seconds)
{
	double units = seconds * 65536.0;

	if (!(units > 0.0))
		return 0;
	if (units >= (double)UINT32_MAX)
		return UINT32_MAX;
	return (uint32_t)lround(units);
}

double ntp_short_to_seconds(uint32_t short_format)
{
	return short_format / 65536.0;
}

double timespec_diff(struct timespec a, struct timespec b)
{
	return (double)(a.tv_sec - b.tv_sec) + (double)(a.tv_nsec - b.tv_nsec) / NSEC_PER_SEC;
}

struct timespec timespec_add(struct timespec t, double seconds)
{
	double whole = floor(seconds);
	long nsec = t.tv_nsec + lround((seconds - whole) * NSEC_PER_SEC);

	t.tv_sec += (time_t)whole;
	while (nsec >= NSEC_PER_SEC) {
		nsec -= NSEC_PER_SEC;
		t.tv_sec++;
	}
	while (nsec < 0) {
		nsec += NSEC_PER_SEC;
		t.tv_sec--;
	}
	t.tv_nsec = nsec;
	return t;
}

double timespec_to_double(struct timespec t)
{
	return (double)t.tv_sec + (double)t.tv_nsec / NSEC_PER_SEC;
}
