#include "leap.h"

#define SECONDS_PER_DAY 86400

int64_t leap_day_end(int64_t now)
{
	int64_t day = now / SECONDS_PER_DAY - (now % SECONDS_PER_DAY < 0);

	return (day + 1) * SECONDS_PER_DAY;
}

/* Days since 1970-01-01 of a civil date (proleptic Gregorian; month 1-12),
 * and back: plain arithmetic, since the C library's gmtime and timegm apply
 * leap seconds of their own when TZ names a right/ zone. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

void leap_civil_date(int64_t t, int *year, int *month, int *day)
{
	int64_t z = t / SECONDS_PER_DAY - (t % SECONDS_PER_DAY < 0) + 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;

	*day = (int)(doy - (153 * mp + 2) / 5 + 1);
	*month = (int)(mp < 10 ? mp + 3 : mp - 9);
	*year = (int)(yoe + era * 400 + (*month <= 2));
}

int64_t leap_month_end(int64_t now)
{
	int y, m, d;

	leap_civil_date(now, &y, &m, &d);
	return days_from_civil(m == 12 ? y + 1 : y, m == 12 ? 1 : m + 1, 1) * SECONDS_PER_DAY;
}

/* The leap the table has at the midnight when. */
static enum ntp_leap table_leap_at(const struct leap_table *table, int64_t when)
{
	for (size_t i = 1; i < table->count; i++) {
		if (table->when[i] != when)
			continue;
		return table->tai[i] > table->tai[i - 1] ? NTP_LEAP_INSERT : NTP_LEAP_DELETE;
	}
	return NTP_LEAP_NONE;
}

bool leap_table_next(const struct leap_table *table, int64_t now, int64_t *when, int *sign)
{
	for (size_t i = 1; i < table->count; i++) {
		if (table->when[i] <= now)
			continue;
		*when = table->when[i];
		*sign = table->tai[i] > table->tai[i - 1] ? 1 : -1;
		return true;
	}
	return false;
}

void leap_decide(const struct leap_table *table, int64_t now, enum ntp_leap upstream, struct leap_decision *out)
{
	int64_t day_end = leap_day_end(now);
	bool last_day = leap_month_end(now) == day_end;

	*out = (struct leap_decision){ .upstream = upstream == NTP_LEAP_UNSYNC ? NTP_LEAP_NONE : upstream };
	if (table && table->count > 0 && now < table->expires) {
		out->from_table = true;
		out->leap = table_leap_at(table, day_end);
		/* servers announce a month ahead, or only on the day */
		out->outvoted = (out->upstream != NTP_LEAP_NONE &&
				 out->upstream != table_leap_at(table, leap_month_end(now))) ||
				(last_day && out->upstream != out->leap);
		return;
	}
	out->leap = last_day ? out->upstream : NTP_LEAP_NONE;
}

/* The part of the leap second served time has taken in, 0 to 1, at x (0 to 1)
 * of the smear. */
static double smear_fraction(enum leap_smear_shape shape, double x)
{
	if (x <= 0.0)
		return 0.0;
	if (x >= 1.0)
		return 1.0;
	if (shape == LEAP_SMEAR_LINEAR)
		return x;
	return x < 0.5 ? 2.0 * x * x : 1.0 - 2.0 * (1.0 - x) * (1.0 - x);
}

void leap_smear_window(const struct leap_smear *smear, double *from, double *to)
{
	*from = smear->shape == LEAP_SMEAR_LINEAR ? -smear->duration / 2.0 : 0.0;
	*to = *from + smear->duration;
	if (smear->shape == LEAP_SMEAR_OFF)
		*from = *to = 0.0;
}

double leap_smear_offset(const struct leap_smear *smear, int64_t leap_when, int sign, double now, bool applied)
{
	/* time that does not jump: the clock plus the leap it has taken */
	double continuous = now + (applied ? sign : 0) - (double)leap_when;
	double from, to;

	if (smear->shape == LEAP_SMEAR_OFF || smear->duration <= 0.0)
		return 0.0;
	leap_smear_window(smear, &from, &to);
	return (applied ? sign : 0) - sign * smear_fraction(smear->shape, (continuous - from) / (to - from));
}

const char *leap_mode_str(enum leap_mode mode)
{
	switch (mode) {
	case LEAP_MODE_SYSTEM: return "system";
	case LEAP_MODE_STEP: return "step";
	case LEAP_MODE_SLEW: return "slew";
	case LEAP_MODE_IGNORE: return "ignore";
	}
	return "?";
}
