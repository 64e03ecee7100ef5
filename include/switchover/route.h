/*
 * route: which [route NAME] a request takes, from its method and target
 * alone, and the weights that route splits it with (#13).
 *
 * A route names an operation (read, write or any, as opclass.h
 * classifies it) and index globs; routes are tried in file order and
 * the first that matches wins; a request that matches none takes the
 * default route, the backends' own weights.  A request's index part
 * ("a,b" in /a,b/_search) matches a route's indices only when every
 * name in it matches one of the globs; a request that names no index,
 * or "_all" or "*", matches only a route without indices.
 *
 * Globs: '*' (any run, even empty) and '?' (one character); everything
 * else is literal.  A wildcard in the request itself is honoured
 * safely: a request's '*' is only covered by a glob's '*', so
 * "logs-*" goes to a "logs-*" route but "l*" does not (it could name
 * "lookups").
 *
 * Matching allocates nothing and runs no regular expression: it is on
 * every request's path, on any worker thread.  Slot names are kept in
 * a small table shared by all threads (see route_slot_assign()).
 */
#ifndef SWITCHOVER_ROUTE_H
#define SWITCHOVER_ROUTE_H

#include <stddef.h>

#include "switchover/config.h"

/*
 * Index into cfg->routes of the first route matching the request, or -1
 * for the default route.  method is the request's method name ("GET"),
 * path its target as received.  No allocation, no regex.
 */
struct opclass;
/* The same, for a request already classified (opclass_classify). */
int	route_match_class(const struct sw_config *, const struct opclass *);
int	route_match(const struct sw_config *, const char *method, size_t mlen,
	    const char *path, size_t plen);
/* The metric slot of a route index (-1: the default route, slot 0). */
int	route_slot(const struct sw_config *, int ri);
/*
 * The weights a route index uses, by backend index into w[nbackends]
 * (-1: the backends' weights).
 */
void	route_weights(const struct sw_config *, int ri, int *w);

/*
 * Does glob pat[0..plen) cover every index name that name[0..nlen)
 * may stand for (see above)?  1 or 0.
 */
int	route_glob(const char *pat, size_t plen, const char *name,
	    size_t nlen);
/*
 * The stable metric slot (1..SW_MAX_ROUTES) of a route name, assigned
 * on first sight and kept for the process's life so a route keeps its
 * slot across reloads; -1 when every slot is taken.  Thread-safe.
 */
int	route_slot_assign(const char *name);
/* The name of a slot: "default" for 0, NULL for a slot never assigned. */
const char *route_slot_name(int slot);

#endif
