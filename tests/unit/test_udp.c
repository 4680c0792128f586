#include "cmocka_all.h"

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "byteorder.h"
#include "ntp_time.h"
#include "packet.h"
#include "serve_stamps.h"
#include "udp.h"

/* Real sockets on loopback only: a datagram must come back with its sender
 * and a kernel timestamp close to the local clock. */
static struct net_addr loopback(sa_family_t family)
{
	struct net_addr a = { .family = family };

	if (family == AF_INET)
		a.bytes[0] = 127, a.bytes[3] = 1;
	else
		a.bytes[15] = 1;
	return a;
}

static uint16_t local_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	struct net_addr a;

	assert_int_equal(getsockname(fd, (struct sockaddr *)&ss, &len), 0);
	assert_true(netaddr_from_sockaddr((struct sockaddr *)&ss, len, &a));
	return a.port;
}

static void exchange(sa_family_t family, bool connected)
{
	struct net_addr any = loopback(family);
	int server = udp_open(&any);
	int client = udp_open(&any);
	struct net_addr to = loopback(family);
	struct udp_datagram d;
	struct timespec before, after;
	char buf[64];
	struct pollfd pfd = { .fd = server, .events = POLLIN };

	if (family == AF_INET6 && (server == -EAFNOSUPPORT || server == -EADDRNOTAVAIL))
		skip();
	assert_true(server >= 0);
	assert_true(client >= 0);
	assert_int_equal(udp_receive(server, buf, sizeof(buf), &d), -EAGAIN);

	to.port = local_port(server);
	clock_gettime(CLOCK_REALTIME, &before);
	if (connected) {
		assert_int_equal(udp_connect(client, &to), 0);
		assert_int_equal(udp_send(client, "hello", 5, NULL), 0);
	} else {
		assert_int_equal(udp_send(client, "hello", 5, &to), 0);
	}
	assert_int_equal(poll(&pfd, 1, 1000), 1);
	assert_int_equal(udp_receive(server, buf, sizeof(buf), &d), 5);
	clock_gettime(CLOCK_REALTIME, &after);
	assert_memory_equal(buf, "hello", 5);
	assert_int_equal(d.peer.family, family);
	assert_int_equal(d.peer.port, local_port(client));
	assert_true(d.kernel_stamp);
	assert_false(d.truncated);
	assert_true(timespec_diff(d.rx_time, before) >= 0.0);
	assert_true(timespec_diff(after, d.rx_time) >= 0.0);

	/* Too big for the buffer: reported, not silently cut. */
	assert_int_equal(udp_send(client, "0123456789", 10, connected ? NULL : &to), 0);
	assert_int_equal(poll(&pfd, 1, 1000), 1);
	assert_int_equal(udp_receive(server, buf, 4, &d), 4);
	assert_true(d.truncated);
	udp_close(server);
	udp_close(client);
}

static void ipv4_round_trip(void **state)
{
	(void)state;
	exchange(AF_INET, false);
}

static void ipv6_round_trip(void **state)
{
	(void)state;
	exchange(AF_INET6, false);
}

static void connected_round_trip(void **state)
{
	(void)state;
	exchange(AF_INET, true);
}

static void connected_socket_hears_port_unreachable(void **state)
{
	(void)state;
	struct net_addr any = loopback(AF_INET);
	int closed = udp_open(&any);
	int client = udp_open(&any);
	struct net_addr to = loopback(AF_INET);
	struct udp_datagram d;
	struct pollfd pfd = { .fd = client, .events = POLLIN };
	char buf[8];

	to.port = local_port(closed);
	udp_close(closed);
	assert_int_equal(udp_connect(client, &to), 0);
	assert_int_equal(udp_send(client, "x", 1, NULL), 0);
	assert_int_equal(poll(&pfd, 1, 1000), 1);
	assert_int_equal(udp_receive(client, buf, sizeof(buf), &d), -ECONNREFUSED);
	udp_close(client);
}

/* A client socket learns when each request left, from the kernel: after the
 * clock read before the send, before the receiver's own stamp, once. */
