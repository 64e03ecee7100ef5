/*
 * state: persisted weights and the audit log.
 *
 * Runs on the control thread only.  state_save() is the durability point
 * of a weight change: runtime_set_weights() calls it before publishing, so
 * an acknowledged change is on disk even if the process is killed the next
 * instant.  Nothing here keeps a file open between calls.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "switchover/state.h"

#define STATE_MAX_SIZE	(64 * 1024)

/* printf into err, if the caller gave room for it. */
static void
seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

void
state_from_config(struct state_weights *sw, const struct sw_config *c)
{
	memset(sw, 0, sizeof(*sw));
	for (size_t i = 0; i < c->nbackends && i < SW_MAX_BACKENDS; i++) {
		snprintf(sw->w[i].name, sizeof(sw->w[i].name), "%s",
		    c->backends[i].name);
		sw->w[i].weight = c->backends[i].weight;
	}
	sw->n = c->nbackends;
	for (size_t r = 0; r < c->nroutes && r < SW_MAX_ROUTES; r++) {
		struct state_route *sr = &sw->routes[r];

		snprintf(sr->name, sizeof(sr->name), "%s", c->routes[r].name);
		for (size_t i = 0; i < c->nbackends && i < SW_MAX_BACKENDS;
		    i++) {
			snprintf(sr->w[i].name, sizeof(sr->w[i].name), "%s",
			    c->backends[i].name);
			sr->w[i].weight = c->routes[r].weights[i];
		}
		sr->n = c->nbackends;
	}
	sw->nroutes = c->nroutes;
}

const struct state_route *
state_route(const struct state_weights *sw, const char *name)
{
	for (size_t r = 0; r < sw->nroutes; r++)
		if (strcmp(sw->routes[r].name, name) == 0)
			return &sw->routes[r];
	return NULL;
}

/* {"source":1,"target":0} of w[0..n): a new reference, or NULL. */
static json_t *
wlist_json(const struct state_weight *w, size_t n)
{
	json_t *o = json_object();

	for (size_t i = 0; o != NULL && i < n; i++)
		if (json_object_set_new(o, w[i].name,
		    json_integer(w[i].weight)) == -1) {
			json_decref(o);
			return NULL;
		}
	return o;
}

/* The backends' weights as JSON: a new reference, or NULL. */
static json_t *
weights_json(const struct state_weights *sw)
{
	return wlist_json(sw->w, sw->n);
}

/* {"reads":{"source":9,...},...}: a new reference, or NULL. */
static json_t *
routes_json(const struct state_weights *sw)
{
	json_t *o = json_object();

	for (size_t r = 0; o != NULL && r < sw->nroutes; r++)
		if (json_object_set_new(o, sw->routes[r].name,
		    wlist_json(sw->routes[r].w, sw->routes[r].n)) == -1) {
			json_decref(o);
			return NULL;
		}
	return o;
}

