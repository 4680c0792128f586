#include "clock_server.h"

#include <errno.h>
#include <math.h>
#include <string.h>
#include <poll.h>
#include <sys/socket.h>

#include "linux_clock.h"
#include "log.h"

struct clock_limits clock_limits_for(double panic_threshold, bool allow_initial_insane_step)
{
	struct clock_limits lim = {
		.max_step = LINUX_CLOCK_MAX_STEP,
		.max_slew = LINUX_CLOCK_MAX_SLEW,
		.max_ppm = LINUX_CLOCK_MAX_PPM,
	};

	if (panic_threshold > 0) {
		lim.max_step = fmin(lim.max_step, 2 * panic_threshold);
		lim.max_slew = fmin(lim.max_slew, 2 * panic_threshold);
	}
	lim.max_first_step = allow_initial_insane_step ? LINUX_CLOCK_MAX_STEP : lim.max_step;
	return lim;
}

static bool within(double v, double limit)
{
	return isfinite(v) && fabs(v) <= limit;
}

/* The sanity check: a reason to refuse, or NULL. */
static const char *insane(const struct clock_server *srv, const struct clock_request *rq)
{
	const struct clock_limits *lim = &srv->limits;
	unsigned char synchronized;

	switch (rq->op) {
	case CLOCK_WIRE_STEP:
		return within(rq->value, srv->steps ? lim->max_step : lim->max_first_step) ? NULL : "step too large";
	case CLOCK_WIRE_SLEW:
		return within(rq->value, lim->max_slew) ? NULL : "slew too large";
	case CLOCK_WIRE_SET_FREQUENCY:
		return within(rq->value, lim->max_ppm) ? NULL : "frequency out of range";
	case CLOCK_WIRE_SET_STATUS:
		/* read as a byte: a bool holding anything but 0 or 1 is undefined */
		memcpy(&synchronized, &rq->status.synchronized, 1);
		if (synchronized > 1 || (rq->status.leap != NTP_LEAP_NONE && rq->status.leap != NTP_LEAP_INSERT &&
					 rq->status.leap != NTP_LEAP_DELETE))
			return "bad status";
		/* large is fine (the clock caps them at its limit), not negative or NaN */
		if (!(rq->status.max_error >= 0 && isfinite(rq->status.max_error)) ||
		    !(rq->status.est_error >= 0 && isfinite(rq->status.est_error)))
			return "bad error estimate";
		return NULL;
	case CLOCK_WIRE_SLEW_STATE:
		return NULL;
	default:
		return "unknown operation";
	}
}

/* An operation that answers puts its figures in the reply. */
static int carry_out(struct clock_server *srv, const struct clock_request *rq, struct clock_reply *reply)
{
	const struct clock_ops *c = &srv->clock;
	int ret = -EINVAL;

	switch (rq->op) {
	case CLOCK_WIRE_STEP:
		ret = c->step(c->ctx, rq->value);
		srv->steps += ret == 0;
		break;
	case CLOCK_WIRE_SLEW:
		ret = c->slew(c->ctx, rq->value);
		break;
	case CLOCK_WIRE_SET_FREQUENCY:
		ret = c->set_frequency(c->ctx, rq->value);
		break;
	case CLOCK_WIRE_SET_STATUS:
		ret = c->set_status(c->ctx, &rq->status);
		break;
	case CLOCK_WIRE_SLEW_STATE:
		/* the clock process made the slews: only its clock knows their chunks */
		ret = c->slew_state(c->ctx, &reply->slew);
		break;
	}
	return ret;
}

void clock_server_handle(struct clock_server *srv, const void *msg, size_t len, struct clock_reply *reply)
{
	struct clock_request rq;
	const char *why = "wrong size";

	memset(reply, 0, sizeof(*reply));
	reply->result = -EINVAL;
	if (len == sizeof(rq)) {
		memcpy(&rq, msg, sizeof(rq));
		why = insane(srv, &rq);
	}
	if (why) {
		/* said a few times, not once per request: a broken engine could flood the log */
		if (srv->refused++ < 10)
			log_msg(LOG_LEVEL_ERROR, "clock process: refused a request: %s", why);
		return;
	}
	reply->result = carry_out(srv, &rq, reply);
}

/* How long to wait for a request (ms, -1: for ever): until the clock wants
 * its tick (the end of a slew through the frequency), which it gets when due. */
static int tick_timeout(const struct clock_ops *c)
{
	struct timespec now, when;
	double wait;

	if (!c->next_tick || !c->next_tick(c->ctx, &when) || c->read(c->ctx, &now) != 0)
		return -1;
	wait = (double)(when.tv_sec - now.tv_sec) + (double)(when.tv_nsec - now.tv_nsec) * 1e-9;
	if (wait <= 0.0) {
		c->tick(c->ctx);
		return tick_timeout(c);
	}
	return (int)ceil(fmin(wait, 3600.0) * 1000.0);
}

int clock_server_run(struct clock_server *srv, int fd)
{
	for (;;) {
		/* one byte more than a request, so a longer message shows as such */
		unsigned char msg[sizeof(struct clock_request) + 1];
		struct clock_reply reply;
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t n;
		int ready = poll(&pfd, 1, tick_timeout(&srv->clock));

		if (ready < 0 && errno != EINTR)
			return -errno;
		if (ready <= 0)
			continue;
		n = recv(fd, msg, sizeof(msg), MSG_TRUNC);
		if (n == 0)
			return 0;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		clock_server_handle(srv, msg, (size_t)n, &reply);
		if (send(fd, &reply, sizeof(reply), MSG_NOSIGNAL) != (ssize_t)sizeof(reply))
			return errno ? -errno : -EIO;
	}
}
