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
/* Assign stable metric slots to a config's backends.  0, or -1 if full. */
int	runtime_assign_slots(struct sw_config *cfg);
/* Sum the workers' metrics. */
void	runtime_metrics(struct worker_metrics *out);

#endif
