#include "leap_load.h"

#include "leap.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define LIST_MAX_BYTES (256 * 1024)
#define SECONDS_PER_DAY 86400
#define FIRST_UTC_MIDNIGHT 63072000 /* 1972-01-01: TAI - UTC became 10 s */
#define FIRST_TAI 10
#define KNOWN_LEAP_DAY 1483142400   /* 2016-12-31, which ended with 23:59:60 */

int leap_load_list(const char *path, struct leap_table *out, char *err, size_t errlen)
{
	static char text[LIST_MAX_BYTES + 1];
	struct leap_list_error perr;
	/* a FIFO or a device must not stall the start: only a regular file */
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	struct stat st;
	FILE *f;
	size_t n;

	if (fd < 0 || fstat(fd, &st) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode) || !(f = fdopen(fd, "r"))) {
		snprintf(err, errlen, "%s: %s", path, S_ISREG(st.st_mode) ? strerror(errno) : "not a regular file");
		close(fd);
		return -1;
	}
	n = fread(text, 1, sizeof(text), f);
	if (ferror(f) || n > LIST_MAX_BYTES) {
		snprintf(err, errlen, "%s: %s", path, ferror(f) ? "read error" : "larger than 256 KiB");
		fclose(f);
		return -1;
	}
	fclose(f);
	if (leap_list_parse(text, n, out, &perr) == 0)
		return 0;
	if (perr.line)
		snprintf(err, errlen, "%s:%u: %s", path, perr.line, perr.message);
	else
		snprintf(err, errlen, "%s: %s", path, perr.message);
	return -1;
}

/* +1 when the UTC day holding day ends with 23:59:60 in the current zone, -1
 * when it ends at 23:59:58, 0 otherwise. In a zone with leap seconds time_t
 * counts them: 23:59:60 of that day survives mktime and localtime as it is,
 * where another day would normalise it to 00:00:00 (or 00:00:01 when
 * 23:59:59 was deleted). The date is not taken from gmtime, which counts
 * the zone's leap seconds too. */
static int tz_leap(int64_t day)
{
	struct tm tm = { .tm_hour = 23, .tm_min = 59, .tm_sec = 60, .tm_isdst = -1 };
	time_t t;

	leap_civil_date(day, &tm.tm_year, &tm.tm_mon, &tm.tm_mday);
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	t = mktime(&tm);
	if (t == (time_t)-1 || !localtime_r(&t, &tm))
		return 0;
	return tm.tm_sec == 60 ? 1 : tm.tm_sec == 1 ? -1 : 0;
}

static int probe_zone(int64_t now, struct leap_table *out, const char *zone, char *err, size_t errlen)
{
	int tai = FIRST_TAI;

	if (tz_leap(KNOWN_LEAP_DAY) != 1 || tz_leap(KNOWN_LEAP_DAY - SECONDS_PER_DAY) != 0) {
		snprintf(err, errlen,
			 "time zone %s has no leap seconds (no 23:59:60 on 2016-12-31): not a right/ zone, or "
			 "missing from /usr/share/zoneinfo",
			 zone);
		return -1;
	}
	memset(out, 0, sizeof(*out));
	out->expires = LEAP_NEVER_EXPIRES;
	leap_table_add(out, FIRST_UTC_MIDNIGHT, tai);
	for (int64_t month = leap_month_end(FIRST_UTC_MIDNIGHT); month <= now + 400 * SECONDS_PER_DAY;
	     month = leap_month_end(month)) {
		int leap = tz_leap(month - SECONDS_PER_DAY);

		if (leap == 0)
			continue;
		tai += leap;
		if (leap_table_add(out, month, tai) != 0) {
			snprintf(err, errlen, "time zone %s: more than %d leap seconds", zone, LEAP_TABLE_MAX);
			return -1;
		}
	}
	return 0;
}

int leap_load_tz(const char *zone, int64_t now, struct leap_table *out, char *err, size_t errlen)
{
	const char *old = getenv("TZ");
	char *saved = old ? strdup(old) : NULL;
	int rc;

	if (old && !saved) {
		snprintf(err, errlen, "time zone %s: out of memory", zone);
		return -1;
	}
	setenv("TZ", zone, 1);
	tzset();
	rc = probe_zone(now, out, zone, err, errlen);
	if (saved)
		setenv("TZ", saved, 1);
	else
		unsetenv("TZ");
	tzset();
	free(saved);
	return rc;
}
