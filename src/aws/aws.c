/*
 * aws: push, pull and preflight, on top of awsreq/elbv2/ecs.
 *
 * Control thread only.  State is one static struct: the [aws] settings
 * (a reference on the config read at start), the resolved target group
 * ARNs, and one state machine each for push, pull and preflight.  Every
 * step is an awsreq call whose callback starts the next one.
 *
 * Push: the wanted weights carry a generation; a push reads the forward
 * action back, changes only the two weights, and writes it whole.  When
 * it ends, a newer generation starts at once; a failure waits out a
 * capped, jittered backoff and tries again, for as long as it takes.
 * Pull never runs while a push is pending, and weights adopted by pull
 * are never pushed back: the two cannot chase each other.  Push mode
 * reads the rule once at start, only to warn when it disagrees.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <event2/util.h>
#include <jansson.h>

#include "switchover/aws/aws.h"
#include "switchover/aws/awscreds.h"
#include "switchover/aws/awsreq.h"
#include "switchover/aws/ecs.h"
#include "switchover/aws/elbv2.h"
#include "switchover/config.h"
#include "switchover/log.h"
#include "switchover/runtime.h"

#define PUSH_BACKOFF_MS		1000
#define PUSH_BACKOFF_CAP_MS	30000
#define PREFLIGHT_POLL_MS	2000
#define SRC			0	/* index of backend "source" */
#define TGT			1	/* index of backend "target" */

static const char *const backend_names[2] = { "source", "target" };

/* Continuation of a multi-step sequence: err_code NULL on success. */
typedef void (*step_fn)(const char *code, const char *msg, void *arg);

struct result {
	time_t	 at;
	char	 code[128];
	char	 msg[512];
	int	 w[2];
};

struct waiter {
	unsigned	 gen;
	aws_done_cb	 cb;
	void		*arg;
	struct waiter	*next;
};

struct preflight {
	aws_progress_cb	 progress;
	aws_done_cb	 done;
	void		*arg;
	int		 want;		/* tasks the target proxy needs */
	int		 desired;	/* its desired count (>= want) */
	int		 last_running, last_healthy;
	time_t		 deadline;
	struct event	*timer;
};

static struct {
	struct event_base	*base;
	struct sw_config	*cfg;		/* [aws] settings, held */
	const struct sw_aws	*a;
	char			*tg[2];		/* resolved ARNs */

	int			 want[2];	/* weights the ALB should have */
	unsigned		 want_gen, push_gen;
	int			 pushing;	/* a push sequence in flight */
	int			 push_w[2];	/* what it pushes */
	int			 failures;	/* consecutive */
	struct event		*push_ev;	/* start / retry timer */
	struct timeval		 retry_at;
	struct waiter		*waiters;
	struct result		 push_ok, push_err;
	struct resolve		*resolving;	/* DescribeTargetGroups calls */

	struct event		*pull_ev;
	int			 pulling, adopting;
	struct result		 pull_ok, pull_err;

	aws_weights_cb		 rb_cb;		/* a read-back in flight */
	void			*rb_arg;

	struct preflight	*pf;
	struct result		 pf_last;	/* code "" = ok */
	int			 pf_ran;
} A;

/* Record a result now. */
static void
note(struct result *r, const char *code, const char *msg, const int w[2])
{
	r->at = time(NULL);
	snprintf(r->code, sizeof(r->code), "%s", code ? code : "");
	snprintf(r->msg, sizeof(r->msg), "%s", msg ? msg : "");
	if (w != NULL)
		memcpy(r->w, w, sizeof(r->w));
}

/* The weights of backends source and target in c; -1 if missing. */
static void
config_pair(const struct sw_config *c, int w[2])
{
	for (int i = 0; i < 2; i++) {
		struct sw_backend *b = config_backend(c, backend_names[i]);

		w[i] = b ? b->weight : -1;
	}
}

/* ---- target group names -> ARNs ---------------------------------------- */

/* A DescribeTargetGroups in flight: in A.resolving until it answers. */
struct resolve {
	step_fn		 then;
	void		*arg;
	struct resolve	*next;
};

/*
 * Take rs off A.resolving.  awsreq drops calls at shutdown without
 * calling back, so aws_stop() frees whatever is still listed.
 */
static void
resolve_unlink(struct resolve *rs)
{
	for (struct resolve **pp = &A.resolving; *pp != NULL; pp = &(*pp)->next)
		if (*pp == rs) {
			*pp = rs->next;
			break;
		}
}

