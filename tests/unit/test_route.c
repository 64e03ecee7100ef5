/*
 * Unit tests for route: which route a request takes (operation by
 * method and path, index globs, comma lists, first match in file
 * order), the [route NAME] keys and their FILE:LINE errors, weights
 * and slots.
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
#include "switchover/http.h"
#include "switchover/route.h"
#include "switchover/runtime.h"
#include "switchover/wgen.h"

#define BACKENDS							\
	"[listener]\naddress = 127.0.0.1:1\n"				\
	"[backend source]\nservers = 127.0.0.1:2\nweight = 1\n"	\
	"[backend target]\nservers = 127.0.0.1:3\nweight = 0\n"

static struct sw_config *
parse(const char *text)
{
	struct config_errors	 e = { 0 };
	struct sw_config	*c = config_parse("t.conf", text, strlen(text),
				    &e);

	for (size_t i = 0; i < e.n; i++)
		fprintf(stderr, "%s\n", e.msgs[i]);
	assert_int_equal(e.n, 0);
	assert_non_null(c);
	config_errors_free(&e);
	return c;
}

/* Parse text that must fail; the error list joined by '\n'. */
static char *
parse_errors(const char *text)
{
	static char		 buf[4096];
	struct config_errors	 e = { 0 };
	size_t			 off = 0;

	assert_null(config_parse("t.conf", text, strlen(text), &e));
	buf[0] = '\0';
	for (size_t i = 0; i < e.n && off < sizeof(buf); i++)
		off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%s\n",
		    e.msgs[i]);
	config_errors_free(&e);
	return buf;
}

static int
match(const struct sw_config *c, const char *method, const char *path)
{
	return route_match(c, method, strlen(method), path, strlen(path));
}

/*
 * Operation: a route "operation = read" takes exactly the reads
 * (0), everything else falls to the default route (-1).  The rows
 * include every pair the issue names.
 */
static void
test_operation(void **state)
{
	static const struct {
		const char	*method, *path;
		int		 read;
	} rows[] = {
		{ "POST", "/_bulk", 0 },
		{ "PUT", "/_bulk", 0 },
		{ "POST", "/idx/_bulk", 0 },
		{ "PUT", "/idx/_doc/1", 0 },
		{ "POST", "/idx/_doc/1", 0 },
		{ "POST", "/idx/_doc", 0 },
		{ "DELETE", "/idx/_doc/1", 0 },
		{ "GET", "/idx/_doc/1", 1 },
		{ "HEAD", "/idx/_doc/1", 1 },
		{ "GET", "/idx/_search", 1 },
		{ "POST", "/idx/_search", 1 },
		{ "POST", "/_msearch", 1 },
		{ "POST", "/a,b/_search", 1 },
		{ "POST", "/_all/_search", 1 },
		{ "GET", "/_cat/indices", 1 },
		{ "GET", "/_cluster/health", 1 },
		{ "PUT", "/idx", 0 },
		{ "DELETE", "/idx", 0 },
		{ "HEAD", "/idx", 1 },
		{ "DELETE", "/_search/scroll", 1 },
		{ "DELETE", "/_search/scroll/DXF1", 1 },
		{ "POST", "/_search/scroll", 1 },
		{ "DELETE", "/_search/point_in_time", 1 },
		{ "DELETE", "/_async_search/abc", 1 },
		{ "POST", "/idx/_update_by_query", 0 },
		{ "POST", "/idx/_delete_by_query", 0 },
		{ "POST", "/idx/_update/1", 0 },
		{ "PUT", "/idx/_create/1", 0 },
		{ "POST", "/_reindex", 0 },
		{ "PUT", "/idx/_mapping", 0 },
		{ "POST", "/_aliases", 0 },
		{ "PUT", "/_index_template/t", 0 },
		{ "POST", "/idx/_refresh", 0 },
		{ "POST", "/idx/_flush", 0 },
		{ "POST", "/idx/_count", 1 },
		{ "POST", "/_mget", 1 },
		{ "POST", "/idx/_search/template", 1 },
		{ "POST", "/_msearch/template", 1 },
		{ "POST", "/idx/_field_caps", 1 },
		{ "POST", "/idx/_validate/query", 1 },
		{ "POST", "/idx/_explain/1", 1 },
		{ "POST", "/idx/_termvectors", 1 },
		{ "POST", "/_mtermvectors", 1 },
		{ "POST", "/idx/_rank_eval", 1 },
		{ "POST", "/idx/_search/point_in_time", 1 },
		{ "POST", "/idx/_async_search", 1 },
		{ "POST", "/_plugins/_sql", 1 },
		{ "POST", "/_plugins/_ppl", 1 },
		{ "OPTIONS", "/idx/_search", 0 },	/* unknown: a write */
		{ "PATCH", "/idx/_search", 0 },
		{ "POST", "/idx/_unknown_api", 0 },
		{ "GET", "http://h:9200/idx/_search?q=a", 1 },
	};
	struct sw_config *c = parse(BACKENDS
	    "[route reads]\noperation = read\nweights = target=1\n");
	struct sw_config *w = parse(BACKENDS
	    "[route writes]\noperation = write\nweights = target=1\n");

	assert_true(sizeof(rows) / sizeof(rows[0]) >= 30);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		int r = match(c, rows[i].method, rows[i].path);

		if (r != (rows[i].read ? 0 : -1))
			fail_msg("%s %s: read route %d", rows[i].method,
			    rows[i].path, r);
		/* ... and a write route takes exactly the others. */
		r = match(w, rows[i].method, rows[i].path);
		if (r != (rows[i].read ? -1 : 0))
			fail_msg("%s %s: write route %d", rows[i].method,
			    rows[i].path, r);
	}
	config_unref(c);
	config_unref(w);
}

