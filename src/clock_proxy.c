#include "clock_proxy.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>

#include "clock_wire.h"
#include "linux_clock.h"
#include "log.h"

/* One request, one reply. A clock process that is gone or answers nonsense
 * cannot be worked around: the daemon stops (SIGTERM to itself, so it leaves
 * through its ordinary exit path) rather than run on with a clock it cannot
 * steer. */
static int call(struct clock_proxy *p, const struct clock_request *rq, struct clock_reply *reply)
{
	ssize_t n;

	if (p->lost)
		return -EPIPE;
	do
		n = send(p->fd, rq, sizeof(*rq), MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n == (ssize_t)sizeof(*rq)) {
		do
			n = recv(p->fd, reply, sizeof(*reply), MSG_TRUNC);
		while (n < 0 && errno == EINTR);
		if (n == (ssize_t)sizeof(*reply))
			return reply->result;
	}
	log_msg(LOG_LEVEL_ERROR, "the clock process is gone (%s): stopping",
		n < 0 ? strerror(errno) : "no or a malformed reply");
	p->lost = true;
	raise(SIGTERM);
	return -EPIPE;
}

static int send_value(void *ctx, enum clock_wire_op op, double value)
{
	struct clock_request rq;
	struct clock_reply reply;

	memset(&rq, 0, sizeof(rq)); /* the padding too: it is sent */
	rq.op = op;
	rq.value = value;
	return call(ctx, &rq, &reply);
}

static int proxy_read(void *ctx, struct timespec *now)
{
	(void)ctx;
	return clock_gettime(CLOCK_REALTIME, now) < 0 ? -errno : 0;
}

static int proxy_step(void *ctx, double offset)
{
	return send_value(ctx, CLOCK_WIRE_STEP, offset);
}

static int proxy_slew(void *ctx, double offset)
{
	return send_value(ctx, CLOCK_WIRE_SLEW, offset);
}

static int proxy_slew_state(void *ctx, struct clock_slew *out)
{
	struct clock_request rq;
	struct clock_reply reply;
	int ret;

	memset(&rq, 0, sizeof(rq));
	rq.op = CLOCK_WIRE_SLEW_STATE;
	ret = call(ctx, &rq, &reply);
	*out = ret == 0 ? reply.slew : (struct clock_slew){ 0 };
	return ret;
}

static int proxy_set_frequency(void *ctx, double ppm)
{
	return send_value(ctx, CLOCK_WIRE_SET_FREQUENCY, ppm);
}

static int proxy_set_status(void *ctx, const struct clock_status *status)
{
	struct clock_request rq;
	struct clock_reply reply;

	memset(&rq, 0, sizeof(rq));
	rq.op = CLOCK_WIRE_SET_STATUS;
	/* field by field: a struct copy may bring the caller's padding along */
	rq.status.synchronized = status->synchronized;
	rq.status.leap = status->leap;
	rq.status.max_error = status->max_error;
	rq.status.est_error = status->est_error;
	return call(ctx, &rq, &reply);
}

struct clock_ops clock_proxy_ops(struct clock_proxy *proxy, int fd)
{
	*proxy = (struct clock_proxy){ .fd = fd };
	return (struct clock_ops){
		.ctx = proxy,
		.read = proxy_read,
		.step = proxy_step,
		.slew = proxy_slew,
		.slew_state = proxy_slew_state,
		.set_frequency = proxy_set_frequency,
		.set_status = proxy_set_status,
		.max_frequency_ppm = LINUX_CLOCK_MAX_PPM,
		.max_slew_ppm = LINUX_CLOCK_MAX_PPM,
	};
}
