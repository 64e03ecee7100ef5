/*
 * switchoverctl: the operator's command line for a running switchover,
 * over its admin API (libcurl), for people and scripts alike.
 *
 * Exit codes: 0 done, 1 refused by the proxy (its reason on stderr),
 * 2 usage error, 3 the admin API cannot be reached or answered nonsense,
 * 4 the proxy changed but the ALB did not accept (yet), or the source
 * still served requests when the watch ended, 5 the preflight failed
 * (nothing changed), 6 a ramp rolled back, 7 a ramp was paused (by a
 * person, on_failure = pause, or a weight change from outside).
 * Commands live in one table, cmds[]: a new one is a function and a line.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#define EXIT_REFUSED	1
#define EXIT_USAGE	2
#define EXIT_UNREACH	3
#define EXIT_BEHIND	4	/* proxy moved; ALB or source not in step */
#define EXIT_PREFLIGHT	5
#define EXIT_ROLLED_BACK	6
#define EXIT_PAUSED	7
#define DEFAULT_URL	"http://127.0.0.1:9901"
#define REPLY_MAX	(8 * 1024 * 1024)
#define TIMEOUT_S	10	/* a plain admin call */
#define TIMEOUT_ALB_S	300	/* a weight change waits for the ALB */
#define TIMEOUT_PF_S	3600	/* a preflight waits for ECS and health */

struct ctl {
	const char	*url;
	const char	*reason;	/* -r, sent with changes */
	const char	*route;		/* -R: one route, NULL: every one */
	char		*auth;		/* "Authorization: Bearer ..." */
	int		 count;		/* top -n: refreshes, 0 = forever */
	int		 watch_s;	/* switchover -w: 0 = spread + 30 s */
	CURL		*curl;
};

/* What one admin call collects; on_line takes NDJSON lines as they come. */
struct reply {
	char	*buf;
	size_t	 len;
	CURL	*curl;
	void	(*on_line)(json_t *, void *);
	void	*arg;
};

struct cmd {
	const char	*name;
	const char	*args;
	const char	*help;
	int		 nargs_min, nargs_max;	/* -1: any number */
	int		(*run)(struct ctl *, const struct cmd *, int, char **);
	const char	*path;			/* for cmd_get and cmd_post */
	void		(*print)(const struct ctl *, const json_t *);
	int		 routed;		/* takes -R */
};

static volatile sig_atomic_t	interrupted;

