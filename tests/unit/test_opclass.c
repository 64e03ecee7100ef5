/* Unit tests for opclass: one row per method and path, as README's table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <llhttp.h>

#include "switchover/opclass.h"

#define R	OPCLASS_READ
#define W	OPCLASS_WRITE

static const struct row {
	int		 method;
	const char	*url;
	enum opclass_op	 op;
	const char	*index;		/* expected index part, or NULL */
} rows[] = {
	/* GET and HEAD of anything. */
	{ HTTP_GET, "/", R, NULL },
	{ HTTP_HEAD, "/", R, NULL },
	{ HTTP_GET, "/idx/_search", R, "idx" },
	{ HTTP_GET, "/_cat/indices", R, NULL },
	{ HTTP_GET, "/_cat/indices?v", R, NULL },
	{ HTTP_GET, "/_cluster/health", R, NULL },
	{ HTTP_HEAD, "/idx", R, "idx" },
	{ HTTP_GET, "/idx/_doc/1", R, "idx" },
	{ HTTP_GET, "/_search/scroll/abc", R, NULL },
	/* POST reads, with and without an index. */
	{ HTTP_POST, "/idx/_search", R, "idx" },
	{ HTTP_POST, "/_search", R, NULL },
	{ HTTP_POST, "/a,b/_search", R, "a,b" },
	{ HTTP_POST, "/_all/_search", R, "_all" },
	{ HTTP_POST, "/logs-*/_search?size=0&q=a/b", R, "logs-*" },
	{ HTTP_POST, "/idx/_search/", R, "idx" },
	{ HTTP_POST, "/_msearch", R, NULL },
	{ HTTP_POST, "/idx/_msearch", R, "idx" },
	{ HTTP_POST, "/idx/_count", R, "idx" },
	{ HTTP_POST, "/_mget", R, NULL },
	{ HTTP_POST, "/idx/_mget", R, "idx" },
	{ HTTP_POST, "/_search/scroll", R, NULL },
	{ HTTP_POST, "/_search/scroll?scroll=1m", R, NULL },
	{ HTTP_POST, "/_search/scroll/DXF1ZXJ5", R, NULL },
	{ HTTP_POST, "/idx/_search/template", R, "idx" },
	{ HTTP_POST, "/_msearch/template", R, NULL },
	{ HTTP_POST, "/idx/_field_caps?fields=a", R, "idx" },
	{ HTTP_POST, "/idx/_validate/query", R, "idx" },
	{ HTTP_POST, "/idx/_explain/1", R, "idx" },
	{ HTTP_POST, "/idx/_termvectors", R, "idx" },
	{ HTTP_POST, "/idx/_termvectors/1", R, "idx" },
	{ HTTP_POST, "/_mtermvectors", R, NULL },
	{ HTTP_POST, "/idx/_rank_eval", R, "idx" },
	{ HTTP_POST, "/idx/_search/point_in_time?keep_alive=1m", R, "idx" },
	{ HTTP_POST, "/idx/_async_search", R, "idx" },
	{ HTTP_POST, "/_plugins/_sql?format=json", R, NULL },
	{ HTTP_POST, "/_plugins/_ppl", R, NULL },
	{ HTTP_POST, "http://es.example:9200/idx/_search", R, "idx" },
	/* DELETE that ends a read context. */
	{ HTTP_DELETE, "/_search/scroll", R, NULL },
	{ HTTP_DELETE, "/_search/scroll/_all", R, NULL },
	{ HTTP_DELETE, "/_search/point_in_time", R, NULL },
	{ HTTP_DELETE, "/_search/point_in_time/_all", R, NULL },
	{ HTTP_DELETE, "/_async_search/FmRld", R, NULL },
	/* Writes. */
	{ HTTP_POST, "/_bulk", W, NULL },
	{ HTTP_POST, "/idx/_bulk", W, "idx" },
	{ HTTP_PUT, "/_bulk", W, NULL },
	{ HTTP_POST, "/idx/_doc", W, "idx" },
	{ HTTP_POST, "/idx/_doc/1", W, "idx" },
	{ HTTP_PUT, "/idx/_doc/1", W, "idx" },
	{ HTTP_DELETE, "/idx/_doc/1", W, "idx" },
	{ HTTP_PUT, "/idx/_create/1", W, "idx" },
	{ HTTP_POST, "/idx/_update/1", W, "idx" },
	{ HTTP_POST, "/idx/_delete_by_query", W, "idx" },
	{ HTTP_POST, "/idx/_update_by_query", W, "idx" },
	{ HTTP_POST, "/_reindex", W, NULL },
	{ HTTP_PUT, "/idx", W, "idx" },
	{ HTTP_DELETE, "/idx", W, "idx" },
	{ HTTP_PUT, "/idx/_mapping", W, "idx" },
	{ HTTP_POST, "/_aliases", W, NULL },
	{ HTTP_PUT, "/_index_template/t", W, NULL },
	{ HTTP_POST, "/idx/_refresh", W, "idx" },
	{ HTTP_POST, "/idx/_flush", W, "idx" },
	/* The read table is exact: near misses and other methods write. */
	{ HTTP_PUT, "/idx/_search", W, "idx" },
	{ HTTP_DELETE, "/idx/_search", W, "idx" },
	{ HTTP_POST, "/idx/_searchx", W, "idx" },
	{ HTTP_POST, "/idx/_search/other", W, "idx" },
	{ HTTP_POST, "/idx/_explain", W, "idx" },
	{ HTTP_POST, "/idx/_explain/1/2", W, "idx" },
	{ HTTP_DELETE, "/_async_search", W, NULL },
	{ HTTP_POST, "/idx/type/_search", W, "idx" },
	{ HTTP_POST, "//_search", W, NULL },
	{ HTTP_POST, "/_Search", W, NULL },
	{ HTTP_POST, "/_pit", W, NULL },
	{ HTTP_POST, "", W, NULL },
	{ HTTP_POST, "*", W, NULL },
	{ HTTP_PATCH, "/idx/_search", W, "idx" },
	{ HTTP_OPTIONS, "/idx/_search", W, "idx" },
	{ HTTP_OPTIONS, "/", W, NULL },
};

