/* Metrics as StatsD lines and Prometheus text (see metrics.h). Both formats
 * walk the same tables of figures, so they always carry the same numbers. */
#include "metrics.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "netaddr.h"

struct figure {
	const char *stem;       /* name without prefix; counters without _total */
	const char *help;
	enum metrics_unit unit;
	bool present;
	double value;           /* gauges */
	uint64_t total;         /* counters */
	uint64_t *sent;         /* counters: what StatsD has already counted */
};

enum { SYSTEM_FIGURES = 13, SOURCE_FIGURES = 11, SERVER_FIGURES = 15 };

static void system_figures(const struct engine_tracking *t, struct metrics_statsd_sent *sent,
			   struct figure out[SYSTEM_FIGURES])
{
	const struct figure figures[SYSTEM_FIGURES] = {
		{ "offset_seconds", "Estimated offset of true time from the system clock.",
		  METRICS_SECONDS, true, t->system_offset, 0, NULL },
		{ "last_offset_seconds", "Offset measured at the last clock update.",
		  METRICS_SECONDS, true, t->last_offset, 0, NULL },
		{ "jitter_seconds", "System jitter: the RMS of the recent offsets.",
		  METRICS_SECONDS, true, t->rms_offset, 0, NULL },
		{ "frequency_ppm", "Frequency correction applied; positive makes the clock faster.",
		  METRICS_PPM, true, t->frequency_ppm, 0, NULL },
		{ "residual_frequency_ppm", "Frequency error still measured after the correction.",
		  METRICS_PPM, true, t->residual_frequency_ppm, 0, NULL },
		{ "skew_ppm", "Estimated error bound of the frequency.",
		  METRICS_PPM, true, t->skew_ppm, 0, NULL },
		{ "root_delay_seconds", "Round-trip delay to the primary reference.",
		  METRICS_SECONDS, true, t->root_delay, 0, NULL },
		{ "root_dispersion_seconds", "Dispersion accumulated to the primary reference.",
		  METRICS_SECONDS, isfinite(t->root_dispersion), t->root_dispersion, 0, NULL },
		{ "stratum", "Stratum served downstream; 16 when unsynchronized.",
		  METRICS_INTEGER, true, t->stratum, 0, NULL },
		{ "synchronized", "1 when synchronized to a source, else 0.",
		  METRICS_INTEGER, true, t->state == SYNC_SYNCHRONIZED, 0, NULL },
		{ "sync_state", "0 unsynchronized, 1 synchronized, 2 serving the local clock.",
		  METRICS_INTEGER, true, t->state, 0, NULL },
		{ "leap", "Leap indicator: 0 none, 1 insert, 2 delete, 3 unsynchronized.",
		  METRICS_INTEGER, true, t->leap, 0, NULL },
		{ "clock_steps", "Steps of the clock taken since start.",
		  METRICS_COUNTER, true, 0, t->steps, sent ? &sent->clock_steps : NULL },
	};

	memcpy(out, figures, sizeof(figures));
}

static void source_figures(const struct source_status *s, struct figure out[SOURCE_FIGURES])
{
	bool sampled = s->have_estimate;
	const struct figure figures[SOURCE_FIGURES] = {
		{ "offset_seconds", "Offset of the source from the system clock, from the clock filter.",
		  METRICS_SECONDS, sampled, s->offset, 0, NULL },
		{ "delay_seconds", "Round-trip delay to the source.",
		  METRICS_SECONDS, sampled, s->delay, 0, NULL },
		{ "dispersion_seconds", "Dispersion of the source's samples.",
		  METRICS_SECONDS, sampled, s->dispersion, 0, NULL },
		{ "jitter_seconds", "Jitter of the source's samples.",
		  METRICS_SECONDS, sampled, s->jitter, 0, NULL },
		{ "reach", "Reach register: the last 8 polls, bit 0 the latest (0-255).",
		  METRICS_INTEGER, true, s->reach, 0, NULL },
		{ "stratum", "Stratum of the source.",
		  METRICS_INTEGER, true, s->stratum, 0, NULL },
		{ "poll_seconds", "Poll interval.",
		  METRICS_INTEGER, true, ldexp(1.0, s->poll), 0, NULL },
		{ "selected", "1 when the source is combined into the system time.",
		  METRICS_INTEGER, true,
		  s->selection == SOURCE_COMBINED || s->selection == SOURCE_SYSTEM_PEER, 0, NULL },
		{ "nts_cookies", "NTS sources: cookies held (8 when all is well, 0 waits for a key exchange).",
		  METRICS_INTEGER, s->nts, (double)s->nts_status.cookies, 0, NULL },
		{ "nts_key_exchanges", "NTS sources: key exchanges started since the source was added.",
		  METRICS_INTEGER, s->nts, s->nts_status.ke_attempts, 0, NULL },
		{ "nts_naks", "NTS sources: NTS NAKs taken (the server refused a cookie).",
		  METRICS_INTEGER, s->nts, (double)s->nts_status.naks, 0, NULL },
	};

	memcpy(out, figures, sizeof(figures));
}

