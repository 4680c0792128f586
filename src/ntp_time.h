/* NTP timestamps (RFC 5905) and the one place where they meet struct timespec.
 *
 * Absolute times inside strata are struct timespec (CLOCK_REALTIME, Unix epoch);
 * differences and small quantities are double seconds. The 64-bit NTP format
 * appears only at the packet boundary, converted here. */
#ifndef STRATA_NTP_TIME_H
#define STRATA_NTP_TIME_H

#include <stdint.h>
#include <time.h>

/* Seconds since 1900 in the high 32 bits (era-less), binary fraction in the low 32. */
typedef uint64_t ntp_ts;

/* Seconds from the NTP epoch (1900) to the Unix epoch (1970). */
#define NTP_UNIX_EPOCH_DELTA 2208988800u

ntp_ts ntp_ts_from_timespec(struct timespec t);

/* The era is ambiguous in the packet: place ts in the era that puts it closest
 * to pivot (normally the local clock), so timestamps around 2036 and later map
 * to the right year. */
struct timespec ntp_ts_to_timespec(ntp_ts ts, struct timespec pivot);

/* a - b in seconds, for two timestamps less than 68 years apart (the era
 * wrap is handled by two's complement arithmetic). */
double ntp_ts_diff(ntp_ts a, ntp_ts b);

/* NTP short format (16.16 unsigned seconds), used for root delay and
 * dispersion; conversion from seconds saturates instead of wrapping. */
uint32_t ntp_short_from_seconds(double seconds);
double ntp_short_to_seconds(uint32_t short_format);

double timespec_diff(struct timespec a, struct timespec b);
struct timespec timespec_add(struct timespec t, double seconds);
double timespec_to_double(struct timespec t);

#endif
