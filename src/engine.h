/* The timekeeping engine: the pure core as one object. It owns the sources,
 * runs selection and the discipline, drives a struct clock_ops, and says what
 * to send when. It never reads a clock, opens a socket or sleeps: time and
 * packets are handed to it. The daemon and the simulator are loops around it.
 *
 * A loop looks like:
 *     wait until engine_next_wakeup() or a packet arrives;
 *     packet  -> engine_handle_reply(id, bytes, receive time);
 *     timeout -> if id = engine_due_request(now) is a source:
 *                    now2 = read clock; engine_build_request(id, now2, buf); sendmsg(buf);
 */
#ifndef STRATA_ENGINE_H
#define STRATA_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "clock.h"
#include "discipline.h"
#include "leap.h"
#include "netaddr.h"
#include "packet.h"
#include "source.h" /* struct source_config, struct source_status */

struct engine_config {
	bool adjust;                    /* false: measure, select and serve, never touch the clock */
	double step_threshold;          /* seconds; default 0.128 */
	double panic_threshold;         /* seconds; the insane-time guard; default 1000; 0: no guard */
	bool allow_initial_insane_step; /* ntpd -g: one step past the guard, at start-up only */
	double stepout;                 /* seconds an excess must persist before a later step; default 900 */
	int max_steps;                  /* steps allowed after start-up; 0: only at start-up; -1: no limit */
	unsigned minsources;            /* quorum of truechimers before the clock is touched; default 1 */
	double max_distance;            /* seconds; sources farther from their reference are unusable; default 1.5 */
	double max_jitter;              /* seconds; noisier sources are not selectable; default 1 (chrony's maxjitter) */
	bool have_initial_frequency;    /* a drift file was read */
	double initial_frequency_ppm;
	unsigned local_stratum;         /* 0: off; else serve the local clock at this stratum when no source is usable */
	int8_t precision;               /* log2 seconds, measured by the edge */
	double wander_ppm_per_s;        /* frequency random walk the discipline starts from (it learns its own); default 0.003 */
	double initial_wander_ppm_per_s;/* learnt before (the drift file): the start when above
					 * wander_ppm_per_s, held within 100 times it; 0: none */
	double max_clock_error_ppm;     /* the oscillator's error the served bound allows beyond the estimated
					 * frequency's skew (chrony's maxclockerror); default 1 */
	uint64_t random_seed;           /* seeds the request nonces; the daemon passes getrandom() bytes */
	enum leap_mode leap_mode;       /* what is done to the clock at a leap second; default system */
	struct leap_smear leap_smear;   /* served time around a leap second; default off */
};

/* The defaults listed above. */
void engine_config_defaults(struct engine_config *cfg);

enum sync_state {
	SYNC_UNSYNCHRONIZED = 0,
	SYNC_SYNCHRONIZED,
	SYNC_LOCAL,             /* serving the local clock at local_stratum */
};

/* Why the clock is not synchronized, for people. */
enum unsync_reason {
	UNSYNC_NONE = 0,
	UNSYNC_STARTING,        /* no sample yet */
	UNSYNC_NO_SOURCES,      /* no usable source */
	UNSYNC_NO_MAJORITY,     /* the sources disagree */
	UNSYNC_QUORUM_NOT_MET,  /* fewer agreeing sources than minsources */
	UNSYNC_INSANE_TIME,     /* the insane-time guard refused a correction */
	UNSYNC_REQUIRE_NOT_MET, /* sources have require and none of them is a truechimer */
};

