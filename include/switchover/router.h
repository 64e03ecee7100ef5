/*
 * router: the pure choices, free of sockets so they can be proven by unit
 * tests: smooth weighted round robin over backends (exact split over any
 * sum(weights) consecutive picks), the sticky hash split, and server
 * choice inside a backend.
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

/* SipHash-2-4 of key under the 128-bit key (k0, k1). */
uint64_t router_siphash(uint64_t k0, uint64_t k1, const void *key,
	    size_t len);
/*
 * SipHash-2-4 under a fixed key: the same on every worker, host and
 * restart, so a sticky key always lands on the same point.
 */
uint64_t router_hash(const void *key, size_t len);

/*
 * Sticky choice: the hash is a point in [0,1) and backends, in config
 * order, own consecutive ranges as wide as their weights.  Raising a
 * later backend's weight at the expense of earlier ones only moves keys
 * towards the later one.  Returns the index, or -1 when every weight is 0.
 */
int	router_sticky(const int *weights, size_t n, uint64_t hash);

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
