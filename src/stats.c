/*
 * stats: 1-second history of the summed metrics, and their rendering.
 *
 * Control thread only.  The ring holds RING_LEN snapshots, each the full
 * sum of every worker's counters at a tick, with its monotonic time; the
 * newest is ring[head].  Windows are measured against real snapshot times,
 * so a late tick makes a window a little longer, never a rate wrong.
 * Scratch buffers are allocated once: a scrape allocates only its output.
 *
 * Beside the ring, each tick also keeps what the dashboard draws: one
 * small record per second for the last SEC_LEN seconds (the difference
 * between this snapshot and the one before, plus the gauges now), and the
 * last weight changes with their wall-clock times.  Both are fixed
 * arrays, filled in place.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "switchover/affinity.h"
#include "switchover/aws/aws.h"
#include "switchover/drain.h"
#include "switchover/emf.h"
#include "switchover/log.h"
#include "switchover/metrics.h"
#include "switchover/route.h"
#include "switchover/runtime.h"
#include "switchover/stats.h"

#define RING_LEN	61	/* always one snapshot at least 60 s old */
#define SEC_LEN		300	/* per-second history: 5 minutes */
#define WCHG_LEN	32	/* weight changes remembered */

/* Per-second series of one backend, in the order of sec_names[]. */
enum sec_field {
	SF_1XX, SF_2XX, SF_3XX, SF_4XX, SF_429, SF_5XX, SF_ERR,
	SF_P50, SF_P99, SF_CLIENTS, SF_UPSTREAM, SF_NEW, SF_REUSED,
	SF_PINNED, SF_MAX
};

/* JSON keys of the series; "4xx" counts no 429, "err" the proxy's own. */
static const char *const sec_names[SF_MAX] = {
	"1xx", "2xx", "3xx", "4xx", "429", "5xx", "err",
	"p50_us", "p99_us", "clients", "upstream", "new", "reused", "pinned"
};

/* One second of history: counts over dt_ms, gauges at t_ms. */
struct sec {
	int64_t		t_ms;		/* wall clock, ms since the epoch */
	uint32_t	dt_ms;		/* since the record before */
	uint32_t	accepted;	/* client connections accepted */
	uint32_t	drain_pending;	/* marked by a drain, still open */
	uint32_t	v[SW_MAX_BACKENDS][SF_MAX];	/* by metric slot */
};

/* A weight change: the weights after it, by metric slot (-1: none). */
struct wchg {
	int64_t		t_ms;
	int		w[SW_MAX_BACKENDS];
};

struct snap {
	double			 t;
	struct worker_metrics	*m;
};

/* What one rendering reads: totals and two windows. */
struct view {
	const struct sw_config		*c;
	char				 listen[256];	/* every listener's address */
	const struct worker_metrics	*all;		/* since start */
	const struct worker_metrics	*w10, *w60;
	const struct route_table	*routes;	/* since start */
	double				 s10, s60;	/* their lengths */
	double				 uptime;
};

static struct {
	struct event		*timer;
	struct snap		 ring[RING_LEN];
	size_t			 head, n;
	double			 t0;
	struct worker_metrics	*live, *w10, *w60, *dlt;
	struct route_table	*routes;	/* live, summed on demand */
	struct sec		*secs;		/* SEC_LEN, newest at sh */
	size_t			 sh, sn;
	struct wchg		 wchg[WCHG_LEN];	/* newest at wh */
	size_t			 wh, wn;
} st;

/* Monotonic seconds. */
static double
mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Make room for one more snapshot at time t; returns where to write it. */
static struct worker_metrics *
ring_next(double t)
{
	st.head = (st.head + 1) % RING_LEN;
	if (st.n < RING_LEN)
		st.n++;
	st.ring[st.head].t = t;
	return st.ring[st.head].m;
}

/* The newest snapshot at least secs older than now, else the oldest. */
static const struct snap *
ring_ago(double now, double secs)
{
	for (size_t k = 0; k < st.n; k++) {
		const struct snap *s = &st.ring[(st.head + RING_LEN - k) %
		    RING_LEN];

		if (now - s->t >= secs)
			return s;
	}
	return &st.ring[(st.head + RING_LEN - (st.n - 1)) % RING_LEN];
}

/* Wall-clock milliseconds since the epoch. */
static int64_t
wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* n, or the largest uint32_t when it does not fit. */
static uint32_t
u32(uint64_t n)
{
	return n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
}

/*
 * A gauge kept as two counters (opened - closed).  They are read one
 * after the other while workers run, so the later may be a step ahead.
 */
static uint64_t
gauge(uint64_t up, uint64_t down)
{
	return up > down ? up - down : 0;
}

/*
 * Append one second of history: what happened from snapshot a to the
 * later snapshot b (taken at wall-clock time t_ms), with pinned[slot]
 * search contexts live now.
 */
