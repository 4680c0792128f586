#include "cmocka_all.h"

#include <string.h>

#include "history.h"

static struct engine_tracking synced(time_t ref_sec, double offset, unsigned steps)
{
	struct engine_tracking t;

	memset(&t, 0, sizeof(t));
	t.state = SYNC_SYNCHRONIZED;
	t.reference_time.tv_sec = ref_sec;
	t.last_offset = offset;
	t.steps = steps;
	return t;
}

/* One tracking line per update: a new reference time while synchronized. */
static void an_update_is_a_new_reference_time(void **state)
{
	(void)state;
	struct history h;
	struct engine_tracking t = synced(1000, 0.001, 0);

	history_init(&h);
	assert_true(history_clock_updated(&h, &t));
	assert_false(history_clock_updated(&h, &t));
	t.reference_time.tv_nsec = 1;
	assert_true(history_clock_updated(&h, &t));
	/* serving the local clock moves the reference time at every look: no update */
	t.state = SYNC_LOCAL;
	t.reference_time.tv_sec = 2000;
	assert_false(history_clock_updated(&h, &t));
	t = synced(0, 0, 0);
	assert_false(history_clock_updated(&h, &t));
}

/* One measurement line per sample: the receive time moves. */
static void a_sample_is_a_new_receive_time(void **state)
{
	(void)state;
	struct history h;
	struct source_status s;
	struct timespec now = { 5000, 500000000 }, rx;

	history_init(&h);
	memset(&s, 0, sizeof(s));
	assert_false(history_sample_arrived(&h, 3, &s, now, &rx)); /* no sample yet */
	s.have_sample = true;
	s.last_rx_age = 0.25;
	assert_true(history_sample_arrived(&h, 3, &s, now, &rx));
	assert_int_equal(rx.tv_sec, 5000);
	assert_true(rx.tv_nsec > 249999000 && rx.tv_nsec < 250001000);
	/* later, the same sample is older by as much as time went on */
	now.tv_sec += 10;
	s.last_rx_age = 10.25;
	assert_false(history_sample_arrived(&h, 3, &s, now, &rx));
	s.last_rx_age = 0.001;
	assert_true(history_sample_arrived(&h, 3, &s, now, &rx));
	/* a source that takes a forgotten id starts afresh */
	history_forget(&h, 3);
	assert_true(history_sample_arrived(&h, 3, &s, now, &rx));
	assert_false(history_sample_arrived(&h, -1, &s, now, &rx));
	assert_false(history_sample_arrived(&h, HISTORY_MAX_SOURCES, &s, now, &rx));
}

/* logchange: beyond the threshold only, and how the clock moved. */
static void logchange_says_how_the_clock_moved(void **state)
{
	(void)state;
	struct history h;
	struct engine_tracking t = synced(1, 0.5, 0);

	history_init(&h);
	assert_int_equal(history_change(&h, &t, 1.0, true), HISTORY_CHANGE_NONE);
	t.last_offset = -1.5;
	assert_int_equal(history_change(&h, &t, 1.0, true), HISTORY_CHANGE_SLEWING);
	t.steps = 1;
	assert_int_equal(history_change(&h, &t, 1.0, true), HISTORY_CHANGE_STEPPED);
	/* the step was counted: the next update beyond it slews */
	assert_int_equal(history_change(&h, &t, 1.0, true), HISTORY_CHANGE_SLEWING);
	assert_int_equal(history_change(&h, &t, 1.0, false), HISTORY_CHANGE_NOT_ADJUSTED);
	assert_int_equal(history_change(&h, &t, 0.0, true), HISTORY_CHANGE_NONE);
	t.last_offset = 1.0;
	assert_int_equal(history_change(&h, &t, 1.0, true), HISTORY_CHANGE_NONE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(an_update_is_a_new_reference_time),
		cmocka_unit_test(a_sample_is_a_new_receive_time),
		cmocka_unit_test(logchange_says_how_the_clock_moved),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
