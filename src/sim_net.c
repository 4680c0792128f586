#include "sim_net.h"

#include <errno.h>
#include <netdb.h>
#include <string.h>

#include "resolver.h"
#include "udp.h"

#define SIM_NET_FIRST_FD 1000
#define SIM_NET_DATAGRAM_MAX 1024

static struct sim_net_ops net;
static int next_fd = SIM_NET_FIRST_FD;
static unsigned open_sockets;
static unsigned long socket_changes;
static unsigned long closes;

/* the one datagram waiting */
static int pending_fd = -1;
static uint8_t pending[SIM_NET_DATAGRAM_MAX];
static size_t pending_len;
static struct udp_datagram pending_info;

void sim_net_set_ops(const struct sim_net_ops *ops)
{
	net = *ops;
}

void sim_net_deliver(int fd, const uint8_t *buf, size_t len, const struct net_addr *from, struct timespec rx)
{
	pending_fd = fd;
	pending_len = len < sizeof(pending) ? len : sizeof(pending);
	memcpy(pending, buf, pending_len);
	pending_info = (struct udp_datagram){ .peer = *from, .rx_time = rx, .kernel_stamp = true };
}

unsigned sim_net_open_sockets(void)
{
	return open_sockets;
}

unsigned long sim_net_closes(void)
{
	return closes;
}

unsigned long sim_net_socket_changes(void)
{
	return socket_changes;
}

int resolver_request(struct resolver *res, unsigned tag, const char *name, uint16_t port)
{
	(void)res;
	net.lookup(net.ctx, tag, name, port);
	return 0;
}

bool resolver_numeric(const char *name, uint16_t port, struct net_addr *out)
{
	if (!netaddr_parse(name, out))
		return false;
	out->port = port;
	return true;
}

/* The NTS key exchange's blocking lookup (upstream links it): the simulator
 * has no NTS sources, so only a numeric address resolves. */
int resolver_lookup(const char *name, int family, uint16_t port, struct net_addr *addrs, size_t max,
		    size_t *count)
{
	(void)family;
	*count = 0;
	if (max == 0 || !resolver_numeric(name, port, &addrs[0]))
		return EAI_NONAME;
	*count = 1;
	return 0;
}

const char *resolver_error_str(int error)
{
	(void)error;
	return "simulated DNS failure";
}

int udp_open(const struct net_addr *local)
{
	(void)local;
	open_sockets++;
	socket_changes++;
	return next_fd++;
}

int udp_send(int fd, const void *buf, size_t len, const struct net_addr *to)
{
	net.send(net.ctx, fd, buf, len, to);
	return (int)len;
}

/* A simulated send takes no time: T1 as read is when the request left. */
int udp_sent_time(int fd, struct timespec *stamp)
{
	(void)fd;
	(void)stamp;
	return 0;
}

int udp_late_sent_time(int fd, struct timespec *newest)
{
	return udp_sent_time(fd, newest);
}

ssize_t udp_receive(int fd, void *buf, size_t len, struct udp_datagram *datagram)
{
	size_t n = pending_len < len ? pending_len : len;

	if (fd != pending_fd)
		return -EAGAIN;
	pending_fd = -1;
	memcpy(buf, pending, n);
	*datagram = pending_info;
	datagram->truncated = n < pending_len;
	return (ssize_t)n;
}

void udp_close(int fd)
{
	(void)fd;
	closes++;
	open_sockets--;
	socket_changes++;
}
