/* A straight line through a source's offsets over time (ordinary least
 * squares): the figures chronyc's sourcestats shows, so an administrator can
 * see how steady a source is. Pure arithmetic on arrays. */
#ifndef STRATA_REGRESS_H
#define STRATA_REGRESS_H

#include <stdbool.h>
#include <stddef.h>

struct regress_line {
	double intercept;       /* y at x = 0 */
	double slope;           /* dy/dx */
	double slope_sd;        /* standard error of the slope */
	double residual_sd;     /* standard deviation of the residuals (n - 2 degrees of freedom) */
	unsigned runs;          /* runs of residuals of one sign: few runs mean the line does not fit */
};

/* Needs at least REGRESS_MIN_POINTS points and two distinct x; returns false
 * otherwise (*line untouched). */
#define REGRESS_MIN_POINTS 3
bool regress_fit(const double *x, const double *y, size_t n, struct regress_line *line);

#endif
