/*
 * Unit tests for stats: the history ring and its windows, and what /stats
 * and /metrics render from known counters.  Includes stats.c to drive the
 * ring with chosen times instead of a timer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <math.h>

#include "../../src/stats.c"

/* Equal within rounding: times are sums of large monotonic seconds. */
#define NEAR(a, b)	assert_true(fabs((double)(a) - (double)(b)) < 1e-6)

static const char conf[] =
    "[listener]\naddress = 127.0.0.1:9200\n"
    "[backend source]\nservers = 127.0.0.1:1\nweight = 3\n"
    "[backend target]\nservers = 127.0.0.1:2\nweight = 1\n";

/*
 * What the workers' sum looks like k seconds in: the source served 10/s
 * (8 2xx, 2 5xx), 10 slow (1 s) requests right at the start and the rest
 * fast (100 us); the target 5/s; the listener 3 new connections/s.
 */
static void
fill(struct worker_metrics *m, const struct sw_config *c, int k)
{
	struct backend_metrics *s = &m->b[c->backends[0].metric_slot];
	struct backend_metrics *t = &m->b[c->backends[1].metric_slot];

	memset(m, 0, sizeof(*m));
	s->requests = 10 * (uint64_t)k;
	s->responses[1] = 8 * (uint64_t)k;
	s->responses[4] = 2 * (uint64_t)k;
	for (int i = 0; i < 10 && k > 0; i++)
		hist_record(&s->latency, 1000000);
	for (int i = 0; i < 10 * k; i++)
		hist_record(&s->latency, 100);
	t->requests = 5 * (uint64_t)k;
	t->conns_opened = 2;
	t->conns_reused = 5 * (uint64_t)k - 2;
	m->l.conns_accepted = 3 * (uint64_t)k;
	m->l.conns_closed = 3 * (uint64_t)k - 4;
	m->l.closed_by[CLOSE_KEEPALIVE_TIMEOUT] = 3 * (uint64_t)k - 4;
	/* 7 clients bound to source now; target's counters caught mid-way
	 * (unbound read a step ahead of bound) must not wrap around. */
	s->clients_bound = 2 * (uint64_t)k + 7;
	s->clients_unbound = 2 * (uint64_t)k;
	t->clients_bound = (uint64_t)k;
	t->clients_unbound = (uint64_t)k + 1;
	s->affinity_hits = 4;
	t->tls_failures = 3;
	m->l.tls_handshake_failures = 2;
	m->l.drain_marked = 9;
	m->l.drain_unmarked = 5;
	m->l.affinity_learned = 6;
	m->l.affinity_unreadable = 8;
	m->l.closed_by[CLOSE_DRAIN] = 5;
}

struct fixture {
	struct sw_config	*c;
	struct worker_metrics	*live;
	double			 now;
};

/* 70 seconds of history (the ring wraps), then "now" half a second on. */
static int
setup(void **state)
{
	struct fixture		*f = calloc(1, sizeof(*f));
	struct config_errors	 e = { 0 };

	if (f == NULL || (f->c = config_parse("t.conf", conf, strlen(conf),
	    &e)) == NULL || runtime_assign_slots(f->c) == -1 ||
	    stats_start(NULL) == -1 ||
	    (f->live = calloc(1, sizeof(*f->live))) == NULL)
		return -1;
	/* A round start keeps the times below exact in binary. */
	st.t0 = 1000;
	st.ring[st.head].t = st.t0;
	for (int k = 1; k <= 70; k++)
		fill(ring_next(st.t0 + k), f->c, k);
	fill(f->live, f->c, 71);
	f->now = st.t0 + 70.5;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	stats_stop();
	config_unref(f->c);
	free(f->live);
	free(f);
	return 0;
}

static void
test_ring_ago(void **state)
{
	struct fixture *f = *state;

	/* The newest snapshot at least that old. */
	assert_true(ring_ago(f->now, 10)->t == st.t0 + 60);
	assert_true(ring_ago(f->now, 60)->t == st.t0 + 10);
	assert_true(ring_ago(f->now, 0)->t == st.t0 + 70);
	/* Older than the ring holds: the oldest it has. */
	assert_true(ring_ago(f->now, 1000)->t == st.t0 + 10);
}