/* DescribeTargetGroups answered. */
static void
resolved(const struct aws_result *r, void *arg)
{
	struct resolve	*rs = arg;
	const char	*names[2];
	char		*arns[2] = { NULL, NULL }, err[300];
	size_t		 n = 0, idx[2];

	resolve_unlink(rs);
	if (!r->ok) {
		rs->then(r->code, r->message, rs->arg);
		free(rs);
		return;
	}
	for (int i = 0; i < 2; i++)
		if (A.tg[i] == NULL) {
			idx[n] = (size_t)i;
			names[n++] = i == SRC ? A.a->source_tg : A.a->target_tg;
		}
	if (elbv2_parse_target_groups(r->body, r->len, names, arns, n, err,
	    sizeof(err)) == -1) {
		for (size_t i = 0; i < n; i++)
			free(arns[i]);
		rs->then("InvalidResponse", err, rs->arg);
	} else {
		for (size_t i = 0; i < n; i++) {
			log_info("aws: target group %s is %s", names[i], arns[i]);
			A.tg[idx[i]] = arns[i];
		}
		rs->then(NULL, NULL, rs->arg);
	}
	free(rs);
}

/* Make sure A.tg[] holds both ARNs, then continue (maybe at once). */
static void
resolve_tgs(step_fn then, void *arg)
{
	const char	*names[2];
	struct resolve	*rs;
	char		*body;
	size_t		 n = 0;

	for (int i = 0; i < 2; i++) {
		const char *v = i == SRC ? A.a->source_tg : A.a->target_tg;

		if (A.tg[i] == NULL && v != NULL && strncmp(v, "arn:", 4) == 0)
			A.tg[i] = strdup(v);
		if (A.tg[i] == NULL)
			names[n++] = v;
	}
	if (n == 0) {
		then(NULL, NULL, arg);
		return;
	}
	if ((rs = malloc(sizeof(*rs))) == NULL ||
	    (body = elbv2_target_groups_body(names, n)) == NULL) {
		free(rs);
		then("InternalError", "out of memory", arg);
		return;
	}
	rs->then = then;
	rs->arg = arg;
	rs->next = A.resolving;
	A.resolving = rs;
	if (awsreq_call(AWS_ELBV2, "DescribeTargetGroups", body, resolved,
	    rs) == -1) {
		resolve_unlink(rs);
		free(rs);
		then("InternalError", "cannot queue DescribeTargetGroups", arg);
	}
	free(body);
}

/* Read the rule's forward action; then(code, msg) with f filled on success. */
static int
describe_forward(awsreq_cb cb, void *arg)
{
	char	*body = elbv2_describe_body(A.a->listener_arn, A.a->rule_arn);
	int	 rc;

	if (body == NULL)
		return -1;
	rc = awsreq_call(AWS_ELBV2, A.a->rule_arn ? "DescribeRules" :
	    "DescribeListeners", body, cb, arg);
	free(body);
	return rc;
}

/* Parse a describe answer into f and find both groups; NULL or why not. */
static const char *
read_forward(const struct aws_result *r, struct elbv2_forward *f, int idx[2],
    char *err, size_t errlen)
{
	if (elbv2_parse_forward(r->body, r->len, A.a->rule_arn != NULL, f, err,
	    errlen) == -1)
		return err;
	for (int i = 0; i < 2; i++)
		if ((idx[i] = elbv2_forward_find(f, A.tg[i])) == -1) {
			snprintf(err, errlen, "target group %s is not in the "
			    "forward action", A.tg[i]);
			elbv2_forward_free(f);
			return err;
		}
	return NULL;
}

/* ---- push ---------------------------------------------------------------- */

/* Tell waiters covered by generation gen, and forget them. */
static void
push_notify(unsigned gen, const struct aws_outcome *o)
{
	struct waiter **pp = &A.waiters, *w;

	while ((w = *pp) != NULL) {
		if ((int)(gen - w->gen) < 0) {
			pp = &w->next;
			continue;
		}
		*pp = w->next;
		w->cb(o, w->arg);
		free(w);
	}
}

/*
 * A push sequence ended; tell waiters and start what comes next.  A
 * failure is retried unless final (a request AWS would refuse as sent).
 */
static void
push_end_final(const char *code, const char *msg, int final)
{
	struct aws_outcome	o = { code == NULL, code, msg,
				    code != NULL && !final };
	struct timeval		tv = { 0, 0 };
	long			ms;
	unsigned int		r;

	A.pushing = 0;
	if (code == NULL) {
		A.failures = 0;
		note(&A.push_ok, NULL, NULL, A.push_w);
		log_info("aws: ALB forward now source %d / target %d",
		    A.push_w[SRC], A.push_w[TGT]);
		o.message = "the ALB accepted the weights";
	} else {
		A.failures++;
		note(&A.push_err, code, msg, A.push_w);
		ms = (long)PUSH_BACKOFF_MS << (A.failures < 6 ? A.failures - 1 : 5);
		if (ms > PUSH_BACKOFF_CAP_MS)
			ms = PUSH_BACKOFF_CAP_MS;
		evutil_secure_rng_get_bytes(&r, sizeof(r));
		ms = ms / 2 + (long)(r % (unsigned long)(ms / 2 + 1));
		tv.tv_sec = ms / 1000;
		tv.tv_usec = (ms % 1000) * 1000;
		if (final)
			log_warn("aws: pushing weights source %d / target %d "
			    "to the ALB refused: %s: %s; not retried",
			    A.push_w[SRC], A.push_w[TGT], code, msg);
		else
			log_warn("aws: pushing weights source %d / target %d "
			    "to the ALB failed (%d in a row): %s: %s; retrying "
			    "in %ld ms", A.push_w[SRC], A.push_w[TGT],
			    A.failures, code, msg, ms);
	}
	push_notify(A.push_gen, &o);
	if (A.want_gen != A.push_gen)
		tv.tv_sec = tv.tv_usec = 0;	/* newer weights: go now */
	else if (code == NULL || final)
		return;
	evutil_gettimeofday(&A.retry_at, NULL);
	evutil_timeradd(&A.retry_at, &tv, &A.retry_at);
	evtimer_add(A.push_ev, &tv);
}

