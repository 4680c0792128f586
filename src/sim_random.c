#include "sim_random.h"

#include <math.h>

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

void sim_random_seed(struct sim_random *r, uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&seed);
}

uint64_t sim_random_next(struct sim_random *r)
{
	uint64_t *s = r->s;
	uint64_t result = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

double sim_random_uniform(struct sim_random *r)
{
	return (double)(sim_random_next(r) >> 11) * 0x1.0p-53;
}

double sim_random_exponential(struct sim_random *r, double mean)
{
	return -mean * log(1.0 - sim_random_uniform(r));
}

double sim_random_gaussian(struct sim_random *r)
{
	double u = 1.0 - sim_random_uniform(r), v = sim_random_uniform(r);

	return sqrt(-2.0 * log(u)) * cos(2.0 * M_PI * v);
}
