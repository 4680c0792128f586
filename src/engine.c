#include "engine.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "discipline.h"
#include "log.h"
#include "loop.h"
#include "ntp_time.h"
#include "refid.h"
#include "select.h"

/* Room for this many sources at first; the table doubles when full. */
#define ENGINE_INITIAL_SOURCES 16
/* The least round-trip delay a source showed creeps up this fast (s/s), so a
 * route that got longer for good is learnt within hours. */
#define MIN_DELAY_CREEP 1e-8
/* Replies this close to a leap second are not used: the server's timestamps
 * may straddle it. */
#define LEAP_GUARD 2.0
#define STARTUP_SOURCES 3
#define STARTUP_WAIT 30.0
/* Seconds of polling without a single answer before the log says so: long
 * enough for a network that comes up late and for DNS retries, short
 * enough that an operator still watching the start sees it. */
#define NO_ANSWER_WARNING 300.0
/* How long the loop may sleep when no source is to be polled. */
#define IDLE_WAKEUP 3600.0
/* Requests to two sources leave at least an eighth of the later one's poll
 * interval apart, within these bounds (chrony's sampling separation): up to
 * eight sources at one interval are not slowed, and sources due together
 * (at start, in a burst) do not send in one instant, where the first
 * request would queue behind nothing and the last behind all the others. */
#define MIN_REQUEST_SEPARATION 0.002
#define MAX_REQUEST_SEPARATION 0.2
#define ENGINE_MAX_LEAP_TABLES 2

struct engine_source {
	struct source *src;
	bool unreachable_logged;
	double min_delay;               /* seconds, <= 0: none yet */
	struct timespec min_delay_time;
	struct timespec last_fed;       /* time of its last sample given to the discipline */
	unsigned delays_seen;           /* samples its least delay was taken over, saturating */
	bool loop;                      /* its refid is one of our addresses: synchronized to us */
};

struct engine {
	struct engine_config cfg;
	struct clock_ops clock;
	struct discipline *discipline;
	struct source_limits limits;
	/* sources[capacity], and what a selection round works in, grown
	 * together by engine_add_source: the rounds allocate nothing */
	size_t capacity;
	struct engine_source *sources;
	struct select_candidate *candidates;
	int *candidate_ids;
	void *select_workspace;
	uint64_t random_state;
	struct timespec created;
	struct timespec last_due_check; /* local time engine_due_request was last asked */
	bool reselect;                  /* a source was removed: run selection at the next call */

	enum sync_state state;
	enum unsync_reason reason;
	bool had_estimate;              /* some source gave an estimate once */
	int system_peer;                /* engine source id, -1: none */
	double root_delay;
	double root_dispersion;
	double dispersion_rate;       /* s/s the bound grows at from reference_time */
	unsigned peer_stratum;
	uint32_t refid;
	enum ntp_leap leap;
	struct timespec reference_time;
	double last_offset;
	double corrections;             /* seconds: the sum of every step and slew the discipline decided */
	double insane_offset;
	bool insane_logged;
	bool polled;                    /* a request went out */
	struct timespec first_poll;
	struct timespec last_request;   /* corrected time the last request was built, when polled */
	bool answered;                  /* some server answered once (a sample, a kiss, an unsynchronized reply) */
	bool no_answer_warned;
	size_t own_refid_count;         /* the refids a server synchronized to us would carry */
	uint32_t *own_refids;
	size_t leap_table_count;
	struct leap_table leap_tables[ENGINE_MAX_LEAP_TABLES];
	int64_t leap_when;              /* the midnight engine->leap (INSERT or DELETE) comes at */
	int64_t passed_leap_when;       /* the last leap second that passed, for the smear; 0: none */
	int passed_leap_sign;
	bool passed_leap_moved_clock;   /* under the leap_mode of its midnight, which a reload may change since */
	int64_t outvoted_logged;        /* the day end an outvoting was last logged for */
};

void engine_config_defaults(struct engine_config *cfg)
{
	*cfg = (struct engine_config){
		.adjust = true,
		.step_threshold = 0.128,
		.panic_threshold = 1000.0,
		.stepout = 900.0,
		.max_steps = 0,
		.minsources = 1,
		.max_distance = SOURCE_DEFAULT_MAX_DISTANCE,
		.max_jitter = 1.0,
		.precision = -20,
		.wander_ppm_per_s = 3e-3,
		.max_clock_error_ppm = 1.0,
		.random_seed = 0x5eed5eed5eedULL,
	};
}

/* splitmix64: the nonce in the transmit timestamp's fraction, and the
 * poll interval's random part (source_poll) */
