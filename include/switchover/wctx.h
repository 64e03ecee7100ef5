/*
 * wctx: a worker thread as the connections it owns see it (client.c,
 * exchange.c, upstream.c, the drain's worker half): its event_base, its
 * current config generation, its metrics, its client list and the queues
 * of closed connections waiting to be freed.
 *
 * The worker (worker.c) makes and runs it; the connection modules only
 * read these fields and queue themselves for freeing, and never call
 * into worker.c: the worker owns its connections, not the other way
 * round.  The fields after "the worker's own" are worker.c's alone.
 *
 * Invariants:
 *  - Everything reachable from a struct worker is touched only by that
 *    worker's thread, except the command slot (cmd_lock) and the metrics,
 *    which the control thread reads with relaxed loads.
 *  - Connections are never freed inside their own callback chain: closing
 *    frees the sockets at once and queues the struct on reap_clients or
 *    reap_upstreams, then worker_reap_schedule(); the worker frees them
 *    from a separate event afterwards.
 */
#ifndef SWITCHOVER_WCTX_H
#define SWITCHOVER_WCTX_H

#include <pthread.h>
#include <stdint.h>
#include <sys/queue.h>

#include <event2/event.h>

#include "switchover/clock.h"	/* now_ms, now_us: many users include us */
#include "switchover/config.h"
#include "switchover/metrics.h"

struct client;
struct drain_worker;
struct upstream;
struct wgen;

/*
 * A worker's socket for listener idx of the config.  Its TLS context is
 * read from the current config at each accept, so a reload's new
 * certificate serves new connections at once.
 */
struct wlistener {
	struct worker		*w;
	size_t			 idx;		/* into cfg->listeners */
	int			 fd;
	struct event		*ev;		/* readable: accept_cb */
	enum { NODELAY_UNKNOWN, NODELAY_INHERITED, NODELAY_SET } nodelay;
	char			 port[8];	/* for X-Forwarded-Port */
};

struct worker {
	int			 id;
	struct event_base	*base;
	struct wgen		*gen;		/* the current generation */
	struct worker_metrics	*m;
	int			 access_fd;	/* -1: no access log */
	int			 shutting_down;

	/* Open client connections; client.c adds and removes them. */
	TAILQ_HEAD(, client)	 clients;
	int			 nclients;

	/* Closed, to be freed by the worker (worker_reap_schedule). */
	TAILQ_HEAD(, client)	 reap_clients;
	TAILQ_HEAD(, upstream)	 reap_upstreams;
	struct event		*reap_ev;

	struct drain_worker	*drain;		/* drain's worker half */

	/* The worker's own (worker.c). */
	pthread_t		 thread;
	struct wlistener	 listeners[SW_MAX_LISTENERS];
	size_t			 nlisteners;
	int			 max_clients;
	int			 accept_paused;
	struct event		*accept_ev;	/* resume accepting */

	/* Commands from the control thread: the slot below, then a write
	 * to cmd_fd (an eventfd) wakes cmd_fd_ev.  The base has no lock, so
	 * no other thread may call libevent on it: event_active() from the
	 * control thread would race. */
	pthread_mutex_t		 cmd_lock;
	int			 cmd_fd;
	struct event		*cmd_fd_ev;
	struct sw_config	*cmd_cfg;	/* pending config, or NULL */
	int			 cmd_shutdown;
	uint32_t		 cmd_drain;	/* metric slots to drain */
	/* Per route slot: backend slots whose bindings on it to drain. */
	uint32_t		 cmd_drain_route[SW_ROUTE_SLOTS];
	int			 cmd_drain_spread_ms;
	int			 cmd_nworkers;

	struct event		*deadline_ev;
	int			 stopped;	/* loop exited */

	/* Keep-alive timeouts made common timeouts of base (client.c's
	 * client_idle_ctv); never changed once set: conns point here. */
	struct timeval		 idle_ctv[4];
	int			 idle_ctv_ms[4];
	int			 nidle_ctv;
};

/* Have the worker free what was queued on its reap lists, soon. */
static inline void
worker_reap_schedule(struct worker *w)
{
	event_active(w->reap_ev, EV_TIMEOUT, 0);
}

#endif
