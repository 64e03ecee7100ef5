/*
 * drain: what to drain and when, on the control thread: a drain by hand
 * (drain_backend) or a weight gone to 0 on a publish, posted to every
 * worker; and the counters /stats shows.  See drain.h for the life of a
 * drain; the marking and closing on each worker is drain_worker.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "switchover/config.h"
#include "switchover/drain.h"
#include "switchover/log.h"
#include "switchover/metrics.h"
#include "switchover/runtime.h"
#include "switchover/worker.h"

static uint64_t drains;		/* control thread only */

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
