#include "status_control.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "json_writer.h"
#include "netaddr.h"
#include "ntp_time.h"
#include "refid.h"
#include "status.h"

void status_done(FILE *out, bool json, const char *what)
{
	struct json_writer w;

	if (!json) {
		fprintf(out, "ok: %s\n", what);
		return;
	}
	json_writer_init(&w, out);
	json_begin_object(&w, NULL);
	json_bool(&w, "ok", true);
	json_string(&w, "done", what);
	json_end_object(&w);
	json_writer_finish(&w);
}

static char leap_letter(const struct source_status *s)
{
	if (!s->have_estimate)
		return '?';
	switch (s->leap) {
	case NTP_LEAP_NONE: return 'N';
	case NTP_LEAP_INSERT: return '+';
	case NTP_LEAP_DELETE: return '-';
	default: return '?';
	}
}

void status_selectdata(FILE *out, const struct source_status *sources, size_t count, bool json)
{
	struct json_writer w;

	if (json) {
		json_writer_init(&w, out);
		json_begin_array(&w, NULL);
	} else {
		fprintf(out, "S Name/IP Address                Auth   Last       Interval       Leap  Why\n");
		fprintf(out, "===============================================================================\n");
	}
	for (size_t i = 0; i < count; i++) {
		const struct source_status *s = &sources[i];
		const char *why;
		char code = source_select_code(s, &why);
		char name[NETADDR_TEXT_LEN + 8], lo[16] = "-", hi[16] = "-", last[16] = "-";
		char state[2] = { code, '\0' }, leap[2] = { leap_letter(s), '\0' };

		netaddr_format_with_port(&s->addr, name, sizeof(name));
		if (json) {
			json_begin_object(&w, NULL);
			json_string(&w, "state", state);
			json_string(&w, "name", s->name);
			json_string(&w, "address", name);
			json_bool(&w, "authenticated", s->key != NULL);
			json_bool(&w, "offline", s->offline);
			/* the configured options behind the state (chronyc's COpts) */
			json_bool(&w, "prefer", s->prefer);
			json_bool(&w, "noselect", s->noselect);
			json_bool(&w, "trust", s->trust);
			json_bool(&w, "require", s->require);
			json_real(&w, "maxdelay", s->maxdelay, 9);
			if (s->have_estimate) {
				json_real(&w, "last_age", s->estimate_age, 6);
				json_real(&w, "interval_low", s->offset - s->root_distance, 6);
				json_real(&w, "interval_high", s->offset + s->root_distance, 6);
			} else {
				json_null(&w, "last_age");
				json_null(&w, "interval_low");
				json_null(&w, "interval_high");
			}
			json_string(&w, "leap", leap);
			json_string(&w, "why", why);
			json_end_object(&w);
			continue;
		}
		if (s->have_estimate) {
			status_format_seconds(lo, sizeof(lo), s->offset - s->root_distance, true);
			status_format_seconds(hi, sizeof(hi), s->offset + s->root_distance, true);
			snprintf(last, sizeof(last), "%.0f", s->estimate_age);
		}
		fprintf(out, "%c %-30.30s %-4s %6s %9s %9s   %c   %s\n", code, name, s->key ? "Y" : "N", last, lo, hi,
			leap[0], why);
	}
	if (json) {
		json_end_array(&w);
		json_writer_finish(&w);
		return;
	}
	fprintf(out, "\nS: * system peer, + combined, D left out by clustering, x falseticker, W selectable\n"
		     "   but unused, d root distance too large, M no usable sample, s server unsynchronized\n"
		     "   or synchronized to us, N stopped by a kiss-o'-death. Interval: offset -+ root\n"
		     "   distance. Last: age of the filter's sample, seconds.\n");
}

static const char *mode_str(uint8_t mode)
{
	static const char *const names[] = { "Reserved", "Symmetric active", "Symmetric passive", "Client",
					     "Server", "Broadcast", "Control", "Private" };

	return names[mode & 7];
}

