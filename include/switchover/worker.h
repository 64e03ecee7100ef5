/*
 * worker: one thread, one event_base, one SO_REUSEPORT listener, and every
 * client and upstream connection accepted or opened on it.
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

#include "switchover/config.h"
#include "switchover/metrics.h"

struct event;
struct event_base;
struct evconnlistener;
struct client;
struct upstream;

struct wbackend;

struct wserver {
	struct sw_server	*conf;
	struct wbackend		*backend;
	struct wgen		*gen;
	int			 active;	/* busy upstream conns */
	int			 fails;		/* consecutive failures */
	uint64_t		 down_until;	/* ms, monotonic */
	TAILQ_HEAD(, upstream)	 idle;
	int			 nidle;
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
	struct wbackend		 backends[SW_MAX_BACKENDS];
};

struct worker {
	int			 id;
	pthread_t		 thread;
	struct event_base	*base;
	int			 listen_fd;
	struct evconnlistener	*listener;
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

	int			 shutting_down;
	struct event		*deadline_ev;
	int			 access_fd;	/* -1: no access log */
	char			 listen_port[8];
	int			 stopped;	/* loop exited */
};

/* Create worker id with a listening socket fd (owned by the worker). */
struct worker	*worker_new(int id, struct sw_config *cfg, int listen_fd,
		    int access_fd, int max_clients);
int		 worker_start(struct worker *);
void		 worker_join(struct worker *);
void		 worker_free(struct worker *);
/* Control thread: hand a new config to the worker (it takes a reference). */
void		 worker_post_config(struct worker *, struct sw_config *);
/* Control thread: stop accepting, finish in-flight requests, exit the loop. */
void		 worker_post_shutdown(struct worker *);

/* Worker thread only. */
void		 worker_client_gone(struct worker *, struct client *);
void		 worker_reap_schedule(struct worker *);
struct wgen	*wgen_ref(struct wgen *);
void		 wgen_unref(struct wgen *);
/* Pick a backend by smooth weighted round robin; NULL if all weights 0. */
struct wbackend	*wgen_pick_backend(struct wgen *);
/* Pick a server in a backend; NULL if none is usable. */
struct wserver	*wbackend_pick_server(struct wbackend *, uint64_t now_ms);
void		 wserver_failed(struct wserver *, uint64_t now_ms);
void		 wserver_succeeded(struct wserver *);
uint64_t	 now_ms(void);
uint64_t	 now_us(void);

#endif
