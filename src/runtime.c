/*
 * runtime: the control thread's view of the running proxy, and the one
 * way to change what the workers serve (runtime_publish).
 *
 * Runs on the control thread only.  Modules that must react to a new
 * config (weights moved, a backend drained, the ALB kept in step)
 * register a hook once at start-up; hooks run in registration order after
 * the workers have been handed the new config.
 */
#include <stdlib.h>
#include <string.h>

#include "switchover/config.h"
#include "switchover/log.h"
#include "switchover/metrics.h"
#include "switchover/runtime.h"
#include "switchover/worker.h"

#define MAX_HOOKS	8

struct runtime rt;

static struct {
	runtime_hook	 fn;
	void		*arg;
} hooks[MAX_HOOKS];
static size_t nhooks;

int
runtime_assign_slots(struct sw_config *c)
{
	for (size_t i = 0; i < c->nbackends; i++)
		if ((c->backends[i].metric_slot =
		    metrics_slot(c->backends[i].name)) == -1)
			return -1;
	return 0;
}

int
runtime_on_publish(runtime_hook fn, void *arg)
{
	if (nhooks == MAX_HOOKS)
		return -1;
	hooks[nhooks].fn = fn;
	hooks[nhooks].arg = arg;
	nhooks++;
	return 0;
}

int
runtime_weights_changed(const struct sw_config *old, const struct sw_config *c)
{
	if (old == NULL)
		return 1;
	for (size_t i = 0; i < c->nbackends; i++) {
		struct sw_backend *ob = config_backend(old, c->backends[i].name);

		if (ob == NULL || ob->weight != c->backends[i].weight)
			return 1;
	}
	return old->nbackends != c->nbackends;
}

void
runtime_publish(struct sw_config *c)
{
	struct sw_config *old = rt.cfg;

	if (runtime_assign_slots(c) == -1) {
		log_err("more than %d distinct backend names since start: "
		    "restart to apply this config", SW_MAX_BACKENDS);
		config_unref(c);
		return;
	}
	for (size_t i = 0; old != NULL && i < c->nbackends; i++) {
		struct sw_backend *ob = config_backend(old, c->backends[i].name);

		if (ob != NULL && ob->weight != c->backends[i].weight)
			log_info("backend %s: weight %d -> %d",
			    c->backends[i].name, ob->weight,
			    c->backends[i].weight);
	}
	rt.cfg = c;
	for (size_t i = 0; i < rt.nworkers; i++)
		worker_post_config(rt.workers[i], c);
	/* Hooks see both generations; the old one lives until they return. */
	for (size_t i = 0; i < nhooks; i++)
		hooks[i].fn(old, c, hooks[i].arg);
	if (old != NULL)
		config_unref(old);
}

void
runtime_metrics(struct worker_metrics *out)
{
	struct worker_metrics *per[256];
	size_t n = rt.nworkers < 256 ? rt.nworkers : 256;

	for (size_t i = 0; i < n; i++)
		per[i] = rt.workers[i]->m;
	metrics_sum(out, per, n);
}