static void ntpdata_json(struct json_writer *w, const struct source_status *s, const struct source_exchange *x)
{
	const struct ntp_packet *p = &x->reply;
	char addr[NETADDR_TEXT_LEN], refid[REFID_TEXT_LEN];

	netaddr_format(&s->addr, addr, sizeof(addr));
	json_begin_object(w, NULL);
	json_string(w, "name", s->name);
	json_string(w, "remote_address", addr);
	json_integer(w, "remote_port", s->addr.port);
	json_integer(w, "total_tx", (long long)x->requests);
	json_integer(w, "total_rx", (long long)x->replies);
	json_integer(w, "total_valid_rx", (long long)x->valid_replies);
	json_bool(w, "authenticated", s->key != NULL && x->have_reply);
	if (!x->have_reply) {
		json_null(w, "last_reply");
		json_end_object(w);
		return;
	}
	refid_format(p->refid, p->stratum, refid);
	json_begin_object(w, "last_reply");
	json_string(w, "leap", status_leap_str((enum ntp_leap)p->leap));
	json_integer(w, "version", p->version);
	json_string(w, "mode", mode_str(p->mode));
	json_integer(w, "stratum", p->stratum);
	json_integer(w, "poll", p->poll);
	json_integer(w, "precision", p->precision);
	json_real(w, "root_delay", ntp_short_to_seconds(p->root_delay), 6);
	json_real(w, "root_dispersion", ntp_short_to_seconds(p->root_dispersion), 6);
	json_integer(w, "refid", p->refid);
	json_string(w, "refid_text", refid);
	json_real(w, "reference_time", timespec_to_double(ntp_ts_to_timespec(p->reference, x->t4)), 15);
	json_bool(w, "interleaved", x->interleaved);
	json_real(w, "offset", x->offset, 9);
	json_real(w, "delay", x->delay, 9);
	json_real(w, "response_time", x->response_time, 9);
	json_string(w, "result", source_result_str(x->result));
	json_string(w, "rejected_because", x->rejection);
	json_end_object(w);
	json_end_object(w);
}

static void ntpdata_text(FILE *out, const struct source_status *s, const struct source_exchange *x)
{
	const struct ntp_packet *p = &x->reply;
	char addr[NETADDR_TEXT_LEN], refid[REFID_TEXT_LEN], when[64] = "-";
	struct timespec ref;
	struct tm tm;

	netaddr_format(&s->addr, addr, sizeof(addr));
	fprintf(out, "Remote address  : %s (%s)\n", addr, s->name);
	fprintf(out, "Remote port     : %u\n", s->addr.port);
	if (x->have_reply) {
		refid_format(p->refid, p->stratum, refid);
		ref = ntp_ts_to_timespec(p->reference, x->t4);
		if (p->reference && gmtime_r(&ref.tv_sec, &tm))
			strftime(when, sizeof(when), "%a %b %d %H:%M:%S %Y", &tm);
		fprintf(out, "Leap status     : %s\n", status_leap_str((enum ntp_leap)p->leap));
		fprintf(out, "Version         : %u\n", p->version);
		fprintf(out, "Mode            : %s\n", mode_str(p->mode));
		fprintf(out, "Stratum         : %u\n", p->stratum);
		fprintf(out, "Poll interval   : %d (%g seconds)\n", p->poll, ldexp(1.0, p->poll));
		fprintf(out, "Precision       : %d (%.9f seconds)\n", p->precision, ldexp(1.0, p->precision));
		fprintf(out, "Root delay      : %.6f seconds\n", ntp_short_to_seconds(p->root_delay));
		fprintf(out, "Root dispersion : %.6f seconds\n", ntp_short_to_seconds(p->root_dispersion));
		fprintf(out, "Reference ID    : %08" PRIX32 " (%s)\n", p->refid, refid);
		fprintf(out, "Reference time  : %s\n", when);
		fprintf(out, "Offset          : %+.9f seconds\n", x->offset);
		fprintf(out, "Peer delay      : %.9f seconds\n", x->delay);
		fprintf(out, "Response time   : %.9f seconds\n", x->response_time);
		fprintf(out, "Interleaved     : %s\n", x->interleaved ? "Yes" : "No");
		fprintf(out, "Result          : %s%s%s\n", source_result_str(x->result), x->rejection[0] ? ": " : "",
			x->rejection);
	} else {
		fprintf(out, "Last reply      : none yet\n");
	}
	fprintf(out, "Authenticated   : %s\n", s->key && x->have_reply ? "Yes" : "No");
	fprintf(out, "Total TX        : %" PRIu64 "\n", x->requests);
	fprintf(out, "Total RX        : %" PRIu64 "\n", x->replies);
	fprintf(out, "Total valid RX  : %" PRIu64 "\n", x->valid_replies);
}

