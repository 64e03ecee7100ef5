/*
 * client: a downstream connection's life: accept, idle keep-alive, the
 * header and keep-alive timers, drain marks, linger, close and reap.
 * What one request does on it (parsing, the upstream, relaying the
 * answer) is exchange.c's; client_impl.h holds what the two share.
 *
 * Runs on the worker thread only.  A client is closed by client_close(),
 * which frees its sockets at once and queues the struct for client_reap().
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include <llhttp.h>

#include "switchover/client.h"
#include "switchover/conn.h"
#include "switchover/http.h"
#include "switchover/log.h"
#include "switchover/metrics.h"
#include "switchover/tls.h"
#include "switchover/router.h"
#include "switchover/upstream.h"
#include "switchover/wctx.h"
#include "switchover/wgen.h"

#include "client_impl.h"

static const char *const state_names[] = { "idle", "head", "proxy",
    "closing", "dead" };

static const char *const close_names[CLOSE_MAX] = { "client closed",
    "keep-alive timeout", "header timeout", "I/O timeout", "bad request",
    "upstream error", "connection close", "shutdown", "drain", "error",
    "recycled" };

static void	client_readcb(struct conn *, void *);
static void	client_writecb(struct conn *, void *);
static void	client_eventcb(struct conn *, short, void *);
static void	client_timercb(evutil_socket_t, short, void *);
static void	client_flushed(struct client *);
static const struct timeval *client_idle_ctv(struct worker *, int);

/*
 * Client structs given back by client_reap, kept for this thread's next
 * connections (a new connection per request would otherwise cost a
 * calloc and a free each); client_cache_free empties the list.
 */
#define CFREE_MAX	256
static __thread struct client	*cfree[CFREE_MAX];
static __thread int		 ncfree;

/* A zeroed client struct, from the free list if it has one. */
static struct client *
client_get(void)
{
	struct client *c;

	if (ncfree == 0)
		return calloc(1, sizeof(struct client));
	c = cfree[--ncfree];
	memset(c, 0, sizeof(*c));
	return c;
}

/* Keep a reaped client struct for the next connection, or free it. */
static void
client_put(struct client *c)
{
	if (ncfree < CFREE_MAX)
		cfree[ncfree++] = c;
	else
		free(c);
}

/* Timer events given back (client_timer), kept for this worker thread. */
#define TFREE_MAX	256
static __thread struct event	*tfree[TFREE_MAX];
static __thread int		 ntfree;

/* Unparsed client input kept at most. */
static size_t
client_in_high(const struct client *c)
{
	size_t hs = c->w->gen->cfg->max_header_size + 16384;

	return IN_HIGH > hs ? IN_HIGH : hs;
}

/* Move to a new state; the legal moves are the ones drawn in client.h. */
void
client_set_state(struct client *c, enum client_state s)
{
	static const unsigned char legal[5][5] = {
		/* to:     IDLE HEAD PROXY CLOSING DEAD */
		/* IDLE */  { 0, 1, 0, 1, 1 },
		/* HEAD */  { 0, 0, 1, 1, 1 },
		/* PROXY */ { 1, 0, 0, 1, 1 },
		/* CLOSING */ { 0, 0, 0, 0, 1 },
		/* DEAD */  { 0, 0, 0, 0, 0 },
	};
	char ab[ADDR_STRLEN];

	if (!legal[c->state][s]) {
		log_err("client %s: illegal state move %s -> %s",
		    addr_format(&c->addr, ab), state_names[c->state],
		    state_names[s]);
		abort();
	}
	log_debug("client %s: %s -> %s", addr_format(&c->addr, ab),
	    state_names[c->state], state_names[s]);
	c->state = s;
}

/*
 * Arm the client's timer for ms milliseconds (0 stops it).  The timer
 * event exists only while armed: a stopped one goes back to this worker
 * thread's cache, so an idle keep-alive connection holds none (its
 * keep-alive timer is its read timeout: client_idle_timer).  While idle
 * or reading a head, an armed timer replaces that read timeout.
 */
