/* The simulator's random numbers: xoshiro256** seeded through splitmix64, so
 * a run is the same for the same seed on every machine. */
#ifndef STRATA_SIM_RANDOM_H
#define STRATA_SIM_RANDOM_H

#include <stdint.h>

struct sim_random {
	uint64_t s[4];
};

void sim_random_seed(struct sim_random *r, uint64_t seed);
uint64_t sim_random_next(struct sim_random *r);
/* Uniform in [0, 1). */
double sim_random_uniform(struct sim_random *r);
/* Exponential with the given mean. */
double sim_random_exponential(struct sim_random *r, double mean);
/* Standard normal. */
double sim_random_gaussian(struct sim_random *r);

#endif
