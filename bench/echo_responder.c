/* The ceiling for bench/serve: a UDP responder that does no NTP work. It is
 * batched like stratad (recvmmsg, sendmmsg, 64 at a time, a 4 MiB receive
 * buffer, DF without path MTU discovery) and turns each request into the smallest valid-looking answer the
 * load generator accepts (mode 4, origin = the request's transmit), so the
 * difference between it and a real server is the cost of the NTP work.
 *   echo_responder ADDRESS PORT            runs until killed */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define BATCH 64
#define LEN 1024

int main(int argc, char **argv)
{
	static uint8_t bufs[BATCH][LEN];
	static struct sockaddr_in peers[BATCH];
	struct mmsghdr in[BATCH], out[BATCH];
	struct iovec in_iov[BATCH], out_iov[BATCH];
	struct sockaddr_in local = { .sin_family = AF_INET };
	int rcvbuf = 4 << 20, probe = IP_PMTUDISC_PROBE;
	int fd;
	bool full;

	if (argc < 3 || argc > 4 || inet_pton(AF_INET, argv[1], &local.sin_addr) != 1 ||
	    (argc == 4 && strcmp(argv[3], "full") != 0)) {
		fprintf(stderr, "usage: echo_responder IPV4-ADDRESS PORT [full]\n");
		return 2;
	}
	full = argc == 4;
	local.sin_port = htons((uint16_t)atoi(argv[2]));
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)) < 0 ||
	    setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &probe, sizeof(probe)) < 0 ||
	    bind(fd, (struct sockaddr *)&local, sizeof(local)) < 0) {
		perror("echo_responder");
		return 1;
	}
	for (int i = 0; i < BATCH; i++) {
		in_iov[i] = (struct iovec){ bufs[i], LEN };
		out_iov[i] = (struct iovec){ bufs[i], 48 };
	}
	for (;;) {
		int n, m = 0;

		for (int i = 0; i < BATCH; i++)
			in[i].msg_hdr = (struct msghdr){ .msg_name = &peers[i], .msg_namelen = sizeof(peers[i]),
							 .msg_iov = &in_iov[i], .msg_iovlen = 1 };
		n = recvmmsg(fd, in, BATCH, MSG_WAITFORONE, NULL);
		if (n < 0)
			continue;
		for (int i = 0; i < n; i++) {
			if (in[i].msg_len < 48)
				continue;
			bufs[i][0] = (uint8_t)((bufs[i][0] & 0x38) | 4);
			memcpy(bufs[i] + 24, bufs[i] + 40, 8);
			out_iov[i].iov_len = full ? in[i].msg_len : 48;
			out[m].msg_hdr = (struct msghdr){ .msg_name = &peers[i], .msg_namelen = in[i].msg_hdr.msg_namelen,
							  .msg_iov = &out_iov[i], .msg_iovlen = 1 };
			m++;
		}
		for (int sent = 0; sent < m;) {
			int k = sendmmsg(fd, out + sent, (unsigned)(m - sent), 0);

			sent += k > 0 ? k : 1;
		}
	}
}
