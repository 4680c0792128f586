/* Leap seconds as decisions: which leap is pending for the end of this UTC
 * day, from the leap table (leap-seconds.list or the right/UTC zone), the
 * upstream servers' majority and the date; and how far served time is
 * smeared around a leap. Pure: times are handed in as Unix seconds. */
#ifndef STRATA_LEAP_H
#define STRATA_LEAP_H

#include <stdbool.h>
#include <stdint.h>

#include "leap_list.h"
#include "packet.h"

/* What stratad does with the system clock at a leap (chrony's leapsecmode). */
enum leap_mode {
	LEAP_MODE_SYSTEM = 0, /* the kernel inserts or deletes it (STA_INS/STA_DEL) */
	LEAP_MODE_STEP,       /* stratad steps the clock by one second at midnight */
	LEAP_MODE_SLEW,       /* stratad slews the second away from midnight on */
	LEAP_MODE_IGNORE,     /* nothing: the clock is one second off and corrected as any error */
};

struct leap_decision {
	enum ntp_leap leap;        /* INSERT, DELETE or NONE at the end of this UTC day */
	bool from_table;           /* an unexpired table decided */
	bool outvoted;             /* the upstream majority said otherwise about this month */
	enum ntp_leap upstream;    /* what the upstream majority said (UNSYNC as NONE) */
};

/* The leap pending at the end of the UTC day holding now. An unexpired table
 * (table NULL: none) decides and outvotes the upstream servers when they
 * announce otherwise for the end of this month; without one, the upstream
 * majority counts, and only on the last day of a month (where leap seconds
 * go; servers announce a leap for weeks before it). */
void leap_decide(const struct leap_table *table, int64_t now, enum ntp_leap upstream,
		 struct leap_decision *out);

/* The next leap second in the table after now, expired or not: *when is the
 * midnight that ends it (Unix seconds), *sign +1 inserted, -1 deleted. false
 * when the table has none after now. */
bool leap_table_next(const struct leap_table *table, int64_t now, int64_t *when, int *sign);

/* The Unix time of the midnight that ends the UTC day holding now, and the
 * one that ends its month. */
int64_t leap_day_end(int64_t now);
int64_t leap_month_end(int64_t now);
/* The UTC date (month 1-12) of Unix time t, without the C library (which
 * counts leap seconds into it when TZ names a right/ zone). */
void leap_civil_date(int64_t t, int *year, int *month, int *day);

enum leap_smear_shape {
	LEAP_SMEAR_OFF = 0,
	LEAP_SMEAR_QUADRATIC, /* from the leap on: the rate grows evenly, then falls (chrony's smoothtime leaponly) */
	LEAP_SMEAR_LINEAR,    /* centred on the leap, at a constant rate (the 24-hour "noon to noon" smear) */
};

#define LEAP_SMEAR_QUADRATIC_DEFAULT 63246.0 /* s: 1 s at chrony's 0.001 ppm/s wander limit, ~17.6 h */
#define LEAP_SMEAR_LINEAR_DEFAULT 86400.0

struct leap_smear {
	enum leap_smear_shape shape;
	double duration;      /* seconds */
};

/* How much (seconds, to add) served time stands away from the clock at now
 * around the leap at leap_when (Unix seconds of the midnight after it; sign
 * +1 inserted, -1 deleted). now is read on the clock, which goes back one
 * second at an inserted leap: applied says whether it has already (the
 * caller knows it from a clock that does not jump). Served time runs on
 * without a jump and agrees with the clock again at the end of the smear. */
double leap_smear_offset(const struct leap_smear *smear, int64_t leap_when, int sign, double now, bool applied);

/* The seconds around leap_when the smear covers: [leap_when + *from, leap_when + *to). */
void leap_smear_window(const struct leap_smear *smear, double *from, double *to);

const char *leap_mode_str(enum leap_mode mode);

#endif
