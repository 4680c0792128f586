/* The reference clocks' pure decoding (SHM, SOCK, PPS numbering, PHC
 * offsets), their median filter, and the PPS and PHC ioctl layer against a
 * kernel played by an injected ioctl function. */
#include "cmocka_all.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <linux/pps.h>
#include <linux/ptp_clock.h>

#include "engine.h"
#include "ntp_time.h"
#include "refclock_decode.h"
#include "refclock_filter.h"
#include "refclock_io.h"
#include "refclocks.h"
#include "sim_clock.h"

static struct refclock_shm_segment gpsd_sample(int mode, time_t receive, long receive_ns, time_t clock, long clock_ns)
{
	/* as gpsd writes it: microseconds and nanoseconds both */
	return (struct refclock_shm_segment){
		.mode = mode, .count = 42, .valid = 1, .leap = 0, .precision = -20,
		.clock_sec = clock, .clock_usec = (int)(clock_ns / 1000), .clock_nsec = (unsigned)clock_ns,
		.receive_sec = receive, .receive_usec = (int)(receive_ns / 1000), .receive_nsec = (unsigned)receive_ns,
	};
}

static void shm_sample_gives_clock_minus_receive(void **state)
{
	struct refclock_shm_segment s = gpsd_sample(1, 1796302898, 50391092, 1796302898, 0);
	struct refclock_reading r;

	(void)state;
	assert_int_equal(refclock_shm_decode(&s, 42, NULL, 0.0, &r), REFCLOCK_SHM_OK);
	assert_float_equal(r.offset, -0.050391092, 1e-12);
	assert_int_equal(r.time.tv_sec, 1796302898);
	assert_int_equal(r.time.tv_nsec, 50391092);
	assert_int_equal(r.leap, NTP_LEAP_NONE);
	assert_false(r.pulse);
	/* the configured offset is added */
	assert_int_equal(refclock_shm_decode(&s, 42, NULL, 0.05, &r), REFCLOCK_SHM_OK);
	assert_float_equal(r.offset, -0.000391092, 1e-12);
}

static void shm_nanoseconds_only_when_they_agree_with_microseconds(void **state)
{
	struct refclock_shm_segment s = gpsd_sample(0, 100, 0, 100, 0);
	struct refclock_reading r;

	(void)state;
	/* an old writer: microseconds only, stale nanoseconds */
	s.clock_usec = 250000;
	s.clock_nsec = 999;
	assert_int_equal(refclock_shm_decode(&s, 0, NULL, 0.0, &r), REFCLOCK_SHM_OK);
	assert_float_equal(r.offset, 0.25, 1e-12);
	s.clock_nsec = 250000123;
	assert_int_equal(refclock_shm_decode(&s, 0, NULL, 0.0, &r), REFCLOCK_SHM_OK);
	assert_float_equal(r.offset, 0.250000123, 1e-12);
}

static void shm_handshake(void **state)
{
	struct refclock_shm_segment s = gpsd_sample(1, 100, 0, 100, 1000), last;
	struct refclock_reading r;

	(void)state;
	/* mode 1: the count moved while it was copied */
	assert_int_equal(refclock_shm_decode(&s, 43, NULL, 0.0, &r), REFCLOCK_SHM_TORN);
	/* mode 0 has no count to check */
	s.mode = 0;
	assert_int_equal(refclock_shm_decode(&s, 43, NULL, 0.0, &r), REFCLOCK_SHM_OK);
	s.valid = 0;
	assert_int_equal(refclock_shm_decode(&s, 42, NULL, 0.0, &r), REFCLOCK_SHM_NOT_VALID);
	s.valid = 1;
	s.mode = 2;
	assert_int_equal(refclock_shm_decode(&s, 42, NULL, 0.0, &r), REFCLOCK_SHM_BAD_MODE);
	s.mode = 1;
	s.receive_usec = 1000000;
	assert_int_equal(refclock_shm_decode(&s, 42, NULL, 0.0, &r), REFCLOCK_SHM_BAD_TIME);
	/* a sample is taken once; the next one (new times) again */
	s = gpsd_sample(1, 100, 0, 100, 1000);
	last = s;
	assert_int_equal(refclock_shm_decode(&s, 42, &last, 0.0, &r), REFCLOCK_SHM_SEEN);
	s = gpsd_sample(1, 101, 0, 101, 1000);
	assert_int_equal(refclock_shm_decode(&s, 42, &last, 0.0, &r), REFCLOCK_SHM_OK);
}

