/* The StatsD sender (see statsd.h). */
#include "statsd.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "ntp_time.h"
#include "udp.h"

static int statsd_fd = -1;
static char statsd_prefix[STATSD_PREFIX_MAX + 1];
static double statsd_interval;
static struct timespec statsd_due_at;
static struct metrics_statsd_sent statsd_sent;
static bool statsd_error_logged;

bool statsd_init(const struct net_addr *collector, const char *prefix, double interval,
		 struct timespec now)
{
	char text[NETADDR_TEXT_LEN];
	int err;

	statsd_fini();
	netaddr_format_with_port(collector, text, sizeof(text));
	if (strlen(prefix) > STATSD_PREFIX_MAX || interval <= 0) {
		log_msg(LOG_LEVEL_ERROR, "statsd: bad prefix or interval");
		return false;
	}
	statsd_fd = udp_socket(collector->family);
	/* Connected, so the kernel filters stray datagrams and reports a
	 * refused port as ECONNREFUSED on a later send, which we ignore. */
	err = statsd_fd < 0 ? statsd_fd : udp_connect(statsd_fd, collector);
	if (err < 0) {
		log_msg(LOG_LEVEL_ERROR, "statsd: cannot open a socket to %s: %s", text, strerror(-err));
		statsd_fini();
		return false;
	}
	snprintf(statsd_prefix, sizeof(statsd_prefix), "%s", prefix);
	statsd_interval = interval;
	statsd_due_at = timespec_add(now, interval);
	memset(&statsd_sent, 0, sizeof(statsd_sent));
	statsd_error_logged = false;
	log_msg(LOG_LEVEL_INFO, "statsd: sending to %s every %g s", text, interval);
	return true;
}

void statsd_fini(void)
{
	if (statsd_fd >= 0)
		close(statsd_fd);
	statsd_fd = -1;
}

struct timespec statsd_next_due(struct timespec now)
{
	if (timespec_diff(statsd_due_at, now) > statsd_interval)
		statsd_due_at = timespec_add(now, statsd_interval);
	return statsd_due_at;
}

bool statsd_due(struct timespec now)
{
	return statsd_fd >= 0 && timespec_diff(now, statsd_next_due(now)) >= 0;
}

static void send_datagram(void *ctx, const char *datagram, size_t len)
{
	(void)ctx;
	if (send(statsd_fd, datagram, len, MSG_DONTWAIT | MSG_NOSIGNAL) >= 0)
		return;
	/* A collector that is down or slow costs nothing but this datagram. */
	if (errno == ECONNREFUSED || errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)
		return;
	if (!statsd_error_logged)
		log_msg(LOG_LEVEL_WARNING, "statsd: send failed: %s (logged once)", strerror(errno));
	statsd_error_logged = true;
}

void statsd_send(const struct metrics_snapshot *snap, struct timespec now)
{
	if (statsd_fd < 0)
		return;
	metrics_statsd_format(snap, statsd_prefix, &statsd_sent, send_datagram, NULL);
	statsd_due_at = timespec_add(statsd_next_due(now), statsd_interval);
	if (timespec_diff(statsd_due_at, now) <= 0)
		statsd_due_at = timespec_add(now, statsd_interval);
}
