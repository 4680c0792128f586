/* stratactl: asks the running stratad for its status, or for a change, over
 * the control socket and prints the reply. The daemon formats and decides;
 * this stays a thin client, but for waitsync's loop of checks. */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "control.h"
#include "json_writer.h"
#include "status_control.h"

#ifndef RUNSTATEDIR
#define RUNSTATEDIR "/run"
#endif

static void usage(FILE *out)
{
	fprintf(out,
		"usage: stratactl [-s SOCKET] [--json | -v] COMMAND [ARGUMENTS]\n"
		"  -s SOCKET  the daemon's control socket (default %s/strata/stratad.sock)\n"
		"  --json     machine-readable output\n"
		"  -v         verbose: a legend and the figures behind the columns (sources)\n"
		"commands:\n"
		"  tracking     the system clock: reference, stratum, offset, frequency, sync state\n"
		"  sources      every source: selection state, reach, its last reply's age, offset and error\n"
		"  sourcestats  a straight line through each source's samples: frequency, skew, std dev\n"
		"  authdata     how each source authenticates (key id, type, length) and MACs passed/failed\n"
		"  serverstats  the server's request counters\n"
		"  metrics      every figure in the Prometheus text format (node_exporter textfile)\n"
		"  selectdata   why each source is or is not selected (chronyc's state letters)\n"
		"  ntpdata [ADDRESS]  the last exchange with each source (or one), its raw fields\n"
		"  activity     how many sources are online, offline, bursting, unresolved\n"
		"  clients [N]  the N (default 64, at most 256) most recent clients: requests, drops\n"
		"  waitsync [MAX-TRIES [MAX-CORRECTION [MAX-SKEW [INTERVAL]]]]\n"
		"               wait until synchronized (exit 0) or MAX-TRIES checks failed (exit 1)\n"
		"changes (root, stratad's user or the control socket's group only):\n"
		"  online [ADDRESS|all] / offline [ADDRESS|all]   poll the sources, or stop\n"
		"  burst GOOD/MAX [ADDRESS|all]   GOOD samples in at most MAX polls, 2 s apart\n"
		"  makestep     step the clock now by the whole remaining correction\n"
		"  add server NAME [iburst] [port N] [minpoll N] [maxpoll N]\n"
		"  add pool NAME [iburst] [port N] [minpoll N] [maxpoll N] [maxsources N]\n"
		"  delete ADDRESS|NAME\n"
		"  reload sources  read the sourcedir again: its sources come and go, the others stay\n"
		"  cyclelogs    close and reopen the history logs (after logrotate moved them)\n",
		RUNSTATEDIR);
}

/* waitsync's numbers: MAX-TRIES, MAX-CORRECTION (s), MAX-SKEW (ppm), INTERVAL (s). */
struct waitsync_args {
	unsigned long max_tries;    /* 0: no limit */
	double max_correction;      /* 0: not checked */
	double max_skew_ppm;        /* 0: not checked */
	double interval;            /* default 10 */
};

static int parse_waitsync(int argc, char **argv, struct waitsync_args *a)
{
	char *end;

	*a = (struct waitsync_args){ .interval = 10.0 };
	if (argc > 4)
		return -1;
	if (argc > 0 && (a->max_tries = strtoul(argv[0], &end, 10), *end || end == argv[0]))
		return -1;
	if (argc > 1 && (a->max_correction = strtod(argv[1], &end), *end || end == argv[1] || a->max_correction < 0))
		return -1;
	if (argc > 2 && (a->max_skew_ppm = strtod(argv[2], &end), *end || end == argv[2] || a->max_skew_ppm < 0))
		return -1;
	if (argc > 3 && (a->interval = strtod(argv[3], &end), *end || end == argv[3] || !(a->interval >= 0.1)))
		return -1;
	return 0;
}

static void sleep_seconds(double s)
{
	struct timespec t = { (time_t)s, (long)((s - (double)(time_t)s) * 1e9) };

	while (nanosleep(&t, &t) < 0)
		;
}

