#include "cmocka_all.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "status.h"

static char *captured;
static size_t captured_len;

static FILE *capture(void)
{
	free(captured);
	captured = NULL;
	FILE *f = open_memstream(&captured, &captured_len);

	assert_non_null(f);
	return f;
}

static void synced_tracking(struct engine_tracking *t)
{
	memset(t, 0, sizeof(*t));
	t->state = SYNC_SYNCHRONIZED;
	netaddr_parse("127.0.0.2", &t->reference_addr);
	snprintf(t->reference_name, sizeof(t->reference_name), "127.0.0.2");
	t->refid = 0x7f000002;
	t->stratum = 3;
	t->reference_time.tv_sec = 1700000000;
	t->system_offset = -0.000012;
	t->last_offset = 0.000003;
	t->rms_offset = 0.000004;
	t->frequency_ppm = -1.5;
	t->skew_ppm = 0.02;
	t->root_delay = 0.0012;
	t->root_dispersion = 0.0005;
	t->leap = NTP_LEAP_NONE;
}

static void tracking_text_reads_like_chronyc(void **state)
{
	(void)state;
	struct engine_tracking t;
	FILE *f = capture();

	synced_tracking(&t);
	status_tracking(f, &t, false);
	fclose(f);
	assert_non_null(strstr(captured, "Reference ID    : 7F000002 (127.0.0.2)\n"));
	assert_non_null(strstr(captured, "Stratum         : 3\n"));
	assert_non_null(strstr(captured, "Ref time (UTC)  : Tue Nov 14 22:13:20 2023\n"));
	assert_non_null(strstr(captured, "System time     : 0.000012000 seconds fast of NTP time\n"));
	assert_non_null(strstr(captured, "Last offset     : +0.000003000 seconds\n"));
	assert_non_null(strstr(captured, "Frequency       : 1.500 ppm fast\n"));
	assert_non_null(strstr(captured, "Root delay      : 0.001200000 seconds\n"));
	assert_non_null(strstr(captured, "Leap status     : normal\n"));
	assert_non_null(strstr(captured, "Sync state      : synchronized\n"));
}

/* After a tzdata update the operator sees which table decides, until
 * when, and the leap it holds next; in text and JSON. */
static void tracking_shows_the_leap_table(void **state)
{
	(void)state;
	struct engine_tracking t;
	FILE *f;

	synced_tracking(&t);
	t.leap_table_expires = 1498608000; /* 2017-06-28 */
	t.next_leap_when = 1483228800;     /* the midnight after 2016-12-31 */
	t.next_leap_sign = 1;
	t.leap_mode = LEAP_MODE_STEP;
	f = capture();
	status_tracking(f, &t, false);
	fclose(f);
	assert_non_null(strstr(captured, "Leap table      : valid until 2017-06-28\n"));
	assert_non_null(strstr(captured, "Next leap       : insert second at the end of 2016-12-31\n"));
	assert_non_null(strstr(captured, "Leap mode       : step\n"));
	f = capture();
	status_tracking(f, &t, true);
	fclose(f);
	assert_non_null(strstr(captured, "\"leap_table\": \"valid\""));
	assert_non_null(strstr(captured, "\"leap_table_expires\": 1498608000"));
	assert_non_null(strstr(captured, "\"next_leap\": 1483228800"));
	assert_non_null(strstr(captured, "\"next_leap_status\": \"insert second\""));
	assert_non_null(strstr(captured, "\"leap_mode\": \"step\""));

	/* expired: not used, so no next leap from it */
	t.leap_table_expired = true;
	f = capture();
	status_tracking(f, &t, false);
	fclose(f);
	assert_non_null(strstr(captured, "Leap table      : expired 2017-06-28: not used"));
	assert_non_null(strstr(captured, "Next leap       : -\n"));
	f = capture();
	status_tracking(f, &t, true);
	fclose(f);
	assert_non_null(strstr(captured, "\"leap_table\": \"expired\""));
	assert_non_null(strstr(captured, "\"next_leap\": null"));

	/* a time zone never expires; no table at all */
	t.leap_table_expires = LEAP_NEVER_EXPIRES;
	t.leap_table_expired = false;
	t.next_leap_when = 0;
	f = capture();
	status_tracking(f, &t, false);
	fclose(f);
	assert_non_null(strstr(captured, "Leap table      : valid (a time zone: no expiry)\n"));
	assert_non_null(strstr(captured, "Next leap       : none in the table\n"));
	t.leap_table_expires = 0;
	f = capture();
	status_tracking(f, &t, true);
	fclose(f);
	assert_non_null(strstr(captured, "\"leap_table\": \"none\""));
	assert_non_null(strstr(captured, "\"leap_table_expires\": null"));
}

