/*
 * Unit tests for fdbudget: the open file limit shared out, with the
 * admin API, idle pools, DNS and AWS counted before clients.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "switchover/config.h"
#include "switchover/fdbudget.h"

/* A config: [admin] and [upstream] lines, backends' servers, more. */
static struct sw_config *
conf(const char *admin, const char *upstream, const char *src,
    const char *tgt, const char *more)
{
	char			 text[1024];
	struct config_errors	 e = { 0 };
	struct sw_config	*c;

	snprintf(text, sizeof(text), "[listener]\naddress = 127.0.0.1:9200\n"
	    "[admin]\n%s\n[upstream]\n%s\n[backend source]\nservers = %s\n"
	    "weight = 1\n[backend target]\nservers = %s\nweight = 0\n%s\n",
	    admin, upstream, src, tgt, more);
	c = config_parse("t.conf", text, strlen(text), &e);
	for (size_t i = 0; i < e.n; i++)
		fprintf(stderr, "%s\n", e.msgs[i]);
	assert_non_null(c);
	config_errors_free(&e);
	return c;
}

static void
test_defaults(void **state)
{
	struct sw_config	*c = conf("", "", "127.0.0.1:1", "127.0.0.1:2",
				    "");
	struct fd_budget	 b;
	char			 s[512];

	fd_budget(c, 2, 20000, &b);
	assert_int_equal(b.reserve, 32 + 8 * 2);
	assert_int_equal(b.admin, 64 + 1);
	assert_int_equal(b.pool_idle, 64 * 2 * 2);	/* per server, worker */
	assert_int_equal(b.dns, 0);			/* literals only */
	assert_int_equal(b.aws, 0);
	assert_int_equal(b.clients, (20000 - 48 - 65 - 256) / 2);
	fd_budget_str(&b, s, sizeof(s));
	assert_string_equal(s, "open file limit 20000 = 48 reserved + 65 "
	    "admin + 256 idle upstream + 0 DNS + 0 AWS + "
	    "2 x 9815 clients");
	config_unref(c);
}

static void
test_everything_counted(void **state)
{
	struct sw_config	*c = conf("max_connections = 10",
				    "pool_max_idle = 5",
				    "source.example:9200, 127.0.0.1:2",
				    "127.0.0.1:3", "[aws]\necs_cluster = m\n"
				    "source_service = a\ntarget_service = b\n");
	struct fd_budget	 b;

	fd_budget(c, 4, 1024, &b);
	assert_int_equal(b.reserve, 64);
	assert_int_equal(b.admin, 11);
	assert_int_equal(b.pool_idle, 5 * 3 * 4);
	assert_int_equal(b.dns, FD_BUDGET_DNS);
	assert_int_equal(b.aws, FD_BUDGET_AWS);
	assert_int_equal(b.clients, (1024 - 64 - 11 - 60 - FD_BUDGET_DNS -
	    FD_BUDGET_AWS) / 2);
	config_unref(c);
}

static void
test_admin_off_and_limits(void **state)
{
	struct sw_config	*c = conf("address = off", "pool_max_idle = 0",
				    "127.0.0.1:1", "127.0.0.1:2", "");
	struct fd_budget	 b;
	char			 s[512];

	fd_budget(c, 1, 96, &b);
	assert_int_equal(b.admin, 0);
	assert_int_equal(b.pool_idle, 0);
	assert_int_equal(b.clients, (96 - 40) / 2);
	/* No limit: the most we ever take. */
	fd_budget(c, 1, -1, &b);
	assert_int_equal(b.clients, FD_BUDGET_CLIENTS_MAX);
	fd_budget_str(&b, s, sizeof(s));
	assert_string_equal(s, "no open file limit");
	/* Overdrawn: still one client, and the log says so. */
	fd_budget(c, 1, 20, &b);
	assert_int_equal(b.clients, 1);
	fd_budget_str(&b, s, sizeof(s));
	assert_non_null(strstr(s, "overdrawn"));
	/* Pools bigger than the clients they serve count as many as those. */
	config_unref(c);
	c = conf("", "", "127.0.0.1:1", "127.0.0.1:2", "");
	fd_budget(c, 8, 1024, &b);			/* 8 cores, ulimit -n */
	assert_int_equal(b.clients, (1024 - 96 - 65) / 3);
	assert_int_equal(b.pool_idle, b.clients);
	assert_true(b.reserve + b.admin + b.pool_idle + 2 * b.clients <= 1024);
	fd_budget_str(&b, s, sizeof(s));
	assert_null(strstr(s, "overdrawn"));
	/* A huge limit is capped. */
	fd_budget(c, 1, 100000000, &b);
	assert_int_equal(b.clients, FD_BUDGET_CLIENTS_MAX);
	config_unref(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_everything_counted),
		cmocka_unit_test(test_admin_off_and_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