static void shm_a_wrong_year_gives_an_honest_offset(void **state)
{
	/* a receiver past its week rollover: 1024 weeks back */
	struct refclock_shm_segment s = gpsd_sample(1, 1796302898, 500000000, 1796302898 - 1024 * 604800, 0);
	struct refclock_reading r;

	(void)state;
	assert_int_equal(refclock_shm_decode(&s, 42, NULL, 0.0, &r), REFCLOCK_SHM_OK);
	assert_float_equal(r.offset, -1024 * 604800.0 - 0.5, 1e-9);
}

static void shm_leap_bits(void **state)
{
	struct refclock_shm_segment s = gpsd_sample(1, 100, 0, 100, 0);
	struct refclock_reading r;
	static const enum ntp_leap want[] = { NTP_LEAP_NONE, NTP_LEAP_INSERT, NTP_LEAP_DELETE, NTP_LEAP_UNSYNC };

	(void)state;
	for (int leap = 0; leap < 4; leap++) {
		s.leap = leap;
		assert_int_equal(refclock_shm_decode(&s, 42, NULL, 0.0, &r), REFCLOCK_SHM_OK);
		assert_int_equal(r.leap, want[leap]);
	}
}

/* chrony's struct sock_sample on x86-64, byte by byte: what gpsd sends */
static void sock_datagram(void **state)
{
	uint8_t buf[40] = { 0 };
	struct refclock_reading r;
	int64_t sec = 1796302898, usec = 123456;
	double offset = -0.25;
	int32_t pulse = 1, leap = 1, magic = 0x534f434b;

	(void)state;
	assert_int_equal(sizeof(struct refclock_sock_sample), 40);
	memcpy(buf, &sec, 8);
	memcpy(buf + 8, &usec, 8);
	memcpy(buf + 16, &offset, 8);
	memcpy(buf + 24, &pulse, 4);
	memcpy(buf + 28, &leap, 4);
	memcpy(buf + 36, &magic, 4);
	assert_int_equal(refclock_sock_decode(buf, sizeof(buf), 0.001, &r), REFCLOCK_SOCK_OK);
	assert_int_equal(r.time.tv_sec, 1796302898);
	assert_int_equal(r.time.tv_nsec, 123456000);
	assert_float_equal(r.offset, -0.249, 1e-12);
	assert_true(r.pulse);
	assert_int_equal(r.leap, NTP_LEAP_INSERT);
	assert_int_equal(refclock_sock_decode(buf, 39, 0.0, &r), REFCLOCK_SOCK_BAD_LENGTH);
	buf[36] ^= 1;
	assert_int_equal(refclock_sock_decode(buf, sizeof(buf), 0.0, &r), REFCLOCK_SOCK_BAD_MAGIC);
	buf[36] ^= 1;
	offset = NAN;
	memcpy(buf + 16, &offset, 8);
	assert_int_equal(refclock_sock_decode(buf, sizeof(buf), 0.0, &r), REFCLOCK_SOCK_BAD_TIME);
}

static void pps_edge_numbered_by_its_lock(void **state)
{
	struct timespec edge = { 1796302898, 999990000 }; /* the local clock is 10 us behind */
	struct refclock_reading r;

	(void)state;
	/* alone: only the fraction */
	assert_true(refclock_pps_number(edge, 0.0, false, 0.0, &r));
	assert_float_equal(r.offset, 10e-6, 1e-12);
	assert_true(r.pulse);
	/* the lock says the clock is 3 s behind, give or take its jitter */
	assert_true(refclock_pps_number(edge, 0.0, true, 3.05, &r));
	assert_float_equal(r.offset, 3.00001, 1e-9);
	assert_true(refclock_pps_number(edge, 0.0, true, -0.12, &r));
	assert_float_equal(r.offset, 10e-6, 1e-12);
	/* a lock that disagrees on the fraction by more than 0.2 s numbers nothing */
	assert_false(refclock_pps_number(edge, 0.0, true, 0.3, &r));
	assert_false(refclock_pps_number(edge, 0.0, true, 2.7, &r));
	/* the configured offset (cable delay) shifts the pulse */
	assert_true(refclock_pps_number(edge, -0.000100, true, 0.0, &r));
	assert_float_equal(r.offset, -90e-6, 1e-12);
}

