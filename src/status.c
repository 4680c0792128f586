#include "status.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "json_writer.h"
#include "nts_aead.h"
#include "refid.h"

const char *status_leap_str(enum ntp_leap leap)
{
	switch (leap) {
	case NTP_LEAP_NONE:
		return "normal";
	case NTP_LEAP_INSERT:
		return "insert second";
	case NTP_LEAP_DELETE:
		return "delete second";
	default:
		return "not synchronised";
	}
}

void status_format_seconds(char *buf, size_t len, double seconds, bool sign)
{
	static const struct {
		double scale;
		const char *unit;
	} units[] = { { 1e9, "ns" }, { 1e6, "us" }, { 1e3, "ms" }, { 1.0, "s" } };
	double mag = fabs(seconds);
	size_t i;

	if (!isfinite(seconds)) {
		snprintf(buf, len, "-");
		return;
	}
	for (i = 0; i + 1 < sizeof(units) / sizeof(units[0]); i++)
		if (mag * units[i].scale < 999.5)
			break;
	snprintf(buf, len, sign ? "%+.*f%s" : "%.*f%s", mag * units[i].scale < 99.95 ? 1 : 0,
		 seconds * units[i].scale, units[i].unit);
}

const char *status_format_fixed(char *buf, size_t len, double seconds, int digits)
{
	snprintf(buf, len, "%.*f", digits, seconds);
	if (buf[0] == '-' && strspn(buf + 1, "0.") == strlen(buf + 1))
		memmove(buf, buf + 1, strlen(buf));
	return buf;
}

static void tracking_why(char *buf, size_t len, const struct engine_tracking *t)
{
	if (t->state != SYNC_UNSYNCHRONIZED)
		snprintf(buf, len, "%s", sync_state_str(t->state));
	else if (t->reason == UNSYNC_INSANE_TIME)
		snprintf(buf, len, "%s (%s: the sources put the clock %+.3f s off; not corrected)",
			 sync_state_str(t->state), unsync_reason_str(t->reason), t->insane_offset);
	else
		snprintf(buf, len, "%s (%s)", sync_state_str(t->state), unsync_reason_str(t->reason));
}

void status_leap_table_str(char *buf, size_t len, const struct engine_tracking *t)
{
	int y, m, d;

	if (!t->leap_table_expires) {
		snprintf(buf, len, "none (leap seconds from the sources)");
		return;
	}
	if (t->leap_table_expires == LEAP_NEVER_EXPIRES) {
		snprintf(buf, len, "valid (a time zone: no expiry)");
		return;
	}
	leap_civil_date(t->leap_table_expires, &y, &m, &d);
	snprintf(buf, len, t->leap_table_expired ? "expired %04d-%02d-%02d: not used (leap seconds from the sources)"
						 : "valid until %04d-%02d-%02d",
		 y, m, d);
}

void status_next_leap_str(char *buf, size_t len, const struct engine_tracking *t)
{
	int y, m, d;

	if (!t->leap_table_expires || t->leap_table_expired) {
		snprintf(buf, len, "-");
		return;
	}
	if (!t->next_leap_when) {
		snprintf(buf, len, "none in the table");
		return;
	}
	leap_civil_date(t->next_leap_when - 1, &y, &m, &d);
	snprintf(buf, len, "%s second at the end of %04d-%02d-%02d", t->next_leap_sign > 0 ? "insert" : "delete", y, m,
		 d);
}

