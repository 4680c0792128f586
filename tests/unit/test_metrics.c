#include "cmocka_all.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"

struct fixture {
	struct engine_tracking tracking;
	struct source_status sources[3];
	struct serve_counters serve;
	struct metrics_snapshot snap;
};

static void add_source(struct fixture *f, size_t i, const char *name, const char *addr, int port)
{
	struct source_status *s = &f->sources[i];

	memset(s, 0, sizeof(*s));
	snprintf(s->name, sizeof(s->name), "%s", name);
	assert_true(netaddr_parse(addr, &s->addr));
	s->addr.port = (uint16_t)port;
}

static void fixture_init(struct fixture *f)
{
	memset(f, 0, sizeof(*f));
	f->tracking.state = SYNC_SYNCHRONIZED;
	f->tracking.stratum = 3;
	f->tracking.system_offset = -0.000012345;
	f->tracking.last_offset = 0.0000021;
	f->tracking.rms_offset = 0.000004;
	f->tracking.frequency_ppm = -12.3456;
	f->tracking.residual_frequency_ppm = 0.0004; /* rounds to zero */
	f->tracking.skew_ppm = 0.05;
	f->tracking.root_delay = 0.0125;
	f->tracking.root_dispersion = 0.0003;
	f->tracking.leap = NTP_LEAP_NONE;
	f->tracking.steps = 1;

	add_source(f, 0, "ntp1.example.net", "192.0.2.1", 123);
	f->sources[0].selection = SOURCE_SYSTEM_PEER;
	f->sources[0].stratum = 2;
	f->sources[0].poll = 6;
	f->sources[0].reach = 255;
	f->sources[0].have_estimate = true;
	f->sources[0].offset = 0.0005;
	f->sources[0].delay = 0.02;
	f->sources[0].dispersion = 0.001;
	f->sources[0].jitter = 0.0001;

	add_source(f, 1, "a \"b\"\\c\n", "2001:db8::1", 123); /* no sample yet */
	f->sources[1].selection = SOURCE_UNREACHABLE;
	f->sources[1].have_estimate = false;
	f->sources[1].poll = -1;

	f->serve = (struct serve_counters){ .received = 100, .answered = 90, .rate_limited = 6,
					    .kod_sent = 2, .malformed = 3, .denied = 1,
					    .authenticated = 4, .auth_failed = 5, .interleaved = 8 };
	f->snap = (struct metrics_snapshot){ &f->tracking, f->sources, 2, &f->serve };
}

struct capture {
	char text[65536];
	size_t used;
	size_t datagrams;
	size_t longest;
};

static void capture_datagram(void *ctx, const char *datagram, size_t len)
{
	struct capture *c = ctx;

	assert_true(len > 0);
	assert_true(len <= METRICS_STATSD_DATAGRAM_MAX);
	assert_true(datagram[len - 1] != '\n');
	assert_true(c->used + len + 2 < sizeof(c->text));
	memcpy(c->text + c->used, datagram, len);
	c->used += len;
	c->text[c->used++] = '\n';
	c->text[c->used++] = '\f'; /* marks the end of a datagram */
	c->text[c->used] = '\0';
	c->datagrams++;
	if (len > c->longest)
		c->longest = len;
}