/* A message on stderr, prefixed with the program's name. */
static void
say(const char *fmt, ...)
{
	va_list ap;

	fputs("switchoverctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* Hand the complete lines of a 2xx stream to on_line, keep the rest. */
static void
split_lines(struct reply *r)
{
	long	 code = 0;
	char	*nl, *start = r->buf;

	curl_easy_getinfo(r->curl, CURLINFO_RESPONSE_CODE, &code);
	if (code < 200 || code > 299)
		return;		/* an error: one JSON document, read at the end */
	while ((nl = memchr(start, '\n', r->len - (size_t)(start - r->buf))) !=
	    NULL) {
		json_t *line;

		*nl = '\0';
		if ((line = json_loads(start, 0, NULL)) != NULL) {
			r->on_line(line, r->arg);
			json_decref(line);
		}
		start = nl + 1;
	}
	r->len -= (size_t)(start - r->buf);
	memmove(r->buf, start, r->len + 1);
}

/* libcurl write callback: collect the answer, up to REPLY_MAX. */
static size_t
collect(char *p, size_t size, size_t n, void *arg)
{
	struct reply	*r = arg;
	size_t		 add = size * n;
	char		*nb;

	if (r->len + add > REPLY_MAX ||
	    (nb = realloc(r->buf, r->len + add + 1)) == NULL)
		return 0;
	memcpy(nb + r->len, p, add);
	r->buf = nb;
	r->len += add;
	r->buf[r->len] = '\0';
	if (r->on_line != NULL)
		split_lines(r);
	return add;
}

/*
 * One admin call: METHOD PATH with an optional JSON body, for at most
 * timeout_s.  On 2xx, *out is the parsed answer (may be NULL when not
 * asked for), or, with on_line, each line of the answer went there as it
 * came.  Returns an exit code, after saying what went wrong.
 */
static int
call_full(struct ctl *c, const char *method, const char *path, json_t *body,
    json_t **out, long timeout_s, void (*on_line)(json_t *, void *), void *arg)
{
	struct reply		 r = { NULL, 0, c->curl, on_line, arg };
	struct curl_slist	*h = NULL;
	char			*url = NULL, *text = NULL, errbuf[CURL_ERROR_SIZE];
	json_t			*doc = NULL;
	json_error_t		 jerr;
	long			 code = 0;
	int			 rc = EXIT_UNREACH;
	CURLcode		 cc;

	if (out != NULL)
		*out = NULL;
	if (asprintf(&url, "%s%s", c->url, path) == -1) {
		url = NULL;
		say("out of memory");
		goto fail;
	}
	curl_easy_reset(c->curl);
	errbuf[0] = '\0';
	if (c->auth != NULL)
		h = curl_slist_append(h, c->auth);
	if (body != NULL) {
		text = json_dumps(body, JSON_COMPACT);
		h = curl_slist_append(h, "Content-Type: application/json");
		curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, text ? text : "");
	}
	curl_easy_setopt(c->curl, CURLOPT_URL, url);
	curl_easy_setopt(c->curl, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, &r);
	curl_easy_setopt(c->curl, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c->curl, CURLOPT_CONNECTTIMEOUT, 3L);
	curl_easy_setopt(c->curl, CURLOPT_TIMEOUT, timeout_s);
	curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L);
	if ((cc = curl_easy_perform(c->curl)) != CURLE_OK) {
		say("cannot reach %s: %s", c->url, errbuf[0] ? errbuf :
		    curl_easy_strerror(cc));
		goto fail;
	}
	curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &code);
	/* A stream's lines are gone already; an error is one document. */
	if (r.buf != NULL && (on_line == NULL || code < 200 || code > 299))
		doc = json_loads(r.buf, 0, &jerr);
	if (code < 200 || code > 299) {
		const char *reason = json_string_value(json_object_get(
		    json_object_get(doc, "error"), "reason"));

		say("%s %s refused (%ld): %s", method, path, code,
		    reason ? reason : "no reason given");
		rc = EXIT_REFUSED;
		goto fail;
	}
	if (out != NULL && doc == NULL) {
		say("%s answered %s with something that is not JSON", c->url,
		    path);
		goto fail;
	}
	if (out != NULL) {
		*out = doc;
		doc = NULL;
	}
	rc = 0;
fail:
	json_decref(doc);
	curl_slist_free_all(h);
	free(text);
	free(url);
	free(r.buf);
	return rc;
}

/* An admin call that answers at once. */
static int
call(struct ctl *c, const char *method, const char *path, json_t *body,
    json_t **out)
{
	return call_full(c, method, path, body, out, TIMEOUT_S, NULL, NULL);
}

/* {"reason": -r} when given, else {}. */
static json_t *
reason_body(const struct ctl *c)
{
	return c->reason ? json_pack("{s:s}", "reason", c->reason) :
	    json_object();
}

/* Print {"source":1,"target":0} as "source=1 target=0". */
static void
print_pairs(const json_t *w)
{
	const char	*k;
	json_t		*v;
	int		 first = 1;

	json_object_foreach((json_t *)w, k, v) {
		if (!json_is_integer(v))
			continue;	/* "alb", "routes" */
		printf("%s%s=%lld", first ? "" : " ", k,
		    (long long)json_integer_value(v));
		first = 0;
	}
	printf("\n");
}

/* Does -R name the default route (the backends' weights), or none? */
static int
default_route(const struct ctl *c)
{
	return c->route == NULL || *c->route == '\0' ||
	    strcmp(c->route, "default") == 0;
}

/*
 * The default route's weights, then "route NAME: source=9 target=1" for
 * each route; with -R, that route's weights only.
 */
static void
print_weights(const struct ctl *c, const json_t *w)
{
	const json_t	*routes = json_object_get(w, "routes");
	const char	*k;
	json_t		*v;

	if (!default_route(c)) {
		if ((v = json_object_get(routes, c->route)) != NULL)
			print_pairs(v);
		else
			say("no route named \"%s\" in the answer", c->route);
		return;
	}
	print_pairs(w);
	if (c->route != NULL)
		return;
	json_object_foreach((json_t *)routes, k, v) {
		printf("route %s: ", k);
		print_pairs(v);
	}
}

/*
 * path with "?route=NAME" (escaped) when -R was given: a new string to
 * free, or NULL (out of memory).
 */
static char *
routed_path(const struct ctl *c, const char *path)
{
	char	*arg, *out;

	if (default_route(c))
		return strdup(path);
	if ((arg = curl_easy_escape(c->curl, c->route, 0)) == NULL)
		return NULL;
	if (asprintf(&out, "%s?route=%s", path, arg) == -1)
		out = NULL;
	curl_free(arg);
	return out;
}

