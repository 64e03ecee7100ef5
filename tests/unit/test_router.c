/* Unit tests for router: SWRR exactness, sticky split, server balancing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <cmocka.h>

#include "switchover/router.h"

/* Over any window of sum(w) consecutive picks, backend i gets w[i]. */
static void
check_exact(const int *w, size_t n)
{
	int	cur[8] = { 0 }, sum = 0;
	int	picks[4000];
	int	total;

	for (size_t i = 0; i < n; i++)
		sum += w[i];
	total = sum * 3 + 7;
	assert_true(total <= 4000);
	for (int k = 0; k < total; k++) {
		picks[k] = router_swrr(w, cur, n);
		assert_true(picks[k] >= 0 && picks[k] < (int)n);
		assert_true(w[picks[k]] > 0);
	}
	/* Aligned windows are exact (the SWRR period is sum(w)). */
	for (int start = 0; start + sum <= total; start += sum) {
		int count[8] = { 0 };

		for (int k = start; k < start + sum; k++)
			count[picks[k]]++;
		for (size_t i = 0; i < n; i++)
			assert_int_equal(count[i], w[i]);
	}
}

static void
test_swrr_exact(void **state)
{
	const int a[] = { 1, 0 }, b[] = { 0, 1 }, c[] = { 3, 1 },
	    d[] = { 50, 50 }, e[] = { 999, 1 }, f[] = { 5, 3, 2 },
	    g[] = { 10, 90 };

	check_exact(a, 2);
	check_exact(b, 2);
	check_exact(c, 2);
	check_exact(d, 2);
	check_exact(e, 2);
	check_exact(f, 3);
	check_exact(g, 2);
}

/* Smooth: weights 1:1 alternate, never two in a row. */
static void
test_swrr_smooth(void **state)
{
	const int	w[] = { 1, 1 };
	int		cur[2] = { 0 }, last = -1;

	for (int k = 0; k < 100; k++) {
		int p = router_swrr(w, cur, 2);
		assert_int_not_equal(p, last);
		last = p;
	}
}

static void
test_swrr_all_zero(void **state)
{
	const int	w[] = { 0, 0 };
	int		cur[2] = { 0 };

	assert_int_equal(router_swrr(w, cur, 2), -1);
}

static void
test_rr_skips_unusable(void **state)
{
	struct router_server	s[3] = { { 1, 0 }, { 0, 0 }, { 1, 0 } };
	size_t			cur = 0;
	int			seen[3] = { 0 };

	for (int k = 0; k < 10; k++)
		seen[router_rr(s, 3, &cur)]++;
	assert_int_equal(seen[1], 0);
	assert_int_equal(seen[0], 5);
	assert_int_equal(seen[2], 5);
	s[0].usable = s[2].usable = 0;
	assert_int_equal(router_rr(s, 3, &cur), -1);
}

static void
test_least_conn(void **state)
{
	struct router_server	s[3] = { { 1, 5 }, { 1, 2 }, { 1, 7 } };
	size_t			cur = 0;

	assert_int_equal(router_least_conn(s, 3, &cur), 1);
	s[1].usable = 0;
	assert_int_equal(router_least_conn(s, 3, &cur), 0);
	/* Ties rotate. */
	s[0].active = s[2].active = 1;
	s[1].usable = 0;
	cur = 0;
	int a = router_least_conn(s, 3, &cur);
	int b = router_least_conn(s, 3, &cur);
	assert_int_not_equal(a, b);
}

/* The reference SipHash-2-4 vectors (key 00..0f, message 00 01 ... n-1). */
static void
test_siphash_vectors(void **state)
{
	const uint64_t	k0 = 0x0706050403020100ULL, k1 = 0x0f0e0d0c0b0a0908ULL;
	unsigned char	m[16];

	for (int i = 0; i < 16; i++)
		m[i] = (unsigned char)i;
	assert_true(router_siphash(k0, k1, m, 0) == 0x726fdb47dd0e0e31ULL);
	assert_true(router_siphash(k0, k1, m, 1) == 0x74f839c593dc67fdULL);
	assert_true(router_siphash(k0, k1, m, 8) == 0x93f5f5799a932462ULL);
	assert_true(router_siphash(k0, k1, m, 15) == 0xa129ca6149be45e5ULL);
}

