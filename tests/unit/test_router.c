/* Unit tests for router: SWRR exactness and server balancing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_swrr_exact),
		cmocka_unit_test(test_swrr_smooth),
		cmocka_unit_test(test_swrr_all_zero),
		cmocka_unit_test(test_rr_skips_unusable),
		cmocka_unit_test(test_least_conn),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
