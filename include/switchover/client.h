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

#include <sys/socket.h>

struct bufferevent;
struct client;
struct worker;
struct wlistener;

/*
 * Take over a socket accepted on listener wl (TLS if its config says
 * so).  Returns 0, or -1 (fd closed).
 */
int	client_new(struct worker *, struct wlistener *wl, int fd,
	    const struct sockaddr *, int len);
/* Graceful: close now if idle, else after the current exchange. */
void	client_shutdown(struct client *);
/* Gracefully close every client of the worker (shutdown). */
void	client_shutdown_all(struct worker *);
/* Close every client at once (shutdown deadline passed). */
void	client_close_all(struct worker *);
/* Free clients queued by client_close (from the worker's reap event). */
void	client_reap(struct worker *);

/* Upstream bufferevent callbacks while the upstream is busy for a client. */
void	client_upstream_readcb(struct bufferevent *, void *);
void	client_upstream_writecb(struct bufferevent *, void *);
void	client_upstream_eventcb(struct bufferevent *, short, void *);

void	client_global_init(void);

#endif
