/*
 * admin: the admin HTTP API (libevent evhttp) on the control thread.
 *
 * Every handler runs on the control thread's event_base; none touches
 * worker state: weights change through runtime_set_weights() (which
 * publishes a new config to the workers), drains are posted to them by
 * drain_backend(), and stats read the workers' counters with relaxed
 * loads.  A request is bounded (head, body, time) by evhttp before a
 * handler sees it.
 *
 * Most handlers answer before they return.  Two wait on AWS, never
 * blocking the loop: a weight change with [aws] sync = push answers when
 * the ALB has said yes or no, and /preflight streams its steps as they
 * come.  Such a request is parked in a struct pending until AWS's
 * callback (which runs exactly once) finishes it.  libevent stops
 * reading a connection while its request waits, so a client that leaves
 * is noticed only when the answer is written, and libevent then frees
 * the request itself; the one way it frees a parked request under us is
 * evhttp_free() at shutdown, which the connection's close callback
 * reports first (pending_gone).
 *
 * To add an endpoint, add a handler and one line to the routes[] table.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "switchover/admin.h"
#include "switchover/aws/aws.h"
#include "switchover/config.h"
#include "switchover/drain.h"
#include "switchover/log.h"
#include "switchover/ramp.h"
#include "switchover/route.h"
#include "switchover/runtime.h"
#include "switchover/stats.h"
#include "switchover/web.h"

#define ADMIN_BODY_MAX		(16 * 1024)	/* what a handler accepts */
#define ADMIN_READ_MAX		(64 * 1024)	/* what evhttp reads at all */
#define ADMIN_TIMEOUT_S		10
#define REASON_MAX		256
#define TOKEN_MAX		4096

struct route {
	const char	*path;
	int		 methods;	/* EVHTTP_REQ_* allowed */
	const char	*allow;		/* the Allow header for a 405 */
	int		 open;		/* no token needed */
	void		(*fn)(struct evhttp_request *, const char *who);
};

static void	h_weights(struct evhttp_request *, const char *);
static void	h_switchover(struct evhttp_request *, const char *);
static void	h_fallback(struct evhttp_request *, const char *);
static void	h_stats(struct evhttp_request *, const char *);
static void	h_metrics(struct evhttp_request *, const char *);
static void	h_healthz(struct evhttp_request *, const char *);
static void	h_drain(struct evhttp_request *, const char *);
static void	h_preflight(struct evhttp_request *, const char *);
static void	h_web(struct evhttp_request *, const char *);
static void	h_ramp(struct evhttp_request *, const char *);
static void	h_ramp_pause(struct evhttp_request *, const char *);
static void	h_ramp_resume(struct evhttp_request *, const char *);
static void	h_ramp_abort(struct evhttp_request *, const char *);

static const struct route routes[] = {
	{ "/weights", EVHTTP_REQ_GET | EVHTTP_REQ_PUT, "GET, PUT", 0,
	    h_weights },
	{ "/switchover", EVHTTP_REQ_POST, "POST", 0, h_switchover },
	{ "/fallback", EVHTTP_REQ_POST, "POST", 0, h_fallback },
	{ "/stats", EVHTTP_REQ_GET, "GET", 0, h_stats },
	{ "/metrics", EVHTTP_REQ_GET, "GET", 0, h_metrics },
	{ "/healthz", EVHTTP_REQ_GET, "GET", 1, h_healthz },
	{ "/drain", EVHTTP_REQ_POST, "POST", 0, h_drain },
	{ "/preflight", EVHTTP_REQ_POST, "POST", 0, h_preflight },
	/* The dashboard's files: open, the page asks for the token itself. */
	{ "/", EVHTTP_REQ_GET | EVHTTP_REQ_HEAD, "GET, HEAD", 1, h_web },
	{ "/ui", EVHTTP_REQ_GET | EVHTTP_REQ_HEAD, "GET, HEAD", 1, h_web },
	{ "/ui/app.js", EVHTTP_REQ_GET | EVHTTP_REQ_HEAD, "GET, HEAD", 1,
	    h_web },
	{ "/ui/app.css", EVHTTP_REQ_GET | EVHTTP_REQ_HEAD, "GET, HEAD", 1,
	    h_web },
	{ "/ui/favicon.svg", EVHTTP_REQ_GET | EVHTTP_REQ_HEAD, "GET, HEAD", 1,
	    h_web },
	{ "/ramp", EVHTTP_REQ_GET | EVHTTP_REQ_POST, "GET, POST", 0, h_ramp },
	{ "/ramp/pause", EVHTTP_REQ_POST, "POST", 0, h_ramp_pause },
	{ "/ramp/resume", EVHTTP_REQ_POST, "POST", 0, h_ramp_resume },
	{ "/ramp/abort", EVHTTP_REQ_POST, "POST", 0, h_ramp_abort },
};

/*
 * One admin connection, from its accept (conn_new, evhttp's bevcb) until
 * evhttp has freed it.  libevent 2.1 tells us neither, so we create the
 * connection's bufferevent and keep a reference on it: the struct stays
 * valid (and its socket open, so never reused) until we let go, and
 * evhttp's bufferevent_free() shows as the callbacks being cleared
 * (conn_alive).  The sweep lets go of freed ones each second and at
 * every accept, which is when the cap is checked.
 */
struct aconn {
	struct bufferevent	*bev;		/* our reference */
	struct event		*deadline;	/* whole request, or refusal */
	int			 over;		/* beyond the cap: refuse */
#define OVER_ANSWERED	2			/* ...done by dispatch() */
	TAILQ_ENTRY(aconn)	 entry;
};
TAILQ_HEAD(aconns, aconn);

/* A request whose answer waits on AWS. */
struct pending {
	struct evhttp_request	*req;	/* NULL: freed by evhttp_free() */
	json_t			*doc;	/* weights answer, completed by push */
	struct pending		*prev, *next;
};

/* The admin listener as the Host and Origin checks see it. */
struct admin_self {
	int		 family;	/* AF_INET, AF_INET6 */
	unsigned char	 addr[16];	/* the address it is bound to */
	uint16_t	 port;
	int		 wildcard;	/* 0.0.0.0 or [::]: any IP literal */
};

static struct {
	struct evhttp	*http;
	struct admin_self self;
	unsigned char	 token_hash[32];	/* SHA-256 of the token */
	int		 have_token;
	struct pending	*pending;	/* every parked request */
	struct pending	*preflight;	/* the one preflight running */
	struct aconns	 conns;		/* every connection, alive or not */
	int		 nconns;
	int		 max_conns;
	int		 deadline_ms;
	struct event	*sweep_ev;
	struct event_base *base;
} adm;

#define BUSY_REASON	"the admin API has [admin] max_connections open " \
			"already"
#define BUSY_BODY	"{\"error\":{\"type\":\"too_many_connections\"," \
			"\"reason\":\"" BUSY_REASON "\"},\"status\":503}\n"

/* Admin lines a client can cause at will. */
static struct log_limit admin_limit;

/* ---- answers ------------------------------------------------------------- */

