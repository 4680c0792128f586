#include "history_log.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "netaddr.h"

static const char *const file_names[HISTORY_FILES] = { "measurements.log", "statistics.log", "tracking.log" };

static const char *const headers[HISTORY_FILES] = {
	"# Date      Time(UTC)       Address         L St Poll       Offset        Delay        Error Refid    "
	"M Name",
	"# Date      Time(UTC)       Address         Samples Runs      Span       Offset       StdDev ResidFreq(ppm)"
	"  Skew(ppm)",
	"# Date      Time(UTC)       Reference       St     Freq(ppm) ResidFreq(ppm)  Skew(ppm)       Offset    RMSOffset"
	"    RootDelay     RootDisp L Steps",
};

struct history_log {
	char dir[CONFIG_PATH_LEN];
	bool wanted[HISTORY_FILES];
	FILE *files[HISTORY_FILES];
};

static void open_one(struct history_log *hl, enum history_file which)
{
	char path[CONFIG_PATH_LEN + 32];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", hl->dir, file_names[which]);
	f = fopen(path, "ae");
	if (!f) {
		log_msg(LOG_LEVEL_ERROR, "%s: cannot open the %s log: %s", path, file_names[which], strerror(errno));
		return;
	}
	setvbuf(f, NULL, _IOLBF, 0); /* whole lines, at once: readers tail them */
	history_log_header(which, f);
	hl->files[which] = f;
}

struct history_log *history_log_open(const struct config_history *cfg)
{
	struct history_log *hl;

	if (!cfg->measurements && !cfg->statistics && !cfg->tracking)
		return NULL;
	hl = calloc(1, sizeof(*hl));
	if (!hl) {
		log_msg(LOG_LEVEL_ERROR, "history logs: out of memory");
		return NULL;
	}
	snprintf(hl->dir, sizeof(hl->dir), "%s", cfg->dir);
	hl->wanted[HISTORY_MEASUREMENTS] = cfg->measurements;
	hl->wanted[HISTORY_STATISTICS] = cfg->statistics;
	hl->wanted[HISTORY_TRACKING] = cfg->tracking;
	for (int i = 0; i < HISTORY_FILES; i++)
		if (hl->wanted[i])
			open_one(hl, (enum history_file)i);
	return hl;
}

static void close_files(struct history_log *hl)
{
	for (int i = 0; i < HISTORY_FILES; i++) {
		if (hl->files[i])
			fclose(hl->files[i]);
		hl->files[i] = NULL;
	}
}

void history_log_close(struct history_log *hl)
{
	if (!hl)
		return;
	close_files(hl);
	free(hl);
}

void history_log_reopen(struct history_log *hl)
{
	if (!hl)
		return;
	close_files(hl);
	for (int i = 0; i < HISTORY_FILES; i++)
		if (hl->wanted[i])
			open_one(hl, (enum history_file)i);
}

bool history_log_wants(const struct history_log *hl, enum history_file which)
{
	return hl && hl->files[which];
}

void history_log_header(enum history_file which, FILE *out)
{
	fprintf(out, "%s\n", headers[which]);
}

/* "YYYY-MM-DD HH:MM:SS.uuuuuu", UTC. */
static void print_time(struct timespec t, FILE *out)
{
	struct tm tm;
	char day[32];

	if (!gmtime_r(&t.tv_sec, &tm) || !strftime(day, sizeof(day), "%Y-%m-%d %H:%M:%S", &tm))
		snprintf(day, sizeof(day), "0000-00-00 00:00:00");
	fprintf(out, "%s.%06ld", day, t.tv_nsec / 1000);
}

static char leap_char(enum ntp_leap leap)
{
	switch (leap) {
	case NTP_LEAP_NONE:
		return 'N';
	case NTP_LEAP_INSERT:
		return '+';
	case NTP_LEAP_DELETE:
		return '-';
	default:
		return '?';
	}
}

void history_log_format_measurement(const struct source_status *s, struct timespec rx_time, FILE *out)
{
	char addr[NETADDR_TEXT_LEN];

	netaddr_format(&s->addr, addr, sizeof(addr));
	print_time(rx_time, out);
	fprintf(out, " %-15s %c %2u %4d %+12.9f %12.9f %12.9f %08" PRIX32 " %c %s\n", addr, leap_char(s->leap),
		s->stratum, s->poll, s->last_offset, s->last_delay, s->last_error, s->refid, s->last_interleaved ? 'I' : 'B',
		s->name[0] ? s->name : "-");
}

void history_log_format_statistics(const struct source_status *s, struct timespec at, FILE *out)
{
	char addr[NETADDR_TEXT_LEN];

	netaddr_format(&s->addr, addr, sizeof(addr));
	print_time(at, out);
	fprintf(out, " %-15s %7u %4u %9.3f %+12.9f %12.9f %+14.6f %10.6f\n", addr, s->samples, s->runs, s->span,
		s->stats_offset, s->std_dev, s->residual_frequency_ppm, s->skew_ppm);
}

void history_log_format_tracking(const struct engine_tracking *t, FILE *out)
{
	char addr[NETADDR_TEXT_LEN + sizeof(t->reference_name)] = "-";

	if (t->reference_addr.family)
		netaddr_format(&t->reference_addr, addr, sizeof(addr));
	else if (t->reference_name[0])
		snprintf(addr, sizeof(addr), "%s", t->reference_name);
	print_time(t->reference_time, out);
	fprintf(out, " %-15s %2u %+13.6f %+14.6f %10.6f %+12.9f %12.9f %12.9f %12.9f %c %5u\n", addr, t->stratum,
		t->frequency_ppm, t->residual_frequency_ppm, t->skew_ppm, t->last_offset, t->rms_offset, t->root_delay,
		t->root_dispersion, leap_char(t->leap), t->steps);
}

void history_log_measurement(struct history_log *hl, const struct source_status *s, struct timespec rx_time)
{
	if (history_log_wants(hl, HISTORY_MEASUREMENTS))
		history_log_format_measurement(s, rx_time, hl->files[HISTORY_MEASUREMENTS]);
}

void history_log_statistics(struct history_log *hl, const struct source_status *s, struct timespec at)
{
	if (history_log_wants(hl, HISTORY_STATISTICS) && s->have_stats)
		history_log_format_statistics(s, at, hl->files[HISTORY_STATISTICS]);
}

void history_log_tracking(struct history_log *hl, const struct engine_tracking *t)
{
	if (history_log_wants(hl, HISTORY_TRACKING))
		history_log_format_tracking(t, hl->files[HISTORY_TRACKING]);
}