static const char statsd_expected[] =
	"strata.offset_seconds:0|g\n"
	"strata.offset_seconds:-0.000012345|g\n"
	"strata.last_offset_seconds:0.000002100|g\n"
	"strata.jitter_seconds:0.000004000|g\n"
	"strata.frequency_ppm:0|g\n"
	"strata.frequency_ppm:-12.346|g\n"
	"strata.residual_frequency_ppm:0.000|g\n"
	"strata.skew_ppm:0.050|g\n"
	"strata.root_delay_seconds:0.012500000|g\n"
	"strata.root_dispersion_seconds:0.000300000|g\n"
	"strata.stratum:3|g\n"
	"strata.synchronized:1|g\n"
	"strata.sync_state:1|g\n"
	"strata.leap:0|g\n"
	"strata.clock_steps:1|c\n"
	"strata.source.ntp1_example_net.offset_seconds:0.000500000|g\n"
	"strata.source.ntp1_example_net.delay_seconds:0.020000000|g\n"
	"strata.source.ntp1_example_net.dispersion_seconds:0.001000000|g\n"
	"strata.source.ntp1_example_net.jitter_seconds:0.000100000|g\n"
	"strata.source.ntp1_example_net.reach:255|g\n"
	"strata.source.ntp1_example_net.stratum:2|g\n"
	"strata.source.ntp1_example_net.poll_seconds:64|g\n"
	"strata.source.ntp1_example_net.selected:1|g\n"
	"strata.source.a__b__c_.reach:0|g\n"
	"strata.source.a__b__c_.stratum:0|g\n"
	"strata.source.a__b__c_.poll_seconds:0.5|g\n"
	"strata.source.a__b__c_.selected:0|g\n"
	"strata.server.received:100|c\n"
	"strata.server.answered:90|c\n"
	"strata.server.rate_limited:6|c\n"
	"strata.server.kod_sent:2|c\n"
	"strata.server.malformed:3|c\n"
	"strata.server.denied:1|c\n"
	"strata.server.authenticated:4|c\n"
	"strata.server.auth_failed:5|c\n"
	"strata.server.interleaved:8|c\n\f";

/* Serving NTS: its counters follow the others, in both formats. */
static void nts_counters_appear_when_serving_nts(void **state)
{
	(void)state;
	struct fixture f;
	char text[65536];

	fixture_init(&f);
	f.serve.nts = true;
	f.serve.nts_requests = 40;
	f.serve.nts_naks = 2;
	f.serve.nts_ke_errors = 7;
	metrics_prometheus_format(&f.snap, text, sizeof(text));
	assert_non_null(strstr(text, "strata_server_interleaved_total 8\n"
				     "# HELP strata_server_nts_requests_total Requests with an NTS cookie.\n"
				     "# TYPE strata_server_nts_requests_total counter\n"
				     "strata_server_nts_requests_total 40\n"));
	assert_non_null(strstr(text, "strata_server_nts_naks_total 2\n"));
	assert_non_null(strstr(text, "strata_server_nts_ke_errors_total 7\n"));
	f.serve.nts = false;
	metrics_prometheus_format(&f.snap, text, sizeof(text));
	assert_null(strstr(text, "nts_"));
}

static void statsd_lines_are_exact(void **state)
{
	(void)state;
	struct fixture f;
	struct metrics_statsd_sent sent = { 0 };
	struct capture c = { .used = 0 };

	fixture_init(&f);
	metrics_statsd_format(&f.snap, "strata", &sent, capture_datagram, &c);
	assert_string_equal(c.text, statsd_expected);
	assert_int_equal(c.datagrams, 1);
	assert_int_equal(sent.clock_steps, 1);
	assert_int_equal(sent.serve.answered, 90);
}

static void counters_send_deltas(void **state)
{
	(void)state;
	struct fixture f;
	struct metrics_statsd_sent sent = { 0 };
	struct capture c = { .used = 0 };

	fixture_init(&f);
	f.snap.source_count = 0;
	metrics_statsd_format(&f.snap, "s", &sent, capture_datagram, &c);
	f.serve.answered = 125;
	f.serve.kod_sent = 2;
	c = (struct capture){ .used = 0 };
	metrics_statsd_format(&f.snap, "s", &sent, capture_datagram, &c);
	assert_non_null(strstr(c.text, "s.server.answered:35|c\n"));
	assert_non_null(strstr(c.text, "s.server.kod_sent:0|c\n"));
	assert_non_null(strstr(c.text, "s.clock_steps:0|c\n"));

	/* a total that went down (counters reset) counts in full */
	f.serve.answered = 7;
	c = (struct capture){ .used = 0 };
	metrics_statsd_format(&f.snap, "s", &sent, capture_datagram, &c);
	assert_non_null(strstr(c.text, "s.server.answered:7|c\n"));
}

