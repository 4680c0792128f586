/* The drift file: the clock's frequency correction, and the wander the
 * discipline learnt, saved across restarts, so a restart converges fast and
 * polls as the oscillator deserves from the first sample. One line:
 * "-12.345678 wander=0.003162" (ppm; ppm/sqrt(s)). A file with the frequency
 * alone (an older stratad's, ntpd's) or with a second bare number after it
 * (chrony's skew, a different quantity) gives the frequency alone. Written
 * atomically (a temporary file in the same directory, fsync, rename, fsync
 * of the directory): a crash at any moment leaves either the old or the new
 * content, never a torn or empty file. */
#ifndef STRATA_DRIFTFILE_H
#define STRATA_DRIFTFILE_H

#include <stddef.h>

enum driftfile_status {
	DRIFTFILE_OK = 0,
	DRIFTFILE_MISSING,   /* no file yet: a first start */
	DRIFTFILE_CORRUPT,   /* unreadable content: reported and ignored */
	DRIFTFILE_ERROR,     /* could not be read (permissions, I/O) */
};

struct drift_state {
	double frequency_ppm;
	double wander_ppm_per_s; /* 0: not known (not in the file) */
};

/* Frequencies beyond +-max_ppm, and a wander that is not a positive number,
 * count as corrupt. On anything but DRIFTFILE_OK, why holds a message for
 * people and out is untouched. */
enum driftfile_status driftfile_read(const char *path, double max_ppm, struct drift_state *out, char *why,
				     size_t why_len);

/* Removes the temporary files (path.XXXXXX, regular files only) that a
 * writer killed before its rename left next to path. Returns how many, or
 * -1 with a message in why when the directory cannot be read. */
int driftfile_remove_stale(const char *path, char *why, size_t why_len);

/* 0, or -1 with a message in why; the old file is untouched on failure. A
 * wander of 0 is left out. */
int driftfile_write(const char *path, const struct drift_state *state, char *why, size_t why_len);

#endif