static struct refclock_phc_triple triple(double before, double phc, double after)
{
	struct timespec base = { 1796302898, 0 };

	return (struct refclock_phc_triple){ timespec_add(base, before), timespec_add(base, phc),
					     timespec_add(base, after) };
}

static void phc_offset_from_the_fastest_sandwich(void **state)
{
	struct refclock_phc_triple t[3] = {
		triple(0.000, 37.000006, 0.000010),     /* 10 us */
		triple(0.100, 37.100002, 0.100004),     /* 4 us: the one */
		triple(0.200, 37.200100, 0.200200),     /* 200 us */
	};
	struct refclock_reading r;

	(void)state;
	assert_true(refclock_phc_offset(t, 3, -37.0, &r));
	assert_float_equal(r.offset, 0.0, 1e-9);
	assert_float_equal(r.delay, 4e-6, 1e-9);
	assert_int_equal(r.time.tv_nsec, 100002000);
	/* after before before: nothing usable */
	t[0] = triple(0.1, 0.1, 0.0);
	assert_false(refclock_phc_offset(t, 1, 0.0, &r));
}

static void filter_averages_the_middle_readings(void **state)
{
	struct refclock_filter f;
	struct refclock_filter_sample s;
	static const double offsets[] = { 0.010, 0.011, 0.009, 0.500, 0.010, -0.400, 0.012, 0.008, 0.010, 0.010 };

	(void)state;
	refclock_filter_init(&f, 16);
	assert_false(refclock_filter_take(&f, 1e-6, 1e-9, &s));
	for (size_t i = 0; i < sizeof(offsets) / sizeof(offsets[0]); i++) {
		struct refclock_reading r = { .time = { 1000 + (time_t)i, 0 }, .offset = offsets[i] };

		refclock_filter_add(&f, &r);
	}
	assert_true(refclock_filter_take(&f, 1e-6, 1e-9, &s));
	/* 10 readings: the middle 6 by offset, the outliers gone */
	assert_int_equal(s.used, 6);
	assert_int_equal(s.readings, 10);
	assert_float_equal(s.offset, (0.010 * 4 + 0.009 + 0.011) / 6, 1e-12);
	/* the kept readings' standard deviation over sqrt(6): the error of their mean */
	assert_float_equal(s.dispersion, sqrt(2e-6 / 5) / sqrt(6.0), 1e-12);
	assert_float_equal(s.delay, 1e-9, 1e-15);
	/* as many dropped at each end: two readings are both kept, three give the median */
	{
		static const double few[] = { 0.010, 0.090, 0.011 };

		for (size_t n = 2; n <= 3; n++) {
			for (size_t i = 0; i < n; i++) {
				struct refclock_reading r = { .time = { 2000 + (time_t)i, 0 }, .offset = few[i] };

				refclock_filter_add(&f, &r);
			}
			assert_true(refclock_filter_take(&f, 1e-6, 1e-9, &s));
			assert_int_equal(s.used, n == 2 ? 2 : 1);
			assert_float_equal(s.offset, n == 2 ? 0.050 : 0.011, 1e-12);
		}
	}
	/* taken: the next poll starts empty, the lock still sees the last */
	assert_false(refclock_filter_take(&f, 1e-6, 1e-9, &s));
	{
		struct refclock_reading last;

		assert_true(refclock_filter_last(&f, &last));
		assert_float_equal(last.offset, 0.011, 1e-12);
	}
}

