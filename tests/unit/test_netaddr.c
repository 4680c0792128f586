#include "cmocka_all.h"

#include <string.h>

#include "netaddr.h"

static struct net_addr addr(const char *text)
{
	struct net_addr a;

	assert_true(netaddr_parse(text, &a));
	return a;
}

static struct net_prefix prefix(const char *text)
{
	struct net_prefix p;

	assert_true(netprefix_parse(text, &p));
	return p;
}

static void parses_and_formats_both_families(void **state)
{
	(void)state;
	char buf[NETADDR_TEXT_LEN];
	struct net_addr a = addr("192.0.2.7");
	struct net_addr b = addr("2001:db8::1");

	a.port = 123;
	b.port = 4123;
	netaddr_format_with_port(&a, buf, sizeof(buf));
	assert_string_equal(buf, "192.0.2.7:123");
	netaddr_format_with_port(&b, buf, sizeof(buf));
	assert_string_equal(buf, "[2001:db8::1]:4123");
	assert_false(netaddr_parse("192.0.2", &a));
	assert_false(netaddr_parse("pool.ntp.org", &a));
}

static void prefixes_match_their_members(void **state)
{
	(void)state;
	struct net_prefix lan = prefix("192.168.0.0/16");
	struct net_prefix doc6 = prefix("2001:db8::/32");
	struct net_prefix host = prefix("10.1.2.3");
	struct net_addr inside = addr("192.168.44.1");
	struct net_addr outside = addr("192.169.0.1");
	struct net_addr v6in = addr("2001:db8:ffff::5");
	struct net_addr v6out = addr("2001:db9::5");

	assert_true(netprefix_contains(&lan, &inside));
	assert_false(netprefix_contains(&lan, &outside));
	assert_true(netprefix_contains(&doc6, &v6in));
	assert_false(netprefix_contains(&doc6, &v6out));
	assert_false(netprefix_contains(&doc6, &inside));
	assert_int_equal(host.bits, 32);
	struct net_addr host_addr = addr("10.1.2.3");
	struct net_addr neighbour = addr("10.1.2.4");

	assert_true(netprefix_contains(&host, &host_addr));
	assert_false(netprefix_contains(&host, &neighbour));
}

static void odd_prefix_lengths(void **state)
{
	(void)state;
	struct net_prefix p = prefix("10.0.0.0/9");
	struct net_addr in = addr("10.127.255.255");
	struct net_addr out = addr("10.128.0.0");
	struct net_prefix all = prefix("0.0.0.0/0");
	struct net_prefix bad;

	assert_true(netprefix_contains(&p, &in));
	assert_false(netprefix_contains(&p, &out));
	assert_true(netprefix_contains(&all, &out));
	assert_false(netprefix_parse("10.0.0.0/33", &bad));
	assert_false(netprefix_parse("10.0.0.0/", &bad));
	assert_false(netprefix_parse("/8", &bad));
	assert_false(netprefix_parse("::/129", &bad));
}

static void mapped_addresses_count_as_ipv4(void **state)
{
	(void)state;
	struct net_prefix lan = prefix("192.168.0.0/16");
	struct net_addr mapped = addr("::ffff:192.168.1.1");
	struct net_addr loop_mapped = addr("::ffff:127.0.0.1");
	struct net_prefix mapped_prefix = prefix("::ffff:192.168.0.0/112");
	struct net_addr plain = addr("192.168.9.9");

	assert_true(netprefix_contains(&lan, &mapped));
	assert_true(netaddr_is_loopback(&loop_mapped));
	assert_true(netprefix_contains(&mapped_prefix, &plain));
	struct net_addr v6loop = addr("::1");

	assert_true(netaddr_is_loopback(&v6loop));
	assert_false(netaddr_is_loopback(&plain));
}

static void splits_host_and_port(void **state)
{
	(void)state;
	char host[64];
	uint16_t port = 123;

	assert_true(netaddr_split_host_port("pool.ntp.org", host, sizeof(host), &port));
	assert_string_equal(host, "pool.ntp.org");
	assert_int_equal(port, 123);
	assert_true(netaddr_split_host_port("localhost:11123", host, sizeof(host), &port));
	assert_string_equal(host, "localhost");
	assert_int_equal(port, 11123);
	assert_true(netaddr_split_host_port("[::1]:4000", host, sizeof(host), &port));
	assert_string_equal(host, "::1");
	assert_int_equal(port, 4000);
	port = 123;
	assert_true(netaddr_split_host_port("2001:db8::1", host, sizeof(host), &port));
	assert_string_equal(host, "2001:db8::1");
	assert_int_equal(port, 123);
	assert_false(netaddr_split_host_port("host:0", host, sizeof(host), &port));
	assert_false(netaddr_split_host_port("host:70000", host, sizeof(host), &port));
	assert_false(netaddr_split_host_port(":123", host, sizeof(host), &port));
	assert_false(netaddr_split_host_port("[::1", host, sizeof(host), &port));
	assert_false(netaddr_split_host_port("[::1]x", host, sizeof(host), &port));
}

static void sockaddr_roundtrip(void **state)
{
	(void)state;
	struct sockaddr_storage ss;
	struct net_addr a = addr("2001:db8::42"), back;

	a.port = 999;
	socklen_t len = netaddr_to_sockaddr(&a, &ss);

	assert_true(netaddr_from_sockaddr((struct sockaddr *)&ss, len, &back));
	assert_true(netaddr_equal(&a, &back));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parses_and_formats_both_families),
		cmocka_unit_test(prefixes_match_their_members),
		cmocka_unit_test(odd_prefix_lengths),
		cmocka_unit_test(mapped_addresses_count_as_ipv4),
		cmocka_unit_test(splits_host_and_port),
		cmocka_unit_test(sockaddr_roundtrip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
