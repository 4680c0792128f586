#include "cmocka_all.h"

#include <stdbool.h>
#include <string.h>

#include "acl.h"

static struct net_addr addr(const char *text)
{
	struct net_addr a;

	assert_true(netaddr_parse(text, &a));
	return a;
}

/* The lists the acl refers to: they outlive it, as the configuration's do. */
static struct net_prefix allow_list[8], deny_list[8];

static void build(struct acl *acl, const char *const *allow, const char *const *deny)
{
	struct serve_config cfg;

	memset(&cfg, 0, sizeof(cfg));
	cfg.allow = allow_list;
	cfg.deny = deny_list;
	for (; allow && *allow; allow++)
		assert_true(netprefix_parse(*allow, &cfg.allow[cfg.allow_count++]));
	for (; deny && *deny; deny++)
		assert_true(netprefix_parse(*deny, &cfg.deny[cfg.deny_count++]));
	acl_from_config(&cfg, acl);
}

static bool allows(const struct acl *acl, const char *text)
{
	struct net_addr a = addr(text);

	return acl_allows(acl, &a);
}

static void empty_lists_allow_only_loopback(void **state)
{
	(void)state;
	struct acl acl;

	build(&acl, NULL, NULL);
	assert_true(allows(&acl, "127.0.0.1"));
	assert_true(allows(&acl, "127.45.6.7"));
	assert_true(allows(&acl, "::1"));
	assert_true(allows(&acl, "::ffff:127.0.0.1"));
	assert_false(allows(&acl, "192.0.2.1"));
	assert_false(allows(&acl, "2001:db8::1"));
	assert_false(allows(&acl, "::ffff:192.0.2.1"));
	assert_false(allows(&acl, "::2"));
}

static void ipv4_prefixes(void **state)
{
	(void)state;
	static const char *const allow[] = { "192.168.0.0/16", "10.1.2.3", NULL };
	static const char *const deny[] = { "192.168.66.0/24", NULL };
	struct acl acl;

	build(&acl, allow, deny);
	assert_true(allows(&acl, "192.168.0.1"));
	assert_true(allows(&acl, "192.168.255.254"));
	assert_false(allows(&acl, "192.168.66.7"));
	assert_false(allows(&acl, "192.169.0.1"));
	assert_true(allows(&acl, "10.1.2.3"));
	assert_false(allows(&acl, "10.1.2.4"));
	/* IPv4 clients seen through a dual-stack socket */
	assert_true(allows(&acl, "::ffff:192.168.1.1"));
	assert_false(allows(&acl, "::ffff:192.168.66.1"));
	assert_false(allows(&acl, "::ffff:10.1.2.4"));
}

static void ipv6_prefixes(void **state)
{
	(void)state;
	static const char *const allow[] = { "2001:db8::/32", NULL };
	static const char *const deny[] = { "2001:db8:bad::/48", NULL };
	struct acl acl;

	build(&acl, allow, deny);
	assert_true(allows(&acl, "2001:db8::1"));
	assert_true(allows(&acl, "2001:db8:ffff::1"));
	assert_false(allows(&acl, "2001:db8:bad::1"));
	assert_false(allows(&acl, "2001:db9::1"));
	/* an IPv6 prefix says nothing about IPv4 clients */
	assert_false(allows(&acl, "192.0.2.1"));
	assert_false(allows(&acl, "::ffff:192.0.2.1"));
}

static void mapped_prefixes_cover_ipv4(void **state)
{
	(void)state;
	static const char *const allow[] = { "::ffff:198.51.100.0/120", NULL };
	static const char *const deny[] = { "::ffff:198.51.100.128/121", NULL };
	struct acl acl;

	build(&acl, allow, deny);
	assert_true(allows(&acl, "198.51.100.1"));
	assert_true(allows(&acl, "::ffff:198.51.100.2"));
	assert_false(allows(&acl, "198.51.100.200"));
	assert_false(allows(&acl, "198.51.101.1"));
}

static void deny_wins_even_over_loopback(void **state)
{
	(void)state;
	static const char *const allow[] = { "0.0.0.0/0", "::/0", NULL };
	static const char *const deny[] = { "127.0.0.2", "::1", NULL };
	struct acl acl;

	build(&acl, allow, deny);
	assert_true(allows(&acl, "203.0.113.9"));
	assert_true(allows(&acl, "2001:db8::9"));
	assert_true(allows(&acl, "127.0.0.1"));
	assert_false(allows(&acl, "127.0.0.2"));
	assert_false(allows(&acl, "::ffff:127.0.0.2"));
	assert_false(allows(&acl, "::1"));
}

static void unknown_family_is_refused(void **state)
{
	(void)state;
	static const char *const allow[] = { "0.0.0.0/0", NULL };
	struct acl acl;
	struct net_addr odd = { .family = AF_UNIX };

	build(&acl, allow, NULL);
	assert_false(acl_allows(&acl, &odd));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(empty_lists_allow_only_loopback),
		cmocka_unit_test(ipv4_prefixes),
		cmocka_unit_test(ipv6_prefixes),
		cmocka_unit_test(mapped_prefixes_cover_ipv4),
		cmocka_unit_test(deny_wins_even_over_loopback),
		cmocka_unit_test(unknown_family_is_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
