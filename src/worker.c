/*
 * worker: a thread with its own event_base, listening sockets, clients,
 * upstream pools and metrics.  See wctx.h for the invariants.
 *
 * The control thread talks to a worker only through worker_post_*():
 * they fill the command slot under cmd_lock and write to the worker's
 * eventfd, whose event runs cmd_cb on the worker's own thread.  Nothing on
 * the request path takes a lock: the worker's event_base is made with
 * EVENT_BASE_FLAG_NOLOCK (libevent otherwise takes the base lock dozens of
 * times per request), which is why no other thread may touch it.
 */
#define _GNU_SOURCE	/* accept4 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/thread.h>

#include "switchover/client.h"
#include "switchover/conn.h"
#include "switchover/drain_worker.h"
#include "switchover/http.h"
#include "switchover/log.h"
#include "switchover/route.h"
#include "switchover/upstream.h"
#include "switchover/worker.h"

#define ACCEPT_PAUSE_MS	100
/* Connections accepted per wakeup at most: others' events wait meanwhile. */
#define ACCEPT_BATCH	32

/*
 * A route whose weights (and backends, in order) did not change keeps
 * its SWRR state across a publish, as the default route does: another
 * route's weight change must not restart its split.
 */
static void
route_swrr_carry(struct wgen *g, const struct wgen *old)
{
	const struct sw_config *c = g->cfg, *oc = old->cfg;

	if (c->nbackends != oc->nbackends)
		return;
	for (size_t i = 0; i < c->nbackends; i++)
		if (strcmp(c->backends[i].name, oc->backends[i].name) != 0)
			return;
	for (size_t r = 0; r < c->nroutes; r++) {
		const struct sw_route *or = config_route(oc, c->routes[r].name);

		if (or != NULL && memcmp(or->weights, c->routes[r].weights,
		    sizeof(or->weights)) == 0)
			memcpy(g->route_swrr[r], old->route_swrr[or - oc->routes],
			    sizeof(g->route_swrr[r]));
	}
}

/* Build this worker's state for config cfg, taking over pools from old. */
static struct wgen *
wgen_new(struct worker *w, struct sw_config *cfg, struct wgen *old)
{
	struct wgen *g;

	if ((g = calloc(1, sizeof(*g))) == NULL)
		return NULL;
	g->cfg = config_ref(cfg);
	g->refcnt = 1;
	g->w = w;
	for (size_t i = 0; i < cfg->nbackends; i++) {
		struct wbackend *b = &g->backends[i];

		b->conf = &cfg->backends[i];
		b->m = &w->m->b[b->conf->metric_slot];
		b->nservers = b->conf->nservers;
		b->servers = calloc(b->nservers ? b->nservers : 1,
		    sizeof(*b->servers));
		if (b->servers == NULL) {
			g->refcnt = 0;
			wgen_unref(g);	/* frees what was built */
			return NULL;
		}
		for (size_t j = 0; j < b->nservers; j++) {
			struct wserver *s = &b->servers[j];

			s->conf = &b->conf->servers[j];
			s->backend = b;
			s->gen = g;
			TAILQ_INIT(&s->idle);
		}
	}
	if (old == NULL)
		return g;
	route_swrr_carry(g, old);
	/*
	 * Carry over what still applies: idle pooled connections and health
	 * of servers that stay (same backend, same address), and the SWRR
	 * state when the weights did not change.
	 */
	for (size_t i = 0; i < cfg->nbackends; i++) {
		struct wbackend		*b = &g->backends[i];
		struct sw_backend	*ob = NULL;
		size_t			 oi;

		for (oi = 0; oi < old->cfg->nbackends; oi++)
			if (strcmp(old->cfg->backends[oi].name, b->conf->name) == 0) {
				ob = &old->cfg->backends[oi];
				break;
			}
		if (ob == NULL)
			continue;
		if (ob->weight == b->conf->weight)
			g->swrr[i] = old->swrr[oi];
		b->rr = old->backends[oi].rr;
		for (size_t j = 0; j < b->nservers; j++) {
			struct wserver *s = &b->servers[j];

			for (size_t k = 0; k < old->backends[oi].nservers; k++) {
				struct wserver	*os = &old->backends[oi].servers[k];
				struct upstream	*u;

				if (strcmp(os->conf->name, s->conf->name) != 0 ||
				    os->conf->addrlen != s->conf->addrlen ||
				    memcmp(&os->conf->addr, &s->conf->addr,
				    s->conf->addrlen) != 0)
					continue;
				s->fails = os->fails;
				s->down_until = os->down_until;
				/*
				 * A connection or session made with other TLS
				 * settings (or none) must not serve this one.
				 * A backend whose weight just went to 0 lets
				 * its idle ones go; one staying at 0 keeps
				 * them for its affinity and pinned traffic.
				 */
				if ((b->conf->weight == 0 && ob->weight > 0) ||
				    ob->tls.ctx != b->conf->tls.ctx)
					break;	/* its idle conns close below */
				s->tls_session = os->tls_session;
				os->tls_session = NULL;
				while ((u = TAILQ_FIRST(&os->idle)) != NULL) {
					TAILQ_REMOVE(&os->idle, u, entry);
					os->nidle--;
					u->srv = s;
					wgen_ref(g);
					wgen_unref(old);
					TAILQ_INSERT_TAIL(&s->idle, u, entry);
					s->nidle++;
				}
				break;
			}
		}
	}
	return g;
}