static void
sec_record(const struct snap *a, const struct snap *b, int64_t t_ms,
    const uint64_t *pinned)
{
	const struct worker_metrics	*now = b->m, *d = st.dlt;
	struct sec			*s;

	metrics_sub(st.dlt, b->m, a->m);
	st.sh = (st.sh + 1) % SEC_LEN;
	if (st.sn < SEC_LEN)
		st.sn++;
	s = &st.secs[st.sh];
	s->t_ms = t_ms;
	s->dt_ms = u32((uint64_t)llround((b->t - a->t) * 1000));
	s->accepted = u32(d->l.conns_accepted);
	s->drain_pending = u32(gauge(now->l.drain_marked,
	    now->l.drain_unmarked));
	for (size_t i = 0; i < SW_MAX_BACKENDS; i++) {
		const struct backend_metrics	*db = &d->b[i], *nb = &now->b[i];
		uint32_t			*v = s->v[i];
		uint64_t			 err = 0;

		for (int e = 0; e < PERR_MAX; e++)
			err += db->errors[e];
		v[SF_1XX] = u32(db->responses[0]);
		v[SF_2XX] = u32(db->responses[1]);
		v[SF_3XX] = u32(db->responses[2]);
		/* Read a moment apart from 4xx: never let it go below 0. */
		v[SF_4XX] = u32(gauge(db->responses[3], db->responses_429));
		v[SF_429] = u32(db->responses_429);
		v[SF_5XX] = u32(db->responses[4]);
		v[SF_ERR] = u32(err);
		v[SF_P50] = u32(hist_quantile(&db->latency, 0.50));
		v[SF_P99] = u32(hist_quantile(&db->latency, 0.99));
		v[SF_CLIENTS] = u32(gauge(nb->clients_bound,
		    nb->clients_unbound));
		v[SF_UPSTREAM] = u32(gauge(nb->conns_opened, nb->conns_closed));
		v[SF_NEW] = u32(db->conns_opened);
		v[SF_REUSED] = u32(db->conns_reused);
		v[SF_PINNED] = u32(pinned[i]);
	}
}

/* Remember c's weights as changed at t_ms. */
static void
wchg_record(const struct sw_config *c, int64_t t_ms)
{
	struct wchg *w;

	st.wh = (st.wh + 1) % WCHG_LEN;
	if (st.wn < WCHG_LEN)
		st.wn++;
	w = &st.wchg[st.wh];
	w->t_ms = t_ms;
	for (size_t i = 0; i < SW_MAX_BACKENDS; i++)
		w->w[i] = -1;
	for (size_t i = 0; i < c->nbackends; i++)
		if (c->backends[i].metric_slot >= 0)
			w->w[c->backends[i].metric_slot] = c->backends[i].weight;
}

/* Publish hook: note the moment the weights changed. */
static void
on_publish(const struct sw_config *old, const struct sw_config *cur,
    void *arg)
{
	if (old != NULL && runtime_weights_changed(old, cur))
		wchg_record(cur, wall_ms());
}

/* The 1 s timer: snapshot the workers' sum, and keep a second of history. */
static void
tick_cb(evutil_socket_t fd, short what, void *arg)
{
	const struct snap	*prev = &st.ring[st.head];
	uint64_t		 pinned[SW_MAX_BACKENDS];

	runtime_metrics(ring_next(mono_now()));
	affinity_count(pinned, SW_MAX_BACKENDS);
	sec_record(prev, &st.ring[st.head], wall_ms(), pinned);
}

int
stats_start(struct event_base *base)
{
	const struct timeval one = { 1, 0 };

	for (size_t i = 0; i < RING_LEN; i++)
		if ((st.ring[i].m = calloc(1, sizeof(*st.ring[i].m))) == NULL)
			goto fail;
	if ((st.live = calloc(1, sizeof(*st.live))) == NULL ||
	    (st.routes = metrics_route_table_new()) == NULL ||
	    (st.w10 = calloc(1, sizeof(*st.w10))) == NULL ||
	    (st.w60 = calloc(1, sizeof(*st.w60))) == NULL ||
	    (st.dlt = calloc(1, sizeof(*st.dlt))) == NULL ||
	    (st.secs = calloc(SEC_LEN, sizeof(*st.secs))) == NULL)
		goto fail;
	st.t0 = mono_now();
	st.head = RING_LEN - 1;
	st.n = 0;
	runtime_metrics(ring_next(st.t0));
	if (base != NULL && ((st.timer = event_new(base, -1, EV_PERSIST,
	    tick_cb, NULL)) == NULL || event_add(st.timer, &one) == -1 ||
	    runtime_on_publish(on_publish, NULL) == -1))
		goto fail;
	return 0;
fail:
	stats_stop();
	return -1;
}

