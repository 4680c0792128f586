#include "refclocks.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "ntp_time.h"
#include "refclock_decode.h"
#include "refclock_filter.h"
#include "refid.h"

/* A lock's reading older than this cannot number a pulse: seconds. A
 * server is polled far less often; its offsets are corrected with every
 * clock correction, and at 500 ppm 1024 s make 0.5 s. */
#define LOCK_MAX_AGE 4.0
#define SERVER_LOCK_MAX_AGE 1024.0
#define IDLE_WAKEUP 3600.0

struct refclock {
	struct refclock_config cfg;
	int engine_id;
	int lock;                       /* index of the refclock that numbers the pulses, -1: none (or a server) */
	volatile struct refclock_shm_segment *shm;
	struct refclock_shm_segment shm_last; /* the sample read last, all zero: none */
	int sock_fd;
	struct refclock_pps pps;
	struct refclock_phc phc;
	struct refclock_filter filter;
	struct timespec next_poll;
	struct timespec next_read;      /* SHM, PPS, PHC: when the driver is read next */
	unsigned bad_readings;          /* malformed or unnumbered, for the log */
	bool failing;                   /* the last read failed: said once */
};

struct refclocks {
	struct engine *engine;
	size_t count;
	struct refclock *clocks;
	double corrections;             /* engine_corrections when the timers were last moved */
};

static double poll_seconds(const struct refclock *c)
{
	return ldexp(1.0, c->cfg.poll);
}

/* As chrony: a dpoll longer than the poll would leave polls without a
 * reading, so the poll bounds it. */
static double read_seconds(const struct refclock *c)
{
	return ldexp(1.0, c->cfg.dpoll < c->cfg.poll ? c->cfg.dpoll : c->cfg.poll);
}

/* SOCK is read as its datagrams arrive, the others on a timer. */
static bool read_on_timer(const struct refclock *c)
{
	return c->cfg.driver != REFCLOCK_SOCK;
}

static int find_refid(const struct refclocks *rc, const char *refid)
{
	for (size_t i = 0; i < rc->count; i++)
		if (!strcmp(rc->clocks[i].cfg.refid, refid))
			return (int)i;
	return -1;
}

static int open_driver(struct refclock *c, refclock_ioctl_fn ioctl_fn, char *why, size_t why_len)
{
	switch (c->cfg.driver) {
	case REFCLOCK_SHM:
		c->shm = refclock_shm_attach((unsigned)strtoul(c->cfg.device, NULL, 10), why, why_len);
		return c->shm ? 0 : -1;
	case REFCLOCK_SOCK:
		c->sock_fd = refclock_sock_open(c->cfg.device, why, why_len);
		return c->sock_fd < 0 ? -1 : 0;
	case REFCLOCK_PPS:
		return refclock_pps_open(&c->pps, c->cfg.device, c->cfg.clear_edge, ioctl_fn, why, why_len);
	case REFCLOCK_PHC:
		return refclock_phc_open(&c->phc, c->cfg.device, ioctl_fn, why, why_len);
	}
	return -1;
}

struct refclocks *refclocks_create(const struct refclock_config *cfgs, size_t count, refclock_ioctl_fn ioctl_fn,
				   char *why, size_t why_len)
{
	struct refclocks *rc = calloc(1, sizeof(*rc));

	if (!rc || !(rc->clocks = calloc(count ? count : 1, sizeof(rc->clocks[0])))) {
		free(rc);
		snprintf(why, why_len, "out of memory");
		return NULL;
	}
	for (size_t i = 0; i < count; i++) {
		struct refclock *c = &rc->clocks[i];

		c->cfg = cfgs[i];
		c->engine_id = -1;
		c->sock_fd = -1;
		c->pps.fd = -1;
		c->phc.fd = -1;
		refclock_filter_init(&c->filter, c->cfg.filter);
	}
	rc->count = count;
	for (size_t i = 0; i < count; i++) {
		struct refclock *c = &rc->clocks[i];
		char msg[256];

		/* not a refclock's refid: a server's name (the configuration checked it is one) */
		c->lock = c->cfg.lock[0] ? find_refid(rc, c->cfg.lock) : -1;
		if (open_driver(c, ioctl_fn, msg, sizeof(msg)) < 0) {
			snprintf(why, why_len, "refclock %s: %s", c->cfg.refid, msg);
			refclocks_destroy(rc);
			return NULL;
		}
	}
	return rc;
}

void refclocks_destroy(struct refclocks *rc)
{
	if (!rc)
		return;
	for (size_t i = 0; i < rc->count; i++) {
		struct refclock *c = &rc->clocks[i];

		refclock_shm_detach(c->shm);
		if (c->sock_fd >= 0) {
			close(c->sock_fd);
			/* as chronyd does; after the drop only where the directory lets us */
			unlink(c->cfg.device);
		}
		if (c->pps.fd >= 0)
			close(c->pps.fd);
		if (c->phc.fd >= 0)
			close(c->phc.fd);
		if (rc->engine && c->engine_id >= 0)
			engine_remove_source(rc->engine, c->engine_id);
	}
	free(rc->clocks);
	free(rc);
}