/* A number at a path of keys. */
static double
at(json_t *doc, ...)
{
	va_list		 ap;
	const char	*k;

	va_start(ap, doc);
	while ((k = va_arg(ap, const char *)) != NULL) {
		doc = json_object_get(doc, k);
		assert_non_null(doc);
	}
	va_end(ap);
	return json_number_value(doc);
}

static void
test_json(void **state)
{
	struct fixture	*f = *state;
	struct view	 v;
	json_t		*d, *s;

	view_fill(&v, f->c, f->live, f->now);
	NEAR(v.s10, 10.5);
	NEAR(v.s60, 60.5);
	assert_non_null(d = view_json(&v));
	s = json_object_get(json_object_get(d, "backends"), "source");
	assert_non_null(s);
	assert_int_equal(at(s, "weight", NULL), 3);
	assert_int_equal(at(s, "requests", NULL), 710);
	assert_int_equal(at(s, "responses", "2xx", NULL), 568);
	assert_int_equal(at(s, "responses", "5xx", NULL), 142);
	NEAR(at(s, "share_configured", NULL), 0.75);
	/* 110 requests in the last 10.5 s. */
	NEAR(at(s, "per_second_10s", "requests", NULL), 110 / 10.5);
	NEAR(at(s, "per_second_10s", "responses", "5xx", NULL), 22 / 10.5);
	/* The slow start is outside the 60 s window, inside since-start. */
	assert_int_equal(at(s, "latency_ms", "last_60s", "count", NULL), 610);
	assert_true(at(s, "latency_ms", "last_60s", "p99", NULL) <= 0.113);
	assert_true(at(s, "latency_ms", "last_60s", "max", NULL) < 1);
	NEAR(at(s, "latency_ms", "since_start", "max", NULL), 1000);
	assert_true(at(s, "latency_ms", "since_start", "p99", NULL) >= 1000);
	assert_int_equal(at(d, "backends", "target", "upstream_connections",
	    "reused", NULL), 353);
	/* Measured split: 110 : 55 over 10 s, beside the configured 3 : 1. */
	NEAR(at(d, "split", "last_10s", "source", NULL), 110.0 / 165);
	NEAR(at(d, "split", "configured", "target", NULL), 0.25);
	s = json_array_get(json_object_get(d, "listeners"), 0);
	assert_int_equal(at(s, "connections_active", NULL), 4);
	assert_int_equal(at(s, "connections_new", NULL), 213);
	assert_int_equal(at(s, "closed", "keepalive_timeout", NULL), 209);
	assert_int_equal(at(s, "closed", "drain", NULL), 5);
	assert_int_equal(at(s, "tls_handshake_failures", NULL), 2);
	assert_int_equal(at(s, "connections_pending_drain", NULL), 4);
	assert_int_equal(at(s, "affinity_ids_learned", NULL), 6);
	assert_int_equal(at(s, "affinity_unreadable", NULL), 8);
	s = json_object_get(d, "backends");
	assert_int_equal(at(s, "source", "client_connections", NULL), 7);
	assert_int_equal(at(s, "target", "client_connections", NULL), 0);
	assert_int_equal(at(s, "source", "affinity_hits", NULL), 4);
	assert_int_equal(at(s, "target", "tls_failures", NULL), 3);
	/* No workers here: no drain ran; no [aws]: no "aws" object. */
	assert_int_equal(at(d, "drain", "drains", NULL), 0);
	assert_non_null(json_object_get(json_object_get(d, "drain"),
	    "spread_ms"));
	assert_null(json_object_get(d, "aws"));
	json_decref(d);
}

/* The value on the line that starts with prefix, or -1. */
static double
metric(const char *text, const char *prefix)
{
	const char *p = text;
	size_t n = strlen(prefix);

	while ((p = strstr(p, prefix)) != NULL) {
		if ((p == text || p[-1] == '\n') && p[n] == ' ')
			return strtod(p + n + 1, NULL);
		p += n;
	}
	return -1;
}

