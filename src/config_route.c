/*
 * config_route: the [route NAME] sections of the config file (see
 * route.h for what a route does): their keys, the check of their index
 * globs, and their weights resolved once every backend is known.  Part
 * of the config module (config.c clones and frees routes with the rest),
 * so that the config does not depend on the request path that reads it.
 *
 * Control thread only (config loading).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "switchover/config.h"

/* Is s a glob a route may hold?  0, or -1 with why in err. */
static int
glob_valid(const char *s, char *err, size_t errlen)
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
		if (glob_valid(tok, err, errlen) == -1 ||
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
config_route_key(struct sw_route *r, const char *key, const char *val,
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
config_route_resolve(const struct sw_config *c, struct sw_route *r,
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