static void unsynchronized_tracking_says_why(void **state)
{
	(void)state;
	struct engine_tracking t;
	FILE *f = capture();

	synced_tracking(&t);
	t.state = SYNC_UNSYNCHRONIZED;
	t.reason = UNSYNC_INSANE_TIME;
	t.insane_offset = -7200.25;
	t.stratum = 16;
	status_tracking(f, &t, false);
	fclose(f);
	assert_non_null(strstr(captured, "Sync state      : unsynchronized ("));
	assert_non_null(strstr(captured, unsync_reason_str(UNSYNC_INSANE_TIME)));
	assert_non_null(strstr(captured, "-7200.250 s off"));

	f = capture();
	t.reason = UNSYNC_QUORUM_NOT_MET;
	status_tracking(f, &t, true);
	fclose(f);
	assert_non_null(strstr(captured, "\"state\": \"unsynchronized\""));
	assert_non_null(strstr(captured, "\"unsync_reason\": \""));
	assert_non_null(strstr(captured, unsync_reason_str(UNSYNC_QUORUM_NOT_MET)));
}

static void tracking_json_carries_the_figures(void **state)
{
	(void)state;
	struct engine_tracking t;
	FILE *f = capture();

	synced_tracking(&t);
	status_tracking(f, &t, true);
	fclose(f);
	assert_int_equal(captured[0], '{');
	assert_int_equal(captured[captured_len - 1], '\n');
	assert_non_null(strstr(captured, "\"reference_id\": \"127.0.0.2\""));
	assert_non_null(strstr(captured, "\"reference_id_hex\": \"7F000002\""));
	assert_non_null(strstr(captured, "\"stratum\": 3"));
	assert_non_null(strstr(captured, "\"system_offset\": -0.000012000"));
	assert_non_null(strstr(captured, "\"unsync_reason\": null"));
}

/* A server that answers but is unsynchronized: reachable (its reach shown)
 * and named unsynchronized, in text and JSON. */
static void unsynchronized_source_is_named(void **state)
{
	(void)state;
	struct source_status s = { .name = "ntpsec", .selection = SOURCE_SERVER_UNSYNCHRONIZED,
				   .stratum = 0, .poll = 6, .reach = 0377, .kiss = "INIT" };
	FILE *f;

	assert_true(netaddr_parse("127.0.0.1", &s.addr));
	s.addr.port = 123;
	f = capture();
	status_sources(f, &s, 1, false, false);
	fclose(f);
	assert_non_null(strstr(captured, "\n  127.0.0.1:123 "));
	assert_non_null(strstr(captured, "  377 "));
	assert_non_null(strstr(captured, " unsynchronized kiss INIT\n"));
	f = capture();
	status_sources(f, &s, 1, true, false);
	fclose(f);
	assert_non_null(strstr(captured, "\"state\": \"unsynchronized\""));
	assert_non_null(strstr(captured, "\"reach\": \"377\""));
}

static void two_sources(struct source_status s[2])
{
	memset(s, 0, 2 * sizeof(*s));
	snprintf(s[0].name, sizeof(s[0].name), "a.example");
	netaddr_parse("127.0.0.1", &s[0].addr);
	s[0].addr.port = 123;
	s[0].selection = SOURCE_SYSTEM_PEER;
	s[0].stratum = 1;
	s[0].poll = 6;
	s[0].reach = 0377;
	s[0].have_sample = true;
	s[0].last_rx_age = 12;
	s[0].last_offset = 0.0000123;
	s[0].last_error = 0.0000301;
	s[0].last_delay = 0.000045;
	s[0].have_estimate = true;
	s[0].estimate_age = 200;
	s[0].offset = -0.0000071;
	s[0].root_distance = 0.0012;
	s[0].jitter = 0.0000032;
	s[0].samples = 8;
	s[0].have_stats = true;
	s[0].runs = 5;
	s[0].span = 450;
	s[0].residual_frequency_ppm = -0.0123;
	s[0].skew_ppm = 0.0456;
	s[0].stats_offset = 0.0000021;
	s[0].std_dev = 0.0000034;
	netaddr_parse("::1", &s[1].addr);
	s[1].addr.port = 4123;
	s[1].selection = SOURCE_FALSETICKER;
	s[1].stratum = 2;
	s[1].poll = 4;
	s[1].reach = 017;
	s[1].have_sample = true;
	s[1].last_rx_age = 3;
	s[1].last_offset = 3600.5;
	s[1].last_delay = 0.002;
	s[1].samples = 2;
	s[1].span = 16;
}

