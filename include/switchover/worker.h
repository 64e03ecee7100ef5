/*
 * worker: one thread, one event_base, one SO_REUSEPORT socket per
 * configured listener, and every client and upstream connection accepted
 * or opened on it.
 *
 * Invariants:
 *  - Everything reachable from a struct worker is touched only by that
 *    worker's thread, except the command slot (cmd_lock) and the metrics,
 *    which the control thread reads with relaxed loads.
 *  - A worker sees the config through a struct wgen: its own state for one
 *    config generation (SWRR weights, per-server pools and health).  The
 *    current wgen is w->gen; older ones live on while a request uses them.
 *  - Connections are never freed inside their own callback chain: closing
 *    frees the sockets at once and queues the struct on w->reap, freed
 *    from a separate event afterwards.
 */
#ifndef SWITCHOVER_WORKER_H
#define SWITCHOVER_WORKER_H

#include <pthread.h>
#include <stdint.h>
#include <sys/queue.h>

#include "switchover/clock.h"	/* now_ms, now_us: many users include us */
#include "switchover/config.h"
#include "switchover/metrics.h"

struct event;
struct event_base;
struct client;
struct upstream;

struct wbackend;
struct ssl_session_st;
struct drain_worker;
struct http_head;

struct wserver {
	struct sw_server	*conf;
	struct wbackend		*backend;
	struct wgen		*gen;
	int			 active;	/* busy upstream conns */
	int			 fails;		/* consecutive failures */
	uint64_t		 down_until;	/* ms, monotonic */
	TAILQ_HEAD(, upstream)	 idle;
	int			 nidle;
	struct ssl_session_st	*tls_session;	/* to resume; current gen only */
};

struct wbackend {
	struct sw_backend	*conf;
	struct wserver		*servers;
	size_t			 nservers;
	size_t			 rr;		/* round-robin cursor */
	struct backend_metrics	*m;
};

struct wgen {
	struct sw_config	*cfg;
	int			 refcnt;	/* worker's current + users */
	struct worker		*w;
	int			 swrr[SW_MAX_BACKENDS];
	/* Each route's own SWRR state, by index into cfg->routes. */
	int			 route_swrr[SW_MAX_ROUTES][SW_MAX_BACKENDS];
	struct wbackend		 backends[SW_MAX_BACKENDS];
};

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
	pthread_t		 thread;
	struct event_base	*base;
	struct wlistener	 listeners[SW_MAX_LISTENERS];
	size_t			 nlisteners;
	struct wgen		*gen;
	struct worker_metrics	*m;

	TAILQ_HEAD(, client)	 clients;
	int			 nclients;
	int			 max_clients;
	int			 accept_paused;
	struct event		*accept_ev;	/* resume accepting */

	TAILQ_HEAD(, client)	 reap_clients;
	TAILQ_HEAD(, upstream)	 reap_upstreams;
	struct event		*reap_ev;

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

	struct drain_worker	*drain;		/* drain.c's state */

	int			 shutting_down;
	struct event		*deadline_ev;
	int			 access_fd;	/* -1: no access log */
	int			 stopped;	/* loop exited */
};

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

/* Worker thread only. */
void		 worker_client_gone(struct worker *, struct client *);
void		 worker_reap_schedule(struct worker *);
struct wgen	*wgen_ref(struct wgen *);
void		 wgen_unref(struct wgen *);
/* Pick a backend by smooth weighted round robin; NULL if all weights 0. */
struct wbackend	*wgen_pick_backend(struct wgen *);
/* The backend with this metric slot in generation g, or NULL. */
struct wbackend	*wgen_backend_by_slot(struct wgen *, int slot);
/*
 * The backend for a request of route index ri (-1: the default route,
 * see route.h) under the routing policy: the pinned slot's backend when
 * pinned >= 0 and it is still configured (whatever its weight), else by
 * policy, with the route's weights and its own SWRR state, from the
 * request head h and client address.  NULL when every weight is 0.
 */
struct wbackend	*wgen_route(struct wgen *, int ri, int pinned,
		    const struct http_head *h, const char *client_addr);
/* Pick a server in a backend; NULL if none is usable. */
struct wserver	*wbackend_pick_server(struct wbackend *, uint64_t now_ms);
void		 wserver_failed(struct wserver *, uint64_t now_ms);
void		 wserver_succeeded(struct wserver *);

#endif
