#include "nts_ke_worker.h"

#include <stdlib.h>

#include "worker_thread.h"

#define NTS_KE_QUEUE 64

struct job {
	unsigned tag;
	struct nts_ke_client_config cfg;
};

struct nts_ke_worker {
	struct worker *worker;
	unsigned outstanding;     /* queued or running, outcome not taken yet */
};

static void *exchange(const void *arg)
{
	const struct job *job = arg;
	struct nts_ke_outcome *o = calloc(1, sizeof(*o));

	if (!o)
		return NULL;
	o->tag = job->tag;
	o->ok = nts_ke_client_exchange(&job->cfg, &o->result, o->error, sizeof(o->error));
	return o;
}

struct nts_ke_worker *nts_ke_worker_create(void)
{
	struct nts_ke_worker *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	w->worker = worker_create(exchange, sizeof(struct job), NTS_KE_QUEUE);
	if (!w->worker) {
		free(w);
		return NULL;
	}
	return w;
}

void nts_ke_worker_destroy(struct nts_ke_worker *w)
{
	if (!w)
		return;
	worker_destroy(w->worker);
	free(w);
}

int nts_ke_worker_fd(const struct nts_ke_worker *w)
{
	return worker_fd(w->worker);
}

int nts_ke_worker_request(struct nts_ke_worker *w, unsigned tag, const struct nts_ke_client_config *cfg)
{
	struct job job = { .tag = tag, .cfg = *cfg };

	if (worker_request(w->worker, &job) < 0)
		return -1;
	w->outstanding++;
	return 0;
}

int nts_ke_worker_take(struct nts_ke_worker *w, struct nts_ke_outcome *out)
{
	void *o;

	/* NULL: out of memory in the thread; the source's backoff retries */
	while (worker_take(w->worker, &o)) {
		w->outstanding -= w->outstanding > 0;
		if (!o)
			continue;
		*out = *(struct nts_ke_outcome *)o;
		free(o);
		return 1;
	}
	return 0;
}

bool nts_ke_worker_busy(const struct nts_ke_worker *w)
{
	return w->outstanding > 0;
}
