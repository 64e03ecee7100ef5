/*
 * ramp: a progressive cutover from source to target ([ramp] steps), each
 * step watched for step_interval and judged on the target's answers
 * against the source's over the same window; a target that goes bad is
 * rolled back (or the ramp paused) without a person.
 *
 * Control thread only.  Weights change only through runtime_set_weights()
 * (who = "ramp"); with [aws] sync = push a step's clock starts once the
 * ALB's rule reads back with its weights.  The ramp's position is saved
 * in the state file with the weights, so a restart comes back paused.
 */
#ifndef SWITCHOVER_RAMP_H
#define SWITCHOVER_RAMP_H

#include <stddef.h>

#include <jansson.h>

struct event_base;
struct evbuffer;

/*
 * Start the module: register the publish hook, and come back paused when
 * the state file held a ramp under way.  0, or -1 (out of memory).
 */
int	 ramp_init(struct event_base *base);
void	 ramp_shutdown(void);

/*
 * POST /ramp: start a ramp, with overrides from body (a JSON object:
 * "steps", "step_interval", "reason"; may be empty).  0, or an HTTP
 * status (400 bad body, 409 one is under way or the backends do not
 * allow it) with a message in err.
 */
int	 ramp_begin(json_t *body, const char *who, char *err, size_t errlen);
/* POST /ramp/pause, /resume, /abort: 0, or 409 with err. */
int	 ramp_pause(const char *who, char *err, size_t errlen);
int	 ramp_resume(const char *who, char *err, size_t errlen);
int	 ramp_abort(const char *who, char *err, size_t errlen);

/* GET /ramp (and /stats "ramp"): a new reference, or NULL. */
json_t	*ramp_json(void);
/* The switchover_ramp_* families of /metrics. */
void	 ramp_prometheus(struct evbuffer *out);

#endif