/* The kernel, played: what each ioctl answers, and what was asked. */
static struct {
	int caps, mode;
	int setparams_errno;
	uint32_t assert_sequence;
	struct pps_ktime assert_tu;
	int precise_errno, extended_errno;
	unsigned long requests[8];
	size_t request_count;
	int setparams_calls;
	unsigned phc_reads[64];   /* by file descriptor */
	struct sim_clock *clock;  /* set: the PHC keeps true time (TAI) against this system clock */
} kernel;

static int fake_ioctl(int fd, unsigned long request, void *arg)
{
	if (kernel.request_count < 8)
		kernel.requests[kernel.request_count++] = request;
	if (request == PPS_GETCAP) {
		*(int *)arg = kernel.caps;
	} else if (request == PPS_GETPARAMS) {
		((struct pps_kparams *)arg)->mode = kernel.mode;
	} else if (request == PPS_SETPARAMS) {
		kernel.setparams_calls++;
		if (kernel.setparams_errno) {
			errno = kernel.setparams_errno;
			return -1;
		}
		kernel.mode = ((struct pps_kparams *)arg)->mode;
	} else if (request == PPS_FETCH) {
		struct pps_fdata *d = arg;

		/* a zero timeout: never wait */
		assert_int_equal(d->timeout.sec, 0);
		assert_int_equal(d->timeout.nsec, 0);
		d->info.assert_sequence = kernel.assert_sequence;
		d->info.assert_tu = kernel.assert_tu;
	} else if (request == PTP_SYS_OFFSET_PRECISE) {
		struct ptp_sys_offset_precise *p = arg;

		if (fd >= 0 && fd < 64)
			kernel.phc_reads[fd]++;
		if (kernel.clock) {
			struct timespec local = sim_clock_now(kernel.clock);
			double tai = (double)kernel.clock->epoch + kernel.clock->tau + 37.0;

			p->sys_realtime = (struct ptp_clock_time){ .sec = local.tv_sec, .nsec = (uint32_t)local.tv_nsec };
			p->device = (struct ptp_clock_time){ .sec = (int64_t)floor(tai),
							     .nsec = (uint32_t)((tai - floor(tai)) * 1e9) };
			return 0;
		}

		if (kernel.precise_errno) {
			errno = kernel.precise_errno;
			return -1;
		}
		p->device = (struct ptp_clock_time){ .sec = 1796302935, .nsec = 500 };
		p->sys_realtime = (struct ptp_clock_time){ .sec = 1796302898, .nsec = 0 };
	} else if (request == PTP_SYS_OFFSET_EXTENDED) {
		struct ptp_sys_offset_extended *e = arg;

		if (kernel.extended_errno) {
			errno = kernel.extended_errno;
			return -1;
		}
		assert_int_equal(e->n_samples, REFCLOCK_PHC_SAMPLES);
		for (unsigned i = 0; i < e->n_samples; i++) {
			unsigned spread = i == 3 ? 200 : 2000; /* sample 3 is the quickest */

			e->ts[i][0] = (struct ptp_clock_time){ .sec = 1796302898, .nsec = 1000000 * i };
			e->ts[i][1] = (struct ptp_clock_time){ .sec = 1796302935, .nsec = 1000000 * i + spread / 2 + 70 };
			e->ts[i][2] = (struct ptp_clock_time){ .sec = 1796302898, .nsec = 1000000 * i + spread };
		}
	} else if (request == PTP_SYS_OFFSET) {
		struct ptp_sys_offset *o = arg;

		for (unsigned i = 0; i <= 2 * o->n_samples; i++)
			o->ts[i] = (struct ptp_clock_time){ .sec = i % 2 ? 1796302935 : 1796302898,
							    .nsec = 1000 * i + (i % 2 ? 30 : 0) };
	} else {
		errno = ENOTTY;
		return -1;
	}
	return 0;
}

static int reset_kernel(void **state)
{
	(void)state;
	memset(&kernel, 0, sizeof(kernel));
	return 0;
}