/*
 * Say what the ALB made of a weight change ([aws] sync = push puts an
 * "alb" object in the answer): 0 when it accepted or there is no ALB,
 * else EXIT_BEHIND.
 */
static int
report_alb(const json_t *answer)
{
	const json_t	*alb = json_object_get(answer, "alb");
	const char	*code, *msg;

	if (alb == NULL)
		return 0;
	if (json_is_true(json_object_get(alb, "accepted"))) {
		printf("alb: accepted\n");
		return 0;
	}
	code = json_string_value(json_object_get(alb, "code"));
	msg = json_string_value(json_object_get(alb, "message"));
	printf("alb: not accepted: %s: %s\n", code ? code : "?", msg ? msg : "");
	say("the proxy moved, the ALB did not: %s: %s; %s", code ? code : "?",
	    msg ? msg : "", json_is_true(json_object_get(alb, "retrying")) ?
	    "the proxy keeps retrying (switchoverctl status shows it)" :
	    "not retried: fix it and set the weights again");
	return EXIT_BEHIND;
}

/* A weight change: print the new weights and the ALB's word. */
static int
change(struct ctl *c, const char *method, const char *path, json_t *body)
{
	json_t	*w;
	int	 rc;

	char	*p;

	if ((p = routed_path(c, path)) == NULL) {
		say("out of memory");
		return EXIT_UNREACH;
	}
	rc = call_full(c, method, p, body, &w, TIMEOUT_ALB_S, NULL, NULL);
	free(p);
	if (rc != 0)
		return rc;
	print_weights(c, w);
	if (json_is_string(json_object_get(w, "warning")))
		say("warning: %s", json_string_value(json_object_get(w,
		    "warning")));
	rc = report_alb(w);
	json_decref(w);
	return rc;
}

/* A number from a path of keys in doc; 0 when absent. */
static double
num(const json_t *doc, ...)
{
	va_list		 ap;
	const char	*k;

	va_start(ap, doc);
	while (doc != NULL && (k = va_arg(ap, const char *)) != NULL)
		doc = json_object_get(doc, k);
	va_end(ap);
	return json_number_value(doc);
}

/*
 * One line per route and backend from /stats "routes" (only -R's route
 * with -R): weight, answers by class since start, p50/p99 since start.
 */
static void
print_routes(const struct ctl *c, const json_t *st)
{
	const json_t	*routes = json_object_get(st, "routes");
	const char	*rn, *bn;
	json_t		*r, *b;

	if (json_object_size(routes) == 0)
		return;
	printf("\n%-12s %-12s %6s %9s %8s %7s %7s %7s %7s %8s %8s\n", "ROUTE",
	    "BACKEND", "WEIGHT", "REQUESTS", "2XX", "3XX", "4XX", "429", "5XX",
	    "P50_MS", "P99_MS");
	json_object_foreach((json_t *)routes, rn, r) {
		if (c->route != NULL && strcmp(default_route(c) ? "default" :
		    c->route, rn) != 0)
			continue;
		json_object_foreach(r, bn, b)
			printf("%-12.12s %-12.12s %6.0f %9.0f %8.0f %7.0f %7.0f "
			    "%7.0f %7.0f %8.2f %8.2f\n", rn, bn,
			    num(b, "weight", NULL), num(b, "requests", NULL),
			    num(b, "responses", "2xx", NULL),
			    num(b, "responses", "3xx", NULL),
			    num(b, "responses", "4xx", NULL),
			    num(b, "responses_429", NULL),
			    num(b, "responses", "5xx", NULL),
			    num(b, "latency_ms", "p50", NULL),
			    num(b, "latency_ms", "p99", NULL));
	}
	printf("routes: counts and latency since start (4XX includes 429; the "
	    "proxy's own answers included)\n");
}