static void
test_prometheus(void **state)
{
	struct fixture	*f = *state;
	struct view	 v;
	struct evbuffer	*b = evbuffer_new();
	char		*text, *line, *save = NULL;
	double		 prev = -1;
	int		 nbuckets = 0;
	size_t		 len;

	view_fill(&v, f->c, f->live, f->now);
	view_prometheus(b, &v);
	len = evbuffer_get_length(b);
	text = calloc(1, len + 1);
	evbuffer_remove(b, text, len);
	evbuffer_free(b);
	assert_true(metric(text, "switchover_backend_requests_total{backend="
	    "\"source\"}") == 710);
	assert_true(metric(text, "switchover_backend_responses_total{backend="
	    "\"source\",code_class=\"5xx\"}") == 142);
	assert_true(metric(text, "switchover_backend_weight{backend="
	    "\"target\"}") == 1);
	/* 100 us <= 127 us: every fast one; 1 s <= 1.048575 s: all. */
	assert_true(metric(text, "switchover_backend_request_duration_seconds_"
	    "bucket{backend=\"source\",le=\"0.000127\"}") == 710);
	assert_true(metric(text, "switchover_backend_request_duration_seconds_"
	    "bucket{backend=\"source\",le=\"0.524287\"}") == 710);
	assert_true(metric(text, "switchover_backend_request_duration_seconds_"
	    "bucket{backend=\"source\",le=\"1.048575\"}") == 720);
	assert_true(metric(text, "switchover_backend_request_duration_seconds_"
	    "count{backend=\"source\"}") == 720);
	NEAR(metric(text, "switchover_backend_request_duration_seconds_"
	    "sum{backend=\"source\"}"), 10 + 710 * 0.0001);
	assert_true(metric(text, "switchover_listener_connections_closed_total{"
	    "listener=\"127.0.0.1:9200\",reason=\"keepalive_timeout\"}") ==
	    209);
	assert_true(metric(text, "switchover_backend_client_connections{"
	    "backend=\"source\"}") == 7);
	assert_true(metric(text, "switchover_backend_client_connections{"
	    "backend=\"target\"}") == 0);
	assert_true(metric(text, "switchover_backend_affinity_hits_total{"
	    "backend=\"source\"}") == 4);
	assert_true(metric(text, "switchover_backend_tls_failures_total{"
	    "backend=\"target\"}") == 3);
	assert_true(metric(text, "switchover_listener_tls_handshake_failures_"
	    "total{listener=\"127.0.0.1:9200\"}") == 2);
	assert_true(metric(text, "switchover_listener_drain_pending_"
	    "connections{listener=\"127.0.0.1:9200\"}") == 4);
	assert_true(metric(text, "switchover_listener_affinity_ids_learned_"
	    "total{listener=\"127.0.0.1:9200\"}") == 6);
	assert_true(metric(text, "switchover_listener_affinity_unreadable_"
	    "total{listener=\"127.0.0.1:9200\"}") == 8);
	assert_true(metric(text, "switchover_drains_total") == 0);
	assert_true(metric(text, "switchover_aws_push_failures") == -1);
	/* Buckets never decrease and end in +Inf = _count. */
	for (line = strtok_r(text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "switchover_backend_request_duration_seconds_"
		    "bucket{backend=\"source\"", 66) != 0)
			continue;
		double val = strtod(strrchr(line, ' ') + 1, NULL);
		assert_true(val >= prev);
		prev = val;
		nbuckets++;
	}
	assert_int_equal(nbuckets, 21);
	assert_true(prev == 720);
	free(text);
}

/* The array at history.backends.NAME.KEY (or history.KEY without name). */
static json_t *
series(json_t *doc, const char *name, const char *key)
{
	json_t *h = json_object_get(doc, "history");

	if (name != NULL)
		h = json_object_get(json_object_get(h, "backends"), name);
	h = json_object_get(h, key);
	assert_true(json_is_array(h));
	return h;
}

