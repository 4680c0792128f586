/* pipe2 */
#define _GNU_SOURCE

#include "nts_ke_worker.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NTS_KE_QUEUE 64

struct job {
	unsigned tag;
	struct nts_ke_client_config cfg;
};

struct nts_ke_worker {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool stopping, busy, abandoned;
	size_t head, count;
	struct job queue[NTS_KE_QUEUE];
	int pipe_read, pipe_write;
};

static void worker_free(struct nts_ke_worker *w)
{
	struct nts_ke_outcome *o;

	while (read(w->pipe_read, &o, sizeof(o)) == sizeof(o))
		free(o);
	close(w->pipe_read);
	close(w->pipe_write);
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->wake);
	free(w);
}

static void *run(void *arg)
{
	struct nts_ke_worker *w = arg;

	pthread_mutex_lock(&w->lock);
	for (;;) {
		struct job job;
		struct nts_ke_outcome *o;

		while (!w->stopping && w->count == 0)
			pthread_cond_wait(&w->wake, &w->lock);
		if (w->stopping)
			break;
		job = w->queue[w->head];
		w->head = (w->head + 1) % NTS_KE_QUEUE;
		w->count--;
		w->busy = true;
		pthread_mutex_unlock(&w->lock);

		o = calloc(1, sizeof(*o));
		if (o) {
			o->tag = job.tag;
			o->ok = nts_ke_client_exchange(&job.cfg, &o->result, o->error, sizeof(o->error));
		}
		pthread_mutex_lock(&w->lock);
		w->busy = false;
		if (w->stopping) {
			bool abandoned = w->abandoned;

			pthread_mutex_unlock(&w->lock);
			free(o);
			if (abandoned)
				worker_free(w);
			return NULL;
		}
		/* a pointer is far below PIPE_BUF: the write is atomic; NULL
		 * (out of memory) is dropped, the caller's backoff retries */
		if (o && write(w->pipe_write, &o, sizeof(o)) != sizeof(o))
			free(o);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

struct nts_ke_worker *nts_ke_worker_create(void)
{
	struct nts_ke_worker *w = calloc(1, sizeof(*w));
	int fds[2];

	if (!w)
		return NULL;
	if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) < 0) {
		free(w);
		return NULL;
	}
	w->pipe_read = fds[0];
	w->pipe_write = fds[1];
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->wake, NULL);
	if (pthread_create(&w->thread, NULL, run, w) != 0) {
		close(fds[0]);
		close(fds[1]);
		free(w);
		return NULL;
	}
	return w;
}

void nts_ke_worker_destroy(struct nts_ke_worker *w)
{
	bool busy;

	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	w->stopping = true;
	pthread_cond_signal(&w->wake);
	busy = w->busy;
	w->abandoned = busy;
	pthread_mutex_unlock(&w->lock);
	if (busy) {
		pthread_detach(w->thread);
		return;
	}
	pthread_join(w->thread, NULL);
	worker_free(w);
}

int nts_ke_worker_fd(const struct nts_ke_worker *w)
{
	return w->pipe_read;
}

int nts_ke_worker_request(struct nts_ke_worker *w, unsigned tag, const struct nts_ke_client_config *cfg)
{
	pthread_mutex_lock(&w->lock);
	if (w->count == NTS_KE_QUEUE) {
		pthread_mutex_unlock(&w->lock);
		return -1;
	}
	w->queue[(w->head + w->count) % NTS_KE_QUEUE] = (struct job){ .tag = tag, .cfg = *cfg };
	w->count++;
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->lock);
	return 0;
}

int nts_ke_worker_take(struct nts_ke_worker *w, struct nts_ke_outcome *out)
{
	struct nts_ke_outcome *o;

	if (read(w->pipe_read, &o, sizeof(o)) != sizeof(o))
		return 0;
	*out = *o;
	free(o);
	return 1;
}