/* The per-backend table that status and top print. */
static void
print_table(const struct ctl *c, const json_t *st)
{
	const json_t	*l = json_array_get(json_object_get(st, "listeners"), 0);
	const char	*name;
	json_t		*b;

	printf("%-12s %6s %6s %8s %8s %7s %7s %7s %7s %8s %8s %6s %6s %6s\n",
	    "BACKEND", "WEIGHT", "SPLIT", "REQ/S", "2XX/S", "3XX/S", "4XX/S",
	    "5XX/S", "ERR/S", "P50_MS", "P99_MS", "CONNS", "NEW/S", "REUSE");
	json_object_foreach(json_object_get(st, "backends"), name, b) {
		const json_t	*r = json_object_get(b, "per_second_10s");
		const json_t	*share = json_object_get(json_object_get(
				    json_object_get(st, "split"), "last_10s"), name);
		double		 op = num(r, "connections_opened", NULL);
		double		 ru = num(r, "connections_reused", NULL);
		char		 split[16] = "-", reuse[16] = "-";

		if (json_is_number(share))
			snprintf(split, sizeof(split), "%.1f%%",
			    json_number_value(share) * 100);
		if (op + ru > 0)
			snprintf(reuse, sizeof(reuse), "%.0f%%",
			    ru * 100 / (op + ru));
		printf("%-12.12s %6.0f %6s %8.1f %8.1f %7.1f %7.1f %7.1f %7.1f "
		    "%8.2f %8.2f %6.0f %6.1f %6s\n", name,
		    num(b, "weight", NULL), split, num(r, "requests", NULL),
		    num(r, "responses", "2xx", NULL),
		    num(r, "responses", "3xx", NULL),
		    num(r, "responses", "4xx", NULL),
		    num(r, "responses", "5xx", NULL), num(r, "errors", NULL),
		    num(b, "latency_ms", "last_60s", "p50", NULL),
		    num(b, "latency_ms", "last_60s", "p99", NULL),
		    num(b, "upstream_connections", "active", NULL), op, reuse);
	}
	printf("clients: %.0f connections, %.1f new/s, %.0f requests "
	    "(%.0f on reused connections); rates over the last %.0f s, "
	    "latency over the last 60 s\n",
	    num(l, "connections_active", NULL),
	    num(l, "connections_new_per_second_10s", NULL),
	    num(l, "requests", NULL), num(l, "requests_reused", NULL),
	    num(st, "split", "window_10s", NULL));
	print_routes(c, st);
}

/* status, weights: GET cmd->path and print it with cmd->print. */
static int
cmd_get(struct ctl *c, const struct cmd *cmd, int argc, char **argv)
{
	json_t	*doc;
	int	 rc;

	if ((rc = call(c, "GET", cmd->path, NULL, &doc)) != 0)
		return rc;
	cmd->print(c, doc);
	json_decref(doc);
	return 0;
}

/* SIGINT/SIGTERM during top: finish the current refresh and stop. */
static void
on_signal(int sig)
{
	interrupted = 1;
}

/* top: the table, refreshed every second until interrupted (or -n). */
static int
cmd_top(struct ctl *c, const struct cmd *cmd, int argc, char **argv)
{
	struct sigaction	sa = { .sa_handler = on_signal };
	int			rc = 0, tty = isatty(STDOUT_FILENO);

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	for (int i = 0; !interrupted && (c->count == 0 || i < c->count); i++) {
		struct timespec	 one = { 1, 0 };
		json_t		*st;
		time_t		 now = time(NULL);
		char		 ts[16];

		if (i > 0)
			while (nanosleep(&one, &one) == -1 && errno == EINTR &&
			    !interrupted)
				;
		if (interrupted)
			break;
		strftime(ts, sizeof(ts), "%H:%M:%S", localtime(&now));
		/* Keep going when the proxy restarts: say so, retry. */
		rc = call(c, "GET", "/stats", NULL, &st);
		if (tty)
			printf("\033[H\033[2J");
		printf("switchover %s  %s\n", c->url, ts);
		if (rc == 0) {
			print_table(c, st);
			json_decref(st);
		} else
			printf("(no answer: see above)\n");
		fflush(stdout);
	}
	return rc;
}

/* set NAME=N ...: change those weights at once. */
static int
cmd_set(struct ctl *c, const struct cmd *cmd, int argc, char **argv)
{
	json_t	*body = reason_body(c);
	int	 rc;

	for (int i = 0; i < argc; i++) {
		char	*eq = strchr(argv[i], '='), *end;
		long	 n;

		errno = 0;
		n = eq ? strtol(eq + 1, &end, 10) : -1;
		if (eq == NULL || eq == argv[i] || eq[1] == '\0' ||
		    *end != '\0' || errno != 0 || n < 0 || n > 999 ||
		    isspace((unsigned char)eq[1])) {
			say("set: \"%s\" is not BACKEND=WEIGHT (0-999)",
			    argv[i]);
			json_decref(body);
			return EXIT_USAGE;
		}
		*eq = '\0';
		json_object_set_new(body, argv[i], json_integer(n));
		*eq = '=';
	}
	rc = change(c, "PUT", "/weights", body);
	json_decref(body);
	return rc;
}