/* Globs: '*' any run, '?' one character; a request's wildcard safely. */
static void
test_glob(void **state)
{
	static const struct {
		const char	*pat, *name;
		int		 ok;
	} rows[] = {
		{ "logs-*", "logs-2024.01", 1 },
		{ "logs-*", "logs-", 1 },
		{ "logs-*", "logs", 0 },
		{ "logs-*", "xlogs-1", 0 },
		{ "*-logs", "app-logs", 1 },
		{ "*-logs", "app-logs2", 0 },
		{ "a*b*c", "aXXbYYc", 1 },
		{ "a*b*c", "abc", 1 },
		{ "a*b*c", "aXXbYY", 0 },
		{ "a*b*c", "acb", 0 },
		{ "orders", "orders", 1 },
		{ "orders", "orders2", 0 },
		{ "orders", "order", 0 },
		{ "orders?", "orders1", 1 },
		{ "orders?", "orders", 0 },
		{ "orders?", "orders12", 0 },
		{ "*", "anything", 1 },
		{ "**", "x", 1 },
		{ "?", "", 0 },
		/* The request's own wildcards: only what every expansion fits. */
		{ "logs-*", "logs-*", 1 },
		{ "logs-*", "logs-2024*", 1 },
		{ "logs*", "logs-*", 1 },
		{ "logs-*", "l*", 0 },
		{ "logs-?", "logs-*", 0 },
		{ "logs-1", "logs-?", 0 },
		{ "logs-?", "logs-?", 1 },
		{ "logs-*", "logs-?", 1 },
		{ "*b", "*b", 1 },
		{ "a*", "*a", 0 },
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		if (route_glob(rows[i].pat, strlen(rows[i].pat), rows[i].name,
		    strlen(rows[i].name)) != rows[i].ok)
			fail_msg("glob %s vs %s: expected %d", rows[i].pat,
			    rows[i].name, rows[i].ok);
}

/*
 * Index lists: every name must match; "_all", "*" and no index match
 * only a route without indices.  First match in file order wins.
 */
static void
test_indices_and_order(void **state)
{
	struct sw_config *c = parse(BACKENDS
	    "[route orders]\nindices = orders*\nweights = source=1\n"
	    "[route logreads]\noperation = read\n"
	    "indices = logs-*, metrics-*\nweights = target=1\n"
	    "[route logs]\nindices = logs-*\nweights = source=1, target=1\n"
	    "[route anyread]\noperation = read\nweights = target=1\n");

	assert_int_equal(match(c, "POST", "/orders/_doc/1"), 0);
	assert_int_equal(match(c, "GET", "/orders-2024/_search"), 0);
	/* orders comes first: its reads are its own, not anyread's. */
	assert_int_equal(match(c, "POST", "/orders/_search"), 0);
	assert_int_equal(match(c, "POST", "/logs-1/_search"), 1);
	assert_int_equal(match(c, "POST", "/logs-1,metrics-2/_search"), 1);
	/* A list with one name outside: not logreads, then anyread. */
	assert_int_equal(match(c, "POST", "/logs-1,orders/_search"), 3);
	assert_int_equal(match(c, "POST", "/logs-1/_bulk"), 2);
	assert_int_equal(match(c, "PUT", "/logs-1/_doc/1"), 2);
	assert_int_equal(match(c, "POST", "/logs-*/_search"), 1);
	/* Everything: only a route without indices takes it. */
	assert_int_equal(match(c, "POST", "/_all/_search"), 3);
	assert_int_equal(match(c, "POST", "/*/_search"), 3);
	assert_int_equal(match(c, "POST", "/_search"), 3);
	assert_int_equal(match(c, "POST", "/logs-1,_all/_search"), 3);
	assert_int_equal(match(c, "POST", "/_bulk"), -1);
	assert_int_equal(match(c, "POST", "/_all/_bulk"), -1);
	assert_int_equal(match(c, "DELETE", "/other"), -1);
	assert_int_equal(match(c, "POST", "/logs-1,,x/_bulk"), -1);
	/* Query strings and absolute form do not change the index. */
	assert_int_equal(match(c, "POST", "/logs-1/_search?q=orders"), 1);
	assert_int_equal(match(c, "GET", "http://h/orders/_doc/1"), 0);
	config_unref(c);

	/*
	 * indices = * takes every named index, but not "everything": a
	 * route with indices never takes _all, * or no index.
	 */
	c = parse(BACKENDS "[route named]\nindices = *\nweights = target=1\n");
	assert_int_equal(match(c, "POST", "/x/_search"), 0);
	assert_int_equal(match(c, "POST", "/x,y-*/_bulk"), 0);
	assert_int_equal(match(c, "POST", "/_all/_search"), -1);
	assert_int_equal(match(c, "POST", "/*/_search"), -1);
	assert_int_equal(match(c, "POST", "/x,*/_search"), -1);
	assert_int_equal(match(c, "POST", "/_search"), -1);
	config_unref(c);

	/* No routes: the default route, without looking at the request. */
	c = parse(BACKENDS);
	assert_int_equal(match(c, "POST", "/logs-1/_search"), -1);
	config_unref(c);
}

/* Weights by backend index, slots 1..N stable by name, 0 = default. */
static void
test_weights_and_slots(void **state)
{
	struct sw_config	*c = parse(BACKENDS
	    "[route a]\nweights = target = 7 , source=2\n"
	    "[route b]\nweights = target=1\n");
	struct sw_config	*d;
	int			 w[SW_MAX_BACKENDS];
	int			 sa, sb;

	route_weights(c, -1, w);
	assert_int_equal(w[0], 1);
	assert_int_equal(w[1], 0);
	route_weights(c, 0, w);
	assert_int_equal(w[0], 2);
	assert_int_equal(w[1], 7);
	route_weights(c, 1, w);
	assert_int_equal(w[0], 0);	/* left out: 0 */
	assert_int_equal(w[1], 1);
	assert_string_equal(config_route(c, "b")->name, "b");
	assert_null(config_route(c, "nope"));

	assert_int_equal(runtime_assign_slots(c), 0);
	sa = route_slot(c, 0);
	sb = route_slot(c, 1);
	assert_int_equal(route_slot(c, -1), 0);
	assert_true(sa >= 1 && sa < SW_ROUTE_SLOTS);
	assert_true(sb >= 1 && sb < SW_ROUTE_SLOTS && sb != sa);
	assert_string_equal(route_slot_name(sa), "a");
	assert_string_equal(route_slot_name(0), "default");
	/* A reload in another order keeps each name's slot. */
	d = parse(BACKENDS "[route b]\nweights = target=1\n"
	    "[route a]\nweights = source=1\n");
	assert_int_equal(runtime_assign_slots(d), 0);
	assert_int_equal(route_slot(d, 0), sb);
	assert_int_equal(route_slot(d, 1), sa);

	/* A clone owns its own copy of everything. */
	config_unref(d);
	d = config_clone(c);
	assert_non_null(d);
	config_unref(c);
	assert_int_equal(d->nroutes, 2);
	assert_string_equal(d->routes[0].name, "a");
	assert_int_equal(d->routes[0].weights[1], 7);
	config_unref(d);
}

/* Every mistake is "FILE:LINE: message", at the line that made it. */
static void
test_config_errors(void **state)
{
	char	 many[4096];
	size_t	 off;

	assert_non_null(strstr(parse_errors(BACKENDS
	    "[route r]\noperation = read\nweights = source=1, nosuch=2\n"),
	    "t.conf:11: weights: no backend named nosuch"));
	assert_non_null(strstr(parse_errors(BACKENDS
	    "[route r]\nindices = logs-[0-9]\nweights = source=1\n"),
	    "t.conf:10: index glob \"logs-[0-9]\": only '*' and '?' are "
	    "wildcards"));
	assert_non_null(strstr(parse_errors(BACKENDS
	    "[route r]\nindices = a, b c\nweights = source=1\n"),
	    "t.conf:10: index glob \"b c\""));
	assert_non_null(strstr(parse_errors(BACKENDS
	    "[route r]\nindices = _all\nweights = source=1\n"),
	    "t.conf:10: index glob \"_all\""));
	assert_non_null(strstr(parse_errors(BACKENDS
	    "[route r]\nindices = ,\nweights = source=1\n"),
	    "t.conf:10: indices: no index glob"));
	assert_non_null(strstr(parse_errors(BACKENDS
	    "[route r]\noperation = search\nweights = source=1\n"),
	    "t.conf:10: operation: \"search\" is not read, write or any"));
	assert_non_null(strstr(parse_errors(BACKENDS
	    "[route r]\nweights = source=1\n[route r]\n"),
	    "t.conf:11: route r defined twice"));
	assert_non_null(strstr(parse_errors(BACKENDS
	    "[route r]\nweights = source=1000\n"),
	    "t.conf:10: weights: weight of source must be an integer 0-999"));
	assert_non_null(strstr(parse_errors(BACKENDS
	    "[route r]\nweights = source=-1\n"),
	    "t.conf:10: weights: weight of source must be an integer 0-999"));
	assert_non_null(strstr(parse_errors(BACKENDS
	    "[route r]\nweights = source=1x\n"),
	    "t.conf:10: weights: weight of source must be"));
	assert_non_null(strstr(parse_errors(BACKENDS
	    "[route r]\nweights = source\n"),
	    "t.conf:10: weights: \"source\" is not BACKEND=WEIGHT"));
	assert_non_null(strstr(parse_errors(BACKENDS
	    "[route r]\nweights = source=1, source=2\n"),
	    "t.conf:10: weights: backend source given twice"));
	assert_non_null(strstr(parse_errors(BACKENDS
	    "[route r]\nweights = source=0, target=0\n"),
	    "t.conf:10: [route r]: every weight is 0"));
	assert_non_null(strstr(parse_errors(BACKENDS
	    "[route r]\noperation = read\n"),
	    "t.conf:9: [route r] has no weights"));
	assert_non_null(strstr(parse_errors(BACKENDS
	    "[route r]\nweights = source=1\ncolour = blue\n"),
	    "t.conf:11: unknown key \"colour\" in [route r]"));
	assert_non_null(strstr(parse_errors(BACKENDS
	    "[route default]\nweights = source=1\n"),
	    "t.conf:9: route name \"default\" must be"));
	assert_non_null(strstr(parse_errors(BACKENDS
	    "[route a b]\nweights = source=1\n"),
	    "t.conf:9: route name \"a b\" must be"));
	/* A weights line before its backends exist is still resolved. */
	config_unref(parse("[route early]\nweights = target=1\n" BACKENDS));
	/* One route too many. */
	off = (size_t)snprintf(many, sizeof(many), "%s", BACKENDS);
	for (int i = 0; i <= SW_MAX_ROUTES; i++)
		off += (size_t)snprintf(many + off, sizeof(many) - off,
		    "[route r%d]\nweights = source=1\n", i);
	assert_non_null(strstr(parse_errors(many), "t.conf:41: too many "
	    "routes (max 16)"));
}

/* A worker generation over c, enough for wgen_route(). */
static void
gen_init(struct wgen *g, struct sw_config *c)
{
	memset(g, 0, sizeof(*g));
	g->cfg = c;
	for (size_t i = 0; i < c->nbackends; i++)
		g->backends[i].conf = &c->backends[i];
}

/* The backend name wgen_route picks for route index ri. */
static const char *
pick(struct wgen *g, int ri, int pinned, const char *addr)
{
	struct http_head	 h;
	struct wbackend		*b;

	memset(&h, 0, sizeof(h));
	b = wgen_route(g, ri, pinned, &h, addr);
	return b == NULL ? "none" : b->conf->name;
}

/*
 * The pick: each route splits by its own weights with its own SWRR
 * state (a default pick between two of a route's does not shift it),
 * sticky hashes within the route's weights, and a pin wins.
 */
static void
test_pick(void **state)
{
	struct sw_config	*c = parse(BACKENDS
	    "[route even]\nweights = source=1, target=1\n"
	    "[route tgt]\noperation = read\nweights = target=1\n");
	struct wgen		 g;
	char			 seq[64] = "";

	c->backends[1].weight = 1;	/* default 1:1 too */
	assert_int_equal(runtime_assign_slots(c), 0);
	gen_init(&g, c);
	for (int i = 0; i < 6; i++) {
		strcat(seq, pick(&g, 0, -1, "a")[0] == 's' ? "s" : "t");
		(void)pick(&g, -1, -1, "a");	/* the default's turn */
	}
	assert_string_equal(seq, "ststst");
	assert_string_equal(pick(&g, 1, -1, "a"), "target");
	/* A pin wins over the route's weights, whatever they are. */
	assert_string_equal(pick(&g, 1, c->backends[0].metric_slot, "a"),
	    "source");

	/* Sticky: the key's point in the route's weights. */
	c->policy = POLICY_STICKY;
	c->backends[1].weight = 0;	/* default: source only */
	for (int k = 0; k < 20; k++) {
		char addr[32];

		snprintf(addr, sizeof(addr), "10.0.0.%d", k);
		assert_string_equal(pick(&g, 1, -1, addr), "target");
		assert_string_equal(pick(&g, -1, -1, addr), "source");
	}
	config_unref(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_operation),
		cmocka_unit_test(test_glob),
		cmocka_unit_test(test_indices_and_order),
		cmocka_unit_test(test_weights_and_slots),
		cmocka_unit_test(test_config_errors),
		cmocka_unit_test(test_pick),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