static void empty_prefix_and_no_server(void **state)
{
	(void)state;
	struct fixture f;
	struct metrics_statsd_sent sent = { 0 };
	struct capture c = { .used = 0 };

	fixture_init(&f);
	f.snap.source_count = 0;
	f.snap.serve = NULL;
	f.tracking.system_offset = NAN;
	metrics_statsd_format(&f.snap, "", &sent, capture_datagram, &c);
	assert_true(strncmp(c.text, "last_offset_seconds:0.000002100|g\n", 34) == 0);
	assert_null(strstr(c.text, "offset_seconds:nan"));
	assert_null(strstr(c.text, "server"));
}

static void many_sources_split_into_datagrams_on_line_boundaries(void **state)
{
	(void)state;
	enum { COUNT = 40 };
	struct engine_tracking tracking = { .stratum = 16 };
	struct source_status *sources = calloc(COUNT, sizeof(*sources));
	struct metrics_snapshot snap = { &tracking, sources, COUNT, NULL };
	struct metrics_statsd_sent sent = { 0 };
	struct capture *c = calloc(1, sizeof(*c));
	size_t lines = 0;

	assert_non_null(sources);
	assert_non_null(c);
	for (size_t i = 0; i < COUNT; i++) {
		snprintf(sources[i].name, sizeof(sources[i].name), "server-%02zu.example.org", i);
		sources[i].offset = -0.25;
		sources[i].have_estimate = true;
	}
	metrics_statsd_format(&snap, "strata", &sent, capture_datagram, c);
	assert_true(c->datagrams > 1);
	assert_true(c->longest > METRICS_STATSD_DATAGRAM_MAX - 120);
	/* every negative gauge follows its reset to zero in the same datagram */
	const char *previous = "";
	for (char *line = c->text, *end; (end = strchr(line, '\n')) != NULL; line = end + 1) {
		if (*line == '\f') {
			line++;
			previous = "";
		}
		*end = '\0';
		char *colon = strchr(line, ':');
		assert_non_null(colon);
		if (colon[1] == '-') {
			char reset[256];
			snprintf(reset, sizeof(reset), "%.*s:0|g", (int)(colon - line), line);
			assert_string_equal(previous, reset);
		}
		previous = line;
		lines++;
	}
	/* 13 system lines, 40 x (8 figures + 1 reset) */
	assert_int_equal(lines, 13 + COUNT * 9);
	free(c);
	free(sources);
}

static void shared_names_get_the_address(void **state)
{
	(void)state;
	struct fixture f;
	struct metrics_statsd_sent sent = { 0 };
	struct capture c = { .used = 0 };

	fixture_init(&f);
	add_source(&f, 0, "pool.ntp.org", "192.0.2.7", 123);
	add_source(&f, 1, "pool.ntp.org", "2001:db8::7", 123);
	metrics_statsd_format(&f.snap, "x", &sent, capture_datagram, &c);
	assert_non_null(strstr(c.text, "x.source.pool_ntp_org_192_0_2_7_123.reach:0|g\n"));
	assert_non_null(strstr(c.text, "x.source.pool_ntp_org__2001_db8__7__123.reach:0|g\n"));
}

static void key_sanitizing(void **state)
{
	(void)state;
	char out[8];

	metrics_key_sanitize("a.b:c[d]", out, sizeof(out));
	assert_string_equal(out, "a_b_c_d");
	metrics_key_sanitize("", out, sizeof(out));
	assert_string_equal(out, "unnamed");
	metrics_key_sanitize("Ok-_9", out, sizeof(out));
	assert_string_equal(out, "Ok-_9");
}

