/* Two rounds of made-up figures through the metrics module, for the ops
 * tests to check what real consumers make of them:
 *     metrics_probe statsd HOST:PORT PREFIX   sends both rounds through the
 *                                             real StatsD sender (statsd.sh)
 *     metrics_probe prometheus                prints the second round as
 *                                             Prometheus text (prometheus.sh)
 *     metrics_probe json                      the same round as stratactl
 *                                             metrics --json prints it
 * Round 1: offset +0.002 s, 10 answered, 1 KoD; round 2: offset -0.0015 s,
 * 25 answered, 4 KoD (totals); two pool members sharing a name, one with a
 * quote and a backslash in it. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "metrics_json.h"
#include "netaddr.h"
#include "statsd.h"

static void log_to_stderr(void *ctx, enum log_level level, const char *message)
{
	(void)ctx;
	(void)level;
	fprintf(stderr, "metrics_probe: %s\n", message);
}

static void add_source(struct source_status *s, const char *name, const char *addr, double offset)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->name, sizeof(s->name), "%s", name);
	netaddr_parse(addr, &s->addr);
	s->addr.port = 123;
	s->selection = SOURCE_COMBINED;
	s->stratum = 2;
	s->poll = 6;
	s->reach = 0x7f;
	s->have_estimate = true;
	s->offset = offset;
	s->delay = 0.004;
	s->jitter = 0.0002;
}

int main(int argc, char **argv)
{
	char host[64];
	uint16_t port = 8125;
	struct net_addr collector;
	struct engine_tracking tracking = { .state = SYNC_SYNCHRONIZED, .stratum = 3, .leap = NTP_LEAP_NONE };
	struct source_status sources[2];
	struct serve_counters serve = { 0 };
	struct metrics_snapshot snap = { &tracking, sources, 2, &serve };
	struct timespec now = { 1700000000, 0 };

	bool json = argc == 2 && strcmp(argv[1], "json") == 0;
	bool prometheus = json || (argc == 2 && strcmp(argv[1], "prometheus") == 0);

	if (!prometheus && (argc != 4 || strcmp(argv[1], "statsd") != 0 ||
			    !netaddr_split_host_port(argv[2], host, sizeof(host), &port) ||
			    !netaddr_parse(host, &collector))) {
		fprintf(stderr, "usage: metrics_probe statsd HOST:PORT PREFIX | metrics_probe prometheus|json\n");
		return 2;
	}
	collector.port = port;
	log_set_sink(log_to_stderr, NULL, LOG_LEVEL_WARNING);
	if (!prometheus && !statsd_init(&collector, argv[3], 1, now))
		return 1;

	tracking.system_offset = 0.002;
	tracking.frequency_ppm = 1.5;
	tracking.root_delay = 0.01;
	tracking.root_dispersion = 0.0005;
	tracking.rms_offset = 0.0001;
	add_source(&sources[0], "pool.ntp.org", "192.0.2.1", 0.0021);
	add_source(&sources[1], "pool.ntp.org", "2001:db8::2", 0.0019);
	if (prometheus)
		snprintf(sources[1].name, sizeof(sources[1].name), "odd \"name\" \\ here");
	serve.received = 12;
	serve.answered = 10;
	serve.kod_sent = 1;
	now.tv_sec++;
	if (!prometheus)
		statsd_send(&snap, now);

	tracking.system_offset = -0.0015;
	tracking.frequency_ppm = -2.25;
	sources[0].offset = -0.0014;
	serve.received = 31;
	serve.answered = 25;
	serve.kod_sent = 4;
	now.tv_sec++;
	sources[1].have_estimate = false; /* no sample yet: null in JSON, absent in Prometheus */
	if (json) {
		metrics_json_print(&snap, stdout);
		return 0;
	}
	if (prometheus) {
		static char text[65536];

		if (metrics_prometheus_format(&snap, text, sizeof(text)) >= sizeof(text))
			return 1;
		fputs(text, stdout);
		return 0;
	}
	statsd_send(&snap, now);
	statsd_fini();
	return 0;
}