static int8_t log2_precision(double seconds)
{
	double l = ceil(log2(seconds));

	return (int8_t)(l < -32 ? -32 : l > 0 ? 0 : l);
}

int refclocks_start(struct refclocks *rc, struct engine *engine, struct timespec now)
{
	rc->engine = engine;
	rc->corrections = engine_corrections(engine);
	for (size_t i = 0; i < rc->count; i++) {
		struct refclock *c = &rc->clocks[i];
		struct source_config sc = {
			.name = c->cfg.refid,
			.minpoll = c->cfg.poll,
			.maxpoll = c->cfg.poll,
			.refclock = true,
			.refid = refid_from_name(c->cfg.refid),
			.refclock_precision = log2_precision(c->cfg.precision),
			.prefer = c->cfg.prefer,
			.noselect = c->cfg.noselect,
			.trust = c->cfg.trust,
			.require = c->cfg.require,
		};

		c->engine_id = engine_add_source(engine, &sc, now);
		if (c->engine_id < 0)
			return -1;
		c->next_poll = timespec_add(now, poll_seconds(c));
		c->next_read = now;
	}
	return 0;
}

/* The offset of the last reply of the server named name, when recent. */
static bool server_offset(const struct refclocks *rc, const char *name, struct timespec now, double *offset)
{
	struct source_status st;

	for (size_t id = 0; id < engine_source_capacity(rc->engine); id++) {
		if (!engine_get_source(rc->engine, (int)id, now, &st) || st.refclock || strcmp(st.name, name))
			continue;
		if (st.have_sample && st.last_rx_age <= SERVER_LOCK_MAX_AGE) {
			*offset = st.last_offset;
			return true;
		}
	}
	return false;
}

/* The offset that numbers a pulse's second: the lock refclock's newest
 * reading, or the lock server's last reply. */
static bool lock_offset(const struct refclocks *rc, const struct refclock *c, struct timespec at, double *offset)
{
	struct refclock_reading lock;

	if (c->lock < 0)
		return server_offset(rc, c->cfg.lock, at, offset);
	if (!refclock_filter_last(&rc->clocks[c->lock].filter, &lock) || lock.pulse)
		return false;
	/* kept as the clock left alone would have read it (add_reading) */
	if (rc->engine)
		engine_reading_now(rc->engine, &lock.time, &lock.offset);
	if (fabs(timespec_diff(at, lock.time)) > LOCK_MAX_AGE)
		return false;
	*offset = lock.offset;
	return true;
}

/* A reading that only knows the fraction of a second (a PPS pulse) gets
 * its second from the lock. */
static bool number_pulse(const struct refclocks *rc, const struct refclock *c, struct refclock_reading *r)
{
	double offset = 0.0;

	if (c->cfg.lock[0] && !lock_offset(rc, c, r->time, &offset))
		return false; /* nothing to number it with yet */
	return refclock_pps_number(r->time, c->cfg.offset, c->cfg.lock[0] != '\0', offset, r);
}

static void add_reading(struct refclocks *rc, struct refclock *c, struct refclock_reading *r)
{
	if (r->pulse && !number_pulse(rc, c, r)) {
		if (c->bad_readings++ == 0)
			log_msg(LOG_LEVEL_WARNING,
				"refclock %s: a pulse its lock %s cannot number (no recent reading, or more than "
				"%.1f s apart): pulses dropped until they agree", c->cfg.refid, c->cfg.lock,
				REFCLOCK_PPS_LOCK_LIMIT);
		return;
	}
	/* a slew runs on between the readings of one poll */
	if (rc->engine)
		engine_reading_unadjusted(rc->engine, &r->time, &r->offset);
	refclock_filter_add(&c->filter, r);
}

static void read_failed(struct refclock *c, const char *what)
{
	if (!c->failing)
		log_msg(LOG_LEVEL_WARNING, "refclock %s: %s: %s", c->cfg.refid, what, strerror(errno));
	c->failing = true;
}

static void read_driver(struct refclocks *rc, struct refclock *c)
{
	struct refclock_reading r;
	struct refclock_phc_triple triples[REFCLOCK_PHC_SAMPLES];
	struct timespec edge;
	int n;

	switch (c->cfg.driver) {
	case REFCLOCK_SHM:
		if (refclock_shm_read(c->shm, &c->shm_last, c->cfg.offset, &r) == REFCLOCK_SHM_OK)
			add_reading(rc, c, &r);
		return;
	case REFCLOCK_SOCK:
		return; /* not on a timer */
	case REFCLOCK_PPS:
		n = refclock_pps_fetch(&c->pps, &edge);
		if (n < 0) {
			read_failed(c, "PPS_FETCH");
			return;
		}
		c->failing = false;
		if (n > 0) {
			r = (struct refclock_reading){ .time = edge, .pulse = true };
			add_reading(rc, c, &r);
		}
		return;
	case REFCLOCK_PHC:
		n = refclock_phc_read(&c->phc, triples);
		if (n < 0) {
			read_failed(c, "reading the PHC");
			return;
		}
		c->failing = false;
		if (refclock_phc_offset(triples, (size_t)n, c->cfg.offset, &r))
			add_reading(rc, c, &r);
		return;
	}
}

