/*
 * Unit tests for drain: the spacing of closings, a worker's drain run
 * against stand-in clients, the on_weight_zero hook and drain_backend
 * posting to the workers, and the stats.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <cmocka.h>

#include <event2/event.h>

/*
 * drain.c and drain_worker.c are driven here through stand-ins for the client list and the
 * clock: its calls to these names land on the fakes below, so the test
 * calls drain_worker_start() and drain_tick() themselves and sees which
 * clients were marked, when, and which were closed.
 */
#define client_next		fake_client_next
#define client_slot		fake_client_slot
#define client_route_bound	fake_client_route_bound
#define client_drain_due	fake_client_drain_due
#define client_drain_mark	fake_client_drain_mark
#define client_drain		fake_client_drain
#define upstream_pool_flush	fake_upstream_pool_flush
#define now_ms			fake_now_ms
#include "../../src/drain.c"
#include "../../src/drain_worker.c"
#undef client_next
#undef client_slot
#undef client_route_bound
#undef client_drain_due
#undef client_drain_mark
#undef client_drain
#undef upstream_pool_flush
#undef now_ms

/* A stand-in client: its slot, its due time, and whether it was drained. */
struct client {
	int		 slot;
	int		 rbound[SW_ROUTE_SLOTS];	/* -1 unless set */
	uint64_t	 due;
	int		 drained;	/* times fake_client_drain ran */
	int		 gone;		/* closed: off the worker's list */
	enum close_reason why;
};

#define NFAKE	8
static struct client	fake[NFAKE];
static size_t		nfake;
static uint64_t		fake_now;
static struct wserver	*flushed[4];
static size_t		nflushed;

uint64_t fake_now_ms(void) { return fake_now; }
int fake_client_slot(const struct client *c) { return c->slot; }
int fake_client_route_bound(const struct client *c, int rs) { return c->rbound[rs]; }
uint64_t fake_client_drain_due(const struct client *c) { return c->due; }
void fake_client_drain_mark(struct client *c, uint64_t due) { c->due = due; }

/* The clients still open, in order. */
struct client *
fake_client_next(struct worker *w, struct client *c)
{
	size_t i = c == NULL ? 0 : (size_t)(c - fake) + 1;

	while (i < nfake && fake[i].gone)
		i++;
	return i < nfake ? &fake[i] : NULL;
}

/* As client_drain: unmark; an idle client closes (leaves the list). */
void
fake_client_drain(struct client *c, enum close_reason why)
{
	c->due = 0;
	c->drained++;
	c->why = why;
	c->gone = 1;
}

void
fake_upstream_pool_flush(struct wserver *srv)
{
	if (nflushed < 4)
		flushed[nflushed++] = srv;
}

/* Offsets: inside [0, spread), even, interleaved across workers. */
static void
test_offsets(void **state)
{
	int		quarter[4] = { 0 };

	for (int id = 0; id < 3; id++) {
		uint64_t last = 0;

		for (uint64_t k = 0; k < 100; k++) {
			uint64_t o = drain_offset(k, 100, id, 3, 2000);

			assert_true(o < 2000);
			if (k > 0)
				assert_true(o > last);
			last = o;
			quarter[o / 500]++;
		}
	}
	for (int q = 0; q < 4; q++)
		assert_int_equal(quarter[q], 75);	/* exactly even */
	/* Worker 1's k-th comes after worker 0's k-th, before its k+1-th. */
	assert_true(drain_offset(10, 100, 0, 3, 2000) <
	    drain_offset(10, 100, 1, 3, 2000));
	assert_true(drain_offset(10, 100, 2, 3, 2000) <
	    drain_offset(11, 100, 0, 3, 2000));
	assert_int_equal(drain_offset(0, 1, 0, 1, 0), 0);	/* spread 0 */
}

static struct sw_config *
two_backends(int ws, int wt, int on_zero)
{
	static const char fmt[] = "[listener]\naddress = 127.0.0.1:1\n"
	    "[drain]\nspread = 3s\non_weight_zero = %s\n"
	    "[backend source]\nservers = 127.0.0.1:2\nweight = %d\n"
	    "[backend target]\nservers = 127.0.0.1:3\nweight = %d\n";
	char			 text[512];
	struct config_errors	 e = { 0 };
	struct sw_config	*c;
	int			 n;

	n = snprintf(text, sizeof(text), fmt, on_zero ? "yes" : "no", ws, wt);
	c = config_parse("t.conf", text, (size_t)n, &e);
	assert_non_null(c);
	assert_int_equal(runtime_assign_slots(c), 0);
	return c;
}

