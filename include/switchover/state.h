/*
 * state: the persisted weights ([state] file) and the audit trail
 * ([state] audit_log).
 *
 * The state file is small JSON, {"weights":{"source":1,"target":0},...},
 * with each route's weights under "routes" ({"reads":{"source":9,...}}),
 * replaced atomically (temp file in the same directory, fsync, rename,
 * fsync of the directory) so that a crash at any instant leaves either the
 * old or the new weights on disk, never a torn file.  The audit log is
 * JSON lines, appended.  Both are written on the control thread only;
 * the blocking fsync never touches a worker.
 */
#ifndef SWITCHOVER_STATE_H
#define SWITCHOVER_STATE_H

#include <stddef.h>

#include "switchover/config.h"

struct state_weight {
	char	name[33];		/* backend names are 1-32 chars */
	int	weight;
};

/*
 * A ramp under way, saved with the weights ({"ramp":{"step":1,"steps":
 * [10,50,100]}}, and "route":"reads" when it ramps one route) so that a
 * restart comes back paused where it was.  A file without the key (every
 * file before the ramp) has none.
 */
struct state_ramp {
	int	active;
	size_t	step;				/* index into steps */
	size_t	nsteps;
	int	steps[SW_RAMP_MAX_STEPS];
	char	route[33];			/* "": the default route */
};

/* One [route NAME]'s weights, by backend name. */
struct state_route {
	char			name[33];	/* route names are 1-32 chars */
	struct state_weight	w[SW_MAX_BACKENDS];
	size_t			n;
};

struct state_weights {
	struct state_weight	w[SW_MAX_BACKENDS];
	size_t			n;
	struct state_ramp	ramp;		/* active 0: none */
	/* A file without "routes" (every file before #13) has none. */
	struct state_route	routes[SW_MAX_ROUTES];
	size_t			nroutes;
};

/* Weights of a config and its routes, in its order (no ramp). */
void	state_from_config(struct state_weights *, const struct sw_config *);
/*
 * Replace PATH with sw, durably.  0; -1 with err filled when PATH is
 * unchanged; 1 with err filled when PATH holds sw but the rename may not
 * survive a crash (the directory's fsync failed).
 */
int	state_save(const char *path, const struct state_weights *sw,
	    char *err, size_t errlen);
/*
 * Read PATH into sw.  1 when loaded, 0 when the file does not exist,
 * -1 with err filled when it cannot be read or is not a valid state file.
 */
int	state_load(const char *path, struct state_weights *sw, char *err,
	    size_t errlen);
/*
 * Append one audit record: time, who, reason (may be NULL), old and new
 * weights.  0, or -1 with err filled.
 */
int	state_audit(const char *path, const char *who, const char *reason,
	    const struct state_weights *old, const struct state_weights *cur,
	    char *err, size_t errlen);
/*
 * The same for one route's weights: the record says "route":NAME and
 * its old and new weights (a route missing from old: {}).
 */
int	state_audit_route(const char *path, const char *who,
	    const char *reason, const char *route,
	    const struct state_weights *old, const struct state_weights *cur,
	    char *err, size_t errlen);
/* The route named name in sw, or NULL. */
const struct state_route *state_route(const struct state_weights *sw,
	    const char *name);

#endif
