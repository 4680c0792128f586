#include "cmocka_all.h"

#include <stdio.h>
#include <string.h>

#include "ratelimit.h"

static struct net_addr addr(const char *text)
{
	struct net_addr a;

	assert_true(netaddr_parse(text, &a));
	return a;
}

static struct net_addr v4(uint32_t n)
{
	struct net_addr a = { .family = AF_INET };

	a.bytes[0] = (uint8_t)(n >> 24);
	a.bytes[1] = (uint8_t)(n >> 16);
	a.bytes[2] = (uint8_t)(n >> 8);
	a.bytes[3] = (uint8_t)n;
	return a;
}

static struct timespec at(double seconds)
{
	struct timespec t = { (time_t)seconds, (long)((seconds - (double)(time_t)seconds) * 1e9) };

	return t;
}

static struct ratelimit *create(double interval, unsigned burst, bool kod, unsigned size)
{
	struct ratelimit_config cfg = { .interval = interval, .burst = burst, .kod = kod, .table_size = size };
	struct ratelimit *rl;

	for (int i = 0; i < RATELIMIT_KEY_LEN; i++)
		cfg.key[i] = (uint8_t)(i * 37 + 1);
	rl = ratelimit_create(&cfg);
	assert_non_null(rl);
	return rl;
}

static void burst_then_one_per_interval(void **state)
{
	(void)state;
	struct ratelimit *rl = create(2.0, 4, false, 16);
	struct net_addr a = addr("192.0.2.1");

	for (int i = 0; i < 4; i++)
		assert_int_equal(ratelimit_check(rl, &a, at(100.0)), RATELIMIT_PASS);
	assert_int_equal(ratelimit_check(rl, &a, at(100.0)), RATELIMIT_DROP);
	assert_int_equal(ratelimit_check(rl, &a, at(101.9)), RATELIMIT_DROP);
	assert_int_equal(ratelimit_check(rl, &a, at(102.0)), RATELIMIT_PASS);
	assert_int_equal(ratelimit_check(rl, &a, at(102.0)), RATELIMIT_DROP);
	/* a client that keeps to the interval is never limited */
	for (int i = 0; i < 100; i++)
		assert_int_equal(ratelimit_check(rl, &a, at(110.0 + 2.0 * i)), RATELIMIT_PASS);
	/* after a long silence the whole burst is back, no more */
	for (int i = 0; i < 4; i++)
		assert_int_equal(ratelimit_check(rl, &a, at(1000.0)), RATELIMIT_PASS);
	assert_int_equal(ratelimit_check(rl, &a, at(1000.0)), RATELIMIT_DROP);
	ratelimit_destroy(rl);
}

static void kod_is_itself_limited(void **state)
{
	(void)state;
	struct ratelimit *rl = create(0.25, 1, true, 16);
	struct net_addr a = addr("192.0.2.1");
	int kods = 0, passes = 0;

	/* 10 s of 1000 requests per second */
	for (int i = 0; i < 10000; i++) {
		enum ratelimit_verdict v = ratelimit_check(rl, &a, at(50.0 + i * 0.001));

		kods += v == RATELIMIT_KOD;
		passes += v == RATELIMIT_PASS;
	}
	/* one answer per interval, one kiss per second at most */
	assert_in_range(passes, 40, 41);
	assert_in_range(kods, 9, 10);
	ratelimit_destroy(rl);
}

static void a_flood_does_not_touch_other_clients(void **state)
{
	(void)state;
	struct ratelimit *rl = create(1.0, 8, true, 64);
	struct net_addr flooder = addr("198.51.100.7"), good = addr("198.51.100.8");
	int flooder_passes = 0;

	for (int i = 0; i < 100000; i++) {
		double t = 10.0 + i * 0.0001;

		flooder_passes += ratelimit_check(rl, &flooder, at(t)) == RATELIMIT_PASS;
		if (i % 10000 == 0)
			assert_int_equal(ratelimit_check(rl, &good, at(t)), RATELIMIT_PASS);
	}
	/* 10 s: the burst and then one a second */
	assert_in_range(flooder_passes, 8 + 9, 8 + 10);
	ratelimit_destroy(rl);
}

