/* Unit tests for metrics: histogram buckets, quantiles, windows. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "switchover/metrics.h"

static void
test_buckets_cover_values(void **state)
{
	/* Every value lands in a bucket whose range holds it. */
	for (uint64_t v = 0; v < 200000; v += (v < 100 ? 1 : v / 50)) {
		size_t i = hist_index(v);

		assert_true(v <= hist_upper(i));
		if (i > 0)
			assert_true(v > hist_upper(i - 1));
	}
	/* Relative error at most 1/8. */
	for (uint64_t v = 16; v < (1ULL << 36); v = v * 3 + 1) {
		uint64_t u = hist_upper(hist_index(v));
		assert_true(u >= v);
		assert_true(u - v <= v / 8 + 1);
	}
	/* Powers of two are bucket boundaries: 2^k - 1 is an upper bound. */
	for (int k = 5; k < 40; k++)
		assert_int_equal(hist_upper(hist_index((1ULL << k) - 1)),
		    (1ULL << k) - 1);
	assert_int_equal(hist_index(UINT64_MAX), HIST_BUCKETS - 1);
}

static void
test_quantiles(void **state)
{
	struct hist *h = calloc(1, sizeof(*h));

	assert_non_null(h);
	assert_int_equal(hist_quantile(h, 0.5), 0);
	/* 90 fast (100 us) and 10 slow (50 ms) requests. */
	for (int i = 0; i < 90; i++)
		hist_record(h, 100);
	for (int i = 0; i < 10; i++)
		hist_record(h, 50000);
	assert_int_equal(h->count, 100);
	assert_int_equal(h->max_us, 50000);
	uint64_t p50 = hist_quantile(h, 0.5), p90 = hist_quantile(h, 0.9),
	    p99 = hist_quantile(h, 0.99);
	assert_true(p50 >= 100 && p50 <= 113);
	assert_true(p90 >= 100 && p90 <= 113);
	assert_true(p99 >= 50000 && p99 <= 50000);	/* capped at max */
	free(h);
}

static void
test_window(void **state)
{
	struct hist *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b)),
	    *d = calloc(1, sizeof(*d));

	for (int i = 0; i < 10; i++)
		hist_record(a, 1000000);	/* old slow ones */
	memcpy(b, a, sizeof(*a));		/* snapshot */
	for (int i = 0; i < 10; i++)
		hist_record(a, 200);		/* recent fast ones */
	hist_sub(d, a, b);
	assert_int_equal(d->count, 10);
	assert_true(hist_quantile(d, 0.99) < 250);
	assert_true(d->max_us < 250);
	free(a);
	free(b);
	free(d);
}

static void
test_slots(void **state)
{
	int a = metrics_slot("source"), b = metrics_slot("target");

	assert_true(a >= 0 && b >= 0 && a != b);
	assert_int_equal(metrics_slot("source"), a);
	assert_string_equal(metrics_slot_name(b), "target");
	assert_null(metrics_slot_name(99));
}

static void
test_sum(void **state)
{
	struct worker_metrics *w1 = calloc(1, sizeof(*w1)),
	    *w2 = calloc(1, sizeof(*w2)), *out = calloc(1, sizeof(*out));
	struct worker_metrics *per[2] = { w1, w2 };

	M_ADD(w1->b[1].requests, 3);
	M_ADD(w2->b[1].requests, 4);
	M_INC(w2->b[1].responses[4]);
	M_INC(w1->l.closed_by[CLOSE_DRAIN]);
	hist_record(&w1->b[1].latency, 10);
	hist_record(&w2->b[1].latency, 30);
	metrics_sum(out, per, 2);
	assert_int_equal(out->b[1].requests, 7);
	assert_int_equal(out->b[1].responses[4], 1);
	assert_int_equal(out->l.closed_by[CLOSE_DRAIN], 1);
	assert_int_equal(out->b[1].latency.count, 2);
	assert_int_equal(out->b[1].latency.max_us, 30);
	assert_int_equal(out->b[0].requests, 0);
	free(w1);
	free(w2);
	free(out);
}

