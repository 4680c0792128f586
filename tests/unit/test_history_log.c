#include "cmocka_all.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "history_log.h"

static char *text;
static size_t text_len;

static FILE *start(void)
{
	FILE *f = open_memstream(&text, &text_len);

	assert_non_null(f);
	return f;
}

static void end(FILE *f)
{
	fclose(f);
}

static size_t words(const char *s)
{
	size_t n = 0;
	bool in = false;

	for (; *s && *s != '\n'; s++) {
		if (*s != ' ' && !in)
			n++;
		in = *s != ' ';
	}
	return n;
}

/* Each line has the header's columns (the header's "#" aside), in the
 * units stratad.conf(5) gives. */
static void lines_have_the_headers_columns(void **state)
{
	(void)state;
	struct source_status s;
	struct engine_tracking t;
	struct timespec at = { 1764766584, 714156789 }; /* 2025-12-03 12:56:24.714156 UTC */
	FILE *f;

	memset(&s, 0, sizeof(s));
	netaddr_parse("192.0.2.1", &s.addr);
	snprintf(s.name, sizeof(s.name), "ntp.example");
	s.leap = NTP_LEAP_INSERT;
	s.stratum = 2;
	s.poll = -2;
	s.refid = 0xC0000201;
	s.last_offset = -0.000123456789;
	s.last_delay = 0.0015;
	s.last_error = 0.25;
	s.samples = 8;
	s.runs = 4;
	s.span = 14.5;
	s.stats_offset = 0.000001;
	s.std_dev = 0.0000025;
	s.residual_frequency_ppm = -1.25;
	s.skew_ppm = 0.5;

	f = start();
	history_log_header(HISTORY_MEASUREMENTS, f);
	history_log_format_measurement(&s, at, f);
	end(f);
	assert_string_equal(strchr(text, '\n') + 1,
			    "2025-12-03 12:56:24.714156 192.0.2.1       +  2   -2 -0.000123457  0.001500000  0.250000000 C0000201 B ntp.example\n");
	assert_int_equal(words(text) - 1, words(strchr(text, '\n') + 1));
	free(text);
	/* a sample of an interleaved reply */
	s.last_interleaved = true;
	f = start();
	history_log_format_measurement(&s, at, f);
	end(f);
	assert_non_null(strstr(text, " C0000201 I ntp.example\n"));
	free(text);
	s.last_interleaved = false;

	f = start();
	history_log_header(HISTORY_STATISTICS, f);
	history_log_format_statistics(&s, at, f);
	end(f);
	assert_string_equal(strchr(text, '\n') + 1,
			    "2025-12-03 12:56:24.714156 192.0.2.1             8    4    14.500 +0.000001000  0.000002500      -1.250000   0.500000\n");
	assert_int_equal(words(text) - 1, words(strchr(text, '\n') + 1));
	free(text);

	memset(&t, 0, sizeof(t));
	t.state = SYNC_SYNCHRONIZED;
	t.reference_addr = s.addr;
	t.reference_time = at;
	t.stratum = 3;
	t.frequency_ppm = -12.5;
	t.residual_frequency_ppm = 0.01;
	t.skew_ppm = 0.2;
	t.last_offset = 0.002;
	t.rms_offset = 0.001;
	t.root_delay = 0.03;
	t.root_dispersion = 0.004;
	t.leap = NTP_LEAP_NONE;
	t.steps = 1;
	f = start();
	history_log_header(HISTORY_TRACKING, f);
	history_log_format_tracking(&t, f);
	end(f);
	assert_string_equal(strchr(text, '\n') + 1,
			    "2025-12-03 12:56:24.714156 192.0.2.1        3    -12.500000      +0.010000   0.200000 +0.002000000 "
			    " 0.001000000  0.030000000  0.004000000 N     1\n");
	assert_int_equal(words(text) - 1, words(strchr(text, '\n') + 1));
	free(text);

	/* a reference without an address (a refclock) is named */
	memset(&t.reference_addr, 0, sizeof(t.reference_addr));
	snprintf(t.reference_name, sizeof(t.reference_name), "GPS");
	t.leap = NTP_LEAP_UNSYNC;
	f = start();
	history_log_format_tracking(&t, f);
	end(f);
	assert_memory_equal(text + 27, "GPS ", 4);
	assert_non_null(strstr(text, " ?     1\n"));
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(lines_have_the_headers_columns),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
