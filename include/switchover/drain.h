/*
 * drain: moving long-lived client connections off a backend, gracefully
 * and spread over time.
 *
 * A drain of backend B (by hand, or automatically when B's weight drops
 * to 0) is posted to every worker.  Each worker marks the client
 * connections bound to B (pinned to it, or whose last request went to
 * it) with a due time, evenly spaced over [drain] spread and interleaved
 * with the other workers, then closes them as they fall due: an idle one
 * once it has been quiet for a second (its last answer gone from our
 * buffers, no request byte read), a busy one after its next response
 * that says Connection: close.  A connection is never closed right after
 * an answer that did not say so.  Idle pooled upstream connections to B
 * are closed at the start.
 *
 * With routes (route.h), a connection is bound per route: on each route
 * slot, to the backend that route's last request on it took (with
 * policy connection: the one its first request on that route took).  A
 * route's weight of B dropping to 0 drains only the connections whose
 * binding on that route is B (the default route: slot 0); closing one
 * ends its bindings on every route.  A drain of B by hand takes every
 * connection bound to B on any route.  Pooled upstream connections are
 * closed only by a drain by hand or of the default route.
 *
 * drain_backend(), drain_init() and drain_stats() run on the control
 * thread; drain_worker.h is the worker thread's half.
 */
#ifndef SWITCHOVER_DRAIN_H
#define SWITCHOVER_DRAIN_H

#include <stddef.h>
#include <stdint.h>

#include "switchover/config.h"


/* What /stats shows of bindings, drains and affinity (control thread). */
struct drain_stats {
	struct {
		const char	*name;		/* NULL: slot unused */
		uint64_t	 bound;		/* client conns bound now */
		uint64_t	 affinity_hits;
	} backend[SW_MAX_BACKENDS];		/* by metric slot */
	uint64_t	drains;			/* drain commands since start */
	uint64_t	pending;		/* conns marked, not yet closed */
	uint64_t	closed_by_drain;
	uint64_t	closed_by_recycle;	/* max age / max requests */
	uint64_t	affinity_learned;	/* search context ids seen */
};

/* Register the on_weight_zero publish hook.  0, or -1. */
int	drain_init(void);
/*
 * Drain every client connection bound to the backend named name, over
 * the running config's [drain] spread.  0, or -1 with a message in err
 * (unknown backend).  For POST /drain?backend=NAME and switchoverctl.
 */
int	drain_backend(const char *name, char *err, size_t errlen);
/* Fill st from the workers' counters. */
void	drain_stats(struct drain_stats *st);

#endif
