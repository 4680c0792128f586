/* One background thread for blocking work off the event loop (name
 * lookups, NTS key exchanges): it runs queued jobs one at a time and hands
 * each result back through a pipe the loop polls. Started before the
 * seccomp filter, which allows no new threads. */
#ifndef STRATA_WORKER_THREAD_H
#define STRATA_WORKER_THREAD_H

#include <stddef.h>

/* Runs one job (job_size bytes, a copy); returns a malloc'd result, or NULL
 * when out of memory (still handed back, so the loop stops waiting). */
typedef void *(*worker_fn)(const void *job);

struct worker;

/* NULL when out of memory or no thread can be started. */
struct worker *worker_create(worker_fn fn, size_t job_size, size_t queue_len);
/* Returns at once: a job in progress is left to finish (it may block for
 * as long as the call it makes) and the thread then frees everything;
 * results not taken are freed. */
void worker_destroy(struct worker *w);

/* The descriptor that turns readable when a result is ready. */
int worker_fd(const struct worker *w);
/* Queues a copy of job: 0, or -1 when the queue is full. */
int worker_request(struct worker *w, const void *job);
/* Takes one result (NULL possible, see worker_fn): 1, or 0 when none is ready. */
int worker_take(struct worker *w, void **result);

#endif
