/*
 * aws: keep the ALB listener rule and the ECS services in step with the
 * proxy.  The control-thread API that main, the admin API and
 * switchoverctl use; everything below it (sigv4, awscreds, awshttp,
 * awsreq, elbv2, ecs) is internal to src/aws/.
 *
 * Control thread only; nothing here blocks.  Every function taking a
 * callback calls it exactly once, from the event loop, never from inside
 * the call itself.
 */
#ifndef SWITCHOVER_AWS_AWS_H
#define SWITCHOVER_AWS_AWS_H

#include <jansson.h>

struct event_base;
struct sw_config;

struct aws_outcome {
	int		 ok;
	const char	*code;		/* AWS's error code verbatim, or ours */
	const char	*message;	/* AWS's message verbatim, or ours */
	int		 retrying;	/* a failed push: tried again later */
};

typedef void (*aws_done_cb)(const struct aws_outcome *, void *arg);
/* One preflight step: what was seen or done; warn marks a warning. */
typedef void (*aws_progress_cb)(const char *step, int warn, void *arg);

/*
 * Start the module with cfg's [aws].  Registers the publish hook
 * (sync = push) and the poll timer (sync = pull).  0, also when [aws] is
 * not configured; -1 (logged) when it is but cannot run, e.g. no region
 * anywhere.
 */
int	aws_start(struct event_base *base, struct sw_config *cfg);
/*
 * SIGHUP, before anything changes: could cfg's [aws] run (a region)?
 * 0, or -1 with err: the caller then refuses the whole reload.
 */
int	aws_reload_check(const struct sw_config *cfg, char *err, size_t errlen);
/*
 * SIGHUP, just before cfg is published: when [aws] changed, restart the
 * module with it (stop it when it is gone).  Pushes waiting for an
 * answer and a running preflight hear "AwsReloaded"; a push not yet
 * landed is pushed again.  0, or -1 (logged).
 */
int	aws_reload(struct sw_config *cfg);
/* Stop timers, abandon calls in flight, free everything. */
void	aws_stop(void);
/* Is [aws] configured (sync on, or ECS services named)? */
int	aws_enabled(void);
/* Does every weight change go to the ALB ([aws] sync = push)? */
int	aws_push_enabled(void);
/*
 * Set the ALB rule's source/target weights to cfg's, keeping every other
 * setting of the forward action (stickiness, other target groups).
 * A failed push is retried with backoff until it succeeds or a newer
 * push replaces it; cb (may be NULL) hears the first outcome that
 * covers these weights.  -1 if the module is not running.
 */
int	aws_push_weights(const struct sw_config *cfg, aws_done_cb cb, void *arg);
/*
 * The console runbook's checks before a switchover: read both ECS
 * services, scale the target proxy service to at least the capture
 * proxy's desired count, wait (up to [aws] preflight_timeout) until its
 * tasks run and every target of the target group is healthy and none
 * draining.  progress hears each step; done the result.  -1 if the
 * module is not running, ECS is not configured, or one is running.
 */
int	aws_preflight(aws_progress_cb progress, aws_done_cb done, void *arg);
/*
 * Read the ALB rule's source/target weights back (w[0] source, w[1]
 * target; NULL when o is not ok): the ramp's proof that the ALB, not
 * just our push's answer, shows a step's weights.  One read at a time;
 * cb may run before this returns when the call cannot be queued.  -1 if
 * the module is not running, sync is off, or a read is in flight.
 */
typedef void (*aws_weights_cb)(const struct aws_outcome *o, const int *w,
    void *arg);
int	aws_read_weights(aws_weights_cb cb, void *arg);
/*
 * Sync mode; the last push (state, wanted weights, last success and
 * error, pending retry); the last read of the rule ("read": pull polls,
 * and push mode's start-up look); the last preflight.
 */
json_t	*aws_status_json(void);

#endif
