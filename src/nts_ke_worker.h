/* NTS key exchanges off the event loop, on a worker_thread of their own:
 * queued exchanges run one at a time (nts_ke_client_exchange, each bounded
 * by its deadline) and each outcome comes back through a pipe the loop polls.
 *
 * Why a thread and not non-blocking TLS in the loop: the exchange is rare
 * (once per source, then only when cookies run out), GnuTLS's blocking
 * calls with timeouts are short and well trodden, and the loop's code stays
 * as it is; the resolver works the same way. A KE server that hangs delays
 * only the exchanges queued behind it, never NTP. */
#ifndef STRATA_NTS_KE_WORKER_H
#define STRATA_NTS_KE_WORKER_H

#include <stdbool.h>

#include "nts_ke_client.h"

struct nts_ke_outcome {
	unsigned tag;               /* the caller's, from nts_ke_worker_request */
	bool ok;
	struct nts_ke_result result;
	char error[256];            /* when !ok */
};

struct nts_ke_worker;

struct nts_ke_worker *nts_ke_worker_create(void);
/* Returns at once; an exchange in progress finishes on its own (within its
 * deadline) and the thread then frees everything. */
void nts_ke_worker_destroy(struct nts_ke_worker *w);

int nts_ke_worker_fd(const struct nts_ke_worker *w);
/* Whether an exchange is queued or running: the loop polls the descriptor
 * only then (clknetsim, for one, reads a pipe as always ready). */
bool nts_ke_worker_busy(const struct nts_ke_worker *w);
/* Queues an exchange: 0, or -1 when the queue is full. */
int nts_ke_worker_request(struct nts_ke_worker *w, unsigned tag, const struct nts_ke_client_config *cfg);
/* Takes one outcome when the descriptor was readable: 1, or 0 for none. */
int nts_ke_worker_take(struct nts_ke_worker *w, struct nts_ke_outcome *out);

#endif