struct engine_tracking {
	enum sync_state state;
	enum unsync_reason reason;
	struct net_addr reference_addr;
	char reference_name[64];
	uint32_t refid;
	unsigned stratum;            /* ours: system peer + 1; 16 when unsynchronized */
	struct timespec reference_time; /* last clock update; now when serving the local clock; 0: none */
	double system_offset;        /* seconds: current estimate, true - local */
	double last_offset;          /* seconds: at the last update */
	double rms_offset;           /* seconds */
	double frequency_ppm;        /* correction applied: positive makes the clock faster */
	double residual_frequency_ppm;
	double skew_ppm;             /* estimated error bound of the frequency */
	double root_delay;           /* seconds */
	double root_dispersion;      /* seconds, grown at PHI since reference_time (what clients are
					served); infinite before the first update, 0 serving the local clock */
	enum ntp_leap leap;
	unsigned steps;              /* steps taken so far */
	double insane_offset;        /* seconds: what the guard refused, when reason is UNSYNC_INSANE_TIME */
	/* the leap table that decides (the first not expired), else the first, expired */
	int64_t leap_table_expires;  /* Unix seconds; 0: no table; LEAP_NEVER_EXPIRES: a time zone's */
	bool leap_table_expired;     /* so not used: the sources alone announce leap seconds */
	int64_t next_leap_when;      /* in that table after now: the midnight ending it; 0: none */
	int next_leap_sign;          /* +1 inserted, -1 deleted */
	enum leap_mode leap_mode;
};

/* What the server answers downstream clients with. */
struct engine_system {
	enum ntp_leap leap;          /* NTP_LEAP_UNSYNC while unsynchronized */
	uint8_t stratum;             /* our stratum as it goes into replies (16 unsynchronized) */
	int8_t precision;
	uint32_t refid;
	struct timespec reference_time;
	double root_delay;
	double root_dispersion;      /* at reference_time; the server adds growth since */
	/* the leap second to smear served time around (leap_when 0: none):
	 * the one pending, else the last that passed */
	int64_t leap_when;           /* Unix time of the midnight after it */
	int leap_sign;               /* +1 inserted, -1 deleted */
	bool leap_moves_clock;       /* the clock takes the leap at once (the kernel or a step): it
					reads 23:59:59 twice; else it runs through the leap */
	struct leap_smear smear;
	double dispersion_rate;      /* s/s: that growth, max_clock_error_ppm plus the frequency's skew */
};

struct engine *engine_create(const struct engine_config *cfg, const struct clock_ops *clock,
			     struct timespec now);
void engine_destroy(struct engine *engine);

/* A reload (SIGHUP): step_threshold, stepout, max_steps, minsources,
 * max_distance, max_jitter and local_stratum take effect at once (a
 * selection round runs at the next engine_due_request); leap_mode from the
 * next clock update, which tells the kernel of a leap or not. adjust,
 * panic_threshold, allow_initial_insane_step, the initial frequency, the
 * precision and the seed are fixed at creation: the caller keeps them. */
void engine_reconfigure(struct engine *engine, const struct engine_config *cfg);

/* Returns the new source's id (>= 0), or -1 when out of memory or cfg is
 * invalid. The table has no fixed size: it doubles when full (the only
 * allocation besides source_create's; selection rounds allocate nothing). */
int engine_add_source(struct engine *engine, const struct source_config *cfg, struct timespec now);
/* The next engine_due_request (due at once) runs selection without it. */
void engine_remove_source(struct engine *engine, int id);
/* Ids run from 0 to this, exclusive (some unused). */
size_t engine_source_capacity(const struct engine *engine);
bool engine_source_exists(const struct engine *engine, int id);
/* A pool member that is dead or a falseticker, to be replaced by a new address. */
bool engine_source_wants_replacement(const struct engine *engine, int id, struct timespec now);

/* chronyc online/offline and burst for one source (see source.h); burst
 * returns false when the counts are out of range or the source is stopped. */
void engine_set_online(struct engine *engine, int id, bool online, struct timespec now);
bool engine_burst(struct engine *engine, int id, unsigned good, unsigned max, struct timespec now);

enum engine_makestep {
	ENGINE_STEPPED = 0,
	ENGINE_STEP_NOT_SYNCHRONIZED, /* no estimate to step by */
	ENGINE_STEP_NOT_ADJUSTING,    /* adjust is off (-x): the clock is left alone */
	ENGINE_STEP_FAILED,           /* the clock refused the step */
};
/* chronyc makestep: when synchronized, steps the clock through the clock
 * seam by the whole remaining correction (*offset, seconds), outside the
 * step policy, and moves every stored sample with it. */
