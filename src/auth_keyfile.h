/* Reads a keys file (auth_keys.h has the format) into a keyring: the edge
 * that opens it, refuses what must not be trusted, and hands the text to the
 * pure parser. */
#ifndef STRATA_AUTH_KEYFILE_H
#define STRATA_AUTH_KEYFILE_H

#include <stddef.h>

#include "auth_keys.h"

#define AUTH_KEYFILE_MAX_SIZE (4 << 20)

/* Only a regular file (a FIFO would block) that others cannot read or
 * write: a key anyone can read authenticates nothing. Returns 0, or -1 with
 * a message naming the file (and the line) in err. */
int auth_keyfile_load(const char *path, struct auth_keyring *ring, char *err, size_t err_len);

#endif
