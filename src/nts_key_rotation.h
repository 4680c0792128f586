/* The server's NTS master keys: the current one encrypts new cookies, the
 * previous ones still decrypt the cookies clients hold. Pure: the key
 * material and the time come in as arguments (the edge, nts_server_keys.h,
 * draws the random bytes and keeps the file), so rotation is decided the
 * same way in a test, in the daemon and on a second server sharing the
 * file. */
#ifndef STRATA_NTS_KEY_ROTATION_H
#define STRATA_NTS_KEY_ROTATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* AEAD_AES_SIV_CMAC_256: the algorithm the cookies are sealed with. */
#define NTS_MASTER_KEY_LEN 32
/* The current key and two before it: a client that got its cookies just
 * before a rotation keeps working for two more rotation periods (chronyd
 * keeps as many). */
#define NTS_MASTER_KEYS_MAX 3
/* chronyd's ntsrotate default: one week. */
#define NTS_ROTATE_DEFAULT (7 * 24 * 3600)

struct nts_master_key {
	uint32_t id;
	uint8_t key[NTS_MASTER_KEY_LEN];
};

struct nts_master_keys {
	size_t count;                /* 0: none yet */
	struct nts_master_key keys[NTS_MASTER_KEYS_MAX]; /* [0] is the current one */
	int64_t created;             /* Unix time the current key was made */
};

enum nts_rotation {
	NTS_KEYS_KEEP = 0,
	NTS_KEYS_ROTATE,             /* make a new current key now */
};

/* What to do at Unix time now with keys rotated every rotate seconds (0:
 * never, the keys come from a file another server rotates): rotate when
 * there is no key, when the current one is rotate seconds old, or when the
 * clock went back past its creation by more than rotate (a key "from the
 * future" would otherwise never rotate). */
enum nts_rotation nts_keys_decide(const struct nts_master_keys *keys, int64_t now, uint32_t rotate);

/* Makes fresh (its id and key drawn by the caller) the current key, created
 * at now; the oldest key goes when all places are taken. An id equal to one
 * still held is changed to the next free one, so that a cookie always names
 * one key. */
void nts_keys_rotate(struct nts_master_keys *keys, const struct nts_master_key *fresh, int64_t now);

/* The key a cookie names, or NULL when it is not (or no longer) held. */
const struct nts_master_key *nts_keys_find(const struct nts_master_keys *keys, uint32_t id);

/* The current key, or NULL when there is none. */
const struct nts_master_key *nts_keys_current(const struct nts_master_keys *keys);

#endif