/* The reason phrase of the codes this API answers with. */
static const char *
phrase(int code)
{
	switch (code) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 413: return "Payload Too Large";
	case 503: return "Service Unavailable";
	default: return "Internal Server Error";
	}
}

/* Send doc (a reference this takes) as JSON dumped with flags. */
static void
reply_json_flags(struct evhttp_request *req, int code, json_t *doc,
    size_t flags)
{
	struct evbuffer	*b = evbuffer_new();
	char		*text = NULL;

	if (doc != NULL)
		text = json_dumps(doc, flags | JSON_PRESERVE_ORDER |
		    JSON_REAL_PRECISION(6));
	json_decref(doc);
	if (b == NULL || text == NULL) {
		if (b != NULL)
			evbuffer_free(b);
		free(text);
		evhttp_send_error(req, 500, "out of memory");
		return;
	}
	evbuffer_add_printf(b, "%s\n", text);
	free(text);
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "application/json");
	evhttp_send_reply(req, code, phrase(code), b);
	evbuffer_free(b);
}

/* Send doc (a reference this takes) as an indented JSON answer. */
static void
reply_json(struct evhttp_request *req, int code, json_t *doc)
{
	reply_json_flags(req, code, doc, JSON_INDENT(2));
}

/* {"error":{"type":...,"reason":...},"status":code}, as the proxy says. */
static void
reply_error(struct evhttp_request *req, int code, const char *type,
    const char *fmt, ...)
{
	char	reason[512];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	reply_json(req, code, json_pack("{s:{s:s, s:s}, s:i}", "error",
	    "type", type, "reason", reason, "status", code));
}

/*
 * The running weights: {"source":1,"target":0}, and with routes
 * "routes":{"reads":{"source":9,"target":1},...} in file order.
 */
static json_t *
weights_json(const struct sw_config *c)
{
	json_t *o = json_object(), *rts = NULL;

	for (size_t i = 0; o != NULL && i < c->nbackends; i++)
		json_object_set_new(o, c->backends[i].name,
		    json_integer(c->backends[i].weight));
	if (o != NULL && c->nroutes > 0 && (rts = json_object()) != NULL)
		json_object_set_new(o, "routes", rts);
	for (size_t k = 0; rts != NULL && k < c->nroutes; k++) {
		json_t *r = json_object();

		for (size_t i = 0; r != NULL && i < c->nbackends; i++)
			json_object_set_new(r, c->backends[i].name,
			    json_integer(c->routes[k].weights[i]));
		json_object_set_new(rts, c->routes[k].name, r);
	}
	return o;
}

/* ---- request bodies -------------------------------------------------------- */

/* An error answer not sent yet, from the parsers below (no I/O there). */
struct admin_err {
	int		 code;
	const char	*type;
	char		 reason[512];
};

/* Fill e; returns -1 for the callers' convenience. */
static int __attribute__((format(printf, 4, 5)))
admin_err(struct admin_err *e, int code, const char *type, const char *fmt,
    ...)
{
	va_list	ap;

	e->code = code;
	e->type = type;
	va_start(ap, fmt);
	vsnprintf(e->reason, sizeof(e->reason), fmt, ap);
	va_end(ap);
	return -1;
}

/*
 * Bytes p[0..len) as a JSON object (an empty body is an empty object when
 * empty_ok); NULL with e filled (400, 413).
 */
static json_t *
body_parse(const char *p, size_t len, int empty_ok, struct admin_err *e)
{
	json_error_t	 jerr;
	json_t		*doc;

	if (len > ADMIN_BODY_MAX) {
		admin_err(e, 413, "payload_too_large", "request body is "
		    "larger than %d bytes", ADMIN_BODY_MAX);
		return NULL;
	}
	if (len == 0 && empty_ok)
		return json_object();
	doc = json_loadb(p, len, JSON_REJECT_DUPLICATES, &jerr);
	if (doc == NULL) {
		admin_err(e, 400, "parse_exception", "body is not JSON: "
		    "%s at character %d", jerr.text, jerr.position);
		return NULL;
	}
	if (!json_is_object(doc)) {
		json_decref(doc);
		admin_err(e, 400, "parse_exception", "body must be a JSON "
		    "object");
		return NULL;
	}
	return doc;
}

/* The request's body as a JSON object; NULL after answering 400/413. */
static json_t *
body_object(struct evhttp_request *req, int empty_ok)
{
	struct evbuffer		*in = evhttp_request_get_input_buffer(req);
	size_t			 len = evbuffer_get_length(in);
	struct admin_err	 e;
	json_t			*doc;

	doc = body_parse(len > ADMIN_BODY_MAX ? NULL :
	    (const char *)evbuffer_pullup(in, -1), len, empty_ok, &e);
	if (doc == NULL)
		reply_error(req, e.code, e.type, "%s", e.reason);
	return doc;
}