/* A push ended; failures are retried. */
static void
push_end(const char *code, const char *msg)
{
	push_end_final(code, msg, 0);
}

/* ModifyListener/ModifyRule answered. */
static void
push_modified(const struct aws_result *r, void *arg)
{
	push_end(r->ok ? NULL : r->code, r->message);
}

/* The forward action came back: change our two weights, write it whole. */
static void
push_described(const struct aws_result *r, void *arg)
{
	struct elbv2_forward	 f;
	char			 err[400], *body;
	int			 idx[2];

	if (!r->ok) {
		push_end(r->code, r->message);
		return;
	}
	if (read_forward(r, &f, idx, err, sizeof(err)) != NULL) {
		push_end("InvalidResponse", err);
		return;
	}
	f.tg[idx[SRC]].weight = A.push_w[SRC];
	f.tg[idx[TGT]].weight = A.push_w[TGT];
	body = elbv2_modify_body(A.a->listener_arn, A.a->rule_arn, &f, err,
	    sizeof(err));
	elbv2_forward_free(&f);
	if (body == NULL) {
		push_end_final("InvalidParameterValue", err, 1);
		return;
	}
	if (awsreq_call(AWS_ELBV2, A.a->rule_arn ? "ModifyRule" :
	    "ModifyListener", body, push_modified, NULL) == -1)
		push_end("InternalError", "cannot queue the modify call");
	free(body);
}

/* Target groups known: read the forward action. */
static void
push_resolved(const char *code, const char *msg, void *arg)
{
	if (code != NULL)
		push_end(code, msg);
	else if (describe_forward(push_described, NULL) == -1)
		push_end("InternalError", "cannot queue the describe call");
}

/* Timer: start a push of the newest wanted weights. */
static void
push_start(evutil_socket_t fd, short what, void *arg)
{
	if (A.pushing)
		return;
	A.pushing = 1;
	A.push_gen = A.want_gen;
	memcpy(A.push_w, A.want, sizeof(A.push_w));
	resolve_tgs(push_resolved, NULL);
}

int
aws_push_weights(const struct sw_config *c, aws_done_cb cb, void *arg)
{
	static const struct timeval	 now = { 0, 0 };
	struct waiter			*w;
	int				 nw[2];

	if (A.base == NULL || A.a->sync == AWS_SYNC_OFF)
		return -1;
	config_pair(c, nw);
	if (nw[SRC] < 0 || nw[TGT] < 0)
		return -1;
	/* Same weights as a push still pending: share it. */
	if (memcmp(nw, A.want, sizeof(nw)) != 0 ||
	    (!A.pushing && !evtimer_pending(A.push_ev, NULL))) {
		memcpy(A.want, nw, sizeof(A.want));
		A.want_gen++;
		if (!A.pushing)
			evtimer_add(A.push_ev, &now);
	}
	if (cb != NULL) {
		if ((w = calloc(1, sizeof(*w))) == NULL)
			return -1;
		w->gen = A.want_gen;
		w->cb = cb;
		w->arg = arg;
		w->next = A.waiters;
		A.waiters = w;
	}
	return 0;
}

/* Do two [aws] sections say the same? */
static int
aws_same(const struct sw_aws *x, const struct sw_aws *y)
{
	const char *const xs[] = { x->region, x->listener_arn, x->rule_arn,
	    x->source_tg, x->target_tg, x->ecs_cluster, x->source_service,
	    x->target_service };
	const char *const ys[] = { y->region, y->listener_arn, y->rule_arn,
	    y->source_tg, y->target_tg, y->ecs_cluster, y->source_service,
	    y->target_service };

	for (size_t i = 0; i < sizeof(xs) / sizeof(xs[0]); i++)
		if ((xs[i] == NULL) != (ys[i] == NULL) ||
		    (xs[i] != NULL && strcmp(xs[i], ys[i]) != 0))
			return 0;
	return x->sync == y->sync && x->pull_interval_ms == y->pull_interval_ms &&
	    x->request_timeout_ms == y->request_timeout_ms &&
	    x->preflight_timeout_ms == y->preflight_timeout_ms;
}