static const char prometheus_expected[] =
	"# HELP strata_offset_seconds Estimated offset of true time from the system clock.\n"
	"# TYPE strata_offset_seconds gauge\n"
	"strata_offset_seconds -0.000012345\n"
	"# HELP strata_last_offset_seconds Offset measured at the last clock update.\n"
	"# TYPE strata_last_offset_seconds gauge\n"
	"strata_last_offset_seconds 0.000002100\n"
	"# HELP strata_jitter_seconds System jitter: the RMS of the recent offsets.\n"
	"# TYPE strata_jitter_seconds gauge\n"
	"strata_jitter_seconds 0.000004000\n"
	"# HELP strata_frequency_ppm Frequency correction applied; positive makes the clock faster.\n"
	"# TYPE strata_frequency_ppm gauge\n"
	"strata_frequency_ppm -12.346\n"
	"# HELP strata_residual_frequency_ppm Frequency error still measured after the correction.\n"
	"# TYPE strata_residual_frequency_ppm gauge\n"
	"strata_residual_frequency_ppm 0.000\n"
	"# HELP strata_skew_ppm Estimated error bound of the frequency.\n"
	"# TYPE strata_skew_ppm gauge\n"
	"strata_skew_ppm 0.050\n"
	"# HELP strata_root_delay_seconds Round-trip delay to the primary reference.\n"
	"# TYPE strata_root_delay_seconds gauge\n"
	"strata_root_delay_seconds 0.012500000\n"
	"# HELP strata_root_dispersion_seconds Dispersion accumulated to the primary reference.\n"
	"# TYPE strata_root_dispersion_seconds gauge\n"
	"strata_root_dispersion_seconds 0.000300000\n"
	"# HELP strata_stratum Stratum served downstream; 16 when unsynchronized.\n"
	"# TYPE strata_stratum gauge\n"
	"strata_stratum 3\n"
	"# HELP strata_synchronized 1 when synchronized to a source, else 0.\n"
	"# TYPE strata_synchronized gauge\n"
	"strata_synchronized 1\n"
	"# HELP strata_sync_state 0 unsynchronized, 1 synchronized, 2 serving the local clock.\n"
	"# TYPE strata_sync_state gauge\n"
	"strata_sync_state 1\n"
	"# HELP strata_leap Leap indicator: 0 none, 1 insert, 2 delete, 3 unsynchronized.\n"
	"# TYPE strata_leap gauge\n"
	"strata_leap 0\n"
	"# HELP strata_clock_steps_total Steps of the clock taken since start.\n"
	"# TYPE strata_clock_steps_total counter\n"
	"strata_clock_steps_total 1\n"
	"# HELP strata_source_offset_seconds Offset of the source from the system clock, from the clock filter.\n"
	"# TYPE strata_source_offset_seconds gauge\n"
	"strata_source_offset_seconds{name=\"ntp1.example.net\",address=\"192.0.2.1:123\"} 0.000500000\n"
	"# HELP strata_source_delay_seconds Round-trip delay to the source.\n"
	"# TYPE strata_source_delay_seconds gauge\n"
	"strata_source_delay_seconds{name=\"ntp1.example.net\",address=\"192.0.2.1:123\"} 0.020000000\n"
	"# HELP strata_source_dispersion_seconds Dispersion of the source's samples.\n"
	"# TYPE strata_source_dispersion_seconds gauge\n"
	"strata_source_dispersion_seconds{name=\"ntp1.example.net\",address=\"192.0.2.1:123\"} 0.001000000\n"
	"# HELP strata_source_jitter_seconds Jitter of the source's samples.\n"
	"# TYPE strata_source_jitter_seconds gauge\n"
	"strata_source_jitter_seconds{name=\"ntp1.example.net\",address=\"192.0.2.1:123\"} 0.000100000\n"
	"# HELP strata_source_reach Reach register: the last 8 polls, bit 0 the latest (0-255).\n"
	"# TYPE strata_source_reach gauge\n"
	"strata_source_reach{name=\"ntp1.example.net\",address=\"192.0.2.1:123\"} 255\n"
	"strata_source_reach{name=\"a \\\"b\\\"\\\\c\\n\",address=\"[2001:db8::1]:123\"} 0\n"
	"# HELP strata_source_stratum Stratum of the source.\n"
	"# TYPE strata_source_stratum gauge\n"
	"strata_source_stratum{name=\"ntp1.example.net\",address=\"192.0.2.1:123\"} 2\n"
	"strata_source_stratum{name=\"a \\\"b\\\"\\\\c\\n\",address=\"[2001:db8::1]:123\"} 0\n"
	"# HELP strata_source_poll_seconds Poll interval.\n"
	"# TYPE strata_source_poll_seconds gauge\n"
	"strata_source_poll_seconds{name=\"ntp1.example.net\",address=\"192.0.2.1:123\"} 64\n"
	"strata_source_poll_seconds{name=\"a \\\"b\\\"\\\\c\\n\",address=\"[2001:db8::1]:123\"} 0.5\n"
	"# HELP strata_source_selected 1 when the source is combined into the system time.\n"
	"# TYPE strata_source_selected gauge\n"
	"strata_source_selected{name=\"ntp1.example.net\",address=\"192.0.2.1:123\"} 1\n"
	"strata_source_selected{name=\"a \\\"b\\\"\\\\c\\n\",address=\"[2001:db8::1]:123\"} 0\n"
	"# HELP strata_server_received_total Requests received.\n"
	"# TYPE strata_server_received_total counter\n"
	"strata_server_received_total 100\n"
	"# HELP strata_server_answered_total Requests answered with time.\n"
	"# TYPE strata_server_answered_total counter\n"
	"strata_server_answered_total 90\n"
	"# HELP strata_server_rate_limited_total Requests refused by the rate limiter (dropped or answered by KoD).\n"
	"# TYPE strata_server_rate_limited_total counter\n"
	"strata_server_rate_limited_total 6\n"
	"# HELP strata_server_kod_sent_total Kiss-o'-Death RATE replies sent.\n"
	"# TYPE strata_server_kod_sent_total counter\n"
	"strata_server_kod_sent_total 2\n"
	"# HELP strata_server_malformed_total Requests dropped as malformed (short, bad extension fields, wrong mode or version).\n"
	"# TYPE strata_server_malformed_total counter\n"
	"strata_server_malformed_total 3\n"
	"# HELP strata_server_denied_total Requests dropped by the access list.\n"
	"# TYPE strata_server_denied_total counter\n"
	"strata_server_denied_total 1\n"
	"# HELP strata_server_authenticated_total Requests with a valid MAC, answered with a MAC under the same key.\n"
	"# TYPE strata_server_authenticated_total counter\n"
	"strata_server_authenticated_total 4\n"
	"# HELP strata_server_auth_failed_total Requests with a MAC under an unknown key or a wrong one, dropped.\n"
	"# TYPE strata_server_auth_failed_total counter\n"
	"strata_server_auth_failed_total 5\n"
	"# HELP strata_server_interleaved_total Answers in interleaved mode: the kernel's stamp of the last answer leaving as transmit time.\n"
	"# TYPE strata_server_interleaved_total counter\n"
	"strata_server_interleaved_total 8\n";

