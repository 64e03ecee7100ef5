/*
 * router: weighted backend choice and server balancing.  Pure functions:
 * callers own all state, so every worker runs them lock-free on its own.
 */
#include "switchover/router.h"

int
router_swrr(const int *weights, int *cur, size_t n)
{
	int	best = -1, total = 0;

	for (size_t i = 0; i < n; i++) {
		if (weights[i] <= 0)
			continue;
		cur[i] += weights[i];
		total += weights[i];
		if (best == -1 || cur[i] > cur[best])
			best = (int)i;
	}
	if (best != -1)
		cur[best] -= total;
	return best;
}

int
router_rr(const struct router_server *s, size_t n, size_t *cursor)
{
	for (size_t k = 0; k < n; k++) {
		size_t i = (*cursor + k) % n;

		if (s[i].usable) {
			*cursor = (i + 1) % n;
			return (int)i;
		}
	}
	return -1;
}

int
router_least_conn(const struct router_server *s, size_t n, size_t *cursor)
{
	int best = -1;

	for (size_t k = 0; k < n; k++) {
		size_t i = (*cursor + k) % n;

		if (s[i].usable && (best == -1 || s[i].active < s[best].active))
			best = (int)i;
	}
	if (best != -1)
		*cursor = ((size_t)best + 1) % n;
	return best;
}