/* Two stand-in workers: a command slot (its eventfd) and metrics, no thread. */
static struct worker		 fw[2];
static struct worker		*fwp[2] = { &fw[0], &fw[1] };

static int
setup(void **state)
{
	for (int i = 0; i < 2; i++) {
		memset(&fw[i], 0, sizeof(fw[i]));
		fw[i].id = i;
		pthread_mutex_init(&fw[i].cmd_lock, NULL);
		fw[i].cmd_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		assert_true(fw[i].cmd_fd != -1);
		fw[i].m = calloc(1, sizeof(*fw[i].m));
	}
	rt.workers = fwp;
	rt.nworkers = 2;
	return 0;
}

static int
teardown(void **state)
{
	for (int i = 0; i < 2; i++) {
		close(fw[i].cmd_fd);
		pthread_mutex_destroy(&fw[i].cmd_lock);
		free(fw[i].m);
	}
	config_unref(rt.cfg);
	rt.cfg = NULL;
	return 0;
}

/* Weight to 0 posts a drain of that backend only; >0 changes do not. */
static void
test_hook(void **state)
{
	struct sw_config	*a = two_backends(1, 0, 1), *b, *off;
	int			 src = a->backends[0].metric_slot;
	char			 err[128];

	rt.cfg = a;
	b = two_backends(0, 1, 1);
	drain_on_publish(a, b, NULL);
	/* The default route's weights: its bindings (route slot 0). */
	for (int i = 0; i < 2; i++) {
		assert_int_equal(fw[i].cmd_drain_route[0], 1u << src);
		assert_int_equal(fw[i].cmd_drain, 0);
		assert_int_equal(fw[i].cmd_drain_spread_ms, 3000);
		assert_int_equal(fw[i].cmd_nworkers, 2);
		fw[i].cmd_drain_route[0] = 0;
	}
	drain_on_publish(b, a, NULL);		/* target 1 -> 0 */
	assert_int_equal(fw[0].cmd_drain_route[0],
	    1u << b->backends[1].metric_slot);
	fw[0].cmd_drain_route[0] = fw[1].cmd_drain_route[0] = 0;
	drain_on_publish(NULL, a, NULL);	/* start-up: nothing */
	off = two_backends(0, 1, 0);
	drain_on_publish(a, off, NULL);		/* on_weight_zero = no */
	assert_int_equal(fw[0].cmd_drain_route[0], 0);
	/* By hand: a known name is posted, an unknown one is refused. */
	assert_int_equal(drain_backend("target", err, sizeof(err)), 0);
	assert_int_equal(fw[1].cmd_drain, 1u << b->backends[1].metric_slot);
	assert_int_equal(drain_backend("nope", err, sizeof(err)), -1);
	assert_string_equal(err, "no backend named \"nope\"");
	config_unref(b);
	config_unref(off);
}

/* A config with route reads at source=rs, target=rt, default 1/1. */
static struct sw_config *
with_route(int rs, int rt_)
{
	static const char fmt[] = "[listener]\naddress = 127.0.0.1:1\n"
	    "[drain]\nspread = 3s\non_weight_zero = yes\n"
	    "[backend source]\nservers = 127.0.0.1:2\nweight = 1\n"
	    "[backend target]\nservers = 127.0.0.1:3\nweight = 1\n"
	    "[route reads]\noperation = read\n"
	    "weights = source=%d, target=%d\n";
	char			 text[512];
	struct config_errors	 e = { 0 };
	struct sw_config	*c;
	int			 n;

	n = snprintf(text, sizeof(text), fmt, rs, rt_);
	c = config_parse("t.conf", text, (size_t)n, &e);
	assert_non_null(c);
	assert_int_equal(runtime_assign_slots(c), 0);
	return c;
}

/* A route's weight to 0 drains that backend on that route's slot only. */
static void
test_hook_route(void **state)
{
	struct sw_config	*a = with_route(0, 1), *b = with_route(1, 0);
	int			 tgt = a->backends[1].metric_slot;
	int			 rs = a->routes[0].metric_slot;

	rt.cfg = a;
	assert_true(rs >= 1 && rs < SW_ROUTE_SLOTS);
	drain_on_publish(a, b, NULL);		/* reads: target 1 -> 0 */
	for (int i = 0; i < 2; i++) {
		assert_int_equal(fw[i].cmd_drain_route[rs], 1u << tgt);
		assert_int_equal(fw[i].cmd_drain_route[0], 0);
		assert_int_equal(fw[i].cmd_drain, 0);
		fw[i].cmd_drain_route[rs] = 0;
	}
	drain_on_publish(b, a, NULL);		/* reads: source 1 -> 0 */
	assert_int_equal(fw[0].cmd_drain_route[rs],
	    1u << a->backends[0].metric_slot);
	config_unref(b);
}