void
stats_stop(void)
{
	if (st.timer != NULL)
		event_free(st.timer);
	for (size_t i = 0; i < RING_LEN; i++)
		free(st.ring[i].m);
	free(st.live);
	metrics_route_table_free(st.routes);
	free(st.w10);
	free(st.w60);
	free(st.dlt);
	free(st.secs);
	memset(&st, 0, sizeof(st));
}

/* Fill v from the totals `all` read at time now, and the ring. */
static void
view_fill(struct view *v, const struct sw_config *c,
    const struct worker_metrics *all, double now)
{
	const struct snap *s10 = ring_ago(now, 10), *s60 = ring_ago(now, 60);

	metrics_sub(st.w10, all, s10->m);
	metrics_sub(st.w60, all, s60->m);
	v->c = c;
	/* Listener counters are per worker, not per listener: label them with
	 * every address they cover. */
	v->listen[0] = '\0';
	for (size_t i = 0; i < c->nlisteners; i++) {
		size_t len = strlen(v->listen);

		snprintf(v->listen + len, sizeof(v->listen) - len, "%s%s",
		    i ? "," : "", c->listeners[i].address);
	}
	v->all = all;
	v->routes = st.routes;
	v->w10 = st.w10;
	v->w60 = st.w60;
	v->s10 = now - s10->t;
	v->s60 = now - s60->t;
	v->uptime = now - st.t0;
}

/* Per second over a window of secs (0 for an empty window). */
static double
rate(uint64_t n, double secs)
{
	return secs > 0 ? (double)n / secs : 0;
}

/* {"count":N,"p50":ms,"p90":ms,"p99":ms,"max":ms} */
static json_t *
latency_json(const struct hist *h)
{
	return json_pack("{s:I, s:f, s:f, s:f, s:f}", "count",
	    (json_int_t)h->count,
	    "p50", (double)hist_quantile(h, 0.50) / 1000,
	    "p90", (double)hist_quantile(h, 0.90) / 1000,
	    "p99", (double)hist_quantile(h, 0.99) / 1000,
	    "max", (double)h->max_us / 1000);
}

/* {"1xx":n,...,"5xx":n}: rates over secs, or counts when secs is 0. */
static json_t *
classes_json(const uint64_t r[5], double secs)
{
	json_t *o = json_object();

	for (int i = 0; o != NULL && i < 5; i++) {
		char k[4] = { (char)('1' + i), 'x', 'x', '\0' };

		json_object_set_new(o, k, secs > 0 ? json_real(rate(r[i], secs)) :
		    json_integer((json_int_t)r[i]));
	}
	return o;
}

/* Everything /stats says about one backend. */
static json_t *
backend_json(const struct view *v, const struct sw_backend *be, int wsum)
{
	const struct backend_metrics	*a = &v->all->b[be->metric_slot];
	const struct backend_metrics	*w = &v->w10->b[be->metric_slot];
	const struct backend_metrics	*w60 = &v->w60->b[be->metric_slot];
	json_t				*errs = json_object(), *o;
	uint64_t			 nerr = 0;

	for (int e = 0; errs != NULL && e < PERR_MAX; e++) {
		json_object_set_new(errs, metrics_error_name(e),
		    json_integer((json_int_t)a->errors[e]));
		nerr += w->errors[e];
	}
	o = json_pack("{s:i, s:f, s:I, s:o, s:o, s:I,"
	    " s:{s:o, s:o},"
	    " s:{s:I, s:I, s:I},"
	    " s:{s:I, s:I},"
	    " s:{s:f, s:f, s:o, s:f, s:f, s:f}}",
	    "weight", be->weight,
	    "share_configured", wsum ? (double)be->weight / wsum : 0.0,
	    "requests", (json_int_t)a->requests,
	    "responses", classes_json(a->responses, 0),
	    "errors", errs,
	    "retries", (json_int_t)a->retries,
	    "latency_ms",
		"last_60s", latency_json(&w60->latency),
		"since_start", latency_json(&a->latency),
	    "upstream_connections",
		"active", (json_int_t)gauge(a->conns_opened, a->conns_closed),
		"opened", (json_int_t)a->conns_opened,
		"reused", (json_int_t)a->conns_reused,
	    "bytes",
		"sent", (json_int_t)a->bytes_up,
		"received", (json_int_t)a->bytes_down,
	    "per_second_10s",
		"window", v->s10,
		"requests", rate(w->requests, v->s10),
		"responses", classes_json(w->responses, v->s10),
		"errors", rate(nerr, v->s10),
		"connections_opened", rate(w->conns_opened, v->s10),
		"connections_reused", rate(w->conns_reused, v->s10));
	/* Client connections whose backend this is (drain moves them). */
	json_object_set_new(o, "client_connections", json_integer((json_int_t)
	    gauge(a->clients_bound, a->clients_unbound)));
	json_object_set_new(o, "affinity_hits",
	    json_integer((json_int_t)a->affinity_hits));
	json_object_set_new(o, "responses_429",
	    json_integer((json_int_t)a->responses_429));
	json_object_set_new(o, "tls_failures",
	    json_integer((json_int_t)a->tls_failures));
	return o;
}