/* The optional "reason": a short string without control bytes. */
static int
reason_parse(json_t *body, const char **reason, struct admin_err *e)
{
	json_t		*r = json_object_get(body, "reason");
	const char	*s;

	*reason = NULL;
	if (r == NULL)
		return 0;
	if (!json_is_string(r) || json_string_length(r) > REASON_MAX)
		return admin_err(e, 400, "illegal_argument_exception", "reason "
		    "must be a string of at most %d bytes", REASON_MAX);
	for (s = json_string_value(r); *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return admin_err(e, 400, "illegal_argument_exception",
			    "reason must not contain control characters");
	*reason = json_string_value(r);
	return 0;
}

/* reason_parse for a request: 0, or -1 after answering 400. */
static int
body_reason(struct evhttp_request *req, json_t *body, const char **reason)
{
	struct admin_err e;

	if (reason_parse(body, reason, &e) == 0)
		return 0;
	reply_error(req, e.code, e.type, "%s", e.reason);
	return -1;
}

/* ---- connections: a cap, and a deadline for each whole request ---------- */

/* Has evhttp freed a's connection (bufferevent_free clears the callbacks)? */
static int
conn_alive(const struct aconn *a)
{
	bufferevent_data_cb rd = NULL;

	bufferevent_getcb(a->bev, &rd, NULL, NULL, NULL);
	return rd != NULL;
}

/* Let go of a (its connection freed, or the API stopping). */
static void
conn_free(struct aconn *a)
{
	TAILQ_REMOVE(&adm.conns, a, entry);
	adm.nconns--;
	event_free(a->deadline);
	bufferevent_decref(a->bev);	/* the last reference closes the socket */
	free(a);
}

/* Let go of every connection evhttp has freed. */
static void
conns_sweep(void)
{
	struct aconn *a, *next;

	for (a = TAILQ_FIRST(&adm.conns); a != NULL; a = next) {
		next = TAILQ_NEXT(a, entry);
		if (!conn_alive(a))
			conn_free(a);
	}
	if (TAILQ_EMPTY(&adm.conns) && adm.sweep_ev != NULL)
		evtimer_del(adm.sweep_ev);
}

/* Sweep timer (every second while there are connections). */
static void
sweep_cb(evutil_socket_t fd, short what, void *arg)
{
	conns_sweep();
}

/* The tracked connection a request came on; NULL if untracked. */
static struct aconn *
conn_of(struct evhttp_request *req)
{
	struct evhttp_connection	*evcon;
	struct bufferevent		*bev;
	struct aconn			*a;

	if (req == NULL || (evcon = evhttp_request_get_connection(req)) ==
	    NULL || (bev = evhttp_connection_get_bufferevent(evcon)) == NULL)
		return NULL;
	TAILQ_FOREACH(a, &adm.conns, entry)
		if (a->bev == bev)
			return a;
	return NULL;
}

/* From now, a's next whole request (and the answer before it) has
 * deadline_ms. */
static void
conn_arm(struct aconn *a)
{
	struct timeval tv = { adm.deadline_ms / 1000,
	    (adm.deadline_ms % 1000) * 1000 };

	if (a != NULL && !a->over)
		evtimer_add(a->deadline, &tv);
}

static void
conn_disarm(struct aconn *a)
{
	if (a != NULL && !a->over)
		evtimer_del(a->deadline);
}

/* "ip:port" of fd's peer into buf. */
static void
peer_name(int fd, char *buf, size_t len)
{
	struct sockaddr_storage	ss;
	socklen_t		sl = sizeof(ss);
	char			h[INET6_ADDRSTRLEN] = "?";
	int			port = 0;

	if (getpeername(fd, (struct sockaddr *)&ss, &sl) == 0) {
		if (ss.ss_family == AF_INET) {
			struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

			inet_ntop(AF_INET, &s4->sin_addr, h, sizeof(h));
			port = ntohs(s4->sin_port);
		} else if (ss.ss_family == AF_INET6) {
			struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

			inet_ntop(AF_INET6, &s6->sin6_addr, h, sizeof(h));
			port = ntohs(s6->sin6_port);
		}
	}
	snprintf(buf, len, "%s:%d", h, port);
}

/*
 * a's deadline passed (or a is beyond the cap): cut the connection.  Its
 * socket is shut down, not closed (it is evhttp's, and ours until the
 * sweep): evhttp reads the end and frees the connection itself.
 */
static void
conn_deadline(evutil_socket_t unused, short what, void *arg)
{
	struct aconn	*a = arg;
	char		 peer[64], busy[512];
	int		 fd, n;

	if (!conn_alive(a)) {
		conn_free(a);
		return;
	}
	if ((fd = bufferevent_getfd(a->bev)) == -1)
		return;
	peer_name(fd, peer, sizeof(peer));
	if (a->over == OVER_ANSWERED)
		return;		/* dispatch() said 503 and closes after it */
	if (a->over) {
		log_limited(&admin_limit, LOG_LVL_WARN, "admin: %s: refused: "
		    "%d connections open ([admin] max_connections)", peer,
		    adm.max_conns);
		/* Best effort: the client may not have sent its request yet. */
		n = snprintf(busy, sizeof(busy), "HTTP/1.1 503 Service "
		    "Unavailable\r\nContent-Type: application/json\r\n"
		    "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
		    strlen(BUSY_BODY), BUSY_BODY);
		if (n > 0 && send(fd, busy, (size_t)n, MSG_NOSIGNAL |
		    MSG_DONTWAIT) == -1)
			errno = 0;
	} else
		log_limited(&admin_limit, LOG_LVL_WARN, "admin: %s: no whole "
		    "request within %d ms ([admin] request_timeout): closed",
		    peer, adm.deadline_ms);
	shutdown(fd, SHUT_RDWR);
}

/*
 * evhttp's bevcb: a new connection.  Counted, given its deadline, or
 * refused when max_conns are open already.  NULL lets evhttp make its
 * own bufferevent (untracked; only when we are out of memory).
 */
static struct bufferevent *
conn_new(struct event_base *base, void *arg)
{
	const struct timeval	 now = { 0, 0 }, second = { 1, 0 };
	struct bufferevent	*bev;
	struct aconn		*a;

	conns_sweep();
	if ((bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE)) ==
	    NULL)
		return NULL;
	if ((a = calloc(1, sizeof(*a))) == NULL ||
	    (a->deadline = evtimer_new(base, conn_deadline, a)) == NULL) {
		free(a);
		return bev;
	}
	bufferevent_incref(bev);
	a->bev = bev;
	TAILQ_INSERT_TAIL(&adm.conns, a, entry);
	if (++adm.nconns > adm.max_conns) {
		/* Once evhttp has handed it its socket: from the loop. */
		a->over = 1;
		evtimer_add(a->deadline, &now);
	} else
		conn_arm(a);
	if (!evtimer_pending(adm.sweep_ev, NULL))
		evtimer_add(adm.sweep_ev, &second);
	return bev;
}

/* ---- answers that wait on AWS ------------------------------------------ */

/* Connection close callback: evhttp is about to free p's request. */
static void
pending_gone(struct evhttp_connection *evcon, void *arg)
{
	struct pending *p = arg;

	/* Detached by a failed write (a stream), the request is still ours. */
	if (p->req != NULL && evhttp_request_get_connection(p->req) == evcon)
		p->req = NULL;
}

/* Park req until AWS answers.  NULL (after answering 500) when out of memory. */
static struct pending *
pending_new(struct evhttp_request *req)
{
	struct pending *p;

	if ((p = calloc(1, sizeof(*p))) == NULL) {
		reply_error(req, 500, "out_of_memory", "out of memory");
		return NULL;
	}
	p->req = req;
	/* Waiting on AWS is not the client's slowness. */
	conn_disarm(conn_of(req));
	evhttp_connection_set_closecb(evhttp_request_get_connection(req),
	    pending_gone, p);
	if ((p->next = adm.pending) != NULL)
		p->next->prev = p;
	adm.pending = p;
	return p;
}

/*
 * The request of p, to be answered now, with the close callback undone
 * (the connection may outlive p); NULL when the client is gone.
 */
static struct evhttp_request *
pending_req(struct pending *p)
{
	struct evhttp_connection *evcon;

	if (p->req != NULL &&
	    (evcon = evhttp_request_get_connection(p->req)) != NULL) {
		evhttp_connection_set_closecb(evcon, NULL, NULL);
		conn_arm(conn_of(p->req));
	}
	return p->req;
}

/* Forget p (its request answered or gone). */
static void
pending_free(struct pending *p)
{
	if (p->prev != NULL)
		p->prev->next = p->next;
	else
		adm.pending = p->next;
	if (p->next != NULL)
		p->next->prev = p->prev;
	if (adm.preflight == p)
		adm.preflight = NULL;
	json_decref(p->doc);
	free(p);
}

/*
 * The ALB's answer to a push, verbatim: {"accepted":true}, or
 * {"accepted":false,"code":...,"message":...,"retrying":...}.
 */
static json_t *
alb_json(const struct aws_outcome *o)
{
	if (o->ok)
		return json_pack("{s:b}", "accepted", 1);
	return json_pack("{s:b, s:s, s:s, s:b}", "accepted", 0,
	    "code", o->code ? o->code : "", "message", o->message ?
	    o->message : "", "retrying", o->retrying);
}