static void
test_table(void **state)
{
	char what[256];

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row	*r = &rows[i];
		struct opclass		 oc;
		enum opclass_op		 op;

		snprintf(what, sizeof(what), "%s %s", llhttp_method_name(r->method),
		    r->url);
		op = opclass_classify(r->method, r->url, strlen(r->url), &oc);
		if (op != r->op || oc.op != op) {
			print_error("%s: %s, expected %s\n", what,
			    opclass_name(op), opclass_name(r->op));
			fail();
		}
		if (r->index == NULL && oc.index != NULL) {
			print_error("%s: index '%.*s', expected none\n", what,
			    (int)oc.index_len, oc.index);
			fail();
		}
		if (r->index != NULL && (oc.index == NULL ||
		    oc.index_len != strlen(r->index) ||
		    memcmp(oc.index, r->index, oc.index_len) != 0)) {
			print_error("%s: index '%.*s', expected '%s'\n", what,
			    (int)oc.index_len, oc.index ? oc.index : "",
			    r->index);
			fail();
		}
		/* A POST or DELETE read names the entry that made it one. */
		if (op == OPCLASS_READ && r->method != HTTP_GET &&
		    r->method != HTTP_HEAD)
			assert_non_null(oc.api);
	}
	assert_true(sizeof(rows) / sizeof(rows[0]) >= 30);
}

/* The URL is not NUL-terminated: only len bytes count. */
static void
test_length_bounds(void **state)
{
	const char buf[] = "/idx/_search/scroll";

	(void)state;
	assert_int_equal(opclass_classify(HTTP_POST, buf, 12, NULL), R);
	assert_int_equal(opclass_classify(HTTP_POST, buf, 11, NULL), W);
	/* The table does not ask which APIs take an index. */
	assert_int_equal(opclass_classify(HTTP_POST, buf, sizeof(buf) - 1,
	    NULL), R);
	assert_int_equal(opclass_classify(HTTP_POST, buf + 4, 8, NULL), R);
	assert_int_equal(opclass_classify(HTTP_POST, buf, 0, NULL), W);
	assert_int_equal(opclass_classify(HTTP_GET, buf, 0, NULL), R);
}

/* The resend rule: reads and OPTIONS may go again, writes never. */
static void
test_idempotent(void **state)
{
	(void)state;
	assert_true(opclass_idempotent(HTTP_GET, "/idx/_doc/1", 11));
	assert_true(opclass_idempotent(HTTP_HEAD, "/", 1));
	assert_true(opclass_idempotent(HTTP_OPTIONS, "/idx/_doc", 9));
	assert_true(opclass_idempotent(HTTP_POST, "/idx/_search", 12));
	assert_true(opclass_idempotent(HTTP_DELETE, "/_search/scroll", 15));
	assert_false(opclass_idempotent(HTTP_POST, "/idx/_doc", 9));
	assert_false(opclass_idempotent(HTTP_POST, "/_bulk", 6));
	assert_false(opclass_idempotent(HTTP_PUT, "/idx/_doc/1", 11));
	assert_false(opclass_idempotent(HTTP_DELETE, "/idx", 4));
	assert_string_equal(opclass_name(OPCLASS_READ), "read");
	assert_string_equal(opclass_name(OPCLASS_WRITE), "write");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_length_bounds),
		cmocka_unit_test(test_idempotent),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
