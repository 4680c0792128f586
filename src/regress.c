#include "regress.h"

#include <math.h>

bool regress_fit(const double *x, const double *y, size_t n, struct regress_line *line)
{
	double mean_x = 0, mean_y = 0, sxx = 0, sxy = 0, sse = 0, slope, intercept;
	unsigned runs = 0;
	int last_sign = 0;

	if (n < REGRESS_MIN_POINTS)
		return false;
	for (size_t i = 0; i < n; i++) {
		mean_x += x[i];
		mean_y += y[i];
	}
	mean_x /= (double)n;
	mean_y /= (double)n;
	for (size_t i = 0; i < n; i++) {
		sxx += (x[i] - mean_x) * (x[i] - mean_x);
		sxy += (x[i] - mean_x) * (y[i] - mean_y);
	}
	if (sxx <= 0.0)
		return false;
	slope = sxy / sxx;
	intercept = mean_y - slope * mean_x;
	for (size_t i = 0; i < n; i++) {
		double r = y[i] - (intercept + slope * x[i]);
		int sign = r > 0.0 ? 1 : r < 0.0 ? -1 : 0;

		sse += r * r;
		/* a zero residual continues the run it is in */
		if (sign != 0 && sign != last_sign) {
			runs++;
			last_sign = sign;
		}
	}
	*line = (struct regress_line){
		.intercept = intercept,
		.slope = slope,
		.residual_sd = sqrt(sse / (double)(n - 2)),
		.slope_sd = sqrt(sse / (double)(n - 2) / sxx),
		.runs = runs ? runs : 1,
	};
	return true;
}