/*
 * Route cells: counted by class (the proxy's own answers too), summed
 * across workers for backend slots in use, and windowed by
 * metrics_route_sub; out-of-range slots are no-ops.
 */
static void
test_routes(void **state)
{
	struct worker_metrics *w1 = calloc(1, sizeof(*w1)),
	    *w2 = calloc(1, sizeof(*w2)), *bare = calloc(1, sizeof(*bare));
	struct route_table *out = calloc(1, sizeof(*out)),
	    *old = calloc(1, sizeof(*old)), *win = calloc(1, sizeof(*win));
	struct worker_metrics *per[3] = { w1, w2, bare };
	const struct route_metrics *r;
	int t = metrics_slot("target"), s = metrics_slot("source");

	assert_int_equal(metrics_routes_alloc(w1), 0);
	assert_int_equal(metrics_routes_alloc(w2), 0);
	/* Without a table, or with slots out of range: no-ops. */
	metrics_route(bare, 3, t, 200, 10);
	metrics_route(w1, SW_ROUTE_SLOTS, t, 200, 10);
	metrics_route(w1, -1, t, 200, 10);
	metrics_route(w1, 3, SW_MAX_BACKENDS, 200, 10);
	metrics_route(w1, 3, -1, 200, 10);
	assert_null(metrics_route_get(out, SW_ROUTE_SLOTS, t));
	assert_null(metrics_route_get(out, 0, -1));
	assert_null(metrics_route_get(NULL, 0, t));

	metrics_route(w1, 3, t, 200, 1000);
	metrics_route(w2, 3, t, 429, 5000);
	metrics_route(w2, 3, t, 502, 200000);
	metrics_route(w2, 0, s, 201, 100);
	metrics_route_sum(old, per, 3);
	metrics_route(w1, 3, t, 200, 2000);
	metrics_route(w1, 3, s, 200, 2000);
	metrics_route_sum(out, per, 3);

	r = metrics_route_get(out, 3, t);
	assert_non_null(r);
	assert_int_equal(r->requests, 4);
	assert_int_equal(r->responses[1], 2);
	assert_int_equal(r->responses[3], 1);
	assert_int_equal(r->responses_429, 1);
	assert_int_equal(r->responses[4], 1);
	assert_int_equal(r->latency.count, 4);
	assert_int_equal(r->latency.max_us, 200000);
	assert_int_equal(metrics_route_get(out, 0, s)->requests, 1);
	assert_int_equal(metrics_route_get(out, 3, s)->requests, 1);
	assert_int_equal(metrics_route_get(out, 0, t)->requests, 0);
	/* Backend totals are not the routes' business. */
	assert_int_equal(w1->b[t].requests, 0);

	/* A second sum starts from zero, it does not add to the first. */
	metrics_route_sum(out, per, 3);
	assert_int_equal(metrics_route_get(out, 3, t)->requests, 4);

	metrics_route_sub(win, out, old);
	r = metrics_route_get(win, 3, t);
	assert_int_equal(r->requests, 1);
	assert_int_equal(r->responses[1], 1);
	assert_int_equal(r->responses[4], 0);
	assert_int_equal(r->latency.count, 1);
	assert_true(hist_quantile(&r->latency, 0.99) >= 2000);
	assert_true(hist_quantile(&r->latency, 0.99) < 2300);
	assert_int_equal(metrics_route_get(win, 3, s)->requests, 1);
	assert_int_equal(metrics_route_get(win, 0, s)->requests, 0);

	/* A sum of worker_metrics carries no table. */
	metrics_sum(bare, per, 2);
	assert_null(bare->routes);

	metrics_routes_free(w1);
	metrics_routes_free(w2);
	assert_null(w1->routes);
	free(w1);
	free(w2);
	free(bare);
	free(out);
	free(old);
	free(win);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buckets_cover_values),
		cmocka_unit_test(test_quantiles),
		cmocka_unit_test(test_window),
		cmocka_unit_test(test_slots),
		cmocka_unit_test(test_sum),
		cmocka_unit_test(test_routes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
