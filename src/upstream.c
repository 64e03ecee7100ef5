/*
 * upstream: connecting, pooling and closing server connections.  Runs on
 * the worker thread that owns the connection.
 *
 * A backend with tls = on gets TLS conns: the TCP connect is
 * issued here and the handshake runs under the connect timeout; the
 * client module sees CONN_EV_CONNECTED only once the server's
 * certificate has been checked.  Each server keeps the last resumable
 * TLS session of a pooled connection, offered by the next new one.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "switchover/conn.h"
#include "switchover/log.h"
#include "switchover/tls.h"
#include "switchover/upstream.h"
#include "switchover/wctx.h"
#include "switchover/wgen.h"

static void	pool_readcb(struct conn *, void *);
static void	pool_eventcb(struct conn *, short, void *);

/* Only a change reaches libevent, as in client_timeouts. */
void
upstream_timeouts(struct upstream *u, int read_ms, int write_ms)
{
	if (read_ms == u->to_read && write_ms == u->to_write)
		return;
	u->to_read = read_ms;
	u->to_write = write_ms;
	conn_set_timeouts(u->conn, read_ms, write_ms);
}

struct upstream *
upstream_acquire(struct worker *w, struct wserver *srv,
    const struct upstream_cbs *cbs, void *arg, int fresh_only)
{
	struct upstream		*u;
	struct backend_metrics	*m = srv->backend->m;
	const struct sw_config	*cfg = srv->gen->cfg;
	const struct sw_tls	*tls = &srv->backend->conf->tls;
	int			 fd = -1, one = 1, err;

	if (!fresh_only && (u = TAILQ_FIRST(&srv->idle)) != NULL) {
		TAILQ_REMOVE(&srv->idle, u, entry);
		srv->nidle--;
		u->state = US_BUSY;
		u->owner = arg;
		u->reused = 1;
		srv->active++;
		M_INC(m->conns_reused);
		conn_setcb(u->conn, cbs->readcb, cbs->writecb, cbs->eventcb,
		    arg);
		/* Its timeouts are the owner's to set: one change, not two. */
		/* The client module writes, EV_WRITE only when full. */
		conn_enable(u->conn, EV_READ);
		return u;
	}
	if (!srv->conf->resolved) {
		errno = EHOSTUNREACH;
		return NULL;
	}
	if ((u = calloc(1, sizeof(*u))) == NULL)
		return NULL;
	fd = socket(srv->conf->addr.ss_family,
	    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		log_warn("upstream %s: socket: %s", srv->conf->name,
		    strerror(errno));
		goto fail;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (tls->ctx != NULL) {
		if (connect(fd, (struct sockaddr *)&srv->conf->addr,
		    srv->conf->addrlen) == -1 && errno != EINPROGRESS) {
			log_debug("upstream %s: connect failed at once: %s",
			    srv->conf->name, strerror(errno));
			goto fail;
		}
		struct ssl_st *ssl = tls_connect(tls, srv->conf->host,
		    srv->tls_session);

		if (ssl == NULL)
			goto fail;
		if ((u->conn = conn_tls(w->base, fd, ssl)) == NULL) {
			errno = ENOMEM;
			goto fail;
		}
		fd = -1;	/* the conn's */
		u->tls = 1;
	} else {
		if ((u->conn = conn_plain(w->base, fd)) == NULL) {
			errno = ENOMEM;
			goto fail;
		}
		fd = -1;	/* the conn's */
	}
	u->w = w;
	u->srv = srv;
	wgen_ref(srv->gen);
	u->owner = arg;
	u->state = US_CONNECTING;
	srv->active++;
	M_INC(m->conns_opened);
	conn_setcb(u->conn, cbs->readcb, cbs->writecb, cbs->eventcb, arg);
	/*
	 * While connecting, the write timeout is the connect timeout; a TLS
	 * handshake waits for the server's answers too, under the same one.
	 */
	upstream_timeouts(u, tls->ctx ? cfg->connect_timeout_ms : 0,
	    cfg->connect_timeout_ms);
	conn_enable(u->conn, EV_READ | EV_WRITE);
	/*
	 * A refusal seen at once is reported later through the event
	 * callback; any other immediate failure comes back here as NULL.
	 */
	if (tls->ctx == NULL && conn_connect(u->conn,
	    (struct sockaddr *)&srv->conf->addr, srv->conf->addrlen) == -1) {
		log_debug("upstream %s: connect failed at once: %s",
		    srv->conf->name, strerror(errno));
		srv->active--;
		M_INC(m->conns_closed);
		wgen_unref(srv->gen);
		goto fail;
	}
	return u;
fail:
	err = errno;	/* the caller tells our shortage from the server's */
	if (fd != -1)
		close(fd);
	if (u->conn != NULL)
		conn_free(u->conn);
	free(u);
	errno = err;
	return NULL;
}

/* A pooled connection said something: data or EOF both end it. */
static void
pool_readcb(struct conn *cn, void *arg)
{
	struct upstream *u = arg;

	log_debug("upstream %s: unexpected data on idle connection",
	    u->srv->conf->name);
	upstream_close(u);
}

/* A pooled connection closed, failed, or sat idle too long. */
static void
pool_eventcb(struct conn *cn, short what, void *arg)
{
	upstream_close(arg);
}

void
upstream_release(struct upstream *u, int reusable)
{
	struct wserver		*srv = u->srv;
	struct worker		*w = u->w;
	const struct sw_config	*cfg = w->gen->cfg;

	srv->active--;
	u->owner = NULL;
	u->nreq++;
	/*
	 * Pool only into the current generation: a server that left the
	 * config (or a worker shutting down) gets no new pooled conns.  A
	 * backend at weight 0 is pooled too: affinity and pinned clients
	 * keep sending it traffic after a switchover (a TLS handshake per
	 * scroll page otherwise); idle ones go after pool_idle_timeout.
	 */
	if (!reusable || w->shutting_down || srv->gen != w->gen ||
	    srv->nidle >= cfg->pool_max_idle ||
	    evbuffer_get_length(conn_input(u->conn)) > 0 ||
	    evbuffer_get_length(conn_output(u->conn)) > 0) {
		/* Unsent request bytes would go out ahead of the next one. */
		srv->active++;	/* upstream_close decrements */
		upstream_close(u);
		return;
	}
	tls_session_keep(conn_ssl(u->conn), &srv->tls_session);
	u->state = US_IDLE;
	u->reused = 0;
	conn_setcb(u->conn, pool_readcb, NULL, pool_eventcb, u);
	upstream_timeouts(u, cfg->pool_idle_timeout_ms, 0);
	conn_enable(u->conn, EV_READ);
	TAILQ_INSERT_HEAD(&srv->idle, u, entry);	/* LIFO: warmest first */
	srv->nidle++;
}

void
upstream_close(struct upstream *u)
{
	struct worker *w = u->w;

	if (u->state == US_DEAD)
		return;
	if (u->state == US_IDLE) {
		TAILQ_REMOVE(&u->srv->idle, u, entry);
		u->srv->nidle--;
	} else
		u->srv->active--;
	M_INC(u->srv->backend->m->conns_closed);
	u->state = US_DEAD;
	u->owner = NULL;
	conn_free(u->conn);
	u->conn = NULL;
	TAILQ_INSERT_TAIL(&w->reap_upstreams, u, entry);
	worker_reap_schedule(w);
}

void
upstream_pool_flush(struct wserver *srv)
{
	struct upstream *u;

	while ((u = TAILQ_FIRST(&srv->idle)) != NULL)
		upstream_close(u);
	tls_session_free(srv->tls_session);
	srv->tls_session = NULL;
}

void
upstream_free(struct upstream *u)
{
	if (u->conn != NULL)
		conn_free(u->conn);
	if (u->srv != NULL)
		wgen_unref(u->srv->gen);
	free(u);
}