enum engine_makestep engine_makestep(struct engine *engine, struct timespec now, double *offset);
const char *engine_makestep_str(enum engine_makestep result);
/* An NTS source's client state (NULL for another source), for the edge
 * that runs its key exchanges (nts_client_wants_ke, nts_client_ke_*). */
struct nts_client *engine_source_nts(struct engine *engine, int id);
/* A key exchange for the source succeeded: see source_nts_ke_done. */
bool engine_source_nts_ke_done(struct engine *engine, int id, const struct nts_ke_result *result,
			       struct timespec now);

struct timespec engine_next_wakeup(const struct engine *engine);
/* The id of the source whose request is due at now, -1: none. Requests to
 * different sources leave a separation apart (an eighth of the poll
 * interval, 2 ms to 0.2 s: chrony's), so one is due at a time; the next at
 * engine_next_wakeup. */
int engine_due_request(struct engine *engine, struct timespec now);
/* The request for a source (with its MAC when the source has a key); now is
 * read just before it is sent. Returns its length, 0 when nothing is to be sent. */
size_t engine_build_request(struct engine *engine, int id, struct timespec now,
			    uint8_t out[SOURCE_REQUEST_MAX]);
/* The kernel's time (local clock) of the source's request leaving: see
 * source_transmitted. */
void engine_request_sent(struct engine *engine, int id, struct timespec kernel_time);
void engine_handle_reply(struct engine *engine, int id, const uint8_t *buf, size_t len,
			 struct timespec receive_time);
/* The leap tables (leapsecond_list, then leapsectz), in the order they are
 * trusted: the first one not expired decides (leap_decide). Copied; called
 * again (a reload), the new tables decide from the next clock update on: a
 * leap already announced for today stays pending until then, and one that
 * has passed stays passed (the smear after it goes on). */
void engine_set_leap_tables(struct engine *engine, const struct leap_table *tables, size_t count);

/* Every step and slew the discipline has decided since start (seconds): a
 * local time kept from before is as much later once the slews have run.
 * A field, not a question to the clock: cheap enough for every loop. */
double engine_corrections(const struct engine *engine);
/* A reference clock's reading (its local time and offset), taken now, put
 * on the clock as it would read had the discipline never moved it (no step,
 * no slew): readings gathered over a poll while a slew runs agree on that
 * scale with each other and with the corrected clock of the poll
 * (engine_refclock_poll). engine_reading_now brings one kept so back onto
 * the clock as it reads now (a PPS lock's reading, to number a pulse). */
void engine_reading_unadjusted(const struct engine *engine, struct timespec *time, double *offset);
void engine_reading_now(const struct engine *engine, struct timespec *time, double *offset);
/* A reference clock's poll (a source added with cfg->refclock): the sample
 * its readings since the last poll gave, on the local clock as it would read
 * unadjusted (engine_reading_unadjusted; NULL: none, a missed poll), with the leap
 * it announces; now is the local time. */
void engine_refclock_poll(struct engine *engine, int id, const struct filter_sample *sample, enum ntp_leap leap,
			  struct timespec now);
/* The refids that mark a server as synchronized to us (loop_own_refids):
 * such a server is never selected. */
void engine_set_own_refids(struct engine *engine, const uint32_t *refids, size_t count);

void engine_get_tracking(const struct engine *engine, struct timespec now, struct engine_tracking *out);
bool engine_get_source(const struct engine *engine, int id, struct timespec now,
		       struct source_status *out);
/* The source's last exchange, as chronyc ntpdata shows it. */
bool engine_get_exchange(const struct engine *engine, int id, struct source_exchange *out);
void engine_get_system(const struct engine *engine, struct engine_system *out);
/* The frequency and the wander learnt, to save in the drift file. */
double engine_frequency_ppm(const struct engine *engine);
double engine_wander_ppm_per_s(const struct engine *engine);

const char *sync_state_str(enum sync_state state);
const char *unsync_reason_str(enum unsync_reason reason);

#endif
