#include "cmocka_all.h"

#include <netdb.h>
#include <poll.h>
#include <string.h>

#include "resolver.h"

/* Names that need no DNS (numeric addresses, and localhost from
 * /etc/hosts), so the tests run offline and never wait on a server. */
static struct net_addr ipv4(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint16_t port)
{
	struct net_addr x = { .family = AF_INET, .port = port };

	x.bytes[0] = a, x.bytes[1] = b, x.bytes[2] = c, x.bytes[3] = d;
	return x;
}

static void numeric_address_with_port(void **state)
{
	(void)state;
	struct net_addr addrs[4];
	struct net_addr want = ipv4(127, 0, 0, 1, 11123);
	size_t count = 99;

	assert_int_equal(resolver_lookup("127.0.0.1", AF_UNSPEC, 11123, addrs, 4, &count), 0);
	assert_int_equal(count, 1);
	assert_true(netaddr_equal(&addrs[0], &want));
}

static void mapped_address_comes_back_as_ipv4(void **state)
{
	(void)state;
	struct net_addr addrs[4];
	struct net_addr want = ipv4(192, 0, 2, 7, 123);
	size_t count;

	assert_int_equal(resolver_lookup("::ffff:192.0.2.7", AF_UNSPEC, 123, addrs, 4, &count), 0);
	assert_int_equal(count, 1);
	assert_true(netaddr_equal(&addrs[0], &want));
}

static void family_is_honoured(void **state)
{
	(void)state;
	struct net_addr addrs[4];
	size_t count = 99;

	assert_int_not_equal(resolver_lookup("127.0.0.1", AF_INET6, 123, addrs, 4, &count), 0);
	assert_int_equal(count, 0);
	assert_int_equal(resolver_lookup("localhost", AF_INET, 123, addrs, 4, &count), 0);
	assert_true(count >= 1);
	for (size_t i = 0; i < count; i++)
		assert_int_equal(addrs[i].family, AF_INET);
}

/* localhost has an IPv4 and usually an IPv6 address: capped at max, never
 * the same address twice. */
static void capped_and_distinct(void **state)
{
	(void)state;
	struct net_addr addrs[8];
	size_t count;

	assert_int_equal(resolver_lookup("localhost", AF_UNSPEC, 123, addrs, 1, &count), 0);
	assert_int_equal(count, 1);
	assert_int_equal(resolver_lookup("localhost", AF_UNSPEC, 123, addrs, 8, &count), 0);
	for (size_t i = 0; i < count; i++)
		for (size_t j = i + 1; j < count; j++)
			assert_false(netaddr_equal(&addrs[i], &addrs[j]));
}

/* The thread answers through its descriptor with the caller's tag. */
static void thread_answers_with_tag(void **state)
{
	(void)state;
	struct resolver *res = resolver_create();
	struct resolver_result result;
	struct net_addr want = ipv4(127, 0, 0, 1, 4123);

	assert_non_null(res);
	assert_false(resolver_busy(res));
	assert_int_equal(resolver_request(res, 42, "127.0.0.1", 4123), 0);
	assert_true(resolver_busy(res));

	struct pollfd pfd = { .fd = resolver_fd(res), .events = POLLIN };

	assert_int_equal(poll(&pfd, 1, 5000), 1);
	assert_int_equal(resolver_take(res, &result), 1);
	assert_false(resolver_busy(res));
	assert_int_equal(result.tag, 42);
	assert_int_equal(result.error, 0);
	assert_int_equal(result.count, 1);
	assert_true(netaddr_equal(&result.addrs[0], &want));
	assert_int_equal(resolver_take(res, &result), 0);
	resolver_destroy(res);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(numeric_address_with_port),
		cmocka_unit_test(mapped_address_comes_back_as_ipv4),
		cmocka_unit_test(family_is_honoured),
		cmocka_unit_test(capped_and_distinct),
		cmocka_unit_test(thread_answers_with_tag),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
