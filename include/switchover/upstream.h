/*
 * upstream: connections to servers, and the per-worker, per-server pool
 * of idle keep-alive ones.
 *
 * An upstream is owned either by one client (u->c, busy) or by its
 * server's idle list (pooled).  A pooled connection keeps reading, so a
 * close by the server is seen and the connection dropped before anyone
 * could pick it.  Busy connections deliver their events to the client
 * module; the client decides whether a connection goes back to the pool.
 */
#ifndef SWITCHOVER_UPSTREAM_H
#define SWITCHOVER_UPSTREAM_H

#include <sys/queue.h>

#include "switchover/conn.h"

struct conn;
struct worker;
struct wserver;

enum upstream_state {
	US_CONNECTING = 0,
	US_BUSY,
	US_IDLE,
	US_DEAD,
};

struct upstream {
	TAILQ_ENTRY(upstream)	 entry;		/* pool or reap list */
	struct worker		*w;
	struct conn		*conn;
	struct wserver		*srv;		/* holds a wgen reference */
	void			*owner;		/* busy: whose callbacks run */
	enum upstream_state	 state;
	int			 reused;	/* came from the pool */
	int			 tls;		/* a TLS conn */
	unsigned		 nreq;
	int			 to_read, to_write;	/* conn timeouts set, ms */
};

/*
 * A busy upstream's events go to its owner (client.c's exchange): the
 * owner's callbacks with the owner's arg, so this module knows nothing
 * of clients.
 */
struct upstream_cbs {
	conn_data_cb	readcb, writecb;
	conn_event_cb	eventcb;
};

/*
 * Get a connection to srv for owner (cbs, arg): an idle pooled one unless
 * fresh_only, else a new one that starts connecting.  NULL with errno
 * set when none can be had: EMFILE, ENFILE, ENOMEM, ENOBUFS are our own
 * shortage; anything else (an unresolved name, a connect refused at
 * once) is the server's.  A pooled one keeps its pool timeouts: the
 * owner sets its own (upstream_timeouts), once, for its request.
 */
struct upstream	*upstream_acquire(struct worker *, struct wserver *,
		    const struct upstream_cbs *, void *arg, int fresh_only);
/* The client is done with u: pool it if reusable, else close it. */
void		 upstream_release(struct upstream *, int reusable);
/* Close at once; the struct is freed later from the reap event. */
void		 upstream_close(struct upstream *);
/* Retiring srv: close its idle pooled connections, drop its TLS session. */
void		 upstream_pool_flush(struct wserver *);
void		 upstream_free(struct upstream *);
/* Set read/write timeouts in ms (0 = none). */
void		 upstream_timeouts(struct upstream *, int read_ms, int write_ms);

#endif