/* Hash of the key "10.0.K.J" for a spread of client-IP-like keys. */
static uint64_t
key_hash(int k)
{
	char	buf[32];
	int	n = snprintf(buf, sizeof(buf), "10.%d.%d.%d", k >> 16,
		    (k >> 8) & 255, k & 255);

	return router_hash(buf, (size_t)n);
}

/* Over many keys, each backend's share is its weight's share (+-1.5%). */
static void
test_sticky_split(void **state)
{
	const int	ws[][3] = { { 1, 1, 0 }, { 9, 1, 0 }, { 1, 9, 0 },
			    { 3, 5, 2 }, { 1, 999, 0 }, { 0, 7, 0 } };
	const int	nkeys = 100000;

	for (size_t t = 0; t < sizeof(ws) / sizeof(ws[0]); t++) {
		int	count[3] = { 0 }, sum = ws[t][0] + ws[t][1] + ws[t][2];

		for (int k = 0; k < nkeys; k++) {
			int i = router_sticky(ws[t], 3, key_hash(k));

			assert_true(i >= 0 && i < 3);
			assert_true(ws[t][i] > 0);
			count[i]++;
		}
		for (int i = 0; i < 3; i++) {
			double want = (double)ws[t][i] / sum;
			double got = (double)count[i] / nkeys;

			assert_true(got > want - 0.015 && got < want + 0.015);
		}
	}
}

/*
 * Moving weight from source (first) to target (second) step by step, a
 * key never goes back from target to source, and each step moves about
 * the share that moved.
 */
static void
test_sticky_monotonic(void **state)
{
	const int	steps[][2] = { { 100, 0 }, { 90, 10 }, { 50, 50 },
			    { 50, 51 }, { 10, 90 }, { 1, 999 }, { 0, 1 } };
	const int	nkeys = 50000;
	static signed char last[50000];

	for (int k = 0; k < nkeys; k++)
		last[k] = (signed char)router_sticky(steps[0], 2, key_hash(k));
	for (size_t s = 1; s < sizeof(steps) / sizeof(steps[0]); s++) {
		int moved = 0;

		for (int k = 0; k < nkeys; k++) {
			int i = router_sticky(steps[s], 2, key_hash(k));

			assert_false(last[k] == 1 && i == 0);
			moved += last[k] != i;
			last[k] = (signed char)i;
		}
		/* Only the keys in the range that changed hands moved. */
		double share = (double)steps[s][1] / (steps[s][0] + steps[s][1]) -
		    (double)steps[s - 1][1] / (steps[s - 1][0] + steps[s - 1][1]);
		assert_true((double)moved / nkeys < share + 0.015);
	}
	for (int k = 0; k < nkeys; k++)
		assert_int_equal(last[k], 1);
}

/* Same key, same backend; every weight 0 is -1; lone weight takes all. */
static void
test_sticky_edges(void **state)
{
	const int	zero[] = { 0, 0 }, only[] = { 0, 5 };
	uint64_t	h = router_hash("client-a", 8);

	assert_true(h == router_hash("client-a", 8));
	assert_true(h != router_hash("client-b", 8));
	assert_int_equal(router_sticky(zero, 2, h), -1);
	assert_int_equal(router_sticky(only, 2, 0), 1);
	assert_int_equal(router_sticky(only, 2, UINT64_MAX), 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_swrr_exact),
		cmocka_unit_test(test_swrr_smooth),
		cmocka_unit_test(test_swrr_all_zero),
		cmocka_unit_test(test_rr_skips_unusable),
		cmocka_unit_test(test_least_conn),
		cmocka_unit_test(test_siphash_vectors),
		cmocka_unit_test(test_sticky_split),
		cmocka_unit_test(test_sticky_monotonic),
		cmocka_unit_test(test_sticky_edges),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
