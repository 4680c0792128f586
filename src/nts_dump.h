/* nts_dumpdir: an NTS source's keys and cookies kept across restarts, so a
 * restart needs no new key exchange (chrony's ntsdumpdir). One file per
 * source, named by its NTP address, written atomically (a temporary file,
 * fsync, rename) with mode 0600: it holds keys. Loading removes the file,
 * so cookies are never sent twice after a crash. */
#ifndef STRATA_NTS_DUMP_H
#define STRATA_NTS_DUMP_H

#include <stdbool.h>
#include <stddef.h>

#include "nts_client.h"

/* Saves r (its ntp_addr names the file) for the source called name. False
 * with why in err. */
bool nts_dump_save(const char *dir, const char *name, const struct nts_ke_result *r, char *err, size_t errlen);

/* Loads and removes the file for name at r->ntp_addr (set by the caller).
 * False when there is none, it is another source's, or it is malformed
 * (why in err, "" for none); the seed is the caller's to fill. */
bool nts_dump_load(const char *dir, const char *name, struct nts_ke_result *r, char *err, size_t errlen);

#endif
