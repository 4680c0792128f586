#include "udp.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/net_tstamp.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "listenfds.h"
#include "log.h"

/* SO_TIMESTAMPING carries three timespecs: software, (deprecated), hardware. */
struct udp_timestamps {
	struct timespec ts[3];
};

/* Stamps udp_late_sent_time reads at most. */
#define LATE_STAMPS_MAX 8

static int enable_timestamps(int fd, int flags)
{
	flags |= SOF_TIMESTAMPING_RX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE;
	if (setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPING, &flags, sizeof(flags)) < 0)
		return -errno;
	return 0;
}

int udp_socket(int family)
{
	int fd = socket(family, SOCK_DGRAM, IPPROTO_UDP);

	if (fd < 0)
		return -errno;
	if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0 || fcntl(fd, F_SETFL, O_NONBLOCK) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

/* What a socket needs whether bound here or handed over by the service manager. */
static void set_receive_options(int fd, int rcvbuf)
{
	int err;

	if (rcvbuf > 0 && setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) < 0 &&
	    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)) < 0)
		log_msg(LOG_LEVEL_DEBUG, "receive buffer of %d bytes: %s", rcvbuf, strerror(errno));
	/* Without kernel stamps udp_receive falls back to the clock right after
	 * the receive: worse, but still working (and said under debug). */
	err = enable_timestamps(fd, 0);
	if (err < 0)
		log_msg(LOG_LEVEL_DEBUG, "no kernel receive timestamps: %s", strerror(-err));
}

/* Steers each datagram to socket (hash of its source) % workers of the
 * SO_REUSEPORT group, where the kernel's own choice hashes the source port
 * too: a client that sends each request from a new port (chrony and ntpdate
 * do) would meet every worker, and each worker's rate limiter would let its
 * own burst through. The source is what the rate limiter keys on: an IPv4
 * address, or the /64 of an IPv6 one. The program sees the datagram from its
 * UDP payload on; SKF_NET_OFF reaches back into the IP header. */
static int steer_by_source(int fd, int family, unsigned workers)
{
	/* the upper half of a product by an odd constant mixes every bit of the
	 * address, where the modulus alone would see only the low ones */
	struct sock_filter v4[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, (uint32_t)SKF_NET_OFF + 12), /* source address */
		BPF_STMT(BPF_ALU | BPF_MUL | BPF_K, 0x9e3779b1),
		BPF_STMT(BPF_ALU | BPF_RSH | BPF_K, 16),
		BPF_STMT(BPF_ALU | BPF_MOD | BPF_K, workers),
		BPF_STMT(BPF_RET | BPF_A, 0),
	};
	struct sock_filter v6[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, (uint32_t)SKF_NET_OFF + 8), /* the source's /64 */
		BPF_STMT(BPF_MISC | BPF_TAX, 0),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, (uint32_t)SKF_NET_OFF + 12),
		BPF_STMT(BPF_ALU | BPF_XOR | BPF_X, 0),
		BPF_STMT(BPF_ALU | BPF_MUL | BPF_K, 0x9e3779b1),
		BPF_STMT(BPF_ALU | BPF_RSH | BPF_K, 16),
		BPF_STMT(BPF_ALU | BPF_MOD | BPF_K, workers),
		BPF_STMT(BPF_RET | BPF_A, 0),
	};
	struct sock_fprog prog = family == AF_INET ? (struct sock_fprog){ sizeof(v4) / sizeof(v4[0]), v4 }
						   : (struct sock_fprog){ sizeof(v6) / sizeof(v6[0]), v6 };

	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &prog, sizeof(prog)) < 0)
		return -errno;
	return 0;
}

static int open_bound(const struct net_addr *local, unsigned workers, int rcvbuf)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int one = 1;
	int fd, err;

	if (local->family != AF_INET && local->family != AF_INET6)
		return -EAFNOSUPPORT;
	len = netaddr_to_sockaddr(local, &ss);
	fd = udp_socket(local->family);
	if (fd < 0)
		return fd;
	if (local->family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0)
		goto fail;
	if (workers > 0 && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0)
		goto fail;
	set_receive_options(fd, rcvbuf);
	if (bind(fd, (struct sockaddr *)&ss, len) < 0)
		goto fail;
	/* after bind: before it the program would key a group of its own, which
	 * joining the address's group discards */
	if (workers > 0) {
		err = steer_by_source(fd, local->family, workers);
		if (err < 0) {
			close(fd);
			return err;
		}
	}
	return fd;
fail:
	err = -errno;
	close(fd);
	return err;
}

int udp_open(const struct net_addr *local)
{
	int fd = open_bound(local, 0, 0);
	int err;

	/* the stamp alone comes back (TSONLY), not a copy of the request */
	if (fd >= 0 && (err = enable_timestamps(fd, SOF_TIMESTAMPING_TX_SOFTWARE | SOF_TIMESTAMPING_OPT_TSONLY)) < 0)
		log_msg(LOG_LEVEL_DEBUG, "no kernel transmit timestamps: %s", strerror(-err));
	return fd;
}