/* Stats sum the workers: bound = bound - unbound, pending, closes. */
static void
test_stats(void **state)
{
	struct drain_stats	st;
	int			s = metrics_slot("source");

	rt.cfg = two_backends(1, 1, 1);
	fw[0].m->b[s].clients_bound = 10;
	fw[0].m->b[s].clients_unbound = 4;
	fw[1].m->b[s].clients_bound = 3;
	fw[0].m->l.drain_marked = 7;
	fw[1].m->l.drain_unmarked = 2;
	fw[0].m->l.closed_by[CLOSE_DRAIN] = 5;
	fw[1].m->l.closed_by[CLOSE_RECYCLE] = 1;
	fw[1].m->b[s].affinity_hits = 9;
	fw[1].m->l.affinity_learned = 4;
	drain_stats(&st);
	assert_string_equal(st.backend[s].name, "source");
	assert_int_equal(st.backend[s].bound, 9);
	assert_int_equal(st.backend[s].affinity_hits, 9);
	assert_int_equal(st.pending, 5);
	assert_int_equal(st.closed_by_drain, 5);
	assert_int_equal(st.closed_by_recycle, 1);
	assert_int_equal(st.affinity_learned, 4);
}

/*
 * The drain itself: drain_worker_start marks exactly the clients bound to
 * the drained backend, spaced over the spread, flushes that backend's
 * pool only; drain_tick closes each one when, and only when, it is due.
 */
static void
test_worker_drain(void **state)
{
	struct sw_config	*cfg = two_backends(1, 1, 1);
	struct wgen		 gen;
	struct wserver		 srv[2];
	struct worker		 w;
	int			 src = cfg->backends[0].metric_slot;
	int			 tgt = cfg->backends[1].metric_slot;
	/* source x3, target, unbound, source already marked (due 9000). */
	int			 slots[] = { src, tgt, src, -1, src, src };
	struct timeval		 tv;

	memset(&gen, 0, sizeof(gen));
	memset(&w, 0, sizeof(w));
	memset(srv, 0, sizeof(srv));
	gen.cfg = cfg;
	for (int i = 0; i < 2; i++) {
		gen.backends[i].conf = &cfg->backends[i];
		gen.backends[i].servers = &srv[i];
		gen.backends[i].nservers = 1;
		TAILQ_INIT(&srv[i].idle);
	}
	w.id = 0;
	w.gen = &gen;
	assert_non_null(w.base = event_base_new());
	assert_non_null(w.drain = drain_worker_new(&w));
	memset(fake, 0, sizeof(fake));
	nfake = sizeof(slots) / sizeof(slots[0]);
	for (size_t i = 0; i < nfake; i++) {
		fake[i].slot = slots[i];
		memset(fake[i].rbound, -1, sizeof(fake[i].rbound));
	}
	fake[5].due = 9000;
	nflushed = 0;
	fake_now = 1000;

	drain_worker_start(&w, -1, 1u << src, 3000, 1);
	/* Three marked, 1 s apart from now + 1; the others untouched. */
	assert_int_equal(fake[0].due, 1001);
	assert_int_equal(fake[2].due, 2001);
	assert_int_equal(fake[4].due, 3001);
	assert_int_equal(fake[1].due, 0);
	assert_int_equal(fake[3].due, 0);
	assert_int_equal(fake[5].due, 9000);	/* not marked twice */
	assert_int_equal(nflushed, 1);
	assert_ptr_equal(flushed[0], &srv[0]);
	assert_int_equal(w.drain->left, 3);
	assert_true(event_pending(w.drain->tick, EV_TIMEOUT, &tv));
	for (size_t i = 0; i < nfake; i++)
		assert_int_equal(fake[i].drained, 0);	/* nothing closed yet */

	/* Tick before anyone is due: nothing closes. */
	drain_tick(-1, EV_TIMEOUT, w.drain);
	for (size_t i = 0; i < nfake; i++)
		assert_int_equal(fake[i].drained, 0);
	/* At 1001 the first; at 2500 the second; the third waits. */
	fake_now = 1001;
	drain_tick(-1, EV_TIMEOUT, w.drain);
	assert_int_equal(fake[0].drained, 1);
	assert_int_equal(fake[0].why, CLOSE_DRAIN);
	assert_int_equal(fake[2].drained + fake[4].drained, 0);
	assert_int_equal(w.drain->left, 3);	/* 2, and the one due at 9000 */
	fake_now = 2500;
	drain_tick(-1, EV_TIMEOUT, w.drain);
	assert_int_equal(fake[2].drained, 1);
	assert_int_equal(fake[4].drained, 0);
	assert_true(event_pending(w.drain->tick, EV_TIMEOUT, NULL));
	/* Long after: every marked one once, target and unbound never. */
	fake_now = 10000;
	drain_tick(-1, EV_TIMEOUT, w.drain);
	assert_int_equal(fake[4].drained, 1);
	assert_int_equal(fake[5].drained, 1);
	assert_int_equal(fake[0].drained, 1);
	assert_int_equal(fake[1].drained, 0);
	assert_int_equal(fake[3].drained, 0);
	assert_int_equal(w.drain->left, 0);

	/* A drain of a backend with no client bound marks nothing. */
	fake_now = 20000;
	drain_worker_start(&w, -1, 1u << tgt, 3000, 1);
	assert_int_equal(fake[1].due, 20001);	/* the one target client */
	for (size_t i = 0; i < nfake; i++)
		if (i != 1)
			assert_int_equal(fake[i].due, 0);
	drain_worker_free(w.drain);
	event_base_free(w.base);
	config_unref(cfg);
}

