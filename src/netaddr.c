#include "netaddr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const uint8_t v4_mapped_prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

bool netaddr_parse(const char *text, struct net_addr *out)
{
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, text, out->bytes) == 1) {
		out->family = AF_INET;
		return true;
	}
	if (inet_pton(AF_INET6, text, out->bytes) == 1) {
		out->family = AF_INET6;
		return true;
	}
	return false;
}

void netaddr_format(const struct net_addr *addr, char *buf, size_t len)
{
	if (!inet_ntop(addr->family, addr->bytes, buf, (socklen_t)len))
		snprintf(buf, len, "?");
}

void netaddr_format_with_port(const struct net_addr *addr, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN];

	netaddr_format(addr, host, sizeof(host));
	if (addr->family == AF_INET6)
		snprintf(buf, len, "[%s]:%u", host, addr->port);
	else
		snprintf(buf, len, "%s:%u", host, addr->port);
}

struct net_addr netaddr_unmapped(const struct net_addr *addr)
{
	struct net_addr v4 = *addr;

	if (addr->family == AF_INET6 && memcmp(addr->bytes, v4_mapped_prefix, 12) == 0) {
		memset(v4.bytes, 0, sizeof(v4.bytes));
		memcpy(v4.bytes, addr->bytes + 12, 4);
		v4.family = AF_INET;
	}
	return v4;
}

static size_t addr_len(sa_family_t family)
{
	return family == AF_INET ? 4 : 16;
}

bool netaddr_equal(const struct net_addr *a, const struct net_addr *b)
{
	return a->family == b->family && a->port == b->port &&
	       memcmp(a->bytes, b->bytes, addr_len(a->family)) == 0;
}

bool netaddr_is_loopback(const struct net_addr *addr)
{
	static const uint8_t v6_loopback[16] = { [15] = 1 };
	struct net_addr plain = netaddr_unmapped(addr);

	if (plain.family == AF_INET)
		return plain.bytes[0] == 127;
	return memcmp(plain.bytes, v6_loopback, 16) == 0;
}

bool netaddr_from_sockaddr(const struct sockaddr *sa, socklen_t len, struct net_addr *out)
{
	memset(out, 0, sizeof(*out));
	if (sa->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;

		out->family = AF_INET;
		memcpy(out->bytes, &sin->sin_addr, 4);
		out->port = ntohs(sin->sin_port);
		return true;
	}
	if (sa->sa_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;

		out->family = AF_INET6;
		memcpy(out->bytes, &sin6->sin6_addr, 16);
		out->port = ntohs(sin6->sin6_port);
		return true;
	}
	return false;
}

socklen_t netaddr_to_sockaddr(const struct net_addr *addr, struct sockaddr_storage *out)
{
	memset(out, 0, sizeof(*out));
	if (addr->family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)out;

		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, addr->bytes, 4);
		sin->sin_port = htons(addr->port);
		return sizeof(*sin);
	}
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)out;

	sin6->sin6_family = AF_INET6;
	memcpy(&sin6->sin6_addr, addr->bytes, 16);
	sin6->sin6_port = htons(addr->port);
	return sizeof(*sin6);
}

bool netprefix_parse(const char *text, struct net_prefix *out)
{
	char host[INET6_ADDRSTRLEN];
	const char *slash = strchr(text, '/');
	size_t host_len = slash ? (size_t)(slash - text) : strlen(text);

	if (host_len == 0 || host_len >= sizeof(host))
		return false;
	memcpy(host, text, host_len);
	host[host_len] = '\0';
	if (!netaddr_parse(host, &out->addr))
		return false;

	unsigned max_bits = (unsigned)addr_len(out->addr.family) * 8;

	out->bits = max_bits;
	if (slash) {
		char *end;
		long bits = strtol(slash + 1, &end, 10);

		if (end == slash + 1 || *end != '\0' || bits < 0 || bits > (long)max_bits)
			return false;
		out->bits = (unsigned)bits;
	}
	return true;
}

static bool prefix_bits_match(const uint8_t *a, const uint8_t *b, unsigned bits)
{
	unsigned whole = bits / 8, rest = bits % 8;

	if (memcmp(a, b, whole) != 0)
		return false;
	if (rest == 0)
		return true;
	uint8_t mask = (uint8_t)(0xff << (8 - rest));

	return (a[whole] & mask) == (b[whole] & mask);
}

bool netprefix_contains(const struct net_prefix *prefix, const struct net_addr *addr)
{
	struct net_addr plain = netaddr_unmapped(addr);
	struct net_addr want = netaddr_unmapped(&prefix->addr);
	unsigned bits = prefix->bits;

	/* A prefix written as ::ffff:a.b.c.d/n is an IPv4 prefix of n - 96 bits. */
	if (want.family == AF_INET && prefix->addr.family == AF_INET6)
		bits = bits > 96 ? bits - 96 : 0;
	if (plain.family != want.family)
		return false;
	return prefix_bits_match(plain.bytes, want.bytes, bits);
}

static bool parse_port(const char *text, uint16_t *port)
{
	char *end;
	long value = strtol(text, &end, 10);

	if (end == text || *end != '\0' || value < 1 || value > 65535)
		return false;
	*port = (uint16_t)value;
	return true;
}

static bool copy_host(const char *start, size_t len, char *host, size_t host_len)
{
	if (len == 0 || len >= host_len)
		return false;
	memcpy(host, start, len);
	host[len] = '\0';
	return true;
}

bool netaddr_split_host_port(const char *text, char *host, size_t host_len, uint16_t *port)
{
	if (text[0] == '[') {
		const char *close = strchr(text, ']');

		if (!close || !copy_host(text + 1, (size_t)(close - text - 1), host, host_len))
			return false;
		if (close[1] == '\0')
			return true;
		return close[1] == ':' && parse_port(close + 2, port);
	}

	const char *colon = strchr(text, ':');

	/* Two colons or more: a bare IPv6 address, which cannot carry a port. */
	if (!colon || strchr(colon + 1, ':'))
		return copy_host(text, strlen(text), host, host_len);
	return copy_host(text, (size_t)(colon - text), host, host_len) && parse_port(colon + 1, port);
}