/* switchover, fallback: POST cmd->path, a weight change. */
static int
cmd_move(struct ctl *c, const struct cmd *cmd, int argc, char **argv)
{
	json_t	*body = reason_body(c);
	int	 rc;

	rc = change(c, "POST", cmd->path, body);
	json_decref(body);
	return rc;
}

/* drain NAME: close that backend's client connections, spread out. */
static int
drain(struct ctl *c, const char *name)
{
	json_t	*doc = NULL;
	char	*arg, *path = NULL;
	int	 rc = EXIT_UNREACH;

	if ((arg = curl_easy_escape(c->curl, name, 0)) == NULL ||
	    asprintf(&path, "/drain?backend=%s", arg) == -1) {
		path = NULL;
		goto done;
	}
	if ((rc = call(c, "POST", path, NULL, &doc)) == 0)
		printf("drain %s: %.0f client connections, closed over %.0f ms\n",
		    name, num(doc, "client_connections", NULL),
		    num(doc, "spread_ms", NULL));
done:
	json_decref(doc);
	curl_free(arg);
	free(path);
	return rc;
}

/* drain NAME. */
static int
cmd_drain(struct ctl *c, const struct cmd *cmd, int argc, char **argv)
{
	return drain(c, argv[0]);
}

/* What the last line of a preflight stream said. */
struct preflight {
	int	 done, ok;
	char	 code[128], message[600];
};

/* One NDJSON line of POST /preflight: print a step, keep the result. */
static void
preflight_line(json_t *line, void *arg)
{
	struct preflight	*pf = arg;
	const char		*code, *msg;

	if (json_is_true(json_object_get(line, "done"))) {
		code = json_string_value(json_object_get(line, "code"));
		msg = json_string_value(json_object_get(line, "message"));
		pf->done = 1;
		pf->ok = json_is_true(json_object_get(line, "ok"));
		snprintf(pf->code, sizeof(pf->code), "%s", code ? code : "");
		snprintf(pf->message, sizeof(pf->message), "%s", msg ? msg : "");
		return;
	}
	printf("preflight: %s%s\n", json_is_true(json_object_get(line, "warn")) ?
	    "warning: " : "", json_string_value(json_object_get(line, "step")));
	fflush(stdout);
}

/* Run the preflight, printing each step as it comes.  0 if it passed. */
static int
preflight(struct ctl *c)
{
	struct preflight	 pf = { 0 };
	json_t			*body = json_object();
	int			 rc;

	rc = call_full(c, "POST", "/preflight", body, NULL, TIMEOUT_PF_S,
	    preflight_line, &pf);
	json_decref(body);
	if (rc != 0)
		return rc;
	if (!pf.done) {
		say("the preflight's answer ended before its result");
		return EXIT_UNREACH;
	}
	if (!pf.ok) {
		say("preflight failed: %s: %s", pf.code, pf.message);
		return EXIT_PREFLIGHT;
	}
	printf("preflight passed: %s\n", pf.message);
	return 0;
}

/* preflight. */
static int
cmd_preflight(struct ctl *c, const struct cmd *cmd, int argc, char **argv)
{
	return preflight(c);
}

/* Seconds on the monotonic clock. */
static double
mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Sleep one second, or less when interrupted. */
static void
one_second(void)
{
	struct timespec one = { 1, 0 };

	while (nanosleep(&one, &one) == -1 && errno == EINTR && !interrupted)
		;
}

/*
 * Watch the source each second until it serves no request and holds no
 * client connection, for at most timeout_s.  0, EXIT_BEHIND when time
 * ran out (or ^C), or the exit code of a failed call.
 */
static int
watch_source(struct ctl *c, int timeout_s)
{
	struct sigaction	 sa = { .sa_handler = on_signal };
	double			 t0 = mono(), t, last_t = 0, last = -1;
	int			 rc;

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	for (;;) {
		json_t	*st;
		double	 req, conns;

		if ((rc = call(c, "GET", "/stats", NULL, &st)) != 0)
			return rc;
		t = mono();
		req = num(st, "backends", "source", "requests", NULL);
		conns = num(st, "backends", "source", "client_connections",
		    NULL);
		json_decref(st);
		if (last >= 0) {
			printf("watch: source %.1f req/s, %.0f client "
			    "connections\n", (req - last) / (t - last_t), conns);
			fflush(stdout);
			if (req == last && conns == 0) {
				printf("source serves no requests: switchover "
				    "done\n");
				return 0;
			}
		}
		if (t - t0 >= timeout_s || interrupted) {
			say("the source still serves after %.0f s", t - t0);
			return EXIT_BEHIND;
		}
		last = req;
		last_t = t;
		one_second();
	}
}

