/*
 * wgen: choosing for one request, within one config generation as a
 * worker sees it: a backend by weight (SWRR), by route or by sticky
 * hash, a server within it, and each server's health.  See wgen.h.
 *
 * Worker thread only; no system calls, no locks.  The worker builds a
 * generation (wgen_new in worker.c, which also hands idle upstream
 * pools over to it); this file only reads and counts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "switchover/config.h"
#include "switchover/http.h"
#include "switchover/log.h"
#include "switchover/route.h"
#include "switchover/router.h"
#include "switchover/wgen.h"

struct wgen *
wgen_ref(struct wgen *g)
{
	g->refcnt++;
	return g;
}

void
wgen_unref(struct wgen *g)
{
	if (g == NULL || --g->refcnt > 0)
		return;
	for (size_t i = 0; i < g->cfg->nbackends; i++)
		free(g->backends[i].servers);
	config_unref(g->cfg);
	free(g);
}

struct wbackend *
wgen_pick_backend(struct wgen *g)
{
	int	weights[SW_MAX_BACKENDS];
	int	i;

	for (size_t k = 0; k < g->cfg->nbackends; k++)
		weights[k] = g->cfg->backends[k].weight;
	i = router_swrr(weights, g->swrr, g->cfg->nbackends);
	return i < 0 ? NULL : &g->backends[i];
}

struct wbackend *
wgen_backend_by_slot(struct wgen *g, int slot)
{
	for (size_t i = 0; i < g->cfg->nbackends; i++)
		if (g->backends[i].conf->metric_slot == slot)
			return &g->backends[i];
	return NULL;
}

struct wbackend *
wgen_route(struct wgen *g, int ri, int pinned, const struct http_head *h,
    const char *addr)
{
	int		 weights[SW_MAX_BACKENDS], i, hi;
	struct wbackend	*b;
	const char	*key = addr;
	size_t		 keylen = strlen(addr);

	if (pinned >= 0 && (b = wgen_backend_by_slot(g, pinned)) != NULL)
		return b;
	if (ri >= 0 && (size_t)ri < g->cfg->nroutes) {
		route_weights(g->cfg, ri, weights);
		if (g->cfg->policy != POLICY_STICKY) {
			i = router_swrr(weights, g->route_swrr[ri],
			    g->cfg->nbackends);
			return i < 0 ? NULL : &g->backends[i];
		}
	} else if (g->cfg->policy != POLICY_STICKY)
		return wgen_pick_backend(g);
	else
		route_weights(g->cfg, -1, weights);
	/* No such header: fall back to the client address, never fail. */
	if (g->cfg->sticky_header != NULL &&
	    (hi = http_head_find(h, g->cfg->sticky_header)) >= 0) {
		key = http_hdr_value(h, (size_t)hi);
		keylen = h->hdrs[hi].val_len;
	}
	i = router_sticky(weights, g->cfg->nbackends, router_hash(key, keylen));
	return i < 0 ? NULL : &g->backends[i];
}

struct wserver *
wbackend_pick_server(struct wbackend *b, uint64_t now)
{
	struct router_server	 rs[SW_MAX_SERVERS];
	int			 i, any = 0;

	for (size_t k = 0; k < b->nservers; k++) {
		rs[k].usable = b->servers[k].conf->resolved &&
		    b->servers[k].down_until <= now;
		rs[k].active = b->servers[k].active;
		any |= rs[k].usable;
	}
	/* All marked down: fail open, as an ALB does with no healthy target. */
	if (!any)
		for (size_t k = 0; k < b->nservers; k++)
			rs[k].usable = b->servers[k].conf->resolved;
	if (b->conf->balance == BALANCE_LEAST_CONN)
		i = router_least_conn(rs, b->nservers, &b->rr);
	else
		i = router_rr(rs, b->nservers, &b->rr);
	return i < 0 ? NULL : &b->servers[i];
}

void
wserver_failed(struct wserver *s, uint64_t now)
{
	const struct sw_config *cfg = s->gen->cfg;

	if (cfg->max_fails == 0)
		return;
	if (++s->fails >= cfg->max_fails && s->down_until <= now) {
		s->down_until = now + (uint64_t)cfg->fail_timeout_ms;
		log_warn("server %s of backend %s marked down for %d ms after "
		    "%d failures", s->conf->name, s->backend->conf->name,
		    cfg->fail_timeout_ms, s->fails);
	}
}

void
wserver_succeeded(struct wserver *s)
{
	if (s->fails >= s->gen->cfg->max_fails && s->gen->cfg->max_fails > 0)
		log_info("server %s of backend %s is answering again",
		    s->conf->name, s->backend->conf->name);
	s->fails = 0;
	s->down_until = 0;
}

