/*
 * opclass: what an OpenSearch / Elasticsearch request does, from its
 * method and target alone (never the body): a read or a write.
 *
 * One table (in opclass.c, mirrored in README.md) says which POST and
 * DELETE endpoints only read; GET and HEAD always read; everything else,
 * and anything unknown, writes: when in doubt, a request is treated as
 * one that changes data.  Pure functions: no allocation, no regular
 * expression, no locale; safe on any thread.
 *
 * Users: the resend rule (client.c: a request that may have reached a
 * server is sent again only if idempotent), and request routes (#13).
 */
#ifndef SWITCHOVER_OPCLASS_H
#define SWITCHOVER_OPCLASS_H

#include <stddef.h>

enum opclass_op {
	OPCLASS_WRITE = 0,	/* changes data, or unknown */
	OPCLASS_READ,		/* reads only (or ends a read context) */
};

struct opclass {
	enum opclass_op	 op;
	/*
	 * The index part of the path (first segment, when it does not
	 * start with '_', or is "_all"): "logs", "a,b", "_all", "*";
	 * NULL/0 when the request names none.
	 */
	const char	*index;
	size_t		 index_len;
	/* The table entry that made it a read ("_search"), or NULL. */
	const char	*api;
};

/*
 * Classify a request: method is llhttp's (HTTP_GET, ...), url the
 * request target as received (query string ignored).  Fills *out
 * (may be NULL) and returns its op.
 */
enum opclass_op	opclass_classify(int method, const char *url, size_t len,
		    struct opclass *out);
/*
 * May the request be sent again after a connection died under it (it
 * may have been processed)?  Reads, and OPTIONS, yes; writes no.
 */
int		opclass_idempotent(int method, const char *url, size_t len);
/* The name of an op ("read", "write"). */
const char	*opclass_name(enum opclass_op);

#endif