void status_ntpdata(FILE *out, const struct source_status *sources, const struct source_exchange *exchanges,
		    size_t count, bool json)
{
	struct json_writer w;

	if (json) {
		json_writer_init(&w, out);
		json_begin_array(&w, NULL);
		for (size_t i = 0; i < count; i++)
			ntpdata_json(&w, &sources[i], &exchanges[i]);
		json_end_array(&w);
		json_writer_finish(&w);
		return;
	}
	for (size_t i = 0; i < count; i++) {
		if (i)
			fputc('\n', out);
		ntpdata_text(out, &sources[i], &exchanges[i]);
	}
}

void status_activity(FILE *out, const struct status_activity *a, bool json)
{
	struct json_writer w;

	if (!json) {
		fprintf(out, "%u sources online\n", a->online);
		fprintf(out, "%u sources offline\n", a->offline);
		fprintf(out, "%u sources doing burst (return to online)\n", a->burst_online);
		fprintf(out, "%u sources doing burst (return to offline)\n", a->burst_offline);
		fprintf(out, "%u sources with unknown address\n", a->unresolved);
		return;
	}
	json_writer_init(&w, out);
	json_begin_object(&w, NULL);
	json_integer(&w, "online", a->online);
	json_integer(&w, "offline", a->offline);
	json_integer(&w, "burst_online", a->burst_online);
	json_integer(&w, "burst_offline", a->burst_offline);
	json_integer(&w, "unresolved", a->unresolved);
	json_end_object(&w);
	json_writer_finish(&w);
}

void status_clients(FILE *out, const struct ratelimit_client *clients, size_t count, bool serving,
		    struct timespec now, bool json)
{
	struct json_writer w;

	if (json) {
		json_writer_init(&w, out);
		json_begin_object(&w, NULL);
		json_bool(&w, "serving", serving);
		json_begin_array(&w, "clients");
	} else {
		fprintf(out, "Hostname                                      NTP       Drop    Last\n");
		fprintf(out, "=====================================================================\n");
	}
	for (size_t i = 0; i < count; i++) {
		const struct ratelimit_client *c = &clients[i];
		char addr[NETADDR_TEXT_LEN + 4];
		double age = fmax(0.0, timespec_diff(now, c->last));

		netaddr_format(&c->addr, addr, sizeof(addr));
		if (c->addr.family == AF_INET6)
			strcat(addr, "/64");
		if (json) {
			json_begin_object(&w, NULL);
			json_string(&w, "address", addr);
			json_integer(&w, "packets", (long long)c->packets);
			json_integer(&w, "dropped", (long long)c->drops);
			json_real(&w, "last_seen_ago", age, 6);
			json_end_object(&w);
			continue;
		}
		fprintf(out, "%-39.39s %10" PRIu64 " %10" PRIu64 " %7.0f\n", addr, c->packets, c->drops, age);
	}
	if (json) {
		json_end_array(&w);
		json_end_object(&w);
		json_writer_finish(&w);
		return;
	}
	if (!serving)
		fprintf(out, "(not serving: no serve section)\n");
}

void status_syncstate(FILE *out, const struct engine_tracking *t, bool json)
{
	bool synchronized = t->state == SYNC_SYNCHRONIZED;
	double correction = fabs(t->system_offset);
	struct json_writer w;
	char refid[9];

	snprintf(refid, sizeof(refid), "%08" PRIX32, synchronized ? t->refid : 0);
	if (!json) {
		fprintf(out, "%s refid=%s correction=%.9f skew=%.3f\n", synchronized ? "synchronized" : "unsynchronized",
			refid, correction, t->skew_ppm);
		return;
	}
	json_writer_init(&w, out);
	json_begin_object(&w, NULL);
	json_bool(&w, "synchronized", synchronized);
	json_string(&w, "refid", refid);
	json_real(&w, "correction", correction, 9);
	json_real(&w, "skew_ppm", t->skew_ppm, 6);
	json_end_object(&w);
	json_writer_finish(&w);
}

bool status_parse_syncstate(const char *text, struct status_syncstate *out)
{
	char state[16];

	if (sscanf(text, "%15s refid=%8s correction=%lf skew=%lf", state, out->refid, &out->correction,
		   &out->skew_ppm) != 4)
		return false;
	if (!strcmp(state, "synchronized"))
		out->synchronized = true;
	else if (!strcmp(state, "unsynchronized"))
		out->synchronized = false;
	else
		return false;
	return true;
}