/* Drop the worker's own reference to its generation, closing idle pools. */
static void
wgen_retire(struct wgen *g)
{
	for (size_t i = 0; i < g->cfg->nbackends; i++)
		for (size_t j = 0; j < g->backends[i].nservers; j++)
			upstream_pool_flush(&g->backends[i].servers[j]);
	wgen_unref(g);
}

static void	accept_enable(struct worker *, int);

/*
 * Free whatever closed since the last pass; accept again if the
 * connection cap had stopped it and clients have left.
 */
static void
reap_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker	*w = arg;
	struct upstream	*u;

	client_reap(w);
	while ((u = TAILQ_FIRST(&w->reap_upstreams)) != NULL) {
		TAILQ_REMOVE(&w->reap_upstreams, u, entry);
		upstream_free(u);
	}
	if (w->shutting_down && w->nclients == 0)
		event_base_loopbreak(w->base);
	if (w->accept_paused && !w->shutting_down &&
	    w->nclients < w->max_clients && !evtimer_pending(w->accept_ev, NULL)) {
		w->accept_paused = 0;
		accept_enable(w, 1);
	}
}

/* Turn accepting on or off on every listener of the worker. */
static void
accept_enable(struct worker *w, int on)
{
	for (size_t i = 0; i < w->nlisteners; i++) {
		if (w->listeners[i].ev == NULL)
			continue;
		if (on)
			event_add(w->listeners[i].ev, NULL);
		else
			event_del(w->listeners[i].ev);
	}
}

/* Accepting again after a pause (EMFILE, or at the connection cap). */
static void
accept_resume_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;

	if (w->accept_paused && !w->shutting_down &&
	    w->nclients < w->max_clients) {
		w->accept_paused = 0;
		accept_enable(w, 1);
	}
}

/* Stop accepting; resume after ms (0: when a client leaves). */
static void
accept_pause(struct worker *w, int ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	if (!w->accept_paused) {
		w->accept_paused = 1;
		M_INC(w->m->l.accept_paused);
		accept_enable(w, 0);
	}
	if (ms > 0)
		evtimer_add(w->accept_ev, &tv);
}

/*
 * Does a socket accepted on wl come with TCP_NODELAY already?  Linux
 * copies it from the listening socket (worker_listen sets it there); the
 * first accepted socket is asked once, and if it did not inherit the
 * option every connection sets it for itself.
 */
static void
accept_nodelay(struct wlistener *wl, int fd)
{
	int		on = 0, one = 1;
	socklen_t	len = sizeof(on);

	if (wl->nodelay == NODELAY_UNKNOWN)
		wl->nodelay = getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on,
		    &len) == 0 && on ? NODELAY_INHERITED : NODELAY_SET;
	if (wl->nodelay == NODELAY_SET)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