static void server_figures(const struct serve_counters *c, struct metrics_statsd_sent *sent,
			   struct figure out[SERVER_FIGURES])
{
	const struct figure figures[SERVER_FIGURES] = {
		{ "received", "Requests received.",
		  METRICS_COUNTER, true, 0, c->received, sent ? &sent->serve.received : NULL },
		{ "answered", "Requests answered with time.",
		  METRICS_COUNTER, true, 0, c->answered, sent ? &sent->serve.answered : NULL },
		{ "rate_limited", "Requests refused by the rate limiter (dropped or answered by KoD).",
		  METRICS_COUNTER, true, 0, c->rate_limited, sent ? &sent->serve.rate_limited : NULL },
		{ "kod_sent", "Kiss-o'-Death RATE replies sent.",
		  METRICS_COUNTER, true, 0, c->kod_sent, sent ? &sent->serve.kod_sent : NULL },
		{ "malformed", "Requests dropped as malformed (short, bad extension fields, wrong mode or version).",
		  METRICS_COUNTER, true, 0, c->malformed, sent ? &sent->serve.malformed : NULL },
		{ "denied", "Requests dropped by the access list.",
		  METRICS_COUNTER, true, 0, c->denied, sent ? &sent->serve.denied : NULL },
		{ "authenticated", "Requests with a valid MAC, answered with a MAC under the same key.",
		  METRICS_COUNTER, true, 0, c->authenticated, sent ? &sent->serve.authenticated : NULL },
		{ "auth_failed", "Requests with a MAC under an unknown key or a wrong one, dropped.",
		  METRICS_COUNTER, true, 0, c->auth_failed, sent ? &sent->serve.auth_failed : NULL },
		{ "interleaved", "Answers in interleaved mode: the kernel's stamp of the last answer leaving as transmit time.",
		  METRICS_COUNTER, true, 0, c->interleaved, sent ? &sent->serve.interleaved : NULL },
		/* serving NTS (serve.nts) only */
		{ "nts_requests", "Requests with an NTS cookie.",
		  METRICS_COUNTER, c->nts, 0, c->nts_requests, sent ? &sent->serve.nts_requests : NULL },
		{ "nts_answered", "Authenticated NTS answers sent.",
		  METRICS_COUNTER, c->nts, 0, c->nts_answered, sent ? &sent->serve.nts_answered : NULL },
		{ "nts_naks", "NTS NAKs sent: a cookie that could not be opened.",
		  METRICS_COUNTER, c->nts, 0, c->nts_naks, sent ? &sent->serve.nts_naks : NULL },
		{ "nts_auth_failed", "NTS requests whose authenticator did not verify, dropped.",
		  METRICS_COUNTER, c->nts, 0, c->nts_auth_failed, sent ? &sent->serve.nts_auth_failed : NULL },
		{ "nts_ke_connections", "NTS-KE connections accepted.",
		  METRICS_COUNTER, c->nts, 0, c->nts_ke_connections, sent ? &sent->serve.nts_ke_connections : NULL },
		{ "nts_ke_errors", "NTS-KE connections refused or failed (limits, handshake, bad request, time limit).",
		  METRICS_COUNTER, c->nts, 0, c->nts_ke_errors, sent ? &sent->serve.nts_ke_errors : NULL },
	};

	memcpy(out, figures, sizeof(figures));
}

/* Finite values only. A value that rounds to zero loses its sign, so "-0"
 * never reaches StatsD as a change of the gauge. */
static void format_value(const struct figure *f, char *buf, size_t len)
{
	switch (f->unit) {
	case METRICS_SECONDS:
		snprintf(buf, len, "%.9f", f->value);
		break;
	case METRICS_PPM:
		snprintf(buf, len, "%.3f", f->value);
		break;
	case METRICS_INTEGER:
		snprintf(buf, len, "%.9g", f->value);
		break;
	case METRICS_COUNTER:
		snprintf(buf, len, "%" PRIu64, f->total);
		return;
	}
	if (buf[0] == '-' && buf[1 + strspn(buf + 1, "0.")] == '\0')
		memmove(buf, buf + 1, strlen(buf));
}

void metrics_key_sanitize(const char *name, char *out, size_t len)
{
	size_t i = 0;

	if (len == 0)
		return;
	if (name[0] == '\0')
		name = "unnamed";
	for (; name[i] != '\0' && i + 1 < len; i++) {
		char c = name[i];
		bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			    (c >= '0' && c <= '9') || c == '_' || c == '-';
		out[i] = keep ? c : '_';
	}
	out[i] = '\0';
}

