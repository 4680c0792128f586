#include "resolver.h"

#include <errno.h>
#include <stdio.h>
#include <netdb.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "worker_thread.h"

#define RESOLVER_QUEUE 32

struct resolver_job {
	unsigned tag;
	uint16_t port;
	char name[256];
};

struct resolver {
	struct worker *worker;
	size_t outstanding;  /* requested, not yet taken; the loop's own */
};

int resolver_lookup(const char *name, int family, uint16_t port, struct net_addr *addrs, size_t max,
		    size_t *count)
{
	struct addrinfo hints = { .ai_family = family, .ai_socktype = SOCK_DGRAM };
	struct addrinfo *list = NULL;
	int error = getaddrinfo(name, NULL, &hints, &list);

	*count = 0;
	for (struct addrinfo *ai = list; ai && *count < max; ai = ai->ai_next) {
		struct net_addr a;
		bool seen = false;

		if (!netaddr_from_sockaddr(ai->ai_addr, ai->ai_addrlen, &a))
			continue;
		a = netaddr_unmapped(&a);
		a.port = port;
		for (size_t i = 0; i < *count; i++)
			seen = seen || netaddr_equal(&addrs[i], &a);
		if (!seen)
			addrs[(*count)++] = a;
	}
	if (list)
		freeaddrinfo(list);
	return !error && *count == 0 ? EAI_NONAME : error;
}

static void *lookup(const void *arg)
{
	const struct resolver_job *job = arg;
	struct resolver_result *out = malloc(sizeof(*out));

	if (!out)
		return NULL;
	memset(out, 0, sizeof(*out));
	out->tag = job->tag;
	out->error = resolver_lookup(job->name, AF_UNSPEC, job->port, out->addrs, RESOLVER_MAX_ADDRS, &out->count);
	return out;
}

struct resolver *resolver_create(void)
{
	struct resolver *res = calloc(1, sizeof(*res));

	if (!res)
		return NULL;
	res->worker = worker_create(lookup, sizeof(struct resolver_job), RESOLVER_QUEUE);
	if (!res->worker) {
		free(res);
		return NULL;
	}
	return res;
}

/* getaddrinfo cannot be interrupted and may wait out the DNS timeouts
 * (seconds, times the retries): stopping does not wait for a lookup. */
void resolver_destroy(struct resolver *res)
{
	if (!res)
		return;
	worker_destroy(res->worker);
	free(res);
}

bool resolver_busy(const struct resolver *res)
{
	return res->outstanding > 0;
}

int resolver_fd(const struct resolver *res)
{
	return worker_fd(res->worker);
}

int resolver_request(struct resolver *res, unsigned tag, const char *name, uint16_t port)
{
	struct resolver_job job = { .tag = tag, .port = port };

	snprintf(job.name, sizeof(job.name), "%s", name);
	if (worker_request(res->worker, &job) < 0)
		return -1;
	res->outstanding++;
	return 0;
}

int resolver_take(struct resolver *res, struct resolver_result *out)
{
	void *result;

	do {
		if (!worker_take(res->worker, &result))
			return 0;
		res->outstanding--;
	} while (!result); /* out of memory in the thread: nothing to hand on */
	*out = *(struct resolver_result *)result;
	free(result);
	return 1;
}

bool resolver_numeric(const char *name, uint16_t port, struct net_addr *out)
{
	if (!netaddr_parse(name, out))
		return false;
	out->port = port;
	return true;
}

const char *resolver_error_str(int error)
{
	return gai_strerror(error);
}
