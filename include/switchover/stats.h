/*
 * stats: the control thread's view of the metrics over time, and their
 * rendering for the admin API (/stats as JSON, /metrics as Prometheus
 * text).
 *
 * A 1-second timer on the control thread snapshots the sum of the
 * workers' counters into a ring of the last 61 seconds; a window ("the
 * last 10 s") is the live sum minus the snapshot that old.  Workers are
 * never asked for anything: they only ever write their own counters.
 * The same tick keeps a per-second history of the last 5 minutes for the
 * dashboard, and the publish hook notes when the weights changed.
 */
#ifndef SWITCHOVER_STATS_H
#define SWITCHOVER_STATS_H

#include <jansson.h>

#include "switchover/config.h"

struct event_base;
struct evbuffer;

/* Take the first snapshot and start the 1 s timer.  0, or -1. */
int	 stats_start(struct event_base *base);
void	 stats_stop(void);
struct worker_metrics;
/*
 * out = the workers' counters now minus the newest snapshot at least
 * secs old (the oldest when none is): a window of the returned length.
 */
double	 stats_window(double secs, struct worker_metrics *out);
/*
 * /stats for config c: a new JSON reference, or NULL (out of memory).
 * The ramp's part (ramp_json, ramp_prometheus) is added by the caller:
 * the ramp reads stats_window(), so stats does not call back into it.
 */
json_t	*stats_json(const struct sw_config *c);
/*
 * Add to a /stats document the last secs seconds (at most 300) of the
 * per-second history ("history") and the last weight changes
 * ("weight_changes"), for the dashboard.  0, or -1 (out of memory).
 */
int	 stats_add_history(json_t *doc, const struct sw_config *c, int secs);
/* /metrics for config c, appended to out. */
void	 stats_prometheus(struct evbuffer *out, const struct sw_config *c);

#endif