static void client_socket_stamps_what_it_sends(void **state)
{
	(void)state;
	struct net_addr any = loopback(AF_INET);
	int server = udp_open(&any);
	int client = udp_open(&any);
	struct net_addr to = loopback(AF_INET);
	struct timespec before, after, sent, unchanged = { 1, 2 };
	struct udp_datagram d;
	struct pollfd pfd = { .fd = server, .events = POLLIN };
	char buf[8];

	assert_true(server >= 0 && client >= 0);
	to.port = local_port(server);
	assert_int_equal(udp_sent_time(client, &sent), 0); /* nothing sent yet */
	for (int i = 0; i < 3; i++) {
		clock_gettime(CLOCK_REALTIME, &before);
		assert_int_equal(udp_send(client, "x", 1, &to), 0);
		clock_gettime(CLOCK_REALTIME, &after);
		assert_int_equal(udp_sent_time(client, &sent), 1);
		assert_true(timespec_diff(sent, before) >= 0.0);
		assert_true(timespec_diff(after, sent) >= 0.0);
		assert_int_equal(poll(&pfd, 1, 1000), 1);
		assert_int_equal(udp_receive(server, buf, sizeof(buf), &d), 1);
		assert_true(timespec_diff(d.rx_time, sent) >= 0.0);
		sent = unchanged;
		assert_int_equal(udp_sent_time(client, &sent), 0); /* taken: the queue is empty */
		assert_int_equal(sent.tv_sec, 1);
	}
	/* one per call, the oldest first */
	assert_int_equal(udp_send(client, "x", 1, &to), 0);
	clock_gettime(CLOCK_REALTIME, &before);
	assert_int_equal(udp_send(client, "x", 1, &to), 0);
	assert_int_equal(udp_sent_time(client, &sent), 1);
	assert_true(timespec_diff(sent, before) < 0.0);
	assert_int_equal(udp_sent_time(client, &sent), 1);
	assert_true(timespec_diff(sent, before) >= 0.0);
	assert_int_equal(udp_sent_time(client, &sent), 0);
	/* late ones (POLLERR): all taken, the newest kept */
	assert_int_equal(udp_send(client, "x", 1, &to), 0);
	clock_gettime(CLOCK_REALTIME, &before);
	assert_int_equal(udp_send(client, "x", 1, &to), 0);
	assert_int_equal(udp_late_sent_time(client, &sent), 1);
	assert_true(timespec_diff(sent, before) >= 0.0);
	assert_int_equal(udp_late_sent_time(client, &sent), 0);
	udp_close(server);
	udp_close(client);
}

/* A server's answer sent with udp_stamp_request comes back from the error
 * queue whole, from the link-layer header on, with the kernel's stamp of
 * it leaving: what interleaved mode finds it by (serve_stamps_answer_rx).
 * One sent without it does not. */
static void server_socket_gives_back_what_it_sent(void **state)
{
	(void)state;
	for (int family = AF_INET; family; family = family == AF_INET ? AF_INET6 : 0) {
		struct net_addr local = loopback(family);
		int server = udp_open_server(&local, 0, 0);
		int client = udp_open(&local);
		struct net_addr to = loopback(family);
		uint8_t answer[NTP_HEADER_LEN] = { 0x24 }, frame[256];
		struct timespec before, after, stamp;
		ntp_ts rx = 0x0123456789abcdefu, found = 0;
		bool stamped = false;
		ssize_t n;

		if (server < 0 && family == AF_INET6)
			break; /* no IPv6 on this host */
		assert_true(server >= 0 && client >= 0);
		store_be64(answer + 32, rx);
		to.port = local_port(client);
		/* without the request: nothing comes back */
		assert_int_equal(udp_send(server, answer, sizeof(answer), &to), 0);
		assert_int_equal(udp_sent_datagram(server, frame, sizeof(frame), &stamp, &stamped), -EAGAIN);

		struct sockaddr_storage ss;
		struct iovec iov = { answer, sizeof(answer) };
		union {
			uint8_t buf[32];
			struct cmsghdr align;
		} control;
		struct msghdr msg = { .msg_name = &ss, .msg_namelen = netaddr_to_sockaddr(&to, &ss),
				      .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf };

		msg.msg_controllen = udp_stamp_request(control.buf, sizeof(control.buf));
		assert_true(msg.msg_controllen > 0);
		clock_gettime(CLOCK_REALTIME, &before);
		assert_int_equal(sendmsg(server, &msg, 0), (ssize_t)sizeof(answer));
		clock_gettime(CLOCK_REALTIME, &after);
		n = udp_sent_datagram(server, frame, sizeof(frame), &stamp, &stamped);
		assert_true(n > (ssize_t)sizeof(answer));
		assert_memory_equal(frame + n - (ssize_t)sizeof(answer), answer, sizeof(answer));
		assert_true(stamped);
		assert_true(timespec_diff(stamp, before) >= 0.0 && timespec_diff(after, stamp) >= 0.0);
		assert_true(serve_stamps_answer_rx(frame, (size_t)n, &found));
		assert_true(found == rx);
		assert_int_equal(udp_sent_datagram(server, frame, sizeof(frame), &stamp, &stamped), -EAGAIN);
		udp_close(server);
		udp_close(client);
	}
}