/* {"step":i,"steps":[...]}: a new reference, or NULL. */
static json_t *
ramp_json(const struct state_ramp *r)
{
	json_t *steps = json_array();

	for (size_t i = 0; steps != NULL && i < r->nsteps; i++)
		json_array_append_new(steps, json_integer(r->steps[i]));
	json_t *o = json_pack("{s:I, s:o?}", "step", (json_int_t)r->step,
	    "steps", steps);

	if (o != NULL && r->route[0] != '\0' && json_object_set_new(o, "route",
	    json_string(r->route)) == -1) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* The optional "ramp" object of a state file into r.  0, or -1 with err. */
static int
ramp_load(const char *path, json_t *o, struct state_ramp *r, char *err,
    size_t errlen)
{
	json_t		*steps = json_object_get(o, "steps"), *v;
	json_t		*step = json_object_get(o, "step");
	char		 why[128];
	size_t		 i;

	if (!json_is_object(o) || !json_is_array(steps) ||
	    !json_is_integer(step) ||
	    json_array_size(steps) > SW_RAMP_MAX_STEPS) {
		seterr(err, errlen, "%s: \"ramp\" is not {\"step\":N,"
		    "\"steps\":[...]}", path);
		return -1;
	}
	json_array_foreach(steps, i, v) {
		json_int_t n = json_integer_value(v);

		r->steps[i] = json_is_integer(v) && n >= 0 && n <= 100 ?
		    (int)n : -1;
	}
	r->nsteps = json_array_size(steps);
	if (config_ramp_steps_check(r->steps, r->nsteps, why,
	    sizeof(why)) == -1) {
		seterr(err, errlen, "%s: ramp %s", path, why);
		return -1;
	}
	if (json_integer_value(step) < 0 ||
	    (size_t)json_integer_value(step) >= r->nsteps) {
		seterr(err, errlen, "%s: ramp step is not one of its steps",
		    path);
		return -1;
	}
	r->step = (size_t)json_integer_value(step);
	/* A route name as config accepts it; the ramp checks it exists. */
	if ((v = json_object_get(o, "route")) != NULL && (!json_is_string(v) ||
	    json_string_length(v) < 1 || json_string_length(v) >=
	    sizeof(r->route) || strspn(json_string_value(v), "abcdefghijklmno"
	    "pqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") !=
	    json_string_length(v))) {
		seterr(err, errlen, "%s: ramp route is not a route name", path);
		return -1;
	}
	if (v != NULL)
		snprintf(r->route, sizeof(r->route), "%s",
		    json_string_value(v));
	r->active = 1;
	return 0;
}

/* Current UTC time as 2026-11-24T09:30:00.123Z. */
static void
now_iso(char *buf, size_t len)
{
	struct timespec	ts;
	struct tm	tm;
	char		s[32];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%s.%03dZ", s, (int)(ts.tv_nsec / 1000000) % 1000);
}

/* write(2) all of buf, retrying short writes. */
static int
write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* fsync the directory holding path, so a rename in it is durable. */
static int
fsync_dir(const char *path)
{
	char	*copy;
	int	 fd, r;

	if ((copy = strdup(path)) == NULL)
		return -1;
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(copy);
	if (fd == -1)
		return -1;
	r = fsync(fd);
	close(fd);
	return r;
}

int
state_save(const char *path, const struct state_weights *sw, char *err,
    size_t errlen)
{
	json_t	*doc = NULL;
	char	*text = NULL, *tmp = NULL, when[40];
	int	 fd = -1, rc = -1;

	now_iso(when, sizeof(when));
	if ((doc = json_pack("{s:o?, s:s}", "weights", weights_json(sw),
	    "saved", when)) == NULL ||
	    (sw->ramp.active && json_object_set_new(doc, "ramp",
	    ramp_json(&sw->ramp)) == -1) ||
	    (sw->nroutes > 0 && json_object_set_new(doc, "routes",
	    routes_json(sw)) == -1) ||
	    (text = json_dumps(doc, JSON_SORT_KEYS)) == NULL ||
	    asprintf(&tmp, "%s.tmp", path) == -1) {
		tmp = NULL;
		seterr(err, errlen, "out of memory");
		goto fail;
	}
	/*
	 * The temp file lives beside the target: rename must not cross fs.
	 * It is always a new file: a symlink planted at its name is not
	 * followed (O_EXCL fails on it, O_NOFOLLOW too).  One left by a
	 * crash, or planted, is removed (the link, never what it points at)
	 * and creation tried once more.
	 */
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    0640);
	if (fd == -1 && errno == EEXIST && unlink(tmp) == 0)
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
		    O_CLOEXEC, 0640);
	if (fd == -1) {
		seterr(err, errlen, "%s: %s", tmp, strerror(errno));
		goto fail;
	}
	if (write_all(fd, text, strlen(text)) == -1 ||
	    write_all(fd, "\n", 1) == -1 || fsync(fd) == -1) {
		seterr(err, errlen, "%s: %s", tmp, strerror(errno));
		goto fail;
	}
	if (close(fd) == -1) {
		fd = -1;
		seterr(err, errlen, "%s: %s", tmp, strerror(errno));
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) == -1) {
		seterr(err, errlen, "rename %s: %s", path, strerror(errno));
		goto fail;
	}
	/* From here on the file holds the new weights: never "not saved". */
	if (fsync_dir(path) == -1) {
		seterr(err, errlen, "saved, but a crash may lose it: fsync of "
		    "the directory of %s: %s", path, strerror(errno));
		rc = 1;
		goto fail;
	}
	rc = 0;
