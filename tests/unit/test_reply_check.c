#include "cmocka_all.h"

#include "refid.h"
#include "reply_check.h"

static const ntp_ts sent = 0xe900000112345678ull;

static struct ntp_packet good_reply(void)
{
	return (struct ntp_packet){
		.leap = NTP_LEAP_NONE, .version = 4, .mode = NTP_MODE_SERVER, .stratum = 2,
		.origin = sent, .receive = sent + 1000, .transmit = sent + 2000,
	};
}

static void accepts_a_good_reply(void **state)
{
	(void)state;
	struct ntp_packet p = good_reply();

	assert_int_equal(reply_check(&p, sent), REPLY_OK);
	assert_int_equal(reply_kiss_code(&p), KISS_NONE);
}

static void rejects_each_fault_with_its_reason(void **state)
{
	(void)state;
	struct ntp_packet p;

	p = good_reply(); p.mode = NTP_MODE_CLIENT;
	assert_int_equal(reply_check(&p, sent), REPLY_BAD_MODE);
	p = good_reply(); p.version = 0;
	assert_int_equal(reply_check(&p, sent), REPLY_BAD_VERSION);
	p = good_reply(); p.version = 5;
	assert_int_equal(reply_check(&p, sent), REPLY_BAD_VERSION);
	p = good_reply(); p.origin = sent + 1;
	assert_int_equal(reply_check(&p, sent), REPLY_BOGUS_ORIGIN);
	p = good_reply(); p.transmit = 0;
	assert_int_equal(reply_check(&p, sent), REPLY_ZERO_TIMESTAMP);
	p = good_reply(); p.receive = 0;
	assert_int_equal(reply_check(&p, sent), REPLY_ZERO_TIMESTAMP);
	p = good_reply(); p.leap = NTP_LEAP_UNSYNC;
	assert_int_equal(reply_check(&p, sent), REPLY_UNSYNCHRONIZED);
	p = good_reply(); p.stratum = 16;
	assert_int_equal(reply_check(&p, sent), REPLY_UNSYNCHRONIZED);
	assert_string_equal(reply_verdict_str(REPLY_BOGUS_ORIGIN),
			    "origin timestamp does not match our request (bogus or replayed)");
}

static void reads_kiss_codes(void **state)
{
	(void)state;
	struct ntp_packet p = good_reply();

	p.stratum = 0;
	p.refid = refid_from_name("DENY");
	assert_int_equal(reply_check(&p, sent), REPLY_KOD);
	assert_int_equal(reply_kiss_code(&p), KISS_DENY);
	p.refid = refid_from_name("RATE");
	assert_int_equal(reply_kiss_code(&p), KISS_RATE);
	p.refid = refid_from_name("RSTR");
	assert_int_equal(reply_kiss_code(&p), KISS_RSTR);
	p.refid = refid_from_name("INIT");
	assert_int_equal(reply_kiss_code(&p), KISS_OTHER);
}

static void spoofed_kod_is_bogus(void **state)
{
	(void)state;
	struct ntp_packet p = good_reply();

	p.stratum = 0;
	p.refid = refid_from_name("DENY");
	p.origin = 0;
	assert_int_equal(reply_check(&p, sent), REPLY_BOGUS_ORIGIN);
}

/* 2036-02-07 06:28:16 UTC ends NTP era 0: server timestamps just past it
 * wrap to small numbers and must still give small offsets. */
static void offset_and_delay_across_the_era_boundary(void **state)
{
	(void)state;
	const time_t rollover = 2085978496;
	struct timespec sent_at = { .tv_sec = rollover - 1, .tv_nsec = 900000000 };
	struct timespec received = { .tv_sec = rollover, .tv_nsec = 100000000 };
	struct ntp_packet p = good_reply();
	double offset, delay;

	/* The server is 0.5 s ahead and holds the request for 10 ms. */
	p.receive = ntp_ts_from_timespec((struct timespec){ .tv_sec = rollover, .tv_nsec = 495000000 });
	p.transmit = ntp_ts_from_timespec((struct timespec){ .tv_sec = rollover, .tv_nsec = 505000000 });
	assert_true(p.receive >> 32 == 0);
	reply_offset_delay(p.receive, p.transmit, sent_at, received, &offset, &delay);
	assert_true(offset > 0.499999 && offset < 0.500001);
	assert_true(delay > 0.189999 && delay < 0.190001);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(accepts_a_good_reply),
		cmocka_unit_test(rejects_each_fault_with_its_reason),
		cmocka_unit_test(reads_kiss_codes),
		cmocka_unit_test(spoofed_kod_is_bogus),
		cmocka_unit_test(offset_and_delay_across_the_era_boundary),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