static void sources_show_the_last_reply(void **state)
{
	(void)state;
	struct source_status s[2];
	FILE *f = capture();

	two_sources(s);
	status_sources(f, s, 2, false, false);
	fclose(f);
	assert_non_null(strstr(captured, "* 127.0.0.1:123"));
	/* LastRx and Offset are the last reply's, not the filter's estimate */
	assert_non_null(strstr(captured, "      1    6   377    12s   +12.3us    30.1us    45.0us     3.2us\n"));
	assert_null(strstr(captured, "-7.1us"));
	assert_non_null(strstr(captured, "x [::1]:4123"));
	assert_non_null(strstr(captured, "      2    4    17     3s"));
	assert_non_null(strstr(captured, "+3600s"));

	f = capture();
	status_sources(f, s, 2, false, true);
	fclose(f);
	assert_non_null(strstr(captured, "LastRx: time since the last accepted reply"));
	/* verbose adds the filter's estimate, its error (root distance) and age */
	assert_non_null(strstr(captured, "    3.2us    -7.1us     1.2ms   200s\n"));

	f = capture();
	status_sources(f, s, 2, true, false);
	fclose(f);
	assert_int_equal(captured[0], '[');
	assert_non_null(strstr(captured, source_selection_str(SOURCE_FALSETICKER)));
	assert_non_null(strstr(captured, "\"reach\": \"377\""));
	assert_non_null(strstr(captured, "\"address\": \"[::1]:4123\""));
	assert_non_null(strstr(captured, "\"last_rx_age\": 12.000000000"));
	assert_non_null(strstr(captured, "\"offset\": 0.000012300"));
	assert_non_null(strstr(captured, "\"error\": 0.000030100"));
	assert_non_null(strstr(captured, "\"estimate\": {"));
	assert_non_null(strstr(captured, "\"offset\": -0.000007100"));
	assert_non_null(strstr(captured, "\"error\": 0.001200000"));
	assert_non_null(strstr(captured, "\"estimate\": null"));
}

static void sourcestats_show_the_line_through_the_samples(void **state)
{
	(void)state;
	struct source_status s[2];
	FILE *f = capture();

	two_sources(s);
	status_sourcestats(f, s, 2, false);
	fclose(f);
	assert_non_null(strstr(captured, "Name/IP address                  NP  NR  Span  Frequency  Freq Skew    Offset   Std Dev\n"));
	assert_non_null(strstr(captured, "127.0.0.1:123                      8   5  450s     -0.012      0.046    +2.1us     3.4us\n"));
	/* two samples make no line */
	assert_non_null(strstr(captured, "[::1]:4123                         2   -   16s          -          -         -         -\n"));

	f = capture();
	status_sourcestats(f, s, 2, true);
	fclose(f);
	assert_int_equal(captured[0], '[');
	assert_non_null(strstr(captured, "\"samples\": 8"));
	assert_non_null(strstr(captured, "\"runs\": 5"));
	assert_non_null(strstr(captured, "\"residual_frequency_ppm\": -0.012300"));
	assert_non_null(strstr(captured, "\"skew_ppm\": 0.045600"));
	assert_non_null(strstr(captured, "\"std_dev\": 0.000003400"));
	assert_non_null(strstr(captured, "\"residual_frequency_ppm\": null"));
}

static void tracking_before_the_first_update_has_no_dispersion(void **state)
{
	(void)state;
	struct engine_tracking t;
	FILE *f = capture();

	synced_tracking(&t);
	t.state = SYNC_UNSYNCHRONIZED;
	t.reason = UNSYNC_STARTING;
	t.reference_time = (struct timespec){ 0, 0 };
	t.root_dispersion = INFINITY;
	status_tracking(f, &t, false);
	fclose(f);
	assert_non_null(strstr(captured, "Ref time (UTC)  : -\n"));
	assert_non_null(strstr(captured, "Root dispersion : - (no clock update yet)\n"));
	f = capture();
	status_tracking(f, &t, true);
	fclose(f);
	assert_non_null(strstr(captured, "\"root_dispersion\": null"));
}

static void durations_pick_a_readable_unit(void **state)
{
	(void)state;
	char buf[32];

	status_format_seconds(buf, sizeof(buf), 0.000000123, true);
	assert_string_equal(buf, "+123ns");
	status_format_seconds(buf, sizeof(buf), -0.0000456, true);
	assert_string_equal(buf, "-45.6us");
	status_format_seconds(buf, sizeof(buf), 0.0125, false);
	assert_string_equal(buf, "12.5ms");
	status_format_seconds(buf, sizeof(buf), 2.5, false);
	assert_string_equal(buf, "2.5s");
}