/* aws_push_weights callback: answer with the weights and the ALB's word. */
static void
push_done(const struct aws_outcome *o, void *arg)
{
	struct pending		*p = arg;
	struct evhttp_request	*req = pending_req(p);

	if (req != NULL) {
		json_object_set_new(p->doc, "alb", alb_json(o));
		reply_json(req, 200, json_incref(p->doc));
	} else
		log_info("admin: the ALB %s the weights after the client left",
		    o->ok ? "accepted" : "did not accept");
	pending_free(p);
}

/*
 * Answer a weight change just applied: at once, or with [aws] sync =
 * push once the ALB has answered (the proxy has moved already: it is the
 * source of truth and never waits on AWS to move traffic).
 */
static void
reply_weights(struct evhttp_request *req, const char *warn, int push)
{
	struct aws_outcome	 o = { 0, "InternalError", "cannot queue the "
				    "push to the ALB", 0 };
	struct pending		*p;
	json_t			*doc = weights_json(rt.cfg);

	if (doc != NULL && warn != NULL && *warn != '\0')
		json_object_set_new(doc, "warning", json_string(warn));

	/* The ALB has one weighted rule: it mirrors the default route. */
	if (!push || !aws_push_enabled() || doc == NULL) {
		reply_json(req, 200, doc);
		return;
	}
	if ((p = pending_new(req)) == NULL) {
		json_decref(doc);
		return;
	}
	p->doc = doc;
	if (aws_push_weights(rt.cfg, push_done, p) == -1)
		push_done(&o, p);
}

/*
 * Apply w through the runtime and answer with the new weights (and a
 * "warning" when the state file was not written: must_apply, a fallback,
 * is never refused for it).  route: NULL the default route, "*" the
 * default and every route, else that route (the ALB is not told).
 */
static void
apply_weights(struct evhttp_request *req, const int *w, const char *who,
    const char *reason, int must_apply, const char *route)
{
	char	err[512], warn[512];
	int	all = route != NULL && strcmp(route, "*") == 0, rc;

	if (config_weights_valid(w, rt.cfg->nbackends) == -1) {
		reply_error(req, 400, "illegal_argument_exception", "every "
		    "weight would be 0: no request could be routed");
		return;
	}
	rc = all ? runtime_set_all_weights(w, who, reason, must_apply, warn,
	    sizeof(warn), err, sizeof(err)) : runtime_set_route_weights(route,
	    w, who, reason, must_apply, warn, sizeof(warn), err, sizeof(err));
	if (rc == -2) {
		reply_error(req, 404, "resource_not_found_exception", "%s", err);
		return;
	}
	if (rc == -1) {
		log_err("admin: weight change by %s failed: %s", who, err);
		reply_error(req, 500, "state_exception", "weights not changed: "
		    "%s", err);
		return;
	}
	reply_weights(req, warn, route == NULL || all);
}

/*
 * The ?route=NAME of a weight change: 0 with *route NULL (none given)
 * or a route of the running config; -1 after answering 404 (unknown
 * route) or 400.  buf holds the name.
 */
static int
route_param(struct evhttp_request *req, char *buf, size_t len,
    const char **route)
{
	const struct evhttp_uri	*uri = evhttp_request_get_evhttp_uri(req);
	const char		*q = uri ? evhttp_uri_get_query(uri) : NULL;
	struct evkeyvalq	 args;
	const char		*name;
	int			 rc = 0;

	*route = NULL;
	TAILQ_INIT(&args);
	if (q == NULL)
		return 0;
	if (evhttp_parse_query_str(q, &args) == -1) {
		reply_error(req, 400, "illegal_argument_exception", "bad query "
		    "string");
		return -1;
	}
	if ((name = evhttp_find_header(&args, "route")) != NULL &&
	    *name != '\0' && strcmp(name, "default") != 0) {
		if (config_route(rt.cfg, name) == NULL) {
			reply_error(req, 404, "resource_not_found_exception",
			    "no route named \"%.64s\"", name);
			rc = -1;
		} else {
			snprintf(buf, len, "%s", name);
			*route = buf;
		}
	}
	evhttp_clear_headers(&args);
	return rc;
}

/* ---- handlers -------------------------------------------------------------- */

/*
 * A PUT /weights body checked against c: w[] starts as c's weights (of
 * route, when not NULL) and takes every backend the body names; the
 * "reason" key is skipped.  0, or -1 with e filled (nothing named,
 * unknown backend, not 0-999).
 */
static int
weights_parse_route(const struct sw_config *c, const char *route,
    json_t *body, int *w, struct admin_err *e)
{
	json_t		*v;
	const char	*key;
	int		 named = 0;

	route_weights(c, route == NULL ? -1 :
	    (int)(config_route(c, route) - c->routes), w);
	json_object_foreach(body, key, v) {
		struct sw_backend	*be;
		json_int_t		 n;

		if (strcmp(key, "reason") == 0 && json_is_string(v))
			continue;
		if ((be = config_backend(c, key)) == NULL)
			return admin_err(e, 400, "illegal_argument_exception",
			    "unknown backend \"%.64s\"", key);
		if (!json_is_integer(v) || (n = json_integer_value(v)) < 0 ||
		    n > SW_WEIGHT_MAX)
			return admin_err(e, 400, "illegal_argument_exception",
			    "weight of %s must be an integer 0-%d", key,
			    SW_WEIGHT_MAX);
		w[be - c->backends] = (int)n;
		named++;
	}
	if (named == 0)
		return admin_err(e, 400, "illegal_argument_exception", "no "
		    "weight given: expected {\"BACKEND\": 0-%d, ...}",
		    SW_WEIGHT_MAX);
	return 0;
}

/* The same for the default route (the backends' weights). */
static int
weights_parse(const struct sw_config *c, json_t *body, int *w,
    struct admin_err *e)
{
	return weights_parse_route(c, NULL, body, w, e);
}

/* GET: the weights.  PUT: set some or all of them at once. */
static void
h_weights(struct evhttp_request *req, const char *who)
{
	const struct sw_config	*c = rt.cfg;
	struct admin_err	 e;
	json_t			*body;
	const char		*reason, *route;
	char			 rbuf[64];
	int			 w[SW_MAX_BACKENDS];

	if (evhttp_request_get_command(req) == EVHTTP_REQ_GET) {
		reply_json(req, 200, weights_json(c));
		return;
	}
	if (route_param(req, rbuf, sizeof(rbuf), &route) == -1)
		return;
	if ((body = body_object(req, 0)) == NULL)
		return;
	if (body_reason(req, body, &reason) == -1)
		goto done;
	if ((route != NULL ? weights_parse_route(c, route, body, w, &e) :
	    weights_parse(c, body, w, &e)) == -1)
		reply_error(req, e.code, e.type, "%s", e.reason);
	else
		apply_weights(req, w, who, reason, 0, route);
done:
	json_decref(body);
}

