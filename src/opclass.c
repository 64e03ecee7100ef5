/*
 * opclass: read or write, from the method and the path (see opclass.h).
 *
 * A path is [/INDEX]/API[/ID]: INDEX is the first segment when it does
 * not start with '_' (names, comma lists, globs), or is "_all"; API is
 * matched whole against the table below, with the one trailing segment
 * an entry allows.  Query string and fragment are ignored.  The table
 * follows OpenSearch's REST API; README.md shows the same list.
 */
#include <string.h>

#include <llhttp.h>

#include "switchover/opclass.h"

/* What an entry accepts after its API part. */
enum tail {
	T_NONE,		/* nothing: "/_search" */
	T_ID,		/* exactly one more segment: "/_explain/<id>" */
	T_OPT,		/* nothing or one segment: "/_search/scroll[/<id>]" */
};

/*
 * The POST and DELETE endpoints that only read.  DELETE of a scroll, a
 * PIT or an async search ends a read context: nothing in the indices
 * changes (affinity decides where it goes).
 */
static const struct op_rule {
	int		 method;
	const char	*api;
	enum tail	 tail;
} rules[] = {
	{ HTTP_POST, "_search", T_NONE },
	{ HTTP_POST, "_msearch", T_NONE },
	{ HTTP_POST, "_count", T_NONE },
	{ HTTP_POST, "_mget", T_NONE },
	{ HTTP_POST, "_search/scroll", T_OPT },
	{ HTTP_POST, "_search/template", T_NONE },
	{ HTTP_POST, "_msearch/template", T_NONE },
	{ HTTP_POST, "_field_caps", T_NONE },
	{ HTTP_POST, "_validate/query", T_NONE },
	{ HTTP_POST, "_explain", T_ID },
	{ HTTP_POST, "_termvectors", T_OPT },
	{ HTTP_POST, "_mtermvectors", T_NONE },
	{ HTTP_POST, "_rank_eval", T_NONE },
	{ HTTP_POST, "_search/point_in_time", T_NONE },
	{ HTTP_POST, "_async_search", T_NONE },
	{ HTTP_POST, "_plugins/_sql", T_NONE },
	{ HTTP_POST, "_plugins/_ppl", T_NONE },
	{ HTTP_DELETE, "_search/scroll", T_OPT },
	{ HTTP_DELETE, "_search/point_in_time", T_OPT },
	{ HTTP_DELETE, "_async_search", T_ID },
};

/* Does api[0..n) match rule r's API and the tail it allows? */
static int
rule_matches(const struct op_rule *r, const char *api, size_t n)
{
	size_t l = strlen(r->api);

	if (n < l || memcmp(api, r->api, l) != 0)
		return 0;
	if (n == l)
		return r->tail != T_ID;
	if (r->tail == T_NONE || api[l] != '/' || n == l + 1)
		return 0;
	/* One segment, not two. */
	return memchr(api + l + 1, '/', n - l - 1) == NULL;
}

enum opclass_op
opclass_classify(int method, const char *url, size_t len, struct opclass *out)
{
	struct opclass	 dummy;
	const char	*p = url, *end, *seg;
	size_t		 n;

	if (out == NULL)
		out = &dummy;
	out->op = OPCLASS_WRITE;
	out->index = NULL;
	out->index_len = 0;
	out->api = NULL;
	/* The path: absolute-form loses scheme and authority; no query. */
	if (len >= 7 && (memcmp(p, "http://", 7) == 0 ||
	    (len >= 8 && memcmp(p, "https://", 8) == 0))) {
		const char *s = memchr(p + 7, '/', len - 7);

		if (s == NULL)
			s = p + len;	/* no path at all */
		len -= (size_t)(s - p);
		p = s;
	}
	if ((end = memchr(p, '?', len)) == NULL)
		end = p + len;
	if ((seg = memchr(p, '#', (size_t)(end - p))) != NULL)
		end = seg;
	if (end - p > 1 && end[-1] == '/')
		end--;			/* "/idx/_search/" */
	if (end > p && *p == '/') {
		const char *s = p + 1, *e = memchr(s, '/', (size_t)(end - s));

		if (e == NULL)
			e = end;
		if (e > s && (*s != '_' || ((size_t)(e - s) == 4 &&
		    memcmp(s, "_all", 4) == 0))) {
			out->index = s;
			out->index_len = (size_t)(e - s);
			p = e;
		}
	}
	if (method == HTTP_GET || method == HTTP_HEAD) {
		out->op = OPCLASS_READ;
		return out->op;
	}
	/* What is left is "/API...": the table's entries start with '_'. */
	if (end - p < 2 || p[0] != '/' || p[1] != '_')
		return out->op;
	n = (size_t)(end - p - 1);
	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
		if (rules[i].method == method &&
		    rule_matches(&rules[i], p + 1, n)) {
			out->op = OPCLASS_READ;
			out->api = rules[i].api;
			break;
		}
	return out->op;
}

int
opclass_idempotent(int method, const char *url, size_t len)
{
	return method == HTTP_OPTIONS ||
	    opclass_classify(method, url, len, NULL) == OPCLASS_READ;
}

const char *
opclass_name(enum opclass_op op)
{
	return op == OPCLASS_READ ? "read" : "write";
}