/* Sources sharing a name (pool members) are told apart by their address. */
static void source_key(const struct metrics_snapshot *snap, size_t index, char *out, size_t len)
{
	const struct source_status *s = &snap->sources[index];
	char other[METRICS_KEY_MAX];
	bool shared = false;

	metrics_key_sanitize(s->name, out, len);
	for (size_t i = 0; i < snap->source_count && !shared; i++) {
		if (i == index)
			continue;
		metrics_key_sanitize(snap->sources[i].name, other, sizeof(other));
		shared = strcmp(out, other) == 0;
	}
	if (shared) {
		char addr[NETADDR_TEXT_LEN];
		char suffix[NETADDR_TEXT_LEN + 1] = "_";
		size_t used = strlen(out);

		netaddr_format_with_port(&s->addr, addr, sizeof(addr));
		metrics_key_sanitize(addr, suffix + 1, sizeof(suffix) - 1);
		snprintf(out + used, len - used, "%s", suffix);
	}
}

/* StatsD */

struct datagram {
	char buf[METRICS_STATSD_DATAGRAM_MAX];
	size_t used;
	metrics_datagram_fn emit;
	void *ctx;
};

static void datagram_flush(struct datagram *d)
{
	if (d->used > 0)
		d->emit(d->ctx, d->buf, d->used);
	d->used = 0;
}

/* record: one or more lines that must travel together. A record longer than
 * a datagram (a prefix of absurd length) is dropped rather than cut. */
static void datagram_add(struct datagram *d, const char *record, size_t len)
{
	size_t need = len + (d->used > 0);

	if (len > sizeof(d->buf))
		return;
	if (d->used + need > sizeof(d->buf)) {
		datagram_flush(d);
		need = len;
	}
	if (d->used > 0)
		d->buf[d->used++] = '\n';
	memcpy(d->buf + d->used, record, len);
	d->used += len;
}

static void statsd_figure(struct datagram *d, const char *prefix, const char *infix,
			  const struct figure *f)
{
	char name[METRICS_STATSD_DATAGRAM_MAX / 2];
	char value[64];
	char record[METRICS_STATSD_DATAGRAM_MAX + 1];
	int n;

	if (!f->present || (f->unit != METRICS_COUNTER && !isfinite(f->value)))
		return;
	snprintf(name, sizeof(name), "%s%s%s%s", prefix, prefix[0] ? "." : "", infix, f->stem);
	if (f->unit == METRICS_COUNTER) {
		struct figure delta = *f;

		/* A total that went down was reset: all of it is new. */
		delta.total = f->total >= *f->sent ? f->total - *f->sent : f->total;
		*f->sent = f->total;
		format_value(&delta, value, sizeof(value));
		n = snprintf(record, sizeof(record), "%s:%s|c", name, value);
	} else {
		format_value(f, value, sizeof(value));
		if (value[0] == '-')
			n = snprintf(record, sizeof(record), "%s:0|g\n%s:%s|g", name, name, value);
		else
			n = snprintf(record, sizeof(record), "%s:%s|g", name, value);
	}
	if (n > 0 && (size_t)n < sizeof(record))
		datagram_add(d, record, (size_t)n);
}

void metrics_statsd_format(const struct metrics_snapshot *snap, const char *prefix,
			   struct metrics_statsd_sent *sent, metrics_datagram_fn emit, void *ctx)
{
	struct datagram d = { .used = 0, .emit = emit, .ctx = ctx };
	struct figure system[SYSTEM_FIGURES], source[SOURCE_FIGURES], server[SERVER_FIGURES];

	system_figures(snap->tracking, sent, system);
	for (size_t i = 0; i < SYSTEM_FIGURES; i++)
		statsd_figure(&d, prefix, "", &system[i]);

	for (size_t s = 0; s < snap->source_count; s++) {
		char key[METRICS_KEY_MAX];
		char infix[METRICS_KEY_MAX + 16];

		source_key(snap, s, key, sizeof(key));
		snprintf(infix, sizeof(infix), "source.%s.", key);
		source_figures(&snap->sources[s], source);
		for (size_t i = 0; i < SOURCE_FIGURES; i++)
			statsd_figure(&d, prefix, infix, &source[i]);
	}

	if (snap->serve) {
		server_figures(snap->serve, sent, server);
		for (size_t i = 0; i < SERVER_FIGURES; i++)
			statsd_figure(&d, prefix, "server.", &server[i]);
	}
	datagram_flush(&d);
}

/* Prometheus */

struct text {
	char *buf;
	size_t len;
	size_t need;
};