/*
 * All weight to the backend called name, none to the others: on every
 * route, or on ?route=NAME only.
 */
static void
all_to(struct evhttp_request *req, const char *who, const char *name,
    int must_apply)
{
	const struct sw_config	*c = rt.cfg;
	struct sw_backend	*be = config_backend(c, name);
	json_t			*body;
	const char		*reason, *route;
	char			 rbuf[64];
	int			 w[SW_MAX_BACKENDS] = { 0 };

	if (route_param(req, rbuf, sizeof(rbuf), &route) == -1)
		return;
	if ((body = body_object(req, 1)) == NULL)
		return;
	if (body_reason(req, body, &reason) == -1)
		goto done;
	if (be == NULL) {
		reply_error(req, 409, "illegal_state_exception", "there is no "
		    "backend named %s", name);
		goto done;
	}
	w[be - c->backends] = 1;
	apply_weights(req, w, who, reason, must_apply, route ? route : "*");
done:
	json_decref(body);
}

/* POST /switchover: everything to the target. */
static void
h_switchover(struct evhttp_request *req, const char *who)
{
	all_to(req, who, "target", 0);
}

/* POST /fallback: everything back to the source, even without a disk. */
static void
h_fallback(struct evhttp_request *req, const char *who)
{
	all_to(req, who, "source", 1);
}

/* The /stats document: stats' counters and the ramp's state. */
static json_t *
stats_doc(void)
{
	json_t *doc = stats_json(rt.cfg);

	if (doc != NULL)
		json_object_set_new(doc, "ramp", ramp_json());
	return doc;
}

/*
 * GET /stats: counters, latency, connections and split as JSON.  With
 * ?history=N (0-300) also the last N seconds, second by second, and the
 * weight changes, compact: what the dashboard polls.
 */
static void
h_stats(struct evhttp_request *req, const char *who)
{
	const struct evhttp_uri	*uri = evhttp_request_get_evhttp_uri(req);
	const char		*q = uri ? evhttp_uri_get_query(uri) : NULL;
	const char		*h;
	struct evkeyvalq	 args;
	json_t			*doc;
	char			*end;
	long			 n;

	TAILQ_INIT(&args);
	if (q == NULL || evhttp_parse_query_str(q, &args) == -1 ||
	    (h = evhttp_find_header(&args, "history")) == NULL) {
		reply_json(req, 200, stats_doc());
		goto done;
	}
	n = strtol(h, &end, 10);
	if (*h == '\0' || *end != '\0' || n < 0 || n > 300) {
		reply_error(req, 400, "illegal_argument_exception", "history "
		    "is a number of seconds, 0-300");
		goto done;
	}
	doc = stats_doc();
	if (stats_add_history(doc, rt.cfg, (int)n) == -1) {
		json_decref(doc);
		doc = NULL;
	}
	reply_json_flags(req, 200, doc, JSON_COMPACT);
done:
	evhttp_clear_headers(&args);
}

/*
 * GET / and /ui: the dashboard, and /ui/NAME its other files.  The page
 * runs only its own script and style, can be framed by nobody, and sends
 * no Referer (it would name the admin port).
 */