void
client_timer(struct client *c, int ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
	char ab[ADDR_STRLEN];

	if (ms <= 0) {
		if (c->timer == NULL)
			return;
		evtimer_del(c->timer);
		if (ntfree < TFREE_MAX)
			tfree[ntfree++] = c->timer;
		else
			event_free(c->timer);
		c->timer = NULL;
		return;
	}
	if ((c->state == CS_IDLE || c->state == CS_HEAD) && c->to_read != 0)
		client_timeouts(c, 0, c->to_write);
	if (c->timer == NULL) {
		if (ntfree > 0) {
			c->timer = tfree[--ntfree];
			evtimer_assign(c->timer, c->w->base, client_timercb, c);
		} else if ((c->timer = evtimer_new(c->w->base, client_timercb,
		    c)) == NULL) {
			/* No timer: a read timeout still ends a silent client. */
			log_warn("client %s: no timer: out of memory",
			    addr_format(&c->addr, ab));
			client_timeouts(c, ms, c->to_write);
			return;
		}
	}
	evtimer_add(c->timer, &tv);
}

/* Free the cached timer events and client structs (before the base). */
void
client_timer_cache_free(void)
{
	while (ntfree > 0)
		event_free(tfree[--ntfree]);
	while (ncfree > 0)
		free(cfree[--ncfree]);
}

/*
 * Idle: the keep-alive timeout, or the end of the connection's age, as
 * the read timeout (client_eventcb), so no timer event is held; the
 * write timeout stays: an answer still queued must be read in time.
 */
void
client_idle_timer(struct client *c)
{
	int	ms = c->w->gen->cfg->keepalive_timeout_ms;
	uint64_t now = now_ms();
	const struct timeval *ctv = NULL;

	if (c->expire_at != 0 && c->expire_at < now + (uint64_t)ms)
		ms = c->expire_at > now ? (int)(c->expire_at - now) : 1;
	else
		ctv = client_idle_ctv(c->w, ms);
	client_timer(c, 0);
	if (ctv != NULL) {
		conn_set_read_common(c->conn, ms, ctv);
		c->to_read = ms;
	}
	client_timeouts(c, ms, c->w->gen->cfg->client_timeout_ms);
}

/*
 * The keep-alive timeout ms as a common timeout of w's base, or NULL.
 * Only the configured keep-alive timeout, never a connection's own
 * remaining age: libevent holds at most 256 durations per base, and a
 * few reloads to other keep-alive timeouts take a slot each (up to 4;
 * past that, the plain min-heap timeout).
 */
static const struct timeval *
client_idle_ctv(struct worker *w, int ms)
{
	struct timeval		 tv = { ms / 1000, (ms % 1000) * 1000 };
	const struct timeval	*ctv;
	int			 i;

	for (i = 0; i < w->nidle_ctv; i++)
		if (w->idle_ctv_ms[i] == ms)
			return &w->idle_ctv[i];
	if (i == (int)(sizeof(w->idle_ctv) / sizeof(w->idle_ctv[0])) ||
	    (ctv = event_base_init_common_timeout(w->base, &tv)) == NULL)
		return NULL;
	w->idle_ctv[i] = *ctv;
	w->idle_ctv_ms[i] = ms;
	w->nidle_ctv++;
	return &w->idle_ctv[i];
}

/* Set the client socket's I/O timeouts in ms (0 = none), on a change. */
void
client_timeouts(struct client *c, int read_ms, int write_ms)
{
	if (read_ms == c->to_read && write_ms == c->to_write)
		return;
	c->to_read = read_ms;
	c->to_write = write_ms;
	conn_set_timeouts(c->conn, read_ms, write_ms);
}

/* Send what is queued for the client now (conn_flush). */
void
client_out(struct client *c)
{
	if (c->state != CS_DEAD)
		conn_flush(c->conn);
}

/* Flush the upstream's output, once it is connected. */
void
client_up_out(struct client *c)
{
	if (c->state != CS_DEAD && c->x != NULL && c->x->up != NULL &&
	    c->x->up->state == US_BUSY)
		conn_flush(c->x->up->conn);
}

/* ---- life cycle ------------------------------------------------------- */