/* What /stats says about one route's answers from one backend. */
static json_t *
route_backend_json(const struct route_metrics *r, int weight)
{
	return json_pack("{s:i, s:I, s:o, s:I, s:o}",
	    "weight", weight,
	    "requests", (json_int_t)r->requests,
	    "responses", classes_json(r->responses, 0),
	    "responses_429", (json_int_t)r->responses_429,
	    "latency_ms", latency_json(&r->latency));
}

/*
 * {"default":{"source":{...},...},"reads":{...}}: every route of c (the
 * default one first) by backend, counted since start.  Routes a reload
 * removed are not shown; their slots keep counting if they come back.
 */
static json_t *
routes_json(const struct view *v)
{
	const struct sw_config	*c = v->c;
	json_t			*o = json_object();
	int			 w[SW_MAX_BACKENDS];

	for (int ri = -1; o != NULL && ri < (int)c->nroutes; ri++) {
		json_t	*r = json_object();
		int	 rs = route_slot(c, ri);

		route_weights(c, ri, w);
		for (size_t i = 0; r != NULL && i < c->nbackends; i++) {
			const struct route_metrics *m = metrics_route_get(
			    v->routes, rs, c->backends[i].metric_slot);

			if (m != NULL)
				json_object_set_new(r, c->backends[i].name,
				    route_backend_json(m, w[i]));
		}
		json_object_set_new(o, ri < 0 ? "default" : c->routes[ri].name,
		    r);
	}
	return o;
}

/* {"source":0.75,...}: each backend's share of requests in m, or null. */
static json_t *
split_json(const struct sw_config *c, const struct worker_metrics *m)
{
	json_t		*o = json_object();
	uint64_t	 total = 0;

	for (size_t i = 0; i < c->nbackends; i++)
		total += m->b[c->backends[i].metric_slot].requests;
	for (size_t i = 0; o != NULL && i < c->nbackends; i++) {
		uint64_t n = m->b[c->backends[i].metric_slot].requests;

		json_object_set_new(o, c->backends[i].name, total ?
		    json_real((double)n / (double)total) : json_null());
	}
	return o;
}

/* The one listener's connections and requests. */
static json_t *
listener_json(const struct view *v)
{
	const struct listener_metrics	*l = &v->all->l;
	json_t				*closed = json_object();

	for (int r = 0; closed != NULL && r < CLOSE_MAX; r++)
		json_object_set_new(closed, metrics_close_name(r),
		    json_integer((json_int_t)l->closed_by[r]));
	return json_pack("{s:s, s:I, s:I, s:f, s:I, s:I, s:I, s:I, s:I, s:I,"
	    " s:I, s:I, s:o}",
	    "address", v->listen,
	    "connections_active", (json_int_t)gauge(l->conns_accepted,
		l->conns_closed),
	    "connections_new", (json_int_t)l->conns_accepted,
	    "connections_new_per_second_10s", rate(v->w10->l.conns_accepted,
		v->s10),
	    "requests", (json_int_t)l->requests,
	    "requests_reused", (json_int_t)l->requests_reused,
	    "bad_requests", (json_int_t)l->bad_requests,
	    "accept_paused", (json_int_t)l->accept_paused,
	    "tls_handshake_failures", (json_int_t)l->tls_handshake_failures,
	    "connections_pending_drain", (json_int_t)gauge(l->drain_marked,
		l->drain_unmarked),
	    "affinity_ids_learned", (json_int_t)l->affinity_learned,
	    "affinity_unreadable", (json_int_t)l->affinity_unreadable,
	    "closed", closed);
}

/* The /stats document for a filled view. */
static json_t *
view_json(const struct view *v)
{
	const struct sw_config	*c = v->c;
	json_t			*bes = json_object(), *conf = json_object(), *doc;
	struct drain_stats	 ds;
	int			 wsum = 0;

	for (size_t i = 0; i < c->nbackends; i++)
		wsum += c->backends[i].weight;
	for (size_t i = 0; bes != NULL && conf != NULL && i < c->nbackends;
	    i++) {
		const struct sw_backend *be = &c->backends[i];

		json_object_set_new(bes, be->name, backend_json(v, be, wsum));
		json_object_set_new(conf, be->name,
		    json_real(wsum ? (double)be->weight / wsum : 0));
	}
	drain_stats(&ds);
	doc = json_pack("{s:f, s:o, s:[o], s:{s:o, s:o, s:o, s:f, s:f},"
	    " s:{s:i, s:I, s:I}}",
	    "uptime_seconds", v->uptime,
	    "backends", bes,
	    "listeners", listener_json(v),
	    "split",
		"configured", conf,
		"last_10s", split_json(c, v->w10),
		"last_60s", split_json(c, v->w60),
		"window_10s", v->s10,
		"window_60s", v->s60,
	    "drain",
		"spread_ms", c->drain_spread_ms,
		"drains", (json_int_t)ds.drains,
		"connections_pending", (json_int_t)ds.pending);
	/* Only with [aws]: switchoverctl learns from it that AWS is on. */
	if (doc != NULL && aws_enabled())
		json_object_set_new(doc, "aws", aws_status_json());
	/* Only with [route] sections: otherwise the default is everything. */
	if (doc != NULL && c->nroutes > 0)
		json_object_set_new(doc, "routes", routes_json(v));
	return doc;
}

