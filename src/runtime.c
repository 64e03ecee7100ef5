/*
 * runtime: the control thread's view of the running proxy, and the one
 * way to change what the workers serve (runtime_publish).
 *
 * Runs on the control thread only.  Modules that must react to a new
 * config (weights moved, a backend drained, the ALB kept in step)
 * register a hook once at start-up; hooks run in registration order after
 * the workers have been handed the new config.
 *
 * Weights have one door, runtime_set_weights(): validate, write the state
 * file, publish, audit, in that order, so that what is acknowledged is on
 * disk and what is on disk is what is served.  Start-up and SIGHUP keep
 * the same promise through runtime_restore() and runtime_reload_weights().
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "switchover/config.h"
#include "switchover/log.h"
#include "switchover/metrics.h"
#include "switchover/route.h"
#include "switchover/runtime.h"
#include "switchover/state.h"
#include "switchover/worker.h"

#define MAX_HOOKS	8

struct runtime rt;

static struct {
	runtime_hook	 fn;
	void		*arg;
} hooks[MAX_HOOKS];
static size_t nhooks;

/* The weights the config file said at the last load (start or SIGHUP). */
static struct state_weights file_weights;
/* The ramp's position, saved with the weights; and the one read at start. */
static struct state_ramp ramp_note, ramp_restored;

int
runtime_assign_slots(struct sw_config *c)
{
	for (size_t i = 0; i < c->nbackends; i++)
		if ((c->backends[i].metric_slot =
		    metrics_slot(c->backends[i].name)) == -1)
			return -1;
	for (size_t i = 0; i < c->nroutes; i++)
		if ((c->routes[i].metric_slot =
		    route_slot_assign(c->routes[i].name)) == -1)
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
		log_err("more than %d distinct backend names, or %d route "
		    "names, since start: restart to apply this config",
		    SW_MAX_BACKENDS, SW_MAX_ROUTES);
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

void
runtime_route_metrics(struct route_table *out)
{
	struct worker_metrics *per[256];
	size_t n = rt.nworkers < 256 ? rt.nworkers : 256;

	for (size_t i = 0; i < n; i++)
		per[i] = rt.workers[i]->m;
	metrics_route_sum(out, per, n);
}

/* Weight the file gave NAME at the last load, or -1 if it had none. */
static int
file_weight(const char *name)
{
	for (size_t i = 0; i < file_weights.n; i++)
		if (strcmp(file_weights.w[i].name, name) == 0)
			return file_weights.w[i].weight;
	return -1;
}

/* "source=1 target=0", for logs. */
static void
weights_str(const struct state_weights *sw, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < sw->n && off < len; i++) {
		int n = snprintf(buf + off, len - off, "%s%s=%d", i ? " " : "",
		    sw->w[i].name, sw->w[i].weight);

		if (n < 0)
			break;
		off += (size_t)n;
	}
}

/* A route's "source=9 target=1", for logs. */
static void
route_weights_str(const struct sw_config *c, const struct sw_route *r,
    char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < c->nbackends && off < len; i++) {
		int n = snprintf(buf + off, len - off, "%s%s=%d", i ? " " : "",
		    c->backends[i].name, r->weights[i]);

		if (n < 0)
			break;
		off += (size_t)n;
	}
}

/* Weight the state list sr gives backend name, or -1 if none. */
static int
sroute_weight(const struct state_route *sr, const char *name)
{
	for (size_t i = 0; sr != NULL && i < sr->n; i++)
		if (strcmp(sr->w[i].name, name) == 0)
			return sr->w[i].weight;
	return -1;
}

/*
 * Start-up: the route weights saved in the state file win over c's, by
 * route and backend name.  0, or -1 with err when a route would have
 * every weight 0.
 */
