#include "nts_cookie_issuer.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

struct nts_cookie_issuer {
	pthread_mutex_t lock;
	struct nts_master_keys keys;
	_Atomic uint32_t generation;
};

struct nts_cookie_issuer *nts_cookie_issuer_create(void)
{
	struct nts_cookie_issuer *issuer = calloc(1, sizeof(*issuer));

	if (issuer)
		pthread_mutex_init(&issuer->lock, NULL);
	return issuer;
}

void nts_cookie_issuer_destroy(struct nts_cookie_issuer *issuer)
{
	if (!issuer)
		return;
	pthread_mutex_destroy(&issuer->lock);
	memset(&issuer->keys, 0, sizeof(issuer->keys));
	free(issuer);
}

void nts_cookie_issuer_publish(struct nts_cookie_issuer *issuer, const struct nts_master_keys *keys)
{
	pthread_mutex_lock(&issuer->lock);
	issuer->keys = *keys;
	atomic_fetch_add_explicit(&issuer->generation, 1, memory_order_release);
	pthread_mutex_unlock(&issuer->lock);
}

uint32_t nts_cookie_issuer_generation(const struct nts_cookie_issuer *issuer)
{
	return atomic_load_explicit(&issuer->generation, memory_order_acquire);
}

uint32_t nts_cookie_issuer_copy(struct nts_cookie_issuer *issuer, struct nts_master_keys *out)
{
	uint32_t generation;

	pthread_mutex_lock(&issuer->lock);
	*out = issuer->keys;
	generation = atomic_load_explicit(&issuer->generation, memory_order_relaxed);
	pthread_mutex_unlock(&issuer->lock);
	return generation;
}
