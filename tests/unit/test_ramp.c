/*
 * Unit tests for ramp: judge(), the verdict of one check round, from
 * known sides (no clock, no workers).  Includes ramp.c to reach it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../src/ramp.c"

/* [ramp]'s defaults, spelt out: the tests do not follow them. */
static const struct sw_ramp params = {
	.min_requests = 10,
	.max_error_rate_delta = 1.0,
	.max_p99_ratio = 2.0,
	.min_p99_ms = 50,
	.max_connect_errors = 0,
};

struct fx {
	struct hist	src, tgt;
	struct side	ws, wt, ss, st;
	struct check	ck[CK_MAX];
	char		why[DETAIL_MAX];
};

/* n answers of us microseconds each into h. */
static void
answers(struct hist *h, int n, uint64_t us)
{
	for (int i = 0; i < n; i++)
		hist_record(h, us);
}

/* 100 requests on each side, all fine, 80 ms vs 100 ms p99. */
static struct fx *
healthy(void)
{
	struct fx *f = calloc(1, sizeof(*f));

	answers(&f->src, 100, 80000);
	answers(&f->tgt, 100, 100000);
	f->ws = (struct side){ 100, 0, 0, &f->src };
	f->wt = (struct side){ 100, 0, 0, &f->tgt };
	f->ss = f->ws;
	f->st = f->wt;
	return f;
}

static int
run(struct fx *f)
{
	return judge(&params, &f->ws, &f->wt, &f->ss, &f->st, f->ck, f->why,
	    sizeof(f->why));
}

static void
test_pass(void **state)
{
	struct fx *f = healthy();

	assert_int_equal(run(f), 1);
	assert_string_equal(f->why, "");
	for (int i = 0; i < CK_MAX; i++) {
		assert_true(f->ck[i].ran);
		assert_true(f->ck[i].ok);
	}
	assert_false(f->ck[CK_P99].skipped);
	free(f);
}

/* 2 % more errors than the source, limit +1: fail, error_rate first. */
static void
test_error_rate(void **state)
{
	struct fx *f = healthy();

	f->ws.errors = 1;
	f->wt.errors = 3;
	assert_int_equal(run(f), 0);
	assert_false(f->ck[CK_ERROR_RATE].ok);
	assert_true(f->ck[CK_ERROR_RATE].target == 3.0);
	assert_non_null(strstr(f->why, "error_rate: target 3.0 %"));
	/* Exactly at the limit passes. */
	f->wt.errors = 2;
	assert_int_equal(run(f), 1);
	free(f);
}

/* A slow target fails p99 unless under min_p99 or too few answers. */
static void
test_p99(void **state)
{
	struct fx	*f = healthy();
	struct hist	 slow = { 0 }, fast = { 0 };

	answers(&slow, 100, 300000);		/* 300 ms vs 80 ms: x3.75 */
	f->wt.latency = &slow;
	assert_int_equal(run(f), 0);
	assert_false(f->ck[CK_P99].ok);
	assert_non_null(strstr(f->why, "p99_ratio"));
	/* The same with a handful of answers: skipped, not judged. */
	memset(&slow, 0, sizeof(slow));
	answers(&slow, 5, 300000);
	assert_int_equal(run(f), 1);
	assert_true(f->ck[CK_P99].skipped);
	assert_non_null(strstr(f->ck[CK_P99].note, "the target answered 5"));
	/* Slower than the source by far, but under min_p99 (50 ms): ok. */
	memset(&fast, 0, sizeof(fast));
	answers(&fast, 100, 1000);
	memset(&slow, 0, sizeof(slow));
	answers(&slow, 100, 40000);
	f->ws.latency = &fast;
	f->wt.latency = &slow;
	assert_int_equal(run(f), 1);
	assert_true(f->ck[CK_P99].ok);
	free(f);
}

/* Connect errors count over the step, not the window. */
static void
test_connect(void **state)
{
	struct fx *f = healthy();

	f->wt.connect_errors = 5;		/* window: ignored */
	assert_int_equal(run(f), 1);
	f->st.connect_errors = 1;
	assert_int_equal(run(f), 0);
	assert_non_null(strstr(f->why, "connect_errors: target 1"));
	free(f);
}

/* Too little target traffic in the step: hold, unless something failed. */
static void
test_hold(void **state)
{
	struct fx *f = healthy();

	f->st.requests = 9;
	assert_int_equal(run(f), 2);
	assert_non_null(strstr(f->why, "waiting for traffic"));
	f->wt.errors = 50;
	assert_int_equal(run(f), 0);
	assert_non_null(strstr(f->why, "error_rate"));
	free(f);
}

/* A route's side: 5xx (the proxy's own among them) and 429 are errors. */
static void
test_side_route(void **state)
{
	struct route_metrics	r = { 0 };
	struct backend_metrics	b = { 0 };
	struct side		x;

	r.requests = 40;
	r.responses[1] = 30;
	r.responses[3] = 4;
	r.responses_429 = 2;
	r.responses[4] = 6;
	b.errors[PERR_CONNECT] = 1;
	b.errors[PERR_TIMEOUT] = 2;
	b.errors[PERR_RESET] = 7;
	x = side_route(&r, &b);
	assert_int_equal(x.requests, 40);
	assert_int_equal(x.errors, 8);
	assert_int_equal(x.connect_errors, 3);
	assert_ptr_equal(x.latency, &r.latency);
	assert_true(side_error_pct(&x) == 20.0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pass),
		cmocka_unit_test(test_error_rate),
		cmocka_unit_test(test_p99),
		cmocka_unit_test(test_connect),
		cmocka_unit_test(test_hold),
		cmocka_unit_test(test_side_route),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
