/*
 * client: one downstream connection and the exchanges on it.
 *
 * State machine (client_set_state() checks every move):
 *
 *   IDLE --first byte--> HEAD --headers complete--> PROXY --exchange done--> IDLE
 *     \                   \                            \
 *      `--------------------`--error, close asked, drain--`--> CLOSING --flushed--> (freed)
 *
 * In PROXY the request body streams client -> upstream and the response
 * streams upstream -> client at the same time, each direction stopping
 * while the other side's output is above its high watermark.  Pipelined
 * requests wait, unparsed, in the client's input buffer (bounded by its
 * read watermark) until the current exchange is done.
 */
#ifndef SWITCHOVER_CLIENT_H
#define SWITCHOVER_CLIENT_H

#include <stdint.h>
#include <sys/socket.h>

#include "switchover/metrics.h"

struct client;
struct worker;
struct wlistener;

/*
 * Take over a socket accepted on listener wl (TLS if its config says
 * so).  Returns 0, or -1 (fd closed).
 */
int	client_new(struct worker *, struct wlistener *wl, int fd,
	    const struct sockaddr *, int len);
/* Graceful: as client_drain, for shutdown. */
void	client_shutdown(struct client *);
/* Gracefully close every client of the worker (shutdown). */
void	client_shutdown_all(struct worker *);
/* Close every client at once (shutdown deadline passed). */
void	client_close_all(struct worker *);
/* Free clients queued by client_close (from the worker's reap event). */
void	client_reap(struct worker *);

/* The worker's client after c (the first when c is NULL), or NULL. */
struct client	*client_next(struct worker *, struct client *c);
/* Metric slot of the backend c is bound to (pinned or last used), or -1. */
int		 client_slot(const struct client *);
/*
 * Metric slot of the backend c is bound to on route slot rs (pinned, or
 * that route's last request), or -1.
 */
int		 client_route_bound(const struct client *, int rs);
/* When c is due to be drained (ms, monotonic), or 0 if not marked. */
uint64_t	 client_drain_due(const struct client *);
void		 client_drain_mark(struct client *, uint64_t due_ms);
/*
 * Close c gracefully for reason why: if idle, once it has been quiet
 * for a second (nothing of its last answer still queued); else after
 * the current response if its head has not gone yet (it then says
 * Connection: close), or after the next one.  A pipelined request
 * already received is answered first.
 */
void		 client_drain(struct client *, enum close_reason why);


void	client_global_init(void);
/* Worker thread, on exit: free the exchanges kept for reuse. */
void	client_cache_free(void);

#endif
