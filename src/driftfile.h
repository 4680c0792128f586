/* The drift file: the clock's frequency correction saved across restarts, so
 * a restart converges fast. Written atomically (a temporary file in the same
 * directory, fsync, rename, fsync of the directory): a crash at any moment
 * leaves either the old or the new content, never a torn or empty file. */
#ifndef STRATA_DRIFTFILE_H
#define STRATA_DRIFTFILE_H

#include <stddef.h>

enum driftfile_status {
	DRIFTFILE_OK = 0,
	DRIFTFILE_MISSING,   /* no file yet: a first start */
	DRIFTFILE_CORRUPT,   /* unreadable content: reported and ignored */
	DRIFTFILE_ERROR,     /* could not be read (permissions, I/O) */
};

/* Reads the frequency in ppm; values beyond +-max_ppm count as corrupt.
 * On anything but DRIFTFILE_OK, why holds a message for people. */
enum driftfile_status driftfile_read(const char *path, double max_ppm, double *ppm, char *why, size_t why_len);

/* Removes the temporary files (path.XXXXXX, regular files only) that a
 * writer killed before its rename left next to path. Returns how many, or
 * -1 with a message in why when the directory cannot be read. */
int driftfile_remove_stale(const char *path, char *why, size_t why_len);

/* 0, or -1 with a message in why; the old file is untouched on failure. */
int driftfile_write(const char *path, double ppm, char *why, size_t why_len);

#endif
