#include "cmocka_all.h"

#include <string.h>

#include "source_lines.h"

static struct config_source out[4];
static struct source_lines_error errors[4];
static struct source_lines_result result;

static void parse(const char *text, size_t max)
{
	memset(out, 0, sizeof(out));
	source_lines_parse(text, strlen(text), out, max, errors, 4, &result);
}

/* What Debian's DHCP hooks write, and chrony's other spellings. */
static void server_and_pool_lines_become_entries(void **state)
{
	(void)state;
	parse("# from DHCP on eth0\n"
	      "server 192.0.2.1 iburst\n"
	      "\n"
	      "! chrony comment\n"
	      "  POOL  pool.example.net  maxsources 2 minpoll 4 MAXPOLL 8\t\n"
	      "server fe80::1%eth0 port 10123\n",
	      4);
	assert_int_equal(result.error_count, 0);
	assert_int_equal(result.count, 3);
	assert_string_equal(out[0].name, "192.0.2.1");
	assert_false(out[0].pool);
	assert_true(out[0].iburst);
	assert_int_equal(out[0].port, 123);
	assert_int_equal(out[0].minpoll, 6);
	assert_int_equal(out[0].maxpoll, 10);
	assert_int_equal(out[0].maxsources, 1);
	assert_int_equal(out[0].line, 2);
	assert_string_equal(out[1].name, "pool.example.net");
	assert_true(out[1].pool);
	assert_false(out[1].iburst);
	assert_int_equal(out[1].maxsources, 2);
	assert_int_equal(out[1].minpoll, 4);
	assert_int_equal(out[1].maxpoll, 8);
	assert_int_equal(out[1].line, 5);
	assert_string_equal(out[2].name, "fe80::1%eth0");
	assert_int_equal(out[2].port, 10123);
	assert_int_equal(out[2].line, 6);
}

/* chrony's per-source options on a sourcedir line. */
static void per_source_options_on_a_line(void **state)
{
	(void)state;
	parse("server 192.0.2.1 iburst prefer maxdelay 0.5 maxdelayratio 2 offset -0.001 version 3\n"
	      "server nts.example nts ntsport 4461 noselect trust require minstratum 3 maxsamples 4\n"
	      "server 192.0.2.2 key 17\n"
	      "server 192.0.2.3 maxdelay 1001\n",
	      4);
	assert_int_equal(result.count, 3);
	assert_true(out[0].prefer && !out[0].noselect && out[0].maxdelay == 0.5 && out[0].maxdelayratio == 2);
	assert_true(out[0].offset == -0.001);
	assert_int_equal(out[0].version, 3);
	assert_int_equal(out[0].maxsamples, 8);
	assert_false(out[0].nts);
	assert_true(out[1].nts && out[1].noselect && out[1].trust && out[1].require && !out[1].prefer);
	assert_int_equal(out[1].nts_port, 4461);
	assert_int_equal(out[1].minstratum, 3);
	assert_int_equal(out[1].maxsamples, 4);
	assert_int_equal(out[1].version, 4);
	assert_int_equal(out[2].key, 17);
	assert_int_equal(result.error_count, 1);
	assert_int_equal(errors[0].line, 4);
	assert_string_equal(errors[0].message, "server 192.0.2.3: maxdelay \"1001\" is out of range [0, 1000]");
}

/* A bad line is reported by its number and left out; the others stay. */
static void bad_lines_are_reported_and_left_out(void **state)
{
	(void)state;
	parse("server a.example iburst\n"
	      "peer 192.0.2.9\n"
	      "server\n"
	      "server b.example ntsport 4460\n"
	      "server c.example maxsources 2\n"
	      "server d.example minpoll\n"
	      "server e.example minpoll 30\n"
	      "server f.example minpoll 9 maxpoll 7\n"
	      "server g;rm -rf iburst\n"
	      "server h.example port 0\n"
	      "server 192.0.2.2\n",
	      4);
	assert_int_equal(result.count, 2);
	assert_string_equal(out[0].name, "a.example");
	assert_string_equal(out[1].name, "192.0.2.2");
	assert_int_equal(out[1].line, 11);
	assert_int_equal(result.error_count, 9);
	assert_int_equal(errors[0].line, 2);
	assert_string_equal(errors[0].message, "\"peer\": only server and pool lines name sources");
	assert_int_equal(errors[1].line, 3);
	assert_string_equal(errors[1].message, "server: the name is missing");
	assert_int_equal(errors[2].line, 4);
	assert_string_equal(errors[2].message, "server b.example: ntsport: only an NTS source has an NTS-KE port");
	assert_int_equal(errors[3].line, 5);
	assert_string_equal(errors[3].message, "server c.example: maxsources: only a pool has maxsources");
	/* only four kept; the count goes on */
	parse("server d.example minpoll\nserver e.example minpoll 30\nserver f.example minpoll 9 maxpoll 7\n"
	      "server g;rm -rf iburst\nserver h.example port 0\n",
	      4);
	assert_int_equal(result.error_count, 5);
	assert_string_equal(errors[0].message, "server d.example: minpoll needs a value");
	assert_string_equal(errors[1].message, "server e.example: minpoll \"30\" is out of range [-6, 24]");
	assert_string_equal(errors[2].message, "server f.example: maxpoll: 7 is below minpoll 9");
	assert_string_equal(errors[3].message, "server: \"g;rm\" is not a host name or an address");
}

/* NUL bytes, overlong lines and entries past max. */
static void limits_hold(void **state)
{
	(void)state;
	char text[700];
	static const char nul[] = "server a\0b\nserver c\n";

	memset(out, 0, sizeof(out));
	source_lines_parse(nul, sizeof(nul) - 1, out, 4, errors, 4, &result);
	assert_int_equal(result.count, 1);
	assert_string_equal(out[0].name, "c");
	assert_int_equal(errors[0].line, 1);
	assert_string_equal(errors[0].message, "a NUL byte");

	memset(text, 'x', sizeof(text));
	memcpy(text, "server ", 7);
	text[sizeof(text) - 1] = '\0';
	parse(text, 4);
	assert_int_equal(result.count, 0);
	assert_string_equal(errors[0].message, "longer than 511 characters");

	parse("server a\nserver b\nserver c\n# x\nserver d\n", 2);
	assert_int_equal(result.count, 2);
	assert_int_equal(result.error_count, 0);
	assert_int_equal(result.dropped, 2);
	assert_int_equal(result.first_dropped_line, 3);
	/* no newline at the end, CRLF lines */
	parse("server a iburst\r\nserver b", 4);
	assert_int_equal(result.count, 2);
	assert_true(out[0].iburst);
	assert_string_equal(out[1].name, "b");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(server_and_pool_lines_become_entries),
		cmocka_unit_test(per_source_options_on_a_line),
		cmocka_unit_test(bad_lines_are_reported_and_left_out),
		cmocka_unit_test(limits_hold),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
