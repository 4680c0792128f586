#include "cmocka_all.h"

#include <math.h>
#include <stdlib.h>

#include "select.h"

static struct select_candidate cand(double offset, double distance, double jitter, unsigned stratum)
{
	return (struct select_candidate){
		.offset = offset, .root_distance = distance, .jitter = jitter,
		.root_delay = distance, .root_dispersion = distance / 4, .stratum = stratum,
		.state = SELECT_SYSTEM_PEER, /* must be overwritten */
	};
}

static void one_falseticker_out_of_three(void **state)
{
	(void)state;
	struct select_candidate c[3] = {
		cand(0.001, 0.010, 1e-4, 2), cand(0.002, 0.010, 1e-4, 2), cand(0.500, 0.010, 1e-4, 2),
	};
	struct select_result r;

	assert_int_equal(select_run(c, 3, 1, -1, &r), SELECT_OK);
	assert_int_equal(r.truechimers, 2);
	assert_int_equal(r.survivors, 2);
	assert_int_equal(c[2].state, SELECT_FALSETICKER);
	assert_true(c[0].state == SELECT_SYSTEM_PEER || c[1].state == SELECT_SYSTEM_PEER);
	/* Equal distances: equal weights. */
	assert_float_equal(r.offset, 0.0015, 1e-15);
}

static void one_falseticker_out_of_five(void **state)
{
	(void)state;
	struct select_candidate c[5] = {
		cand(0.0010, 0.02, 1e-4, 2), cand(-0.050, 0.01, 1e-4, 1), cand(0.0012, 0.02, 1e-4, 2),
		cand(0.0008, 0.02, 1e-4, 2), cand(0.0011, 0.02, 1e-4, 3),
	};
	struct select_result r;

	assert_int_equal(select_run(c, 5, 3, -1, &r), SELECT_OK);
	assert_int_equal(r.truechimers, 4);
	assert_int_equal(c[1].state, SELECT_FALSETICKER);
	/* 0.0008 sits 0.31 ms (RMS) from the rest, beyond their 0.1 ms jitter. */
	assert_int_equal(r.survivors, 3);
	assert_int_equal(c[3].state, SELECT_OUTLIER);
	assert_float_equal(r.offset, (0.0010 + 0.0012 + 0.0011) / 3, 1e-15);
}

static void two_disjoint_groups_have_no_majority(void **state)
{
	(void)state;
	struct select_candidate c[4] = {
		cand(0.0, 0.01, 1e-4, 2), cand(0.001, 0.01, 1e-4, 2),
		cand(1.0, 0.01, 1e-4, 2), cand(1.001, 0.01, 1e-4, 2),
	};
	struct select_result r;

	assert_int_equal(select_run(c, 4, 1, -1, &r), SELECT_NO_MAJORITY);
	for (int i = 0; i < 4; i++)
		assert_int_equal(c[i].state, SELECT_FALSETICKER);
	/* Two sources that disagree: neither is a majority. */
	assert_int_equal(select_run(&c[1], 2, 1, -1, &r), SELECT_NO_MAJORITY);
	assert_string_equal(select_status_str(SELECT_NO_MAJORITY), "no majority of sources agree");
}

static void intersection_needs_the_midpoints_inside(void **state)
{
	(void)state;
	/* The intervals overlap on [0.5, 1.0] but both midpoints lie outside
	 * it: RFC 5905 does not call that agreement. */
	struct select_candidate c[2] = { cand(0.0, 1.0, 1e-4, 2), cand(1.5, 1.0, 1e-4, 2) };
	struct select_result r;

	assert_int_equal(select_run(c, 2, 1, -1, &r), SELECT_NO_MAJORITY);
	c[1].offset = 0.6; /* now the intersection [-0.4, 1.0] holds both */
	assert_int_equal(select_run(c, 2, 1, -1, &r), SELECT_OK);
	assert_int_equal(r.truechimers, 2);
}

