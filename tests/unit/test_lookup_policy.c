#include "cmocka_all.h"

#include "lookup_policy.h"

static struct timespec at(double seconds)
{
	return (struct timespec){ (time_t)seconds, (long)((seconds - (double)(time_t)seconds) * 1e9) };
}

static const struct lookup_need server_in_use = { .wanted = 1, .members = 1 };

static void a_new_name_is_looked_up_at_once(void **state)
{
	(void)state;
	struct lookup_state s;
	struct lookup_need need = { .wanted = 1 };

	lookup_start(&s, at(100));
	assert_true(lookup_due(&s, &need, at(100)));
	need.resolving = true;
	assert_false(lookup_due(&s, &need, at(100)));
	need = (struct lookup_need){ .numeric = true, .wanted = 1 };
	assert_false(lookup_due(&s, &need, at(100)));
}

/* Issue 15: a server whose name moved was looked up again only 1024 s after
 * the last answer, although it was unreachable long before. */
static void an_unreachable_server_is_looked_up_as_soon_as_it_is_unreachable(void **state)
{
	(void)state;
	struct lookup_state s;
	struct lookup_need need = server_in_use;

	lookup_start(&s, at(0));
	lookup_answered(&s, LOOKUP_COMPLETE, at(1));
	/* in use and answering: no lookup, however long */
	assert_false(lookup_due(&s, &need, at(100)));
	assert_false(lookup_due(&s, &need, at(5000)));
	/* 8 polls of 64 s unanswered after the answer at 1 s: unreachable at 513 s */
	need.unreachable = true;
	assert_true(lookup_due(&s, &need, at(513)));
}

/* Unreachable yet resolving to the same address: looked up 16 s later, then
 * ever more rarely, up to every 1024 s; answering again resets that. */
static void a_dead_server_costs_few_lookups(void **state)
{
	(void)state;
	struct lookup_state s;
	struct lookup_need need = server_in_use;
	double t = 600, waits[8];
	static const double want[8] = { 16, 32, 64, 128, 256, 512, 1024, 1024 };

	lookup_start(&s, at(0));
	need.unreachable = true;
	for (int i = 0; i < 8; i++) {
		double next = t;

		assert_true(lookup_due(&s, &need, at(t)));
		lookup_answered(&s, LOOKUP_COMPLETE, at(t));
		while (!lookup_due(&s, &need, at(next)))
			next += 1;
		waits[i] = next - t;
		t = next;
	}
	for (int i = 0; i < 8; i++)
		assert_true(waits[i] == want[i]);
	lookup_reachable(&s);
	lookup_answered(&s, LOOKUP_COMPLETE, at(t));
	assert_true(lookup_due(&s, &need, at(t + 16)));
}

static void failures_back_off_to_an_hour(void **state)
{
	(void)state;
	struct lookup_state s;
	struct lookup_need need = { .wanted = 1 };
	double t = 0;

	lookup_start(&s, at(0));
	for (int i = 0; i < 12; i++)
		lookup_answered(&s, LOOKUP_FAILED, at(t));
	assert_false(lookup_due(&s, &need, at(t + 3599)));
	assert_true(lookup_due(&s, &need, at(t + 3600)));
	lookup_answered(&s, LOOKUP_COMPLETE, at(t));
	lookup_answered(&s, LOOKUP_FAILED, at(t));
	assert_true(lookup_due(&s, &need, at(t + 16)));
}

/* A pool is short of members until its answers give enough new addresses;
 * its members being unreachable is replacement's business, not a lookup's. */
static void a_pool_asks_while_short(void **state)
{
	(void)state;
	struct lookup_state s;
	struct lookup_need need = { .pool = true, .wanted = 4, .members = 2 };

	lookup_start(&s, at(0));
	lookup_answered(&s, LOOKUP_SHORT, at(0));
	assert_false(lookup_due(&s, &need, at(15)));
	assert_true(lookup_due(&s, &need, at(16)));
	need.members = 4;
	need.unreachable = true;
	assert_false(lookup_due(&s, &need, at(100)));
}

/* A replaced pool member is not taken back from the next rotating answer. */
static void a_replaced_member_is_held_out_for_an_hour(void **state)
{
	(void)state;
	struct lookup_replaced r = { .next = 0 };
	struct net_addr a, b;

	assert_true(netaddr_parse("192.0.2.1", &a));
	assert_true(netaddr_parse("192.0.2.2", &b));
	a.port = b.port = 123;
	assert_false(lookup_replaced_recently(&r, &a, at(0)));
	lookup_replaced_note(&r, &a, at(100));
	assert_true(lookup_replaced_recently(&r, &a, at(101)));
	assert_false(lookup_replaced_recently(&r, &b, at(101)));
	assert_true(lookup_replaced_recently(&r, &a, at(100 + LOOKUP_REPLACED_HOLD - 1)));
	assert_false(lookup_replaced_recently(&r, &a, at(100 + LOOKUP_REPLACED_HOLD)));
	/* the oldest is forgotten first when more are replaced than remembered */
	lookup_replaced_note(&r, &a, at(200));
	for (int i = 0; i < LOOKUP_REPLACED_MAX - 1; i++)
		lookup_replaced_note(&r, &b, at(200));
	assert_true(lookup_replaced_recently(&r, &a, at(201)));
	lookup_replaced_note(&r, &b, at(200));
	assert_false(lookup_replaced_recently(&r, &a, at(201)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_new_name_is_looked_up_at_once),
		cmocka_unit_test(an_unreachable_server_is_looked_up_as_soon_as_it_is_unreachable),
		cmocka_unit_test(a_dead_server_costs_few_lookups),
		cmocka_unit_test(failures_back_off_to_an_hour),
		cmocka_unit_test(a_pool_asks_while_short),
		cmocka_unit_test(a_replaced_member_is_held_out_for_an_hour),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