fail:
	if (fd != -1) {
		close(fd);
		unlink(tmp);
	}
	free(tmp);
	free(text);
	json_decref(doc);
	return rc;
}

/* A backend name as the config accepts it: 1-32 of [A-Za-z0-9_-]. */
static int
name_ok(const char *s)
{
	size_t n = strlen(s);

	return n >= 1 && n <= 32 && strspn(s, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") == n;
}

/*
 * {"NAME":WEIGHT,...} into w[]/n, each name a backend name and weight
 * 0-999; what names the object in messages.  Returns the sum, or -1 with
 * err.
 */
static int
wlist_load(const char *path, const char *what, json_t *o,
    struct state_weight *w, size_t *n, char *err, size_t errlen)
{
	const char	*name;
	json_t		*v;
	int		 sum = 0;

	*n = 0;
	if (!json_is_object(o)) {
		seterr(err, errlen, "%s: %s is not an object", path, what);
		return -1;
	}
	json_object_foreach(o, name, v) {
		json_int_t k;

		if (!name_ok(name)) {
			seterr(err, errlen, "%s: \"%.40s\" is not a backend name",
			    path, name);
			return -1;
		}
		if (!json_is_integer(v) || (k = json_integer_value(v)) < 0 ||
		    k > SW_WEIGHT_MAX) {
			seterr(err, errlen, "%s: %s: weight of %s is not an "
			    "integer 0-%d", path, what, name, SW_WEIGHT_MAX);
			return -1;
		}
		if (*n == SW_MAX_BACKENDS) {
			seterr(err, errlen, "%s: more than %d backends", path,
			    SW_MAX_BACKENDS);
			return -1;
		}
		snprintf(w[*n].name, sizeof(w[0].name), "%s", name);
		w[(*n)++].weight = (int)k;
		sum += (int)k;
	}
	return sum;
}

/* The optional "routes" object of a state file into sw.  0, or -1. */
static int
routes_load(const char *path, json_t *o, struct state_weights *sw,
    char *err, size_t errlen)
{
	const char	*name;
	json_t		*v;
	char		 what[64];

	if (!json_is_object(o)) {
		seterr(err, errlen, "%s: \"routes\" is not an object", path);
		return -1;
	}
	json_object_foreach(o, name, v) {
		struct state_route *r;

		if (!name_ok(name) || sw->nroutes == SW_MAX_ROUTES) {
			seterr(err, errlen, "%s: \"%.40s\" is not a route name "
			    "(or more than %d routes)", path, name,
			    SW_MAX_ROUTES);
			return -1;
		}
		r = &sw->routes[sw->nroutes++];
		snprintf(r->name, sizeof(r->name), "%s", name);
		snprintf(what, sizeof(what), "route %s", name);
		switch (wlist_load(path, what, v, r->w, &r->n, err, errlen)) {
		case -1:
			return -1;
		case 0:
			seterr(err, errlen, "%s: route %s: every weight is 0",
			    path, name);
			return -1;
		}
	}
	return 0;
}

int
state_load(const char *path, struct state_weights *sw, char *err,
    size_t errlen)
{
	json_error_t	 jerr;
	json_t		*doc = NULL, *w, *v;
	const char	*name;
	struct stat	 st;
	int		 sum = 0, rc = -1;

	memset(sw, 0, sizeof(*sw));
	if (stat(path, &st) == -1) {
		if (errno == ENOENT)
			return 0;
		seterr(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > STATE_MAX_SIZE) {
		seterr(err, errlen, "%s: not a regular file of at most %d bytes",
		    path, STATE_MAX_SIZE);
		return -1;
	}
	if ((doc = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr)) == NULL) {
		seterr(err, errlen, "%s:%d: %s", path, jerr.line, jerr.text);
		goto fail;
	}
	if (!json_is_object(w = json_object_get(doc, "weights"))) {
		seterr(err, errlen, "%s: no \"weights\" object", path);
		goto fail;
	}
	json_object_foreach(w, name, v) {
		json_int_t n;

		if (!name_ok(name)) {
			seterr(err, errlen, "%s: \"%.40s\" is not a backend name",
			    path, name);
			goto fail;
		}
		if (!json_is_integer(v) || (n = json_integer_value(v)) < 0 ||
		    n > SW_WEIGHT_MAX) {
			seterr(err, errlen, "%s: weight of %s is not an integer "
			    "0-%d", path, name, SW_WEIGHT_MAX);
			goto fail;
		}
		if (sw->n == SW_MAX_BACKENDS) {
			seterr(err, errlen, "%s: more than %d backends", path,
			    SW_MAX_BACKENDS);
			goto fail;
		}
		snprintf(sw->w[sw->n].name, sizeof(sw->w[0].name), "%s", name);
		sw->w[sw->n++].weight = (int)n;
		sum += (int)n;
	}
	if (sum == 0) {
		seterr(err, errlen, "%s: every weight is 0", path);
		goto fail;
	}
	if (json_object_get(doc, "ramp") != NULL && ramp_load(path,
	    json_object_get(doc, "ramp"), &sw->ramp, err, errlen) == -1)
		goto fail;
	if (json_object_get(doc, "routes") != NULL && routes_load(path,
	    json_object_get(doc, "routes"), sw, err, errlen) == -1)
		goto fail;
	rc = 1;
fail:
	json_decref(doc);
	if (rc == -1)
		memset(sw, 0, sizeof(*sw));
	return rc;
}

/* Append one audit record: old and new are references it takes. */
static int
audit_write(const char *path, const char *who, const char *reason,
    const char *route, json_t *old, json_t *cur, char *err, size_t errlen)
{
	json_t	*rec;
	char	*text = NULL, *line = NULL, when[40];
	int	 fd = -1, rc = -1;

	now_iso(when, sizeof(when));
	rec = json_pack("{s:s, s:s, s:s?, s:o?, s:o?}", "time", when,
	    "who", who, "reason", reason, "old", old, "new", cur);
	if (rec != NULL && route != NULL && json_object_set_new(rec, "route",
	    json_string(route)) == -1) {
		json_decref(rec);
		rec = NULL;
	}
	if (rec == NULL || (text = json_dumps(rec, JSON_COMPACT |
	    JSON_PRESERVE_ORDER)) == NULL || asprintf(&line, "%s\n",
	    text) == -1) {
		line = NULL;
		seterr(err, errlen, "out of memory");
		goto fail;
	}
	/* One write per record: O_APPEND keeps concurrent lines whole. */
	if ((fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
	    0640)) == -1 || write_all(fd, line, strlen(line)) == -1) {
		seterr(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	rc = 0;
fail:
	if (fd != -1)
		close(fd);
	free(line);
	free(text);
	json_decref(rec);
	return rc;
}

int
state_audit(const char *path, const char *who, const char *reason,
    const struct state_weights *old, const struct state_weights *cur,
    char *err, size_t errlen)
{
	return audit_write(path, who, reason, NULL, weights_json(old),
	    weights_json(cur), err, errlen);
}

int
state_audit_route(const char *path, const char *who, const char *reason,
    const char *route, const struct state_weights *old,
    const struct state_weights *cur, char *err, size_t errlen)
{
	const struct state_route *o = state_route(old, route);
	const struct state_route *n = state_route(cur, route);

	return audit_write(path, who, reason, route,
	    o ? wlist_json(o->w, o->n) : json_object(),
	    n ? wlist_json(n->w, n->n) : json_object(), err, errlen);
}