int
client_new(struct worker *w, struct wlistener *wl, int fd,
    const struct sockaddr *sa, int salen)
{
	struct client		*c;
	const struct sw_config	*cfg = w->gen->cfg;
	struct ssl_ctx_st	*tls = cfg->listeners[wl->idx].tls.ctx;

	if ((c = client_get()) == NULL)
		goto fail;
	c->w = w;
	c->l = wl;
	c->tls = tls != NULL;
	c->slot = -1;
	c->rbound0 = -1;
	if (cfg->max_connection_age_ms > 0) {
		/*
		 * Up to 10% earlier, so connections opened together (a fleet
		 * restarting) are not all recycled in the same instant.
		 */
		uint64_t age = (uint64_t)cfg->max_connection_age_ms;
		uint64_t t = now_us();

		c->expire_at = t / 1000 + age - router_hash(&t, sizeof(t)) %
		    (age / 10 + 1);
	}
	addr_set(&c->addr, sa);
	/* TCP_NODELAY: set already (worker.c's accept_nodelay). */
	/* A TLS handshake runs under the header timeout set below. */
	if (tls != NULL) {
		struct ssl_st *ssl = tls_accept(tls);

		if (ssl == NULL || (c->conn = conn_tls(w->base, fd, ssl)) == NULL)
			goto fail;
		fd = -1;
	} else {
		if ((c->conn = conn_plain(w->base, fd)) == NULL)
			goto fail;
		fd = -1;
	}
	c->idle_at = now_ms();
	conn_setcb(c->conn, client_readcb, client_writecb, client_eventcb, c);
	conn_set_read_high(c->conn, client_in_high(c));
	TAILQ_INSERT_TAIL(&w->clients, c, entry);
	w->nclients++;
	M_INC(w->m->l.conns_accepted);
	/*
	 * A plain conn tries its first read at once: the request is often
	 * here already, and may be served, even closed, before this
	 * returns.  A TLS conn waits on its event for the ClientHello.
	 */
	if (c->tls)
		conn_enable(c->conn, EV_READ);
	else
		conn_enable_read_first(c->conn);
	/* The first request must arrive within the header timeout. */
	if (c->state == CS_IDLE)
		client_timer(c, cfg->header_timeout_ms);
	return 0;
fail:
	log_warn("client: cannot set up a new connection: out of memory");
	if (c != NULL) {
		if (c->conn != NULL)
			conn_free(c->conn);
		free(c->rbound);
		client_put(c);
	}
	if (fd != -1)
		close(fd);
	return -1;
}

/* ---- binding and draining --------------------------------------------- */

/* Bind c to the backend in metric slot (-1: none), keeping the gauges. */
void
client_bind(struct client *c, int slot)
{
	struct worker_metrics *m = c->w->m;

	if (slot == c->slot)
		return;
	if (c->slot >= 0)
		M_INC(m->b[c->slot].clients_unbound);
	if (slot >= 0)
		M_INC(m->b[slot].clients_bound);
	c->slot = slot;
}

struct client *
client_next(struct worker *w, struct client *c)
{
	return c == NULL ? TAILQ_FIRST(&w->clients) : TAILQ_NEXT(c, entry);
}

int
client_slot(const struct client *c)
{
	return c->slot;
}

int
client_route_bound(const struct client *c, int rs)
{
	return rs >= 0 && rs < SW_ROUTE_SLOTS ? client_rbound(c, rs) : -1;
}

/*
 * Record that c's request on route slot rs went to backend slot; the
 * bindings of route slots beyond 0 are allocated at the first (-1: out
 * of memory, nothing recorded).
 */
int
client_rbind(struct client *c, int rs, int slot)
{
	if (rs == 0) {
		c->rbound0 = (int8_t)slot;
		return 0;
	}
	if (c->rbound == NULL) {
		if ((c->rbound = malloc(SW_ROUTE_SLOTS)) == NULL)
			return -1;
		memset(c->rbound, -1, SW_ROUTE_SLOTS);
	}
	c->rbound[rs] = (int8_t)slot;
	return 0;
}

uint64_t
client_drain_due(const struct client *c)
{
	return c->drain_due;
}

void
client_drain_mark(struct client *c, uint64_t due)
{
	if (c->drain_due == 0 && due != 0)
		M_INC(c->w->m->l.drain_marked);
	else if (c->drain_due != 0 && due == 0)
		M_INC(c->w->m->l.drain_unmarked);
	c->drain_due = due;
}