static void
h_web(struct evhttp_request *req, const char *who)
{
	const struct evhttp_uri	*uri = evhttp_request_get_evhttp_uri(req);
	const char		*path = evhttp_uri_get_path(uri), *name;
	struct evkeyvalq	*out = evhttp_request_get_output_headers(req);
	const struct web_file	*f;
	struct evbuffer		*b;

	if (strcmp(path, "/") == 0 || strcmp(path, "/ui") == 0)
		name = "index.html";
	else
		name = path + strlen("/ui/");
	for (f = web_files; f->name != NULL; f++)
		if (strcmp(f->name, name) == 0)
			break;
	if (f->name == NULL) {
		reply_error(req, 404, "not_found", "no such file: %.100s",
		    path);
		return;
	}
	if ((b = evbuffer_new()) == NULL ||
	    evbuffer_add_reference(b, f->data, f->len, NULL, NULL) == -1) {
		if (b != NULL)
			evbuffer_free(b);
		evhttp_send_error(req, 500, "out of memory");
		return;
	}
	evhttp_add_header(out, "Content-Type", f->type);
	evhttp_add_header(out, "Content-Security-Policy", "default-src 'self'; "
	    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'");
	evhttp_add_header(out, "X-Content-Type-Options", "nosniff");
	evhttp_add_header(out, "X-Frame-Options", "DENY");
	evhttp_add_header(out, "Referrer-Policy", "no-referrer");
	evhttp_add_header(out, "Cache-Control", "no-cache");
	evhttp_send_reply(req, 200, "OK", b);
	evbuffer_free(b);
}

/* GET /metrics: the same for Prometheus. */
static void
h_metrics(struct evhttp_request *req, const char *who)
{
	struct evbuffer *b = evbuffer_new();

	if (b == NULL) {
		evhttp_send_error(req, 500, "out of memory");
		return;
	}
	stats_prometheus(b, rt.cfg);
	ramp_prometheus(b);
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
	evhttp_send_reply(req, 200, "OK", b);
	evbuffer_free(b);
}

/* GET /healthz: 200 while serving, 503 once stopping. */
static void
h_healthz(struct evhttp_request *req, const char *who)
{
	if (rt.stopping)
		reply_error(req, 503, "shutting_down", "the proxy is stopping");
	else
		reply_json(req, 200, json_pack("{s:s}", "status", "ok"));
}

/*
 * POST /drain?backend=NAME: close that backend's client connections.  An
 * optional body {"reason":"..."} goes to the log with it.
 */
static void
h_drain(struct evhttp_request *req, const char *who)
{
	const struct evhttp_uri	*uri = evhttp_request_get_evhttp_uri(req);
	const char		*q = uri ? evhttp_uri_get_query(uri) : NULL;
	const char		*name, *reason = NULL;
	const struct sw_backend	*be;
	struct evkeyvalq	 args;
	struct drain_stats	 ds;
	json_t			*body = NULL;
	char			 err[256];

	TAILQ_INIT(&args);
	if (q == NULL || evhttp_parse_query_str(q, &args) == -1 ||
	    (name = evhttp_find_header(&args, "backend")) == NULL ||
	    *name == '\0') {
		reply_error(req, 400, "illegal_argument_exception", "which "
		    "backend? POST /drain?backend=NAME");
		goto done;
	}
	if ((be = config_backend(rt.cfg, name)) == NULL) {
		reply_error(req, 404, "resource_not_found_exception", "no "
		    "backend named \"%.64s\"", name);
		goto done;
	}
	if ((body = body_object(req, 1)) == NULL ||
	    body_reason(req, body, &reason) == -1)
		goto done;
	if (drain_backend(name, err, sizeof(err)) == -1) {
		reply_error(req, 500, "drain_exception", "%s", err);
		goto done;
	}
	log_info("admin: %s drains backend %s%s%s", who, name,
	    reason ? ": " : "", reason ? reason : "");
	/* The workers mark their connections a moment from now: these
	 * counters are from just before. */
	drain_stats(&ds);
	reply_json(req, 200, json_pack("{s:s, s:i, s:I, s:I, s:I, s:I}",
	    "backend", name, "spread_ms", rt.cfg->drain_spread_ms,
	    "client_connections", (json_int_t)ds.backend[be->metric_slot].bound,
	    "drains", (json_int_t)ds.drains,
	    "connections_pending_drain", (json_int_t)ds.pending,
	    "closed_by_drain", (json_int_t)ds.closed_by_drain));
done:
	json_decref(body);
	evhttp_clear_headers(&args);
}

/* Send one NDJSON line of a preflight stream (a reference this takes). */
static void
stream_line(struct pending *p, json_t *line)
{
	struct evbuffer	*b;
	char		*text;

	if (line == NULL)
		return;
	text = json_dumps(line, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(line);
	if (text == NULL || p->req == NULL || (b = evbuffer_new()) == NULL) {
		free(text);
		return;
	}
	evbuffer_add_printf(b, "%s\n", text);
	evhttp_send_reply_chunk(p->req, b);
	evbuffer_free(b);
	free(text);
}

/* aws_preflight progress: one line per step, as it happens. */
static void
preflight_step(const char *step, int warn, void *arg)
{
	stream_line(arg, json_pack("{s:s, s:b}", "step", step, "warn", warn));
}

/* aws_preflight done: the last line, and the end of the stream. */
static void
preflight_done(const struct aws_outcome *o, void *arg)
{
	struct pending		*p = arg;
	struct evhttp_request	*req;

	stream_line(p, json_pack("{s:b, s:b, s:s?, s:s?}", "done", 1, "ok",
	    o->ok, "code", o->code, "message", o->message));
	if ((req = pending_req(p)) != NULL)
		evhttp_send_reply_end(req);
	pending_free(p);
}

/*
 * POST /preflight: the console's checks before a switchover (AWS only),
 * streamed as NDJSON: {"step":...,"warn":...} lines, then
 * {"done":true,"ok":...,"code":...,"message":...}.
 */
static void
h_preflight(struct evhttp_request *req, const char *who)
{
	struct pending *p;

	if (!aws_enabled()) {
		reply_error(req, 409, "illegal_state_exception", "preflight "
		    "needs AWS: there is no [aws] section");
		return;
	}
	if (adm.preflight != NULL) {
		reply_error(req, 409, "illegal_state_exception", "a preflight "
		    "is running already");
		return;
	}
	if ((p = pending_new(req)) == NULL)
		return;
	if (aws_preflight(preflight_step, preflight_done, p) == -1) {
		pending_req(p);
		pending_free(p);
		reply_error(req, 409, "illegal_state_exception", "cannot start "
		    "a preflight: it needs [aws] ecs_cluster, source_service, "
		    "target_service and target_target_group, and none running");
		return;
	}
	log_info("admin: %s starts a preflight", who);
	adm.preflight = p;
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "application/x-ndjson");
	evhttp_send_reply_start(req, 200, "OK");
}

/* ---- ramp (the state machine is src/ramp.c) -------------------------------- */

/* GET /ramp: where the ramp is.  POST /ramp: start one. */
static void
h_ramp(struct evhttp_request *req, const char *who)
{
	json_t	*body;
	char	 err[512];
	int	 code;

	if (evhttp_request_get_command(req) == EVHTTP_REQ_POST) {
		if ((body = body_object(req, 1)) == NULL)
			return;
		code = ramp_begin(body, who, err, sizeof(err));
		json_decref(body);
		if (code != 0) {
			reply_error(req, code, code == 409 ?
			    "illegal_state_exception" : code == 404 ?
			    "resource_not_found_exception" :
			    "illegal_argument_exception", "%s", err);
			return;
		}
	}
	reply_json(req, 200, ramp_json());
}

/* POST /ramp/pause|resume|abort through fn, then where the ramp is. */
static void
ramp_control(struct evhttp_request *req, const char *who,
    int (*fn)(const char *, char *, size_t))
{
	char err[512];

	if (fn(who, err, sizeof(err)) != 0)
		reply_error(req, 409, "illegal_state_exception", "%s", err);
	else
		reply_json(req, 200, ramp_json());
}

static void
h_ramp_pause(struct evhttp_request *req, const char *who)
{
	ramp_control(req, who, ramp_pause);
}

static void
h_ramp_resume(struct evhttp_request *req, const char *who)
{
	ramp_control(req, who, ramp_resume);
}

static void
h_ramp_abort(struct evhttp_request *req, const char *who)
{
	ramp_control(req, who, ramp_abort);
}

/* ---- dispatch and auth ---------------------------------------------------- */

/* SHA-256 of buf into out[32].  0, or -1. */
static int
sha256(const void *buf, size_t len, unsigned char out[32])
{
	unsigned int n = 0;

	return EVP_Digest(buf, len, out, &n, EVP_sha256(), NULL) == 1 &&
	    n == 32 ? 0 : -1;
}

/*
 * Does the request carry the token?  Both sides are hashed first, so the
 * constant-time compare also hides the token's length.
 */
static int
authorized(struct evhttp_request *req)
{
	const char	*h;
	unsigned char	 got[32];

	if (!adm.have_token)
		return 1;
	h = evhttp_find_header(evhttp_request_get_input_headers(req),
	    "Authorization");
	if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0)
		return 0;
	h += 7;
	if (sha256(h, strlen(h), got) == -1)
		return 0;
	return CRYPTO_memcmp(got, adm.token_hash, sizeof(got)) == 0;
}

/* ---- Host and Origin: no orders from a web page ------------------------ */

/*
 * A browser lets any page send a POST to 127.0.0.1:9901 (it only hides
 * the answer), and DNS rebinding lets a page that a name of the
 * attacker's now points at 127.0.0.1 read the answers too.  Both are
 * told apart from operators by headers a page cannot forge: the Host a
 * rebound page sends is the attacker's name, and a browser sends Origin
 * (and Sec-Fetch-Site) with every cross-origin POST.  Tools (curl,
 * switchoverctl) send neither Origin nor Sec-Fetch-Site, so they pass.
 */

/* Fill self from the admin address (IP:PORT).  0, or -1. */
static int
self_init(struct admin_self *self, const char *host, uint16_t port)
{
	memset(self, 0, sizeof(*self));
	self->port = port;
	if (inet_pton(AF_INET, host, self->addr) == 1)
		self->family = AF_INET;
	else if (inet_pton(AF_INET6, host, self->addr) == 1)
		self->family = AF_INET6;
	else
		return -1;
	self->wildcard = memcmp(self->addr, (unsigned char[16]){ 0 },
	    self->family == AF_INET ? 4 : 16) == 0;
	return 0;
}

/*
 * Split "host[:port]" or "[v6][:port]" (len bytes at s) into the host
 * (without brackets, copied to host[hostlen]) and *port (-1 when none).
 * *v6 says whether it was bracketed.  0, or -1 when malformed.
 */
