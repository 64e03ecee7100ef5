/*
 * route: request routes (see route.h): matching on the request path,
 * and route metric slots.  The [route NAME] keys are read by the config
 * module (config_route.c).
 *
 * route_match() runs on worker threads for every request when routes
 * are configured: it reads the immutable config only, classifies the
 * request once (opclass) and compares spans in place; nothing is
 * allocated or copied.  The slot table is the only shared mutable
 * state, written under a mutex by the control thread and read by
 * anyone (a slot's name never changes once set).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <llhttp.h>

#include "switchover/opclass.h"
#include "switchover/route.h"

static pthread_mutex_t	 slot_lock = PTHREAD_MUTEX_INITIALIZER;
static char		*slot_names[SW_ROUTE_SLOTS];	/* [0] unused */

/* llhttp's method number for a method name: only what opclass tells apart. */
static int
method_num(const char *m, size_t n)
{
	if (n == 3 && memcmp(m, "GET", 3) == 0)
		return HTTP_GET;
	if (n == 4 && memcmp(m, "HEAD", 4) == 0)
		return HTTP_HEAD;
	if (n == 4 && memcmp(m, "POST", 4) == 0)
		return HTTP_POST;
	if (n == 6 && memcmp(m, "DELETE", 6) == 0)
		return HTTP_DELETE;
	return HTTP_PUT;	/* any other method may write */
}

int
route_glob(const char *pat, size_t plen, const char *name, size_t nlen)
{
	size_t	 i = 0, j = 0, star_i = (size_t)-1, star_j = 0;

	/*
	 * Iterative glob with one backtrack point (the last '*'): linear
	 * in practice, no recursion.  A request's own '*' stands for any
	 * run, so only a glob '*' may take it; its '?' only a glob '?' or
	 * '*'.
	 */
	while (j < nlen) {
		if (i < plen && pat[i] == '*') {
			star_i = i++;
			star_j = j;
		} else if (i < plen && name[j] != '*' && (pat[i] == '?' ||
		    (pat[i] == name[j] && name[j] != '?'))) {
			i++;
			j++;
		} else if (star_i != (size_t)-1) {
			i = star_i + 1;
			j = ++star_j;
		} else
			return 0;
	}
	while (i < plen && pat[i] == '*')
		i++;
	return i == plen;
}

/* Does every name in the comma list idx[0..n) match one of r's globs? */
static int
indices_match(const struct sw_route *r, const char *idx, size_t n)
{
	const char *s = idx, *end = idx + n;

	while (s <= end) {
		const char	*e = memchr(s, ',', (size_t)(end - s));
		size_t		 l, k;

		if (e == NULL)
			e = end;
		l = (size_t)(e - s);
		for (k = 0; k < r->nindices; k++)
			if (route_glob(r->indices[k], strlen(r->indices[k]),
			    s, l))
				break;
		if (k == r->nindices)
			return 0;
		s = e + 1;
	}
	return 1;
}

/* Is the name list "everything": "_all", or a name of '*' only? */
static int
indices_all(const char *idx, size_t n)
{
	const char *s = idx, *end = idx + n;

	while (s <= end) {
		const char	*e = memchr(s, ',', (size_t)(end - s));
		size_t		 l;

		if (e == NULL)
			e = end;
		l = (size_t)(e - s);
		if ((l == 4 && memcmp(s, "_all", 4) == 0) ||
		    (l > 0 && strspn(s, "*") >= l))
			return 1;
		s = e + 1;
	}
	return 0;
}

int
route_match(const struct sw_config *c, const char *method, size_t mlen,
    const char *path, size_t plen)
{
	struct opclass	oc;

	if (c->nroutes == 0)
		return -1;
	opclass_classify(method_num(method, mlen), path, plen, &oc);
	return route_match_class(c, &oc);
}

int
route_match_class(const struct sw_config *c, const struct opclass *cl)
{
	const struct opclass	oc = *cl;
	int			all;

	if (c->nroutes == 0)
		return -1;
	all = oc.index == NULL || indices_all(oc.index, oc.index_len);
	for (size_t i = 0; i < c->nroutes; i++) {
		const struct sw_route *r = &c->routes[i];

		if ((r->op == ROUTE_OP_READ && oc.op != OPCLASS_READ) ||
		    (r->op == ROUTE_OP_WRITE && oc.op != OPCLASS_WRITE))
			continue;
		if (r->nindices == 0)
			return (int)i;
		if (!all && indices_match(r, oc.index, oc.index_len))
			return (int)i;
	}
	return -1;
}

int
route_slot(const struct sw_config *c, int ri)
{
	if (ri < 0 || (size_t)ri >= c->nroutes || c->routes[ri].metric_slot < 0)
		return 0;
	return c->routes[ri].metric_slot;
}

void
route_weights(const struct sw_config *c, int ri, int *w)
{
	for (size_t i = 0; i < c->nbackends; i++)
		w[i] = ri < 0 || (size_t)ri >= c->nroutes ?
		    c->backends[i].weight : c->routes[ri].weights[i];
}

int
route_slot_assign(const char *name)
{
	int slot = -1;

	pthread_mutex_lock(&slot_lock);
	for (int i = 1; i < SW_ROUTE_SLOTS; i++) {
		if (slot_names[i] == NULL) {
			if ((slot_names[i] = strdup(name)) != NULL)
				slot = i;
			break;
		}
		if (strcmp(slot_names[i], name) == 0) {
			slot = i;
			break;
		}
	}
	pthread_mutex_unlock(&slot_lock);
	return slot;
}

const char *
route_slot_name(int slot)
{
	const char *n;

	if (slot == 0)
		return "default";
	if (slot < 0 || slot >= SW_ROUTE_SLOTS)
		return NULL;
	pthread_mutex_lock(&slot_lock);
	n = slot_names[slot];
	pthread_mutex_unlock(&slot_lock);
	return n;
}