#define ITEM(a, i)	json_integer_value(json_array_get((a), (i)))

/*
 * One second of history is the difference of two snapshots: 429 apart
 * from the other 4xx, the proxy's own errors apart, that second's
 * latency only, gauges as they are now; it keeps 300 s and says oldest
 * first which weights changed when.
 */
static void
test_history(void **state)
{
	struct fixture		*f = *state;
	struct worker_metrics	*ma = calloc(1, sizeof(*ma));
	struct worker_metrics	*mb = calloc(1, sizeof(*mb));
	struct snap		 a = { 500.0, ma }, b = { 501.25, mb };
	struct backend_metrics	*s, *t;
	uint64_t		 pinned[SW_MAX_BACKENDS] = { 0 };
	int			 ss = f->c->backends[0].metric_slot;
	int			 ts = f->c->backends[1].metric_slot;
	json_t			*d, *w;
	struct sw_config	*c2;

	assert_non_null(ma);
	assert_non_null(mb);
	/* Before the second: a slow past that must not show in it. */
	s = &ma->b[ss];
	s->responses[3] = 50;
	s->responses_429 = 40;
	hist_record(&s->latency, 2000000);
	s->conns_opened = 3;
	ma->l.conns_accepted = 10;
	*mb = *ma;
	s = &mb->b[ss];
	t = &mb->b[ts];
	/* In it: 90 2xx, 7 429s and 3 other 4xx, 2 proxy timeouts. */
	s->responses[1] += 90;
	s->responses[3] += 10;
	s->responses_429 += 7;
	s->errors[PERR_TIMEOUT] += 2;
	for (int i = 0; i < 99; i++)
		hist_record(&s->latency, 1000);
	hist_record(&s->latency, 500000);
	s->conns_opened += 4;
	s->conns_reused += 96;
	s->clients_bound = 12;
	s->clients_unbound = 5;
	t->clients_bound = 3;
	t->clients_unbound = 4;		/* caught mid-way: 0, not 2^64-1 */
	mb->l.conns_accepted += 6;
	mb->l.drain_marked = 8;
	mb->l.drain_unmarked = 2;
	pinned[ss] = 11;
	sec_record(&a, &b, 1700000000123LL, pinned);

	assert_non_null(d = json_object());
	assert_int_equal(stats_add_history(d, f->c, 300), 0);
	assert_int_equal(json_array_size(series(d, NULL, "t")), 1);
	assert_int_equal(ITEM(series(d, NULL, "t"), 0), 1700000000123LL);
	assert_int_equal(ITEM(series(d, NULL, "dt"), 0), 1250);
	assert_int_equal(ITEM(series(d, NULL, "accepted"), 0), 6);
	assert_int_equal(ITEM(series(d, NULL, "drain_pending"), 0), 6);
	assert_int_equal(ITEM(series(d, "source", "2xx"), 0), 90);
	assert_int_equal(ITEM(series(d, "source", "4xx"), 0), 3);
	assert_int_equal(ITEM(series(d, "source", "429"), 0), 7);
	assert_int_equal(ITEM(series(d, "source", "err"), 0), 2);
	assert_int_equal(ITEM(series(d, "source", "5xx"), 0), 0);
	/* 99 at 1 ms, one at 0.5 s: p50 ~1 ms, p99 not the 2 s before. */
	assert_in_range(ITEM(series(d, "source", "p50_us"), 0), 1000, 1130);
	assert_in_range(ITEM(series(d, "source", "p99_us"), 0), 1000, 1130);
	assert_int_equal(ITEM(series(d, "source", "new"), 0), 4);
	assert_int_equal(ITEM(series(d, "source", "reused"), 0), 96);
	assert_int_equal(ITEM(series(d, "source", "upstream"), 0), 7);
	assert_int_equal(ITEM(series(d, "source", "clients"), 0), 7);
	assert_int_equal(ITEM(series(d, "source", "pinned"), 0), 11);
	assert_int_equal(ITEM(series(d, "target", "clients"), 0), 0);
	assert_int_equal(ITEM(series(d, "target", "pinned"), 0), 0);
	assert_int_equal(json_array_size(json_object_get(d,
	    "weight_changes")), 0);
	json_decref(d);

	/* 400 more quiet seconds: the oldest go, the newest is last. */
	*ma = *mb;
	for (int k = 1; k <= 400; k++) {
		a.t = b.t;
		b.t += 1;
		sec_record(&a, &b, 1700000000123LL + 1000LL * k, pinned);
	}
	assert_non_null(d = json_object());
	assert_int_equal(stats_add_history(d, f->c, 1000), 0);
	assert_int_equal(json_array_size(series(d, NULL, "t")), 300);
	assert_int_equal(ITEM(series(d, NULL, "t"), 299),
	    1700000000123LL + 400000);
	assert_int_equal(ITEM(series(d, NULL, "t"), 0),
	    1700000000123LL + 101000);
	assert_int_equal(ITEM(series(d, NULL, "dt"), 299), 1000);
	/* Nothing happened in those seconds. */
	assert_int_equal(ITEM(series(d, "source", "2xx"), 299), 0);
	assert_int_equal(ITEM(series(d, "source", "clients"), 299), 7);
	json_decref(d);
	/* Asked for 5: the newest 5. */
	assert_non_null(d = json_object());
	assert_int_equal(stats_add_history(d, f->c, 5), 0);
	assert_int_equal(json_array_size(series(d, "target", "2xx")), 5);
	assert_int_equal(ITEM(series(d, NULL, "t"), 4),
	    1700000000123LL + 400000);
	json_decref(d);

	/* A weight change is remembered; a publish that keeps them is not. */
	assert_non_null(c2 = config_parse("t.conf", conf, strlen(conf),
	    &(struct config_errors){ 0 }));
	assert_int_equal(runtime_assign_slots(c2), 0);
	on_publish(f->c, c2, NULL);
	c2->backends[0].weight = 0;
	c2->backends[1].weight = 1;
	on_publish(f->c, c2, NULL);
	assert_non_null(d = json_object());
	assert_int_equal(stats_add_history(d, f->c, 1), 0);
	w = json_object_get(d, "weight_changes");
	assert_int_equal(json_array_size(w), 1);
	w = json_array_get(w, 0);
	assert_true(json_integer_value(json_object_get(w, "t")) > 0);
	assert_int_equal(at(w, "weights", "source", NULL), 0);
	assert_int_equal(at(w, "weights", "target", NULL), 1);
	json_decref(d);
	config_unref(c2);
	free(ma);
	free(mb);
}

