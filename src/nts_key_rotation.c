#include "nts_key_rotation.h"

#include <string.h>

enum nts_rotation nts_keys_decide(const struct nts_master_keys *keys, int64_t now, uint32_t rotate)
{
	if (keys->count == 0)
		return NTS_KEYS_ROTATE;
	if (rotate == 0)
		return NTS_KEYS_KEEP;
	if (now - keys->created >= (int64_t)rotate || keys->created - now > (int64_t)rotate)
		return NTS_KEYS_ROTATE;
	return NTS_KEYS_KEEP;
}

void nts_keys_rotate(struct nts_master_keys *keys, const struct nts_master_key *fresh, int64_t now)
{
	struct nts_master_key key = *fresh;
	size_t keep = keys->count < NTS_MASTER_KEYS_MAX ? keys->count : NTS_MASTER_KEYS_MAX - 1;

	while (nts_keys_find(keys, key.id))
		key.id++;
	memmove(&keys->keys[1], &keys->keys[0], keep * sizeof(keys->keys[0]));
	keys->keys[0] = key;
	keys->count = keep + 1;
	keys->created = now;
}

const struct nts_master_key *nts_keys_find(const struct nts_master_keys *keys, uint32_t id)
{
	for (size_t i = 0; i < keys->count; i++)
		if (keys->keys[i].id == id)
			return &keys->keys[i];
	return NULL;
}

const struct nts_master_key *nts_keys_current(const struct nts_master_keys *keys)
{
	return keys->count ? &keys->keys[0] : NULL;
}