/*
 * Ask for a close at the next safe point.  A safe point is the end of a
 * response with nothing more of the client's in our input buffer: a
 * pipelined request already received is answered first (the response
 * that ends the connection is the one after which no request waits).
 */
void
client_ask_close(struct client *c, enum close_reason why)
{
	if (!c->close_asked) {
		c->close_asked = 1;
		c->ask_why = why;
	}
}

/* May the response about to go out end the connection? */
int
client_close_now_ok(struct client *c)
{
	return c->close_asked &&
	    conn_input_len(c->conn) == 0;
}

/*
 * An idle c was asked to close: end it once it has been quiet long
 * enough (FIN, then late input is discarded, never answered with an
 * RST), else look again when it could be.  Its last answer did not say
 * Connection: close, so ending it sooner would race its next request.
 * Quiet counts from the moment the last byte of that answer left us:
 * our output buffer and the kernel's send queue both empty (an answer
 * the client has not read yet is one it will send the next request
 * right after).  The kernel's queue empties without telling us, so it is
 * polled, and quiet is counted from the poll after the one that saw it
 * full: never less than DRAIN_QUIET_MS.
 */
void
client_idle_close(struct client *c)
{
	uint64_t	now = now_ms(), quiet;
	int		unsent = 0;

	if (conn_output_len(c->conn) > 0 ||
	    (ioctl(conn_fd(c->conn), TIOCOUTQ, &unsent) == 0 &&
	    unsent > 0)) {
		c->idle_at = now + DRAIN_POLL_MS;
		client_timer(c, DRAIN_POLL_MS);
		return;
	}
	quiet = now > c->idle_at ? now - c->idle_at : 0;
	if (quiet >= DRAIN_QUIET_MS)
		client_linger(c, c->ask_why);
	else
		client_timer(c, (int)(DRAIN_QUIET_MS - quiet));
}

void
client_drain(struct client *c, enum close_reason why)
{
	client_drain_mark(c, 0);
	if (c->state == CS_DEAD || c->state == CS_CLOSING)
		return;
	/* A busy one ends after its next response, or once quiet. */
	client_ask_close(c, why);
	if (c->state == CS_IDLE && client_close_now_ok(c))
		client_idle_close(c);
}

/*
 * TLS: close_notify marks a clean end, sent once, before our FIN; a
 * response cut short (an upstream failure, closing mid-exchange, unsent
 * bytes) must not look whole.
 */
static void
client_tls_end(struct client *c)
{
	if (c->tls && !c->notified && (c->state == CS_IDLE ||
	    (c->state == CS_CLOSING && c->why != CLOSE_UPSTREAM_ERROR)) &&
	    conn_output_len(c->conn) == 0) {
		c->notified = 1;
		tls_close_notify(conn_ssl(c->conn));
	}
}

/* The one close path: log, count, free sockets, queue for reaping. */
void
client_close(struct client *c, enum close_reason why, const char *detail)
{
	struct worker *w = c->w;
	char ab[ADDR_STRLEN];

	if (c->state == CS_DEAD)
		return;
	log_debug("client %s: close: %s%s%s", addr_format(&c->addr, ab),
	    close_names[why], detail ? ": " : "", detail ? detail : "");
	client_tls_end(c);
	exchange_end(c, 0);
	client_bind(c, -1);
	client_drain_mark(c, 0);
	client_set_state(c, CS_DEAD);
	M_INC(w->m->l.conns_closed);
	M_INC(w->m->l.closed_by[why]);
	/* Freed, not cached: worker_free closes the last ones from main. */
	if (c->timer != NULL) {
		event_free(c->timer);
		c->timer = NULL;
	}
	conn_free(c->conn);
	c->conn = NULL;
	free(c->rbound);
	c->rbound = NULL;
	TAILQ_REMOVE(&w->clients, c, entry);
	TAILQ_INSERT_TAIL(&w->reap_clients, c, entry);
	w->nclients--;
	worker_reap_schedule(w);
}

