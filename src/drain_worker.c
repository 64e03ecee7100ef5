/*
 * drain_worker: a drain on one worker's thread: marking the client
 * connections bound to the drained backends with spread due times, and
 * closing them as they fall due.  See drain.h for the life of a drain.
 *
 * Workers keep no list of their own: a marked client carries its due
 * time (client_drain_due), and one timer per worker walks the worker's
 * clients when the earliest falls due.  The timer never fires closer
 * than TICK_MIN_MS apart, so a drain of k connections costs at most
 * spread / TICK_MIN_MS walks, whatever k, and a client that closes on
 * its own meanwhile leaves nothing dangling behind.
 */
#include <inttypes.h>
#include <stdlib.h>

#include <event2/event.h>

#include "switchover/client.h"
#include "switchover/config.h"
#include "switchover/drain_worker.h"
#include "switchover/log.h"
#include "switchover/upstream.h"
#include "switchover/wctx.h"
#include "switchover/wgen.h"

#define TICK_MIN_MS	10

struct drain_worker {
	struct worker	*w;
	struct event	*tick;
	uint64_t	 left;		/* marked at the last tick */
};

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