static void ipv6_clients_are_their_64(void **state)
{
	(void)state;
	struct ratelimit *rl = create(1.0, 2, false, 16);
	struct net_addr a = addr("2001:db8:1:2::1"), b = addr("2001:db8:1:2:ffff::9"),
			other = addr("2001:db8:1:3::1");
	struct net_addr v4a = addr("192.0.2.1"), v4mapped = addr("::ffff:192.0.2.1");

	assert_int_equal(ratelimit_check(rl, &a, at(1.0)), RATELIMIT_PASS);
	assert_int_equal(ratelimit_check(rl, &b, at(1.0)), RATELIMIT_PASS);
	assert_int_equal(ratelimit_check(rl, &a, at(1.0)), RATELIMIT_DROP);
	assert_int_equal(ratelimit_check(rl, &other, at(1.0)), RATELIMIT_PASS);
	/* an IPv4 client is the same client through a dual-stack socket */
	assert_int_equal(ratelimit_check(rl, &v4a, at(1.0)), RATELIMIT_PASS);
	assert_int_equal(ratelimit_check(rl, &v4mapped, at(1.0)), RATELIMIT_PASS);
	assert_int_equal(ratelimit_check(rl, &v4a, at(1.0)), RATELIMIT_DROP);
	assert_int_equal(ratelimit_entries(rl), 3);
	ratelimit_destroy(rl);
}

static void disabled_passes_everything(void **state)
{
	(void)state;
	struct ratelimit *rl = create(0.0, 1, true, 4);
	struct net_addr a = addr("192.0.2.1");

	for (int i = 0; i < 1000; i++)
		assert_int_equal(ratelimit_check(rl, &a, at(1.0)), RATELIMIT_PASS);
	assert_int_equal(ratelimit_entries(rl), 0);
	ratelimit_destroy(rl);
}

/* A million spoofed sources: the table never grows, a real flooder that
 * keeps sending stays the most recently seen, so it stays limited, and the
 * spoofed ones share the allowance of the entries they churn through. */
static void a_million_sources_cost_no_memory(void **state)
{
	(void)state;
	const unsigned size = 4096;
	struct ratelimit *rl = create(1.0, 4, false, size);
	size_t memory = ratelimit_memory(rl);
	struct net_addr flooder = addr("203.0.113.66");
	int flooder_passes = 0, spoofed_passes = 0;

	for (uint32_t i = 0; i < 1000000; i++) {
		struct net_addr spoofed = v4(0x0a000000u + i);
		double t = 5.0 + i * 1e-6;

		spoofed_passes += ratelimit_check(rl, &spoofed, at(t)) == RATELIMIT_PASS;
		if (i % 100 == 0)
			flooder_passes += ratelimit_check(rl, &flooder, at(t)) == RATELIMIT_PASS;
		assert_true(ratelimit_entries(rl) <= size);
	}
	assert_int_equal(ratelimit_entries(rl), size);
	assert_int_equal(ratelimit_memory(rl), memory);
	/* one second of flooding: the burst and one more */
	assert_in_range(flooder_passes, 4, 5);
	/* at most what the table's entries allow in that second */
	assert_in_range(spoofed_passes, size, size * (4 + 1));
	printf("  # %u clients in %zu bytes after 1000000 sources, %d of them answered\n", size, memory,
	       spoofed_passes);

	/* once the pressure is over, a forgotten client starts afresh */
	struct net_addr first = v4(0x0a000000u);

	for (int i = 0; i < 4; i++)
		assert_int_equal(ratelimit_check(rl, &first, at(20.0)), RATELIMIT_PASS);
	assert_int_equal(ratelimit_check(rl, &first, at(20.0)), RATELIMIT_DROP);
	ratelimit_destroy(rl);
}

/* Issue 15: 200 clients rotating through a 16-entry table each found their
 * entry forgotten and got a fresh burst: 537,080 of 537,088 answered. Now
 * they get no more than if every one of them had its own entry. */
static void clients_outnumbering_the_table_get_no_free_passes(void **state)
{
	(void)state;
	const int clients = 200, requests = 537088;
	const double seconds = 10.0, interval = 1.0;
	const unsigned burst = 8;
	struct ratelimit *rl = create(interval, burst, true, 16);
	int answered = 0, kods = 0;

	for (int i = 0; i < requests; i++) {
		struct net_addr a = v4(0xc6336400u + (uint32_t)(i % clients));
		enum ratelimit_verdict v = ratelimit_check(rl, &a, at(100.0 + seconds * i / requests));

		answered += v == RATELIMIT_PASS;
		kods += v == RATELIMIT_KOD;
	}
	printf("  # %d of %d requests answered, %d KoD, from %d clients with 16 entries\n", answered, requests, kods,
	       clients);
	assert_true(answered <= clients * (int)(burst + seconds / interval));
	/* the table's own share is still served */
	assert_true(answered >= 16 * (int)burst);
	/* KoDs are limited too: at most one per entry and second */
	assert_true(kods <= 16 * (int)(seconds + 1));
	ratelimit_destroy(rl);
}

