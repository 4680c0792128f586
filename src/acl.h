/* Who may ask us for time: allow and deny lists of CIDR prefixes (IPv4 and
 * IPv6). Denied unless allowed; loopback is allowed unless denied; a deny
 * entry wins over an allow entry. IPv4-mapped IPv6 addresses (::ffff:a.b.c.d,
 * as a dual-stack socket reports IPv4 clients) are judged as the IPv4
 * address. Pure. */
#ifndef STRATA_ACL_H
#define STRATA_ACL_H

#include <stdbool.h>
#include <stddef.h>

#include "netaddr.h"
#include "serve_config.h"

struct acl {
	size_t allow_count;
	const struct net_prefix *allow;
	size_t deny_count;
	const struct net_prefix *deny;
};

/* Refers to the lists of a serve configuration (no copy: they must outlive
 * the acl, and the core allocates nothing here). */
void acl_from_config(const struct serve_config *cfg, struct acl *out);
bool acl_allows(const struct acl *acl, const struct net_addr *addr);

#endif
