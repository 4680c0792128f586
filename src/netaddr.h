/* Network addresses as plain values: what the core needs to know about a peer
 * (for refids, access lists and rate limiting) without touching a socket. */
#ifndef STRATA_NETADDR_H
#define STRATA_NETADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct net_addr {
	sa_family_t family;  /* AF_INET or AF_INET6 */
	uint8_t bytes[16];   /* network order; IPv4 uses the first 4 */
	uint16_t port;       /* host order; 0 where it does not matter */
};

struct net_prefix {
	struct net_addr addr;
	unsigned bits;
};

/* Longest text netaddr_format_with_port writes: "[v6]:port" and the terminator. */
#define NETADDR_TEXT_LEN 56

bool netaddr_parse(const char *text, struct net_addr *out);
/* "1.2.3.4" or "2001:db8::1", without the port. */
void netaddr_format(const struct net_addr *addr, char *buf, size_t len);
/* "1.2.3.4:123" or "[2001:db8::1]:123". */
void netaddr_format_with_port(const struct net_addr *addr, char *buf, size_t len);
/* An IPv4-mapped IPv6 address (::ffff:a.b.c.d) becomes the IPv4 address. */
struct net_addr netaddr_unmapped(const struct net_addr *addr);
bool netaddr_equal(const struct net_addr *a, const struct net_addr *b);
bool netaddr_is_loopback(const struct net_addr *addr);

bool netaddr_from_sockaddr(const struct sockaddr *sa, socklen_t len, struct net_addr *out);
socklen_t netaddr_to_sockaddr(const struct net_addr *addr, struct sockaddr_storage *out);

/* "192.168.0.0/16", "2001:db8::/32", or a bare address (a host prefix). */
bool netprefix_parse(const char *text, struct net_prefix *out);
/* IPv4-mapped IPv6 addresses match IPv4 prefixes. */
bool netprefix_contains(const struct net_prefix *prefix, const struct net_addr *addr);

/* Splits "host", "host:port", "[v6]:port", "[v6]" or a bare IPv6 address into
 * host and port; *port is left alone when the text names none. Returns false
 * for an empty host, a bad port or a host longer than host_len - 1. */
bool netaddr_split_host_port(const char *text, char *host, size_t host_len, uint16_t *port);

#endif
