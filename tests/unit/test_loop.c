#include "cmocka_all.h"

#include "loop.h"
#include "refid.h"

static struct net_addr addr(const char *text, uint16_t port)
{
	struct net_addr a;

	assert_true(netaddr_parse(text, &a));
	a.port = port;
	return a;
}

/* The listen addresses loop_self refers to (it owns none). */
static struct net_addr listen_addrs[2];

static struct loop_self wildcard_self(void)
{
	struct loop_self self = { .listen = listen_addrs, .listen_count = 2, .local_count = 3 };

	listen_addrs[0] = addr("0.0.0.0", 123);
	listen_addrs[1] = addr("::", 123);
	self.local[0] = addr("127.0.0.1", 0);
	self.local[1] = addr("192.0.2.10", 0);
	self.local[2] = addr("2001:db8::10", 0);
	return self;
}

static void a_listen_address_is_ourselves(void **state)
{
	(void)state;
	struct net_addr own = addr("127.0.0.1", 123);
	struct loop_self self = { .listen = &own, .listen_count = 1 };

	assert_true(loop_is_self(&self, &own));
	/* another port, another address: another server */
	struct net_addr other_port = addr("127.0.0.1", 1123), other = addr("127.0.0.2", 123);

	assert_false(loop_is_self(&self, &other_port));
	assert_false(loop_is_self(&self, &other));
}

static void under_a_wildcard_every_local_address_is_ourselves(void **state)
{
	(void)state;
	struct loop_self self = wildcard_self();
	static const char *const ours[] = { "127.0.0.1", "127.0.0.53", "192.0.2.10", "::1", "2001:db8::10",
					     "::ffff:192.0.2.10" };
	static const char *const others[] = { "192.0.2.11", "2001:db8::11", "198.51.100.1" };

	for (size_t i = 0; i < sizeof(ours) / sizeof(ours[0]); i++) {
		struct net_addr a = addr(ours[i], 123);

		assert_true(loop_is_self(&self, &a));
	}
	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
		struct net_addr a = addr(others[i], 123);

		assert_false(loop_is_self(&self, &a));
	}
	struct net_addr elsewhere = addr("192.0.2.10", 4123);

	assert_false(loop_is_self(&self, &elsewhere));
}

static void not_serving_nothing_is_ourselves(void **state)
{
	(void)state;
	struct loop_self self = wildcard_self();
	struct net_addr a = addr("127.0.0.1", 123);

	self.listen_count = 0;
	assert_false(loop_is_self(&self, &a));
}

/* A server synchronized to us names one of our addresses as its refid. */
static void a_server_synchronized_to_us_is_a_loop(void **state)
{
	(void)state;
	struct loop_self self = wildcard_self();
	uint32_t own[8];
	size_t n = loop_own_refids(&self, own, 8);
	struct net_addr v6 = addr("2001:db8::10", 0), stranger = addr("198.51.100.1", 0);

	assert_int_equal(n, 3); /* the wildcards name nobody */
	assert_true(loop_refid_is_ours(3, 0xc000020a, own, n)); /* 192.0.2.10 */
	assert_true(loop_refid_is_ours(2, 0x7f000001, own, n)); /* 127.0.0.1 */
	assert_true(loop_refid_is_ours(4, refid_from_addr(&v6), own, n));
	assert_false(loop_refid_is_ours(3, refid_from_addr(&stranger), own, n));
	/* stratum 1 refids are clock names, stratum 0 kiss codes, 16 unsynchronized */
	assert_false(loop_refid_is_ours(1, 0xc000020a, own, n));
	assert_false(loop_refid_is_ours(0, 0xc000020a, own, n));
	assert_false(loop_refid_is_ours(16, 0xc000020a, own, n));
	assert_int_equal(loop_own_refids(&self, own, 1), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_listen_address_is_ourselves),
		cmocka_unit_test(under_a_wildcard_every_local_address_is_ourselves),
		cmocka_unit_test(not_serving_nothing_is_ourselves),
		cmocka_unit_test(a_server_synchronized_to_us_is_a_loop),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