int udp_open_server(const struct net_addr *local, unsigned workers, int rcvbuf)
{
	/* Don't-fragment on IPv4 replies, without path MTU discovery: an answer
	 * is a bare 48-byte header that never needs fragmenting, and with DF
	 * set the kernel gives the datagram ID 0 instead of drawing one from
	 * its shared, hashed ID generator, which was 4 % of the CPU time per
	 * answer under bench/serve. */
	int probe = IP_PMTUDISC_PROBE;
	/* A socket from the service manager needs no privilege for port 123;
	 * shared by the serving threads, as it cannot be SO_REUSEPORT. */
	int fd = listenfds_take(local);

	if (fd >= 0)
		set_receive_options(fd, rcvbuf);
	else
		fd = open_bound(local, workers, rcvbuf);

	if (fd >= 0 && local->family == AF_INET &&
	    setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &probe, sizeof(probe)) < 0)
		log_msg(LOG_LEVEL_DEBUG, "no DF on replies: %s", strerror(errno));
	return fd;
}

int udp_connect(int fd, const struct net_addr *remote)
{
	struct sockaddr_storage ss;
	socklen_t len = netaddr_to_sockaddr(remote, &ss);

	if (connect(fd, (struct sockaddr *)&ss, len) < 0)
		return -errno;
	return 0;
}

bool udp_rx_timestamp(struct msghdr *msg, struct timespec *stamp)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(msg); c; c = CMSG_NXTHDR(msg, c)) {
		struct udp_timestamps ts;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_TIMESTAMPING ||
		    c->cmsg_len < CMSG_LEN(sizeof(ts)))
			continue;
		memcpy(&ts, CMSG_DATA(c), sizeof(ts));
		if (ts.ts[0].tv_sec == 0 && ts.ts[0].tv_nsec == 0)
			continue;
		*stamp = ts.ts[0];
		return true;
	}
	return false;
}

size_t udp_stamp_request(void *control, size_t len)
{
	int flags = SOF_TIMESTAMPING_TX_SOFTWARE;
	struct cmsghdr *c = control;

	if (len < CMSG_SPACE(sizeof(flags)))
		return 0;
	memset(control, 0, CMSG_SPACE(sizeof(flags)));
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SO_TIMESTAMPING;
	c->cmsg_len = CMSG_LEN(sizeof(flags));
	memcpy(CMSG_DATA(c), &flags, sizeof(flags));
	return CMSG_SPACE(sizeof(flags));
}

ssize_t udp_sent_datagram(int fd, void *buf, size_t len, struct timespec *stamp, bool *stamped)
{
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	union {
		char buf[CMSG_SPACE(sizeof(struct udp_timestamps)) + 128];
		struct cmsghdr align;
	} control;
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = control.buf, .msg_controllen = sizeof(control.buf),
	};
	ssize_t n = recvmsg(fd, &msg, MSG_ERRQUEUE | MSG_DONTWAIT);

	if (n < 0)
		return -errno;
	*stamped = udp_rx_timestamp(&msg, stamp);
	return n;
}

int udp_sent_time(int fd, struct timespec *stamp)
{
	/* clknetsim returns the datagram in a frame, the kernel nothing */
	uint8_t data[64];
	bool stamped;
	ssize_t n = udp_sent_datagram(fd, data, sizeof(data), stamp, &stamped);

	if (n < 0)
		return n == -EAGAIN || n == -EWOULDBLOCK ? 0 : (int)n;
	return stamped ? 1 : 0;
}

int udp_late_sent_time(int fd, struct timespec *newest)
{
	int found = 0, got = 1;

	/* a client sends one request a poll: more would be another program's doing */
	for (int i = 0; i < LATE_STAMPS_MAX && got != 0; i++) {
		got = udp_sent_time(fd, newest);
		if (got < 0)
			return found ? found : got;
		found |= got;
	}
	return found;
}

ssize_t udp_receive(int fd, void *buf, size_t len, struct udp_datagram *datagram)
{
	struct sockaddr_storage from;
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	union {
		char buf[CMSG_SPACE(sizeof(struct udp_timestamps)) + 64];
		struct cmsghdr align;
	} control;
	struct msghdr msg = {
		.msg_name = &from, .msg_namelen = sizeof(from),
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = control.buf, .msg_controllen = sizeof(control.buf),
	};
	ssize_t n = recvmsg(fd, &msg, MSG_DONTWAIT);

	if (n < 0)
		return -errno;
	memset(datagram, 0, sizeof(*datagram));
	datagram->kernel_stamp = udp_rx_timestamp(&msg, &datagram->rx_time);
	if (!datagram->kernel_stamp)
		clock_gettime(CLOCK_REALTIME, &datagram->rx_time);
	datagram->truncated = (msg.msg_flags & MSG_TRUNC) != 0;
	if (!netaddr_from_sockaddr((struct sockaddr *)&from, msg.msg_namelen, &datagram->peer))
		datagram->peer.family = AF_UNSPEC;
	return n;
}

int udp_send(int fd, const void *buf, size_t len, const struct net_addr *to)
{
	struct sockaddr_storage ss;
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;

	if (to) {
		msg.msg_namelen = netaddr_to_sockaddr(to, &ss);
		msg.msg_name = &ss;
	}
	n = sendmsg(fd, &msg, 0);
	if (n < 0)
		return -errno;
	if ((size_t)n != len)
		return -EMSGSIZE;
	return 0;
}

void udp_close(int fd)
{
	if (fd >= 0)
		close(fd);
}
