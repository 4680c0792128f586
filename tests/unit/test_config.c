#include "cmocka_all.h"

#include <malloc.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "source_line.h"

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

/* config_print's text of cfg, to free. */
static char *printed_text(const struct daemon_config *cfg)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);

	assert_non_null(out);
	config_print(cfg, out);
	fclose(out);
	return text;
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

/* The slew method and the served bound's clock error: defaults, values, errors. */
static void clock_slew_method_and_clock_error(void **state)
{
	(void)state;
	struct daemon_config cfg;
	char err[256];

	assert_int_equal(load("", &cfg, err, sizeof(err)), 0);
	assert_false(cfg.slew_by_frequency);
	assert_true(cfg.max_slew_rate == 83333.333);
	assert_true(cfg.engine.max_clock_error_ppm == 1.0);
	assert_int_equal(load("clock = { slew_method = \"frequency\"; max_slew_rate = 1000.0; max_clock_error = 0.5; };",
			      &cfg, err, sizeof(err)), 0);
	assert_true(cfg.slew_by_frequency);
	assert_true(cfg.max_slew_rate == 1000.0);
	assert_true(cfg.engine.max_clock_error_ppm == 0.5);
	assert_int_equal(load("clock = { slew_method = \"adjtime\"; };", &cfg, err, sizeof(err)), 0);
	assert_false(cfg.slew_by_frequency);
	/* with a reference clock, through the frequency unless told otherwise */
	assert_int_equal(load("refclocks = ( { driver = \"SHM\"; device = \"0\"; } );", &cfg, err, sizeof(err)), 0);
	assert_true(cfg.slew_by_frequency);
	assert_int_equal(load("refclocks = ( { driver = \"SHM\"; device = \"0\"; } );\n"
			      "clock = { slew_method = \"adjtime\"; };", &cfg, err, sizeof(err)), 0);
	assert_false(cfg.slew_by_frequency);
	assert_string_equal(error_of("clock = {\n slew_method = \"fast\";\n};\n"),
			    ":2: clock.slew_method: \"fast\" is not one of frequency, adjtime");
	assert_non_null(strstr(error_of("clock = {\n max_slew_rate = 200000.0;\n};\n"), ":2: clock.max_slew_rate"));
	assert_non_null(strstr(error_of("clock = {\n max_clock_error = -1.0;\n};\n"), ":2: clock.max_clock_error"));
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
	config_free(&cfg);
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
	config_free(&cfg);
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
	/* no ratelimit group: no limit, as chrony, so sub-second clients are served */
	assert_true(cfg.serve.ratelimit_interval == 0.0);
	assert_int_equal(cfg.serve.listen_count, 2);
	netaddr_format(&cfg.serve.listen[0], text, sizeof(text));
	assert_string_equal(text, "0.0.0.0");
	netaddr_format(&cfg.serve.listen[1], text, sizeof(text));
	assert_string_equal(text, "::");
	assert_int_equal(cfg.serve.listen[1].port, 1123);
	config_free(&cfg);
}

