/*
 * wgen: a worker's view of one config generation, and the choices made
 * in it for a request: which backend (SWRR by weight, per route, or a
 * sticky hash), which server in it, and each server's health.
 *
 * A worker sees the config through a struct wgen: its own state for one
 * config generation (SWRR weights, per-server pools and health).  The
 * current one is the worker's gen; older ones live on, referenced, while
 * a request or a pooled upstream connection still uses them.  The worker
 * builds each generation (worker.c), handing the idle pools of servers
 * that stay over to it.
 *
 * Worker thread only.
 */
#ifndef SWITCHOVER_WGEN_H
#define SWITCHOVER_WGEN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

#include "switchover/config.h"

struct backend_metrics;
struct http_head;
struct ssl_session_st;
struct upstream;
struct wbackend;
struct worker;

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