/*
 * switchover: all traffic to target.  With AWS, the console's runbook:
 * preflight (when ECS is configured; stop if it fails), proxy and ALB
 * together, drain the source, watch it until it serves nothing.
 */
static int
cmd_switchover(struct ctl *c, const struct cmd *cmd, int argc, char **argv)
{
	json_t	*st, *aws;
	int	 rc, moved, ecs, timeout;

	if ((rc = call(c, "GET", "/stats", NULL, &st)) != 0)
		return rc;
	aws = json_object_get(st, "aws");
	ecs = json_object_get(aws, "ecs_cluster") != NULL;
	timeout = c->watch_s ? c->watch_s :
	    (int)(num(st, "drain", "spread_ms", NULL) / 1000) + 30;
	json_decref(st);
	/* The ALB mirrors the default route only: a route just moves. */
	if (aws == NULL || !default_route(c))
		return cmd_move(c, cmd, argc, argv);
	if (ecs && (rc = preflight(c)) != 0)
		return rc;
	moved = cmd_move(c, cmd, argc, argv);
	if (moved != 0 && moved != EXIT_BEHIND)
		return moved;
	/* on_weight_zero may have started it already: a second is harmless. */
	if ((rc = drain(c, "source")) != 0)
		return rc;
	rc = watch_source(c, timeout);
	return rc != 0 ? rc : moved;
}

/* One line for a ramp history entry. */
static void
ramp_print_entry(const json_t *h)
{
	printf("ramp: step %.0f (target %.0f %%): %s: %s\n",
	    num(h, "step", NULL), num(h, "target_percent", NULL),
	    json_string_value(json_object_get(h, "verdict")),
	    json_string_value(json_object_get(h, "detail")));
}

/* A ramp's state line: state, step, weights, reason. */
static void
ramp_print_state(const json_t *r)
{
	const char	*reason = json_string_value(json_object_get(r, "reason"));
	const char	*route = json_string_value(json_object_get(r, "route"));

	printf("ramp %s", json_string_value(json_object_get(r, "state")));
	if (route != NULL && strcmp(route, "default") != 0)
		printf(" (route %s)", route);
	printf(": step %.0f of %zu, target %.0f %%",
	    num(r, "step", NULL), json_array_size(json_object_get(r, "steps")),
	    num(r, "target_percent", NULL));
	if (reason != NULL && *reason != '\0')
		printf(": %s", reason);
	printf("\n");
}

/* The exit code a ramp's end state means; -1 while it is under way. */
static int
ramp_exit(const char *state)
{
	if (state == NULL)
		return EXIT_UNREACH;
	if (strcmp(state, "done") == 0)
		return 0;
	if (strcmp(state, "rolled_back") == 0)
		return EXIT_ROLLED_BACK;
	if (strcmp(state, "paused") == 0)
		return EXIT_PAUSED;
	if (strcmp(state, "idle") == 0)
		return EXIT_PREFLIGHT;	/* the preflight stopped it */
	return -1;
}

/* Sleep half a second, or less when interrupted. */
static void
half_second(void)
{
	struct timespec half = { 0, 500000000 };

	while (nanosleep(&half, &half) == -1 && errno == EINTR && !interrupted)
		;
}

/*
 * ramp start: POST /ramp, then print each verdict as it comes (polling
 * GET /ramp twice a second) until the ramp ends or ^C.
 */