static int
hostport_split(const char *s, size_t len, char *host, size_t hostlen,
    int *port, int *v6)
{
	const char	*h = s, *end = s + len, *c;
	size_t		 hl;

	*port = -1;
	*v6 = 0;
	if (len > 0 && *s == '[') {
		if ((c = memchr(s, ']', len)) == NULL)
			return -1;
		h = s + 1;
		hl = (size_t)(c - h);
		c++;
		*v6 = 1;
	} else {
		c = memchr(s, ':', len);
		hl = (size_t)((c ? c : end) - s);
		if (c == NULL)
			c = end;
	}
	if (c < end) {
		long	p = 0;
		size_t	digits = (size_t)(end - c - 1);

		if (*c != ':' || digits == 0 || digits > 5)
			return -1;
		for (const char *d = c + 1; d < end; d++) {
			if (*d < '0' || *d > '9')
				return -1;
			p = p * 10 + (*d - '0');
		}
		if (p > 65535)
			return -1;
		*port = (int)p;
	}
	if (hl == 0 || hl >= hostlen)
		return -1;
	memcpy(host, h, hl);
	host[hl] = '\0';
	for (size_t i = 0; i < hl; i++) {
		unsigned char ch = (unsigned char)host[i];

		if (!isalnum(ch) && ch != '.' && ch != '-' && ch != '_' &&
		    !(ch == ':' && *v6))
			return -1;
		host[i] = (char)tolower(ch);
	}
	/* "localhost." is "localhost": a trailing dot ends a full name. */
	if (!*v6 && hl > 1 && host[hl - 1] == '.')
		host[hl - 1] = '\0';
	return 0;
}

/*
 * Is the authority s[0..len) (a Host header, or the host of an Origin)
 * the admin listener: its own IP (any IP literal when it listens on a
 * wildcard address), localhost, or a name of allowed (the [admin]
 * allowed_hosts list, may be NULL)?  A port, when given, must be the
 * listener's (or the one an allowed_hosts entry names).
 */
static int
host_allowed(const struct admin_self *self, const char *allowed,
    const char *s, size_t len)
{
	char		 host[256], ent[256];
	unsigned char	 a[16];
	int		 port, v6, eport, ev6;
	const char	*l;
	size_t		 n;

	if (hostport_split(s, len, host, sizeof(host), &port, &v6) == -1)
		return 0;
	if (v6 ? inet_pton(AF_INET6, host, a) == 1 :
	    inet_pton(AF_INET, host, a) == 1) {
		if (port == -1 || port == self->port) {
			if (self->wildcard || (self->family == (v6 ? AF_INET6 :
			    AF_INET) && memcmp(a, self->addr, v6 ? 16 : 4) ==
			    0))
				return 1;
		}
	} else if (v6)
		return 0;	/* brackets around something not IPv6 */
	else if (strcmp(host, "localhost") == 0)
		return port == -1 || port == self->port;
	for (l = allowed; l != NULL; l += n) {
		l += strspn(l, ", \t");
		if ((n = strcspn(l, ", \t")) == 0)
			break;
		if (hostport_split(l, n, ent, sizeof(ent), &eport, &ev6) == -1)
			continue;
		if (eport == -1)
			eport = self->port;
		if (ev6 == v6 && strcmp(ent, host) == 0 &&
		    (port == -1 || port == eport))
			return 1;
	}
	return 0;
}

/*
 * Is origin (an Origin header) the admin API itself:
 * http(s)://HOST[:PORT] with a HOST that host_allowed() takes?  "null"
 * (a sandboxed or opaque origin) is not.
 */
static int
origin_allowed(const struct admin_self *self, const char *allowed,
    const char *origin)
{
	if (strncasecmp(origin, "http://", 7) == 0)
		origin += 7;
	else if (strncasecmp(origin, "https://", 8) == 0)
		origin += 8;
	else
		return 0;
	return host_allowed(self, allowed, origin, strlen(origin));
}

/*
 * May req go on?  1, or 0 with why[] filled: a Host that is not the
 * admin API (DNS rebinding), or a state-changing request from a web page
 * of another origin (a forged cross-site call).  A request without Host
 * (HTTP/1.0) or without Origin and Sec-Fetch-Site (a tool) passes.
 */
static int
request_allowed(struct evhttp_request *req, const char *allowed,
    char *why, size_t whylen)
{
	struct evkeyvalq	*in = evhttp_request_get_input_headers(req);
	const char		*host = evhttp_find_header(in, "Host");
	const char		*origin, *site;

	if (host != NULL && !host_allowed(&adm.self, allowed, host,
	    strlen(host))) {
		snprintf(why, whylen, "Host \"%.100s\" is not this admin API: "
		    "use its address, localhost, or a name in [admin] "
		    "allowed_hosts", host);
		return 0;
	}
	if (evhttp_request_get_command(req) & (EVHTTP_REQ_GET |
	    EVHTTP_REQ_HEAD | EVHTTP_REQ_OPTIONS))
		return 1;
	if ((origin = evhttp_find_header(in, "Origin")) != NULL &&
	    !origin_allowed(&adm.self, allowed, origin)) {
		snprintf(why, whylen, "Origin \"%.100s\" is not this admin API: "
		    "a web page of another site may not change the proxy",
		    origin);
		return 0;
	}
	if ((site = evhttp_find_header(in, "Sec-Fetch-Site")) != NULL &&
	    (strcasecmp(site, "cross-site") == 0 ||
	    strcasecmp(site, "same-site") == 0)) {
		snprintf(why, whylen, "Sec-Fetch-Site: %s: a web page of "
		    "another origin may not change the proxy", site);
		return 0;
	}
	return 1;
}

/* Every request: check Host and Origin, route, check method and token,
 * run the handler. */
static void
dispatch(struct evhttp_request *req, void *arg)
{
	const struct evhttp_uri	*uri = evhttp_request_get_evhttp_uri(req);
	const char		*path = uri ? evhttp_uri_get_path(uri) : NULL;
	char			*peer = NULL, who[80], why[320];
	ev_uint16_t		 port = 0;
	struct aconn		*a;
	const struct route	*r = NULL;

	evhttp_connection_get_peer(evhttp_request_get_connection(req), &peer,
	    &port);
	snprintf(who, sizeof(who), "%s:%u", peer ? peer : "?", port);
	/* This request is whole: the clock starts again for the next. */
	if ((a = conn_of(req)) != NULL && a->over) {
		/* Beyond the cap, and its request came before the refusal. */
		a->over = OVER_ANSWERED;
		log_limited(&admin_limit, LOG_LVL_WARN, "admin: %s: refused: "
		    "%d connections open ([admin] max_connections)", who,
		    adm.max_conns);
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Connection", "close");
		reply_error(req, 503, "too_many_connections", BUSY_REASON);
		return;
	}
	conn_arm(a);
	if (!request_allowed(req, rt.cfg->admin_allowed_hosts, why,
	    sizeof(why))) {
		log_limited(&admin_limit, LOG_LVL_WARN, "admin: %s: %.100s "
		    "refused: %s", who, path ? path : "?", why);
		reply_error(req, 403, "security_exception", "%s", why);
		return;
	}
	for (size_t i = 0; path != NULL && i < sizeof(routes) /
	    sizeof(routes[0]); i++)
		if (strcmp(path, routes[i].path) == 0)
			r = &routes[i];
	if (r == NULL) {
		reply_error(req, 404, "not_found", "no such endpoint: %.100s",
		    path ? path : "?");
		return;
	}
	if (!r->open && !authorized(req)) {
		log_limited(&admin_limit, LOG_LVL_WARN, "admin: %s: %s without "
		    "a valid token", who, r->path);
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "WWW-Authenticate", "Bearer");
		reply_error(req, 401, "security_exception", "missing or wrong "
		    "token: send Authorization: Bearer TOKEN");
		return;
	}
	if (!(evhttp_request_get_command(req) & r->methods)) {
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Allow", r->allow);
		reply_error(req, 405, "method_not_allowed", "%s takes %s",
		    r->path, r->allow);
		return;
	}
	r->fn(req, who);
}

