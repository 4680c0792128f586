/* Writes the drift file in a tight loop (driftfile_write, as stratad does),
 * so a test can kill it with SIGKILL at any moment and check that the file
 * is always whole. The loop is bounded: at most COUNT writes.
 * usage: driftfile_loop write PATH COUNT   or   driftfile_loop read PATH */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driftfile.h"

int main(int argc, char **argv)
{
	char why[512];
	double ppm;

	if (argc == 4 && !strcmp(argv[1], "write")) {
		long count = strtol(argv[3], NULL, 10);

		for (long i = 1; i <= count; i++)
			if (driftfile_write(argv[2], (double)(i % 1000) / 8.0 - 60.0, why, sizeof(why)) < 0) {
				fprintf(stderr, "driftfile_loop: %s\n", why);
				return 1;
			}
		return 0;
	}
	if (argc == 3 && !strcmp(argv[1], "read")) {
		enum driftfile_status st = driftfile_read(argv[2], 500.0, &ppm, why, sizeof(why));

		if (st != DRIFTFILE_OK) {
			printf("bad: %s\n", why);
			return 1;
		}
		printf("%.6f\n", ppm);
		return 0;
	}
	fprintf(stderr, "usage: driftfile_loop write PATH COUNT | read PATH\n");
	return 2;
}
