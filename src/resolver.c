/* pipe2 */
#define _GNU_SOURCE

#include "resolver.h"

#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <netdb.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RESOLVER_QUEUE 32

struct resolver_job {
	unsigned tag;
	uint16_t port;
	char name[256];
};

struct resolver {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool stopping;
	bool busy;       /* the thread is in a lookup */
	bool abandoned;  /* destroyed during that lookup: the thread frees it all */
	size_t head, count;
	struct resolver_job queue[RESOLVER_QUEUE];
	int pipe_read, pipe_write;
	size_t outstanding;  /* requested, not yet taken; the loop's own, unlocked */
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

static void lookup(const struct resolver_job *job, struct resolver_result *out)
{
	memset(out, 0, sizeof(*out));
	out->tag = job->tag;
	out->error = resolver_lookup(job->name, AF_UNSPEC, job->port, out->addrs, RESOLVER_MAX_ADDRS, &out->count);
}

/* The last one out: the owner after joining the thread, or the thread
 * after the lookup its owner did not wait for. */
static void resolver_free(struct resolver *res)
{
	struct resolver_result *result;

	while (read(res->pipe_read, &result, sizeof(result)) == sizeof(result))
		free(result);
	close(res->pipe_read);
	close(res->pipe_write);
	pthread_mutex_destroy(&res->lock);
	pthread_cond_destroy(&res->wake);
	free(res);
}

static void *worker(void *arg)
{
	struct resolver *res = arg;

	pthread_mutex_lock(&res->lock);
	for (;;) {
		struct resolver_job job;
		struct resolver_result *result;

		while (!res->stopping && res->count == 0)
			pthread_cond_wait(&res->wake, &res->lock);
		if (res->stopping)
			break;
		job = res->queue[res->head];
		res->head = (res->head + 1) % RESOLVER_QUEUE;
		res->count--;
		res->busy = true;
		pthread_mutex_unlock(&res->lock);

		/* NULL when out of memory: still an answer, so the loop stops waiting */
		result = malloc(sizeof(*result));
		if (result)
			lookup(&job, result);
		pthread_mutex_lock(&res->lock);
		res->busy = false;
		if (res->stopping) {
			bool abandoned = res->abandoned;

			pthread_mutex_unlock(&res->lock);
			free(result);
			if (abandoned)
				resolver_free(res);
			return NULL;
		}
		/* A pointer is far below PIPE_BUF: the write is atomic. */
		if (write(res->pipe_write, &result, sizeof(result)) != sizeof(result))
			free(result);
	}
	pthread_mutex_unlock(&res->lock);
	return NULL;
}

struct resolver *resolver_create(void)
{
	struct resolver *res = calloc(1, sizeof(*res));
	int fds[2];

	if (!res)
		return NULL;
	if (pipe2(fds, O_CLOEXEC) < 0) {
		free(res);
		return NULL;
	}
	res->pipe_read = fds[0];
	res->pipe_write = fds[1];
	fcntl(res->pipe_read, F_SETFL, O_NONBLOCK);
	pthread_mutex_init(&res->lock, NULL);
	pthread_cond_init(&res->wake, NULL);
	if (pthread_create(&res->thread, NULL, worker, res) != 0) {
		close(fds[0]);
		close(fds[1]);
		free(res);
		return NULL;
	}
	return res;
}

void resolver_destroy(struct resolver *res)
{
	bool busy;

	if (!res)
		return;
	pthread_mutex_lock(&res->lock);
	res->stopping = true;
	pthread_cond_signal(&res->wake);
	busy = res->busy;
	res->abandoned = busy;
	pthread_mutex_unlock(&res->lock);
	if (busy) {
		/* getaddrinfo cannot be interrupted and may wait out the DNS
		 * timeouts (seconds, times the retries): stopping does not wait
		 * for it. The thread frees everything when the lookup returns,
		 * or ends with the process. */
		pthread_detach(res->thread);
		return;
	}
	pthread_join(res->thread, NULL);
	resolver_free(res);
}

bool resolver_busy(const struct resolver *res)
{
	return res->outstanding > 0;
}

int resolver_fd(const struct resolver *res)
{
	return res->pipe_read;
}

int resolver_request(struct resolver *res, unsigned tag, const char *name, uint16_t port)
{
	struct resolver_job *job;

	pthread_mutex_lock(&res->lock);
	if (res->count == RESOLVER_QUEUE) {
		pthread_mutex_unlock(&res->lock);
		return -1;
	}
	job = &res->queue[(res->head + res->count) % RESOLVER_QUEUE];
	job->tag = tag;
	job->port = port;
	snprintf(job->name, sizeof(job->name), "%s", name);
	res->count++;
	res->outstanding++;
	pthread_cond_signal(&res->wake);
	pthread_mutex_unlock(&res->lock);
	return 0;
}

int resolver_take(struct resolver *res, struct resolver_result *out)
{
	struct resolver_result *result;

	do {
		if (read(res->pipe_read, &result, sizeof(result)) != sizeof(result))
			return 0;
		res->outstanding--;
	} while (!result);
	*out = *result;
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
