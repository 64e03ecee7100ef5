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
 * Make cfg (a new reference the caller gives up) what every worker
 * serves: assigns metric slots, logs weight changes, posts to workers.
 */
void	runtime_publish(struct sw_config *cfg);
/* Sum the workers' metrics. */
void	runtime_metrics(struct worker_metrics *out);

#endif
