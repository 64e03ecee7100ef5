/*
 * ramp: the progressive cutover's state machine.
 *
 * Control thread only.  One ramp at a time, in R.  States (ramp_set_state
 * checks every move and logs it):
 *
 *   idle -> preflight -> running <-> holding -> done
 *                           |  \        |
 *                           |   +-> rolled_back (a check failed
 *                           |        failure_limit times, or abort)
 *                           +-> paused (by hand, on_failure = pause, a
 *                                weight change from outside, a restart)
 *
 * Inside running/holding a step goes through phases: SYNC (with [aws]
 * sync = push: wait until the ALB's rule reads back with the step's
 * weights, at most step_interval), WATCH (checks every check_interval;
 * the step passes once step_interval has gone by and the last check
 * passed with min_requests answered by the target), and after the last
 * step DRAIN (the source drained, watched until it serves nothing).
 *
 * Checks read a window of the summed worker counters: the step so far
 * (from a snapshot taken when its clock started), or the last 10 s of the
 * stats ring while the step is younger than that.  A step's target
 * weight is computed in one place, step_weights(); the verdict in one
 * pure function, judge().
 *
 * A ramp of one route (POST /ramp {"route":"reads"}, #13) moves only that
 * route's weights (runtime_set_route_weights) and judges the target
 * against the source on that route's own counters, over the step so far
 * (the stats ring keeps no route counters); connect errors are the
 * backend's, whatever route met them.  It never drains a whole backend
 * (other routes still use it): [drain] on_weight_zero drains the route's
 * own connections.  The ALB mirrors the default route only, so a route's
 * step never waits for it.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "switchover/aws/aws.h"
#include "switchover/config.h"
#include "switchover/drain.h"
#include "switchover/log.h"
#include "switchover/metrics.h"
#include "switchover/ramp.h"
#include "switchover/route.h"
#include "switchover/runtime.h"
#include "switchover/state.h"
#include "switchover/stats.h"

#define HISTORY_MAX	64	/* verdicts kept for GET /ramp */
#define WINDOW_MIN_S	10.0	/* checks look at least this far back */
#define DRAIN_GRACE_S	30	/* after [drain] spread, watching the source */
#define DETAIL_MAX	256

enum ramp_state {
	RS_IDLE = 0, RS_PREFLIGHT, RS_RUNNING, RS_HOLDING, RS_PAUSED,
	RS_ROLLED_BACK, RS_DONE, RS_MAX
};

static const char *const state_names[RS_MAX] = { "idle", "preflight",
    "running", "holding", "paused", "rolled_back", "done" };

enum ramp_phase { PH_NONE = 0, PH_SYNC, PH_WATCH, PH_DRAIN };

enum verdict { V_PASS = 0, V_FAIL, V_HOLD, V_MAX };

static const char *const verdict_names[V_MAX] = { "pass", "fail", "hold" };

enum { CK_ERROR_RATE = 0, CK_P99, CK_CONNECT, CK_TRAFFIC, CK_MAX };

static const char *const check_names[CK_MAX] = { "error_rate", "p99_ratio",
    "connect_errors", "min_requests" };

/* One check's last evaluation. */
struct check {
	double	source, target, limit;
	int	ran;		/* evaluated at least once this ramp */
	int	ok;
	int	skipped;	/* not judged (say why in note) */
	char	note[DETAIL_MAX];
};

struct history {
	char		time[32];
	size_t		step;		/* 1-based */
	int		percent;
	enum verdict	v;
	char		detail[DETAIL_MAX];
};

static struct {
	struct event_base	*base;
	struct event		*timer;
	enum ramp_state		 state;
	enum ramp_phase		 phase;
	struct sw_ramp		 p;		/* this run's settings */
	size_t			 step;		/* index into p.steps */
	double			 step_t0;	/* the step's clock (mono) */
	double			 phase_t0;	/* SYNC or DRAIN began */
	struct worker_metrics	*step_base;	/* counters at step_t0 */
	struct worker_metrics	*now, *win, *stepwin;	/* scratch */
	char			 route[33];	/* "": the default route */
	struct route_table	*rbase, *rnow, *rwin;	/* its counters */
	int			 fails;		/* failed checks in a row */
	int			 self;		/* our own weight change */
	int			 rb_busy;	/* an ALB read-back in flight */
	int			 preflight_busy;
	uint64_t		 drain_last;	/* source requests, last look */
	struct check		 ck[CK_MAX];
	struct history		 hist[HISTORY_MAX];
	size_t			 nhist;		/* ever recorded */
	uint64_t		 verdicts[V_MAX];
	enum verdict		 last_v;
	char			 since[32];
	char			 reason[512];
} R;

static void	step_enter(size_t step);

/* One side (source or target) of the checks, over one window. */
struct side {
	uint64_t		 requests;
	uint64_t		 errors;	/* 5xx, 429 and the proxy's own */
	uint64_t		 connect_errors;	/* connect and timeout */
	const struct hist	*latency;
};