/*
 * The listening socket is readable: accept what waits, up to
 * ACCEPT_BATCH connections, until accept4 finds the backlog empty.
 * One per wakeup (nginx's default) saves that last, failing accept4
 * when connections come one at a time, but under load it costs a loop
 * round, an epoll_wait, per connection: bench/profile -C counted 1.00
 * epoll_wait per request that way against 0.2 in batches.
 */
static void
accept_cb(evutil_socket_t lfd, short what, void *arg)
{
	struct wlistener	*wl = arg;
	struct worker		*w = wl->w;
	struct sockaddr_storage	 ss;
	socklen_t		 sslen;
	int			 fd, err;

	for (int n = 0; n < ACCEPT_BATCH && !w->accept_paused; n++) {
		sslen = sizeof(ss);
		fd = accept4(lfd, (struct sockaddr *)&ss, &sslen,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			err = errno;
			if (err == EAGAIN || err == EWOULDBLOCK ||
			    err == ECONNABORTED || err == EINTR)
				return;	/* all taken, or gone already */
			if (err == EMFILE || err == ENFILE || err == ENOBUFS ||
			    err == ENOMEM) {
				/* Spinning on accept would burn the CPU others need. */
				log_warn("worker %d: accept: %s: pausing %d ms",
				    w->id, strerror(err), ACCEPT_PAUSE_MS);
				accept_pause(w, ACCEPT_PAUSE_MS);
				return;
			}
			log_warn("worker %d: accept: %s", w->id, strerror(err));
			return;
		}
		if (w->shutting_down) {
			close(fd);
			return;
		}
		accept_nodelay(wl, fd);
		client_new(w, wl, fd, (struct sockaddr *)&ss, (int)sslen);
		if (w->nclients >= w->max_clients) {
			log_warn("worker %d: %d client connections: not accepting "
			    "until one closes", w->id, w->nclients);
			accept_pause(w, 0);
		}
	}
}

/* Shutdown deadline: whoever is still there is cut off. */
static void
deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;

	log_warn("worker %d: shutdown deadline: closing %d connections", w->id,
	    w->nclients);
	client_close_all(w);
}

/* Run commands posted by the control thread. */
static void
cmd_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker		*w = arg;
	struct sw_config	*cfg;
	int			 shutdown, spread, nworkers;
	uint32_t		 drain, rdrain[SW_ROUTE_SLOTS];
	uint64_t		 n;

	if (read(w->cmd_fd, &n, sizeof(n)) == -1 && errno != EAGAIN)
		log_warn("worker %d: command wake-up: %s", w->id,
		    strerror(errno));
	pthread_mutex_lock(&w->cmd_lock);
	cfg = w->cmd_cfg;
	w->cmd_cfg = NULL;
	shutdown = w->cmd_shutdown;
	w->cmd_shutdown = 0;
	drain = w->cmd_drain;
	w->cmd_drain = 0;
	memcpy(rdrain, w->cmd_drain_route, sizeof(rdrain));
	memset(w->cmd_drain_route, 0, sizeof(w->cmd_drain_route));
	spread = w->cmd_drain_spread_ms;
	nworkers = w->cmd_nworkers;
	pthread_mutex_unlock(&w->cmd_lock);

	if (cfg != NULL) {
		struct wgen *g = wgen_new(w, cfg, w->gen);

		config_unref(cfg);
		if (g == NULL)
			log_err("worker %d: out of memory applying config: "
			    "keeping the old one", w->id);
		else {
			wgen_retire(w->gen);
			w->gen = g;
		}
	}
	/* After the config: a drain posted with it sees the new weights. */
	if (drain != 0 && !w->shutting_down)
		drain_worker_start(w, -1, drain, spread, nworkers);
	for (int r = 0; r < SW_ROUTE_SLOTS; r++)
		if (rdrain[r] != 0 && !w->shutting_down)
			drain_worker_start(w, r, rdrain[r], spread, nworkers);
	if (shutdown && !w->shutting_down) {
		struct timeval tv;
		int ms = w->gen->cfg->shutdown_timeout_ms;

		w->shutting_down = 1;
		accept_enable(w, 0);
		client_shutdown_all(w);
		tv.tv_sec = ms / 1000;
		tv.tv_usec = (ms % 1000) * 1000;
		evtimer_add(w->deadline_ev, &tv);
		worker_reap_schedule(w);
	}
}