static void quorum_not_met(void **state)
{
	(void)state;
	struct select_candidate c[3] = {
		cand(0.001, 0.01, 1e-4, 2), cand(0.002, 0.01, 1e-4, 2), cand(0.9, 0.01, 1e-4, 2),
	};
	struct select_result r;

	assert_int_equal(select_run(c, 1, 2, -1, &r), SELECT_QUORUM_NOT_MET);
	assert_int_equal(r.truechimers, 1);
	assert_int_equal(select_run(c, 3, 3, -1, &r), SELECT_QUORUM_NOT_MET);
	assert_int_equal(r.truechimers, 2);
	assert_int_equal(c[2].state, SELECT_FALSETICKER);
	assert_int_equal(select_run(c, 3, 2, -1, &r), SELECT_OK);
	assert_int_equal(select_run(c, 0, 1, -1, &r), SELECT_NO_CANDIDATES);

	struct select_candidate many[SELECT_MAX_CANDIDATES + 1];
	for (int i = 0; i <= SELECT_MAX_CANDIDATES; i++)
		many[i] = cand(0.001, 0.01, 1e-4, 2);
	assert_int_equal(select_run(many, SELECT_MAX_CANDIDATES, 1, -1, &r), SELECT_OK);
	assert_int_equal(select_run(many, SELECT_MAX_CANDIDATES + 1, 1, -1, &r), SELECT_TOO_MANY);
}

static void clustering_drops_the_noisy_one(void **state)
{
	(void)state;
	/* All four intervals hold the intersection, but one sits 8 ms off the
	 * others, far more than any other source's jitter. */
	struct select_candidate c[4] = {
		cand(0.0010, 0.050, 1e-4, 2), cand(0.0011, 0.050, 2e-4, 2),
		cand(0.0090, 0.050, 5e-3, 2), cand(0.0009, 0.050, 1e-4, 2),
	};
	struct select_result r;

	assert_int_equal(select_run(c, 4, 1, -1, &r), SELECT_OK);
	assert_int_equal(r.truechimers, 4);
	assert_int_equal(r.survivors, 3);
	assert_int_equal(c[2].state, SELECT_OUTLIER);
	assert_float_equal(r.offset, 0.0010, 1e-15);

	/* When the spread is within the others' own jitter, all stay. */
	c[0].jitter = c[1].jitter = c[3].jitter = 0.01;
	assert_int_equal(select_run(c, 4, 1, -1, &r), SELECT_OK);
	assert_int_equal(r.survivors, 4);

	/* Never fewer than three. */
	struct select_candidate d[3] = {
		cand(0.0, 0.05, 1e-6, 2), cand(0.001, 0.05, 1e-6, 2), cand(0.02, 0.05, 1e-6, 2),
	};
	assert_int_equal(select_run(d, 3, 1, -1, &r), SELECT_OK);
	assert_int_equal(r.survivors, 3);
}

static void combines_by_inverse_square_distance(void **state)
{
	(void)state;
	struct select_candidate c[2] = { cand(0.0, 0.01, 0, 2), cand(0.003, 0.02, 0, 2) };
	struct select_result r;

	assert_int_equal(select_run(c, 2, 1, -1, &r), SELECT_OK);
	/* weights 1/1e-4 and 1/4e-4: 4 to 1 */
	assert_float_equal(r.offset, 0.003 / 5, 1e-15);
	/* spread: (4 * 0.0006^2 + 1 * 0.0024^2) / 5 */
	assert_float_equal(r.jitter, sqrt((4 * 0.0006 * 0.0006 + 0.0024 * 0.0024) / 5), 1e-15);
	assert_int_equal(r.system_peer, 0);
	assert_int_equal(c[0].state, SELECT_SYSTEM_PEER);
	assert_int_equal(c[1].state, SELECT_COMBINED);
	assert_float_equal(r.root_delay, 0.01, 0);
	assert_float_equal(r.root_dispersion, 0.01 / 4 + r.jitter, 1e-15);

	/* The sources' own jitter adds in, weighted alike. */
	c[0].jitter = 0.001;
	c[1].jitter = 0.002;
	assert_int_equal(select_run(c, 2, 1, -1, &r), SELECT_OK);
	assert_float_equal(r.jitter,
			   sqrt((4 * (0.0006 * 0.0006 + 1e-6) + 0.0024 * 0.0024 + 4e-6) / 5), 1e-15);
}