double
stats_window(double secs, struct worker_metrics *out)
{
	double			 now = mono_now();
	const struct snap	*s = ring_ago(now, secs);

	runtime_metrics(st.live);
	metrics_sub(out, st.live, s->m);
	return now - s->t;
}

json_t *
stats_json(const struct sw_config *c)
{
	struct view v;

	runtime_metrics(st.live);
	if (c->nroutes > 0)
		runtime_route_metrics(st.routes);
	view_fill(&v, c, st.live, mono_now());
	return view_json(&v);
}

/* [v(oldest), ..., v(newest)] over the last n records, one field each. */
#define SEC_ARRAY(arr, n, expr) do {					\
	for (size_t k_ = (n); (arr) != NULL && k_ > 0; k_--) {		\
		const struct sec *s = &st.secs[(st.sh + SEC_LEN - (k_ - 1)) % \
		    SEC_LEN];						\
									\
		json_array_append_new((arr), json_integer((json_int_t)(expr))); \
	}								\
} while (0)

/* The last n seconds of history for c's backends. */
static json_t *
history_json(const struct sw_config *c, size_t n)
{
	json_t *h, *bes = json_object(), *t = json_array(), *dt = json_array(),
	    *acc = json_array(), *dp = json_array();

	SEC_ARRAY(t, n, s->t_ms);
	SEC_ARRAY(dt, n, s->dt_ms);
	SEC_ARRAY(acc, n, s->accepted);
	SEC_ARRAY(dp, n, s->drain_pending);
	for (size_t i = 0; bes != NULL && i < c->nbackends; i++) {
		int	 slot = c->backends[i].metric_slot;
		json_t	*b = json_object();

		for (int f = 0; b != NULL && slot >= 0 && f < SF_MAX; f++) {
			json_t *a = json_array();

			SEC_ARRAY(a, n, s->v[slot][f]);
			json_object_set_new(b, sec_names[f], a);
		}
		json_object_set_new(bes, c->backends[i].name, b);
	}
	h = json_pack("{s:o, s:o, s:o, s:o, s:o}", "t", t, "dt", dt,
	    "accepted", acc, "drain_pending", dp, "backends", bes);
	return h;
}
#undef SEC_ARRAY

/* [{"t":ms,"weights":{...}}, ...]: the remembered changes, oldest first. */
static json_t *
wchg_json(const struct sw_config *c)
{
	json_t *a = json_array();

	for (size_t k = st.wn; a != NULL && k > 0; k--) {
		const struct wchg	*w = &st.wchg[(st.wh + WCHG_LEN -
					    (k - 1)) % WCHG_LEN];
		json_t			*ws = json_object();

		for (size_t i = 0; ws != NULL && i < c->nbackends; i++) {
			int slot = c->backends[i].metric_slot;

			if (slot >= 0 && w->w[slot] >= 0)
				json_object_set_new(ws, c->backends[i].name,
				    json_integer(w->w[slot]));
		}
		json_array_append_new(a, json_pack("{s:I, s:o}", "t",
		    (json_int_t)w->t_ms, "weights", ws));
	}
	return a;
}

int
stats_add_history(json_t *doc, const struct sw_config *c, int secs)
{
	size_t n = secs < 0 ? 0 : (size_t)secs;

	if (n > st.sn)
		n = st.sn;
	if (doc == NULL || json_object_set_new(doc, "history",
	    history_json(c, n)) == -1 || json_object_set_new(doc,
	    "weight_changes", wchg_json(c)) == -1 || json_object_set_new(doc,
	    "now_ms", json_integer((json_int_t)wall_ms())) == -1)
		return -1;
	return 0;
}

/* ---- Prometheus text format ---------------------------------------------- */

/* "# HELP" and "# TYPE" lines of one metric family. */
static void
prom_family(struct evbuffer *out, const char *name, const char *type,
    const char *help)
{
	evbuffer_add_printf(out, "# HELP switchover_%s %s\n"
	    "# TYPE switchover_%s %s\n", name, help, name, type);
}

/* The backend_metrics counter at offset off of backend be. */
static uint64_t
backend_field(const struct view *v, const struct sw_backend *be, size_t off)
{
	return *(const uint64_t *)(const void *)
	    ((const char *)&v->all->b[be->metric_slot] + off);
}

