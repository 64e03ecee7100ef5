/*
 * Unit tests for drain: the spacing of closings, the on_weight_zero hook
 * and drain_backend posting to the workers, and the stats.
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

#include "../../src/drain.c"

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
	for (int i = 0; i < 2; i++) {
		assert_int_equal(fw[i].cmd_drain, 1u << src);
		assert_int_equal(fw[i].cmd_drain_spread_ms, 3000);
		assert_int_equal(fw[i].cmd_nworkers, 2);
		fw[i].cmd_drain = 0;
	}
	drain_on_publish(b, a, NULL);		/* target 1 -> 0 */
	assert_int_equal(fw[0].cmd_drain, 1u << b->backends[1].metric_slot);
	fw[0].cmd_drain = fw[1].cmd_drain = 0;
	drain_on_publish(NULL, a, NULL);	/* start-up: nothing */
	off = two_backends(0, 1, 0);
	drain_on_publish(a, off, NULL);		/* on_weight_zero = no */
	assert_int_equal(fw[0].cmd_drain, 0);
	/* By hand: a known name is posted, an unknown one is refused. */
	assert_int_equal(drain_backend("target", err, sizeof(err)), 0);
	assert_int_equal(fw[1].cmd_drain, 1u << b->backends[1].metric_slot);
	assert_int_equal(drain_backend("nope", err, sizeof(err)), -1);
	assert_string_equal(err, "no backend named \"nope\"");
	config_unref(b);
	config_unref(off);
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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_offsets),
		cmocka_unit_test_setup_teardown(test_hook, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stats, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