__attribute__((format(printf, 2, 3)))
static void text_add(struct text *t, const char *fmt, ...)
{
	va_list ap;
	size_t room = t->need < t->len ? t->len - t->need : 0;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(room ? t->buf + t->need : NULL, room, fmt, ap);
	va_end(ap);
	if (n > 0)
		t->need += (size_t)n;
}

/* Label values escape backslash, double quote and newline. */
static void text_add_label_value(struct text *t, const char *value)
{
	for (; *value; value++) {
		if (*value == '\\')
			text_add(t, "\\\\");
		else if (*value == '"')
			text_add(t, "\\\"");
		else if (*value == '\n')
			text_add(t, "\\n");
		else
			text_add(t, "%c", *value);
	}
}

static void prometheus_header(struct text *t, const char *family, const struct figure *f)
{
	const char *suffix = f->unit == METRICS_COUNTER ? "_total" : "";
	const char *type = f->unit == METRICS_COUNTER ? "counter" : "gauge";

	text_add(t, "# HELP strata_%s%s%s %s\n", family, f->stem, suffix, f->help);
	text_add(t, "# TYPE strata_%s%s%s %s\n", family, f->stem, suffix, type);
}

static void prometheus_value(struct text *t, const struct figure *f)
{
	char value[64];

	if (f->unit != METRICS_COUNTER && isnan(f->value))
		snprintf(value, sizeof(value), "NaN");
	else if (f->unit != METRICS_COUNTER && isinf(f->value))
		snprintf(value, sizeof(value), "%sInf", f->value > 0 ? "+" : "-");
	else
		format_value(f, value, sizeof(value));
	text_add(t, " %s\n", value);
}

static void prometheus_unlabelled(struct text *t, const char *family, const struct figure *f)
{
	prometheus_header(t, family, f);
	text_add(t, "strata_%s%s%s", family, f->stem, f->unit == METRICS_COUNTER ? "_total" : "");
	prometheus_value(t, f);
}

size_t metrics_prometheus_format(const struct metrics_snapshot *snap, char *buf, size_t len)
{
	struct text t = { .buf = buf, .len = len, .need = 0 };
	struct figure system[SYSTEM_FIGURES], source[SOURCE_FIGURES], server[SERVER_FIGURES];

	if (len > 0)
		buf[0] = '\0';

	system_figures(snap->tracking, NULL, system);
	for (size_t i = 0; i < SYSTEM_FIGURES; i++)
		prometheus_unlabelled(&t, "", &system[i]);

	/* One family at a time, every source under it: a family's samples
	 * must not be interleaved with another's. */
	for (size_t i = 0; i < SOURCE_FIGURES; i++) {
		bool header = false;

		for (size_t s = 0; s < snap->source_count; s++) {
			const struct source_status *info = &snap->sources[s];
			char addr[NETADDR_TEXT_LEN];

			source_figures(info, source);
			if (!source[i].present)
				continue;
			if (!header)
				prometheus_header(&t, "source_", &source[i]);
			header = true;
			netaddr_format_with_port(&info->addr, addr, sizeof(addr));
			text_add(&t, "strata_source_%s{name=\"", source[i].stem);
			text_add_label_value(&t, info->name);
			text_add(&t, "\",address=\"");
			text_add_label_value(&t, addr);
			text_add(&t, "\"}");
			prometheus_value(&t, &source[i]);
		}
	}

	if (snap->serve) {
		server_figures(snap->serve, NULL, server);
		for (size_t i = 0; i < SERVER_FIGURES; i++)
			if (server[i].present)
				prometheus_unlabelled(&t, "server_", &server[i]);
	}
	return t.need;
}

/* Walking the figures */

static void visit(const struct figure *f, const char *group, size_t source, metrics_visit_fn fn, void *ctx)
{
	struct metrics_value v = { .group = group, .source = source, .unit = f->unit, .present = f->present,
				   .value = f->value, .total = f->total };

	snprintf(v.name, sizeof(v.name), "%s%s", f->stem, f->unit == METRICS_COUNTER ? "_total" : "");
	fn(ctx, &v);
}

void metrics_visit(const struct metrics_snapshot *snap, metrics_visit_fn fn, void *ctx)
{
	struct figure system[SYSTEM_FIGURES], source[SOURCE_FIGURES], server[SERVER_FIGURES];

	system_figures(snap->tracking, NULL, system);
	for (size_t i = 0; i < SYSTEM_FIGURES; i++)
		visit(&system[i], "system", 0, fn, ctx);
	for (size_t s = 0; s < snap->source_count; s++) {
		source_figures(&snap->sources[s], source);
		for (size_t i = 0; i < SOURCE_FIGURES; i++)
			visit(&source[i], "source", s, fn, ctx);
	}
	if (snap->serve) {
		server_figures(snap->serve, NULL, server);
		for (size_t i = 0; i < SERVER_FIGURES; i++)
			visit(&server[i], "server", 0, fn, ctx);
	}
}