static void system_peer_prefers_low_distance_then_stratum_and_stays(void **state)
{
	(void)state;
	struct select_candidate c[3] = {
		cand(0.001, 0.0300, 1e-4, 1), cand(0.001, 0.0100, 1e-4, 3), cand(0.001, 0.0102, 1e-4, 2),
	};
	struct select_result r;

	/* 0.0100 and 0.0102 tie within 5%: the lower stratum wins. */
	assert_int_equal(select_run(c, 3, 1, -1, &r), SELECT_OK);
	assert_int_equal(r.system_peer, 2);
	/* Clearly lower distance beats stratum. */
	c[1].root_distance = 0.008;
	assert_int_equal(select_run(c, 3, 1, -1, &r), SELECT_OK);
	assert_int_equal(r.system_peer, 1);

	/* The previous peer stays while within 1.5 times the best. */
	c[2].root_distance = 0.012;
	assert_int_equal(select_run(c, 3, 1, 2, &r), SELECT_OK);
	assert_int_equal(r.system_peer, 2);
	assert_int_equal(c[2].state, SELECT_SYSTEM_PEER);
	assert_int_equal(c[1].state, SELECT_COMBINED);
	c[2].root_distance = 0.0125;
	assert_int_equal(select_run(c, 3, 1, 2, &r), SELECT_OK);
	assert_int_equal(r.system_peer, 1);
	/* ... and only while it survives. */
	c[2].root_distance = 0.012;
	c[2].offset = 0.9;
	assert_int_equal(select_run(c, 3, 1, 2, &r), SELECT_OK);
	assert_int_equal(c[2].state, SELECT_FALSETICKER);
	assert_int_equal(r.system_peer, 1);
}

/* chrony's trust: two agreeing untrusted sources outvote nobody trusted. */
static void a_trusted_source_survives_a_majority_against_it(void **state)
{
	(void)state;
	struct select_candidate c[3] = {
		cand(0.000, 0.002, 1e-4, 2), cand(0.050, 0.002, 1e-4, 2), cand(0.050, 0.002, 1e-4, 2),
	};
	struct select_result r;

	assert_int_equal(select_run(c, 3, 1, -1, &r), SELECT_OK);
	assert_int_equal(c[0].state, SELECT_FALSETICKER);
	c[0].trust = true;
	assert_int_equal(select_run(c, 3, 1, -1, &r), SELECT_OK);
	assert_int_equal(c[0].state, SELECT_SYSTEM_PEER);
	assert_int_equal(c[1].state, SELECT_FALSETICKER);
	assert_int_equal(c[2].state, SELECT_FALSETICKER);
	assert_float_equal(r.offset, 0.0, 1e-15);
	/* two trusted sources that disagree: no majority among the trusted */
	c[1].trust = true;
	assert_int_equal(select_run(c, 3, 1, -1, &r), SELECT_NO_MAJORITY);
	/* three trusted, two agree: the third is the falseticker */
	c[2].trust = true;
	assert_int_equal(select_run(c, 3, 1, -1, &r), SELECT_OK);
	assert_int_equal(c[0].state, SELECT_FALSETICKER);
	assert_true(c[1].state == SELECT_SYSTEM_PEER || c[2].state == SELECT_SYSTEM_PEER);
	/* an untrusted source must lie within the trusted interval: one that
	 * holds it but reaches beyond is left out, one inside is combined */
	struct select_candidate e[3] = { cand(0.0, 0.002, 1e-4, 2), cand(0.001, 0.010, 1e-4, 2),
					 cand(0.0005, 0.001, 1e-4, 2) };

	e[0].trust = true;
	assert_int_equal(select_run(e, 3, 1, -1, &r), SELECT_OK);
	assert_int_equal(e[1].state, SELECT_FALSETICKER);
	assert_true(e[2].state == SELECT_COMBINED || e[2].state == SELECT_SYSTEM_PEER);
	/* trusted sources need no majority of all: one trusted, one not, apart */
	struct select_candidate d[2] = { cand(0.0, 0.002, 1e-4, 2), cand(0.5, 0.002, 1e-4, 2) };

	assert_int_equal(select_run(d, 2, 1, -1, &r), SELECT_NO_MAJORITY);
	d[1].trust = true;
	assert_int_equal(select_run(d, 2, 1, -1, &r), SELECT_OK);
	assert_int_equal(d[1].state, SELECT_SYSTEM_PEER);
	assert_int_equal(d[0].state, SELECT_FALSETICKER);
}

