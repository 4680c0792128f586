/* The server's NTS master keys on disk: drawn from GnuTLS's random
 * generator, rotated as nts_key_rotation.h decides, and kept in a file
 * (written atomically, mode 0600) so that a restart, and a second server of
 * a load-balanced pool reading the same file, accept the cookies issued
 * before.
 *
 * Sharing: one server rotates (rotate > 0) and writes the file; the others
 * set rotate = 0 and pick up each new version of the file (its modification
 * time changed) at their next nts_server_keys_update. */
#ifndef STRATA_NTS_SERVER_KEYS_H
#define STRATA_NTS_SERVER_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "nts_key_rotation.h"

struct nts_server_keys {
	const char *path;            /* NULL: keys live in memory only */
	uint32_t rotate;             /* seconds; 0: never rotate here */
	struct nts_master_keys keys;
	struct timespec file_mtime;  /* of the version last read or written */
};

/* Parses the text of a key file. 0, or -1 with a message. */
int nts_server_keys_parse(const char *text, struct nts_master_keys *out, char *why, size_t why_len);

/* The text of a key file; returns its length (snprintf's rules). */
int nts_server_keys_format(const struct nts_master_keys *keys, char *out, size_t len);

/* Reads the file if it changed since last time, then rotates when due
 * (writing the file) at Unix time now. *changed tells whether the keys are
 * new. 0, or -1 with a message naming the file (the keys held stay as they
 * were, so serving goes on). */
int nts_server_keys_update(struct nts_server_keys *sk, int64_t now, bool *changed, char *why, size_t why_len);

#endif