static int
ramp_start(struct ctl *c, int argc, char **argv)
{
	struct sigaction	 sa = { .sa_handler = on_signal };
	json_t			*body = reason_body(c), *r = NULL;
	double			 seen = -1;
	int			 rc;

	if (argc >= 1) {
		json_t	*steps = json_array();
		char	*copy = strdup(argv[0]), *tok, *save = NULL, *end;

		for (tok = copy ? strtok_r(copy, ",", &save) : NULL; tok != NULL;
		    tok = strtok_r(NULL, ",", &save)) {
			long n = strtol(tok, &end, 10);

			if (*end != '\0' || end == tok || n < 1 || n > 100) {
				say("ramp start: \"%s\" is not a list of "
				    "percentages like 10,50,100", argv[0]);
				free(copy);
				json_decref(steps);
				json_decref(body);
				return EXIT_USAGE;
			}
			json_array_append_new(steps, json_integer(n));
		}
		free(copy);
		json_object_set_new(body, "steps", steps);
	}
	if (argc >= 2)
		json_object_set_new(body, "step_interval", json_string(argv[1]));
	if (!default_route(c))
		json_object_set_new(body, "route", json_string(c->route));
	rc = call(c, "POST", "/ramp", body, &r);
	json_decref(body);
	if (rc != 0)
		return rc;
	/* Verdicts from an earlier ramp are not this one's. */
	json_decref(r);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	for (;;) {
		json_t	*h, *e;
		size_t	 i;

		if ((rc = call(c, "GET", "/ramp", NULL, &r)) != 0)
			return rc;
		h = json_object_get(r, "history");
		json_array_foreach(h, i, e) {
			if (num(e, "seq", NULL) <= seen)
				continue;
			seen = num(e, "seq", NULL);
			ramp_print_entry(e);
		}
		fflush(stdout);
		rc = ramp_exit(json_string_value(json_object_get(r, "state")));
		if (rc >= 0 || interrupted) {
			ramp_print_state(r);
			json_decref(r);
			if (rc < 0)
				say("stopped watching; the ramp goes on "
				    "(switchoverctl ramp status)");
			return rc < 0 ? 0 : rc;
		}
		json_decref(r);
		half_second();
	}
}

/* ramp start|pause|resume|abort|status. */
static int
cmd_ramp(struct ctl *c, const struct cmd *cmd, int argc, char **argv)
{
	static const char *const ctl[] = { "pause", "resume", "abort" };
	json_t	*r = NULL, *body;
	char	 path[32];
	int	 rc;

	if (strcmp(argv[0], "start") == 0 && argc <= 3)
		return ramp_start(c, argc - 1, argv + 1);
	if (strcmp(argv[0], "status") == 0 && argc == 1) {
		if ((rc = call(c, "GET", "/ramp", NULL, &r)) != 0)
			return rc;
		ramp_print_state(r);
		json_decref(r);
		return 0;
	}
	for (size_t i = 0; argc == 1 && i < 3; i++) {
		if (strcmp(argv[0], ctl[i]) != 0)
			continue;
		snprintf(path, sizeof(path), "/ramp/%s", ctl[i]);
		body = json_object();
		rc = call(c, "POST", path, body, &r);
		json_decref(body);
		if (rc == 0)
			ramp_print_state(r);
		json_decref(r);
		return rc;
	}
	say("usage: switchoverctl ramp start [STEPS [INTERVAL]] | pause | "
	    "resume | abort | status");
	return EXIT_USAGE;
}

static const struct cmd cmds[] = {
	{ "status", "", "per-backend rates, latency and connections, and a\n"
	    "                         line per route and backend, once",
	    0, 0, cmd_get, "/stats", print_table, 1 },
	{ "top", "", "the status table, refreshed every second until ^C",
	    0, 0, cmd_top, NULL, NULL, 1 },
	{ "weights", "", "print the weights as NAME=N ...",
	    0, 0, cmd_get, "/weights", print_weights, 1 },
	{ "set", "NAME=N ...", "set weights (0-999) at once; others keep theirs",
	    1, -1, cmd_set, NULL, NULL, 1 },
	{ "switchover", "", "all traffic to target; with AWS the runbook: "
	    "preflight,\n"
	    "                         proxy and ALB, drain source, watch it "
	    "reach 0 req/s",
	    0, 0, cmd_switchover, "/switchover", NULL, 1 },
	{ "fallback", "", "all traffic back to source (proxy and ALB at once)",
	    0, 0, cmd_move, "/fallback", NULL, 1 },
	{ "drain", "NAME", "close NAME's client connections over [drain] spread",
	    1, 1, cmd_drain, NULL, NULL, 0 },
	{ "preflight", "", "AWS: scale the target proxy, wait until healthy",
	    0, 0, cmd_preflight, NULL, NULL, 0 },
	{ "ramp", "start|...", "progressive cutover: ramp start [STEPS "
	    "[INTERVAL]] prints\n"
	    "                         each verdict until done; ramp pause, "
	    "resume, abort, status",
	    1, 3, cmd_ramp, NULL, NULL, 1 },
};