void
client_reap(struct worker *w)
{
	struct client *c;

	while ((c = TAILQ_FIRST(&w->reap_clients)) != NULL) {
		TAILQ_REMOVE(&w->reap_clients, c, entry);
		/*
		 * Into this thread's free lists, as an exchange that ends
		 * on a kept-alive connection: a connection closed after
		 * one request (get-close) would otherwise free and make
		 * again its exchange and both heads' memory each time.
		 * Reaping on main (worker_free) fills main's lists, which
		 * worker_free empties.
		 */
		exchange_put(c->x);
		c->x = NULL;
		client_put(c);
	}
}

/*
 * May a connection whose last answer went to the kernel close without
 * lingering?  Only if the client itself said Connection: close (or
 * spoke HTTP/1.0 without keep-alive) on a request we read whole and
 * answered from an upstream (a proxy-made error may have left a body
 * unread), nothing of its waits unread, and the kernel's send queue is
 * empty: the client acknowledged every byte of the answer, which is
 * then in its receive buffer, where a reset for bytes it might still
 * send does not reach it (Linux keeps received data readable after an
 * RST).  A client that asked for the close sends nothing more, so
 * there is no race to linger for; the linger stays for every close we
 * decide ourselves.  Costs one ioctl instead of shutdown, a loop round,
 * a read and a timer.  TLS keeps its close_notify path.
 */
static int
client_close_at_once_ok(struct client *c)
{
	int unsent = 0;

	return !c->tls && c->why == CLOSE_CONN_CLOSE && c->x != NULL &&
	    !c->x->keepalive && c->x->req_done && c->x->up_byte &&
	    conn_input_len(c->conn) == 0 &&
	    ioctl(conn_fd(c->conn), TIOCOUTQ, &unsent) == 0 && unsent == 0;
}

/*
 * Everything queued went to the kernel: send FIN, then read and discard
 * until the client closes too, or LINGER_MS.  Closing with unread input
 * makes the kernel answer with RST, which can destroy the tail of a
 * response still in flight to a client that sent more (a pipelined
 * request, a request racing our Connection: close).
 */
static void
client_flushed(struct client *c)
{
	if (c->lingering)
		return;
	if (c->peer_eof || c->why == CLOSE_CLIENT ||
	    client_close_at_once_ok(c)) {
		client_close(c, c->why, NULL);
		return;
	}
	client_tls_end(c);
	if (shutdown(conn_fd(c->conn), SHUT_WR) == -1) {
		client_close(c, c->why, NULL);
		return;
	}
	c->lingering = 1;
	if (conn_input_len(c->conn) > 0)
		evbuffer_drain(conn_input(c->conn), conn_input_len(c->conn));
	conn_set_read_high(c->conn, 0);
	conn_enable(c->conn, EV_READ);
	client_timeouts(c, LINGER_MS, 0);
	client_timer(c, LINGER_MS);
}

/* Start flushing what is queued for the client, then close. */
void
client_linger(struct client *c, enum close_reason why)
{
	if (c->state == CS_DEAD || c->state == CS_CLOSING)
		return;
	exchange_end(c, 0);
	client_set_state(c, CS_CLOSING);
	client_timer(c, 0);
	c->why = why;
	client_out(c);
	/*
	 * All sent already: straight to the FIN, with reading left on for
	 * the linger (turning it off and on again cost two epoll_ctl).
	 */
	if (conn_output_len(c->conn) == 0) {
		client_flushed(c);
		return;
	}
	conn_disable(c->conn, EV_READ);
	client_timeouts(c, 0, c->w->gen->cfg->client_timeout_ms);
}

void
client_shutdown(struct client *c)
{
	client_drain(c, CLOSE_SHUTDOWN);
}

void
client_shutdown_all(struct worker *w)
{
	struct client *c, *next;

	for (c = TAILQ_FIRST(&w->clients); c != NULL; c = next) {
		next = TAILQ_NEXT(c, entry);
		client_shutdown(c);
	}
}

void
client_close_all(struct worker *w)
{
	struct client *c;

	while ((c = TAILQ_FIRST(&w->clients)) != NULL)
		client_close(c, CLOSE_SHUTDOWN, "deadline");
}

static void
client_readcb(struct conn *cn, void *arg)
{
	struct client *c = arg;

	if (c->lingering) {
		evbuffer_drain(conn_input(cn),
		    conn_input_len(cn));
		return;
	}
	exchange_process(c);
}