/* Monotonic seconds. */
static double
mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* UTC now as 2026-12-01T01:02:03Z. */
static void
iso_now(char *buf, size_t len)
{
	time_t		t = time(NULL);
	struct tm	tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Is a ramp under way (moving weights or about to)? */
static int
active(void)
{
	return R.state == RS_PREFLIGHT || R.state == RS_RUNNING ||
	    R.state == RS_HOLDING;
}

/* Is the move from R.state to s one the machine allows? */
static int
legal(enum ramp_state s)
{
	switch (s) {
	case RS_PREFLIGHT:
		return !active() && R.state != RS_PAUSED;
	case RS_RUNNING:
	case RS_HOLDING:
		return active() || R.state == RS_PAUSED || R.state == RS_IDLE ||
		    R.state == RS_ROLLED_BACK || R.state == RS_DONE;
	case RS_PAUSED:
	case RS_ROLLED_BACK:
		return active() || R.state == RS_PAUSED || R.state == RS_IDLE;
	case RS_DONE:
		return active();
	case RS_IDLE:
		return R.state == RS_PREFLIGHT;
	default:
		return 0;
	}
}

/* The one way the state changes. */
static void
set_state(enum ramp_state s)
{
	if (s == R.state)
		return;
	if (!legal(s)) {
		log_err("ramp: illegal move %s -> %s", state_names[R.state],
		    state_names[s]);
		return;
	}
	log_debug("ramp: %s -> %s", state_names[R.state], state_names[s]);
	R.state = s;
	iso_now(R.since, sizeof(R.since));
}

/* Slot of backend name in rt.cfg, or -1. */
static int
slot_of(const char *name)
{
	struct sw_backend *b = config_backend(rt.cfg, name);

	return b ? b->metric_slot : -1;
}

/* Does the ramp move one route (not the backends' weights)? */
static int
route_ramp(void)
{
	return R.route[0] != '\0';
}

/* The ramped route's slot in rt.cfg; -1 when a reload removed it. */
static int
route_slot_now(void)
{
	const struct sw_route *r = config_route(rt.cfg, R.route);

	return r != NULL ? r->metric_slot : -1;
}

/* The weights the ramp moves in config c, by backend index. */
static void
ramped_weights(const struct sw_config *c, int *w)
{
	const struct sw_route	*r = route_ramp() ? config_route(c, R.route) :
				    NULL;

	for (size_t b = 0; b < c->nbackends; b++)
		w[b] = r != NULL ? r->weights[b] : c->backends[b].weight;
}

/*
 * The weights of step i over rt.cfg's backends: target = p, source =
 * 100 - p, every other backend 0.  The one place a step becomes weights.
 */
static void
step_weights(size_t i, int *w)
{
	int pct = i < R.p.nsteps ? R.p.steps[i] : 0;

	for (size_t b = 0; b < rt.cfg->nbackends; b++) {
		const char *n = rt.cfg->backends[b].name;

		w[b] = strcmp(n, "target") == 0 ? pct :
		    strcmp(n, "source") == 0 ? 100 - pct : 0;
	}
}

/* Save where the ramp is with the weights (NULL-ish when it is over). */
static void
note_position(int on)
{
	struct state_ramp sr;

	memset(&sr, 0, sizeof(sr));
	if (on) {
		sr.active = 1;
		sr.step = R.step;
		sr.nsteps = R.p.nsteps;
		memcpy(sr.steps, R.p.steps, R.p.nsteps * sizeof(int));
		snprintf(sr.route, sizeof(sr.route), "%s", R.route);
	}
	runtime_set_ramp(&sr);
}

/* An audit line for a verdict or a state change (weights unchanged). */
static void
audit(const char *what)
{
	struct state_weights	sw;
	char			err[256];

	if (rt.cfg->audit_log == NULL)
		return;
	state_from_config(&sw, rt.cfg);
	if (state_audit(rt.cfg->audit_log, "ramp", what, &sw, &sw, err,
	    sizeof(err)) == -1)
		log_warn("audit log: %s", err);
}

/* Record a verdict: history, counters, log and audit line. */
static void
verdict(enum verdict v, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void
verdict(enum verdict v, const char *fmt, ...)
{
	struct history	*h = &R.hist[R.nhist++ % HISTORY_MAX];
	char		 line[DETAIL_MAX + 64];
	va_list		 ap;

	iso_now(h->time, sizeof(h->time));
	h->step = R.step + 1;
	h->percent = R.p.steps[R.step];
	h->v = v;
	va_start(ap, fmt);
	vsnprintf(h->detail, sizeof(h->detail), fmt, ap);
	va_end(ap);
	snprintf(line, sizeof(line), "step %zu/%zu (target %d %%): %s: %s",
	    h->step, R.p.nsteps, h->percent, verdict_names[v], h->detail);
	if (v == V_FAIL)
		log_warn("ramp: %s", line);
	else
		log_info("ramp: %s", line);
	audit(line);
}

/* Apply weights w as the ramp; 0, or -1 (logged, in R.reason). */
static int
set_weights(const int *w, const char *why)
{
	char	err[256];
	int	rc;

	R.self = 1;
	if (route_ramp())
		rc = runtime_set_route_weights(R.route, w, "ramp", why, 0, NULL,
		    0, err, sizeof(err));
	else
		rc = runtime_set_weights(w, "ramp", why, err, sizeof(err));
	R.self = 0;
	if (rc != 0) {	/* -2: a reload removed the route */
		snprintf(R.reason, sizeof(R.reason), "weights not changed: %s",
		    err);
		log_err("ramp: %s", R.reason);
		return -1;
	}
	return 0;
}

/* Stop the check timer (the ramp no longer moves by itself). */
static void
timer_stop(void)
{
	if (R.timer != NULL)
		evtimer_del(R.timer);
}

/* Everything to source at once and drain the target; why goes in reason. */
static void
rollback(const char *why)
{
	int	w[SW_MAX_BACKENDS];
	char	err[256];

	timer_stop();
	R.phase = PH_NONE;
	note_position(0);
	for (size_t b = 0; b < rt.cfg->nbackends; b++)
		w[b] = strcmp(rt.cfg->backends[b].name, "source") == 0 ? 100 : 0;
	set_state(RS_ROLLED_BACK);
	snprintf(R.reason, sizeof(R.reason), "%s", why);
	if (set_weights(w, why) == -1)
		return;
	/* on_weight_zero may have started it: a second drain is harmless.
	 * Not for a route: the target still serves the other routes. */
	if (!route_ramp() && drain_backend("target", err, sizeof(err)) == -1)
		log_warn("ramp: drain of target: %s", err);
	log_warn("ramp: rolled back: %s", why);
	audit("ramp rolled back: all weight to source");
}

/* Hold the current weights and wait for a person. */
static void
pause_ramp(const char *why)
{
	timer_stop();
	R.phase = PH_NONE;
	set_state(RS_PAUSED);
	snprintf(R.reason, sizeof(R.reason), "%s", why);
	log_warn("ramp: paused: %s", why);
	audit(R.reason);
}

/* The step's clock starts now: snapshot the counters, checks from 0. */
static void
clock_start(void)
{
	R.phase = PH_WATCH;
	R.step_t0 = mono_now();
	R.fails = 0;
	runtime_metrics(R.step_base);
	if (route_ramp())
		runtime_route_metrics(R.rbase);
}

/* Errors the target's clients saw: 5xx, 429 and the proxy's own. */
static uint64_t
errors_of(const struct backend_metrics *b)
{
	uint64_t n = b->responses[4] + b->responses_429;

	for (int e = 0; e < PERR_MAX; e++)
		n += b->errors[e];
	return n;
}

/* A backend's side of the checks. */
static struct side
side_backend(const struct backend_metrics *b)
{
	struct side x = { b->requests, errors_of(b), b->errors[PERR_CONNECT] +
	    b->errors[PERR_TIMEOUT], &b->latency };

	return x;
}

/*
 * A route's side: its answers (5xx counts the proxy's own), with the
 * backend's connect errors over the same window (step).
 */
static struct side
side_route(const struct route_metrics *r, const struct backend_metrics *step)
{
	struct side x = { r->requests, r->responses[4] + r->responses_429,
	    step->errors[PERR_CONNECT] + step->errors[PERR_TIMEOUT],
	    &r->latency };

	return x;
}

/* Percent of a side's requests that failed (0 without any). */
static double
side_error_pct(const struct side *x)
{
	return x->requests ? 100.0 * (double)x->errors /
	    (double)x->requests : 0;
}

/*
 * The verdict of settings p on the sides: ws, wt over the check window,
 * ss, st over the step so far.  Fills ck[CK_MAX] and, for the first check
 * that does not pass, its text in why.  Returns 1 pass, 0 fail, 2 hold
 * (too little traffic).  Pure: no clock, no globals.
 */
static int
judge(const struct sw_ramp *p, const struct side *ws, const struct side *wt,
    const struct side *ss, const struct side *st, struct check *ck,
    char *why, size_t len)
{
	struct check	*c;
	int		 rc = 1;

	why[0] = '\0';
	c = &ck[CK_ERROR_RATE];
	c->ran = 1;
	c->skipped = 0;
	c->source = side_error_pct(ws);
	c->target = side_error_pct(wt);
	c->limit = p->max_error_rate_delta;
	c->ok = c->target - c->source <= c->limit;
	snprintf(c->note, sizeof(c->note), "error_rate: target %.1f %% vs "
	    "source %.1f %% (limit +%.1f)", c->target, c->source, c->limit);
	if (!c->ok && rc == 1) {
		snprintf(why, len, "%s", c->note);
		rc = 0;
	}

	c = &ck[CK_P99];
	c->ran = 1;
	c->source = (double)hist_quantile(ws->latency, 0.99) / 1000;
	c->target = (double)hist_quantile(wt->latency, 0.99) / 1000;
	c->limit = p->max_p99_ratio;
	/* A p99 of a handful of answers is their slowest: noise. */
	c->skipped = ws->latency->count < (uint64_t)p->min_requests ||
	    wt->latency->count < (uint64_t)p->min_requests;
	c->ok = c->skipped || c->target < p->min_p99_ms ||
	    c->target <= c->limit * c->source;
	if (c->skipped)
		snprintf(c->note, sizeof(c->note), "p99_ratio: skipped, the "
		    "%s answered %llu requests (under min_requests %d)",
		    ws->latency->count < (uint64_t)p->min_requests ? "source" :
		    "target", (unsigned long long)(ws->latency->count <
		    (uint64_t)p->min_requests ? ws : wt)->latency->count,
		    p->min_requests);
	else
		snprintf(c->note, sizeof(c->note), "p99_ratio: target %.1f ms "
		    "vs source %.1f ms (limit x%.1f)", c->target, c->source,
		    c->limit);
	if (!c->ok && rc == 1) {
		snprintf(why, len, "%s", c->note);
		rc = 0;
	}

	c = &ck[CK_CONNECT];
	c->ran = 1;
	c->skipped = 0;
	c->source = (double)ss->connect_errors;
	c->target = (double)st->connect_errors;
	c->limit = p->max_connect_errors;
	c->ok = c->target <= c->limit;
	snprintf(c->note, sizeof(c->note), "connect_errors: target %.0f in "
	    "this step (limit %d)", c->target, p->max_connect_errors);
	if (!c->ok && rc == 1) {
		snprintf(why, len, "%s", c->note);
		rc = 0;
	}

	c = &ck[CK_TRAFFIC];
	c->ran = 1;
	c->skipped = 0;
	c->source = (double)ss->requests;
	c->target = (double)st->requests;
	c->limit = p->min_requests;
	c->ok = c->target >= c->limit;
	snprintf(c->note, sizeof(c->note), "waiting for traffic: the target "
	    "answered %.0f of min_requests %d in this step", c->target,
	    p->min_requests);
	if (!c->ok && rc == 1) {
		snprintf(why, len, "%s", c->note);
		rc = 2;
	}
	return rc;
}

/*
 * Evaluate the checks over the window; the first failing one's text in
 * why.  Returns 1 pass, 0 fail, 2 hold (too little traffic).
 */
static int
evaluate(char *why, size_t len)
{
	struct side	 ws, wt, ss, st;
	double		 elapsed = mono_now() - R.step_t0;
	int		 s = slot_of("source"), t = slot_of("target"), rs;

	runtime_metrics(R.now);
	metrics_sub(R.stepwin, R.now, R.step_base);
	if (route_ramp() && (rs = route_slot_now()) >= 0) {
		/* The step so far: no ring keeps route counters. */
		runtime_route_metrics(R.rnow);
		metrics_route_sub(R.rwin, R.rnow, R.rbase);
		ss = ws = side_route(metrics_route_get(R.rwin, rs, s),
		    &R.stepwin->b[s]);
		st = wt = side_route(metrics_route_get(R.rwin, rs, t),
		    &R.stepwin->b[t]);
		return judge(&R.p, &ws, &wt, &ss, &st, R.ck, why, len);
	}
	if (elapsed >= WINDOW_MIN_S)
		memcpy(R.win, R.stepwin, sizeof(*R.win));
	else
		stats_window(WINDOW_MIN_S, R.win);
	ws = side_backend(&R.win->b[s]);
	wt = side_backend(&R.win->b[t]);
	ss = side_backend(&R.stepwin->b[s]);
	st = side_backend(&R.stepwin->b[t]);
	return judge(&R.p, &ws, &wt, &ss, &st, R.ck, why, len);
}

/* Requests the source answered so far (on the ramped route). */
static uint64_t
source_requests(void)
{
	const struct route_metrics	*r;
	int				 s = slot_of("source");

	if (route_ramp()) {
		runtime_route_metrics(R.rnow);
		r = metrics_route_get(R.rnow, route_slot_now(), s);
		return r != NULL ? r->requests : 0;
	}
	runtime_metrics(R.now);
	return R.now->b[s].requests;
}

/* 100 % passed: the source's weight is 0; drain it, watch it go quiet. */
static void
drain_start(void)
{
	char	err[256];

	/* A route's: on_weight_zero drains its connections, not ours. */
	if (!route_ramp() && drain_backend("source", err, sizeof(err)) == -1)
		log_warn("ramp: drain of source: %s", err);
	R.phase = PH_DRAIN;
	R.phase_t0 = mono_now();
	R.drain_last = source_requests();
	log_info("ramp: all traffic on target: draining the source");
}

/* WATCH: run the checks; pass, hold, fail, and move on when due. */
static void
watch_tick(void)
{
	char	why[DETAIL_MAX];
	int	rc = evaluate(why, sizeof(why));

	if (rc == 0) {
		R.fails++;
		R.verdicts[V_FAIL]++;
		R.last_v = V_FAIL;
		set_state(RS_HOLDING);
		snprintf(R.reason, sizeof(R.reason), "%s", why);
		verdict(V_FAIL, "%s (%d of failure_limit %d)", why, R.fails,
		    R.p.failure_limit);
		if (R.fails < R.p.failure_limit)
			return;
		if (R.p.on_failure == RAMP_ON_FAILURE_PAUSE)
			pause_ramp(why);
		else
			rollback(why);
		return;
	}
	R.fails = 0;
	if (rc == 2) {
		R.verdicts[V_HOLD]++;
		if (R.last_v != V_HOLD || R.state != RS_HOLDING)
			verdict(V_HOLD, "%s", why);
		R.last_v = V_HOLD;
		set_state(RS_HOLDING);
		snprintf(R.reason, sizeof(R.reason), "%s", why);
		return;
	}
	set_state(RS_RUNNING);
	R.reason[0] = '\0';
	if (mono_now() - R.step_t0 < R.p.step_interval_ms / 1000.0)
		return;
	R.verdicts[V_PASS]++;
	R.last_v = V_PASS;
	verdict(V_PASS, "%s; %s; %s", R.ck[CK_ERROR_RATE].note,
	    R.ck[CK_P99].note, R.ck[CK_CONNECT].note);
	if (R.step + 1 < R.p.nsteps)
		step_enter(R.step + 1);
	else
		drain_start();
}

/* The ramp is over: all on target, the source quiet (or given up on). */
static void
finish(const char *detail)
{
	char err[256];

	timer_stop();
	R.phase = PH_NONE;
	note_position(0);
	if (runtime_save(err, sizeof(err)) == -1)
		log_warn("ramp: state file: %s", err);
	set_state(RS_DONE);
	snprintf(R.reason, sizeof(R.reason), "%s", detail);
	log_info("ramp: done: %s", detail);
	audit(detail);
}

/* DRAIN: done once the source served nothing since the last look. */
static void
drain_tick(void)
{
	struct drain_stats	 ds;
	int			 s = slot_of("source");
	uint64_t		 req;
	double			 waited = mono_now() - R.phase_t0;

	req = source_requests();
	drain_stats(&ds);
	/* Bindings are per backend: a route's other users keep theirs. */
	if (req == R.drain_last && (route_ramp() || ds.backend[s].bound == 0)) {
		finish("source serves no requests: ramp done");
		return;
	}
	R.drain_last = req;
	if (waited > rt.cfg->drain_spread_ms / 1000.0 + DRAIN_GRACE_S)
		finish("ramp done, but the source still serves requests "
		    "(clients that bypass the proxy's split?)");
}

/* An ALB read-back answered (SYNC). */
static void
readback_done(const struct aws_outcome *o, const int *w, void *arg)
{
	int want[SW_MAX_BACKENDS];

	R.rb_busy = 0;
	if (R.phase != PH_SYNC || !active())
		return;
	step_weights(R.step, want);
	if (!o->ok) {
		log_info("ramp: reading the ALB rule back: %s: %s", o->code,
		    o->message);
		return;
	}
	if (w[0] == want[config_backend(rt.cfg, "source") - rt.cfg->backends] &&
	    w[1] == want[config_backend(rt.cfg, "target") - rt.cfg->backends]) {
		log_info("ramp: the ALB shows source %d / target %d: step %zu's "
		    "clock starts", w[0], w[1], R.step + 1);
		clock_start();
	}
}

/* SYNC: read the ALB back, or fail the step when it took too long. */
static void
sync_tick(void)
{
	char why[DETAIL_MAX];

	if (mono_now() - R.phase_t0 > R.p.step_interval_ms / 1000.0) {
		snprintf(why, sizeof(why), "alb: the rule did not show source "
		    "%d / target %d within step_interval (%d ms)",
		    100 - R.p.steps[R.step], R.p.steps[R.step],
		    R.p.step_interval_ms);
		R.verdicts[V_FAIL]++;
		verdict(V_FAIL, "%s", why);
		if (R.p.on_failure == RAMP_ON_FAILURE_PAUSE)
			pause_ramp(why);
		else
			rollback(why);
		return;
	}
	if (!R.rb_busy) {
		R.rb_busy = 1;
		if (aws_read_weights(readback_done, NULL) == -1)
			R.rb_busy = 0;
	}
}

/* The check timer. */
static void
tick_cb(evutil_socket_t fd, short what, void *arg)
{
	if (!active() || R.state == RS_PREFLIGHT)
		return;
	if (slot_of("source") == -1 || slot_of("target") == -1) {
		pause_ramp("a reload removed backend source or target: paused");
		return;
	}
	if (route_ramp() && route_slot_now() == -1) {
		pause_ramp("a reload removed the ramped route: paused");
		return;
	}
	switch (R.phase) {
	case PH_SYNC:
		sync_tick();
		break;
	case PH_WATCH:
		watch_tick();
		break;
	case PH_DRAIN:
		drain_tick();
		break;
	default:
		break;
	}
}

/* (Re)start the check timer at check_interval. */
static void
timer_start(void)
{
	struct timeval tv = { R.p.check_interval_ms / 1000,
	    (R.p.check_interval_ms % 1000) * 1000 };

	evtimer_del(R.timer);
	event_add(R.timer, &tv);
}

/* Move to step i: weights, then (ALB read-back, then) the clock. */
static void
step_enter(size_t i)
{
	int	w[SW_MAX_BACKENDS];
	char	why[128];

	R.step = i;
	R.fails = 0;
	R.last_v = V_PASS;
	note_position(1);
	step_weights(i, w);
	snprintf(why, sizeof(why), "ramp step %zu/%zu: target %d %%%s%s", i + 1,
	    R.p.nsteps, R.p.steps[i], route_ramp() ? " on route " : "",
	    R.route);
	set_state(RS_RUNNING);
	R.reason[0] = '\0';
	if (set_weights(w, why) == -1) {
		pause_ramp(R.reason);
		return;
	}
	log_info("ramp: %s", why);
	/* The ALB mirrors the default route only. */
	if (aws_push_enabled() && !route_ramp()) {
		R.phase = PH_SYNC;
		R.phase_t0 = mono_now();
		R.rb_busy = 0;
	} else
		clock_start();
	timer_start();
}

/* The preflight's answer: the first step, or stop before any move. */
static void
preflight_done(const struct aws_outcome *o, void *arg)
{
	R.preflight_busy = 0;
	if (R.state != RS_PREFLIGHT)
		return;
	if (!o->ok) {
		set_state(RS_IDLE);
		snprintf(R.reason, sizeof(R.reason), "preflight failed: %s: %s",
		    o->code ? o->code : "", o->message ? o->message : "");
		verdict(V_FAIL, "%s", R.reason);
		note_position(0);
		return;
	}
	log_info("ramp: preflight passed: %s", o->message ? o->message : "");
	step_enter(0);
}

/*
 * Preflight progress: nothing to add, the aws module logs each step and
 * GET /ramp says "preflight" until it ends.
 */
static void
preflight_step(const char *step, int warn, void *arg)
{
}

/* A weight change from outside the ramp: the person wins. */
static void
on_publish(const struct sw_config *old, const struct sw_config *cur,
    void *arg)
{
	int	ow[SW_MAX_BACKENDS], cw[SW_MAX_BACKENDS], moved = 0;

	if (R.self || !active() || old == NULL)
		return;
	if (route_ramp()) {
		/* This route's weights, by name: a reload may reorder. */
		ramped_weights(old, ow);
		ramped_weights(cur, cw);
		for (size_t b = 0; b < cur->nbackends; b++) {
			const struct sw_backend *ob = config_backend(old,
			    cur->backends[b].name);

			moved |= ob == NULL || ow[ob - old->backends] != cw[b];
		}
	} else
		moved = runtime_weights_changed(old, cur);
	if (!moved)
		return;
	if (R.state == RS_PREFLIGHT) {
		/* Nothing moved yet: the ramp just does not start. */
		set_state(RS_PAUSED);
		snprintf(R.reason, sizeof(R.reason), "the weights were changed "
		    "outside the ramp during its preflight: paused");
		return;
	}
	pause_ramp("the weights were changed outside the ramp (PUT /weights, "
	    "/switchover, /fallback, a reload or the ALB): paused; "
	    "POST /ramp/resume goes back to the step's weights");
}

/* Settings for a new run: [ramp], then the body's overrides.  0 or 400. */
static int
params_from(json_t *body, struct sw_ramp *p, const char **reason,
    const char **route, char *err, size_t errlen)
{
	json_t	*v;
	size_t	 i;

	*p = rt.cfg->ramp;
	*reason = NULL;
	*route = NULL;
	if ((v = json_object_get(body, "route")) != NULL) {
		if (!json_is_string(v)) {
			snprintf(err, errlen, "route must be a route's name");
			return 400;
		}
		*route = json_string_value(v);
		/* "default": the backends' own weights, as without it. */
		if (strcmp(*route, "default") == 0)
			*route = NULL;
		else if (config_route(rt.cfg, *route) == NULL) {
			snprintf(err, errlen, "no route named \"%.64s\"",
			    *route);
			return 404;
		}
	}
	if ((v = json_object_get(body, "steps")) != NULL) {
		json_t *e;

		if (!json_is_array(v) || json_array_size(v) == 0 ||
		    json_array_size(v) > SW_RAMP_MAX_STEPS) {
			snprintf(err, errlen, "steps must be an array of 1-%d "
			    "percentages", SW_RAMP_MAX_STEPS);
			return 400;
		}
		json_array_foreach(v, i, e) {
			json_int_t n = json_integer_value(e);

			p->steps[i] = json_is_integer(e) && n >= 1 &&
			    n <= 100 ? (int)n : -1;
		}
		p->nsteps = json_array_size(v);
		if (config_ramp_steps_check(p->steps, p->nsteps, err,
		    errlen) == -1)
			return 400;
	}
	if ((v = json_object_get(body, "step_interval")) != NULL) {
		int ms;

		if (!json_is_string(v) || config_parse_duration_ms(
		    json_string_value(v), &ms) == -1 || ms < 500 ||
		    ms < p->check_interval_ms) {
			snprintf(err, errlen, "step_interval must be a duration "
			    "like \"60s\", at least 500ms and check_interval");
			return 400;
		}
		p->step_interval_ms = ms;
	}
	if ((v = json_object_get(body, "reason")) != NULL) {
		const char *s = json_string_value(v);

		int bad = s == NULL || strlen(s) > 256;

		for (const char *q = s; !bad && *q != '\0'; q++)
			bad = (unsigned char)*q < 0x20 || *q == 0x7f;
		if (bad) {
			snprintf(err, errlen, "reason must be a string of at "
			    "most 256 bytes without control characters");
			return 400;
		}
		*reason = s;
	}
	{
		const char *known[] = { "steps", "step_interval", "reason",
		    "route" };
		const char *key;

		json_object_foreach(body, key, v) {
			for (i = 0; i < 4 && strcmp(key, known[i]) != 0; i++)
				;
			if (i == 4) {
				snprintf(err, errlen, "unknown key \"%.64s\": "
				    "expected steps, step_interval, reason, "
				    "route", key);
				return 400;
			}
		}
	}
	return 0;
}

int
ramp_begin(json_t *body, const char *who, char *err, size_t errlen)
{
	struct sw_ramp	 p;
	const char	*reason, *route;
	int		 rc, w[SW_MAX_BACKENDS];

	if ((rc = params_from(body, &p, &reason, &route, err, errlen)) != 0)
		return rc;
	if (active() || R.state == RS_PAUSED) {
		snprintf(err, errlen, "a ramp is %s at step %zu: abort it first",
		    state_names[R.state], R.step + 1);
		return 409;
	}
	if (config_backend(rt.cfg, "source") == NULL ||
	    config_backend(rt.cfg, "target") == NULL) {
		snprintf(err, errlen, "a ramp needs backends named source and "
		    "target");
		return 409;
	}
	route_weights(rt.cfg, route ? (int)(config_route(rt.cfg, route) -
	    rt.cfg->routes) : -1, w);
	for (size_t b = 0; b < rt.cfg->nbackends; b++) {
		const struct sw_backend *be = &rt.cfg->backends[b];

		if (strcmp(be->name, "source") && strcmp(be->name, "target") &&
		    w[b] != 0) {
			snprintf(err, errlen, "backend %s has weight %d%s%s: a "
			    "ramp moves traffic between source and target only",
			    be->name, w[b], route ? " on route " : "",
			    route ? route : "");
			return 409;
		}
	}
	R.p = p;
	snprintf(R.route, sizeof(R.route), "%s", route ? route : "");
	R.step = 0;
	R.fails = 0;
	R.nhist = 0;
	memset(R.ck, 0, sizeof(R.ck));
	log_info("ramp%s%s: started by %s%s%s", route ? " of route " : "",
	    route ? route : "", who, reason ? ": " : "", reason ? reason : "");
	if (aws_enabled() && rt.cfg->aws.ecs_cluster != NULL) {
		if (aws_preflight(preflight_step, preflight_done, NULL) == -1) {
			snprintf(err, errlen, "cannot start the preflight (one "
			    "is running?)");
			return 409;
		}
		R.preflight_busy = 1;
		set_state(RS_PREFLIGHT);
		R.reason[0] = '\0';
		return 0;
	}
	step_enter(0);
	return 0;
}

int
ramp_pause(const char *who, char *err, size_t errlen)
{
	char why[128];

	if (!active()) {
		snprintf(err, errlen, "no ramp is under way (state %s)",
		    state_names[R.state]);
		return 409;
	}
	snprintf(why, sizeof(why), "paused by %s", who);
	pause_ramp(why);
	return 0;
}

int
ramp_resume(const char *who, char *err, size_t errlen)
{
	if (R.state != RS_PAUSED) {
		snprintf(err, errlen, "the ramp is not paused (state %s)",
		    state_names[R.state]);
		return 409;
	}
	log_info("ramp: resumed by %s at step %zu", who, R.step + 1);
	step_enter(R.step);
	return 0;
}

int
ramp_abort(const char *who, char *err, size_t errlen)
{
	char why[128];

	if (!active() && R.state != RS_PAUSED) {
		snprintf(err, errlen, "no ramp to abort (state %s)",
		    state_names[R.state]);
		return 409;
	}
	snprintf(why, sizeof(why), "aborted by %s", who);
	rollback(why);
	return 0;
}

/* {"name":..,"source":..,"target":..,"limit":..,"ok":..}, for one check. */
static json_t *
check_json(int i)
{
	const struct check *c = &R.ck[i];

	return json_pack("{s:s, s:f, s:f, s:f, s:b, s:b, s:s}", "name",
	    check_names[i], "source", c->source, "target", c->target, "limit",
	    c->limit, "ok", c->ok, "skipped", c->skipped, "detail", c->note);
}

json_t *
ramp_json(void)
{
	json_t	*checks = json_array(), *hist = json_array(), *steps;
	json_t	*w = json_object();
	size_t	 first = R.nhist > HISTORY_MAX ? R.nhist - HISTORY_MAX : 0;
	int	 on = R.p.nsteps > 0 && R.state != RS_IDLE;

	steps = json_array();
	for (size_t i = 0; steps != NULL && i < R.p.nsteps; i++)
		json_array_append_new(steps, json_integer(R.p.steps[i]));
	for (int i = 0; checks != NULL && i < CK_MAX; i++)
		if (R.ck[i].ran)
			json_array_append_new(checks, check_json(i));
	for (size_t i = first; hist != NULL && i < R.nhist; i++) {
		const struct history *h = &R.hist[i % HISTORY_MAX];

		json_array_append_new(hist, json_pack("{s:I, s:s, s:I, s:i, "
		    "s:s, s:s}", "seq", (json_int_t)i, "time", h->time, "step",
		    (json_int_t)h->step, "target_percent", h->percent,
		    "verdict", verdict_names[h->v], "detail", h->detail));
	}
	int	 rw[SW_MAX_BACKENDS];

	if (rt.cfg != NULL)
		ramped_weights(rt.cfg, rw);
	for (size_t i = 0; w != NULL && rt.cfg != NULL &&
	    i < rt.cfg->nbackends; i++)
		json_object_set_new(w, rt.cfg->backends[i].name,
		    json_integer(rw[i]));
	return json_pack("{s:s, s:s, s:I, s:i, s:o, s:o, s:s, s:o, s:o, s:s, "
	    "s:{s:I, s:I, s:I}}",
	    "state", state_names[R.state],
	    "route", route_ramp() ? R.route : "default",
	    "step", (json_int_t)(on ? R.step + 1 : 0),
	    "target_percent", on ? R.p.steps[R.step] : 0,
	    "steps", steps,
	    "weights", w,
	    "since", R.since,
	    "checks", checks,
	    "history", hist,
	    "reason", R.reason,
	    "verdicts", "pass", (json_int_t)R.verdicts[V_PASS],
		"fail", (json_int_t)R.verdicts[V_FAIL],
		"hold", (json_int_t)R.verdicts[V_HOLD]);
}

void
ramp_prometheus(struct evbuffer *out)
{
	int on = R.p.nsteps > 0 && R.state != RS_IDLE;

	evbuffer_add_printf(out, "# HELP switchover_ramp_state 1 for the "
	    "ramp's state, 0 for the others.\n# TYPE switchover_ramp_state "
	    "gauge\n");
	for (int s = 0; s < RS_MAX; s++)
		evbuffer_add_printf(out, "switchover_ramp_state{state=\"%s\"} "
		    "%d\n", state_names[s], R.state == (enum ramp_state)s);
	evbuffer_add_printf(out, "# HELP switchover_ramp_step The ramp's step "
	    "(1-based; 0 when none).\n# TYPE switchover_ramp_step gauge\n"
	    "switchover_ramp_step %zu\n", on ? R.step + 1 : 0);
	evbuffer_add_printf(out, "# HELP switchover_ramp_target_percent The "
	    "target's share at the ramp's step.\n# TYPE "
	    "switchover_ramp_target_percent gauge\n"
	    "switchover_ramp_target_percent %d\n", on ? R.p.steps[R.step] : 0);
	evbuffer_add_printf(out, "# HELP switchover_ramp_check_value A check's "
	    "last value (error_rate in percent, p99_ratio in ms, counts).\n"
	    "# TYPE switchover_ramp_check_value gauge\n");
	for (int i = 0; i < CK_MAX; i++)
		evbuffer_add_printf(out, "switchover_ramp_check_value{check="
		    "\"%s\",backend=\"source\"} %.6f\n"
		    "switchover_ramp_check_value{check=\"%s\",backend=\"target\"}"
		    " %.6f\n", check_names[i], R.ck[i].source, check_names[i],
		    R.ck[i].target);
	evbuffer_add_printf(out, "# HELP switchover_ramp_check_limit A check's "
	    "limit.\n# TYPE switchover_ramp_check_limit gauge\n");
	for (int i = 0; i < CK_MAX; i++)
		evbuffer_add_printf(out, "switchover_ramp_check_limit{check="
		    "\"%s\"} %.6f\n", check_names[i], R.ck[i].limit);
	evbuffer_add_printf(out, "# HELP switchover_ramp_check_ok 1 when a "
	    "check's last evaluation passed (or was skipped).\n# TYPE "
	    "switchover_ramp_check_ok gauge\n");
	for (int i = 0; i < CK_MAX; i++)
		evbuffer_add_printf(out, "switchover_ramp_check_ok{check=\"%s\"} "
		    "%d\n", check_names[i], !R.ck[i].ran || R.ck[i].ok);
	evbuffer_add_printf(out, "# HELP switchover_ramp_verdicts_total Check "
	    "verdicts since start, by verdict.\n# TYPE "
	    "switchover_ramp_verdicts_total counter\n");
	for (int v = 0; v < V_MAX; v++)
		evbuffer_add_printf(out, "switchover_ramp_verdicts_total{verdict="
		    "\"%s\"} %llu\n", verdict_names[v],
		    (unsigned long long)R.verdicts[v]);
}

int
ramp_init(struct event_base *base)
{
	struct state_ramp sr;

	R.base = base;
	iso_now(R.since, sizeof(R.since));
	if ((R.step_base = calloc(1, sizeof(*R.step_base))) == NULL ||
	    (R.now = calloc(1, sizeof(*R.now))) == NULL ||
	    (R.win = calloc(1, sizeof(*R.win))) == NULL ||
	    (R.stepwin = calloc(1, sizeof(*R.stepwin))) == NULL ||
	    (R.rbase = metrics_route_table_new()) == NULL ||
	    (R.rnow = metrics_route_table_new()) == NULL ||
	    (R.rwin = metrics_route_table_new()) == NULL ||
	    (R.timer = event_new(base, -1, EV_PERSIST, tick_cb,
	    NULL)) == NULL ||
	    runtime_on_publish(on_publish, NULL) == -1)
		goto fail;
	if (runtime_restored_ramp(&sr)) {
		R.p = rt.cfg->ramp;
		memcpy(R.p.steps, sr.steps, sr.nsteps * sizeof(int));
		R.p.nsteps = sr.nsteps;
		R.step = sr.step;
		snprintf(R.route, sizeof(R.route), "%s", sr.route);
		runtime_set_ramp(&sr);
		R.state = RS_PAUSED;
		snprintf(R.reason, sizeof(R.reason), "restarted during a ramp%s%s: "
		    "paused at step %zu of %zu (target %d %%); POST /ramp/resume "
		    "or /ramp/abort", route_ramp() ? " of route " : "", R.route,
		    R.step + 1, R.p.nsteps, R.p.steps[R.step]);
		log_warn("ramp: %s", R.reason);
		audit(R.reason);
	}
	return 0;
fail:
	ramp_shutdown();
	return -1;
}

void
ramp_shutdown(void)
{
	if (R.timer != NULL)
		event_free(R.timer);
	free(R.step_base);
	free(R.now);
	free(R.win);
	free(R.stepwin);
	metrics_route_table_free(R.rbase);
	metrics_route_table_free(R.rnow);
	metrics_route_table_free(R.rwin);
	memset(&R, 0, sizeof(R));
}