/* Per-route rendering: a config with two routes, known cells. */
static const char rconf[] =
    "[listener]\naddress = 127.0.0.1:9200\n"
    "[backend source]\nservers = 127.0.0.1:1\nweight = 1\n"
    "[backend target]\nservers = 127.0.0.1:2\nweight = 0\n"
    "[route reads]\noperation = read\nweights = source=9, target=1\n"
    "[route orders]\nindices = orders*\nweights = source=1, target=0\n";

/*
 * /stats "routes" and the route-labelled /metrics families show every
 * configured route (the default one too) by backend, from the route
 * cells of the route's own slot; no "routes" at all without [route].
 */
static void
test_routes(void **state)
{
	struct fixture		*f = *state;
	struct sw_config	*c;
	struct worker_metrics	*m = calloc(1, sizeof(*m));
	struct view		 v;
	struct evbuffer		*b = evbuffer_new();
	json_t			*d, *r;
	char			*text;
	size_t			 len;
	int			 rs, os, ts, ss;

	assert_non_null(c = config_parse("r.conf", rconf, strlen(rconf),
	    &(struct config_errors){ 0 }));
	assert_int_equal(runtime_assign_slots(c), 0);
	rs = c->routes[0].metric_slot;
	os = c->routes[1].metric_slot;
	assert_true(rs > 0 && os > 0 && rs != os);
	ts = c->backends[1].metric_slot;
	ss = c->backends[0].metric_slot;
	assert_int_equal(metrics_routes_alloc(m), 0);
	for (int i = 0; i < 30; i++)
		metrics_route(m, rs, ts, i < 3 ? 503 : 200, 12000);
	for (int i = 0; i < 10; i++)
		metrics_route(m, rs, ss, 200, 9000);
	metrics_route(m, 0, ss, 429, 100);
	metrics_route(m, 0, ss, 201, 100);

	metrics_route_sum(st.routes, &m, 1);
	view_fill(&v, c, f->live, f->now);
	assert_non_null(d = view_json(&v));
	r = json_object_get(d, "routes");
	assert_non_null(r);
	assert_int_equal(json_object_size(r), 3);
	assert_int_equal(at(r, "reads", "target", "requests", NULL), 30);
	assert_int_equal(at(r, "reads", "target", "responses", "5xx", NULL), 3);
	assert_int_equal(at(r, "reads", "target", "responses", "2xx", NULL), 27);
	assert_int_equal(at(r, "reads", "target", "weight", NULL), 1);
	assert_int_equal(at(r, "reads", "source", "weight", NULL), 9);
	assert_int_equal(at(r, "reads", "source", "requests", NULL), 10);
	/* 12 ms lands in a bucket of at most 12.5 % above it. */
	assert_true(at(r, "reads", "target", "latency_ms", "p99", NULL) >= 12);
	assert_true(at(r, "reads", "target", "latency_ms", "p99", NULL) < 13.6);
	assert_true(at(r, "reads", "source", "latency_ms", "p50", NULL) < 10.2);
	assert_int_equal(at(r, "orders", "source", "requests", NULL), 0);
	assert_int_equal(at(r, "orders", "target", "weight", NULL), 0);
	assert_int_equal(at(r, "default", "source", "requests", NULL), 2);
	assert_int_equal(at(r, "default", "source", "responses_429", NULL), 1);
	assert_int_equal(at(r, "default", "source", "responses", "4xx", NULL),
	    1);
	assert_int_equal(at(r, "default", "source", "weight", NULL), 1);
	json_decref(d);

	view_prometheus(b, &v);
	len = evbuffer_get_length(b);
	text = calloc(1, len + 1);
	evbuffer_remove(b, text, len);
	assert_true(metric(text, "switchover_route_requests_total{route="
	    "\"reads\",backend=\"target\"}") == 30);
	assert_true(metric(text, "switchover_route_responses_total{route="
	    "\"reads\",backend=\"target\",code_class=\"5xx\"}") == 3);
	assert_true(metric(text, "switchover_route_responses_429_total{route="
	    "\"default\",backend=\"source\"}") == 1);
	assert_true(metric(text, "switchover_route_weight{route=\"reads\","
	    "backend=\"source\"}") == 9);
	assert_true(metric(text, "switchover_route_request_duration_seconds_"
	    "count{route=\"reads\",backend=\"target\"}") == 30);
	assert_true(metric(text, "switchover_route_request_duration_seconds_"
	    "bucket{route=\"reads\",backend=\"target\",le=\"0.008191\"}") ==
	    0);
	assert_true(metric(text, "switchover_route_request_duration_seconds_"
	    "bucket{route=\"reads\",backend=\"target\",le=\"0.016383\"}") ==
	    30);
	assert_true(metric(text, "switchover_route_requests_total{route="
	    "\"orders\",backend=\"source\"}") == 0);
	free(text);

	/* Without [route] sections: no "routes", no route families. */
	view_fill(&v, f->c, f->live, f->now);
	assert_non_null(d = view_json(&v));
	assert_null(json_object_get(d, "routes"));
	json_decref(d);
	view_prometheus(b, &v);
	len = evbuffer_get_length(b);
	text = calloc(1, len + 1);
	evbuffer_remove(b, text, len);
	assert_null(strstr(text, "switchover_route_"));
	free(text);
	evbuffer_free(b);
	metrics_routes_free(m);
	free(m);
	config_unref(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ring_ago),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_prometheus),
		cmocka_unit_test(test_history),
		cmocka_unit_test(test_routes),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
