/*
 * drain_worker: the worker thread's half of a drain (drain.h): mark the
 * client connections bound to the drained backends, each with a due
 * time spread over the drain's spread and interleaved with the other
 * workers, and close them gracefully as they fall due.
 *
 * Worker thread only.
 */
#ifndef SWITCHOVER_DRAIN_WORKER_H
#define SWITCHOVER_DRAIN_WORKER_H

#include <stdint.h>

struct drain_worker;
struct worker;

/* The worker's drain state (its timer), or NULL: out of memory. */
struct drain_worker	*drain_worker_new(struct worker *);
void			 drain_worker_free(struct drain_worker *);
/*
 * Mark and schedule the clients bound to slots on route slot rs (-1: on
 * any route), this worker's share of nworkers spread over spread_ms.
 */
void			 drain_worker_start(struct worker *, int rs,
			    uint32_t slots, int spread_ms, int nworkers);

#endif