static uint64_t next_random(struct engine *engine)
{
	uint64_t z = (engine->random_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* The time the core works in: the local clock as it will read once the
 * pending slew has been applied, so samples taken during a long slew agree. */
static struct timespec corrected(const struct engine *engine, struct timespec t)
{
	return timespec_add(t, discipline_pending_slew(engine->discipline));
}

struct engine *engine_create(const struct engine_config *cfg, const struct clock_ops *clock,
			     struct timespec now)
{
	struct engine *engine = calloc(1, sizeof(*engine));
	struct discipline_config dcfg = {
		.adjust = cfg->adjust,
		.step_threshold = cfg->step_threshold,
		.panic_threshold = cfg->panic_threshold,
		.allow_initial_insane_step = cfg->allow_initial_insane_step,
		.stepout = cfg->stepout,
		.max_steps = cfg->max_steps,
		.have_initial_frequency = cfg->have_initial_frequency,
		.initial_frequency_ppm = cfg->initial_frequency_ppm,
		.wander_ppm_per_s = cfg->wander_ppm_per_s,
		.initial_wander_ppm_per_s = cfg->initial_wander_ppm_per_s,
	};

	if (!engine)
		return NULL;
	engine->cfg = *cfg;
	engine->clock = *clock;
	engine->discipline = discipline_create(&dcfg, clock, now);
	if (!engine->discipline) {
		free(engine);
		return NULL;
	}
	engine->limits.max_distance = cfg->max_distance;
	engine->limits.max_jitter = cfg->max_jitter;
	engine->limits.precision = cfg->precision;
	engine->random_state = cfg->random_seed;
	engine->created = now;
	engine->last_due_check = now;
	/* no source is usable yet: local_stratum serves from the start */
	engine->state = cfg->local_stratum ? SYNC_LOCAL : SYNC_UNSYNCHRONIZED;
	engine->reason = UNSYNC_STARTING;
	engine->system_peer = -1;
	engine->leap = NTP_LEAP_UNSYNC;
	engine->peer_stratum = NTP_MAX_STRATUM - 1;
	discipline_set_unsynchronized(engine->discipline);
	return engine;
}

void engine_destroy(struct engine *engine)
{
	if (!engine)
		return;
	for (size_t i = 0; i < engine->capacity; i++)
		source_destroy(engine->sources[i].src);
	discipline_destroy(engine->discipline);
	free(engine->sources);
	free(engine->candidates);
	free(engine->candidate_ids);
	free(engine->select_workspace);
	free(engine->own_refids);
	free(engine);
}

void engine_reconfigure(struct engine *engine, const struct engine_config *cfg)
{
	struct engine_config *c = &engine->cfg;

	c->step_threshold = cfg->step_threshold;
	c->stepout = cfg->stepout;
	c->max_steps = cfg->max_steps;
	c->minsources = cfg->minsources;
	c->max_distance = cfg->max_distance;
	c->max_jitter = cfg->max_jitter;
	c->local_stratum = cfg->local_stratum;
	c->max_clock_error_ppm = cfg->max_clock_error_ppm; /* from the next clock update */
	c->leap_mode = cfg->leap_mode;                     /* the kernel is told at the next update */
	discipline_set_step_policy(engine->discipline, cfg->step_threshold, cfg->stepout, cfg->max_steps);
	engine->limits.max_distance = cfg->max_distance;
	engine->limits.max_jitter = cfg->max_jitter;
	for (size_t i = 0; i < engine->capacity; i++)
		if (engine->sources[i].src)
			source_set_limits(engine->sources[i].src, &engine->limits);
	/* serving the local clock or not follows local_stratum at once */
	if (engine->state != SYNC_SYNCHRONIZED)
		engine->state = c->local_stratum ? SYNC_LOCAL : SYNC_UNSYNCHRONIZED;
	/* a new quorum or limit may change who is selected */
	engine->reselect = true;
}

/* Doubles the table and the selection's arrays; false when out of memory
 * (the engine is unchanged, only some arrays may be larger). */
static bool grow(struct engine *engine)
{
	size_t capacity = engine->capacity ? 2 * engine->capacity : ENGINE_INITIAL_SOURCES;
	struct engine_source *sources = realloc(engine->sources, capacity * sizeof(sources[0]));
	struct select_candidate *candidates;
	int *ids;
	void *workspace;

	if (!sources)
		return false;
	engine->sources = sources;
	memset(sources + engine->capacity, 0, (capacity - engine->capacity) * sizeof(sources[0]));
	candidates = realloc(engine->candidates, capacity * sizeof(candidates[0]));
	if (candidates)
		engine->candidates = candidates;
	ids = realloc(engine->candidate_ids, capacity * sizeof(ids[0]));
	if (ids)
		engine->candidate_ids = ids;
	workspace = realloc(engine->select_workspace, select_workspace_size(capacity));
	if (workspace)
		engine->select_workspace = workspace;
	if (!candidates || !ids || !workspace)
		return false;
	engine->capacity = capacity;
	return true;
}

int engine_add_source(struct engine *engine, const struct source_config *cfg, struct timespec now)
{
	size_t i = 0;

	while (i < engine->capacity && engine->sources[i].src)
		i++;
	if (i == engine->capacity && !grow(engine))
		return -1;
	engine->sources[i] = (struct engine_source){ 0 };
	engine->sources[i].src = source_create(cfg, &engine->limits, corrected(engine, now));
	return engine->sources[i].src ? (int)i : -1;
}

/* Polled over the network: a refclock's polls are its driver's. */
static bool pollable(const struct engine_source *es)
{
	return es->src && !source_stopped(es->src) && !source_offline(es->src) && !source_is_refclock(es->src);
}

static struct source *source_of(const struct engine *engine, int id)
{
	if (id < 0 || (size_t)id >= engine->capacity)
		return NULL;
	return engine->sources[id].src;
}

void engine_remove_source(struct engine *engine, int id)
{
	if (!source_of(engine, id))
		return;
	source_destroy(engine->sources[id].src);
	engine->sources[id].src = NULL;
	if (engine->system_peer == id)
		engine->system_peer = -1;
	/* what is served must not name a source we no longer have */
	engine->reselect = true;
}

size_t engine_source_capacity(const struct engine *engine)
{
	return engine->capacity;
}

bool engine_source_exists(const struct engine *engine, int id)
{
	return source_of(engine, id) != NULL;
}

void engine_set_online(struct engine *engine, int id, bool online, struct timespec now)
{
	struct source *src = source_of(engine, id);

	if (src)
		source_set_online(src, online, corrected(engine, now));
}

bool engine_burst(struct engine *engine, int id, unsigned good, unsigned max, struct timespec now)
{
	struct source *src = source_of(engine, id);

	return src && source_burst(src, good, max, corrected(engine, now));
}

bool engine_source_wants_replacement(const struct engine *engine, int id, struct timespec now)
{
	struct source *src = source_of(engine, id);

	return src && source_wants_replacement(src, corrected(engine, now));
}

struct nts_client *engine_source_nts(struct engine *engine, int id)
{
	struct source *src = source_of(engine, id);

	return src ? source_nts(src) : NULL;
}

bool engine_source_nts_ke_done(struct engine *engine, int id, const struct nts_ke_result *result,
			       struct timespec now)
{
	struct source *src = source_of(engine, id);

	return src && source_nts_ke_done(src, result, corrected(engine, now));
}

/* When the pending leap takes the clock: an inserted second at midnight
 * (the clock reads 23:59:59 again), a deleted one at 23:59:59, which never
 * shows. */
static int64_t leap_moment(const struct engine *engine)
{
	return engine->leap_when - (engine->leap == NTP_LEAP_DELETE ? 1 : 0);
}

/* The pollable source whose poll comes first (the lowest id of a tie); -1:
 * none. */
static int first_to_poll(const struct engine *engine)
{
	int first = -1;

	for (int i = 0; (size_t)i < engine->capacity; i++)
		if (pollable(&engine->sources[i]) &&
		    (first < 0 || timespec_diff(source_next_poll(engine->sources[i].src),
						source_next_poll(engine->sources[first].src)) < 0.0))
			first = i;
	return first;
}

/* When src's request may leave: at its poll, but not within the separation
 * after the last request to any source. Both are times of the core's
 * (corrected) clock and move together when the discipline steps it. */
static struct timespec request_time(const struct engine *engine, const struct source *src)
{
	struct timespec due = source_next_poll(src), spaced;

	if (!engine->polled)
		return due;
	spaced = timespec_add(engine->last_request,
			      fmin(MAX_REQUEST_SEPARATION,
				   fmax(MIN_REQUEST_SEPARATION, source_poll_interval(src) / 8)));
	return timespec_diff(spaced, due) > 0.0 ? spaced : due;
}

struct timespec engine_next_wakeup(const struct engine *engine)
{
	int first = first_to_poll(engine);
	bool any = first >= 0;
	struct timespec next = { 0, 0 };

	if (any)
		next = request_time(engine, engine->sources[first].src);
	if (engine->reselect)
		return engine->last_due_check;
	if (engine->leap_when && (!any || next.tv_sec >= leap_moment(engine)))
		next = (struct timespec){ (time_t)leap_moment(engine), 0 };
	else if (!any)
		return timespec_add(engine->last_due_check, IDLE_WAKEUP);
	/* the sources keep corrected time; the caller waits on the local clock */
	return timespec_add(next, -discipline_pending_slew(engine->discipline));
}

static size_t engine_sources(const struct engine *engine)
{
	size_t n = 0;

	for (size_t i = 0; i < engine->capacity; i++)
		n += engine->sources[i].src != NULL;
	return n;
}

static void set_unsynchronized(struct engine *engine, enum unsync_reason reason)
{
	if (engine->state == SYNC_SYNCHRONIZED || engine->reason != reason)
		discipline_set_unsynchronized(engine->discipline);
	engine->reason = reason;
	engine->system_peer = -1;
	engine->state = engine->cfg.local_stratum ? SYNC_LOCAL : SYNC_UNSYNCHRONIZED;
}

static enum unsync_reason reason_of(enum select_status status, bool had_estimate)
{
	switch (status) {
	case SELECT_OK: return UNSYNC_NONE;
	case SELECT_NO_MAJORITY: return UNSYNC_NO_MAJORITY;
	case SELECT_QUORUM_NOT_MET: return UNSYNC_QUORUM_NOT_MET;
	case SELECT_REQUIRE_NOT_MET: return UNSYNC_REQUIRE_NOT_MET;
	case SELECT_NO_CANDIDATES:
	case SELECT_TOO_MANY:
		break;
	}
	return had_estimate ? UNSYNC_NO_SOURCES : UNSYNC_STARTING;
}

static enum source_selection selection_of(enum select_state state)
{
	switch (state) {
	case SELECT_FALSETICKER: return SOURCE_FALSETICKER;
	case SELECT_OUTLIER: return SOURCE_TOO_VARIABLE;
	case SELECT_NOT_PREFERRED: return SOURCE_NOT_PREFERRED;
	case SELECT_COMBINED: return SOURCE_COMBINED;
	case SELECT_SYSTEM_PEER: return SOURCE_SYSTEM_PEER;
	}
	return SOURCE_UNUSABLE;
}

static void set_selection(struct engine *engine, int id, enum source_selection selection, struct timespec now)
{
	struct source *src = engine->sources[id].src;

	if (source_set_selection(src, selection, now) != SOURCE_FALSETICKER && selection == SOURCE_FALSETICKER)
		log_msg(LOG_LEVEL_WARNING, "source %s is a falseticker: its interval misses the majority's",
			source_name(src));
}

/* How much the delay exceeds the least the source showed. That least is
 * given up for a larger delay once it creeps up past it (a route that got
 * longer), but the excess is over the least itself, not the crept floor:
 * the discipline takes the offset's error to lie within +-excess / 2, which
 * the creep would narrow below the truth. */
static double delay_excess(struct engine_source *es, double delay, struct timespec now)
{
	double floor = es->min_delay + MIN_DELAY_CREEP * timespec_diff(now, es->min_delay_time);

	if (es->min_delay <= 0.0 || delay < floor) {
		es->min_delay = delay;
		es->min_delay_time = now;
		return 0.0;
	}
	return delay - es->min_delay;
}

/* Left in by selection: its offset is part of the combined one. */
static bool survived(const struct select_candidate *c)
{
	return c->state == SELECT_COMBINED || c->state == SELECT_SYSTEM_PEER;
}

/* The leap the majority of the survivors announce. */
static enum ntp_leap majority_leap(const struct engine *engine, const int *ids, const struct select_candidate *c,
				   size_t n)
{
	size_t votes[4] = { 0 }, survivors = 0;

	for (size_t i = 0; i < n; i++) {
		if (!survived(&c[i]))
			continue;
		votes[source_leap(engine->sources[ids[i]].src) & 3]++;
		survivors++;
	}
	if (2 * votes[NTP_LEAP_INSERT] > survivors)
		return NTP_LEAP_INSERT;
	if (2 * votes[NTP_LEAP_DELETE] > survivors)
		return NTP_LEAP_DELETE;
	return NTP_LEAP_NONE;
}

static const struct leap_table *trusted_leap_table(const struct engine *engine, int64_t now)
{
	for (size_t i = 0; i < engine->leap_table_count; i++)
		if (now < engine->leap_tables[i].expires)
			return &engine->leap_tables[i];
	return NULL;
}

/* The leap pending at the end of today, as the server will announce it
 * (engine->leap); returns what the kernel is to be told: nothing unless it
 * is the kernel that inserts it (leap_mode system). */
static enum ntp_leap decide_leap(struct engine *engine, struct timespec now, enum ntp_leap upstream)
{
	struct leap_decision d;

	leap_decide(trusted_leap_table(engine, now.tv_sec), now.tv_sec, upstream, &d);
	if (d.outvoted && engine->outvoted_logged != leap_day_end(now.tv_sec)) {
		engine->outvoted_logged = leap_day_end(now.tv_sec);
		log_msg(LOG_LEVEL_WARNING,
			"leap second: the sources announce %s this month, the leap table says otherwise; following "
			"the table (%s at the end of today)",
			d.upstream == NTP_LEAP_NONE ? "none" : d.upstream == NTP_LEAP_INSERT ? "an insertion" : "a deletion",
			d.leap == NTP_LEAP_NONE ? "none" : d.leap == NTP_LEAP_INSERT ? "inserted" : "deleted");
	}
	if (d.leap != NTP_LEAP_NONE && (engine->leap != d.leap || engine->leap_when != leap_day_end(now.tv_sec)))
		log_msg(LOG_LEVEL_NOTICE, "leap second: %s at the end of today (UTC), announced by %s; leap_mode %s",
			d.leap == NTP_LEAP_INSERT ? "inserted" : "deleted", d.from_table ? "the leap table" : "the sources",
			leap_mode_str(engine->cfg.leap_mode));
	engine->leap = d.leap;
	engine->leap_when = d.leap == NTP_LEAP_NONE ? 0 : leap_day_end(now.tv_sec);
	return engine->cfg.leap_mode == LEAP_MODE_SYSTEM ? d.leap : NTP_LEAP_NONE;
}

/* The clock takes the leap at once (the kernel or a step): it reads
 * 23:59:59 twice; else it runs through the leap. */
static bool leap_moves_clock(const struct engine *engine)
{
	return engine->cfg.adjust &&
	       (engine->cfg.leap_mode == LEAP_MODE_SYSTEM || engine->cfg.leap_mode == LEAP_MODE_STEP);
}

/* At the leap second itself (now, local time, at or past leap_moment):
 * step or slew the clock as leap_mode says; the kernel does it in system
 * mode, nobody in ignore mode. */
static void pass_leap(struct engine *engine, struct timespec now)
{
	struct timespec t = corrected(engine, now);
	int sign = engine->leap == NTP_LEAP_INSERT ? 1 : -1;
	struct clock_slew st = { 0 };
	char done[96] = "";
	int rc = 0;

	if ((engine->leap != NTP_LEAP_INSERT && engine->leap != NTP_LEAP_DELETE) || t.tv_sec < leap_moment(engine))
		return;
	if (engine->cfg.adjust && engine->cfg.leap_mode == LEAP_MODE_STEP) {
		/* exactly the second: a step ends the slew in progress, which is
		 * handed back to run on rather than folded into the step */
		double pending = discipline_pending_slew(engine->discipline);

		rc = engine->clock.step(engine->clock.ctx, -sign);
		if (rc == 0 && pending != 0.0)
			rc = engine->clock.slew(engine->clock.ctx, pending);
		if (pending != 0.0)
			snprintf(done, sizeof(done), ": stepped the clock by one second; the slew of %+.6f s runs on",
				 pending);
		else
			snprintf(done, sizeof(done), ": stepped the clock by one second");
	} else if (engine->cfg.adjust && engine->cfg.leap_mode == LEAP_MODE_SLEW) {
		/* the second joins the slew in progress: the discipline keeps it */
		if (engine->clock.slew_state(engine->clock.ctx, &st) == 0)
			rc = engine->clock.slew(engine->clock.ctx, st.pending - st.scheduled - sign);
		snprintf(done, sizeof(done), ": slewing the clock by one second");
	}
	log_msg(rc ? LOG_LEVEL_ERROR : LOG_LEVEL_NOTICE, "leap second %s at %lld (leap_mode %s)%s",
		sign > 0 ? "inserted" : "deleted", (long long)engine->leap_when, leap_mode_str(engine->cfg.leap_mode),
		rc ? ": the clock refused the correction" : done);
	engine->passed_leap_when = engine->leap_when;
	engine->passed_leap_sign = sign;
	engine->passed_leap_moved_clock = leap_moves_clock(engine);
	engine->leap = NTP_LEAP_NONE;
	engine->leap_when = 0;
}

void engine_set_leap_tables(struct engine *engine, const struct leap_table *tables, size_t count)
{
	if (count > ENGINE_MAX_LEAP_TABLES)
		count = ENGINE_MAX_LEAP_TABLES;
	memcpy(engine->leap_tables, tables, count * sizeof(tables[0]));
	engine->leap_table_count = count;
}

static void correct_sources(struct engine *engine, struct timespec when, const struct discipline_change *change)
{
	if (change->offset == 0.0 && change->frequency_ppm == 0.0)
		return;
	engine->corrections += change->offset;
	engine->last_request = timespec_add(engine->last_request, change->offset);
	for (size_t i = 0; i < engine->capacity; i++) {
		struct engine_source *es = &engine->sources[i];

		if (!es->src)
			continue;
		source_correct(es->src, when, change->offset, change->frequency_ppm * 1e-6);
		es->last_fed = timespec_add(es->last_fed, change->offset);
		es->min_delay_time = timespec_add(es->min_delay_time, change->offset);
	}
}

static void log_insane(struct engine *engine, double offset, const int *ids, const struct select_candidate *c,
		       size_t n)
{
	char names[256] = "";
	size_t used = 0;

	if (engine->insane_logged)
		return;
	for (size_t i = 0; i < n && used < sizeof(names); i++) {
		if (!survived(&c[i]))
			continue;
		used += (size_t)snprintf(names + used, sizeof(names) - used, "%s%s", used ? ", " : "",
					 source_name(engine->sources[ids[i]].src));
	}
	log_msg(LOG_LEVEL_ERROR,
		"insane time: the sources (%s) put the clock %+.3f s off, beyond the panic threshold of %.0f s; "
		"not correcting it",
		names, offset, engine->cfg.panic_threshold);
	engine->insane_logged = true;
}

/* How fast the error bound we serve grows after an update: the oscillator's
 * own instability (max_clock_error_ppm) plus what the discipline does not
 * know of its frequency (the estimate's standard deviation), as chrony's
 * maxclockerror and skew, not RFC 5905's PHI of 15 ppm: that assumes a
 * frequency known only to 15 ppm, and with a disciplined clock told
 * downstream clients our time was up to ten times worse than it is
 * (tests/interop/stratad_chain_rating.sh). tests/clknetsim/compare.sh
 * counts how often the true error exceeds the bound. */
static double dispersion_rate(const struct engine *engine)
{
	return (engine->cfg.max_clock_error_ppm + discipline_skew_ppm(engine->discipline)) * 1e-6;
}

/* Every sample of a survivor goes to the discipline, not only those the
 * clock filter passes on: the filter's choice serves selection, while the
 * discipline weighs each sample by its delay excess itself. from indexes
 * the candidate of the source that just gave a sample. */
static void feed_discipline(struct engine *engine, size_t from, const int *ids, const struct select_candidate *c,
			    size_t n, const struct select_result *result, struct timespec local)
{
	struct timespec now = corrected(engine, local);
	struct engine_source *es = &engine->sources[ids[from]];
	struct filter_sample latest;
	struct discipline_sample sample;
	struct discipline_change change;
	double noise;

	if (!source_latest_sample(es->src, &latest) || timespec_diff(latest.time, es->last_fed) <= 0.0)
		return;
	es->last_fed = latest.time;
	/* Until a few delays were seen, the least of them may hold as much
	 * queueing as any: only the delay itself bounds the error. */
	noise = source_precision(es->src); /* both clocks' resolution, ours included */
	/* a reference clock's sample is the mean of a poll's readings: its
	 * noise is that mean's standard error from their scatter (a pulse's
	 * latency, a receiver's jitter), not the configured precision alone */
	if (source_is_refclock(es->src))
		noise = fmax(noise, latest.dispersion);
	if (es->delays_seen < FILTER_SIZE) {
		es->delays_seen++;
		noise = fmax(noise, latest.delay / sqrt(12.0));
	}
	sample = (struct discipline_sample){
		.time = latest.time,
		.offset = latest.offset,
		.noise = noise,
		.delay = latest.delay,
		.delay_excess = delay_excess(es, latest.delay, latest.time),
		.root_distance = c[from].root_distance,
		.leap = decide_leap(engine, now, majority_leap(engine, ids, c, n)),
	};
	discipline_update(engine->discipline, &sample, local, &change);
	log_msg(LOG_LEVEL_DEBUG, "update from %s: offset %+.9f excess %.9f age %.1f: %s %+.9f s %+.6f ppm",
		source_name(es->src), sample.offset, sample.delay_excess, timespec_diff(now, sample.time),
		discipline_action_str(change.action), change.offset, change.frequency_ppm);
	switch (change.action) {
	case DISCIPLINE_INSANE:
		engine->insane_offset = sample.offset;
		log_insane(engine, sample.offset, ids, c, n);
		set_unsynchronized(engine, UNSYNC_INSANE_TIME);
		return;
	case DISCIPLINE_STEP_WAITING:
		return;
	case DISCIPLINE_STEPPED:
		log_msg(LOG_LEVEL_WARNING, "stepped the clock by %+.6f s", change.offset);
		break;
	case DISCIPLINE_IGNORED:
		if (engine->cfg.adjust)
			return;
		break;
	case DISCIPLINE_SLEWED:
		break;
	}
	engine->insane_logged = false;
	correct_sources(engine, now, &change);
	engine->last_offset = sample.offset;
	engine->reference_time = now;
	engine->root_delay = result->root_delay;
	/* plus what the discipline failed to predict of late: the error it
	 * leaves between updates when it lags behind an oscillator that wanders
	 * far more than it assumed, which neither the measurement's dispersion
	 * nor the jitter shows */
	engine->root_dispersion = result->root_dispersion + discipline_prediction_error(engine->discipline);
	engine->dispersion_rate = dispersion_rate(engine);
	/* Stratum and refid are the system peer's, whichever survivor spoke. */
	engine->peer_stratum = c[result->system_peer].stratum;
	engine->refid = source_served_refid(engine->sources[engine->system_peer].src);
	engine->state = SYNC_SYNCHRONIZED;
	engine->reason = UNSYNC_NONE;
}

/* chrony's require: some source was configured with it. */
static bool any_required(const struct engine *engine)
{
	for (size_t i = 0; i < engine->capacity; i++)
		if (engine->sources[i].src && source_config(engine->sources[i].src)->require)
			return true;
	return false;
}

/* A selection round: who is a truechimer, who the system peer is, and, when
 * the source `from` (-1: none) that just gave a sample survived, a
 * discipline update. */
static void run_selection(struct engine *engine, struct timespec local, int from)
{
	struct timespec now = corrected(engine, local);
	struct select_candidate *c = engine->candidates;
	int *ids = engine->candidate_ids;
	struct select_result result;
	enum select_status status;
	long previous = -1;
	size_t n = 0;
	int peer;
	long from_index = -1;           /* from's candidate, when it survived */

	for (int i = 0; (size_t)i < engine->capacity; i++) {
		struct source *src = engine->sources[i].src;
		struct source_status st;

		if (!src)
			continue;
		if (!engine->sources[i].loop && source_select_candidate(src, now, &c[n])) {
			if (i == engine->system_peer)
				previous = (long)n;
			ids[n++] = i;
			engine->had_estimate = true;
			continue;
		}
		source_get_status(src, now, &st);
		if (st.unreachable && !engine->sources[i].unreachable_logged)
			log_msg(LOG_LEVEL_WARNING, "source %s is unreachable", st.name);
		engine->sources[i].unreachable_logged = st.unreachable;
		set_selection(engine, i, source_unselectable_reason(src, now), now);
	}
	status = select_run_in(engine->select_workspace, c, n, engine->cfg.minsources, previous, &result);
	if (status == SELECT_OK && !select_require_met(c, n, any_required(engine)))
		status = SELECT_REQUIRE_NOT_MET;
	if (status != SELECT_OK) {
		for (size_t i = 0; i < n; i++)
			set_selection(engine, ids[i],
				      status == SELECT_QUORUM_NOT_MET || status == SELECT_REQUIRE_NOT_MET
					      ? selection_of(c[i].state) : SOURCE_UNUSABLE, now);
		if (engine->reason != UNSYNC_INSANE_TIME || status == SELECT_NO_CANDIDATES)
			set_unsynchronized(engine, reason_of(status, engine->had_estimate));
		return;
	}
	for (size_t i = 0; i < n; i++) {
		set_selection(engine, ids[i], selection_of(c[i].state), now);
		if (ids[i] == from && survived(&c[i]))
			from_index = (long)i;
	}
	/* the first correction waits for a few sources to have spoken (iburst
	 * takes seconds), so that the quickest answer cannot be a falseticker
	 * that steps the clock alone */
	if (!discipline_has_updated(engine->discipline) && n < engine_sources(engine) && n < STARTUP_SOURCES &&
	    timespec_diff(now, engine->created) < STARTUP_WAIT)
		return;
	peer = ids[result.system_peer];
	if (peer != engine->system_peer) {
		log_msg(LOG_LEVEL_NOTICE, "system peer is now %s", source_name(engine->sources[peer].src));
		engine->system_peer = peer;
	}
	if (from_index >= 0)
		feed_discipline(engine, (size_t)from_index, ids, c, n, &result, local);
}

/* Once: polling went on for NO_ANSWER_WARNING seconds and no server ever
 * answered, so "starting" would hide a firewall, a dead network or wrong
 * names. */
static bool no_answer_warning_due(const struct engine *engine, struct timespec now)
{
	return engine->polled && !engine->answered && !engine->no_answer_warned &&
	       timespec_diff(now, engine->first_poll) >= NO_ANSWER_WARNING;
}

int engine_due_request(struct engine *engine, struct timespec now)
{
	struct timespec t = corrected(engine, now);
	int first;

	engine->last_due_check = now;
	pass_leap(engine, now);
	if (no_answer_warning_due(engine, now)) {
		engine->no_answer_warned = true;
		log_msg(LOG_LEVEL_WARNING,
			"no source has answered in %.0f s of polling: check the network, the firewall and the "
			"server names (still trying)",
			timespec_diff(now, engine->first_poll));
	}
	if (engine->reselect) {
		engine->reselect = false;
		run_selection(engine, now, -1);
	}
	first = first_to_poll(engine);
	if (first < 0 || timespec_diff(request_time(engine, engine->sources[first].src), t) > 0.0)
		return -1;
	return first;
}

size_t engine_build_request(struct engine *engine, int id, struct timespec now, uint8_t out[SOURCE_REQUEST_MAX])
{
	struct source *src = source_of(engine, id);
	struct timespec t = corrected(engine, now);
	enum source_result r;
	size_t len = 0;

	if (!src)
		return 0;
	r = source_poll(src, t, next_random(engine), out, &len);
	if (r == SOURCE_STOPPED)
		return 0;
	if (len > 0)
		engine->last_request = t;
	if (!engine->polled) {
		engine->polled = true;
		engine->first_poll = now;
	}
	if (r == SOURCE_POLL_UNREACHABLE)
		run_selection(engine, now, -1);
	return len;
}

enum engine_makestep engine_makestep(struct engine *engine, struct timespec now, double *offset)
{
	struct timespec when = corrected(engine, now);
	struct discipline_change change;

	*offset = 0.0;
	if (!engine->cfg.adjust)
		return ENGINE_STEP_NOT_ADJUSTING;
	if (engine->state != SYNC_SYNCHRONIZED)
		return ENGINE_STEP_NOT_SYNCHRONIZED;
	discipline_step_now(engine->discipline, now, &change);
	if (change.action != DISCIPLINE_STEPPED)
		return ENGINE_STEP_FAILED;
	log_msg(LOG_LEVEL_WARNING, "stepped the clock by %+.6f s (makestep)", change.offset);
	correct_sources(engine, when, &change);
	*offset = change.offset;
	return ENGINE_STEPPED;
}

const char *engine_makestep_str(enum engine_makestep result)
{
	switch (result) {
	case ENGINE_STEPPED: return "stepped";
	case ENGINE_STEP_NOT_SYNCHRONIZED: return "not synchronized: no estimate to step by";
	case ENGINE_STEP_NOT_ADJUSTING: return "not adjusting the clock (-x or clock.adjust = false): left alone";
	case ENGINE_STEP_FAILED: return "the clock refused the step";
	}
	return "?";
}

/* Around the midnight of a leap second, pending or just passed. */
static bool near_leap(const struct engine *engine, struct timespec t)
{
	int64_t when = engine->leap_when ? engine->leap_when : engine->passed_leap_when;

	return when && fabs(timespec_diff(t, (struct timespec){ (time_t)when, 0 })) < LEAP_GUARD;
}

void engine_set_own_refids(struct engine *engine, const uint32_t *refids, size_t count)
{
	uint32_t *copy = malloc(count ? count * sizeof(copy[0]) : 1);

	/* out of memory: the loop check keeps the refids it had */
	if (!copy)
		return;
	memcpy(copy, refids, count * sizeof(refids[0]));
	free(engine->own_refids);
	engine->own_refids = copy;
	engine->own_refid_count = count;
}

/* A server whose refid is one of our addresses is synchronized to us: using
 * it would close a timing loop, so selection leaves it out (as ntpd does)
 * for as long as it says so. */
static void note_loop(struct engine *engine, int id, struct timespec now)
{
	struct engine_source *es = &engine->sources[id];
	struct source_status st;
	char refid[REFID_TEXT_LEN];
	bool loop;

	source_get_status(es->src, now, &st);
	loop = loop_refid_is_ours(st.stratum, st.refid, engine->own_refids, engine->own_refid_count);
	if (loop && !es->loop) {
		refid_format(st.refid, st.stratum, refid);
		log_msg(LOG_LEVEL_WARNING,
			"source %s is synchronized to this daemon (its refid %s is our address): refusing it, a timing loop",
			st.name, refid);
	} else if (!loop && es->loop) {
		log_msg(LOG_LEVEL_NOTICE, "source %s is no longer synchronized to this daemon", st.name);
	}
	es->loop = loop;
}

void engine_request_sent(struct engine *engine, int id, struct timespec kernel_time)
{
	struct source *src = source_of(engine, id);

	if (src)
		source_transmitted(src, corrected(engine, kernel_time));
}

void engine_handle_reply(struct engine *engine, int id, const uint8_t *buf, size_t len,
			 struct timespec receive_time)
{
	struct source *src = source_of(engine, id);
	struct timespec t = corrected(engine, receive_time);
	struct source_status st;
	enum source_result r;

	if (!src || near_leap(engine, t))
		return;
	r = source_handle_reply(src, buf, len, t);
	if (r == SOURCE_SAMPLE_ACCEPTED || r == SOURCE_SAMPLE_HELD)
		note_loop(engine, id, t);
	/* the server's own answer, not a stray or forged datagram */
	if (r != SOURCE_MALFORMED && r != SOURCE_BOGUS && r != SOURCE_DUPLICATE && r != SOURCE_STOPPED)
		engine->answered = true;
	switch (r) {
	case SOURCE_KOD_RATE:
	case SOURCE_KOD_STOP:
		source_get_status(src, t, &st);
		log_msg(LOG_LEVEL_WARNING, "source %s sent a kiss-o'-death %s: %s", st.name, st.kiss,
			r == SOURCE_KOD_STOP ? "stopped polling it" : "polling it less often");
		/* it may have been the system peer: choose again without it */
		if (r == SOURCE_KOD_STOP)
			run_selection(engine, receive_time, -1);
		break;
	case SOURCE_UNSYNCHRONIZED:
		/* shown as such, and if it was the system peer, choose again without it */
		run_selection(engine, receive_time, -1);
		break;
	case SOURCE_SAMPLE_ACCEPTED:
	case SOURCE_SAMPLE_HELD:
		run_selection(engine, receive_time, id);
		source_set_poll(src, discipline_poll(engine->discipline));
		break;
	default:
		break;
	}
}

double engine_corrections(const struct engine *engine)
{
	return engine->corrections;
}

/* How far the discipline has moved the local clock so far: every step and
 * slew it decided, less what the clock has still to apply. */
static double clock_moved(const struct engine *engine)
{
	return engine->corrections - discipline_pending_slew(engine->discipline);
}

/* A reading (local time, offset) on a clock moved on by seconds: later by
 * that, and its offset as much smaller. */
static void move_reading(struct timespec *time, double *offset, double seconds)
{
	*time = timespec_add(*time, seconds);
	*offset -= seconds;
}

void engine_reading_unadjusted(const struct engine *engine, struct timespec *time, double *offset)
{
	move_reading(time, offset, -clock_moved(engine));
}

void engine_reading_now(const struct engine *engine, struct timespec *time, double *offset)
{
	move_reading(time, offset, clock_moved(engine));
}

void engine_refclock_poll(struct engine *engine, int id, const struct filter_sample *sample, enum ntp_leap leap,
			  struct timespec now)
{
	struct source *src = source_of(engine, id);
	struct filter_sample s;
	enum source_result r;

	if (!src || !source_is_refclock(src))
		return;
	if (sample) {
		/* its readings were put on the clock as it would read unadjusted
		 * (engine_reading_unadjusted): onto the corrected clock of now */
		s = *sample;
		move_reading(&s.time, &s.offset, engine->corrections);
	}
	r = source_refclock_poll(src, sample ? &s : NULL, leap, corrected(engine, now));
	if (r == SOURCE_SAMPLE_ACCEPTED || r == SOURCE_SAMPLE_HELD) {
		engine->answered = true;
		run_selection(engine, now, id);
	} else if (r == SOURCE_POLL_UNREACHABLE) {
		run_selection(engine, now, -1);
	}
}

static bool timespec_is_set(struct timespec t)
{
	return t.tv_sec != 0 || t.tv_nsec != 0;
}

/* The table that decides now, else the first (expired), for the operator. */
static void leap_table_status(const struct engine *engine, int64_t now, struct engine_tracking *out)
{
	const struct leap_table *table = trusted_leap_table(engine, now);

	if (!table && engine->leap_table_count)
		table = &engine->leap_tables[0];
	if (!table)
		return;
	out->leap_table_expires = table->expires;
	out->leap_table_expired = now >= table->expires;
	if (!leap_table_next(table, now, &out->next_leap_when, &out->next_leap_sign))
		out->next_leap_when = 0;
}

void engine_get_tracking(const struct engine *engine, struct timespec now, struct engine_tracking *out)
{
	struct timespec t = corrected(engine, now);
	double age = timespec_diff(t, engine->reference_time);
	struct engine_system system;

	memset(out, 0, sizeof(*out));
	out->state = engine->state;
	out->reason = engine->reason;
	/* stratum and refid as the server announces them; the leap below */
	engine_get_system(engine, &system);
	out->stratum = system.stratum;
	out->refid = system.refid;
	out->leap = system.leap;
	/* the operator sees the pending leap even when clients are served a smear */
	if (engine->state == SYNC_SYNCHRONIZED)
		out->leap = engine->leap;
	if (engine->system_peer >= 0) {
		const struct source *peer = engine->sources[engine->system_peer].src;

		out->reference_addr = *source_addr(peer);
		snprintf(out->reference_name, sizeof(out->reference_name), "%s", source_name(peer));
	}
	out->reference_time = system.reference_time;
	out->root_delay = system.root_delay;
	out->root_dispersion = system.root_dispersion;
	if (engine->state == SYNC_LOCAL) {
		/* the local clock is its own reference, read at every answer */
		out->reference_time = now;
	} else if (timespec_is_set(engine->reference_time)) {
		/* unsynchronized after an update still has that update's bound, grown */
		out->reference_time = engine->reference_time;
		out->root_delay = engine->root_delay;
		out->root_dispersion = engine->root_dispersion + engine->dispersion_rate * fmax(0.0, age);
	} else {
		/* never updated: no bound at all */
		out->root_dispersion = INFINITY;
	}
	out->system_offset = discipline_offset_estimate(engine->discipline, now);
	out->last_offset = engine->last_offset;
	out->rms_offset = discipline_rms_offset(engine->discipline);
	out->frequency_ppm = discipline_frequency_ppm(engine->discipline);
	out->residual_frequency_ppm = discipline_residual_frequency_ppm(engine->discipline);
	out->skew_ppm = discipline_skew_ppm(engine->discipline);
	out->steps = discipline_steps(engine->discipline);
	out->insane_offset = engine->insane_offset;
	out->leap_mode = engine->cfg.leap_mode;
	leap_table_status(engine, t.tv_sec, out);
}

bool engine_get_source(const struct engine *engine, int id, struct timespec now, struct source_status *out)
{
	const struct source *src = source_of(engine, id);

	if (!src)
		return false;
	source_get_status(src, corrected(engine, now), out);
	out->loop = engine->sources[id].loop;
	return true;
}

bool engine_get_exchange(const struct engine *engine, int id, struct source_exchange *out)
{
	const struct source *src = source_of(engine, id);

	if (!src)
		return false;
	source_get_exchange(src, out);
	return true;
}

void engine_get_system(const struct engine *engine, struct engine_system *out)
{
	memset(out, 0, sizeof(*out));
	out->precision = engine->cfg.precision;
	out->smear = engine->cfg.leap_smear;
	out->leap_moves_clock = engine->leap_when ? leap_moves_clock(engine) : engine->passed_leap_moved_clock;
	out->leap_when = engine->leap_when ? engine->leap_when : engine->passed_leap_when;
	out->leap_sign = engine->leap_when ? (engine->leap == NTP_LEAP_INSERT ? 1 : -1) : engine->passed_leap_sign;
	switch (engine->state) {
	case SYNC_SYNCHRONIZED:
		/* smeared time has no leap second for clients to insert */
		out->leap = engine->cfg.leap_smear.shape != LEAP_SMEAR_OFF ? NTP_LEAP_NONE : engine->leap;
		out->stratum = (uint8_t)(engine->peer_stratum + 1);
		out->refid = engine->refid;
		out->reference_time = engine->reference_time;
		out->root_delay = engine->root_delay;
		out->root_dispersion = engine->root_dispersion;
		out->dispersion_rate = engine->dispersion_rate;
		break;
	case SYNC_LOCAL:
		out->leap = NTP_LEAP_NONE;
		out->stratum = (uint8_t)engine->cfg.local_stratum;
		out->refid = refid_from_name("LOCL");
		break;
	case SYNC_UNSYNCHRONIZED:
		out->leap = NTP_LEAP_UNSYNC;
		out->stratum = NTP_MAX_STRATUM;
		break;
	}
}

double engine_frequency_ppm(const struct engine *engine)
{
	return discipline_frequency_ppm(engine->discipline);
}

double engine_wander_ppm_per_s(const struct engine *engine)
{
	return discipline_wander_ppm_per_s(engine->discipline);
}

const char *sync_state_str(enum sync_state state)
{
	switch (state) {
	case SYNC_UNSYNCHRONIZED: return "unsynchronized";
	case SYNC_SYNCHRONIZED: return "synchronized";
	case SYNC_LOCAL: return "local";
	}
	return "?";
}

const char *unsync_reason_str(enum unsync_reason reason)
{
	switch (reason) {
	case UNSYNC_NONE: return "none";
	case UNSYNC_STARTING: return "starting: no sample yet";
	case UNSYNC_NO_SOURCES: return "no usable source";
	case UNSYNC_NO_MAJORITY: return "the sources disagree: no majority";
	case UNSYNC_QUORUM_NOT_MET: return "fewer agreeing sources than minsources";
	case UNSYNC_INSANE_TIME: return "insane time: the offset is beyond the panic threshold";
	case UNSYNC_REQUIRE_NOT_MET: return "no source configured with require is a truechimer";
	}
	return "?";
}
