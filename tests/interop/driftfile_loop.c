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
	struct drift_state state = { 0 };

	if (argc == 4 && !strcmp(argv[1], "write")) {
		long count = strtol(argv[3], NULL, 10);

		for (long i = 1; i <= count; i++) {
			state.frequency_ppm = (double)(i % 1000) / 8.0 - 60.0;
			state.wander_ppm_per_s = (double)(i % 1000 + 1) * 1e-4;
			if (driftfile_write(argv[2], &state, why, sizeof(why)) < 0) {
				fprintf(stderr, "driftfile_loop: %s\n", why);
				return 1;
			}
		}
		return 0;
	}
	if (argc == 3 && !strcmp(argv[1], "read")) {
		enum driftfile_status st = driftfile_read(argv[2], 500.0, &state, why, sizeof(why));

		/* both written together: a torn file would show as one without the other */
		if (st != DRIFTFILE_OK || !(state.wander_ppm_per_s > 0.0)) {
			printf("bad: %s\n", st != DRIFTFILE_OK ? why : "no wander");
			return 1;
		}
		printf("%.6f wander %.4g\n", state.frequency_ppm, state.wander_ppm_per_s);
		return 0;
	}
	fprintf(stderr, "usage: driftfile_loop write PATH COUNT | read PATH\n");
	return 2;
}
