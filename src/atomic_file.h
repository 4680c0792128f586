/* Replacing a small file so that a reader (or a restart after a crash) sees
 * either the old content or the new, never a part: a temporary file beside
 * it, synced, renamed over it, and the directory synced. */
#ifndef STRATA_ATOMIC_FILE_H
#define STRATA_ATOMIC_FILE_H

#include <stddef.h>
#include <sys/types.h>

/* Writes data to path with permissions mode. 0, or -1 with a message
 * naming the file. */
int atomic_file_write(const char *path, const void *data, size_t len, mode_t mode, char *why, size_t why_len);

#endif
