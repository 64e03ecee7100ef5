/*
 * runtime: the control thread's view of the running proxy: the current
 * config, the workers, and the one way to change what they serve.
 *
 * Everything here runs on the control thread (the main event_base), which
 * also runs signals, DNS re-resolution and the admin API.
 */
#ifndef SWITCHOVER_RUNTIME_H
#define SWITCHOVER_RUNTIME_H

#include <stddef.h>

struct event_base;
struct state_ramp;
struct sw_config;
struct worker;
struct worker_metrics;

struct runtime {
	struct event_base	*base;
	struct sw_config	*cfg;		/* what the workers serve */
	struct worker		**workers;
	size_t			 nworkers;
	int			 stopping;
};

extern struct runtime rt;

/*
 * Called on the control thread after every publish, with the config the
 * workers served before and the one they serve now.  Start-up does not
 * publish: a module reads rt.cfg when it starts.
 */
typedef void (*runtime_hook)(const struct sw_config *old,
		    const struct sw_config *cur, void *arg);

/*
 * Make cfg (a new reference the caller gives up) what every worker
 * serves: assigns metric slots, logs weight changes, posts to workers,
 * then runs the hooks.  This is the only way a running config changes
 * (SIGHUP, DNS, admin API, AWS pull all end here).
 */
void	runtime_publish(struct sw_config *cfg);
/* Run fn after every publish.  0, or -1 when too many hooks. */
int	runtime_on_publish(runtime_hook fn, void *arg);
/* Did any backend's weight (or the set of backends) change? */
int	runtime_weights_changed(const struct sw_config *old,
	    const struct sw_config *cur);
/*
 * Assign stable metric slots to a config's backends and routes.  0, or
 * -1 if full.
 */
int	runtime_assign_slots(struct sw_config *cfg);
/* Sum the workers' metrics. */
void	runtime_metrics(struct worker_metrics *out);
struct route_table;
/* Sum the workers' route tables (backend slots in use). */
void	runtime_route_metrics(struct route_table *out);

/*
 * The one entry point for a weight change (admin API, switchoverctl, AWS
 * pull): w[i] is the new weight of rt.cfg->backends[i].  Validates (0-999,
 * not all zero; nothing changes on error), writes the state file, then
 * publishes and appends an audit record naming who and why (reason may
 * be NULL).  Returns 0 once the change is durable and served, or -1 with
 * a message for the caller in err.
 */
int	runtime_set_weights(const int *w, const char *who, const char *reason,
	    char *err, size_t errlen);
/*
 * The same, with what went wrong short of a refusal in warn (empty when
 * nothing did).  With must_apply (a fallback) a state file that cannot
 * be written does not stop the change: it is served from memory, logged
 * loudly and said in warn.
 */
int	runtime_set_weights_warn(const int *w, const char *who,
	    const char *reason, int must_apply, char *warn, size_t warnlen,
	    char *err, size_t errlen);
/*
 * As runtime_set_weights_warn, for one route: route NULL or "" is the
 * default route (the backends' weights, what runtime_set_weights
 * changes).  w[i] is the route's new weight of rt.cfg->backends[i].
 * Returns 0, -1 (err filled), or -2 when no route has that name (the
 * admin API answers 404).  Persisted in the state file and audited with
 * the route's name.
 */
int	runtime_set_route_weights(const char *route, const int *w,
	    const char *who, const char *reason, int must_apply, char *warn,
	    size_t warnlen, char *err, size_t errlen);
/*
 * The same for the default route and every route at once, one publish
 * and one state file write (switchover and fallback without a route).
 */
int	runtime_set_all_weights(const int *w, const char *who,
	    const char *reason, int must_apply, char *warn, size_t warnlen,
	    char *err, size_t errlen);
/*
 * Start-up: remember c's weights as the file's, then let the weights saved
 * in c's [state] file override them.  -1 with err when the state file is
 * unreadable or corrupt.
 */
int	runtime_restore(struct sw_config *c, char *err, size_t errlen);
/*
 * SIGHUP: in a freshly loaded config, a backend keeps its running weight
 * unless the file changed it since the last load; the result is saved to
 * the state file before the caller publishes it.  -1 with err (the caller
 * keeps the running config).
 */
int	runtime_reload_weights(struct sw_config *fresh, char *err,
	    size_t errlen);

/*
 * The ramp's position, saved with every weight change from now on (NULL
 * or inactive: none), so that the state file always says where a ramp
 * was.  runtime_save() writes it at once, weights unchanged.
 */
void	runtime_set_ramp(const struct state_ramp *r);
int	runtime_save(char *err, size_t errlen);
/* The ramp the state file held at start-up: 1 (r filled) or 0. */
int	runtime_restored_ramp(struct state_ramp *r);

#endif