static void errors_name_line_and_setting(void **state)
{
	(void)state;
	assert_string_equal(error_of("\n\nfoo = 1;\n"), ":3: foo: unknown setting");
	assert_string_equal(error_of("clock = {\n adjust = 1;\n};\n"), ":2: clock.adjust: expected true or false");
	assert_string_equal(error_of("sources = (\n { server = \"a\"; },\n { server = \"b\"; minpoll = -7; }\n);\n"),
			    ":3: sources[1].minpoll: -7 is out of range [-6, 24]");
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

static void leap_settings(void **state)
{
	(void)state;
	struct daemon_config cfg;
	char err[256];

	assert_int_equal(load("clock = { leapsecond_list = \"/usr/share/zoneinfo/leap-seconds.list\";"
			      " leapsectz = \"right/UTC\"; leap_mode = \"slew\"; };", &cfg, err, sizeof(err)), 0);
	assert_string_equal(cfg.leapsecond_list, "/usr/share/zoneinfo/leap-seconds.list");
	assert_string_equal(cfg.leapsectz, "right/UTC");
	assert_int_equal(cfg.engine.leap_mode, LEAP_MODE_SLEW);
	assert_int_equal(cfg.engine.leap_smear.shape, LEAP_SMEAR_OFF);
	config_free(&cfg);
	assert_int_equal(load("serve = { leap_smear = \"linear\"; };", &cfg, err, sizeof(err)), 0);
	assert_int_equal(cfg.engine.leap_mode, LEAP_MODE_SYSTEM);
	assert_int_equal(cfg.engine.leap_smear.shape, LEAP_SMEAR_LINEAR);
	assert_true(cfg.engine.leap_smear.duration == 86400.0);
	config_free(&cfg);
	assert_string_equal(error_of("clock = {\n leap_mode = \"smear\";\n};"),
			    ":2: clock.leap_mode: \"smear\" is not one of system, step, slew, ignore");
	assert_string_equal(error_of("serve = { leap_smear = \"cubic\"; };"),
			    ":1: serve.leap_smear: \"cubic\" is not one of off, quadratic, linear");
	assert_string_equal(error_of("clock = { leap_mode = \"slew\"; };\nserve = { leap_smear = \"quadratic\"; };"),
			    ":2: serve.leap_smear: needs clock.leap_mode system, step or ignore, not slew");
	assert_string_equal(error_of("serve = { leap_smear_duration = 10; };"),
			    ":1: serve.leap_smear_duration: 10 is out of range [600, 604800]");
	assert_string_equal(error_of("clock = { leapsecond_list = \"leap.list\"; };"),
			    ":1: clock.leapsecond_list: \"leap.list\" is not an absolute path");
}

/* libconfig 1.5 keeps only the low 32 bits of an integer without an L: the
 * value read would be another one, silently (4294967419 is 123). */
static void integers_beyond_32_bits_are_out_of_range(void **state)
{
	(void)state;
	assert_string_equal(error_of("serve = {\n port = 4294967419;\n};\n"),
			    ":2: serve.port: 4294967419 is out of range [1, 65535]");
	assert_string_equal(error_of("sources = ( { server = \"a\"; minpoll = 6; port = -4294967173; } );"),
			    ":1: sources[0].port: -4294967173 is out of range [1, 65535]");
	assert_string_equal(error_of("clock = { step_threshold = 4294967296; };"),
			    ":1: clock.step_threshold: 4294967296 is out of range [0, 1e+06]");
	assert_string_equal(error_of("statsd = { interval = 0x100000001; };"),
			    ":1: statsd.interval: 0x100000001 is out of range [1, 3600]");
	assert_string_equal(error_of("statsd = { interval = 99999999999999999999999L; };"),
			    ":1: statsd.interval: 99999999999999999999999L is out of range [1, 3600]");
	/* the same digits in a string, a comment or a name are not numbers */
	assert_string_equal(error_of("# port = 4294967419\nuser = \"4294967419\";\n/* 4294967419 */ x4294967419 = 1;"),
			    ":3: x4294967419: unknown setting");
}

/* A directory made libconfig's scanner exit the process; a FIFO blocked it. */
static void only_a_regular_file_is_read(void **state)
{
	(void)state;
	struct daemon_config cfg;
	char err[256], fifo[64];

	assert_int_equal(config_load("/tmp", &cfg, err, sizeof(err)), -1);
	assert_string_equal(err, "/tmp:0: file: not a regular file (a directory)");
	snprintf(fifo, sizeof(fifo), "/tmp/test_config.fifo.%ld", (long)getpid());
	assert_int_equal(mkfifo(fifo, 0600), 0);
	alarm(10); /* a blocked open fails the test instead of hanging it */
	assert_int_equal(config_load(fifo, &cfg, err, sizeof(err)), -1);
	alarm(0);
	unlink(fifo);
	assert_memory_equal(err, fifo, strlen(fifo));
	assert_string_equal(err + strlen(fifo), ":0: file: not a regular file (a FIFO)");
}

/* libconfig stops at a NUL byte. */
static void nul_bytes_are_refused(void **state)
{
	(void)state;
	struct daemon_config cfg;
	char err[256];
	static const char text[] = "user = \"a\";\nuser = \"b\0\";\n";
	int fd;

	snprintf(path, sizeof(path), "/tmp/test_config.XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, sizeof(text) - 1), (ssize_t)(sizeof(text) - 1));
	close(fd);
	assert_int_equal(config_load(path, &cfg, err, sizeof(err)), -1);
	unlink(path);
	assert_string_equal(err + strlen(path), ":2: file: a NUL byte: not a text file");
}

/* A directory of drop-ins for the include tests: DIR/NAME with text. */
static char dir[64];

static void write_in(const char *name, const char *text)
{
	char p[160];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int load_in(const char *name, struct daemon_config *cfg, char *err, size_t err_len)
{
	char p[160];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return config_load(p, cfg, err, err_len);
}

static void remove_dir(void)
{
	char cmd[96];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

/* @include of a file, a directory (its *.conf, sorted) or a glob, relative
 * to the including file; errors name the included file's line. */
static void includes_expand_files_directories_and_globs(void **state)
{
	(void)state;
	struct daemon_config cfg;
	char err[512], want[512];

	snprintf(dir, sizeof(dir), "/tmp/test_config.d.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(want, sizeof(want), "%s/conf.d", dir);
	assert_int_equal(mkdir(want, 0700), 0);
	write_in("main.conf", "# main\n@include \"conf.d\"  # drop-ins\nuser = \"main\";\n  @include \"extra/*.conf\"\n");
	write_in("conf.d/20-clock.conf", "clock = {\n  step_threshold = 0.5;\n};");
	write_in("conf.d/10-sources.conf", "sources = ( { server = \"192.0.2.1\"; } );\n");
	write_in("conf.d/README", "not configuration\n");
	assert_int_equal(load_in("main.conf", &cfg, err, sizeof(err)), 0);
	assert_int_equal(cfg.source_count, 1);
	assert_string_equal(cfg.sources[0].name, "192.0.2.1");
	assert_true(cfg.engine.step_threshold == 0.5);
	assert_string_equal(cfg.user, "main");
	config_free(&cfg);

	/* an error in an included file names it, its line and the setting */
	write_in("conf.d/20-clock.conf", "clock = {\n  step_threshold = -1.0;\n};\n");
	assert_int_equal(load_in("main.conf", &cfg, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s/conf.d/20-clock.conf:2: clock.step_threshold: -1 is out of range [0, 1e+06]", dir);
	assert_string_equal(err, want);
	write_in("conf.d/20-clock.conf", "clock = {\n  step_threshold = 0.5;\n  = ;\n};\n");
	assert_int_equal(load_in("main.conf", &cfg, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s/conf.d/20-clock.conf:3: syntax: syntax error", dir);
	assert_string_equal(err, want);
	write_in("conf.d/20-clock.conf", "clock = { step_threshold = 4294967419; };\n");
	assert_int_equal(load_in("main.conf", &cfg, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s/conf.d/20-clock.conf:1: clock.step_threshold: 4294967419 is out of range [0, 1e+06]", dir);
	assert_string_equal(err, want);
	write_in("conf.d/20-clock.conf", "\n");
	/* lines after an include still map to the including file */
	write_in("main.conf", "@include \"conf.d/10-sources.conf\"\n\nuser = 5;\n");
	assert_int_equal(load_in("main.conf", &cfg, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s/main.conf:3: user: expected a string", dir);
	assert_string_equal(err, want);

	/* a named file that is missing or not regular is an error at the directive */
	write_in("main.conf", "user = \"a\";\n@include \"missing.conf\"\n");
	assert_int_equal(load_in("main.conf", &cfg, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s/missing.conf:0: file: cannot open: No such file or directory", dir);
	assert_string_equal(err, want);
	write_in("main.conf", "@include \"/dev/null\"\n");
	assert_int_equal(load_in("main.conf", &cfg, err, sizeof(err)), -1);
	assert_string_equal(err, "/dev/null:0: file: not a regular file (a device)");
	/* a glob that matches nothing is an empty drop-in directory */
	write_in("main.conf", "@include \"none/*.conf\"\nuser = \"b\";\n");
	assert_int_equal(load_in("main.conf", &cfg, err, sizeof(err)), 0);
	assert_string_equal(cfg.user, "b");
	config_free(&cfg);

	/* a loop stops at the depth bound */
	write_in("main.conf", "@include \"main.conf\"\n");
	assert_int_equal(load_in("main.conf", &cfg, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s/main.conf:1: @include: \"main.conf\": nested more than 8 deep (an include loop?)", dir);
	assert_string_equal(err, want);
	/* malformed directives */
	assert_string_equal(error_of("user = \"a\";\n@include /tmp\n"), ":2: @include: expected @include \"PATH\"");
	assert_string_equal(error_of("user = \"a\"; @include \"x\"\n"), ":1: @include: must start a line");
	assert_string_equal(error_of("@include \"x\" user = \"a\";\n"),
			    ":1: @include: text after the path (one @include per line)");
	/* inside a string or a comment it is no directive */
	assert_int_equal(load("user = \"@include x\";\n# @include \"y\"\n", &cfg, err, sizeof(err)), 0);
	assert_string_equal(cfg.user, "@include x");
	remove_dir();
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
static void a_ratelimit_group_turns_the_limiter_on(void **state)
{
	(void)state;
	struct daemon_config cfg;
	char err[256];

	assert_int_equal(load("serve = { ratelimit = { burst = 16; }; };\n", &cfg, err, sizeof(err)), 0);
	assert_true(cfg.serve.ratelimit_interval == 1.0);
	assert_int_equal(cfg.serve.ratelimit_burst, 16);
	config_free(&cfg);
}

static void serve_nts_is_read_with_its_defaults_and_printed_back(void **state)
{
	(void)state;
	struct daemon_config a, b;
	char err[256];
	char *printed = NULL;

	assert_int_equal(load("serve = { nts = { certificate = \"/c.pem\"; key = \"/k.pem\"; }; };\n", &a, err,
			      sizeof(err)), 0);
	assert_true(a.serve.nts.enabled);
	assert_string_equal(a.serve.nts.certificate, "/c.pem");
	assert_int_equal(a.serve.nts.port, 4460);
	assert_int_equal(a.serve.nts.rotate, 7 * 86400);
	assert_int_equal(a.serve.nts.max_connections, 100);
	assert_true(a.serve.nts.timeout == 2.0);
	assert_non_null(strstr(a.serve.nts.keys_file, "/nts-server-keys"));
	config_free(&a);
	assert_int_equal(load("serve = { nts = { certificate = \"/c\"; key = \"/k\"; port = 14460; rotate = 0;\n"
			      "  nts_server_keys_file = \"/shared/keys\"; max_connections = 5; timeout = 0.5;\n"
			      "  ntp_server = \"ntp2.example.net\"; ntp_port = 1123; }; };\n", &a, err, sizeof(err)), 0);
	printed = printed_text(&a);
	assert_int_equal(load(printed, &b, err, sizeof(err)), 0);
	free(printed);
	assert_memory_equal(&a.serve.nts, &b.serve.nts, sizeof(a.serve.nts));
	assert_int_equal(b.serve.nts.rotate, 0);
	assert_string_equal(b.serve.nts.ntp_server, "ntp2.example.net");
	config_free(&a);
	config_free(&b);
}

static void serve_nts_errors_name_the_setting(void **state)
{
	(void)state;
	assert_string_equal(error_of("serve = {\n nts = { certificate = \"/c\"; };\n};"),
			    ":2: serve.nts: needs certificate = \"/path/cert.pem\" and key = \"/path/key.pem\"");
	assert_string_equal(error_of("serve = { nts = { certificate = \"c.pem\"; key = \"/k\"; }; };"),
			    ":1: serve.nts.certificate: \"c.pem\" is not an absolute path");
	assert_string_equal(error_of("serve = { nts = { certificate = \"/c\"; key = \"/k\"; timeout = 0; }; };"),
			    ":1: serve.nts.timeout: 0 is out of range [0.1, 60]");
	assert_string_equal(error_of("serve = { nts = { certificate = \"/c\"; key = \"/k\"; ntsrotate = 1; }; };"),
			    ":1: serve.nts.ntsrotate: unknown setting");
}

static void sub_second_polls_are_accepted_down_to_minus_6(void **state)
{
	(void)state;
	struct daemon_config cfg;
	char err[256];

	assert_int_equal(load("sources = ( { server = \"127.0.0.1\"; minpoll = -6; maxpoll = -2; },\n"
			      "            { server = \"127.0.0.2\"; maxpoll = 24; } );\n",
			      &cfg, err, sizeof(err)),
			 0);
	assert_int_equal(cfg.sources[0].minpoll, -6);
	assert_int_equal(cfg.sources[0].maxpoll, -2);
	/* the defaults stay at 64 s: sub-second polls only where asked for */
	assert_int_equal(cfg.sources[1].minpoll, 6);
	assert_int_equal(cfg.sources[1].maxpoll, 24);
	config_free(&cfg);
}

static void the_printed_configuration_reads_back(void **state)
{
	(void)state;
	struct daemon_config a, b;
	char err[256];
	char *printed = NULL;

	assert_int_equal(load("sources = ( { pool = \"p.example\"; maxsources = 3; }, { server = \"127.0.0.1\"; key = 7; } );\n"
			      "keys = \"/etc/strata/keys\";\n"
			      "clock = { step_threshold = 0.5; stepout = 60; leapsecond_list = \"/l\"; leapsectz = \"right/UTC\";"
			      " leap_mode = \"step\"; };\n"
			      "serve = { allow = [ \"192.168.0.0/16\", \"::1\" ]; ratelimit = { interval = 0.25; };"
			      " leap_smear = \"quadratic\"; leap_smear_duration = 3600; };\n"
			      "statsd = { address = \"127.0.0.1\"; };\n",
			      &a, err, sizeof(err)),
			 0);
	printed = printed_text(&a);
	assert_int_equal(load(printed, &b, err, sizeof(err)), 0);
	free(printed);
	for (size_t i = 0; i < a.source_count; i++) {
		b.sources[i].line = a.sources[i].line;
		b.sources[i].key_where = a.sources[i].key_where;
	}
	b.leapsecond_list_where = a.leapsecond_list_where;
	b.leapsectz_where = a.leapsectz_where;
	/* the printed file names the default wildcards, so they read back as chosen */
	assert_true(a.serve.listen_default);
	assert_false(b.serve.listen_default);
	b.serve.listen_default = true;
	/* the lists by content, then everything else */
	assert_int_equal(a.serve.allow_count, 2);
	assert_int_equal(b.serve.allow_count, 2);
	assert_memory_equal(a.serve.allow, b.serve.allow, 2 * sizeof(a.serve.allow[0]));
	assert_int_equal(b.serve.deny_count, 0);
	config_free(&a);
	config_free(&b);
	assert_memory_equal(&a, &b, sizeof(a));
}

/* Strings with quotes and backslashes are printed escaped, so the output is
 * a file libconfig reads back as the same strings. */
static void printed_strings_are_escaped(void **state)
{
	(void)state;
	struct daemon_config a, b;
	char err[256];
	char *printed = NULL, *again = NULL;

	assert_int_equal(load("sources = ( { server = \"a\\\"b\\\\c\"; } );\n"
			      "clock = { driftfile = \"/var/lib/\\\"x\\\"\\tdrift\"; };\n"
			      "user = \"u\\\"\"; pidfile = \"/run/\\\\p\";\n",
			      &a, err, sizeof(err)),
			 0);
	assert_string_equal(a.sources[0].name, "a\"b\\c");
	assert_string_equal(a.driftfile, "/var/lib/\"x\"\tdrift");
	printed = printed_text(&a);
	assert_int_equal(load(printed, &b, err, sizeof(err)), 0);
	assert_string_equal(b.sources[0].name, a.sources[0].name);
	assert_string_equal(b.driftfile, a.driftfile);
	assert_string_equal(b.user, a.user);
	assert_string_equal(b.pidfile, a.pidfile);
	again = printed_text(&b);
	assert_string_equal(printed, again);
	free(printed);
	free(again);
	config_free(&a);
	config_free(&b);
}

#ifdef __SANITIZE_ADDRESS__
/* the sanitizer runtime's (sanitizer/allocator_interface.h, which gcc does not install) */
size_t __sanitizer_get_current_allocated_bytes(void);
#endif

/* Bytes allocated and not freed: glibc's count, or AddressSanitizer's, whose
 * allocator mallinfo2 does not see. */
static size_t heap_in_use(void)
{
#ifdef __SANITIZE_ADDRESS__
	return __sanitizer_get_current_allocated_bytes();
#else
	return mallinfo2().uordblks;
#endif
}

/* What 100 failed config_load of path lose, measured in a child (the loss
 * must not stay in this process: a leak checker would fail the test). */
static size_t lost_by_loads(void)
{
	struct daemon_config cfg;
	char err[256];
	size_t lost = 0;
	int fds[2], status;
	pid_t pid;

	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		size_t before = heap_in_use();

		for (int i = 0; i < 100; i++)
			if (config_load(path, &cfg, err, sizeof(err)) != -1)
				_exit(1);
		lost = heap_in_use() - before;
		_exit(write(fds[1], &lost, sizeof(lost)) == sizeof(lost) ? 0 : 1);
	}
	close(fds[1]);
	assert_int_equal(read(fds[0], &lost, sizeof(lost)), sizeof(lost));
	close(fds[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	return lost;
}

/* libconfig 1.5 loses a string token that is the lookahead at a syntax
 * error ("user \"nobody\";", the = forgotten): 64 bytes per failed reload.
 * config_reload parses in a child, so the daemon's heap stays as it was. */
static void failed_reloads_leak_nothing(void **state)
{
	(void)state;
	struct daemon_config cfg;
	char err[256];
	size_t before, lost_direct, lost_reload;
	int fd;

	snprintf(path, sizeof(path), "/tmp/test_config.XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "user \"nobody\";\n", 15), 15);
	close(fd);
	lost_direct = lost_by_loads();
	before = heap_in_use();
	for (int i = 0; i < 100; i++)
		assert_int_equal(config_reload(path, &cfg, err, sizeof(err)), -1);
	lost_reload = heap_in_use() - before;
	unlink(path);
	assert_string_equal(err + strlen(path), ":1: syntax: syntax error");
	printf("  # 100 failed loads: %zu bytes lost in the process, %zu through config_reload\n", lost_direct,
	       lost_reload);
	if (lost_direct == 0)
		skip(); /* nothing to show: this libconfig no longer leaks */
	assert_int_equal(lost_reload, 0);
}

/* What a reload in the child finds is what config_load finds. */
static void a_reload_reads_what_a_load_reads(void **state)
{
	(void)state;
	struct daemon_config a, b;
	char err[256];
	int fd;

	snprintf(path, sizeof(path), "/tmp/test_config.XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	static const char text[] = "sources = ( { server = \"a\"; } );\nserve = { port = 1123; };\n";
	assert_int_equal(write(fd, text, sizeof(text) - 1), (ssize_t)(sizeof(text) - 1));
	close(fd);
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	assert_int_equal(config_load(path, &a, err, sizeof(err)), 0);
	assert_int_equal(config_reload(path, &b, err, sizeof(err)), 0);
	assert_int_equal(b.source_count, 1);
	assert_memory_equal(a.sources, b.sources, sizeof(a.sources[0]));
	config_free(&a);
	config_free(&b);
	assert_memory_equal(&a, &b, sizeof(a));
	assert_int_equal(config_reload("/tmp", &b, err, sizeof(err)), -1);
	assert_string_equal(err, "/tmp:0: file: not a regular file (a directory)");
	unlink(path);
}

/* allow and deny hold as many prefixes as the file lists (there was a limit
 * of 64), and a reload, parsed in a child, brings them all across. */
static void access_lists_have_no_fixed_limit(void **state)
{
	(void)state;
	struct daemon_config a, b;
	char err[256], *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	int fd;

	assert_non_null(out);
	fputs("serve = { allow = [", out);
	for (int i = 0; i < 1000; i++)
		fprintf(out, "%s\"10.%d.%d.0/24\"", i ? ", " : " ", i / 256, i % 256);
	fputs(" ]; deny = [ \"10.0.7.0/24\", \"::1\" ]; };\n", out);
	fclose(out);
	snprintf(path, sizeof(path), "/tmp/test_config.XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
	free(text);
	assert_int_equal(config_load(path, &a, err, sizeof(err)), 0);
	assert_int_equal(config_reload(path, &b, err, sizeof(err)), 0);
	unlink(path);
	assert_int_equal(a.serve.allow_count, 1000);
	assert_int_equal(b.serve.allow_count, 1000);
	assert_int_equal(b.serve.deny_count, 2);
	assert_memory_equal(a.serve.allow, b.serve.allow, 1000 * sizeof(a.serve.allow[0]));
	assert_memory_equal(a.serve.deny, b.serve.deny, 2 * sizeof(a.serve.deny[0]));
	/* the last: 10.3.231.0/24 */
	assert_int_equal(b.serve.allow[999].addr.bytes[1], 3);
	assert_int_equal(b.serve.allow[999].addr.bytes[2], 231);
	assert_int_equal(b.serve.allow[999].bits, 24);
	config_free(&a);
	config_free(&b);
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
	/* the message names the file that set the key (here the loaded one) */
	assert_int_equal(config_check_keys(&cfg, "/etc/stratad.conf", &ring, err, sizeof(err)), -1);
	assert_memory_equal(err, path, strlen(path));
	assert_string_equal(err + strlen(path), ":6: sources[2].key: key 11 is not in /etc/strata/keys");
	cfg.sources[2].key = 10;
	assert_int_equal(config_check_keys(&cfg, "/etc/stratad.conf", &ring, err, sizeof(err)), 0);
	cfg.keys[0] = '\0';
	assert_int_equal(config_check_keys(&cfg, "/etc/stratad.conf", NULL, err, sizeof(err)), -1);
	assert_memory_equal(err, path, strlen(path));
	assert_string_equal(err + strlen(path), ":3: sources[0].key: key 10, but no keys file (keys = \"PATH\";)");

	assert_string_equal(error_of("sources = ( { server = \"a\"; key = 0; } );"),
			    ":1: sources[0].key: 0 is out of range [1, 4294967295]");
	assert_string_equal(error_of("sources = ( { server = \"a\";\n key = \"ten\"; } );"),
			    ":2: sources[0].key: expected an integer");
	assert_string_equal(error_of("keys = \"keys\";"), ":1: keys: \"keys\" is not an absolute path");
	config_free(&cfg);
}

static void per_source_options(void **state)
{
	(void)state;
	struct daemon_config cfg;
	char err[256];
	const struct config_source *s;

	assert_int_equal(load("sources = ( { server = \"192.0.2.1\"; prefer = true; noselect = true; trust = true;\n"
			      "  require = true; maxdelay = 0.05; maxdelayratio = 3; minstratum = 4; offset = -0.0001;\n"
			      "  version = 3; maxsamples = 2; xleave = true; }, { pool = \"p.example\"; } );\n"
			      "clock = { maxjitter = 0.25; };\n", &cfg, err, sizeof(err)), 0);
	s = &cfg.sources[0];
	assert_true(s->prefer && s->noselect && s->trust && s->require);
	assert_true(s->maxdelay == 0.05 && s->maxdelayratio == 3.0 && s->offset == -0.0001);
	assert_int_equal(s->minstratum, 4);
	assert_int_equal(s->version, 3);
	assert_int_equal(s->maxsamples, 2);
	assert_true(s->xleave);
	assert_true(cfg.engine.max_jitter == 0.25);
	/* the defaults: no limits, version 4, a full filter */
	s = &cfg.sources[1];
	assert_false(s->prefer || s->noselect || s->trust || s->require);
	assert_true(s->maxdelay == 0 && s->maxdelayratio == 0 && s->offset == 0);
	assert_int_equal(s->version, 4);
	assert_int_equal(s->maxsamples, 8);
	assert_int_equal(s->minstratum, 0);
	assert_false(s->xleave);

	assert_string_equal(error_of("sources = ( { server = \"a\";\n version = 5; } );"),
			    ":2: sources[0].version: 5 is out of range [1, 4]");
	assert_string_equal(error_of("sources = ( { server = \"a\"; maxdelayratio = 0.5; } );"),
			    ":1: sources[0].maxdelayratio: 0.5 must be above 1 (a ratio to the least delay), or 0 for no limit");
	assert_string_equal(error_of("sources = ( { server = \"a\"; maxsamples = 9; } );"),
			    ":1: sources[0].maxsamples: 9 is out of range [1, 8]");
	assert_string_equal(error_of("sources = ( { server = \"a\"; minstratum = 16; } );"),
			    ":1: sources[0].minstratum: 16 is out of range [0, 15]");
	assert_string_equal(error_of("sources = ( { server = \"a\"; prefer = 1; } );"),
			    ":1: sources[0].prefer: expected true or false");
	assert_string_equal(error_of("sources = ( { server = \"a\"; polltarget = 8; } );"),
			    ":1: sources[0].polltarget: unknown setting");
	assert_string_equal(error_of("clock = { maxjitter = 0; };"),
			    ":1: clock.maxjitter: 0 is out of range [1e-06, 1000]");
	config_free(&cfg);
}

/* stratactl add: chrony's one-line form of a source. */
static void source_lines_as_chrony_writes_them(void **state)
{
	struct config_source src;
	char err[256];

	(void)state;
	assert_int_equal(source_line_parse("server ntp.example.net iburst minpoll 4 maxpoll 8 port 1123", &src, err,
					   sizeof(err)), 0);
	assert_string_equal(src.name, "ntp.example.net");
	assert_false(src.pool);
	assert_true(src.iburst);
	assert_int_equal(src.minpoll, 4);
	assert_int_equal(src.maxpoll, 8);
	assert_int_equal(src.port, 1123);
	assert_int_equal(src.maxsources, 1);
	assert_int_equal(source_line_parse("pool pool.example.net maxsources 6", &src, err, sizeof(err)), 0);
	assert_true(src.pool);
	assert_int_equal(src.maxsources, 6);
	assert_int_equal(src.port, 123);
	assert_int_equal(src.minpoll, 6);
	assert_int_equal(src.maxpoll, 10);

	assert_int_equal(source_line_parse("server", &src, err, sizeof(err)), -1);
	assert_int_equal(source_line_parse("peer a.example", &src, err, sizeof(err)), -1);
	assert_int_equal(source_line_parse("server a.example minpol 3", &src, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "\"minpol\""));
	assert_int_equal(source_line_parse("server a.example minpoll", &src, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "minpoll"));
	assert_int_equal(source_line_parse("server a.example port 0", &src, err, sizeof(err)), -1);
	assert_int_equal(source_line_parse("server a.example minpoll 9 maxpoll 8", &src, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "below minpoll"));
	assert_int_equal(source_line_parse("server a.example maxsources 2", &src, err, sizeof(err)), -1);
}

/* Every field of a source but where it was written. */
static void assert_same_source(const struct config_source *a, const struct config_source *b)
{
	assert_string_equal(a->name, b->name);
	assert_true(a->pool == b->pool && a->port == b->port && a->minpoll == b->minpoll && a->maxpoll == b->maxpoll &&
		    a->iburst == b->iburst && a->maxsources == b->maxsources && a->key == b->key);
	assert_true(a->prefer == b->prefer && a->noselect == b->noselect && a->trust == b->trust &&
		    a->require == b->require && a->maxdelay == b->maxdelay && a->maxdelayratio == b->maxdelayratio &&
		    a->minstratum == b->minstratum && a->offset == b->offset && a->version == b->version &&
		    a->maxsamples == b->maxsamples && a->nts == b->nts && a->nts_port == b->nts_port &&
		    a->xleave == b->xleave);
}

/* The same options in the file and on a source line (chrony's spelling)
 * give the same entry; a value past an option's range is refused by both. */
static void source_lines_and_the_file_agree(void **state)
{
	struct daemon_config cfg;
	struct config_source line;
	char err[256];

	(void)state;
	assert_int_equal(load("sources = ( { server = \"192.0.2.1\"; port = 1123; iburst = true; minpoll = 2;\n"
			      "  maxpoll = 5; prefer = true; noselect = true; trust = true; require = true;\n"
			      "  maxdelay = 0.5; maxdelayratio = 3.5; minstratum = 2; offset = -0.00025;\n"
			      "  version = 3; maxsamples = 4; nts = true; nts_port = 4461; xleave = true; } );\n",
			      &cfg, err, sizeof(err)), 0);
	assert_int_equal(source_line_parse("server 192.0.2.1 port 1123 iburst minpoll 2 maxpoll 5 PREFER noselect"
					   " trust require maxdelay 0.5 maxdelayratio 3.5 minstratum 2"
					   " offset -0.00025 version 3 maxsamples 4 nts ntsport 4461 xleave",
					   &line, err, sizeof(err)), 0);
	assert_true(line.prefer && line.nts && line.nts_port == 4461 && line.maxdelay == 0.5 && line.xleave);
	assert_same_source(&line, &cfg.sources[0]);
	config_free(&cfg);
	/* the defaults too */
	assert_int_equal(load("sources = ( { pool = \"p.example\"; } );", &cfg, err, sizeof(err)), 0);
	assert_int_equal(source_line_parse("pool p.example", &line, err, sizeof(err)), 0);
	assert_same_source(&line, &cfg.sources[0]);
	config_free(&cfg);

	assert_int_equal(source_line_parse("server a key 7 minstratum 15", &line, err, sizeof(err)), 0);
	assert_int_equal(line.key, 7);
	assert_int_equal(line.minstratum, 15);
	/* just past each option's range, as the file says it */
	static const char *const past[][2] = {
		{ "maxdelay = 1000.5;", "maxdelay 1000.5" }, { "maxdelayratio = 2e6;", "maxdelayratio 2e6" },
		{ "minstratum = 16;", "minstratum 16" },     { "offset = -1000.5;", "offset -1000.5" },
		{ "version = 0;", "version 0" },             { "maxsamples = 9;", "maxsamples 9" },
		{ "key = 0;", "key 0" },                     { "nts = true; nts_port = 65536;", "nts ntsport 65536" },
		{ "minpoll = 25;", "minpoll 25" },
	};
	for (size_t i = 0; i < sizeof(past) / sizeof(past[0]); i++) {
		char text[160];

		snprintf(text, sizeof(text), "sources = ( { server = \"a\"; %s } );", past[i][0]);
		assert_non_null(strstr(error_of(text), "is out of range"));
		snprintf(text, sizeof(text), "server a %s", past[i][1]);
		assert_int_equal(source_line_parse(text, &line, err, sizeof(err)), -1);
		assert_non_null(strstr(err, "is out of range"));
	}
	/* the checks between options, named as the file names them */
	assert_int_equal(source_line_parse("server a maxdelayratio 0.5", &line, err, sizeof(err)), -1);
	assert_string_equal(err, "server a: maxdelayratio: 0.5 must be above 1 (a ratio to the least delay), or 0 "
				 "for no limit");
	assert_int_equal(source_line_parse("server a nts key 3", &line, err, sizeof(err)), -1);
	assert_string_equal(err, "server a: key: a source is either NTS or keyed, not both");
	assert_string_equal(error_of("sources = ( { server = \"a\"; nts = true; key = 3; } );"),
			    ":1: sources[0].key: a source is either NTS or keyed, not both");
	assert_int_equal(source_line_parse("server a ntsport 4461", &line, err, sizeof(err)), -1);
	assert_string_equal(err, "server a: ntsport: only an NTS source has an NTS-KE port");
	assert_string_equal(error_of("sources = ( { server = \"a\"; nts_port = 4461; } );"),
			    ":1: sources[0].nts_port: only an NTS source has an NTS-KE port");
	/* not numbers, or not whole ones */
	assert_int_equal(source_line_parse("server a maxdelay nan", &line, err, sizeof(err)), -1);
	assert_int_equal(source_line_parse("server a maxdelay 0.5s", &line, err, sizeof(err)), -1);
	assert_int_equal(source_line_parse("server a version 3.0", &line, err, sizeof(err)), -1);
	assert_int_equal(source_line_parse("server a key 99999999999999999999", &line, err, sizeof(err)), -1);
	/* the file's own spelling is not chrony's */
	assert_int_equal(source_line_parse("server a nts nts_port 4461", &line, err, sizeof(err)), -1);
	assert_string_equal(err, "server a: unknown option \"nts_port\"");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(defaults_fill_what_is_absent),
		cmocka_unit_test(clock_slew_method_and_clock_error),
		cmocka_unit_test(a_full_file_is_read),
		cmocka_unit_test(serve_without_listen_uses_both_wildcards),
		cmocka_unit_test(errors_name_line_and_setting),
		cmocka_unit_test(leap_settings),
		cmocka_unit_test(a_missing_file_is_an_error),
		cmocka_unit_test(a_ratelimit_group_turns_the_limiter_on),
		cmocka_unit_test(serve_nts_is_read_with_its_defaults_and_printed_back),
		cmocka_unit_test(serve_nts_errors_name_the_setting),
		cmocka_unit_test(sub_second_polls_are_accepted_down_to_minus_6),
		cmocka_unit_test(the_printed_configuration_reads_back),
		cmocka_unit_test(integers_beyond_32_bits_are_out_of_range),
		cmocka_unit_test(only_a_regular_file_is_read),
		cmocka_unit_test(nul_bytes_are_refused),
		cmocka_unit_test(includes_expand_files_directories_and_globs),
		cmocka_unit_test(printed_strings_are_escaped),
		cmocka_unit_test(failed_reloads_leak_nothing),
		cmocka_unit_test(a_reload_reads_what_a_load_reads),
		cmocka_unit_test(access_lists_have_no_fixed_limit),
		cmocka_unit_test(keys_and_source_keys),
		cmocka_unit_test(source_lines_as_chrony_writes_them),
		cmocka_unit_test(per_source_options),
		cmocka_unit_test(source_lines_and_the_file_agree),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