/* chronyc's waitsync: a check every interval, a line per try; 0 once
 * synchronized within the bounds, 1 when max_tries checks were not. */
static int waitsync(const char *socket_path, const struct waitsync_args *a, bool json)
{
	struct json_writer w;

	for (unsigned long try = 1;; try++) {
		char why[512];
		char *reply = control_query(socket_path, "waitsync", CONTROL_TEXT, why, sizeof(why));
		struct status_syncstate st = { 0 };
		bool parsed = reply && status_parse_syncstate(reply, &st);
		bool ok;

		if (reply && !parsed)
			snprintf(why, sizeof(why), "%s", reply);
		if (!parsed) {
			/* the daemon may still be starting: that is a failed try, not the end */
			fprintf(stderr, "stratactl: try %lu: %s\n", try, why);
			st = (struct status_syncstate){ .refid = "00000000" };
		}
		free(reply);
		ok = st.synchronized && (a->max_correction == 0.0 || st.correction <= a->max_correction) &&
		     (a->max_skew_ppm == 0.0 || st.skew_ppm <= a->max_skew_ppm);
		if (json) {
			json_writer_init_compact(&w, stdout);
			json_begin_object(&w, NULL);
			json_integer(&w, "try", (long long)try);
			json_bool(&w, "synchronized", st.synchronized);
			json_string(&w, "refid", st.refid);
			json_real(&w, "correction", st.correction, 9);
			json_real(&w, "skew_ppm", st.skew_ppm, 6);
			json_bool(&w, "within_bounds", ok);
			json_end_object(&w);
			json_writer_finish(&w);
		} else {
			printf("try: %lu, refid: %s, correction: %.9f, skew: %.3f\n", try, st.refid, st.correction,
			       st.skew_ppm);
		}
		fflush(stdout);
		if (ok)
			return 0;
		if (a->max_tries && try >= a->max_tries)
			return 1;
		sleep_seconds(a->interval);
	}
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "socket", required_argument, NULL, 's' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *socket_path = RUNSTATEDIR "/strata/stratad.sock";
	enum control_format format = CONTROL_TEXT;
	char why[512], command[CONTROL_REQUEST_MAX];
	size_t used = 0;
	char *reply;
	int c;

	while ((c = getopt_long(argc, argv, "s:jvh", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			socket_path = optarg;
			break;
		case 'j':
			format = CONTROL_JSON;
			break;
		case 'v':
			if (format == CONTROL_TEXT)
				format = CONTROL_VERBOSE;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[optind], "waitsync")) {
		struct waitsync_args a;

		if (parse_waitsync(argc - optind - 1, argv + optind + 1, &a) < 0) {
			fprintf(stderr, "stratactl: waitsync [MAX-TRIES [MAX-CORRECTION [MAX-SKEW [INTERVAL]]]]: "
					"whole tries, seconds, ppm, and an interval of at least 0.1 s\n");
			return 2;
		}
		return waitsync(socket_path, &a, format == CONTROL_JSON);
	}
	/* the words go as one line: none may hold a space or a newline */
	for (int i = optind; i < argc; i++) {
		int n;

		if (!argv[i][0] || strpbrk(argv[i], " \t\n")) {
			fprintf(stderr, "stratactl: bad word \"%s\"\n", argv[i]);
			return 2;
		}
		n = snprintf(command + used, sizeof(command) - used, "%s%s", i > optind ? " " : "", argv[i]);
		if (n < 0 || (size_t)n >= sizeof(command) - used) {
			fprintf(stderr, "stratactl: command too long\n");
			return 2;
		}
		used += (size_t)n;
	}
	reply = control_query(socket_path, command, format, why, sizeof(why));
	if (!reply) {
		fprintf(stderr, "stratactl: %s\n", why);
		return 1;
	}
	if (!strncmp(reply, "error: ", 7)) {
		fprintf(stderr, "stratactl: %s", reply + 7);
		free(reply);
		return 1;
	}
	fputs(reply, stdout);
	free(reply);
	return 0;
}
