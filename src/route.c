/*
 * route: request routes (see route.h): matching on the request path,
 * the [route NAME] keys, and route metric slots.
 *
 * route_match() runs on worker threads for every request when routes
 * are configured: it reads the immutable config only, classifies the
 * request once (opclass) and compares spans in place; nothing is
 * allocated or copied.  The slot table is the only shared mutable
 * state, written under a mutex by the control thread and read by
 * anyone (a slot's name never changes once set).
 */
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
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

int
route_glob_valid(const char *s, char *err, size_t errlen)
{
	size_t n = strlen(s);

	if (n == 0 || n > 255) {
		snprintf(err, errlen, "an index glob is 1-255 characters");
		return -1;
	}
	if (*s == '_' || *s == '-' || *s == '+') {
		snprintf(err, errlen, "index glob \"%s\": an index name never "
		    "starts with '_', '-' or '+'", s);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch <= ' ' || ch >= 0x7f || strchr("\\/\"<>|#%", ch)) {
			snprintf(err, errlen, "index glob \"%s\": character "
			    "'%c' cannot be in an index name", s,
			    ch > ' ' && ch < 0x7f ? ch : '?');
			return -1;
		}
		if (strchr("[]{}", ch)) {
			snprintf(err, errlen, "index glob \"%s\": only '*' and "
			    "'?' are wildcards", s);
			return -1;
		}
	}
	return 0;
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

/* strdup that keeps NULL as NULL; sets *fail when out of memory. */
static char *
dup_or_null(const char *s, int *fail)
{
	char *d;

	if (s == NULL)
		return NULL;
	if ((d = strdup(s)) == NULL)
		*fail = 1;
	return d;
}

int
route_conf_copy(struct sw_route *r, const struct sw_route *src)
{
	int fail = 0;

	r->name = dup_or_null(src->name, &fail);
	r->weights_spec = dup_or_null(src->weights_spec, &fail);
	r->indices = NULL;
	if (src->nindices > 0 && (r->indices = calloc(src->nindices,
	    sizeof(*r->indices))) == NULL) {
		r->nindices = 0;
		return -1;
	}
	for (size_t j = 0; j < r->nindices; j++)
		r->indices[j] = dup_or_null(src->indices[j], &fail);
	return fail ? -1 : 0;
}

void
route_conf_free(struct sw_route *r)
{
	for (size_t j = 0; j < r->nindices; j++)
		free(r->indices[j]);
	free(r->indices);
	free(r->name);
	free(r->weights_spec);
}

const char *
route_op_name(enum sw_route_op op)
{
	return op == ROUTE_OP_READ ? "read" : op == ROUTE_OP_WRITE ?
	    "write" : "any";
}

/* Split "a, b,c" into r->indices; -1 with err on a bad glob. */
static int
parse_indices(struct sw_route *r, const char *val, char *err, size_t errlen)
{
	char	*copy, *tok, *save = NULL;
	int	 rc = 0;

	for (size_t i = 0; i < r->nindices; i++)
		free(r->indices[i]);
	free(r->indices);
	r->indices = NULL;
	r->nindices = 0;
	if ((copy = strdup(val)) == NULL ||
	    (r->indices = calloc(strlen(val) / 2 + 1,
	    sizeof(*r->indices))) == NULL) {
		free(copy);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (tok = strtok_r(copy, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		char *e;

		while (isspace((unsigned char)*tok))
			tok++;
		for (e = tok + strlen(tok); e > tok &&
		    isspace((unsigned char)e[-1]); e--)
			;
		*e = '\0';
		if (route_glob_valid(tok, err, errlen) == -1 ||
		    (r->indices[r->nindices] = strdup(tok)) == NULL) {
			if (*err == '\0')
				snprintf(err, errlen, "out of memory");
			rc = -1;
			break;
		}
		r->nindices++;
	}
	if (rc == 0 && r->nindices == 0) {
		snprintf(err, errlen, "indices: no index glob (leave the key "
		    "out for any index)");
		rc = -1;
	}
	free(copy);
	return rc;
}

int
route_config_key(struct sw_route *r, const char *key, const char *val,
    char *err, size_t errlen)
{
	if (errlen > 0)
		*err = '\0';
	if (strcmp(key, "operation") == 0) {
		if (strcmp(val, "read") == 0)
			r->op = ROUTE_OP_READ;
		else if (strcmp(val, "write") == 0)
			r->op = ROUTE_OP_WRITE;
		else if (strcmp(val, "any") == 0)
			r->op = ROUTE_OP_ANY;
		else {
			snprintf(err, errlen, "operation: \"%s\" is not read, "
			    "write or any", val);
			return -1;
		}
		return 0;
	}
	if (strcmp(key, "indices") == 0)
		return parse_indices(r, val, err, errlen);
	if (strcmp(key, "weights") == 0) {
		free(r->weights_spec);
		if ((r->weights_spec = strdup(val)) == NULL) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		return 0;
	}
	snprintf(err, errlen, "unknown key \"%s\" in [route %s]", key,
	    r->name);
	return -1;
}

int
route_config_resolve(const struct sw_config *c, struct sw_route *r,
    char *err, size_t errlen)
{
	const char	*s = r->weights_spec;
	int		 seen[SW_MAX_BACKENDS] = { 0 }, sum = 0;

	memset(r->weights, 0, sizeof(r->weights));
	if (s == NULL) {
		snprintf(err, errlen, "[route %s] has no weights", r->name);
		return -1;
	}
	for (;;) {
		const char	*eq, *e, *ns, *ne;
		char		 name[33], *end;
		long		 v;
		size_t		 b;

		while (isspace((unsigned char)*s))
			s++;
		if ((e = strchr(s, ',')) == NULL)
			e = s + strlen(s);
		if ((eq = memchr(s, '=', (size_t)(e - s))) == NULL) {
			snprintf(err, errlen, "weights: \"%.*s\" is not "
			    "BACKEND=WEIGHT", (int)(e - s), s);
			return -1;
		}
		for (ns = s, ne = eq; ne > ns && isspace((unsigned char)ne[-1]);
		    ne--)
			;
		if (ne == ns || (size_t)(ne - ns) >= sizeof(name)) {
			snprintf(err, errlen, "weights: \"%.*s\" is not "
			    "BACKEND=WEIGHT", (int)(e - s), s);
			return -1;
		}
		memcpy(name, ns, (size_t)(ne - ns));
		name[ne - ns] = '\0';
		for (b = 0; b < c->nbackends; b++)
			if (strcmp(c->backends[b].name, name) == 0)
				break;
		if (b == c->nbackends) {
			snprintf(err, errlen, "weights: no backend named %s",
			    name);
			return -1;
		}
		v = strtol(eq + 1, &end, 10);
		while (end < e && isspace((unsigned char)*end))
			end++;
		if (end == eq + 1 || end != e || v < 0 || v > SW_WEIGHT_MAX ||
		    !isdigit((unsigned char)eq[1 + strspn(eq + 1, " \t")])) {
			snprintf(err, errlen, "weights: weight of %s must be an "
			    "integer 0-%d", name, SW_WEIGHT_MAX);
			return -1;
		}
		if (seen[b]++) {
			snprintf(err, errlen, "weights: backend %s given twice",
			    name);
			return -1;
		}
		r->weights[b] = (int)v;
		sum += (int)v;
		if (*e == '\0')
			break;
		s = e + 1;
	}
	if (sum == 0) {
		snprintf(err, errlen, "[route %s]: every weight is 0: no "
		    "request could be routed", r->name);
		return -1;
	}
	free(r->weights_spec);
	r->weights_spec = NULL;
	return 0;
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