/* One backend-labelled counter family, one line per backend. */
static void
prom_backend_counter(struct evbuffer *out, const struct view *v,
    const char *name, const char *help, size_t off)
{
	prom_family(out, name, "counter", help);
	for (size_t i = 0; i < v->c->nbackends; i++)
		evbuffer_add_printf(out, "switchover_%s{backend=\"%s\"} %llu\n",
		    name, v->c->backends[i].name, (unsigned long long)
		    backend_field(v, &v->c->backends[i], off));
}

/* A backend-labelled gauge kept as counters up - down. */
static void
prom_backend_gauge(struct evbuffer *out, const struct view *v,
    const char *name, const char *help, size_t up, size_t down)
{
	prom_family(out, name, "gauge", help);
	for (size_t i = 0; i < v->c->nbackends; i++) {
		const struct sw_backend *be = &v->c->backends[i];

		evbuffer_add_printf(out, "switchover_%s{backend=\"%s\"} %llu\n",
		    name, be->name, (unsigned long long)gauge(backend_field(v,
		    be, up), backend_field(v, be, down)));
	}
}

/*
 * One latency histogram in seconds, labelled by labels ("backend=\"x\"").
 * Latencies are whole microseconds and every 2^k us is a bucket boundary,
 * so "le = (2^k - 1) us" counts exactly the requests faster than 2^k us:
 * no estimate in any bucket.
 */
static void
prom_hist(struct evbuffer *out, const char *name, const char *labels,
    const struct hist *h)
{
	uint64_t	cum = 0;
	size_t		idx = 0;

	for (int k = 7; k <= 26; k++) {		/* 128 us .. 67 s */
		size_t top = hist_index((1ULL << k) - 1);

		for (; idx <= top; idx++)
			cum += h->b[idx];
		evbuffer_add_printf(out, "switchover_%s_bucket{%s,le=\"%.6f\"} "
		    "%llu\n", name, labels, (double)((1ULL << k) - 1) / 1e6,
		    (unsigned long long)cum);
	}
	for (; idx < HIST_BUCKETS; idx++)
		cum += h->b[idx];
	/* Counted from the buckets, so +Inf and _count always agree. */
	evbuffer_add_printf(out, "switchover_%s_bucket{%s,le=\"+Inf\"} %llu\n"
	    "switchover_%s_sum{%s} %.6f\n"
	    "switchover_%s_count{%s} %llu\n",
	    name, labels, (unsigned long long)cum,
	    name, labels, (double)h->sum_us / 1e6,
	    name, labels, (unsigned long long)cum);
}

/* The per-backend latency histogram. */
static void
prom_histogram(struct evbuffer *out, const struct view *v)
{
	const char	*name = "backend_request_duration_seconds";
	char		 labels[128];

	prom_family(out, name, "histogram",
	    "Time from request start to response end, per backend.");
	for (size_t i = 0; i < v->c->nbackends; i++) {
		const struct sw_backend *be = &v->c->backends[i];

		snprintf(labels, sizeof(labels), "backend=\"%s\"", be->name);
		prom_hist(out, name, labels, &v->all->b[be->metric_slot].latency);
	}
}

/*
 * The route cell of route index ri (-1: default) and backend i, and its
 * labels ("route=\"reads\",backend=\"target\""); NULL without one.
 */
static const struct route_metrics *
prom_route_cell(const struct view *v, int ri, size_t i, char *labels,
    size_t len)
{
	const struct sw_config *c = v->c;

	snprintf(labels, len, "route=\"%s\",backend=\"%s\"",
	    ri < 0 ? "default" : c->routes[ri].name, c->backends[i].name);
	return metrics_route_get(v->routes, route_slot(c, ri),
	    c->backends[i].metric_slot);
}

