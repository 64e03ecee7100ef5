/*
 * emf: the metrics as CloudWatch Embedded Metric Format lines ([cloudwatch]).
 *
 * Every interval the control thread writes one JSON line per backend
 * (and with dimensions = route, one per route and backend besides),
 * named as the ALB names its target-group metrics, to stdout (which the
 * ECS awslogs driver ships to CloudWatch Logs) or to a file.  No API call,
 * no credentials.  A line is written whole or not at all, and a reader
 * that does not keep up (or a full disk) costs lines, never a stall: they
 * are dropped and counted.
 */
#ifndef SWITCHOVER_EMF_H
#define SWITCHOVER_EMF_H

#include <stddef.h>
#include <stdint.h>

#include "switchover/metrics.h"

struct event_base;
struct sw_config;

/* awslogs splits longer lines; we stay well below. */
#define EMF_LINE_MAX	(16 * 1024)

/*
 * What one line says about one backend over one interval; with route
 * set, about that route's requests to it (dimensions Route and Backend;
 * counts from rwin, the proxy's own answers among them; no connection
 * metrics, which are the backend's).
 */
struct emf_backend {
	const char			*dimension;	/* TG name or backend name */
	int				 weight;	/* the route's, with route */
	const struct backend_metrics	*win;		/* the interval's counts */
	uint64_t			 active;	/* upstream connections now */
	const char			*route;		/* NULL: a backend line */
	const struct route_metrics	*rwin;		/* with route */
};

/*
 * One EMF line (with its '\n') for b, stamped ts_ms (epoch ms), in
 * namespace ns: a malloc'd string, or NULL when out of memory or longer
 * than EMF_LINE_MAX.
 */
char		*emf_render(const char *ns, int64_t ts_ms,
		    const struct emf_backend *b);
/* The dimension value of a backend: its target group's name, or its own. */
const char	*emf_dimension(const struct sw_config *c, const char *backend,
		    char *buf, size_t len);

/* Start with rt.cfg's [cloudwatch] (and follow reloads).  0, or -1. */
int		 emf_start(struct event_base *base);
/* SIGHUP: reopen the file (log rotation). */
void		 emf_reopen(void);
/* Write the last, partial interval (best effort) and stop. */
void		 emf_stop(void);
/* Lines written and dropped since start. */
void		 emf_counts(uint64_t *written, uint64_t *dropped);

#endif