static int
routes_restore(struct sw_config *c, const struct state_weights *saved,
    char *err, size_t errlen)
{
	for (size_t k = 0; k < saved->nroutes; k++) {
		const struct state_route	*sr = &saved->routes[k];
		struct sw_route			*r = config_route(c, sr->name);
		char				 desc[512];
		int				 w[SW_MAX_BACKENDS];

		if (r == NULL) {
			log_warn("state file %s: route %s is not in the config: "
			    "ignored", c->state_file, sr->name);
			continue;
		}
		for (size_t i = 0; i < c->nbackends; i++) {
			int v = sroute_weight(sr, c->backends[i].name);

			w[i] = v >= 0 ? v : r->weights[i];
		}
		if (config_weights_valid(w, c->nbackends) == -1) {
			snprintf(err, errlen, "state file %s: route %s: every "
			    "weight would be 0", c->state_file, sr->name);
			return -1;
		}
		memcpy(r->weights, w, sizeof(int) * c->nbackends);
		route_weights_str(c, r, desc, sizeof(desc));
		log_info("route %s: weights from state file %s: %s", r->name,
		    c->state_file, desc);
	}
	return 0;
}

/*
 * SIGHUP: each route of the fresh config c keeps its running weight of
 * a backend unless the file changed it since the last load (as the
 * backends' weights do).  Audits the routes whose weights changed.
 * 0, or -1 with err.
 */
static int
routes_reload(struct sw_config *c, int *changed, char *err, size_t errlen)
{
	*changed = 0;
	for (size_t k = 0; k < c->nroutes; k++) {
		struct sw_route		*r = &c->routes[k];
		const struct sw_route	*or = config_route(rt.cfg, r->name);
		const struct state_route *fr = state_route(&file_weights,
					    r->name);
		int			 w[SW_MAX_BACKENDS];

		for (size_t i = 0; i < c->nbackends; i++) {
			const struct sw_backend *ob = or == NULL ? NULL :
			    config_backend(rt.cfg, c->backends[i].name);

			w[i] = r->weights[i];
			if (ob != NULL && sroute_weight(fr,
			    c->backends[i].name) == w[i])
				w[i] = or->weights[ob - rt.cfg->backends];
		}
		if (config_weights_valid(w, c->nbackends) == -1) {
			snprintf(err, errlen, "route %s: every weight would be "
			    "0", r->name);
			return -1;
		}
		memcpy(r->weights, w, sizeof(int) * c->nbackends);
		if (or == NULL)
			*changed = 1;
		for (size_t i = 0; or != NULL && i < c->nbackends; i++) {
			const struct sw_backend *ob = config_backend(rt.cfg,
			    c->backends[i].name);

			if (ob == NULL ||
			    or->weights[ob - rt.cfg->backends] != w[i])
				*changed = 1;
		}
	}
	*changed |= c->nroutes != rt.cfg->nroutes;
	return 0;
}

/* 0 if w is a valid weight vector for c, else -1 with err. */
static int
weights_check(const struct sw_config *c, const int *w, char *err,
    size_t errlen)
{
	for (size_t i = 0; i < c->nbackends; i++)
		if (w[i] < 0 || w[i] > SW_WEIGHT_MAX) {
			snprintf(err, errlen, "weight of %s must be an integer "
			    "0-%d", c->backends[i].name, SW_WEIGHT_MAX);
			return -1;
		}
	if (config_weights_valid(w, c->nbackends) == -1) {
		snprintf(err, errlen, "every weight would be 0: no request "
		    "could be routed");
		return -1;
	}
	return 0;
}

int
runtime_set_weights(const int *w, const char *who, const char *reason,
    char *err, size_t errlen)
{
	char warn[512];

	return runtime_set_weights_warn(w, who, reason, 0, warn, sizeof(warn),
	    err, errlen);
}

/*
 * Which weights a change sets: the backends' (the default route), one
 * named route, or all of them at once (switchover, fallback).
 */
enum wscope { WS_DEFAULT, WS_ROUTE, WS_ALL };

/*
 * The one commit path of a weight change: w into a clone of the running
 * config (scope and route say where), validated, saved, published,
 * logged and audited, in that order.  0, -1 (err), -2 (no such route).
 */
