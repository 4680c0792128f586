/* stratactl: asks the running stratad for its status over the control socket
 * and prints the reply. The daemon formats; this stays a thin client. */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control.h"

#ifndef RUNSTATEDIR
#define RUNSTATEDIR "/run"
#endif

static void usage(FILE *out)
{
	fprintf(out,
		"usage: stratactl [-s SOCKET] [--json | -v] COMMAND\n"
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
		"  reload sources  read the sourcedir again: its sources come and go, the others stay\n"
		"  cyclelogs    close and reopen the history logs (after logrotate moved them)\n",
		RUNSTATEDIR);
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
	char why[512], command[100] = "";
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
	if (optind == argc) {
		usage(stderr);
		return 2;
	}
	/* the words of the command, one space apart ("reload sources") */
	for (int i = optind; i < argc; i++) {
		if (!argv[i][0] || strpbrk(argv[i], "\n ") || strlen(command) + strlen(argv[i]) + 2 > sizeof(command)) {
			fprintf(stderr, "stratactl: bad command word \"%s\"\n", argv[i]);
			return 2;
		}
		if (i > optind)
			strcat(command, " ");
		strcat(command, argv[i]);
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