/* Read the token file into adm.token_hash.  0, or -1 with err. */
static int
load_token(const char *path, char *err, size_t errlen)
{
	FILE		*f;
	char		 buf[TOKEN_MAX + 2];
	size_t		 n;
	struct stat	 st;
	int		 rc = -1;

	if ((f = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "token_file %s: %s", path,
		    strerror(errno));
		return -1;
	}
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	/* A trailing newline (echo TOKEN > file) is not part of the token. */
	while (n > 0 && isspace((unsigned char)buf[n - 1]))
		buf[--n] = '\0';
	if (n == 0 || n > TOKEN_MAX || strlen(buf) != n) {
		snprintf(err, errlen, "token_file %s: must hold one token of "
		    "1-%d bytes", path, TOKEN_MAX);
		goto fail;
	}
	if (fstat(fileno(f), &st) == 0 && (st.st_mode & 077) != 0)
		log_warn("token_file %s is readable by others: chmod 600 it",
		    path);
	if (sha256(buf, n, adm.token_hash) == -1) {
		snprintf(err, errlen, "token_file %s: cannot hash", path);
		goto fail;
	}
	adm.have_token = 1;
	rc = 0;
fail:
	OPENSSL_cleanse(buf, sizeof(buf));
	fclose(f);
	return rc;
}

/* Is host (an IP literal) a loopback address? */
static int
is_loopback(const char *host)
{
	struct in_addr	a4;
	struct in6_addr	a6;

	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, host, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6);
	return 0;
}

/* The configured admin address, or the default. */
static const char *
admin_address(const struct sw_config *c)
{
	return c->admin_listen ? c->admin_listen : ADMIN_DEFAULT_ADDRESS;
}

int
admin_check(const struct sw_config *c, char *err, size_t errlen)
{
	const char	*addr = admin_address(c);
	char		*host = NULL;
	uint16_t	 port;
	int		 rc = -1;

	if (strcmp(addr, "off") == 0)
		return 0;
	if (config_split_hostport(addr, &host, &port) == -1) {
		snprintf(err, errlen, "%s: [admin] address \"%s\" is not "
		    "IP:PORT", c->path, addr);
		goto fail;
	}
	if (!is_loopback(host) && c->admin_token_file == NULL) {
		snprintf(err, errlen, "%s: [admin] address %s is not loopback: "
		    "set [admin] token_file, or bind to 127.0.0.1", c->path,
		    addr);
		goto fail;
	}
	rc = 0;
fail:
	free(host);
	return rc;
}

/* NULL-safe string equality. */
static int
same(const char *a, const char *b)
{
	return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* After a reload: say that admin settings wait for a restart. */
static void
on_publish(const struct sw_config *old, const struct sw_config *cur,
    void *arg)
{
	if (old != NULL && (!same(old->admin_listen, cur->admin_listen) ||
	    !same(old->admin_token_file, cur->admin_token_file)))
		log_warn("reload: [admin] address and token_file apply only at "
		    "restart: still %s%s", admin_address(old),
		    adm.have_token ? " with the old token" : "");
}

int
admin_start(struct event_base *base, const struct sw_config *c, char *err,
    size_t errlen)
{
	const char	*addr = admin_address(c);
	char		*host = NULL;
	uint16_t	 port;

	if (strcmp(addr, "off") == 0) {
		log_info("admin API off");
		return 0;
	}
	if (admin_check(c, err, errlen) == -1)
		return -1;
	if (c->admin_token_file != NULL &&
	    load_token(c->admin_token_file, err, errlen) == -1)
		return -1;
	if (config_split_hostport(addr, &host, &port) == -1 ||
	    self_init(&adm.self, host, port) == -1 ||
	    (adm.http = evhttp_new(base)) == NULL) {
		snprintf(err, errlen, "admin: out of memory");
		goto fail;
	}
	TAILQ_INIT(&adm.conns);
	adm.base = base;
	adm.max_conns = c->admin_max_conns;
	adm.deadline_ms = c->admin_request_timeout_ms;
	if ((adm.sweep_ev = evtimer_new(base, sweep_cb, NULL)) == NULL) {
		snprintf(err, errlen, "admin: out of memory");
		goto fail;
	}
	evhttp_set_bevcb(adm.http, conn_new, NULL);
	evhttp_set_max_body_size(adm.http, ADMIN_READ_MAX);
	evhttp_set_max_headers_size(adm.http, 16 * 1024);
	evhttp_set_timeout(adm.http, ADMIN_TIMEOUT_S);
	/* Let every method through so that a wrong one gets a JSON 405. */
	evhttp_set_allowed_methods(adm.http, 0xffff);
	evhttp_set_gencb(adm.http, dispatch, NULL);
	if (evhttp_bind_socket(adm.http, host, port) == -1) {
		snprintf(err, errlen, "cannot listen on admin address %s: %s",
		    addr, strerror(errno));
		goto fail;
	}
	if (runtime_on_publish(on_publish, NULL) == -1)
		log_warn("admin: no room for a publish hook");
	log_info("admin API on %s%s", addr, adm.have_token ?
	    " (token required)" : "");
	free(host);
	return 0;
fail:
	free(host);
	admin_stop();
	return -1;
}

void
admin_stop(void)
{
	/* Parked requests lose their request here; AWS, stopped after us,
	 * never calls back, so the rest of them is freed here too. */
	if (adm.http != NULL)
		evhttp_free(adm.http);
	while (adm.pending != NULL) {
		/* A stream whose client left mid-way: detached, ours. */
		if (adm.pending->req != NULL)
			evhttp_request_free(adm.pending->req);
		pending_free(adm.pending);
	}
	/* evhttp_free() freed every connection: only our references left. */
	if (adm.base != NULL)
		while (!TAILQ_EMPTY(&adm.conns))
			conn_free(TAILQ_FIRST(&adm.conns));
	if (adm.sweep_ev != NULL)
		event_free(adm.sweep_ev);
	OPENSSL_cleanse(&adm, sizeof(adm));
}