static void serverstats_count(void **state)
{
	(void)state;
	struct serve_counters c = { .received = 10, .answered = 7, .rate_limited = 2, .kod_sent = 1, .malformed = 1 };
	FILE *f = capture();

	status_serverstats(f, &c, true, false);
	fclose(f);
	assert_non_null(strstr(captured, "Requests received    : 10\n"));
	assert_non_null(strstr(captured, "Rate limited         : 2\n"));
	f = capture();
	status_serverstats(f, &c, true, true);
	fclose(f);
	assert_non_null(strstr(captured, "\"answered\": 7"));
	free(captured);
	captured = NULL;
}

/* ntpdate's figures: an offset that rounds to zero is never "-0.000000". */
static void fixed_seconds_never_say_minus_zero(void **state)
{
	char buf[32];

	(void)state;
	assert_string_equal(status_format_fixed(buf, sizeof(buf), -4e-7, 6), "0.000000");
	assert_string_equal(status_format_fixed(buf, sizeof(buf), -0.0, 6), "0.000000");
	assert_string_equal(status_format_fixed(buf, sizeof(buf), -4e-4, 3), "0.000");
	assert_string_equal(status_format_fixed(buf, sizeof(buf), -6e-7, 6), "-0.000001");
	assert_string_equal(status_format_fixed(buf, sizeof(buf), -1.5, 6), "-1.500000");
	assert_string_equal(status_format_fixed(buf, sizeof(buf), 2e-7, 6), "0.000000");
}

static void authdata_shows_mode_key_and_counts(void **state)
{
	(void)state;
	struct source_status s[3];
	struct auth_key key = { .id = 10, .type = AUTH_AES128_CMAC, .len = 16 };
	FILE *f = capture();

	memset(s, 0, sizeof(s));
	snprintf(s[0].name, sizeof(s[0].name), "a.example");
	netaddr_parse("127.0.0.1", &s[0].addr);
	s[0].addr.port = 123;
	s[0].key = &key;
	s[0].auth_ok = 12;
	s[0].auth_failed = 3;
	netaddr_parse("::1", &s[1].addr);
	s[1].addr.port = 4123;
	netaddr_parse("127.0.0.2", &s[2].addr);
	s[2].addr.port = 123;
	s[2].nts = true;
	s[2].nts_status = (struct nts_client_status){ .have_keys = true, .aead = 15, .cookies = 7, .ke_attempts = 2,
						      .naks = 1 };
	s[2].nts_last_ke_age = 90;
	s[2].auth_ok = 40;
	s[2].auth_failed = 2;
	status_authdata(f, s, 3, false);
	fclose(f);
	assert_non_null(strstr(captured, "127.0.0.1:123                   SK           10 AES128   128         12          3    -    -    -      -\n"));
	assert_non_null(strstr(captured, "[::1]:4123                      -             - -          -          -          -    -    -    -      -\n"));
	assert_non_null(strstr(captured, "127.0.0.2:123                   NTS          15 SIV-256  256         40          2    7    2    1    90s\n"));
	f = capture();
	status_authdata(f, s, 3, true);
	fclose(f);
	assert_non_null(strstr(captured, "\"mode\": \"symmetric\""));
	assert_non_null(strstr(captured, "\"key_id\": 10"));
	assert_non_null(strstr(captured, "\"key_type\": \"AES128\""));
	assert_non_null(strstr(captured, "\"key_bits\": 128"));
	assert_non_null(strstr(captured, "\"authenticated\": 12"));
	assert_non_null(strstr(captured, "\"failed\": 3"));
	assert_non_null(strstr(captured, "\"mode\": \"none\""));
	assert_non_null(strstr(captured, "\"mode\": \"nts\""));
	assert_non_null(strstr(captured, "\"key_type\": \"AES-SIV-CMAC-256\""));
	assert_non_null(strstr(captured, "\"cookies\": 7"));
	assert_non_null(strstr(captured, "\"ke_attempts\": 2"));
	assert_non_null(strstr(captured, "\"naks\": 1"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(tracking_text_reads_like_chronyc),
		cmocka_unit_test(tracking_shows_the_leap_table),
		cmocka_unit_test(unsynchronized_tracking_says_why),
		cmocka_unit_test(tracking_json_carries_the_figures),
		cmocka_unit_test(sources_show_the_last_reply),
		cmocka_unit_test(unsynchronized_source_is_named),
		cmocka_unit_test(sourcestats_show_the_line_through_the_samples),
		cmocka_unit_test(tracking_before_the_first_update_has_no_dispersion),
		cmocka_unit_test(durations_pick_a_readable_unit),
		cmocka_unit_test(authdata_shows_mode_key_and_counts),
		cmocka_unit_test(serverstats_count),
		cmocka_unit_test(fixed_seconds_never_say_minus_zero),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
