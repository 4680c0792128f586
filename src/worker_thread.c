/* pipe2 */
#define _GNU_SOURCE

#include "worker_thread.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct worker {
	worker_fn fn;
	size_t job_size, queue_len;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool stopping;
	bool busy;       /* the thread is in a job */
	bool abandoned;  /* destroyed during that job: the thread frees it all */
	size_t head, count;
	unsigned char *queue;
	unsigned char *current; /* the thread's copy of the job it runs */
	int pipe_read, pipe_write;
};

/* The last one out: the owner after joining the thread, or the thread
 * after the job its owner did not wait for. */
static void worker_free(struct worker *w)
{
	void *result;

	while (read(w->pipe_read, &result, sizeof(result)) == sizeof(result))
		free(result);
	close(w->pipe_read);
	close(w->pipe_write);
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->wake);
	free(w->queue);
	free(w->current);
	free(w);
}

static void *run(void *arg)
{
	struct worker *w = arg;

	pthread_mutex_lock(&w->lock);
	for (;;) {
		void *result;

		while (!w->stopping && w->count == 0)
			pthread_cond_wait(&w->wake, &w->lock);
		if (w->stopping)
			break;
		memcpy(w->current, w->queue + w->head * w->job_size, w->job_size);
		w->head = (w->head + 1) % w->queue_len;
		w->count--;
		w->busy = true;
		pthread_mutex_unlock(&w->lock);

		result = w->fn(w->current);
		pthread_mutex_lock(&w->lock);
		w->busy = false;
		if (w->stopping) {
			bool abandoned = w->abandoned;

			pthread_mutex_unlock(&w->lock);
			free(result);
			if (abandoned)
				worker_free(w);
			return NULL;
		}
		/* A pointer is far below PIPE_BUF: the write is atomic. */
		if (write(w->pipe_write, &result, sizeof(result)) != sizeof(result))
			free(result);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

struct worker *worker_create(worker_fn fn, size_t job_size, size_t queue_len)
{
	struct worker *w = calloc(1, sizeof(*w));
	int fds[2];

	if (!w)
		return NULL;
	w->fn = fn;
	w->job_size = job_size;
	w->queue_len = queue_len;
	w->queue = calloc(queue_len, job_size);
	w->current = malloc(job_size);
	if (!w->queue || !w->current || pipe2(fds, O_CLOEXEC) < 0) {
		free(w->queue);
		free(w->current);
		free(w);
		return NULL;
	}
	w->pipe_read = fds[0];
	w->pipe_write = fds[1];
	fcntl(w->pipe_read, F_SETFL, O_NONBLOCK);
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->wake, NULL);
	if (pthread_create(&w->thread, NULL, run, w) != 0) {
		close(fds[0]);
		close(fds[1]);
		free(w->queue);
		free(w->current);
		free(w);
		return NULL;
	}
	return w;
}

void worker_destroy(struct worker *w)
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

int worker_fd(const struct worker *w)
{
	return w->pipe_read;
}

int worker_request(struct worker *w, const void *job)
{
	pthread_mutex_lock(&w->lock);
	if (w->count == w->queue_len) {
		pthread_mutex_unlock(&w->lock);
		return -1;
	}
	memcpy(w->queue + (w->head + w->count) % w->queue_len * w->job_size, job, w->job_size);
	w->count++;
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->lock);
	return 0;
}

int worker_take(struct worker *w, void **result)
{
	return read(w->pipe_read, result, sizeof(*result)) == sizeof(*result);
}