/* chrony's prefer: among survivors only the preferred are combined. */
static void preferred_survivors_are_the_only_ones_combined(void **state)
{
	(void)state;
	struct select_candidate c[3] = {
		cand(0.0000, 0.001, 1e-5, 1), cand(0.0003, 0.004, 1e-5, 2), cand(0.0001, 0.001, 1e-5, 1),
	};
	struct select_result r;

	assert_int_equal(select_run(c, 3, 1, -1, &r), SELECT_OK);
	assert_int_equal(r.survivors, 3);
	c[1].prefer = true;
	assert_int_equal(select_run(c, 3, 1, 0, &r), SELECT_OK);
	assert_int_equal(r.survivors, 1);
	assert_int_equal(r.system_peer, 1);
	assert_int_equal(c[0].state, SELECT_NOT_PREFERRED);
	assert_int_equal(c[2].state, SELECT_NOT_PREFERRED);
	assert_float_equal(r.offset, 0.0003, 1e-15);
	/* a preferred falseticker does not drag the others along */
	c[1] = cand(0.5, 0.001, 1e-5, 1);
	c[1].prefer = true;
	assert_int_equal(select_run(c, 3, 1, -1, &r), SELECT_OK);
	assert_int_equal(c[1].state, SELECT_FALSETICKER);
	assert_int_equal(r.survivors, 2);
}

/* chrony's require: only a required truechimer lets the clock be updated. */
static void require_needs_a_required_truechimer(void **state)
{
	(void)state;
	struct select_candidate c[3] = {
		cand(0.000, 0.002, 1e-4, 2), cand(0.001, 0.002, 1e-4, 2), cand(0.500, 0.002, 1e-4, 2),
	};
	struct select_result r;

	assert_int_equal(select_run(c, 3, 1, -1, &r), SELECT_OK);
	assert_true(select_require_met(c, 3, false));
	/* required but absent from the candidates (unreachable) */
	assert_false(select_require_met(c, 3, true));
	/* required but a falseticker */
	c[2].require = true;
	assert_false(select_require_met(c, 3, true));
	c[0].require = true;
	assert_true(select_require_met(c, 3, true));
}

/* select_run_in has no limit on the candidates, in the caller's workspace. */
static void any_number_of_candidates_in_a_workspace(void **state)
{
	(void)state;
	enum { N = 500 };
	static struct select_candidate c[N];
	struct select_result r;
	void *workspace = malloc(select_workspace_size(N));

	assert_non_null(workspace);
	for (int i = 0; i < N; i++)
		c[i] = cand(i < 300 ? 0.001 : 0.5, 0.010, 1e-4, 2);
	assert_int_equal(select_run(c, N, 1, -1, &r), SELECT_TOO_MANY);
	assert_int_equal(select_run_in(workspace, c, N, 1, -1, &r), SELECT_OK);
	assert_int_equal(r.truechimers, 300);
	assert_int_equal(c[N - 1].state, SELECT_FALSETICKER);
	assert_float_equal(r.offset, 0.001, 1e-12);
	free(workspace);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(one_falseticker_out_of_three),
		cmocka_unit_test(one_falseticker_out_of_five),
		cmocka_unit_test(two_disjoint_groups_have_no_majority),
		cmocka_unit_test(intersection_needs_the_midpoints_inside),
		cmocka_unit_test(quorum_not_met),
		cmocka_unit_test(clustering_drops_the_noisy_one),
		cmocka_unit_test(combines_by_inverse_square_distance),
		cmocka_unit_test(system_peer_prefers_low_distance_then_stratum_and_stays),
		cmocka_unit_test(a_trusted_source_survives_a_majority_against_it),
		cmocka_unit_test(preferred_survivors_are_the_only_ones_combined),
		cmocka_unit_test(require_needs_a_required_truechimer),
		cmocka_unit_test(any_number_of_candidates_in_a_workspace),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
