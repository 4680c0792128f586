/* UDP sockets with kernel receive timestamps: the edge between the network
 * and the core's packets. Sockets are non-blocking; callers wait with poll.
 * Only socket, fcntl, bind, connect, setsockopt, recvmsg, sendmsg and
 * clock_gettime are used, so the module also runs under clknetsim. Functions
 * return 0 (or a byte count, or a descriptor) on success and -errno on
 * failure. */
#ifndef STRATA_UDP_H
#define STRATA_UDP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>

#include "netaddr.h"

struct udp_datagram {
	struct net_addr peer;
	struct timespec rx_time;  /* CLOCK_REALTIME when the datagram arrived */
	bool kernel_stamp;        /* rx_time came from the kernel, not from clock_gettime after the receive */
	bool truncated;           /* larger than the buffer: the tail was lost */
};

/* A non-blocking, close-on-exec UDP socket of family. The flags are set with
 * fcntl, not in socket()'s type: clknetsim takes only the plain type. */
int udp_socket(int family);
/* A client socket of local->family bound to local (any address and port 0
 * for an ephemeral one), with software receive and transmit timestamps
 * requested and, for IPv6, IPV6_V6ONLY set. */
int udp_open(const struct net_addr *local);
/* A listening socket for the server: as udp_open but with receive
 * timestamps only (a datagram sent with udp_stamp_request's control
 * message comes back stamped: udp_sent_datagram), plus, for workers > 0,
 * SO_REUSEPORT (one socket per worker thread on one address) with the
 * group's datagrams steered by their source address (IPv4, or IPv6 /64),
 * so that each client always meets one worker, whatever its source port; a
 * receive buffer of rcvbuf bytes (SO_RCVBUFFORCE while privileged, else up
 * to rmem_max; 0 leaves the default), and on IPv4 the DF bit on what it
 * sends. A socket the service manager handed over for local (listenfds.h)
 * is used instead of binding one, and shared by every worker, which then
 * meet a client's datagrams in turn. */
int udp_open_server(const struct net_addr *local, unsigned workers, int rcvbuf);
/* The kernel timestamp of a datagram received with recvmsg or recvmmsg on
 * one of these sockets (or of one sent, from the error queue); false when
 * the kernel gave none. */
bool udp_rx_timestamp(struct msghdr *msg, struct timespec *stamp);
/* Fills control (len bytes at least CMSG_SPACE(sizeof(int)), aligned for
 * a cmsghdr) with the control message that asks the kernel to stamp one
 * datagram sent on a udp_open_server socket as it leaves and give it back
 * whole on the error queue; returns its length (msg_controllen), 0 when
 * len is too short. Only those datagrams cost a stamp. */
size_t udp_stamp_request(void *control, size_t len);
/* One datagram the error queue of fd gives back, into buf (truncated to
 * len): what a udp_open_server socket sent with udp_stamp_request, from
 * its link-layer header on (or the payload alone), and in *stamp the
 * kernel's time of it leaving when *stamped. Returns its length, or -errno
 * (-EAGAIN: none queued). */
ssize_t udp_sent_datagram(int fd, void *buf, size_t len, struct timespec *stamp, bool *stamped);
/* The kernel's time (CLOCK_REALTIME) of a datagram sent on an udp_open
 * socket, as it left: later than a clock read before the send by the send
 * path's own time. Call right after each send: it reads one stamp, the
 * oldest queued. Never more there: clknetsim keeps only the last send's
 * stamp, and would read anything else as a datagram. Returns 1 with *stamp
 * set, 0 when none is queued (or a message without one was), or -errno. */
int udp_sent_time(int fd, struct timespec *stamp);
/* When poll reports POLLERR on such a socket (a stamp that came late, which
 * clknetsim never reports): empties the error queue, a bounded number of
 * stamps, and returns as udp_sent_time with the newest. */
int udp_late_sent_time(int fd, struct timespec *newest);
/* Accepts datagrams only from remote and lets an ICMP error (port
 * unreachable, no route) come back as -ECONNREFUSED etc. on the next call. */
int udp_connect(int fd, const struct net_addr *remote);
/* Receives one datagram into buf; -EAGAIN when none is waiting. */
ssize_t udp_receive(int fd, void *buf, size_t len, struct udp_datagram *datagram);
/* to may be NULL on a connected socket. */
int udp_send(int fd, const void *buf, size_t len, const struct net_addr *to);
void udp_close(int fd);

#endif