static void tracking_json(FILE *out, const struct engine_tracking *t)
{
	struct json_writer w;
	char refid[REFID_TEXT_LEN], addr[NETADDR_TEXT_LEN] = "", hex[12];

	refid_format(t->refid, t->stratum, refid);
	if (t->reference_addr.family)
		netaddr_format(&t->reference_addr, addr, sizeof(addr));
	json_writer_init(&w, out);
	json_begin_object(&w, NULL);
	snprintf(hex, sizeof(hex), "%08" PRIX32, t->refid);
	json_string(&w, "reference_id", refid);
	json_string(&w, "reference_id_hex", hex);
	json_string(&w, "reference_name", t->reference_name);
	json_string(&w, "reference_address", addr);
	json_integer(&w, "stratum", t->stratum);
	json_number(&w, "reference_time", t->reference_time.tv_sec + t->reference_time.tv_nsec * 1e-9, 9);
	json_number(&w, "system_offset", t->system_offset, 9);
	json_number(&w, "last_offset", t->last_offset, 9);
	json_number(&w, "rms_offset", t->rms_offset, 9);
	json_number(&w, "frequency_ppm", t->frequency_ppm, 9);
	json_number(&w, "residual_frequency_ppm", t->residual_frequency_ppm, 9);
	json_number(&w, "skew_ppm", t->skew_ppm, 9);
	json_number(&w, "root_delay", t->root_delay, 9);
	json_number(&w, "root_dispersion", t->root_dispersion, 9);
	json_string(&w, "leap", status_leap_str(t->leap));
	json_string(&w, "state", sync_state_str(t->state));
	if (t->state == SYNC_UNSYNCHRONIZED)
		json_string(&w, "unsync_reason", unsync_reason_str(t->reason));
	else
		json_null(&w, "unsync_reason");
	if (t->reason == UNSYNC_INSANE_TIME)
		json_number(&w, "insane_offset", t->insane_offset, 9);
	json_integer(&w, "steps", t->steps);
	json_string(&w, "leap_table", !t->leap_table_expires ? "none" : t->leap_table_expired ? "expired" : "valid");
	if (t->leap_table_expires && t->leap_table_expires != LEAP_NEVER_EXPIRES)
		json_integer(&w, "leap_table_expires", t->leap_table_expires);
	else
		json_null(&w, "leap_table_expires");
	if (t->leap_table_expires && !t->leap_table_expired && t->next_leap_when) {
		json_integer(&w, "next_leap", t->next_leap_when);
		json_string(&w, "next_leap_status", status_leap_str(t->next_leap_sign > 0 ? NTP_LEAP_INSERT
											   : NTP_LEAP_DELETE));
	} else {
		json_null(&w, "next_leap");
		json_null(&w, "next_leap_status");
	}
	json_string(&w, "leap_mode", leap_mode_str(t->leap_mode));
	json_end_object(&w);
	json_writer_finish(&w);
}

void status_tracking(FILE *out, const struct engine_tracking *t, bool json)
{
	char refid[REFID_TEXT_LEN], when[64] = "-", why[256], table[96], next[64];
	struct tm tm;

	if (json) {
		tracking_json(out, t);
		return;
	}
	refid_format(t->refid, t->stratum, refid);
	if (t->reference_time.tv_sec && gmtime_r(&t->reference_time.tv_sec, &tm))
		strftime(when, sizeof(when), "%a %b %d %H:%M:%S %Y", &tm);
	tracking_why(why, sizeof(why), t);
	fprintf(out, "Reference ID    : %08" PRIX32 " (%s)\n", t->refid,
		t->reference_name[0] ? t->reference_name : refid);
	fprintf(out, "Stratum         : %u\n", t->stratum);
	fprintf(out, "Ref time (UTC)  : %s\n", when);
	fprintf(out, "System time     : %.9f seconds %s of NTP time\n", fabs(t->system_offset),
		t->system_offset > 0 ? "slow" : "fast");
	fprintf(out, "Last offset     : %+.9f seconds\n", t->last_offset);
	fprintf(out, "RMS offset      : %.9f seconds\n", t->rms_offset);
	fprintf(out, "Frequency       : %.3f ppm %s\n", fabs(t->frequency_ppm),
		t->frequency_ppm >= 0 ? "slow" : "fast");
	fprintf(out, "Residual freq   : %+.3f ppm\n", t->residual_frequency_ppm);
	fprintf(out, "Skew            : %.3f ppm\n", t->skew_ppm);
	fprintf(out, "Root delay      : %.9f seconds\n", t->root_delay);
	if (isfinite(t->root_dispersion))
		fprintf(out, "Root dispersion : %.9f seconds\n", t->root_dispersion);
	else
		fprintf(out, "Root dispersion : - (no clock update yet)\n");
	fprintf(out, "Leap status     : %s\n", status_leap_str(t->leap));
	fprintf(out, "Sync state      : %s\n", why);
	fprintf(out, "Steps           : %u\n", t->steps);
	status_leap_table_str(table, sizeof(table), t);
	status_next_leap_str(next, sizeof(next), t);
	fprintf(out, "Leap table      : %s\n", table);
	fprintf(out, "Next leap       : %s\n", next);
	fprintf(out, "Leap mode       : %s\n", leap_mode_str(t->leap_mode));
}

