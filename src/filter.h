/* The clock filter (RFC 5905 10): per source, the last FILTER_SIZE samples;
 * the sample with the smallest round-trip delay is the one least disturbed by
 * queueing, so it gives the source's offset. Pure: fixed arrays, no clock.
 *
 * Sign conventions used everywhere here:
 *   offset = true time - local time; positive means the local clock is behind.
 *   A step of X (seconds) moves the local clock forward by X: afterwards every
 *   offset measured before it is X smaller.
 *   A frequency change of df (dimensionless, 1e-6 per ppm) makes the local
 *   clock run faster by df: positive df makes it gain time.
 * Sample times are local (CLOCK_REALTIME as the core sees it); ages are
 * measured on the same clock. */
#ifndef STRATA_FILTER_H
#define STRATA_FILTER_H

#include <stdbool.h>
#include <time.h>

#define FILTER_SIZE 8
/* Frequency tolerance of a clock (RFC 5905 PHI): dispersion grows by this
 * many seconds per second of age. */
#define FILTER_PHI 15e-6
/* Popcorn spike gate: an estimate jumping by more than this many jitters
 * within the spike window is held back once. */
#define FILTER_SPIKE_GATE 3.0

struct filter_sample {
	double offset;          /* seconds, true - local */
	double delay;           /* seconds, round trip; >= precision */
	double dispersion;      /* seconds, at time */
	struct timespec time;   /* local time the sample was taken (reply received) */
};

/* What the filter makes of its samples. */
struct filter_estimate {
	double offset;          /* seconds, of the chosen (minimum-delay) sample */
	double delay;           /* seconds, of the chosen sample */
	double dispersion;      /* seconds: the samples' dispersions grown to the time asked for,
				   weighted 1/2, 1/4, ... in order of delay (normalized) */
	double jitter;          /* seconds, RMS of offset differences to the chosen sample, >= precision */
	struct timespec time;   /* of the chosen sample */
};

/* Public so it can be embedded; use the functions, not the fields. */
struct filter {
	struct filter_sample samples[FILTER_SIZE]; /* ring, oldest overwritten */
	unsigned size;          /* samples kept, 1 to FILTER_SIZE (a source's maxsamples) */
	unsigned count;         /* valid samples, <= size */
	unsigned next;          /* ring slot the next sample goes to */
	double precision;       /* seconds; the floor of jitter */
	bool have_estimate;     /* a sample has been passed on */
	int chosen_slot;        /* ring slot of the sample passed on, -1 once overwritten */
	struct filter_estimate estimate; /* the last passed on, dispersion valued at update_time */
	struct timespec update_time;
	bool spike_held;        /* the last new candidate was held back as a spike */
};

enum filter_result {
	FILTER_UPDATED = 0,     /* a new estimate: the chosen sample is newer than the last one passed on */
	FILTER_NOT_NEWER,       /* the minimum-delay sample was passed on before (or is older): no new estimate */
	FILTER_SPIKE,           /* the new estimate jumps too far too soon: held back once */
};

/* precision: seconds (e.g. 2^local_precision + 2^server_precision).
 * The filter keeps FILTER_SIZE samples until filter_set_size says fewer. */
void filter_init(struct filter *filter, double precision);
/* Keeps only the newest size samples (clamped to [1, FILTER_SIZE]); call
 * before the first sample. Fewer samples follow a changing path sooner and
 * hold fewer chances of a low-delay one. */
void filter_set_size(struct filter *filter, unsigned size);
/* The floor of jitter, in seconds, once the server's precision is known. */
void filter_set_precision(struct filter *filter, double precision);
/* Forgets every sample (e.g. after the source was unreachable for long); keeps the size. */
void filter_reset(struct filter *filter);

/* Adds a sample, then chooses the minimum-delay sample. spike_window:
 * seconds; a jump of more than FILTER_SPIKE_GATE jitters, with the new chosen
 * sample less than spike_window after the last estimate's, is held back once
 * (0 disables the guard; it also waits for half the filter's size in samples). When the result
 * is FILTER_UPDATED, *estimate (may be NULL) is the new estimate valued at the
 * new sample's time. */
enum filter_result filter_add(struct filter *filter, const struct filter_sample *sample,
			      double spike_window, struct filter_estimate *estimate);

/* The current estimate (the sample last passed on) with dispersion grown to
 * now. Returns false when no sample has been passed on yet. */
bool filter_get(const struct filter *filter, struct timespec now, struct filter_estimate *estimate);

/* How many samples the filter holds, up to its size. */
unsigned filter_sample_count(const struct filter *filter);

/* Copies the samples held, oldest first; returns how many (<= FILTER_SIZE). */
unsigned filter_samples(const struct filter *filter, struct filter_sample out[FILTER_SIZE]);

/* The newest sample held, corrected like the others, whether or not it was
 * passed on: every measurement carries information for the discipline.
 * Returns false when the filter is empty. */
bool filter_latest(const struct filter *filter, struct filter_sample *sample);

/* The local clock was corrected at `when` (local time before the change):
 * its frequency changed by frequency_change (see the conventions above) and
 * then it was stepped by step seconds. Rewrites every stored sample as if the
 * change had always been in effect:
 *   offset_i += frequency_change * (when - t_i)   (positive df: past offsets grow)
 *   offset_i -= step, t_i += step                (times move with the clock)
 * A slew the engine treats as an immediate correction is passed as a step.
 * Sample times are not rewritten for the frequency change: the shift is
 * df * age (a few ms at most), negligible for dispersion and ordering. */
void filter_correct(struct filter *filter, struct timespec when, double step, double frequency_change);

const char *filter_result_str(enum filter_result result);

#endif