/* The route-labelled families, when there are [route] sections. */
static void
prom_routes(struct evbuffer *out, const struct view *v)
{
	const struct sw_config		*c = v->c;
	const struct route_metrics	*m;
	char				 lb[256];
	int				 w[SW_MAX_BACKENDS];

#define EACH_CELL(body) do {						\
	for (int ri = -1; ri < (int)c->nroutes; ri++)			\
		for (size_t i = 0; i < c->nbackends; i++)		\
			if ((m = prom_route_cell(v, ri, i, lb,		\
			    sizeof(lb))) != NULL)			\
				body;					\
} while (0)
	if (c->nroutes == 0)
		return;
	prom_family(out, "route_weight", "gauge",
	    "A route's weight of a backend (0-999; route \"default\" is the "
	    "backends' own).");
	for (int ri = -1; ri < (int)c->nroutes; ri++) {
		route_weights(c, ri, w);
		for (size_t i = 0; i < c->nbackends; i++)
			if (prom_route_cell(v, ri, i, lb, sizeof(lb)) != NULL)
				evbuffer_add_printf(out, "switchover_route_weight"
				    "{%s} %d\n", lb, w[i]);
	}
	prom_family(out, "route_requests_total", "counter",
	    "Requests of a route answered, by backend (the proxy's own answers "
	    "included).");
	EACH_CELL(evbuffer_add_printf(out, "switchover_route_requests_total{%s}"
	    " %llu\n", lb, (unsigned long long)m->requests));
	prom_family(out, "route_responses_total", "counter",
	    "Responses of a route by status class, the proxy's own included.");
	EACH_CELL(for (int k = 0; k < 5; k++)
		evbuffer_add_printf(out, "switchover_route_responses_total{%s,"
		    "code_class=\"%dxx\"} %llu\n", lb, k + 1,
		    (unsigned long long)m->responses[k]));
	prom_family(out, "route_responses_429_total", "counter",
	    "Responses of a route with status 429 (also in 4xx).");
	EACH_CELL(evbuffer_add_printf(out, "switchover_route_responses_429_total"
	    "{%s} %llu\n", lb, (unsigned long long)m->responses_429));
	prom_family(out, "route_request_duration_seconds", "histogram",
	    "Time from request start to response end, per route and backend.");
	EACH_CELL(prom_hist(out, "route_request_duration_seconds", lb,
	    &m->latency));
#undef EACH_CELL
}

/* A family with one listener-labelled sample. */
static void
prom_listener_value(struct evbuffer *out, const char *name, const char *type,
    const char *help, const char *listener, uint64_t val)
{
	prom_family(out, name, type, help);
	evbuffer_add_printf(out, "switchover_%s{listener=\"%s\"} %llu\n", name,
	    listener, (unsigned long long)val);
}

/* Listener-labelled families. */
static void
prom_listener(struct evbuffer *out, const struct view *v)
{
	const struct listener_metrics	*l = &v->all->l;
	const char			*a = v->listen;

	prom_listener_value(out, "listener_connections", "gauge",
	    "Client connections open now.", a,
	    gauge(l->conns_accepted, l->conns_closed));
	prom_listener_value(out, "listener_connections_accepted_total",
	    "counter", "Client connections accepted.", a, l->conns_accepted);
	prom_listener_value(out, "listener_requests_total", "counter",
	    "Client requests received.", a, l->requests);
	prom_listener_value(out, "listener_requests_reused_total", "counter",
	    "Requests that were not the first on their connection.", a,
	    l->requests_reused);
	prom_listener_value(out, "listener_bad_requests_total", "counter",
	    "Requests refused as malformed, too slow or too large.", a,
	    l->bad_requests);
	prom_listener_value(out, "listener_tls_handshake_failures_total",
	    "counter", "Client TLS handshakes that failed.", a,
	    l->tls_handshake_failures);
	prom_listener_value(out, "listener_drain_pending_connections", "gauge",
	    "Client connections marked by a drain, not yet closed.", a,
	    gauge(l->drain_marked, l->drain_unmarked));
	prom_listener_value(out, "listener_affinity_ids_learned_total",
	    "counter", "Search context ids remembered.", a,
	    l->affinity_learned);
	prom_listener_value(out, "listener_affinity_unreadable_total",
	    "counter", "Bodies that may name a search context id but could "
	    "not be read (unknown or corrupt encoding, too large): affinity "
	    "not applied.", a, l->affinity_unreadable);
	prom_family(out, "listener_connections_closed_total", "counter",
	    "Client connections closed, by reason.");
	for (int r = 0; r < CLOSE_MAX; r++)
		evbuffer_add_printf(out, "switchover_listener_connections_"
		    "closed_total{listener=\"%s\",reason=\"%s\"} %llu\n", a,
		    metrics_close_name(r), (unsigned long long)l->closed_by[r]);
}

/* Drains, and the ALB push when AWS is configured. */
static void
prom_drain_aws(struct evbuffer *out)
{
	struct drain_stats	 ds;
	json_t			*aws, *push;
	const char		*state;

	drain_stats(&ds);
	prom_family(out, "drains_total", "counter",
	    "Drains started (by hand or by a weight dropping to 0).");
	evbuffer_add_printf(out, "switchover_drains_total %llu\n",
	    (unsigned long long)ds.drains);
	if (!aws_enabled() || (aws = aws_status_json()) == NULL)
		return;
	push = json_object_get(aws, "push");
	prom_family(out, "aws_push_failures", "gauge",
	    "ALB pushes that failed in a row (0 once one succeeds).");
	evbuffer_add_printf(out, "switchover_aws_push_failures %lld\n",
	    (long long)json_integer_value(json_object_get(push, "failures")));
	prom_family(out, "aws_push_retry_pending", "gauge",
	    "1 while a failed ALB push waits to be retried.");
	state = json_string_value(json_object_get(push, "state"));
	evbuffer_add_printf(out, "switchover_aws_push_retry_pending %d\n",
	    state != NULL && strcmp(state, "retry_wait") == 0);
	json_decref(aws);
}