/* A table asked beyond the maximum is held at the maximum, not grown. */
static void oversized_table_is_capped(void **state)
{
	(void)state;
	struct ratelimit *largest = create(1.0, 4, false, RATELIMIT_MAX_TABLE);
	struct ratelimit *asked_more = create(1.0, 4, false, RATELIMIT_MAX_TABLE * 4u);

	assert_int_equal(ratelimit_memory(asked_more), ratelimit_memory(largest));
	ratelimit_destroy(largest);
	ratelimit_destroy(asked_more);
}

static void table_of_one_still_works(void **state)
{
	(void)state;
	struct ratelimit *rl = create(1.0, 1, false, 1);
	struct net_addr a = addr("192.0.2.1"), b = addr("192.0.2.2");

	assert_int_equal(ratelimit_check(rl, &a, at(1.0)), RATELIMIT_PASS);
	assert_int_equal(ratelimit_check(rl, &a, at(1.0)), RATELIMIT_DROP);
	/* b takes a's entry while a is still over its limit, and its debt */
	assert_int_equal(ratelimit_check(rl, &b, at(1.0)), RATELIMIT_DROP);
	assert_int_equal(ratelimit_check(rl, &a, at(1.0)), RATELIMIT_DROP);
	assert_int_equal(ratelimit_check(rl, &b, at(2.0)), RATELIMIT_PASS);
	/* a debt paid off is not passed on */
	assert_int_equal(ratelimit_check(rl, &a, at(3.0)), RATELIMIT_PASS);
	assert_int_equal(ratelimit_entries(rl), 1);
	ratelimit_destroy(rl);
}

/* "clients": the most recently seen first, with their requests and drops,
 * IPv6 as its /64, never more than asked for. */
static void clients_lists_the_most_recent_first(void **state)
{
	(void)state;
	struct ratelimit *rl = create(1.0, 2, false, 16);
	struct ratelimit_client c[4];
	struct net_addr six = addr("2001:db8::1");
	char text[NETADDR_TEXT_LEN];

	assert_int_equal(ratelimit_clients(rl, c, 4), 0);
	ratelimit_check(rl, &(struct net_addr){ .family = AF_INET, .bytes = { 192, 0, 2, 9 } }, at(0));
	for (int i = 0; i < 5; i++)
		ratelimit_check(rl, &six, at(10.0 + 0.01 * i));
	ratelimit_check(rl, &(struct net_addr){ .family = AF_INET, .bytes = { 192, 0, 2, 7 } }, at(20));
	assert_int_equal(ratelimit_clients(rl, c, 4), 3);
	netaddr_format(&c[0].addr, text, sizeof(text));
	assert_string_equal(text, "192.0.2.7");
	assert_int_equal(c[0].packets, 1);
	assert_int_equal(c[0].drops, 0);
	assert_int_equal(c[0].last.tv_sec, 20);
	netaddr_format(&c[1].addr, text, sizeof(text));
	assert_string_equal(text, "2001:db8::");
	assert_int_equal(c[1].packets, 5);
	assert_int_equal(c[1].drops, 3);      /* burst 2 within 40 ms */
	netaddr_format(&c[2].addr, text, sizeof(text));
	assert_string_equal(text, "192.0.2.9");
	assert_int_equal(ratelimit_clients(rl, c, 2), 2);
	ratelimit_destroy(rl);

	rl = create(0.0, 1, false, 16);
	ratelimit_check(rl, &six, at(1));
	assert_int_equal(ratelimit_clients(rl, c, 4), 0);
	ratelimit_destroy(rl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(burst_then_one_per_interval),
		cmocka_unit_test(kod_is_itself_limited),
		cmocka_unit_test(a_flood_does_not_touch_other_clients),
		cmocka_unit_test(ipv6_clients_are_their_64),
		cmocka_unit_test(disabled_passes_everything),
		cmocka_unit_test(a_million_sources_cost_no_memory),
		cmocka_unit_test(clients_outnumbering_the_table_get_no_free_passes),
		cmocka_unit_test(table_of_one_still_works),
		cmocka_unit_test(clients_lists_the_most_recent_first),
		cmocka_unit_test(oversized_table_is_capped),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