static void
client_writecb(struct conn *cn, void *arg)
{
	struct client *c = arg;

	/* The last answer left our buffer: quiet may start (client_idle_close). */
	if (c->state == CS_IDLE &&
	    conn_output_len(cn) == 0)
		c->idle_at = now_ms();
	if (c->state == CS_CLOSING) {
		if (conn_output_len(cn) == 0)
			client_flushed(c);
		return;
	}
	/* The client drained: resume reading the response. */
	if (c->x != NULL && c->x->up_paused && c->x->up != NULL &&
	    conn_output_len(cn) <= OUT_LOW) {
		c->x->up_paused = 0;
		conn_enable(c->x->up->conn, EV_READ);
		exchange_upstream_read(c);
	}
}

static void
client_eventcb(struct conn *cn, short what, void *arg)
{
	struct client	*c = arg;
	char		 reason[200], ab[ADDR_STRLEN];

	if (what & CONN_EV_CONNECTED)
		return;		/* TLS handshake done: the request follows */
	if (c->lingering) {
		client_close(c, c->why, NULL);	/* the client closed too, or late */
		return;
	}
	if ((what & CONN_EV_ERROR) && c->tls &&
	    !tls_handshake_done(conn_ssl(cn))) {
		M_INC(c->w->m->l.tls_handshake_failures);
		if (!tls_failure(conn_ssl(cn), conn_ssl_error(cn), reason,
		    sizeof(reason)))
			snprintf(reason, sizeof(reason), "%s",
			    evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
		tls_log_limited("client %s: TLS handshake failed on port %s: %s",
		    addr_format(&c->addr, ab), c->l->port, reason);
		client_close(c, CLOSE_CLIENT, reason);
		return;
	}
	if ((what & CONN_EV_TIMEOUT) && (what & CONN_EV_READING) &&
	    c->state == CS_IDLE) {
		/* The keep-alive timer (client_idle_timer); reading stopped. */
		if (c->close_asked) {
			conn_enable(cn, EV_READ);
			client_idle_close(c);
		} else
			client_timercb(-1, EV_TIMEOUT, c);
		return;
	}
	if (what & CONN_EV_TIMEOUT) {
		if (c->state == CS_PROXY && c->x->up != NULL)
			M_INC(c->x->be->m->errors[PERR_TIMEOUT]);
		client_close(c, CLOSE_IO_TIMEOUT, (what & CONN_EV_READING) ?
		    "client sent nothing" : "client read nothing");
		return;
	}
	if ((what & CONN_EV_EOF) && c->state == CS_PROXY && c->x->req_done) {
		/*
		 * The client half-closed after sending its request(s): it may
		 * still read.  Answer what it sent, then close.
		 */
		c->x->close_after = 1;
		c->peer_eof = 1;
		conn_disable(cn, EV_READ);
		return;
	}
	if ((what & CONN_EV_EOF) && c->state == CS_IDLE) {
		/*
		 * The FIN came after the last answer was queued but before it
		 * was written, or behind pipelined requests not parsed yet:
		 * answer those, flush, then close (exchange_process does).
		 */
		c->peer_eof = 1;
		conn_disable(cn, EV_READ);
		exchange_process(c);
		return;
	}
	if ((what & CONN_EV_EOF) && c->state == CS_HEAD) {
		client_linger(c, CLOSE_CLIENT);	/* a head that cannot end */
		return;
	}
	if ((what & CONN_EV_EOF) && c->state == CS_CLOSING)
		return;		/* keep flushing */
	client_close(c, CLOSE_CLIENT, (what & CONN_EV_ERROR) ?
	    evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()) : NULL);
}

static void
client_timercb(evutil_socket_t fd, short what, void *arg)
{
	struct client *c = arg;

	if (c->state == CS_IDLE && c->close_asked)
		client_idle_close(c);	/* drained: quiet now? */
	else if (c->state == CS_IDLE)
		client_close(c, c->expire_at != 0 && now_ms() >= c->expire_at ?
		    CLOSE_RECYCLE : CLOSE_KEEPALIVE_TIMEOUT, NULL);
	else if (c->state == CS_HEAD)
		exchange_error(c, 408, "timeout_exception",
		    "request header not received in time", -1);
	else if (c->lingering)
		client_close(c, c->why, NULL);
}
