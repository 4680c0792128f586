#include "acl.h"


void acl_from_config(const struct serve_config *cfg, struct acl *out)
{
	*out = (struct acl){ .allow_count = cfg->allow_count, .allow = cfg->allow,
			     .deny_count = cfg->deny_count, .deny = cfg->deny };
}

static bool any_contains(const struct net_prefix *prefixes, size_t count, const struct net_addr *addr)
{
	for (size_t i = 0; i < count; i++)
		if (netprefix_contains(&prefixes[i], addr))
			return true;
	return false;
}

bool acl_allows(const struct acl *acl, const struct net_addr *addr)
{
	if (addr->family != AF_INET && addr->family != AF_INET6)
		return false;
	if (any_contains(acl->deny, acl->deny_count, addr))
		return false;
	return netaddr_is_loopback(addr) || any_contains(acl->allow, acl->allow_count, addr);
}