static char selection_mark(enum source_selection s)
{
	switch (s) {
	case SOURCE_SYSTEM_PEER:
		return '*';
	case SOURCE_COMBINED:
		return '+';
	case SOURCE_TOO_VARIABLE:
	case SOURCE_JITTER_EXCEEDED:
		return '~';
	case SOURCE_NOT_PREFERRED:
	case SOURCE_NOSELECT:
		return '-';
	case SOURCE_FALSETICKER:
		return 'x';
	case SOURCE_UNREACHABLE:
		return '?';
	default:
		return ' ';
	}
}

/* Seconds in JSON, or null when the figure does not exist yet. */
static void json_seconds(struct json_writer *w, const char *key, bool present, double value)
{
	if (present)
		json_number(w, key, value, 9);
	else
		json_null(w, key);
}

/* A JSON array with an object per source: its name and address, then what
 * fields() writes. */
static void per_source_json(FILE *out, const struct source_status *sources, size_t count,
			    void (*fields)(struct json_writer *w, const struct source_status *s))
{
	struct json_writer w;

	json_writer_init(&w, out);
	json_begin_array(&w, NULL);
	for (size_t i = 0; i < count; i++) {
		char addr[NETADDR_TEXT_LEN];

		/* a reference clock has no address */
		addr[0] = '\0';
		if (!sources[i].refclock)
			netaddr_format_with_port(&sources[i].addr, addr, sizeof(addr));
		json_begin_object(&w, NULL);
		json_string(&w, "name", sources[i].name);
		json_string(&w, "address", addr);
		json_bool(&w, "refclock", sources[i].refclock);
		fields(&w, &sources[i]);
		json_end_object(&w);
	}
	json_end_array(&w);
	json_writer_finish(&w);
}

/* NTS's AEAD in the Type column's 7 characters */
static const char *aead_short(uint16_t aead)
{
	return aead == NTS_AEAD_AES_SIV_CMAC_256 ? "SIV-256" : aead == NTS_AEAD_AES_SIV_CMAC_512 ? "SIV-512" : "-";
}

static void nts_json(struct json_writer *w, const struct source_status *s)
{
	const struct nts_client_status *n = &s->nts_status;

	if (n->have_keys) {
		json_integer(w, "key_id", n->aead);
		json_string(w, "key_type", nts_aead_name(n->aead));
		json_integer(w, "key_bits", (long long)(8 * nts_aead_key_len(n->aead)));
	} else {
		json_null(w, "key_id");
		json_null(w, "key_type");
		json_null(w, "key_bits");
	}
	json_integer(w, "cookies", (long long)n->cookies);
	json_integer(w, "cookie_length", (long long)n->cookie_len);
	json_integer(w, "ke_attempts", n->ke_attempts);
	json_integer(w, "ke_failures", n->ke_failures);
	json_integer(w, "naks", (long long)n->naks);
	json_seconds(w, "last_ke_age", s->nts_last_ke_age >= 0, s->nts_last_ke_age);
}

static void source_fields(struct json_writer *w, const struct source_status *s)
{
	char refid[REFID_TEXT_LEN], reach[8];

	refid_format(s->refid, s->stratum, refid);
	json_string(w, "state", source_selection_str(s->selection));
	json_integer(w, "stratum", s->stratum);
	json_string(w, "refid", refid);
	json_integer(w, "poll", s->poll);
	snprintf(reach, sizeof(reach), "%03o", s->reach);
	json_string(w, "reach", reach);
	json_seconds(w, "last_rx_age", s->have_sample, s->last_rx_age);
	json_seconds(w, "offset", s->have_sample, s->last_offset);
	json_seconds(w, "error", s->have_sample, s->last_error);
	json_seconds(w, "delay", s->have_sample, s->last_delay);
	json_seconds(w, "jitter", s->have_estimate, s->jitter);
	if (s->have_estimate) {
		json_begin_object(w, "estimate");
		json_number(w, "age", s->estimate_age, 9);
		json_number(w, "offset", s->offset, 9);
		json_number(w, "error", s->root_distance, 9);
		json_number(w, "delay", s->delay, 9);
		json_number(w, "dispersion", s->dispersion, 9);
		json_end_object(w);
	} else {
		json_null(w, "estimate");
	}
	json_string(w, "kiss", s->kiss);
	json_bool(w, "stopped", s->stopped);
	json_bool(w, "loop", s->loop);
	if (s->nts) {
		json_begin_object(w, "nts");
		nts_json(w, s);
		json_end_object(w);
	} else {
		json_null(w, "nts");
	}
}