/* runtime hook: every accepted weight change goes to the ALB (push mode). */
static void
on_publish(const struct sw_config *old, const struct sw_config *cur, void *arg)
{
	if (A.base == NULL)
		return;		/* stopped by a reload that removed [aws] */
	if (!aws_same(A.a, &cur->aws))
		log_warn("aws: [aws] changed; it applies at restart, the running "
		    "module keeps the settings it started with");
	if (A.adopting || !runtime_weights_changed(old, cur))
		return;
	if (A.a->sync == AWS_SYNC_PULL)
		log_warn("aws: sync = pull: this local weight change lasts "
		    "until the next poll of the ALB rule");
	else if (A.a->sync == AWS_SYNC_PUSH)
		aws_push_weights(cur, NULL, NULL);
}

/* ---- pull ---------------------------------------------------------------- */

/* A pull ended. */
static void
pull_end(const char *code, const char *msg, const int w[2])
{
	A.pulling = 0;
	if (code == NULL) {
		note(&A.pull_ok, NULL, NULL, w);
		return;
	}
	if (strcmp(A.pull_err.code, code) != 0 || strcmp(A.pull_err.msg, msg))
		log_warn("aws: reading the ALB rule failed: %s: %s", code, msg);
	note(&A.pull_err, code, msg, NULL);
}

/* The rule came back: adopt its weights if they differ from ours. */
static void
pull_described(const struct aws_result *r, void *arg)
{
	struct elbv2_forward	 f;
	char			 err[400], serr[300];
	int			 idx[2], w[2], cur[2], all[SW_MAX_BACKENDS], rc;

	if (!r->ok) {
		pull_end(r->code, r->message, NULL);
		return;
	}
	if (read_forward(r, &f, idx, err, sizeof(err)) != NULL) {
		pull_end("InvalidResponse", err, NULL);
		return;
	}
	w[SRC] = f.tg[idx[SRC]].weight;
	w[TGT] = f.tg[idx[TGT]].weight;
	elbv2_forward_free(&f);
	config_pair(rt.cfg, cur);
	if (memcmp(w, cur, sizeof(w)) == 0) {
		pull_end(NULL, NULL, w);
		return;
	}
	if (A.a->sync != AWS_SYNC_PULL) {
		/* Push mode's start-up look: say so, change nothing. */
		log_warn("aws: the ALB forwards source %d / target %d but the "
		    "proxy serves %d / %d; the next weight change is pushed",
		    w[SRC], w[TGT], cur[SRC], cur[TGT]);
		pull_end(NULL, NULL, w);
		return;
	}
	if (config_weights_valid(w, 2) == -1) {
		snprintf(err, sizeof(err), "the ALB has source %d / target %d: "
		    "not adopted (no traffic could be routed)", w[SRC], w[TGT]);
		pull_end("InvalidWeights", err, NULL);
		return;
	}
	/* Through the one door: saved to the state file, then audited. */
	for (size_t i = 0; i < rt.cfg->nbackends; i++)
		all[i] = rt.cfg->backends[i].weight;
	all[config_backend(rt.cfg, "source") - rt.cfg->backends] = w[SRC];
	all[config_backend(rt.cfg, "target") - rt.cfg->backends] = w[TGT];
	log_info("aws: adopting the ALB's weights source %d / target %d",
	    w[SRC], w[TGT]);
	A.adopting = 1;
	rc = runtime_set_weights(all, "aws-pull", "adopted from the ALB rule",
	    serr, sizeof(serr));
	A.adopting = 0;
	if (rc == -1) {
		snprintf(err, sizeof(err), "the ALB's source %d / target %d not "
		    "adopted: %s", w[SRC], w[TGT], serr);
		pull_end("StateError", err, NULL);
		return;
	}
	pull_end(NULL, NULL, w);
}

/* Target groups known: read the rule. */
static void
pull_resolved(const char *code, const char *msg, void *arg)
{
	if (code != NULL)
		pull_end(code, msg, NULL);
	else if (describe_forward(pull_described, NULL) == -1)
		pull_end("InternalError", "cannot queue the describe call", NULL);
}

/* Poll timer (sync = pull).  A local push still pending wins. */
static void
pull_tick(evutil_socket_t fd, short what, void *arg)
{
	if (A.pulling || A.pushing || evtimer_pending(A.push_ev, NULL))
		return;
	A.pulling = 1;
	resolve_tgs(pull_resolved, NULL);
}

/* ---- read-back ----------------------------------------------------------- */

/* A read-back ended: tell its caller (who may start the next one). */
static void
rb_end(const char *code, const char *msg, const int *w)
{
	struct aws_outcome	 o = { code == NULL, code, msg, 0 };
	aws_weights_cb		 cb = A.rb_cb;

	A.rb_cb = NULL;
	if (cb != NULL)
		cb(&o, w, A.rb_arg);
}

