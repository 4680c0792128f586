/* chrony's sourcedir: a directory of *.sources files of server and pool
 * lines (source_lines.h), written by DHCP hooks and re-read on SIGHUP and
 * "stratactl reload sources". Every bad line is logged as FILE:LINE and
 * left out; the others are used. */
#ifndef STRATA_SOURCEDIR_H
#define STRATA_SOURCEDIR_H

#include <stddef.h>

#include "auth_keys.h"
#include "config.h"

#define SOURCEDIR_MAX_FILES 64
#define SOURCEDIR_MAX_FILE_SIZE (64 * 1024)
#define SOURCEDIR_MAX_SOURCES 256  /* a DHCP hook's files add a handful; a bound on what they may add */

/* The entries of dir's *.sources regular files (sorted by name, at most
 * SOURCEDIR_MAX_FILES) into out, at most max; returns how many. A missing
 * directory holds no sources. A line whose key is not in keys (the running
 * keyring; NULL: none) is left out, logged. */
size_t sourcedir_read(const char *dir, struct config_source *out, size_t max, const struct auth_keyring *keys);

#endif
