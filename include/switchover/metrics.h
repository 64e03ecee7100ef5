/*
 * metrics: per-worker counters and latency histograms, summed on demand.
 *
 * Each worker owns one struct worker_metrics and is its only writer; it
 * bumps counters with plain relaxed stores (no lock, no atomic RMW on the
 * request path).  The control thread reads them with relaxed loads and
 * sums across workers.  Backends are identified by a slot that stays the
 * same for the life of the process, so counters survive reloads; routes
 * too (slot 0 is the default route).
 *
 * Per-route counters live in a separate table (struct route_table, 700
 * KB: 16 backend slots x 17 route slots x 2.6 KB) that each worker points
 * to from its worker_metrics and that sums keep apart (metrics_route_sum):
 * the stats ring's 61 snapshots do not carry it.  It is backend-major, so
 * the few backends in use are one block; its pages are mapped on demand
 * (metrics_route_table_new), so cells never written cost no memory.
 */
#ifndef SWITCHOVER_METRICS_H
#define SWITCHOVER_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "switchover/config.h"

/* Latency histogram: microseconds, 8 log-linear sub-buckets per octave. */
#define HIST_SUB_BITS	3
#define HIST_SUB	(1 << HIST_SUB_BITS)
#define HIST_LINEAR	(2 * HIST_SUB)		/* 0..15 us exact */
#define HIST_OCTAVES	37			/* up to 2^40 us */
#define HIST_BUCKETS	(HIST_LINEAR + HIST_OCTAVES * HIST_SUB)

struct hist {
	uint64_t	count;
	uint64_t	sum_us;
	uint64_t	max_us;
	uint64_t	b[HIST_BUCKETS];
};

enum proxy_error {
	PERR_CONNECT = 0,	/* connection refused / unreachable */
	PERR_TIMEOUT,		/* connect, first byte or I/O timeout */
	PERR_RESET,		/* upstream closed or reset mid-exchange */
	PERR_BAD_RESPONSE,	/* unparseable upstream response */
	PERR_NO_SERVER,		/* no usable server in the backend */
	PERR_TLS,		/* TLS handshake or certificate check failed */
	PERR_MAX
};

enum close_reason {
	CLOSE_CLIENT = 0,	/* client closed */
	CLOSE_KEEPALIVE_TIMEOUT,
	CLOSE_HEADER_TIMEOUT,
	CLOSE_IO_TIMEOUT,
	CLOSE_BAD_REQUEST,
	CLOSE_UPSTREAM_ERROR,
	CLOSE_CONN_CLOSE,	/* Connection: close or HTTP/1.0 */
	CLOSE_SHUTDOWN,
	CLOSE_DRAIN,
	CLOSE_ERROR,		/* local error, out of memory */
	CLOSE_RECYCLE,		/* max_connection_age or max_requests reached */
	CLOSE_MAX
};

struct backend_metrics {
	uint64_t	requests;
	uint64_t	responses[5];		/* 1xx .. 5xx from upstream */
	uint64_t	errors[PERR_MAX];	/* responses the proxy made */
	uint64_t	retries;
	uint64_t	tls_failures;		/* handshakes that failed */
	uint64_t	conns_opened;
	uint64_t	conns_reused;
	uint64_t	conns_closed;		/* active = opened - closed */
	uint64_t	bytes_up;		/* request bytes sent */
	uint64_t	bytes_down;		/* response bytes received */
	uint64_t	clients_bound;		/* client conns whose backend */
	uint64_t	clients_unbound;	/* ... this is: bound - unbound */
	uint64_t	affinity_hits;		/* routed by a search context id */
	uint64_t	responses_429;		/* overload: also in 4xx */
	struct hist	latency;		/* request start .. response end */
};