static void pps_open_sets_the_edge_only_when_needed(void **state)
{
	struct refclock_pps pps;
	char why[256];

	(void)state;
	/* the device already captures assert: no PPS_SETPARAMS, which needs CAP_SYS_TIME */
	kernel.caps = PPS_CAPTUREBOTH | PPS_TSFMT_TSPEC;
	kernel.mode = PPS_CAPTUREASSERT | PPS_TSFMT_TSPEC;
	assert_int_equal(refclock_pps_open(&pps, "/dev/null", false, fake_ioctl, why, sizeof(why)), 0);
	assert_int_equal(kernel.setparams_calls, 0);
	close(pps.fd);
	/* the clear edge wanted: set, keeping what was there */
	assert_int_equal(refclock_pps_open(&pps, "/dev/null", true, fake_ioctl, why, sizeof(why)), 0);
	assert_int_equal(kernel.setparams_calls, 1);
	assert_int_equal(kernel.mode, PPS_CAPTUREBOTH | PPS_TSFMT_TSPEC);
	close(pps.fd);
	/* refused: a clear message, the device closed */
	kernel.mode = PPS_TSFMT_TSPEC;
	kernel.setparams_errno = EPERM;
	assert_int_equal(refclock_pps_open(&pps, "/dev/null", false, fake_ioctl, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "cannot set it to capture the assert edge"));
	assert_int_equal(pps.fd, -1);
	/* a device that cannot capture the edge */
	kernel.caps = PPS_CAPTURECLEAR;
	assert_int_equal(refclock_pps_open(&pps, "/dev/null", false, fake_ioctl, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "cannot capture the assert edge"));
	/* not a PPS device at all (the real ioctl on /dev/null) */
	assert_int_equal(refclock_pps_open(&pps, "/dev/null", false, refclock_ioctl_system, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "not an RFC 2783 PPS device"));
}

static void pps_fetch_gives_each_edge_once(void **state)
{
	struct refclock_pps pps;
	struct timespec edge;
	char why[256];

	(void)state;
	kernel.caps = PPS_CAPTUREASSERT | PPS_TSFMT_TSPEC;
	kernel.mode = PPS_CAPTUREASSERT | PPS_TSFMT_TSPEC;
	assert_int_equal(refclock_pps_open(&pps, "/dev/null", false, fake_ioctl, why, sizeof(why)), 0);
	/* nothing captured yet */
	assert_int_equal(refclock_pps_fetch(&pps, &edge), 0);
	kernel.assert_sequence = 7;
	kernel.assert_tu = (struct pps_ktime){ .sec = 1796302899, .nsec = 999990 };
	assert_int_equal(refclock_pps_fetch(&pps, &edge), 1);
	assert_int_equal(edge.tv_sec, 1796302899);
	assert_int_equal(edge.tv_nsec, 999990);
	assert_int_equal(refclock_pps_fetch(&pps, &edge), 0);
	kernel.assert_sequence = 8;
	assert_int_equal(refclock_pps_fetch(&pps, &edge), 1);
	close(pps.fd);
}

static void phc_falls_back_from_precise_to_extended_to_plain(void **state)
{
	struct refclock_phc phc;
	struct refclock_phc_triple t[REFCLOCK_PHC_SAMPLES];
	struct refclock_reading r;
	char why[256];
	int n;

	(void)state;
	assert_int_equal(refclock_phc_open(&phc, "/dev/null", fake_ioctl, why, sizeof(why)), 0);
	/* cross-timestamped: one exact triple */
	n = refclock_phc_read(&phc, t);
	assert_int_equal(n, 1);
	assert_true(refclock_phc_offset(t, (size_t)n, -37.0, &r));
	assert_float_equal(r.offset, 500e-9, 1e-12);
	assert_float_equal(r.delay, 0.0, 1e-15);
	/* a driver without it: EXTENDED, and from then on straight away */
	kernel.precise_errno = EOPNOTSUPP;
	n = refclock_phc_read(&phc, t);
	assert_int_equal(n, REFCLOCK_PHC_SAMPLES);
	assert_int_equal(phc.method, REFCLOCK_PHC_EXTENDED);
	assert_true(refclock_phc_offset(t, (size_t)n, -37.0, &r));
	assert_float_equal(r.delay, 200e-9, 1e-12);
	assert_float_equal(r.offset, 70e-9, 1e-12);
	kernel.request_count = 0;
	refclock_phc_read(&phc, t);
	assert_int_equal(kernel.requests[0], PTP_SYS_OFFSET_EXTENDED);
	/* neither: the plain interleaved readings */
	phc.method = REFCLOCK_PHC_PRECISE;
	kernel.extended_errno = EOPNOTSUPP;
	n = refclock_phc_read(&phc, t);
	assert_int_equal(n, REFCLOCK_PHC_SAMPLES);
	assert_int_equal(phc.method, REFCLOCK_PHC_PLAIN);
	assert_true(refclock_phc_offset(t, (size_t)n, -37.0, &r));
	assert_float_equal(r.offset, 30e-9, 1e-12);
	assert_float_equal(r.delay, 2e-6, 1e-12);
	/* a real error is not a reason to fall back */
	phc.method = REFCLOCK_PHC_PRECISE;
	kernel.precise_errno = EIO;
	assert_int_equal(refclock_phc_read(&phc, t), -1);
	assert_int_equal(errno, EIO);
	assert_int_equal(phc.method, REFCLOCK_PHC_PRECISE);
	close(phc.fd);
}

