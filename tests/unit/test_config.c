#include "cmocka_all.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

static char path[64];

static int load(const char *text, struct daemon_config *cfg, char *err, size_t err_len)
{
	int fd;
	FILE *f;

	snprintf(path, sizeof(path), "/tmp/test_config.XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	int ret = config_load(path, cfg, err, err_len);

	unlink(path);
	return ret;
}

/* The error with the temporary file's name taken off. */
static const char *error_of(const char *text)
{
	static char err[512];
	struct daemon_config cfg;

	assert_int_equal(load(text, &cfg, err, sizeof(err)), -1);
	assert_memory_equal(err, path, strlen(path));
	return err + strlen(path);
}

static void defaults_fill_what_is_absent(void **state)
{
	(void)state;
	struct daemon_config cfg;
	char err[256];

	assert_int_equal(load("", &cfg, err, sizeof(err)), 0);
	assert_int_equal(cfg.source_count, 0);
	assert_true(cfg.engine.adjust);
	assert_true(cfg.engine.step_threshold == 0.128);
	assert_true(cfg.engine.panic_threshold == 1000.0);
	assert_int_equal(cfg.engine.minsources, 1);
	assert_false(cfg.serve.enabled);
	assert_string_equal(cfg.user, "_strata");
	assert_int_equal(cfg.log_level, LOG_LEVEL_INFO);
	assert_false(cfg.statsd.enabled);
}

static void a_full_file_is_read(void **state)
{
	(void)state;
	struct daemon_config cfg;
	char err[256], text[NETADDR_TEXT_LEN];

	assert_int_equal(load("sources = (\n"
			      "  { pool = \"pool.example\"; iburst = true; maxsources = 6; },\n"
			      "  { server = \"2001:db8::1\"; port = 4123; minpoll = 4; maxpoll = 8; }\n"
			      ");\n"
			      "clock = { adjust = false; step_threshold = 1; panic_threshold = 0.0; minsources = 2;\n"
			      "          max_steps = -1; local_stratum = 10; driftfile = \"\"; };\n"
			      "serve = { listen = [ \"127.0.0.1\", \"::1\" ]; port = 1123; allow = [ \"10.0.0.0/8\" ];\n"
			      "          ratelimit = { interval = 2.5; burst = 4; kod = false; }; threads = 2; };\n"
			      "control = { socket = \"/tmp/x.sock\"; };\n"
			      "user = \"nobody\"; pidfile = \"\";\n"
			      "log = { level = \"debug\"; syslog = false; };\n"
			      "statsd = { address = \"[::1]:9125\"; prefix = \"a.b\"; interval = 30; };\n",
			      &cfg, err, sizeof(err)),
			 0);
	assert_int_equal(cfg.source_count, 2);
	assert_true(cfg.sources[0].pool);
	assert_string_equal(cfg.sources[0].name, "pool.example");
	assert_int_equal(cfg.sources[0].maxsources, 6);
	assert_true(cfg.sources[0].iburst);
	assert_int_equal(cfg.sources[0].port, 123);
	assert_int_equal(cfg.sources[0].line, 2);
	assert_false(cfg.sources[1].pool);
	assert_int_equal(cfg.sources[1].port, 4123);
	assert_int_equal(cfg.sources[1].minpoll, 4);
	assert_int_equal(cfg.sources[1].maxpoll, 8);
	assert_int_equal(cfg.sources[1].line, 3);
	assert_false(cfg.engine.adjust);
	assert_true(cfg.engine.step_threshold == 1.0);
	assert_true(cfg.engine.panic_threshold == 0.0);
	assert_int_equal(cfg.engine.minsources, 2);
	assert_int_equal(cfg.engine.max_steps, -1);
	assert_int_equal(cfg.engine.local_stratum, 10);
	assert_string_equal(cfg.driftfile, "");
	assert_true(cfg.serve.enabled);
	assert_int_equal(cfg.serve.listen_count, 2);
	assert_false(cfg.serve.listen_default);
	assert_int_equal(cfg.serve.listen[1].port, 1123);
	netaddr_format(&cfg.serve.listen[1], text, sizeof(text));
	assert_string_equal(text, "::1");
	assert_int_equal(cfg.serve.allow_count, 1);
	assert_int_equal(cfg.serve.allow[0].bits, 8);
	assert_true(cfg.serve.ratelimit_interval == 2.5);
	assert_int_equal(cfg.serve.ratelimit_burst, 4);
	assert_false(cfg.serve.ratelimit_kod);
	assert_int_equal(cfg.serve.ratelimit_table_size, 65536);
	assert_int_equal(cfg.serve.threads, 2);
	assert_string_equal(cfg.control_socket, "/tmp/x.sock");
	assert_string_equal(cfg.user, "nobody");
	assert_string_equal(cfg.pidfile, "");
	assert_int_equal(cfg.log_level, LOG_LEVEL_DEBUG);
	assert_false(cfg.log_syslog);
	assert_true(cfg.statsd.enabled);
	netaddr_format_with_port(&cfg.statsd.address, text, sizeof(text));
	assert_string_equal(text, "[::1]:9125");
	assert_string_equal(cfg.statsd.prefix, "a.b");
	assert_int_equal(cfg.statsd.interval, 30);
}

/* Without listen, the wildcards are used and marked as the default, so a
 * host without IPv6 can still serve on IPv4. */
static void serve_without_listen_uses_both_wildcards(void **state)
{
	(void)state;
	struct daemon_config cfg;
	char err[256], text[NETADDR_TEXT_LEN];

	assert_int_equal(load("serve = { port = 1123; };\n", &cfg, err, sizeof(err)), 0);
	assert_true(cfg.serve.listen_default);
	assert_int_equal(cfg.serve.listen_count, 2);
	netaddr_format(&cfg.serve.listen[0], text, sizeof(text));
	assert_string_equal(text, "0.0.0.0");
	netaddr_format(&cfg.serve.listen[1], text, sizeof(text));
	assert_string_equal(text, "::");
	assert_int_equal(cfg.serve.listen[1].port, 1123);
}

static void errors_name_line_and_setting(void **state)
{
	(void)state;
	assert_string_equal(error_of("\n\nfoo = 1;\n"), ":3: foo: unknown setting");
	assert_string_equal(error_of("clock = {\n adjust = 1;\n};\n"), ":2: clock.adjust: expected true or false");
	assert_string_equal(error_of("sources = (\n { server = \"a\"; },\n { server = \"b\"; minpoll = 2; }\n);\n"),
			    ":3: sources[1].minpoll: 2 is out of range [4, 17]");
	assert_string_equal(error_of("sources = ( { pool = \"p\"; maxsources = 0; } );"),
			    ":1: sources[0].maxsources: 0 is out of range [1, 16]");
	assert_string_equal(error_of("clock = { max_distance = \"far\"; };"),
			    ":1: clock.max_distance: expected a number");
	assert_string_equal(error_of("serve = {\n deny = [ \"1.2.3.4/40\" ];\n};"),
			    ":2: serve.deny: \"1.2.3.4/40\" is not an address or ADDRESS/BITS");
	assert_string_equal(error_of("control = { socket = \"rel.sock\"; };"),
			    ":1: control.socket: \"rel.sock\" is not an absolute path");
	assert_string_equal(error_of("clock = {\n\n adjust = ;\n};"), ":3: syntax: syntax error");
	assert_string_equal(error_of("statsd = { prefix = \"a b\"; };"),
			    ":1: statsd.prefix: \"a b\" may only hold letters, digits, '_', '.' and '-'");
}

static void a_missing_file_is_an_error(void **state)
{
	(void)state;
	struct daemon_config cfg;
	char err[256];

	assert_int_equal(config_load("/nonexistent/stratad.conf", &cfg, err, sizeof(err)), -1);
	assert_string_equal(err, "/nonexistent/stratad.conf:0: file: cannot open: No such file or directory");
}

/* What --check-config prints must read back as the same configuration. */
static void the_printed_configuration_reads_back(void **state)
{
	(void)state;
	struct daemon_config a, b;
	char err[256];
	char *printed = NULL;
	size_t len = 0;
	FILE *out;

	assert_int_equal(load("sources = ( { pool = \"p.example\"; maxsources = 3; }, { server = \"127.0.0.1\"; key = 7; } );\n"
			      "keys = \"/etc/strata/keys\";\n"
			      "clock = { step_threshold = 0.5; stepout = 60; };\n"
			      "serve = { allow = [ \"192.168.0.0/16\", \"::1\" ]; ratelimit = { interval = 0.25; }; };\n"
			      "statsd = { address = \"127.0.0.1\"; };\n",
			      &a, err, sizeof(err)),
			 0);
	out = open_memstream(&printed, &len);
	assert_non_null(out);
	config_print(&a, out);
	fclose(out);
	assert_int_equal(load(printed, &b, err, sizeof(err)), 0);
	free(printed);
	for (size_t i = 0; i < a.source_count; i++) {
		b.sources[i].line = a.sources[i].line;
		b.sources[i].key_line = a.sources[i].key_line;
	}
	/* the printed file names the default wildcards, so they read back as chosen */
	assert_true(a.serve.listen_default);
	assert_false(b.serve.listen_default);
	b.serve.listen_default = true;
	assert_memory_equal(&a, &b, sizeof(a));
}

/* keys = PATH and a source's key = N; a key the keys file lacks names the
 * configuration file, the line and the setting. */
static void keys_and_source_keys(void **state)
{
	(void)state;
	struct daemon_config cfg;
	struct auth_key keys[1] = { { .id = 10, .type = AUTH_SHA1, .len = 1 } };
	struct auth_keyring ring = { .count = 1, .keys = keys };
	char err[256];

	assert_int_equal(load("keys = \"/etc/strata/keys\";\n"
			      "sources = (\n { server = \"a\"; key = 10; },\n { server = \"b\"; },\n"
			      " { server = \"c\";\n   key = 11; }\n);\n",
			      &cfg, err, sizeof(err)),
			 0);
	assert_string_equal(cfg.keys, "/etc/strata/keys");
	assert_int_equal(cfg.sources[0].key, 10);
	assert_int_equal(cfg.sources[1].key, 0);
	assert_int_equal(cfg.sources[2].key, 11);
	assert_int_equal(config_check_keys(&cfg, "/etc/stratad.conf", &ring, err, sizeof(err)), -1);
	assert_string_equal(err, "/etc/stratad.conf:6: sources[2].key: key 11 is not in /etc/strata/keys");
	cfg.sources[2].key = 10;
	assert_int_equal(config_check_keys(&cfg, "/etc/stratad.conf", &ring, err, sizeof(err)), 0);
	cfg.keys[0] = '\0';
	assert_int_equal(config_check_keys(&cfg, "/etc/stratad.conf", NULL, err, sizeof(err)), -1);
	assert_string_equal(err, "/etc/stratad.conf:3: sources[0].key: key 10, but no keys file (keys = \"PATH\";)");

	assert_string_equal(error_of("sources = ( { server = \"a\"; key = 0; } );"),
			    ":1: sources[0].key: 0 is out of range [1, 4294967295]");
	assert_string_equal(error_of("sources = ( { server = \"a\";\n key = \"ten\"; } );"),
			    ":2: sources[0].key: expected an integer");
	assert_string_equal(error_of("keys = \"keys\";"), ":1: keys: \"keys\" is not an absolute path");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(defaults_fill_what_is_absent),
		cmocka_unit_test(a_full_file_is_read),
		cmocka_unit_test(serve_without_listen_uses_both_wildcards),
		cmocka_unit_test(errors_name_line_and_setting),
		cmocka_unit_test(a_missing_file_is_an_error),
		cmocka_unit_test(the_printed_configuration_reads_back),
		cmocka_unit_test(keys_and_source_keys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
