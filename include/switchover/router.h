/*
 * router: the pure choices, free of sockets so they can be proven by unit
 * tests: smooth weighted round robin over backends (exact split over any
 * sum(weights) consecutive picks) and server choice inside a backend.
 */
#ifndef SWITCHOVER_ROUTER_H
#define SWITCHOVER_ROUTER_H

#include <stddef.h>
#include <stdint.h>

/*
 * Smooth weighted round robin (as nginx's upstream): cur[] is the running
 * state, one per backend, zero at start.  Returns the chosen index, or -1
 * when every weight is 0.
 */
int	router_swrr(const int *weights, int *cur, size_t n);

struct router_server {
	int		usable;		/* resolved and not marked down */
	int		active;		/* in-flight requests */
};

/* Round robin from *cursor over usable servers; -1 if none is usable. */
int	router_rr(const struct router_server *, size_t n, size_t *cursor);
/* Fewest active, ties broken round robin from *cursor; -1 if none. */
int	router_least_conn(const struct router_server *, size_t n,
	    size_t *cursor);

#endif