static void format_age(char *buf, size_t len, double age)
{
	if (age < 99999.5)
		snprintf(buf, len, "%.0fs", age);
	else
		snprintf(buf, len, "%.0fh", age / 3600);
}

/* The Name/IP column: a reference clock is its refid after chronyc's '#'. */
static void source_column_name(const struct source_status *s, char *buf, size_t len)
{
	if (s->refclock)
		snprintf(buf, len, "#%s", s->name);
	else
		netaddr_format_with_port(&s->addr, buf, len);
}

static const char sources_legend[] =
	"S: * system peer, + combined, ~ too variable, - not combined (noselect, not preferred),\n"
	"   x falseticker, ? unreachable, blank: not usable (no sample yet, the server\n"
	"   unsynchronized, or too far)\n"
	"#NAME: a reference clock (stratum 0), by its refid\n"
	"LastRx: time since the last accepted reply. Offset +/- error: that reply's offset (true -\n"
	"   local) and half its root delay plus its root dispersion. Delay: its round trip.\n"
	"Jitter: of the clock filter's samples. Estimate +/- error, Age: the clock filter's choice\n"
	"   (its minimum-delay sample) and its root distance, which selection uses.\n\n";

void status_sources(FILE *out, const struct source_status *sources, size_t count, bool json, bool verbose)
{
	if (json) {
		per_source_json(out, sources, count, source_fields);
		return;
	}
	if (verbose)
		fputs(sources_legend, out);
	fprintf(out, "S Name/IP address                Stratum Poll Reach LastRx    Offset       +/-     Delay    Jitter%s\n",
		verbose ? "  Estimate       +/-    Age" : "");
	fprintf(out, "=================================================================================================%s\n",
		verbose ? "==========================" : "");
	for (size_t i = 0; i < count; i++) {
		const struct source_status *s = &sources[i];
		char name[NETADDR_TEXT_LEN + 8], age[16] = "-", offset[16] = "-", error[16] = "-", delay[16] = "-",
		     jitter[16] = "-";

		source_column_name(s, name, sizeof(name));
		if (s->have_sample) {
			format_age(age, sizeof(age), s->last_rx_age);
			status_format_seconds(offset, sizeof(offset), s->last_offset, true);
			status_format_seconds(error, sizeof(error), s->last_error, false);
			status_format_seconds(delay, sizeof(delay), s->last_delay, false);
		}
		if (s->have_estimate)
			status_format_seconds(jitter, sizeof(jitter), s->jitter, false);
		fprintf(out, "%c %-31.31s %7u %4d %5o %6s %9s %9s %9s %9s", selection_mark(s->selection), name,
			s->stratum, s->poll, s->reach, age, offset, error, delay, jitter);
		if (verbose) {
			char estimate[16] = "-", distance[16] = "-", estimate_age[16] = "-";

			if (s->have_estimate) {
				status_format_seconds(estimate, sizeof(estimate), s->offset, true);
				status_format_seconds(distance, sizeof(distance), s->root_distance, false);
				format_age(estimate_age, sizeof(estimate_age), s->estimate_age);
			}
			fprintf(out, " %9s %9s %6s", estimate, distance, estimate_age);
		}
		if (s->selection == SOURCE_SERVER_UNSYNCHRONIZED)
			fprintf(out, " unsynchronized");
		if (s->loop)
			fprintf(out, " loop (synchronized to us)");
		if (s->kiss[0])
			fprintf(out, " kiss %s%s", s->kiss, s->stopped ? " (stopped)" : "");
		fputc('\n', out);
	}
	if (!verbose)
		fprintf(out, "\nS: * system peer, + combined, ~ too variable, - not combined (noselect, not preferred),\n"
			     "   x falseticker, ? unreachable, blank: not usable (no sample yet, the server\n"
			     "   unsynchronized, or too far)\n"
			     "#NAME: a reference clock (stratum 0), by its refid\n");
}