/* Put listening socket fd for cfg listener idx on the worker's loop. */
static int
worker_listen(struct worker *w, size_t idx, int fd)
{
	struct wlistener	*wl = &w->listeners[idx];
	struct sockaddr_storage	 ss;
	socklen_t		 sslen = sizeof(ss);
	int			 one = 1;

	wl->w = w;
	wl->idx = idx;
	wl->fd = fd;
	/* Inherited by accepted sockets (accept_nodelay checks). */
	wl->nodelay = setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
	    sizeof(one)) == 0 ? NODELAY_UNKNOWN : NODELAY_SET;
	if (getsockname(fd, (struct sockaddr *)&ss, &sslen) == 0)
		snprintf(wl->port, sizeof(wl->port), "%u",
		    ntohs(ss.ss_family == AF_INET6 ?
		    ((struct sockaddr_in6 *)&ss)->sin6_port :
		    ((struct sockaddr_in *)&ss)->sin_port));
	wl->ev = event_new(w->base, fd, EV_READ | EV_PERSIST, accept_cb, wl);
	if (wl->ev == NULL || event_add(wl->ev, NULL) == -1)
		return -1;
	return 0;
}

struct worker *
worker_new(int id, struct sw_config *cfg, const int *fds, int access_fd,
    int max_clients)
{
	struct worker		*w;
	struct event_config	*ec = NULL;

	if ((w = calloc(1, sizeof(*w))) == NULL) {
		for (size_t i = 0; i < cfg->nlisteners; i++)
			close(fds[i]);
		return NULL;
	}
	w->id = id;
	w->nlisteners = cfg->nlisteners;
	for (size_t i = 0; i < w->nlisteners; i++)
		w->listeners[i].fd = fds[i];
	w->access_fd = access_fd;
	w->max_clients = max_clients;
	TAILQ_INIT(&w->clients);
	TAILQ_INIT(&w->reap_clients);
	TAILQ_INIT(&w->reap_upstreams);
	w->cmd_fd = -1;
	pthread_mutex_init(&w->cmd_lock, NULL);
	if ((w->m = aligned_alloc(64, (sizeof(*w->m) + 63) / 64 * 64)) == NULL)
		goto fail;
	memset(w->m, 0, sizeof(*w->m));
	if (metrics_routes_alloc(w->m) == -1)
		goto fail;
	if ((w->cmd_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1 ||
	    (ec = event_config_new()) == NULL ||
	    event_config_set_flag(ec, EVENT_BASE_FLAG_NOLOCK) == -1 ||
	    (w->base = event_base_new_with_config(ec)) == NULL)
		goto fail;
	event_config_free(ec);
	ec = NULL;
	if ((w->gen = wgen_new(w, cfg, NULL)) == NULL)
		goto fail;
	w->reap_ev = event_new(w->base, -1, 0, reap_cb, w);
	w->cmd_fd_ev = event_new(w->base, w->cmd_fd, EV_READ | EV_PERSIST,
	    cmd_cb, w);
	w->accept_ev = evtimer_new(w->base, accept_resume_cb, w);
	w->deadline_ev = evtimer_new(w->base, deadline_cb, w);
	if (!w->reap_ev || !w->cmd_fd_ev || !w->accept_ev || !w->deadline_ev ||
	    event_add(w->cmd_fd_ev, NULL) == -1)
		goto fail;
	if ((w->drain = drain_worker_new(w)) == NULL)
		goto fail;
	for (size_t i = 0; i < w->nlisteners; i++)
		if (worker_listen(w, i, w->listeners[i].fd) == -1)
			goto fail;
	return w;
fail:
	log_err("worker %d: cannot set up: out of memory", id);
	if (ec != NULL)
		event_config_free(ec);
	worker_free(w);
	return NULL;
}

/* The worker thread: run the loop until shutdown completes. */
static void *
worker_main(void *arg)
{
	struct worker *w = arg;

	log_debug("worker %d: running", w->id);
	event_base_dispatch(w->base);
	client_cache_free();
	conn_cache_free();
	http_head_cache_free();
	__atomic_store_n(&w->stopped, 1, __ATOMIC_RELEASE);	/* main polls */
	log_debug("worker %d: stopped", w->id);
	return NULL;
}

int
worker_start(struct worker *w)
{
	return pthread_create(&w->thread, NULL, worker_main, w) == 0 ? 0 : -1;
}

void
worker_join(struct worker *w)
{
	pthread_join(w->thread, NULL);
}

/* Wake the worker to read its command slot (any thread). */
static void
cmd_wake(struct worker *w)
{
	uint64_t one = 1;

	/* Fails only if the counter would overflow: it is awake anyway. */
	if (write(w->cmd_fd, &one, sizeof(one)) == -1 && errno != EAGAIN)
		log_warn("worker %d: cannot wake: %s", w->id, strerror(errno));
}

void
worker_post_config(struct worker *w, struct sw_config *cfg)
{
	pthread_mutex_lock(&w->cmd_lock);
	if (w->cmd_cfg != NULL)
		config_unref(w->cmd_cfg);	/* superseded before applied */
	w->cmd_cfg = config_ref(cfg);
	pthread_mutex_unlock(&w->cmd_lock);
	cmd_wake(w);
}

void
worker_post_shutdown(struct worker *w)
{
	pthread_mutex_lock(&w->cmd_lock);
	w->cmd_shutdown = 1;
	pthread_mutex_unlock(&w->cmd_lock);
	cmd_wake(w);
}

void
worker_post_drain(struct worker *w, int route_slot, uint32_t slots,
    int spread_ms, int nworkers)
{
	pthread_mutex_lock(&w->cmd_lock);
	if (route_slot >= 0 && route_slot < SW_ROUTE_SLOTS)
		w->cmd_drain_route[route_slot] |= slots;
	else
		w->cmd_drain |= slots;
	w->cmd_drain_spread_ms = spread_ms;
	w->cmd_nworkers = nworkers;
	pthread_mutex_unlock(&w->cmd_lock);
	cmd_wake(w);
}

void
worker_free(struct worker *w)
{
	if (w == NULL)
		return;
	if (w->base != NULL) {
		client_close_all(w);
		if (w->gen != NULL)
			wgen_retire(w->gen);
		w->gen = NULL;
		if (w->reap_ev != NULL)
			reap_cb(-1, 0, w);
		/* What closing and reaping here (on main) put in main's
		 * caches; timer events among them, before their base. */
		client_cache_free();
		conn_cache_free();
		http_head_cache_free();
	}
	for (size_t i = 0; i < w->nlisteners; i++) {
		if (w->listeners[i].ev != NULL)
			event_free(w->listeners[i].ev);
		if (w->listeners[i].fd != -1)
			close(w->listeners[i].fd);
	}
	if (w->reap_ev)
		event_free(w->reap_ev);
	if (w->cmd_fd_ev)
		event_free(w->cmd_fd_ev);
	if (w->accept_ev)
		event_free(w->accept_ev);
	if (w->deadline_ev)
		event_free(w->deadline_ev);
	drain_worker_free(w->drain);
	if (w->cmd_cfg)
		config_unref(w->cmd_cfg);
	if (w->base)
		event_base_free(w->base);
	if (w->cmd_fd != -1)
		close(w->cmd_fd);
	pthread_mutex_destroy(&w->cmd_lock);
	if (w->m != NULL)
		metrics_routes_free(w->m);
	free(w->m);
	free(w);
}