size_t refclocks_pollfds(const struct refclocks *rc, struct pollfd *fds, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; rc && i < rc->count && n < max; i++)
		if (rc->clocks[i].sock_fd >= 0)
			fds[n++] = (struct pollfd){ .fd = rc->clocks[i].sock_fd, .events = POLLIN };
	return n;
}

static void receive_sock(struct refclocks *rc, struct refclock *c)
{
	/* bounded: a flood cannot keep the loop here */
	for (int k = 0; k < 64; k++) {
		struct refclock_sock_sample buf[2]; /* room to see a datagram too long */
		struct refclock_reading r;
		enum refclock_sock_status status;
		ssize_t len = recv(c->sock_fd, buf, sizeof(buf), 0);

		if (len < 0)
			return;
		status = refclock_sock_decode(buf, (size_t)len, c->cfg.offset, &r);
		if (status != REFCLOCK_SOCK_OK) {
			if (c->bad_readings++ == 0)
				log_msg(LOG_LEVEL_WARNING, "refclock %s: datagram dropped: %s (counting them)",
					c->cfg.refid, refclock_sock_status_str(status));
			continue;
		}
		add_reading(rc, c, &r);
	}
}

void refclocks_dispatch(struct refclocks *rc, const struct pollfd *fds, size_t count, struct timespec now)
{
	(void)now;
	for (size_t i = 0; rc && i < count; i++) {
		if (!fds[i].revents)
			continue;
		for (size_t j = 0; j < rc->count; j++)
			if (rc->clocks[j].sock_fd == fds[i].fd)
				receive_sock(rc, &rc->clocks[j]);
	}
}

static void poll_engine(struct refclocks *rc, struct refclock *c, struct timespec now)
{
	struct refclock_filter_sample fs;
	struct filter_sample sample;
	bool have = refclock_filter_take(&c->filter, c->cfg.precision, c->cfg.delay, &fs);

	if (have) {
		sample = (struct filter_sample){
			.offset = fs.offset, .delay = fs.delay, .dispersion = fs.dispersion, .time = fs.time,
		};
		log_msg(LOG_LEVEL_DEBUG, "refclock %s: %u of %u readings: offset %+.9f dispersion %.9f",
			c->cfg.refid, fs.used, fs.readings, fs.offset, fs.dispersion);
	}
	engine_refclock_poll(rc->engine, c->engine_id, have ? &sample : NULL, have ? fs.leap : NTP_LEAP_UNSYNC, now);
}

/* A time due again: one period after the last, or one after now when the
 * loop slept past it, so no burst catches up. */
static struct timespec next_due(struct timespec due, double period, struct timespec now)
{
	due = timespec_add(due, period);
	return timespec_diff(now, due) >= 0 ? timespec_add(now, period) : due;
}

/* The timers are times of the local clock: when the discipline moves it,
 * they move with it (as a server's polls do, source_correct), or a step
 * back would stop every read and poll for as long as the step was. A slew
 * counts once decided: the timers need no finer, and the loop no question
 * to the clock each time round. */
static void follow_clock(struct refclocks *rc)
{
	double corrections = engine_corrections(rc->engine), by = corrections - rc->corrections;

	if (by == 0.0)
		return;
	for (size_t i = 0; i < rc->count; i++) {
		rc->clocks[i].next_read = timespec_add(rc->clocks[i].next_read, by);
		rc->clocks[i].next_poll = timespec_add(rc->clocks[i].next_poll, by);
	}
	rc->corrections = corrections;
}

void refclocks_run(struct refclocks *rc, struct timespec now)
{
	if (!rc || !rc->engine)
		return;
	follow_clock(rc);
	for (size_t i = 0; i < rc->count; i++) {
		struct refclock *c = &rc->clocks[i];

		if (read_on_timer(c) && timespec_diff(now, c->next_read) >= 0) {
			read_driver(rc, c);
			c->next_read = next_due(c->next_read, read_seconds(c), now);
		}
		if (timespec_diff(now, c->next_poll) >= 0) {
			poll_engine(rc, c, now);
			c->next_poll = next_due(c->next_poll, poll_seconds(c), now);
		}
	}
	follow_clock(rc); /* a poll may have moved the clock */
}

struct timespec refclocks_next_wakeup(const struct refclocks *rc, struct timespec now)
{
	struct timespec next = timespec_add(now, IDLE_WAKEUP);

	for (size_t i = 0; rc && i < rc->count; i++) {
		const struct refclock *c = &rc->clocks[i];

		if (read_on_timer(c) && timespec_diff(c->next_read, next) < 0)
			next = c->next_read;
		if (timespec_diff(c->next_poll, next) < 0)
			next = c->next_poll;
	}
	return next;
}