static void
usage(FILE *f)
{
	fprintf(f, "usage: switchoverctl [-a URL] [-t TOKEN_FILE] [-r REASON] "
	    "[-R ROUTE] [-n COUNT] [-w SECONDS]\n"
	    "                     COMMAND [ARGS]\n\n"
	    "  -a URL         admin API (default %s)\n"
	    "  -t TOKEN_FILE  send the bearer token in this file\n"
	    "  -r REASON      reason recorded in the audit log with a change\n"
	    "  -R ROUTE       one route ([route NAME]; \"default\" for the "
	    "backends' weights):\n"
	    "                 set, switchover, fallback and ramp start move "
	    "only it;\n"
	    "                 status, top and weights show only it\n"
	    "  -n COUNT       top: stop after COUNT refreshes\n"
	    "  -w SECONDS     switchover with AWS: watch the source this long "
	    "at most\n"
	    "                 (default [drain] spread + 30 s)\n"
	    "  -h             this help\n\ncommands:\n", DEFAULT_URL);
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(f, "  %-10s %-11s %s\n", cmds[i].name, cmds[i].args,
		    cmds[i].help);
	fprintf(f, "\nexit status: 0 done, 1 refused by the proxy, 2 usage, "
	    "3 cannot reach the proxy,\n"
	    "  4 the proxy moved but the ALB did not accept (yet), or the "
	    "source still\n    served requests when the watch ended, "
	    "5 the preflight failed (nothing changed),\n"
	    "  6 the ramp rolled back, 7 the ramp was paused\n");
}

/* Read a token file into an Authorization header line.  0, or -1. */
static int
read_token(struct ctl *c, const char *path)
{
	FILE	*f = fopen(path, "r");
	char	 buf[4098];
	size_t	 n;

	if (f == NULL) {
		say("%s: %s", path, strerror(errno));
		return -1;
	}
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	while (n > 0 && isspace((unsigned char)buf[n - 1]))
		buf[--n] = '\0';
	if (n == 0 || n > 4096 || strlen(buf) != n) {
		say("%s: must hold one token", path);
		return -1;
	}
	if (asprintf(&c->auth, "Authorization: Bearer %s", buf) == -1) {
		c->auth = NULL;
		return -1;
	}
	return 0;
}

int
main(int argc, char *argv[])
{
	struct ctl		 c = { .url = DEFAULT_URL };
	const struct cmd	*cmd = NULL;
	const char		*token = NULL;
	char			*end;
	int			 ch, rc, nargs;
	size_t			 ulen;

	while ((ch = getopt(argc, argv, "+a:t:r:R:n:w:h")) != -1) {
		switch (ch) {
		case 'a':
			c.url = optarg;
			break;
		case 't':
			token = optarg;
			break;
		case 'r':
			c.reason = optarg;
			break;
		case 'R':
			c.route = optarg;
			break;
		case 'n':
			c.count = (int)strtol(optarg, &end, 10);
			if (*end != '\0' || c.count < 1) {
				say("-n: \"%s\" is not a positive count",
				    optarg);
				return EXIT_USAGE;
			}
			break;
		case 'w':
			c.watch_s = (int)strtol(optarg, &end, 10);
			if (*end != '\0' || c.watch_s < 1) {
				say("-w: \"%s\" is not a positive number of "
				    "seconds", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	for (size_t i = 0; optind < argc && i < sizeof(cmds) / sizeof(cmds[0]);
	    i++)
		if (strcmp(argv[optind], cmds[i].name) == 0)
			cmd = &cmds[i];
	if (cmd == NULL) {
		if (optind < argc)
			say("unknown command \"%s\"", argv[optind]);
		usage(stderr);
		return EXIT_USAGE;
	}
	if (c.route != NULL && !cmd->routed) {
		say("%s does not take -R: it is not about one route",
		    cmd->name);
		return EXIT_USAGE;
	}
	nargs = argc - optind - 1;
	if (nargs < cmd->nargs_min ||
	    (cmd->nargs_max >= 0 && nargs > cmd->nargs_max)) {
		say("usage: switchoverctl %s %s", cmd->name, cmd->args);
		return EXIT_USAGE;
	}
	/* "http://host:9901/" and "http://host:9901" mean the same. */
	ulen = strlen(c.url);
	if (ulen > 0 && c.url[ulen - 1] == '/') {
		char *u = strndup(c.url, ulen - 1);

		if (u == NULL)
			return EXIT_UNREACH;
		c.url = u;
	}
	if (token != NULL && read_token(&c, token) == -1)
		return EXIT_USAGE;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK ||
	    (c.curl = curl_easy_init()) == NULL) {
		say("cannot initialise libcurl");
		return EXIT_UNREACH;
	}
	rc = cmd->run(&c, cmd, nargs, argv + optind + 1);
	curl_easy_cleanup(c.curl);
	curl_global_cleanup();
	free(c.auth);
	return rc;
}
