/* Directories the daemon creates for its runtime and state files. */
#ifndef STRATA_PATHS_H
#define STRATA_PATHS_H

#include <stddef.h>
#include <sys/types.h>

/* The directory that holds path: "." when path has no slash, "/" for a
 * file at the root. Cut to len - 1 like snprintf. */
void path_parent_dir(const char *path, char *out, size_t len);

/* Creates the directory that will hold path (one level, mode 0755) and, when
 * owner is not (uid_t)-1, gives it to owner:group so the daemon can still
 * write there after dropping root. An existing directory is left as it is.
 * Returns 0 or -1 with errno set. */
int path_make_parent_dir(const char *path, uid_t owner, gid_t group);

#endif