/* A PHC refclock of the played kernel, in TAI, read every 2^dpoll seconds. */
static struct refclock_config phc_config(const char *refid, int poll, int dpoll)
{
	struct refclock_config c = {
		.driver = REFCLOCK_PHC, .device = "/dev/null", .offset = -37.0, .delay = REFCLOCK_DEFAULT_DELAY,
		.precision = REFCLOCK_DEFAULT_PRECISION, .poll = poll, .dpoll = dpoll, .filter = REFCLOCK_MAX_FILTER,
	};

	snprintf(c.refid, sizeof(c.refid), "%s", refid);
	return c;
}

/* Runs the refclocks as the daemon's loop does for a minute of true time,
 * on a system clock that starts ahead seconds ahead and is disciplined by
 * them, waking only when refclocks_next_wakeup says; the number of
 * wakeups. selections (NULL: not wanted) gets where selection put each. */
static unsigned run_for_a_minute(const struct refclock_config *cfgs, size_t n, double ahead,
				 enum source_selection *selections)
{
	struct sim_clock sim;
	struct clock_ops ops;
	struct engine_config cfg;
	struct engine *engine;
	struct refclocks *rc;
	unsigned wakeups = 0;
	char why[256];

	sim_clock_init(&sim, 1796302898, ahead, 0.0, 0.0, NULL);
	sim_clock_ops(&sim, &ops);
	kernel.clock = &sim;
	engine_config_defaults(&cfg);
	engine = engine_create(&cfg, &ops, sim_clock_now(&sim));
	assert_non_null(engine);
	rc = refclocks_create(cfgs, n, fake_ioctl, why, sizeof(why));
	assert_non_null(rc);
	assert_int_equal(refclocks_start(rc, engine, sim_clock_now(&sim)), 0);
	while (sim.tau < 64.0) {
		struct timespec due;

		refclocks_run(rc, sim_clock_now(&sim));
		wakeups++;
		due = refclocks_next_wakeup(rc, sim_clock_now(&sim));
		sim_clock_advance(&sim, sim.tau + fmax(0.0, timespec_diff(due, sim_clock_now(&sim))));
	}
	for (size_t id = 0; selections && id < engine_source_capacity(engine); id++) {
		struct source_status st;

		if (!engine_get_source(engine, (int)id, sim_clock_now(&sim), &st))
			continue;
		for (size_t i = 0; i < n; i++)
			if (!strcmp(st.name, cfgs[i].refid))
				selections[i] = st.selection;
	}
	refclocks_destroy(rc);
	engine_destroy(engine);
	kernel.clock = NULL;
	return wakeups;
}

/* How often each PHC was read, in the order they were opened (each on the
 * lowest free descriptor, so in the order configured). */
static void phc_reads_in_order(unsigned *reads, size_t n)
{
	size_t found = 0;

	for (size_t fd = 0; fd < 64; fd++)
		if (kernel.phc_reads[fd] && found < n)
			reads[found++] = kernel.phc_reads[fd];
	assert_int_equal(found, n);
}