struct listener_metrics {
	uint64_t	conns_accepted;
	uint64_t	conns_closed;
	uint64_t	closed_by[CLOSE_MAX];
	uint64_t	requests;
	uint64_t	requests_reused;	/* not the first on its conn */
	uint64_t	bad_requests;
	uint64_t	accept_paused;
	uint64_t	tls_handshake_failures;	/* protocol, cipher, bad hello */
	uint64_t	drain_marked;		/* conns scheduled to drain */
	uint64_t	drain_unmarked;		/* ... and done: marked - unmarked */
	uint64_t	affinity_learned;	/* search context ids remembered */
	uint64_t	affinity_unreadable;	/* id-bearing bodies not read */
};

/* What one route sent to one backend, and how it was answered. */
struct route_metrics {
	uint64_t	requests;		/* answered, by either side */
	uint64_t	responses[5];		/* by class, proxy's own too */
	uint64_t	responses_429;		/* also in 4xx */
	struct hist	latency;		/* request start .. response end */
};

/* Every route slot of every backend slot: c[backend][route]. */
struct route_table {
	struct route_metrics	c[SW_MAX_BACKENDS][SW_ROUTE_SLOTS];
};

struct worker_metrics {
	struct listener_metrics	l;
	struct backend_metrics	b[SW_MAX_BACKENDS];
	struct route_table	*routes;	/* a worker's own; NULL in sums */
};

/* Single-writer increment: the owner thread only. */
#define M_ADD(field, n) \
	__atomic_store_n(&(field), __atomic_load_n(&(field), \
	    __ATOMIC_RELAXED) + (n), __ATOMIC_RELAXED)
#define M_INC(field)	M_ADD(field, 1)
#define M_GET(field)	__atomic_load_n(&(field), __ATOMIC_RELAXED)

/* Bucket of a latency, and the largest value a bucket holds. */
size_t		 hist_index(uint64_t us);
uint64_t	 hist_upper(size_t idx);
/* Record one latency (owner thread only). */
void		 hist_record(struct hist *, uint64_t us);
/* dst += src (relaxed loads of src). */
void		 hist_add(struct hist *dst, const struct hist *src);
/* dst = a - b, for windows over cumulative snapshots. */
void		 hist_sub(struct hist *dst, const struct hist *a,
		    const struct hist *b);
/* Value at quantile q in [0,1] (upper bound of its bucket), 0 if empty. */
uint64_t	 hist_quantile(const struct hist *, double q);

/* Stable slot for a backend name (control thread only); -1 if full. */
int		 metrics_slot(const char *name);
const char	*metrics_slot_name(int slot);
int		 metrics_nslots(void);

/* Sum of every worker's metrics into out (control thread); no routes. */
struct worker;
void		 metrics_sum(struct worker_metrics *out,
		    struct worker_metrics *const *per, size_t n);
/* out = a - b: what happened between snapshot b and later snapshot a. */
void		 metrics_sub(struct worker_metrics *out,
		    const struct worker_metrics *a,
		    const struct worker_metrics *b);

/*
 * Count one answer of route slot rs from backend slot bs (owner thread
 * only): status as sent to the client, us from request start.  A no-op
 * without a table or with a slot out of range.
 */
void		 metrics_route(struct worker_metrics *, int rs, int bs,
		    int status, uint64_t us);
/* The cell of route slot rs, backend slot bs in t; NULL if none. */
const struct route_metrics *metrics_route_get(const struct route_table *t,
		    int rs, int bs);
/* A zeroed route table (its pages taken only when written), or NULL. */
struct route_table *metrics_route_table_new(void);
void		 metrics_route_table_free(struct route_table *);
/* Give a worker's m its zeroed route table.  0, or -1. */
int		 metrics_routes_alloc(struct worker_metrics *m);
void		 metrics_routes_free(struct worker_metrics *m);
/*
 * out = the sum of the workers' route tables, for the backend slots in
 * use (the other cells of out are left alone: never written, they cost
 * no memory); out = a - b, the same cells.
 */
void		 metrics_route_sum(struct route_table *out,
		    struct worker_metrics *const *per, size_t n);
void		 metrics_route_sub(struct route_table *out,
		    const struct route_table *a, const struct route_table *b);

/* Names for JSON keys and Prometheus labels. */
const char	*metrics_error_name(enum proxy_error);
const char	*metrics_close_name(enum close_reason);

#endif