/*
 * Routes: a route's drain takes only the connections bound to the
 * backend on that route (whatever their last request was); a drain by
 * hand takes a connection bound to it on any route; a named route's
 * drain leaves the pools alone.
 */
static void
test_worker_drain_route(void **state)
{
	struct sw_config	*cfg = two_backends(1, 1, 1);
	struct wgen		 gen;
	struct wserver		 srv[2];
	struct worker		 w;
	int			 src = cfg->backends[0].metric_slot;
	int			 tgt = cfg->backends[1].metric_slot;

	memset(&gen, 0, sizeof(gen));
	memset(&w, 0, sizeof(w));
	memset(srv, 0, sizeof(srv));
	gen.cfg = cfg;
	for (int i = 0; i < 2; i++) {
		gen.backends[i].conf = &cfg->backends[i];
		gen.backends[i].servers = &srv[i];
		gen.backends[i].nservers = 1;
		TAILQ_INIT(&srv[i].idle);
	}
	w.gen = &gen;
	assert_non_null(w.base = event_base_new());
	assert_non_null(w.drain = drain_worker_new(&w));
	memset(fake, 0, sizeof(fake));
	nfake = 4;
	for (size_t i = 0; i < nfake; i++)
		memset(fake[i].rbound, -1, sizeof(fake[i].rbound));
	/* 0: reads on target, last a write to source (default route). */
	fake[0].slot = src, fake[0].rbound[3] = tgt, fake[0].rbound[0] = src;
	/* 1: reads on source. */
	fake[1].slot = src, fake[1].rbound[3] = src;
	/* 2: default route on target only. */
	fake[2].slot = tgt, fake[2].rbound[0] = tgt;
	/* 3: never routed. */
	fake[3].slot = -1;
	nflushed = 0;
	fake_now = 1000;

	drain_worker_start(&w, 3, 1u << tgt, 3000, 1);
	assert_true(fake[0].due != 0);
	assert_int_equal(fake[1].due, 0);
	assert_int_equal(fake[2].due, 0);	/* target, but not on route 3 */
	assert_int_equal(fake[3].due, 0);
	assert_int_equal(nflushed, 0);
	fake[0].due = 0;

	/* The default route is slot 0: its pools go too. */
	drain_worker_start(&w, 0, 1u << tgt, 3000, 1);
	assert_int_equal(fake[0].due, 0);
	assert_true(fake[2].due != 0);
	assert_int_equal(nflushed, 1);
	fake[2].due = 0;

	/* By hand: bound to target on any route, last request or not. */
	drain_worker_start(&w, -1, 1u << tgt, 3000, 1);
	assert_true(fake[0].due != 0);
	assert_int_equal(fake[1].due, 0);
	assert_true(fake[2].due != 0);
	assert_int_equal(fake[3].due, 0);

	drain_worker_free(w.drain);
	event_base_free(w.base);
	config_unref(cfg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_offsets),
		cmocka_unit_test(test_worker_drain),
		cmocka_unit_test(test_worker_drain_route),
		cmocka_unit_test_setup_teardown(test_hook, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hook_route, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_stats, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
