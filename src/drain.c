/*
 * drain: spread, graceful closing of the client connections bound to a
 * backend.  See drain.h for the life of a drain.
 *
 * Workers keep no list of their own: a marked client carries its due
 * time (client_drain_due), and one timer per worker walks the worker's
 * clients when the earliest falls due.  The timer never fires closer
 * than TICK_MIN_MS apart, so a drain of k connections costs at most
 * spread / TICK_MIN_MS walks, whatever k, and a client that closes on
 * its own meanwhile leaves nothing dangling behind.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "switchover/client.h"
#include "switchover/config.h"
#include "switchover/drain.h"
#include "switchover/log.h"
#include "switchover/metrics.h"
#include "switchover/runtime.h"
#include "switchover/upstream.h"
#include "switchover/worker.h"

#define TICK_MIN_MS	10

struct drain_worker {
	struct worker	*w;
	struct event	*tick;
	uint64_t	 left;		/* marked at the last tick */
};

static uint64_t drains;		/* control thread only */

/* Arm the worker's tick for the due time at (ms, monotonic). */
static void
drain_arm(struct drain_worker *d, uint64_t at)
{
	uint64_t	now = now_ms();
	uint64_t	ms = at > now + TICK_MIN_MS ? at - now : TICK_MIN_MS;
	struct timeval	tv = { (time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000 };

	evtimer_add(d->tick, &tv);
}

/* Close the clients that fell due; re-arm for the next one. */
static void
drain_tick(evutil_socket_t fd, short what, void *arg)
{
	struct drain_worker	*d = arg;
	struct client		*c, *next;
	uint64_t		 now = now_ms(), due, first = 0, left = 0;

	for (c = client_next(d->w, NULL); c != NULL; c = next) {
		next = client_next(d->w, c);
		if ((due = client_drain_due(c)) == 0)
			continue;
		if (due <= now)
			client_drain(c, CLOSE_DRAIN);	/* may close c */
		else {
			left++;
			if (first == 0 || due < first)
				first = due;
		}
	}
	/* Busy ones close after their current response, not counted here. */
	if (left == 0 && d->left != 0)
		log_info("worker %d: drain done: every marked connection was "
		    "closed or asked to close", d->w->id);
	d->left = left;
	if (first != 0)
		drain_arm(d, first);
}

/*
 * When the k-th of a worker's n marked connections closes, in ms from
 * now: spread * (k * nw + id) / (n * nw), even within the worker, and
 * the nw workers' sequences interleave instead of closing in lock step.
 */
static uint64_t
drain_offset(uint64_t k, uint64_t n, int id, uint64_t nw, int spread_ms)
{
	return (uint64_t)spread_ms * (k * nw + (uint64_t)id % nw) / (n * nw);
}

/* Is backend slot b one of slots? */
static int
slot_in(int b, uint32_t slots)
{
	return b >= 0 && b < 32 && (slots & (1u << b)) != 0;
}

/*
 * Is c bound to one of slots, and not already on its way out?  On route
 * slot rs only, or (rs -1) on any route or by its last request.
 */
static int
drain_wanted(const struct client *c, int rs, uint32_t slots)
{
	int bound;

	if (client_drain_due(c) != 0)
		return 0;
	if (rs >= 0)
		return slot_in(client_route_bound(c, rs), slots);
	bound = slot_in(client_slot(c), slots);
	for (int r = 0; r < SW_ROUTE_SLOTS && !bound; r++)
		bound = slot_in(client_route_bound(c, r), slots);
	return bound;
}

void
drain_worker_start(struct worker *w, int rs, uint32_t slots, int spread_ms,
    int nworkers)
{
	struct client	*c;
	uint64_t	 now = now_ms(), k = 0, n = 0, nw;

	nw = nworkers > 0 ? (uint64_t)nworkers : 1;
	for (c = client_next(w, NULL); c != NULL; c = client_next(w, c))
		n += drain_wanted(c, rs, slots);
	/* Due times are never 0 (0 = unmarked). */
	for (c = client_next(w, NULL); c != NULL && n > 0; c = client_next(w, c))
		if (drain_wanted(c, rs, slots))
			client_drain_mark(c, now + 1 + drain_offset(k++, n, w->id,
			    nw, spread_ms));
	/*
	 * Idle pooled connections to a drained backend go now; a named
	 * route's drain leaves them to the routes that still use it.
	 */
	for (size_t i = 0; i < w->gen->cfg->nbackends && rs <= 0; i++) {
		struct wbackend *b = &w->gen->backends[i];

		if (!(slots & (1u << b->conf->metric_slot)))
			continue;
		for (size_t j = 0; j < b->nservers; j++)
			upstream_pool_flush(&b->servers[j]);
	}
	log_info("worker %d: draining %" PRIu64 " client connections over "
	    "%d ms", w->id, n, spread_ms);
	if (n > 0) {
		w->drain->left = n;
		drain_arm(w->drain, now + 1);
	}
}

struct drain_worker *
drain_worker_new(struct worker *w)
{
	struct drain_worker *d;

	if ((d = calloc(1, sizeof(*d))) == NULL)
		return NULL;
	d->w = w;
	if ((d->tick = evtimer_new(w->base, drain_tick, d)) == NULL) {
		free(d);
		return NULL;
	}
	return d;
}

void
drain_worker_free(struct drain_worker *d)
{
	if (d == NULL)
		return;
	event_free(d->tick);
	free(d);
}

/*
 * Post a drain of the backends in slots to every worker: of the
 * connections bound to them on route slot rs, or on any route (-1).
 */
static void
drain_post(int rs, uint32_t slots)
{
	drains++;
	for (size_t i = 0; i < rt.nworkers; i++)
		worker_post_drain(rt.workers[i], rs, slots,
		    rt.cfg->drain_spread_ms, (int)rt.nworkers);
}

int
drain_backend(const char *name, char *err, size_t errlen)
{
	const struct sw_backend *b;

	if (rt.cfg == NULL || (b = config_backend(rt.cfg, name)) == NULL) {
		snprintf(err, errlen, "no backend named \"%s\"", name);
		return -1;
	}
	log_info("drain: backend %s, spread over %d ms", name,
	    rt.cfg->drain_spread_ms);
	drain_post(-1, 1u << b->metric_slot);
	return 0;
}

/*
 * A route's weight of some backend dropped to 0: drain the connections
 * bound to it on that route (its slot; the name is for the log).
 */
static void
drain_route_on_publish(const struct sw_config *old, const struct sw_route *r,
    const struct sw_config *cur)
{
	const struct sw_route	*or = config_route(old, r->name);
	uint32_t		 slots = 0;

	if (or == NULL)
		return;		/* a new route: nothing was bound on it */
	for (size_t i = 0; i < cur->nbackends; i++) {
		const struct sw_backend *b = &cur->backends[i];
		const struct sw_backend *ob = config_backend(old, b->name);

		if (r->weights[i] == 0 && ob != NULL &&
		    or->weights[ob - old->backends] > 0) {
			log_info("drain: route %s: backend %s weight went to 0: "
			    "draining the connections bound to it on that "
			    "route over %d ms", r->name, b->name,
			    cur->drain_spread_ms);
			slots |= 1u << b->metric_slot;
		}
	}
	if (slots != 0)
		drain_post(r->metric_slot, slots);
}

/*
 * Publish hook: a backend whose weight dropped to 0 on the default
 * route, or on a route, is drained from that route's connections.
 */
static void
drain_on_publish(const struct sw_config *old, const struct sw_config *cur,
    void *arg)
{
	uint32_t slots = 0;

	if (old == NULL || !cur->drain_on_weight_zero)
		return;
	for (size_t i = 0; i < cur->nroutes; i++)
		drain_route_on_publish(old, &cur->routes[i], cur);
	for (size_t i = 0; i < cur->nbackends; i++) {
		const struct sw_backend *b = &cur->backends[i];
		const struct sw_backend *ob = config_backend(old, b->name);

		if (b->weight == 0 && ob != NULL && ob->weight > 0) {
			log_info("drain: backend %s weight went to 0: draining "
			    "its connections over %d ms", b->name,
			    cur->drain_spread_ms);
			slots |= 1u << b->metric_slot;
		}
	}
	if (slots != 0)
		drain_post(0, slots);
}

int
drain_init(void)
{
	return runtime_on_publish(drain_on_publish, NULL);
}

void
drain_stats(struct drain_stats *st)
{
	struct worker_metrics *m;

	memset(st, 0, sizeof(*st));
	if ((m = malloc(sizeof(*m))) == NULL)
		return;
	runtime_metrics(m);
	for (int i = 0; i < metrics_nslots() && i < SW_MAX_BACKENDS; i++) {
		st->backend[i].name = metrics_slot_name(i);
		st->backend[i].bound = m->b[i].clients_bound -
		    m->b[i].clients_unbound;
		st->backend[i].affinity_hits = m->b[i].affinity_hits;
	}
	st->drains = drains;
	st->pending = m->l.drain_marked - m->l.drain_unmarked;
	st->closed_by_drain = m->l.closed_by[CLOSE_DRAIN];
	st->closed_by_recycle = m->l.closed_by[CLOSE_RECYCLE];
	st->affinity_learned = m->l.affinity_learned;
	free(m);
}