static void rejects_unknown_family(void **state)
{
	(void)state;
	struct net_addr bad = { .family = AF_UNIX };

	assert_int_equal(udp_open(&bad), -EAFNOSUPPORT);
}

/* The server's IPv4 socket sends with DF and without path MTU discovery
 * (so the kernel skips its IP ID generator), and still delivers. */
static void server_socket_sends_dont_fragment(void **state)
{
	(void)state;
	struct net_addr any = loopback(AF_INET);
	int server = udp_open_server(&any, 0, 0);
	int client = udp_open(&any);
	int mode = -1;
	socklen_t len = sizeof(mode);
	struct net_addr to = loopback(AF_INET);
	struct pollfd pfd = { .fd = client, .events = POLLIN };
	struct udp_datagram d;
	char buf[64] = { 0 };

	assert_true(server >= 0);
	assert_true(client >= 0);
	assert_int_equal(getsockopt(server, IPPROTO_IP, IP_MTU_DISCOVER, &mode, &len), 0);
	assert_int_equal(mode, IP_PMTUDISC_PROBE);
	to.port = local_port(client);
	assert_int_equal(udp_send(server, buf, 48, &to), 0);
	assert_int_equal(poll(&pfd, 1, 1000), 1);
	assert_int_equal(udp_receive(client, buf, sizeof(buf), &d), 48);
	assert_int_equal(d.peer.port, local_port(server));
	udp_close(server);
	udp_close(client);
}

/* Which of the group's sockets got a datagram from each of the senders, in
 * order (-1: none in time). */
static void landings(int *group, size_t workers, const int *senders, size_t count, uint16_t port,
		     sa_family_t family, int *landed)
{
	struct net_addr to = loopback(family);

	to.port = port;
	for (size_t i = 0; i < count; i++) {
		struct pollfd pfd[4];
		struct udp_datagram d;
		char buf[8];

		assert_int_equal(udp_send(senders[i], "x", 1, &to), 0);
		landed[i] = -1;
		for (size_t w = 0; w < workers; w++)
			pfd[w] = (struct pollfd){ .fd = group[w], .events = POLLIN };
		assert_true(poll(pfd, workers, 1000) >= 1);
		for (size_t w = 0; w < workers; w++)
			if (udp_receive(group[w], buf, sizeof(buf), &d) == 1)
				landed[i] = (int)w;
	}
}

/* serve.threads: a client that sends each request from a new port (as
 * chrony and ntpdate do) meets one worker, so one rate limiter, every time;
 * different clients are spread over the workers. */