static void sourcestats_fields(struct json_writer *w, const struct source_status *s)
{
	json_integer(w, "samples", s->samples);
	if (s->have_stats)
		json_integer(w, "runs", s->runs);
	else
		json_null(w, "runs");
	json_seconds(w, "span", s->samples > 0, s->span);
	if (s->have_stats) {
		json_number(w, "residual_frequency_ppm", s->residual_frequency_ppm, 6);
		json_number(w, "skew_ppm", s->skew_ppm, 6);
	} else {
		json_null(w, "residual_frequency_ppm");
		json_null(w, "skew_ppm");
	}
	json_seconds(w, "offset", s->have_stats, s->stats_offset);
	json_seconds(w, "std_dev", s->have_stats, s->std_dev);
}

void status_sourcestats(FILE *out, const struct source_status *sources, size_t count, bool json)
{
	if (json) {
		per_source_json(out, sources, count, sourcestats_fields);
		return;
	}
	fprintf(out, "Name/IP address                  NP  NR  Span  Frequency  Freq Skew    Offset   Std Dev\n");
	fprintf(out, "=========================================================================================\n");
	for (size_t i = 0; i < count; i++) {
		const struct source_status *s = &sources[i];
		char name[NETADDR_TEXT_LEN + 8], span[16] = "-", freq[16] = "-", skew[16] = "-", offset[16] = "-",
		     sd[16] = "-", runs[8] = "-";

		source_column_name(s, name, sizeof(name));
		if (s->samples > 0)
			format_age(span, sizeof(span), s->span);
		if (s->have_stats) {
			snprintf(runs, sizeof(runs), "%u", s->runs);
			snprintf(freq, sizeof(freq), "%+.3f", s->residual_frequency_ppm);
			snprintf(skew, sizeof(skew), "%.3f", s->skew_ppm);
			status_format_seconds(offset, sizeof(offset), s->stats_offset, true);
			status_format_seconds(sd, sizeof(sd), s->std_dev, false);
		}
		fprintf(out, "%-31.31s %4u %3s %5s %10s %10s %9s %9s\n", name, s->samples, runs, span, freq, skew,
			offset, sd);
	}
	fprintf(out, "\nNP samples in the clock filter, NR runs of residuals of one sign, Span from the oldest\n"
		     "to the newest; Frequency (ppm, positive: the local clock loses on the source), its Skew,\n"
		     "Offset (true - local, now) and Std Dev of a straight line through the samples.\n");
}

/* How a source authenticates, as chronyc authdata names it: "-" none, "SK"
 * a symmetric key, "NTS". */
static const char *auth_mode(const struct source_status *s)
{
	return s->nts ? "NTS" : s->key ? "SK" : "-";
}

static void authdata_fields(struct json_writer *w, const struct source_status *s)
{
	json_string(w, "mode", s->nts ? "nts" : s->key ? "symmetric" : "none");
	if (s->nts) {
		nts_json(w, s);
	} else if (s->key) {
		json_integer(w, "key_id", s->key->id);
		json_string(w, "key_type", auth_type_name(s->key->type));
		json_integer(w, "key_bits", (long long)(8 * s->key->len));
	} else {
		json_null(w, "key_id");
		json_null(w, "key_type");
		json_null(w, "key_bits");
	}
	json_integer(w, "authenticated", (long long)s->auth_ok);
	json_integer(w, "failed", (long long)s->auth_failed);
}

