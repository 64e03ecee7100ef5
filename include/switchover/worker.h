/*
 * worker: one thread, one event_base, one SO_REUSEPORT socket per
 * configured listener, and every client and upstream connection accepted
 * or opened on it.
 *
 * This header is the worker's life and the control thread's commands to
 * it.  What the connections it owns see of it is struct worker in
 * wctx.h (with the invariants); the config generation it routes by is
 * wgen.h.
 */
#ifndef SWITCHOVER_WORKER_H
#define SWITCHOVER_WORKER_H

#include <stdint.h>

#include "switchover/config.h"
#include "switchover/wctx.h"
#include "switchover/wgen.h"

/*
 * Create worker id with one listening socket per cfg listener, fds[i]
 * for cfg->listeners[i] (owned by the worker from here on, even on
 * failure).
 */
struct worker	*worker_new(int id, struct sw_config *cfg, const int *fds,
		    int access_fd, int max_clients);
int		 worker_start(struct worker *);
void		 worker_join(struct worker *);
void		 worker_free(struct worker *);
/* Control thread: hand a new config to the worker (it takes a reference). */
void		 worker_post_config(struct worker *, struct sw_config *);
/* Control thread: stop accepting, finish in-flight requests, exit the loop. */
void		 worker_post_shutdown(struct worker *);
/*
 * Control thread: drain the client connections bound to the backends
 * whose metric slots are set in slots, spread over spread_ms (this
 * worker's share interleaved with the other nworkers - 1).  route_slot
 * -1: bound on any route (drain BACKEND); else only the connections
 * whose binding on that route is one of slots (see drain.h).
 */
void		 worker_post_drain(struct worker *, int route_slot,
		    uint32_t slots, int spread_ms, int nworkers);

#endif