static void steers_each_source_to_one_worker(sa_family_t family)
{
	enum { WORKERS = 3, PORTS = 24, SOURCES = 24 };
	struct net_addr at = loopback(family);
	int group[WORKERS], senders[PORTS > SOURCES ? PORTS : SOURCES], landed[PORTS > SOURCES ? PORTS : SOURCES];
	bool used[WORKERS] = { false };
	size_t spread = 0;

	group[0] = udp_open_server(&at, WORKERS, 0);
	if (family == AF_INET6 && (group[0] == -EAFNOSUPPORT || group[0] == -EADDRNOTAVAIL))
		skip();
	assert_true(group[0] >= 0);
	at.port = local_port(group[0]);
	for (size_t w = 1; w < WORKERS; w++) {
		group[w] = udp_open_server(&at, WORKERS, 0);
		assert_true(group[w] >= 0);
	}

	/* one address, a new port each time */
	for (size_t i = 0; i < PORTS; i++) {
		struct net_addr from = loopback(family);

		senders[i] = udp_open(&from);
		assert_true(senders[i] >= 0);
	}
	landings(group, WORKERS, senders, PORTS, at.port, family, landed);
	for (size_t i = 0; i < PORTS; i++) {
		assert_true(landed[i] >= 0);
		assert_int_equal(landed[i], landed[0]);
		udp_close(senders[i]);
	}

	/* different addresses: IPv4 only, as loopback has one IPv6 address */
	if (family == AF_INET) {
		for (size_t i = 0; i < SOURCES; i++) {
			struct net_addr from = loopback(family);

			from.bytes[3] = (uint8_t)(10 + i);
			senders[i] = udp_open(&from);
			assert_true(senders[i] >= 0);
		}
		landings(group, WORKERS, senders, SOURCES, at.port, family, landed);
		for (size_t i = 0; i < SOURCES; i++) {
			assert_true(landed[i] >= 0);
			used[landed[i]] = true;
			udp_close(senders[i]);
		}
		for (size_t w = 0; w < WORKERS; w++)
			spread += used[w];
		assert_int_equal(spread, WORKERS);
	}
	for (size_t w = 0; w < WORKERS; w++)
		udp_close(group[w]);
}

static void steers_ipv4_sources(void **state)
{
	(void)state;
	steers_each_source_to_one_worker(AF_INET);
}

static void steers_ipv6_sources(void **state)
{
	(void)state;
	steers_each_source_to_one_worker(AF_INET6);
}

/* The kernel turns software receive stamps on for the whole system only
 * after the first socket asks, from a workqueue: datagrams that come in
 * sooner carry none. One socket that asks, held for the whole group and
 * waited on (bounded) until its datagrams come stamped, keeps that start-up
 * out of the tests. */
static int stamping_holder = -1;

static int hold_stamping_on(void **state)
{
	struct net_addr any = loopback(AF_INET);
	struct udp_datagram d = { 0 };
	struct pollfd pfd;
	char buf[8];

	(void)state;
	stamping_holder = udp_open(&any);
	if (stamping_holder < 0)
		return -1;
	any.port = local_port(stamping_holder);
	pfd = (struct pollfd){ .fd = stamping_holder, .events = POLLIN };
	for (int i = 0; i < 200 && !d.kernel_stamp; i++) {
		if (udp_send(stamping_holder, "w", 1, &any) < 0 || poll(&pfd, 1, 1000) != 1 ||
		    udp_receive(stamping_holder, buf, sizeof(buf), &d) != 1)
			return -1;
		if (!d.kernel_stamp)
			usleep(10000);
	}
	return d.kernel_stamp ? 0 : -1;
}

static int release_stamping(void **state)
{
	(void)state;
	udp_close(stamping_holder);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ipv4_round_trip),
		cmocka_unit_test(ipv6_round_trip),
		cmocka_unit_test(connected_round_trip),
		cmocka_unit_test(connected_socket_hears_port_unreachable),
		cmocka_unit_test(client_socket_stamps_what_it_sends),
		cmocka_unit_test(server_socket_gives_back_what_it_sent),
		cmocka_unit_test(rejects_unknown_family),
		cmocka_unit_test(server_socket_sends_dont_fragment),
		cmocka_unit_test(steers_ipv4_sources),
		cmocka_unit_test(steers_ipv6_sources),
	};
	return cmocka_run_group_tests(tests, hold_stamping_on, release_stamping);
}