void status_authdata(FILE *out, const struct source_status *sources, size_t count, bool json)
{
	if (json) {
		per_source_json(out, sources, count, authdata_fields);
		return;
	}
	fprintf(out, "Name/IP address                 Mode      KeyID Type    KLen       Good     Failed Cook Atmp  NAK LastKE\n");
	fprintf(out, "==================================================================================================\n");
	for (size_t i = 0; i < count; i++) {
		const struct source_status *s = &sources[i];
		char name[NETADDR_TEXT_LEN + 8];

		netaddr_format_with_port(&s->addr, name, sizeof(name));
		if (s->nts) {
			const struct nts_client_status *n = &s->nts_status;
			char last[16] = "-";

			if (s->nts_last_ke_age >= 0)
				format_age(last, sizeof(last), s->nts_last_ke_age);
			fprintf(out, "%-31.31s %-4s %10u %-7s %4zu %10" PRIu64 " %10" PRIu64 " %4zu %4u %4" PRIu64 " %6s\n",
				name, auth_mode(s), n->aead, aead_short(n->aead), 8 * nts_aead_key_len(n->aead), s->auth_ok,
				s->auth_failed, n->cookies, n->ke_attempts, n->naks, last);
		} else if (s->key)
			fprintf(out, "%-31.31s %-4s %10u %-7s %4zu %10" PRIu64 " %10" PRIu64 "    -    -    -      -\n", name,
				auth_mode(s), s->key->id, auth_type_name(s->key->type), 8 * s->key->len, s->auth_ok,
				s->auth_failed);
		else
			fprintf(out, "%-31.31s %-4s %10s %-7s %4s %10s %10s %4s %4s %4s %6s\n", name, auth_mode(s), "-", "-", "-", "-",
				"-", "-", "-", "-", "-");
	}
	fprintf(out, "\nMode: SK symmetric key, NTS Network Time Security, - none. KLen in bits. Good/Failed:\n"
		     "      replies that authenticated, and replies refused for want of it. NTS: KeyID is the\n"
		     "      AEAD's number, Cook the cookies held, Atmp key exchanges started, NAK the NTS NAKs\n"
		     "      taken, LastKE the time since the last successful key exchange.\n");
}

void status_serverstats(FILE *out, const struct serve_counters *c, bool serving, bool json)
{
	if (json) {
		struct json_writer w;

		json_writer_init(&w, out);
		json_begin_object(&w, NULL);
		json_bool(&w, "serving", serving);
		json_integer(&w, "received", (long long)c->received);
		json_integer(&w, "answered", (long long)c->answered);
		json_integer(&w, "rate_limited", (long long)c->rate_limited);
		json_integer(&w, "kod_sent", (long long)c->kod_sent);
		json_integer(&w, "malformed", (long long)c->malformed);
		json_integer(&w, "denied", (long long)c->denied);
		json_integer(&w, "authenticated", (long long)c->authenticated);
		json_integer(&w, "auth_failed", (long long)c->auth_failed);
		json_integer(&w, "interleaved", (long long)c->interleaved);
		json_integer(&w, "nts_requests", (long long)c->nts_requests);
		json_integer(&w, "nts_answered", (long long)c->nts_answered);
		json_integer(&w, "nts_naks", (long long)c->nts_naks);
		json_integer(&w, "nts_auth_failed", (long long)c->nts_auth_failed);
		json_integer(&w, "nts_ke_connections", (long long)c->nts_ke_connections);
		json_integer(&w, "nts_ke_errors", (long long)c->nts_ke_errors);
		json_end_object(&w);
		json_writer_finish(&w);
		return;
	}
	fprintf(out, "Serving              : %s\n", serving ? "yes" : "no (no serve section)");
	fprintf(out, "Requests received    : %" PRIu64 "\n", c->received);
	fprintf(out, "Requests answered    : %" PRIu64 "\n", c->answered);
	fprintf(out, "Rate limited         : %" PRIu64 "\n", c->rate_limited);
	fprintf(out, "KoD RATE sent        : %" PRIu64 "\n", c->kod_sent);
	fprintf(out, "Malformed dropped    : %" PRIu64 "\n", c->malformed);
	fprintf(out, "Denied by access list: %" PRIu64 "\n", c->denied);
	fprintf(out, "Authenticated (MAC)  : %" PRIu64 "\n", c->authenticated);
	fprintf(out, "Auth failed (dropped): %" PRIu64 "\n", c->auth_failed);
	fprintf(out, "Interleaved answered : %" PRIu64 "\n", c->interleaved);
	fprintf(out, "NTS requests         : %" PRIu64 "\n", c->nts_requests);
	fprintf(out, "NTS answered         : %" PRIu64 "\n", c->nts_answered);
	fprintf(out, "NTS NAKs sent        : %" PRIu64 "\n", c->nts_naks);
	fprintf(out, "NTS auth failed      : %" PRIu64 "\n", c->nts_auth_failed);
	fprintf(out, "NTS-KE connections   : %" PRIu64 "\n", c->nts_ke_connections);
	fprintf(out, "NTS-KE errors        : %" PRIu64 "\n", c->nts_ke_errors);
}
