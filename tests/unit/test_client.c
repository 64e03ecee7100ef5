/*
 * Unit tests for client: what an idle connection's struct client costs
 * and the per-route bindings that live apart from it (client_rbind).
 * The struct's body is client.c's own (client_impl.h); the functions
 * come from the library.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../src/client_impl.h"

/* glibc's chunk for a request: size + 8 header bytes, 16-byte steps. */
static size_t
chunk(size_t n)
{
	return n + 8 <= 32 ? 32 : (n + 8 + 15) / 16 * 16;
}

/* Every idle keep-alive connection holds one: a 144-byte chunk at most. */
static void
test_struct_fits_chunk(void **state)
{
	(void)state;
	assert_true(chunk(sizeof(struct client)) <= 144);
}

/* A zeroed client as client_new leaves it: nothing bound. */
static void
fresh(struct client *c)
{
	memset(c, 0, sizeof(*c));
	c->slot = -1;
	c->rbound0 = -1;
}

/* Route slot 0 (no routes) is kept in the struct: nothing allocated. */
static void
test_rbind_default_route(void **state)
{
	struct client c;

	(void)state;
	fresh(&c);
	assert_int_equal(client_rbound(&c, 0), -1);
	assert_int_equal(client_rbind(&c, 0, 3), 0);
	assert_int_equal(client_rbound(&c, 0), 3);
	assert_int_equal(client_route_bound(&c, 0), 3);
	assert_null(c.rbound);
	assert_int_equal(client_rbound(&c, SW_ROUTE_SLOTS - 1), -1);
}

/* Other route slots get their bytes at the first binding, all -1 but it. */
static void
test_rbind_routes(void **state)
{
	struct client c;

	(void)state;
	fresh(&c);
	assert_int_equal(client_rbind(&c, 5, 1), 0);
	assert_non_null(c.rbound);
	assert_int_equal(client_rbound(&c, 5), 1);
	assert_int_equal(client_route_bound(&c, 5), 1);
	for (int rs = 1; rs < SW_ROUTE_SLOTS; rs++)
		if (rs != 5)
			assert_int_equal(client_rbound(&c, rs), -1);
	assert_int_equal(client_rbound(&c, 0), -1);
	assert_int_equal(client_rbind(&c, SW_ROUTE_SLOTS - 1, 0), 0);
	assert_int_equal(client_rbound(&c, SW_ROUTE_SLOTS - 1), 0);
	assert_int_equal(client_route_bound(&c, SW_ROUTE_SLOTS), -1);
	assert_int_equal(client_route_bound(&c, -1), -1);
	free(c.rbound);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_struct_fits_chunk),
		cmocka_unit_test(test_rbind_default_route),
		cmocka_unit_test(test_rbind_routes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