/* The /metrics text for a filled view. */
static void
view_prometheus(struct evbuffer *out, const struct view *v)
{
	const struct sw_config	*c = v->c;
	uint64_t		 total = 0, emf_written, emf_dropped;

#define BOFF(f)	offsetof(struct backend_metrics, f)
	prom_family(out, "backend_weight", "gauge",
	    "Configured weight (0-999).");
	for (size_t i = 0; i < c->nbackends; i++)
		evbuffer_add_printf(out, "switchover_backend_weight{backend="
		    "\"%s\"} %d\n", c->backends[i].name, c->backends[i].weight);
	prom_family(out, "backend_share_10s_ratio", "gauge",
	    "Measured share of requests over the last 10 s.");
	for (size_t i = 0; i < c->nbackends; i++)
		total += v->w10->b[c->backends[i].metric_slot].requests;
	for (size_t i = 0; i < c->nbackends; i++)
		evbuffer_add_printf(out, "switchover_backend_share_10s_ratio{"
		    "backend=\"%s\"} %.6f\n", c->backends[i].name, total ?
		    (double)v->w10->b[c->backends[i].metric_slot].requests /
		    (double)total : 0.0);
	prom_backend_counter(out, v, "backend_requests_total",
	    "Requests routed to the backend.", BOFF(requests));
	prom_family(out, "backend_responses_total", "counter",
	    "Upstream responses by status class.");
	for (size_t i = 0; i < c->nbackends; i++)
		for (int k = 0; k < 5; k++)
			evbuffer_add_printf(out, "switchover_backend_responses_"
			    "total{backend=\"%s\",code_class=\"%dxx\"} %llu\n",
			    c->backends[i].name, k + 1, (unsigned long long)
			    v->all->b[c->backends[i].metric_slot].responses[k]);
	prom_family(out, "backend_errors_total", "counter",
	    "Error responses the proxy made itself, by kind.");
	for (size_t i = 0; i < c->nbackends; i++)
		for (int e = 0; e < PERR_MAX; e++)
			evbuffer_add_printf(out, "switchover_backend_errors_"
			    "total{backend=\"%s\",kind=\"%s\"} %llu\n",
			    c->backends[i].name, metrics_error_name(e),
			    (unsigned long long)
			    v->all->b[c->backends[i].metric_slot].errors[e]);
	prom_backend_counter(out, v, "backend_retries_total",
	    "Requests sent once more on a fresh connection.", BOFF(retries));
	prom_backend_gauge(out, v, "backend_upstream_connections",
	    "Upstream connections open now.", BOFF(conns_opened),
	    BOFF(conns_closed));
	prom_backend_counter(out, v, "backend_upstream_connections_opened_total",
	    "Upstream connections opened.", BOFF(conns_opened));
	prom_backend_counter(out, v, "backend_upstream_connections_reused_total",
	    "Requests sent on a pooled upstream connection.",
	    BOFF(conns_reused));
	prom_backend_gauge(out, v, "backend_client_connections",
	    "Client connections bound to the backend now (a drain moves them).",
	    BOFF(clients_bound), BOFF(clients_unbound));
	prom_backend_counter(out, v, "backend_affinity_hits_total",
	    "Requests routed by a search context id.", BOFF(affinity_hits));
	prom_backend_counter(out, v, "backend_tls_failures_total",
	    "TLS handshakes with the backend's servers that failed.",
	    BOFF(tls_failures));
	prom_backend_counter(out, v, "backend_sent_bytes_total",
	    "Request bytes sent to the backend.", BOFF(bytes_up));
	prom_backend_counter(out, v, "backend_received_bytes_total",
	    "Response bytes received from the backend.", BOFF(bytes_down));
#undef BOFF
	prom_histogram(out, v);
	prom_routes(out, v);
	prom_listener(out, v);
	prom_drain_aws(out);
	emf_counts(&emf_written, &emf_dropped);
	prom_family(out, "emf_lines_total", "counter",
	    "CloudWatch EMF lines ([cloudwatch]) written, and dropped.");
	evbuffer_add_printf(out, "switchover_emf_lines_total{result=\"written\"}"
	    " %llu\nswitchover_emf_lines_total{result=\"dropped\"} %llu\n",
	    (unsigned long long)emf_written, (unsigned long long)emf_dropped);
	prom_family(out, "uptime_seconds", "gauge",
	    "Seconds since the proxy started.");
	evbuffer_add_printf(out, "switchover_uptime_seconds %.3f\n", v->uptime);
}

void
stats_prometheus(struct evbuffer *out, const struct sw_config *c)
{
	struct view v;

	runtime_metrics(st.live);
	if (c->nroutes > 0)
		runtime_route_metrics(st.routes);
	view_fill(&v, c, st.live, mono_now());
	view_prometheus(out, &v);
}