static int
weights_commit(enum wscope scope, const char *route, const int *w,
    const char *who, const char *reason, int must_apply, char *warn,
    size_t warnlen, char *err, size_t errlen)
{
	struct sw_config	*cur = rt.cfg, *next;
	struct sw_route		*r = NULL;
	struct state_weights	 old, now;
	char			 aerr[256], desc[512], serr[384];
	int			 changed = 0, rc;

	if (warnlen > 0)
		warn[0] = '\0';
	if (scope == WS_ROUTE && (r = config_route(cur, route)) == NULL) {
		snprintf(err, errlen, "no route named %s", route);
		return -2;
	}
	if (weights_check(cur, w, err, errlen) == -1)
		return -1;
	for (size_t i = 0; i < cur->nbackends; i++) {
		if (scope != WS_ROUTE)
			changed |= w[i] != cur->backends[i].weight;
		for (size_t k = 0; k < cur->nroutes; k++)
			if (scope == WS_ALL || &cur->routes[k] == r)
				changed |= w[i] != cur->routes[k].weights[i];
	}
	if (!changed)
		return 0;
	if ((next = config_clone(cur)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < next->nbackends; i++) {
		if (scope != WS_ROUTE)
			next->backends[i].weight = w[i];
		for (size_t k = 0; k < next->nroutes; k++)
			if (scope == WS_ALL || (r != NULL &&
			    strcmp(next->routes[k].name, r->name) == 0))
				next->routes[k].weights[i] = w[i];
	}
	state_from_config(&old, cur);
	state_from_config(&now, next);
	now.ramp = ramp_note;
	if (r != NULL)
		route_weights_str(next, config_route(next, route), desc,
		    sizeof(desc));
	else
		weights_str(&now, desc, sizeof(desc));
	/*
	 * Durable before it is served: a crash never forgets an ack'ed
	 * change.  Except a fallback (must_apply): the way back to safety
	 * is never refused for want of a disk, it is served from memory and
	 * the caller says so.  Written but not durable: served, with a
	 * warning, since the file already says so.
	 */
	rc = cur->state_file == NULL ? 0 : state_save(cur->state_file, &now,
	    serr, sizeof(serr));
	if (rc == -1 && !must_apply) {
		snprintf(err, errlen, "%s", serr);
		config_unref(next);
		return -1;
	}
	if (rc == -1) {
		log_err("STATE FILE NOT WRITTEN: %s: weights %s%s applied in "
		    "memory only; a restart brings back the old ones",
		    serr, desc, scope == WS_ALL && next->nroutes > 0 ?
		    " (every route)" : "");
		snprintf(warn, warnlen, "applied in memory only, the state file "
		    "was not written (a restart brings back the old weights): "
		    "%s", serr);
	} else if (rc == 1) {
		log_warn("state file: %s", serr);
		snprintf(warn, warnlen, "state file: %s", serr);
	}
	log_info("%s%s%sweights set by %s: %s%s%s%s", r ? "route " : "",
	    r ? route : "", r ? ": " : "", who, desc,
	    scope == WS_ALL && next->nroutes > 0 ? " (every route)" : "",
	    reason ? ": " : "", reason ? reason : "");
	/* cur may be freed by the publish: only rt.cfg is ours after it. */
	runtime_publish(next);
	if (rt.cfg->audit_log == NULL)
		return 0;
	if (scope != WS_ROUTE && state_audit(rt.cfg->audit_log, who, reason,
	    &old, &now, aerr, sizeof(aerr)) == -1)
		log_warn("audit log: %s", aerr);
	for (size_t k = 0; k < now.nroutes; k++) {
		if ((scope == WS_ROUTE && strcmp(now.routes[k].name,
		    route) != 0) || (scope == WS_DEFAULT))
			continue;
		if (state_audit_route(rt.cfg->audit_log, who, reason,
		    now.routes[k].name, &old, &now, aerr, sizeof(aerr)) == -1)
			log_warn("audit log: %s", aerr);
	}
	return 0;
}

int
runtime_set_weights_warn(const int *w, const char *who, const char *reason,
    int must_apply, char *warn, size_t warnlen, char *err, size_t errlen)
{
	return weights_commit(WS_DEFAULT, NULL, w, who, reason, must_apply,
	    warn, warnlen, err, errlen);
}

int
runtime_set_route_weights(const char *route, const int *w, const char *who,
    const char *reason, int must_apply, char *warn, size_t warnlen,
    char *err, size_t errlen)
{
	return weights_commit(route == NULL || *route == '\0' ? WS_DEFAULT :
	    WS_ROUTE, route, w, who, reason, must_apply, warn, warnlen, err,
	    errlen);
}

int
runtime_set_all_weights(const int *w, const char *who, const char *reason,
    int must_apply, char *warn, size_t warnlen, char *err, size_t errlen)
{
	return weights_commit(WS_ALL, NULL, w, who, reason, must_apply, warn,
	    warnlen, err, errlen);
}

int
runtime_restore(struct sw_config *c, char *err, size_t errlen)
{
	struct state_weights	 saved;
	char			 desc[512];
	int			 r, w[SW_MAX_BACKENDS];

	state_from_config(&file_weights, c);
	if (c->state_file == NULL)
		return 0;
	if ((r = state_load(c->state_file, &saved, err, errlen)) <= 0)
		return r;
	ramp_restored = saved.ramp;
	for (size_t i = 0; i < c->nbackends; i++)
		w[i] = c->backends[i].weight;
	for (size_t i = 0; i < saved.n; i++) {
		struct sw_backend *b = config_backend(c, saved.w[i].name);

		if (b == NULL)
			log_warn("state file %s: backend %s is not in the "
			    "config: ignored", c->state_file, saved.w[i].name);
		else
			w[b - c->backends] = saved.w[i].weight;
	}
	if (weights_check(c, w, err, errlen) == -1 ||
	    routes_restore(c, &saved, err, errlen) == -1)
		return -1;
	for (size_t i = 0; i < c->nbackends; i++)
		c->backends[i].weight = w[i];
	state_from_config(&saved, c);
	weights_str(&saved, desc, sizeof(desc));
	log_info("weights from state file %s win over the config file: %s",
	    c->state_file, desc);
	return 0;
}

int
runtime_reload_weights(struct sw_config *c, char *err, size_t errlen)
{
	struct state_weights	 old, now, fromfile;
	int			 w[SW_MAX_BACKENDS], rchanged;
	char			 aerr[256];

	state_from_config(&fromfile, c);
	for (size_t i = 0; i < c->nbackends; i++) {
		struct sw_backend *ob = config_backend(rt.cfg,
		    c->backends[i].name);

		w[i] = c->backends[i].weight;
		if (ob != NULL && file_weight(ob->name) == w[i])
			w[i] = ob->weight;	/* unchanged in the file */
	}
	if (weights_check(c, w, err, errlen) == -1 ||
	    routes_reload(c, &rchanged, err, errlen) == -1)
		return -1;
	for (size_t i = 0; i < c->nbackends; i++)
		c->backends[i].weight = w[i];
	state_from_config(&old, rt.cfg);
	state_from_config(&now, c);
	now.ramp = ramp_note;
	if (c->state_file != NULL && (runtime_weights_changed(rt.cfg, c) ||
	    rchanged ||
	    rt.cfg->state_file == NULL ||
	    strcmp(rt.cfg->state_file, c->state_file) != 0) &&
	    state_save(c->state_file, &now, err, errlen) == -1)
		return -1;
	if (runtime_weights_changed(rt.cfg, c) && c->audit_log != NULL &&
	    state_audit(c->audit_log, "reload", "weight changed in the config "
	    "file", &old, &now, aerr, sizeof(aerr)) == -1)
		log_warn("audit log: %s", aerr);
	for (size_t k = 0; rchanged && c->audit_log != NULL && k < now.nroutes;
	    k++) {
		const struct state_route *o = state_route(&old,
		    now.routes[k].name);

		if ((o == NULL || memcmp(o, &now.routes[k], sizeof(*o)) != 0) &&
		    state_audit_route(c->audit_log, "reload", "route weight "
		    "changed in the config file", now.routes[k].name, &old,
		    &now, aerr, sizeof(aerr)) == -1)
			log_warn("audit log: %s", aerr);
	}
	file_weights = fromfile;
	return 0;
}

void
runtime_set_ramp(const struct state_ramp *r)
{
	memset(&ramp_note, 0, sizeof(ramp_note));
	if (r != NULL && r->active)
		ramp_note = *r;
}

int
runtime_save(char *err, size_t errlen)
{
	struct state_weights now;

	if (rt.cfg->state_file == NULL)
		return 0;
	state_from_config(&now, rt.cfg);
	now.ramp = ramp_note;
	return state_save(rt.cfg->state_file, &now, err, errlen);
}

int
runtime_restored_ramp(struct state_ramp *r)
{
	*r = ramp_restored;
	return ramp_restored.active;
}