/* The rule came back: its two weights. */
static void
rb_described(const struct aws_result *r, void *arg)
{
	struct elbv2_forward	 f;
	char			 err[400];
	int			 idx[2], w[2];

	if (!r->ok) {
		rb_end(r->code, r->message, NULL);
		return;
	}
	if (read_forward(r, &f, idx, err, sizeof(err)) != NULL) {
		rb_end("InvalidResponse", err, NULL);
		return;
	}
	w[SRC] = f.tg[idx[SRC]].weight;
	w[TGT] = f.tg[idx[TGT]].weight;
	elbv2_forward_free(&f);
	rb_end(NULL, NULL, w);
}

/* Target groups known: read the rule. */
static void
rb_resolved(const char *code, const char *msg, void *arg)
{
	if (code != NULL)
		rb_end(code, msg, NULL);
	else if (describe_forward(rb_described, NULL) == -1)
		rb_end("InternalError", "cannot queue the describe call", NULL);
}

int
aws_read_weights(aws_weights_cb cb, void *arg)
{
	if (A.base == NULL || A.a->sync == AWS_SYNC_OFF || A.rb_cb != NULL)
		return -1;
	A.rb_cb = cb;
	A.rb_arg = arg;
	resolve_tgs(rb_resolved, NULL);
	return 0;
}

/* ---- preflight ----------------------------------------------------------- */