/* A driver is read every 2^dpoll seconds (chrony's default, every second),
 * never less often than its poll, and the loop wakes only for that. */
static void drivers_are_read_every_dpoll(void **state)
{
	struct refclock_config cfgs[3] = {
		phc_config("DFLT", REFCLOCK_DEFAULT_POLL, REFCLOCK_DEFAULT_DPOLL),
		phc_config("FAST", 4, -2),
		phc_config("SLOW", 1, 3), /* bounded by its poll: every 2 s */
	};
	unsigned reads[3];

	(void)state;
	/* alone, the default: once a second, not ten times */
	assert_int_equal(run_for_a_minute(cfgs, 1, 0.0, NULL), 64);
	phc_reads_in_order(reads, 1);
	assert_int_equal(reads[0], 64);
	memset(&kernel, 0, sizeof(kernel));
	/* together: each at its own rate, the loop at the fastest */
	assert_int_equal(run_for_a_minute(cfgs, 3, 0.0, NULL), 256);
	phc_reads_in_order(reads, 3);
	assert_int_equal(reads[0], 64);
	assert_int_equal(reads[1], 256);
	assert_int_equal(reads[2], 32);
}

/* The first poll steps a clock 100 s ahead back: the reads and polls, set
 * on the clock before, move back with it and go on every second. */
static void timers_follow_a_step(void **state)
{
	struct refclock_config cfg = phc_config("PHC", REFCLOCK_DEFAULT_POLL, REFCLOCK_DEFAULT_DPOLL);
	unsigned reads;

	(void)state;
	assert_in_range(run_for_a_minute(&cfg, 1, 100.0, NULL), 63, 65);
	phc_reads_in_order(&reads, 1);
	assert_in_range(reads, 63, 65);
}

/* chrony's selection options reach a refclock as they reach a server: of
 * three that agree, the noselect one is only measured and the preferred
 * one leads the others. */
static void selection_options_apply(void **state)
{
	struct refclock_config cfgs[3] = {
		phc_config("NMEA", REFCLOCK_DEFAULT_POLL, REFCLOCK_DEFAULT_DPOLL),
		phc_config("PPS", REFCLOCK_DEFAULT_POLL, REFCLOCK_DEFAULT_DPOLL),
		phc_config("PHC", REFCLOCK_DEFAULT_POLL, REFCLOCK_DEFAULT_DPOLL),
	};
	enum source_selection selections[3] = { SOURCE_UNUSABLE, SOURCE_UNUSABLE, SOURCE_UNUSABLE };

	(void)state;
	cfgs[0].noselect = true;
	cfgs[1].prefer = true;
	run_for_a_minute(cfgs, 3, 0.0, selections);
	assert_int_equal(selections[0], SOURCE_NOSELECT);
	assert_int_equal(selections[1], SOURCE_SYSTEM_PEER);
	assert_int_equal(selections[2], SOURCE_NOT_PREFERRED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(shm_sample_gives_clock_minus_receive),
		cmocka_unit_test(shm_nanoseconds_only_when_they_agree_with_microseconds),
		cmocka_unit_test(shm_handshake),
		cmocka_unit_test(shm_a_wrong_year_gives_an_honest_offset),
		cmocka_unit_test(shm_leap_bits),
		cmocka_unit_test(sock_datagram),
		cmocka_unit_test(pps_edge_numbered_by_its_lock),
		cmocka_unit_test(phc_offset_from_the_fastest_sandwich),
		cmocka_unit_test(filter_averages_the_middle_readings),
		cmocka_unit_test_setup(pps_open_sets_the_edge_only_when_needed, reset_kernel),
		cmocka_unit_test_setup(pps_fetch_gives_each_edge_once, reset_kernel),
		cmocka_unit_test_setup(phc_falls_back_from_precise_to_extended_to_plain, reset_kernel),
		cmocka_unit_test_setup(drivers_are_read_every_dpoll, reset_kernel),
		cmocka_unit_test_setup(timers_follow_a_step, reset_kernel),
		cmocka_unit_test_setup(selection_options_apply, reset_kernel),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