static void prometheus_text_is_exact(void **state)
{
	(void)state;
	struct fixture f;
	static char buf[16384];
	size_t need;

	fixture_init(&f);
	need = metrics_prometheus_format(&f.snap, buf, sizeof(buf));
	assert_string_equal(buf, prometheus_expected);
	assert_int_equal(need, strlen(prometheus_expected));
}

static void prometheus_reports_the_length_it_needs(void **state)
{
	(void)state;
	struct fixture f;
	char small[100];
	static char big[16384];
	size_t need;

	fixture_init(&f);
	need = metrics_prometheus_format(&f.snap, small, sizeof(small));
	assert_int_equal(need, strlen(prometheus_expected));
	assert_int_equal(strlen(small), sizeof(small) - 1);
	assert_int_equal(strncmp(small, prometheus_expected, sizeof(small) - 1), 0);
	assert_int_equal(metrics_prometheus_format(&f.snap, NULL, 0), need);

	f.tracking.system_offset = INFINITY;
	f.tracking.rms_offset = NAN;
	metrics_prometheus_format(&f.snap, big, sizeof(big));
	assert_non_null(strstr(big, "\nstrata_offset_seconds +Inf\n"));
	assert_non_null(strstr(big, "\nstrata_jitter_seconds NaN\n"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(statsd_lines_are_exact),
		cmocka_unit_test(nts_counters_appear_when_serving_nts),
		cmocka_unit_test(counters_send_deltas),
		cmocka_unit_test(empty_prefix_and_no_server),
		cmocka_unit_test(many_sources_split_into_datagrams_on_line_boundaries),
		cmocka_unit_test(shared_names_get_the_address),
		cmocka_unit_test(key_sanitizing),
		cmocka_unit_test(prometheus_text_is_exact),
		cmocka_unit_test(prometheus_reports_the_length_it_needs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