/* Report one step (and log it). */
static void
pf_say(int warn, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void
pf_say(int warn, const char *fmt, ...)
{
	char	buf[600];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (warn)
		log_warn("aws: preflight: %s", buf);
	else
		log_info("aws: preflight: %s", buf);
	if (A.pf->progress != NULL)
		A.pf->progress(buf, warn, A.pf->arg);
}

/* Preflight over: report, free. */
static void
pf_end(const char *code, const char *msg)
{
	struct preflight	*pf = A.pf;
	struct aws_outcome	 o = { code == NULL, code, msg, 0 };

	A.pf = NULL;
	A.pf_ran = 1;
	note(&A.pf_last, code, msg, NULL);
	if (code != NULL)
		log_warn("aws: preflight failed: %s: %s", code, msg);
	else
		log_info("aws: preflight passed: %s", msg);
	event_free(pf->timer);
	pf->done(&o, pf->arg);
	free(pf);
}

/* Poll again later, unless the time is up. */
static void
pf_again(const char *why)
{
	struct timeval tv = { PREFLIGHT_POLL_MS / 1000,
	    (PREFLIGHT_POLL_MS % 1000) * 1000 };

	if (time(NULL) >= A.pf->deadline) {
		char msg[600];

		snprintf(msg, sizeof(msg), "gave up after %d s: %.500s",
		    A.a->preflight_timeout_ms / 1000, why);
		pf_end("PreflightTimeout", msg);
		return;
	}
	evtimer_add(A.pf->timer, &tv);
}

/* DescribeTargetHealth answered: done when all are healthy. */
static void
pf_health(const struct aws_result *r, void *arg)
{
	struct elbv2_health	h;
	char			err[400], msg[600];

	if (!r->ok) {
		pf_end(r->code, r->message);
		return;
	}
	if (elbv2_parse_health(r->body, r->len, &h, err, sizeof(err)) == -1) {
		pf_end("InvalidResponse", err);
		return;
	}
	/*
	 * Every registered target healthy is not enough: one of three
	 * registered so far would take all the weight (ALB weighted groups
	 * answer 503 while the rest register).
	 */
	if (h.total > 0 && h.healthy == h.total &&
	    h.healthy >= A.pf->desired) {
		snprintf(msg, sizeof(msg), "target group %s: %d/%d targets "
		    "healthy, none draining", A.a->target_tg, h.healthy, h.total);
		pf_say(0, "%s", msg);
		pf_end(NULL, msg);
		return;
	}
	snprintf(msg, sizeof(msg), "target group %s: %d/%d targets healthy, "
	    "%d draining, %d healthy needed (the target service's desired "
	    "count)%s%s", A.a->target_tg, h.healthy, h.total, h.draining,
	    A.pf->desired, h.example[0] ? "; e.g. " : "", h.example);
	if (h.healthy != A.pf->last_healthy || h.total == 0) {
		A.pf->last_healthy = h.healthy;
		pf_say(0, "waiting: %s", msg);
	}
	pf_again(msg);
}

/* Target groups known: ask for the target group's health. */
static void
pf_resolved(const char *code, const char *msg, void *arg)
{
	char *body;

	if (code != NULL) {
		pf_end(code, msg);
		return;
	}
	if ((body = elbv2_health_body(A.tg[TGT])) == NULL ||
	    awsreq_call(AWS_ELBV2, "DescribeTargetHealth", body, pf_health,
	    NULL) == -1)
		pf_end("InternalError", "cannot queue DescribeTargetHealth");
	free(body);
}

/* The target service polled: enough running tasks yet? */
static void
pf_target_polled(const struct aws_result *r, void *arg)
{
	struct ecs_service	 s;
	const char		*name = A.a->target_service;
	char			 err[400], msg[300];

	if (!r->ok) {
		pf_end(r->code, r->message);
		return;
	}
	if (ecs_parse_services(r->body, r->len, &name, &s, 1, err,
	    sizeof(err)) == -1) {
		pf_end("InvalidResponse", err);
		return;
	}
	if (s.running < A.pf->want) {
		snprintf(msg, sizeof(msg), "target proxy %s: %d of %d tasks "
		    "running (%d pending)", name, s.running, A.pf->want, s.pending);
		if (s.running != A.pf->last_running)
			pf_say(0, "waiting: %s", msg);
		A.pf->last_running = s.running;
		pf_again(msg);
		return;
	}
	if (s.desired > A.pf->desired)
		A.pf->desired = s.desired;
	if (A.pf->last_running != s.running)
		pf_say(0, "target proxy %s: %d tasks running", name, s.running);
	A.pf->last_running = s.running;
	resolve_tgs(pf_resolved, NULL);
}

/* Ask ECS about services names[0..n); 0 or -1. */
static int
pf_describe(const char *const names[], size_t n, awsreq_cb cb)
{
	char	*body = ecs_describe_body(A.a->ecs_cluster, names, n);
	int	 rc = -1;

	if (body != NULL)
		rc = awsreq_call(AWS_ECS, "DescribeServices", body, cb, NULL);
	free(body);
	return rc;
}

/* Poll timer: look at the target service again. */
static void
pf_poll(evutil_socket_t fd, short what, void *arg)
{
	const char *name = A.a->target_service;

	if (pf_describe(&name, 1, pf_target_polled) == -1)
		pf_end("InternalError", "cannot queue DescribeServices");
}

/* UpdateService answered. */
static void
pf_scaled(const struct aws_result *r, void *arg)
{
	if (!r->ok) {
		pf_end(r->code, r->message);
		return;
	}
	pf_say(0, "target proxy %s: desired count set to %d",
	    A.a->target_service, A.pf->want);
	pf_poll(-1, 0, NULL);
}

/* Both services described: warn, scale, then wait. */
static void
pf_described(const struct aws_result *r, void *arg)
{
	const char		*names[2] = { A.a->source_service,
				    A.a->target_service };
	struct ecs_service	 s[2];
	char			 err[400], *body;

	if (!r->ok) {
		pf_end(r->code, r->message);
		return;
	}
	if (ecs_parse_services(r->body, r->len, names, s, 2, err,
	    sizeof(err)) == -1) {
		pf_end("InvalidResponse", err);
		return;
	}
	for (int i = 0; i < 2; i++)
		pf_say(0, "%s proxy %s: desired %d, running %d, pending %d",
		    i == SRC ? "capture" : "target", names[i], s[i].desired,
		    s[i].running, s[i].pending);
	if (s[SRC].desired < 2)
		pf_say(1, "the capture proxy %s runs fewer than 2 tasks (%d): "
		    "one task failing would stop all traffic", names[SRC],
		    s[SRC].desired);
	A.pf->want = s[SRC].desired > 1 ? s[SRC].desired : 1;
	A.pf->desired = s[TGT].desired > A.pf->want ? s[TGT].desired :
	    A.pf->want;
	A.pf->last_running = s[TGT].running;
	if (s[TGT].desired >= A.pf->want) {
		pf_say(0, "target proxy %s already wants %d tasks (>= %d)",
		    names[TGT], s[TGT].desired, A.pf->want);
		pf_poll(-1, 0, NULL);
		return;
	}
	pf_say(0, "scaling target proxy %s from %d to %d tasks", names[TGT],
	    s[TGT].desired, A.pf->want);
	if ((body = ecs_update_body(A.a->ecs_cluster, names[TGT],
	    A.pf->want)) == NULL ||
	    awsreq_call(AWS_ECS, "UpdateService", body, pf_scaled, NULL) == -1)
		pf_end("InternalError", "cannot queue UpdateService");
	free(body);
}

int
aws_preflight(aws_progress_cb progress, aws_done_cb done, void *arg)
{
	const char *names[2];

	if (A.base == NULL || A.a->ecs_cluster == NULL || A.a->target_tg == NULL ||
	    A.pf != NULL)
		return -1;
	if ((A.pf = calloc(1, sizeof(*A.pf))) == NULL ||
	    (A.pf->timer = evtimer_new(A.base, pf_poll, NULL)) == NULL) {
		free(A.pf);
		A.pf = NULL;
		return -1;
	}
	A.pf->progress = progress;
	A.pf->done = done;
	A.pf->arg = arg;
	A.pf->last_healthy = -1;
	A.pf->deadline = time(NULL) + A.a->preflight_timeout_ms / 1000;
	names[SRC] = A.a->source_service;
	names[TGT] = A.a->target_service;
	if (pf_describe(names, 2, pf_described) == -1) {
		event_free(A.pf->timer);
		free(A.pf);
		A.pf = NULL;
		return -1;
	}
	return 0;
}

/* ---- status -------------------------------------------------------------- */

/* A result as JSON: {"at", "weights"?, "code"?, "message"?}, or null. */
static json_t *
result_json(const struct result *r, int weights, int error)
{
	char	 at[32];
	json_t	*j;

	if (r->at == 0)
		return json_null();
	strftime(at, sizeof(at), "%Y-%m-%dT%H:%M:%SZ", gmtime(&r->at));
	j = json_pack("{s:s}", "at", at);
	if (weights)
		json_object_set_new(j, "weights", json_pack("{s:i, s:i}",
		    "source", r->w[SRC], "target", r->w[TGT]));
	if (error && r->code[0]) {
		json_object_set_new(j, "code", json_string(r->code));
		json_object_set_new(j, "message", json_string(r->msg));
	}
	return j;
}

json_t *
aws_status_json(void)
{
	static const char *const modes[] = { "off", "push", "pull" };
	struct timeval	 now;
	const char	*state = "idle", *src;
	long		 retry_ms = -1;
	time_t		 exp;
	json_t		*j;

	if (A.base == NULL)
		return json_pack("{s:s, s:b}", "sync", "off", "configured", 0);
	if (A.pushing)
		state = "pushing";
	else if (evtimer_pending(A.push_ev, NULL)) {
		state = A.failures > 0 ? "retry_wait" : "pushing";
		evutil_gettimeofday(&now, NULL);
		retry_ms = (A.retry_at.tv_sec - now.tv_sec) * 1000 +
		    (A.retry_at.tv_usec - now.tv_usec) / 1000;
		if (retry_ms < 0)
			retry_ms = 0;
	}
	src = awscreds_source(&exp);
	j = json_pack("{s:s, s:b, s:s?, s:s?, s:s?, s:s}",
	    "sync", modes[A.a->sync], "configured", 1,
	    "listener_arn", A.a->listener_arn, "rule_arn", A.a->rule_arn,
	    "ecs_cluster", A.a->ecs_cluster, "credentials", src);
	json_object_set_new(j, "push", json_pack("{s:s, s:{s:i, s:i}, s:i, "
	    "s:o, s:o, s:o}", "state", state, "weights", "source", A.want[SRC],
	    "target", A.want[TGT], "failures", A.failures,
	    "next_retry_in_ms", retry_ms >= 0 ? json_integer(retry_ms) :
	    json_null(), "last_ok", result_json(&A.push_ok, 1, 0),
	    "last_error", result_json(&A.push_err, 1, 1)));
	json_object_set_new(j, "read", json_pack("{s:o, s:o}",
	    "last_ok", result_json(&A.pull_ok, 1, 0),
	    "last_error", result_json(&A.pull_err, 0, 1)));
	json_object_set_new(j, "preflight", json_pack("{s:b, s:o}",
	    "running", A.pf != NULL, "last", A.pf_ran ?
	    json_pack("{s:b, s:o}", "ok", A.pf_last.code[0] == '\0',
	    "result", result_json(&A.pf_last, 0, 1)) : json_null()));
	return j;
}

/* ---- life ---------------------------------------------------------------- */

int
aws_enabled(void)
{
	return A.base != NULL;
}

int
aws_push_enabled(void)
{
	return A.base != NULL && A.a->sync == AWS_SYNC_PUSH;
}

/*
 * The region for a: [aws] region, AWS_REGION, AWS_DEFAULT_REGION, then
 * the profile's in ~/.aws/config.  Into buf; -1 with err when there is
 * none or it is not a region's name.
 */
static int
aws_region(const struct sw_aws *a, char *buf, size_t len, char *err,
    size_t errlen)
{
	const char *region = a->region;

	if (region == NULL || *region == '\0')
		region = getenv("AWS_REGION");
	if (region == NULL || *region == '\0')
		region = getenv("AWS_DEFAULT_REGION");
	if ((region == NULL || *region == '\0') &&
	    awscreds_region(buf, len) == 0)
		region = buf;
	if (region == NULL || *region == '\0') {
		snprintf(err, errlen, "aws: no region: set [aws] region, "
		    "AWS_REGION, AWS_DEFAULT_REGION, or region in the profile "
		    "of ~/.aws/config (AWS_CONFIG_FILE, AWS_PROFILE)");
		return -1;
	}
	/* It becomes part of a host name and of every signature. */
	if (strlen(region) > 32 || strspn(region,
	    "abcdefghijklmnopqrstuvwxyz0123456789-") != strlen(region)) {
		snprintf(err, errlen, "aws: region \"%.64s\" is not an AWS "
		    "region name", region);
		return -1;
	}
	if (region != buf)
		snprintf(buf, len, "%s", region);
	return 0;
}

/* Does a ask for the module at all (sync on, or ECS services named)? */
static int
aws_wanted(const struct sw_aws *a)
{
	return a->sync != AWS_SYNC_OFF || a->ecs_cluster != NULL;
}

/* The publish hook outlives restarts of the module: registered once. */
static int hooked;

int
aws_start(struct event_base *base, struct sw_config *cfg)
{
	const struct sw_aws	*a = &cfg->aws;
	struct awsreq_options	 o = { 0 };
	char			 region[64], err[256];
	struct timeval		 tv;

	if (!aws_wanted(a))
		return 0;
	if (aws_region(a, region, sizeof(region), err, sizeof(err)) == -1) {
		log_err("%s", err);
		return -1;
	}
	o.region = region;
	o.timeout_ms = a->request_timeout_ms;
	o.max_attempts = 4;
	o.backoff_base_ms = 100;
	o.backoff_cap_ms = 5000;
	if (awsreq_init(base, &o) == -1) {
		log_err("aws: cannot start the HTTP client");
		return -1;
	}
	A.base = base;
	A.cfg = config_ref(cfg);
	A.a = &A.cfg->aws;
	config_pair(cfg, A.want);
	if ((A.push_ev = evtimer_new(base, push_start, NULL)) == NULL)
		goto fail;
	/*
	 * Pull polls the rule; push reads it once at start, to warn when the
	 * ALB and the proxy disagree (pushing the file's weights at start
	 * could undo a change made since by the admin API).
	 */
	if (a->sync != AWS_SYNC_OFF) {
		tv.tv_sec = a->pull_interval_ms / 1000;
		tv.tv_usec = (a->pull_interval_ms % 1000) * 1000;
		if ((A.pull_ev = event_new(base, -1, a->sync == AWS_SYNC_PULL ?
		    EV_PERSIST : 0, pull_tick, NULL)) == NULL ||
		    (a->sync == AWS_SYNC_PULL && event_add(A.pull_ev, &tv) == -1))
			goto fail;
		event_active(A.pull_ev, EV_TIMEOUT, 0);	/* first read now */
	}
	if (!hooked && runtime_on_publish(on_publish, NULL) == -1)
		goto fail;
	hooked = 1;
	log_info("aws: sync = %s, region %s, ELBv2 at %s, ECS at %s",
	    a->sync == AWS_SYNC_PUSH ? "push" : a->sync == AWS_SYNC_PULL ?
	    "pull" : "off", region, awsreq_endpoint(AWS_ELBV2),
	    awsreq_endpoint(AWS_ECS));
	return 0;
fail:
	log_err("aws: cannot start: out of memory");
	aws_stop();
	return -1;
}

void
aws_stop(void)
{
	while (A.waiters != NULL) {
		struct waiter *next = A.waiters->next;

		free(A.waiters);
		A.waiters = next;
	}
	while (A.resolving != NULL) {
		struct resolve *next = A.resolving->next;

		free(A.resolving);
		A.resolving = next;
	}
	if (A.pf != NULL) {
		event_free(A.pf->timer);
		free(A.pf);
	}
	if (A.push_ev != NULL)
		event_free(A.push_ev);
	if (A.pull_ev != NULL)
		event_free(A.pull_ev);
	awsreq_shutdown();
	free(A.tg[SRC]);
	free(A.tg[TGT]);
	config_unref(A.cfg);
	memset(&A, 0, sizeof(A));
}

int
aws_reload_check(const struct sw_config *cfg, char *err, size_t errlen)
{
	char region[64];

	if (!aws_wanted(&cfg->aws) ||
	    (A.base != NULL && aws_same(A.a, &cfg->aws)))
		return 0;
	return aws_region(&cfg->aws, region, sizeof(region), err, errlen);
}

/*
 * Tell everyone waiting on the running module that it is going away:
 * each callback runs exactly once, even across a reload.
 */
static void
aws_abandon(const char *why)
{
	struct aws_outcome o = { 0, "AwsReloaded", why, 0 };

	push_notify(A.want_gen, &o);
	if (A.pf != NULL)
		pf_end("AwsReloaded", why);
}

int
aws_reload(struct sw_config *cfg)
{
	int running = A.base != NULL, pending;

	if (running ? aws_same(A.a, &cfg->aws) : !aws_wanted(&cfg->aws))
		return 0;
	/* A push not yet landed is pushed again with the new settings. */
	pending = running && (A.pushing || evtimer_pending(A.push_ev, NULL));
	if (running) {
		aws_abandon("[aws] was reloaded (SIGHUP); ask again");
		aws_stop();
	}
	if (!aws_wanted(&cfg->aws)) {
		log_info("aws: reload: [aws] removed, the module stops");
		return 0;
	}
	log_info("aws: reload: [aws] changed, the module restarts with it");
	if (aws_start(rt.base, cfg) == -1)
		return -1;
	if (pending && cfg->aws.sync == AWS_SYNC_PUSH)
		aws_push_weights(cfg, NULL, NULL);
	return 0;
}
