#include "loop.h"

#include <string.h>

#include "refid.h"

static bool is_wildcard(const struct net_addr *a)
{
	static const uint8_t zero[16];

	return !memcmp(a->bytes, zero, a->family == AF_INET ? 4 : 16);
}

static bool is_loopback(const struct net_addr *a)
{
	static const uint8_t v6_loopback[16] = { [15] = 1 };

	return a->family == AF_INET ? a->bytes[0] == 127 : !memcmp(a->bytes, v6_loopback, 16);
}

static bool same_host(const struct net_addr *a, const struct net_addr *b)
{
	return a->family == b->family && !memcmp(a->bytes, b->bytes, a->family == AF_INET ? 4 : 16);
}

static bool is_local(const struct loop_self *self, const struct net_addr *a)
{
	if (is_loopback(a))
		return true;
	for (size_t i = 0; i < self->local_count; i++)
		if (same_host(&self->local[i], a))
			return true;
	return false;
}

bool loop_is_self(const struct loop_self *self, const struct net_addr *source)
{
	struct net_addr s = netaddr_unmapped(source);

	for (size_t i = 0; i < self->listen_count; i++) {
		const struct net_addr *l = &self->listen[i];

		if (l->family != s.family || l->port != s.port)
			continue;
		if (is_wildcard(l) ? is_local(self, &s) : same_host(l, &s))
			return true;
	}
	return false;
}

static size_t add_refid(uint32_t *out, size_t n, size_t max, const struct net_addr *a)
{
	uint32_t r = refid_from_addr(a);

	if (is_wildcard(a) || n == max)
		return n;
	for (size_t i = 0; i < n; i++)
		if (out[i] == r)
			return n;
	out[n] = r;
	return n + 1;
}

size_t loop_own_refids(const struct loop_self *self, uint32_t *out, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < self->listen_count; i++)
		n = add_refid(out, n, max, &self->listen[i]);
	for (size_t i = 0; i < self->local_count; i++)
		n = add_refid(out, n, max, &self->local[i]);
	return n;
}

bool loop_refid_is_ours(unsigned stratum, uint32_t refid, const uint32_t *own, size_t count)
{
	if (stratum < 2 || stratum > 15)
		return false;
	for (size_t i = 0; i < count; i++)
		if (own[i] == refid)
			return true;
	return false;
}
