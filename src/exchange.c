/*
 * exchange: one request forwarded and its answer relayed: the request
 * and response parser callbacks, the checks on a request head, the
 * backend pick, the upstream connect, retry and resend, the relay of
 * the answer, its accounting and the access log.  The connection around
 * it (timers, drain, close) is client.c's.
 *
 * Buffer ownership: the client's input evbuffer holds bytes not yet
 * parsed.  Header bytes are copied into c->head (or c->rhead) and
 * drained; body bytes are moved, not copied, into the other side's
 * output with evbuffer_remove_buffer() once llhttp has validated their
 * framing, so a body passes byte for byte (chunk framing included).
 * The one copy kept is x->retry: the body bytes sent on a reused pooled
 * connection, while the request is small enough to send again (which
 * happens only under exchange_resend_ok's rule: never a write the server
 * may have read).  Only an idempotent request needs it (x->retry_head),
 * and its head is not copied: it is built again from x->head, byte for
 * byte the same.  A write goes again only if none of it left, and then
 * all of it is still in the old upstream's output, moved from there
 * (x->retry_move), never copied.
 *
 * Runs on the worker thread only.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include <llhttp.h>

#include "switchover/affinity.h"
#include "switchover/client.h"
#include "switchover/conn.h"
#include "switchover/http.h"
#include "switchover/log.h"
#include "switchover/metrics.h"
#include "switchover/opclass.h"
#include "switchover/route.h"
#include "switchover/tls.h"
#include "switchover/upstream.h"
#include "switchover/wctx.h"
#include "switchover/wgen.h"

#include "client_impl.h"

static llhttp_settings_t req_settings, resp_settings;
static const char empty[1];

/*
 * Exchanges given back, kept for the next request on this worker thread
 * (each worker is one thread); emptied by client_cache_free() on exit.
 */
#define XFREE_MAX	256
static __thread struct exchange	*xfree;
static __thread int		 nxfree;

static int	exchange_connect(struct client *);
static void	exchange_upstream_readcb(struct conn *, void *);
static void	exchange_upstream_writecb(struct conn *, void *);
static void	exchange_upstream_eventcb(struct conn *, short, void *);

/* A busy upstream's events come here (upstream.c knows no clients). */
static const struct upstream_cbs client_up_cbs = {
	exchange_upstream_readcb, exchange_upstream_writecb, exchange_upstream_eventcb
};

/* A fresh exchange for c's next request, or NULL (out of memory). */
static struct exchange *
exchange_get(struct client *c)
{
	struct exchange	*x;
	size_t		 max = c->w->gen->cfg->max_header_size;

	if ((x = xfree) != NULL) {
		xfree = x->next_free;
		nxfree--;
		memset(x, 0, sizeof(*x));
	} else if ((x = calloc(1, sizeof(*x))) == NULL)
		return NULL;
	llhttp_init(&x->req, HTTP_REQUEST, &req_settings);
	x->req.data = c;
	http_head_init(&x->head, max);
	http_head_init(&x->rhead, max);
	return x;
}

/* Give an exchange back (its upstream and generation dropped already). */
void
exchange_put(struct exchange *x)
{
	if (x == NULL)
		return;
	/* Head memory goes to http.c's own cache. */
	http_head_release(&x->head);
	http_head_release(&x->rhead);
	if (nxfree >= XFREE_MAX) {
		free(x);
		return;
	}
	x->next_free = xfree;
	xfree = x;
	nxfree++;
}

void
client_cache_free(void)
{
	struct exchange *x;

	while ((x = xfree) != NULL) {
		xfree = x->next_free;
		free(x);
	}
	nxfree = 0;
	client_timer_cache_free();
}

/* ---- request parser callbacks ---------------------------------------- */

static int
req_on_message_begin(llhttp_t *p)
{
	struct client *c = p->data;

	http_head_reset(&c->x->head);
	c->x->scan_prev = 0;
	c->nreq++;
	/*
	 * The header timer is armed only if the head does not end in the
	 * input at hand (exchange_process_in): most arrive whole.
	 */
	if (c->state == CS_IDLE)
		client_set_state(c, CS_HEAD);
	return 0;
}

static int
req_on_url(llhttp_t *p, const char *at, size_t len)
{
	struct client *c = p->data;

	return http_head_url(&c->x->head, at, len) == 0 ? 0 : -1;
}

static int
req_on_header_field(llhttp_t *p, const char *at, size_t len)
{
	struct client *c = p->data;

	return http_head_field(&c->x->head, at, len) == 0 ? 0 : -1;
}

static int
req_on_header_value(llhttp_t *p, const char *at, size_t len)
{
	struct client *c = p->data;

	/*
	 * llhttp 8 lets obs-fold (CRLF SP inside a value) through, and a
	 * folded value means different things to different servers: refuse.
	 */
	if (memchr(at, '\r', len) != NULL || memchr(at, '\n', len) != NULL ||
	    memchr(at, '\0', len) != NULL) {
		llhttp_set_error_reason(p, "folded or control character in "
		    "header value");
		return HPE_USER;
	}
	return http_head_value(&c->x->head, at, len) == 0 ? 0 : -1;
}

/*
 * llhttp 8 lets a space inside a header name ("X A: b") and an empty
 * name through; a next hop may read those differently: refuse them, in
 * both directions.
 */
static int
head_name_complete(llhttp_t *p, const struct http_head *h)
{
	if (http_head_last_name_ok(h))
		return 0;
	llhttp_set_error_reason(p, "invalid header name");
	return HPE_USER;
}

static int
req_on_header_field_complete(llhttp_t *p)
{
	return head_name_complete(p, &((struct client *)p->data)->x->head);
}

static int
req_on_headers_complete(llhttp_t *p)
{
	/*
	 * An upgrade offer (curl --http2 sends Connection: Upgrade and
	 * Upgrade: h2c) is hop-by-hop and never forwarded, so the request
	 * goes on in HTTP/1.1: llhttp must not hand the bytes after it over
	 * as another protocol's.  CONNECT is refused before any body.
	 */
	p->upgrade = 0;
	return HPE_PAUSED;	/* route before any body byte moves */
}

static int
req_on_message_complete(llhttp_t *p)
{
	struct client *c = p->data;

	c->x->req_paused = 1;
	return HPE_PAUSED;	/* stop before a pipelined request */
}

/* ---- response parser callbacks --------------------------------------- */

static int
resp_on_message_begin(llhttp_t *p)
{
	struct client *c = p->data;

	http_head_reset(&c->x->rhead);
	c->x->rscan_prev = 0;
	return 0;
}

/*
 * The reason phrase goes to the client byte for byte; llhttp lets control
 * bytes through, and a CR there is a header injection for a client that
 * ends lines at a bare CR.
 */
static int
resp_on_status(llhttp_t *p, const char *at, size_t len)
{
	struct client *c = p->data;

	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)at[i];

		if ((ch < 0x20 && ch != '\t') || ch == 0x7f) {
			llhttp_set_error_reason(p, "control character in the "
			    "reason phrase");
			return HPE_USER;
		}
	}
	return http_head_url(&c->x->rhead, at, len) == 0 ? 0 : -1;
}

static int
resp_on_header_field(llhttp_t *p, const char *at, size_t len)
{
	struct client *c = p->data;

	return http_head_field(&c->x->rhead, at, len) == 0 ? 0 : -1;
}

/* An upstream's malformed header name is a bad response (502). */
static int
resp_on_header_field_complete(llhttp_t *p)
{
	return head_name_complete(p, &((struct client *)p->data)->x->rhead);
}

static int
resp_on_header_value(llhttp_t *p, const char *at, size_t len)
{
	struct client *c = p->data;

	if (memchr(at, '\r', len) != NULL || memchr(at, '\n', len) != NULL ||
	    memchr(at, '\0', len) != NULL)
		return HPE_USER;
	return http_head_value(&c->x->rhead, at, len) == 0 ? 0 : -1;
}

static int
resp_on_headers_complete(llhttp_t *p)
{
	struct client *c = p->data;

	c->x->status = p->status_code;
	/*
	 * llhttp refuses Content-Length with Transfer-Encoding, except when
	 * the Transfer-Encoding value is empty; passed on, the client would
	 * be left to pick one framing.  A bad response, like any other.
	 */
	if (http_head_find(&c->x->rhead, "transfer-encoding") >= 0 &&
	    http_head_find(&c->x->rhead, "content-length") >= 0) {
		llhttp_set_error_reason(p, "both Content-Length and "
		    "Transfer-Encoding");
		return HPE_USER;
	}
	/*
	 * No body follows a 1xx, 204 or 304, nor an answer to HEAD, whatever
	 * Content-Length or Transfer-Encoding say (RFC 9112 6.3): llhttp
	 * would wait for one that never comes.  1 tells it to skip the body.
	 */
	if (c->x->status >= 100 && c->x->status < 200)
		return 1;	/* interim: handled at its end */
	c->x->resp_head_ready = 1;
	if (c->x->is_head || c->x->status == 204 || c->x->status == 304)
		return 1;
	return HPE_PAUSED;	/* write our head before moving body bytes */
}

static int
resp_on_body(llhttp_t *p, const char *at, size_t len)
{
	struct client *c = p->data;

	if (c->x->dechunk)
		evbuffer_add(conn_output(c->conn), at, len);
	if (c->x->aff != NULL)
		affinity_response_body(c->x->aff, at, len);
	return 0;
}

static int
resp_on_message_complete(llhttp_t *p)
{
	struct client *c = p->data;

	c->x->resp_msg_end = 1;
	return HPE_PAUSED;
}

void
client_global_init(void)
{
	llhttp_settings_init(&req_settings);
	req_settings.on_message_begin = req_on_message_begin;
	req_settings.on_url = req_on_url;
	req_settings.on_header_field = req_on_header_field;
	req_settings.on_header_field_complete = req_on_header_field_complete;
	req_settings.on_header_value = req_on_header_value;
	req_settings.on_headers_complete = req_on_headers_complete;
	req_settings.on_message_complete = req_on_message_complete;

	llhttp_settings_init(&resp_settings);
	resp_settings.on_message_begin = resp_on_message_begin;
	resp_settings.on_status = resp_on_status;
	resp_settings.on_header_field = resp_on_header_field;
	resp_settings.on_header_field_complete = resp_on_header_field_complete;
	resp_settings.on_header_value = resp_on_header_value;
	resp_settings.on_headers_complete = resp_on_headers_complete;
	resp_settings.on_body = resp_on_body;
	resp_settings.on_message_complete = resp_on_message_complete;
}

/* The request can no longer be sent again: drop what would resend it. */
static void
exchange_retry_drop(struct client *c)
{
	if (c->x->retry != NULL) {
		evbuffer_free(c->x->retry);
		c->x->retry = NULL;
	}
	c->x->retry_head = 0;
	c->x->retry_move = 0;
}

/* Drop the current exchange's upstream and generation references. */
void
exchange_end(struct client *c, int reusable)
{
	int unreadable;

	if (c->x == NULL)
		return;
	if (c->x->up != NULL) {
		if (reusable)
			upstream_release(c->x->up, 1);
		else
			upstream_close(c->x->up);
		c->x->up = NULL;
	}
	if (c->x->gen != NULL) {
		wgen_unref(c->x->gen);
		c->x->gen = NULL;
	}
	exchange_retry_drop(c);
	affinity_response_end(c->x->aff, -1, 0, NULL, &unreadable);
	c->x->aff = NULL;
	c->x->be = NULL;
	c->x->srv = NULL;
}

/* ---- access log -------------------------------------------------------- */

/* One line per exchange: time client method url backend server status ... */
static void
exchange_access_log(struct client *c, int status, uint64_t dur_us)
{
	char		line[2048], ts[32], ab[ADDR_STRLEN];
	struct timespec	now;
	struct tm	tm;
	int		n;

	if (c->w->access_fd == -1)
		return;
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	n = snprintf(line, sizeof(line), "%s.%03ldZ %s %s %.*s %s %s %d "
	    "%" PRIu64 " %" PRIu64 " %.3f\n", ts, now.tv_nsec / 1000000,
	    addr_format(&c->addr, ab), llhttp_method_name(c->x->req.method),
	    (int)(c->x->head.url_len > 1000 ? 1000 : c->x->head.url_len),
	    c->x->head.buf ? c->x->head.buf + c->x->head.url_off : "-",
	    c->x->be ? c->x->be->conf->name : "-",
	    c->x->srv ? c->x->srv->conf->name : "-", status, c->x->req_bytes,
	    c->x->resp_bytes, (double)dur_us / 1e6);
	if (n > 0 && write(c->w->access_fd, line,
	    (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1) < 0)
		log_debug("access log write failed: %s", strerror(errno));
}

/* ---- the exchange ------------------------------------------------------ */

/*
 * The exchange's accounting, once, at its end: per-backend counters and
 * latency, server health, the access log line, search contexts learned.
 * The one place for what a finished response adds up to.
 */
static void
exchange_account(struct client *c, uint64_t dur)
{
	int unreadable;

	if (c->x->be != NULL) {
		struct backend_metrics *m = c->x->be->m;

		if (c->x->status >= 100 && c->x->status < 600 && c->x->up_byte)
			M_INC(m->responses[c->x->status / 100 - 1]);
		/* The ramp counts 429 (rejected_execution) with the 5xx. */
		if (c->x->status == 429 && c->x->up_byte)
			M_INC(m->responses_429);
		hist_record(&m->latency, dur);
		metrics_route(c->w->m, c->x->route_slot,
		    c->x->be->conf->metric_slot, c->x->status, dur);
		M_ADD(m->bytes_up, c->x->req_bytes);
		M_ADD(m->bytes_down, c->x->resp_bytes);
	}
	if (c->x->srv != NULL && c->x->up_byte)
		wserver_succeeded(c->x->srv);
	exchange_access_log(c, c->x->status, dur);
	if (c->x->aff != NULL && c->x->be != NULL) {
		M_ADD(c->w->m->l.affinity_learned, affinity_response_end(c->x->aff,
		    c->x->be->conf->metric_slot, c->x->up_byte && c->x->resp_done,
		    c->x->gen->cfg, &unreadable));
		M_ADD(c->w->m->l.affinity_unreadable, (uint64_t)unreadable);
	}
	c->x->aff = NULL;
}

/* Both directions are done: account, release, and go idle or close. */
static void
exchange_finish(struct client *c)
{
	int reusable;

	client_out(c);
	client_up_out(c);
	exchange_account(c, now_us() - c->x->t_start);
	reusable = c->x->up != NULL && c->x->req_done && !c->x->resp_eof &&
	    llhttp_should_keep_alive(&c->x->resp);
	exchange_end(c, reusable);
	if (c->in_paused) {
		c->in_paused = 0;
		conn_enable(c->conn, EV_READ);
	}
	/*
	 * Only an answer that said Connection: close (close_after) ends the
	 * connection here.  A close asked after that answer's head went out
	 * waits, idle, for the next answer or for quiet (client_idle_close).
	 */
	if ((c->x->close_after && !c->peer_eof) || !c->x->keepalive) {
		client_linger(c, c->close_asked ? c->ask_why : CLOSE_CONN_CLOSE);
		return;
	}
	client_set_state(c, CS_IDLE);
	c->idle_at = now_ms();
	/* Idle connections hold no exchange (bench: idle-10k). */
	exchange_put(c->x);
	c->x = NULL;
	conn_shrink(c->conn);	/* its queues too, if empty */
	if (c->close_asked) {
		/* No read timeout: the drain's timer rules (client_idle_close). */
		client_timeouts(c, 0, c->w->gen->cfg->client_timeout_ms);
		client_timer(c, DRAIN_QUIET_MS);
	} else
		client_idle_timer(c);
	if (conn_input_len(c->conn) > 0) {
		/* A pipelined request waits: parse it from the loop, not here. */
		conn_trigger_read(c->conn);
	} else if (c->peer_eof)
		client_linger(c, CLOSE_CLIENT);
}

/* A client can cause one of these per request: rate-limited. */
static struct log_limit client_err_limit;

/*
 * Answer with a proxy-made error.  If a response head already went out,
 * all we can do is close.  Returns -1: the caller must stop.
 */
int
exchange_error(struct client *c, int status, const char *type,
    const char *reason, int perr)
{
	struct worker	*w = c->w;
	int		 flags = 0;
	char		 ab[ADDR_STRLEN];

	if (c->x->be != NULL && perr >= 0)
		M_INC(c->x->be->m->errors[perr]);
	if (c->x->resp_head_sent) {
		/* Deliver what did arrive; the short body tells the client. */
		log_limited(&client_err_limit, LOG_LVL_INFO, "client %s: %s "
		    "after the response began: closing",
		    addr_format(&c->addr, ab), reason);
		client_linger(c, CLOSE_UPSTREAM_ERROR);
		return -1;
	}
	if (status == 400 || status == 414 || status == 431 || status == 408)
		M_INC(w->m->l.bad_requests);
	if (c->x->up != NULL) {
		upstream_close(c->x->up);
		c->x->up = NULL;
	}
	if (c->state == CS_PROXY && !c->x->req_done &&
	    !(c->x->req.flags & F_CHUNKED) && c->x->req.content_length == 0) {
		/* A body-less request is complete once llhttp says so. */
		c->x->req_paused = 0;
		if (llhttp_execute(&c->x->req, empty, 0) == HPE_PAUSED &&
		    c->x->req_paused) {
			llhttp_resume(&c->x->req);
			c->x->req_done = 1;
		}
	}
	/*
	 * The connection can stay open only if the whole request was read:
	 * otherwise its unread body would be taken for the next request.
	 */
	if (!c->x->req_done || status == 400 || status == 414 || status == 431 ||
	    status == 408 || client_close_now_ok(c))
		c->x->close_after = 1;
	if (c->x->close_after || !c->x->keepalive)
		flags |= HB_CLOSE;
	else if (c->x->http10)
		flags |= HB_KEEPALIVE;
	if (http_error_response(conn_output(c->conn), status, type,
	    reason, flags) == -1) {
		/* Not even our own answer: a close is all the client gets. */
		log_warn("client %s: cannot answer %d (%s): out of memory",
		    addr_format(&c->addr, ab), status, reason);
		client_close(c, CLOSE_ERROR, "out of memory");
		return -1;
	}
	client_out(c);
	log_limited(&client_err_limit, LOG_LVL_INFO, "client %s: %d %s",
	    addr_format(&c->addr, ab), status, reason);
	c->x->status = status;
	c->x->up_byte = 0;
	c->x->resp_head_sent = 1;
	c->x->resp_done = 1;
	c->x->req_done = 1;
	if (c->state == CS_HEAD) {
		/* No exchange began: nothing to finish but the connection. */
		exchange_access_log(c, status, 0);
		client_linger(c, status == 408 ? CLOSE_HEADER_TIMEOUT :
		    CLOSE_BAD_REQUEST);
		return -1;
	}
	exchange_finish(c);
	return -1;
}

/*
 * No upstream connection could be had (err from upstream_acquire): 502.
 * The server is marked failed only if the fault is not our own: running
 * out of descriptors must not take every server out of rotation.
 */
static int
exchange_connect_failed(struct client *c, int err)
{
	char reason[200];

	if (err != EMFILE && err != ENFILE && err != ENOMEM && err != ENOBUFS)
		wserver_failed(c->x->srv, now_ms());
	snprintf(reason, sizeof(reason), "cannot connect to upstream %s: %s",
	    c->x->srv->conf->name, strerror(err));
	return exchange_error(c, 502, "connect_exception", reason, PERR_CONNECT);
}

/*
 * Is a complete request head one that every server reads the same way?
 * NULL if so; else why not, with the status to answer in *status.  Kept
 * apart from the exchange so the request fuzzer runs the same checks.
 */
static const char *
exchange_head_refused(const llhttp_t *p, const struct http_head *h, int *status)
{
	int http10 = p->http_major == 1 && p->http_minor == 0;

	*status = 400;
	if (p->http_major != 1 || p->http_minor > 1)
		return "unsupported HTTP version";
	if (http_head_find(h, "transfer-encoding") >= 0 &&
	    (!(p->flags & F_CHUNKED) || http10))
		return "Transfer-Encoding must end with chunked, in HTTP/1.1";
	if (!http10 && http_head_count(h, "host") != 1)
		return "request needs exactly one Host header";
	if (http10 && http_head_count(h, "host") > 1)
		return "more than one Host header";
	if (h->url_len == 0)
		return "empty request target";
	if (p->method == HTTP_CONNECT) {
		*status = 405;
		return "CONNECT is not supported";
	}
	return NULL;
}

/* Does the request head announce a body (chunked, or a length)? */
static int
exchange_has_body(const llhttp_t *p)
{
	return (p->flags & F_CHUNKED) || p->content_length > 0;
}

/* Validate a complete request head and start its exchange. 0 or -1. */
static int
exchange_start_request(struct client *c)
{
	struct worker		*w = c->w;
	const struct sw_config	*cfg = w->gen->cfg;
	llhttp_t		*p = &c->x->req;
	const char		*reason;
	int			 status, unreadable;

	c->x->http10 = p->http_major == 1 && p->http_minor == 0;
	c->x->keepalive = llhttp_should_keep_alive(p);
	c->x->is_head = p->method == HTTP_HEAD;
	c->x->req_done = c->x->resp_head_ready = c->x->resp_head_sent = 0;
	c->x->resp_done = c->x->resp_eof = c->x->up_byte = c->x->retried = 0;
	c->x->dechunk = 0;
	c->x->resp_ck_on = 0;
	http_chunked_init(&c->x->req_ck);
	c->x->status = 0;
	c->x->route_slot = 0;
	c->x->req_bytes = c->x->resp_bytes = 0;
	c->x->t_start = now_us();
	M_INC(w->m->l.requests);
	if (c->nreq > 1)
		M_INC(w->m->l.requests_reused);

	if ((reason = exchange_head_refused(p, &c->x->head, &status)) != NULL)
		return exchange_error(c, status, "illegal_argument_exception",
		    reason, -1);

	client_set_state(c, CS_PROXY);
	client_timer(c, 0);
	/*
	 * Mid-request, a silent client is an I/O timeout; a request with no
	 * body is whole already, and gets the timeouts of that phase now.
	 */
	client_timeouts(c, exchange_has_body(p) ? cfg->client_timeout_ms : 0,
	    cfg->client_timeout_ms);

	if ((cfg->max_requests_per_conn > 0 &&
	    c->nreq >= (uint64_t)cfg->max_requests_per_conn) ||
	    (c->expire_at != 0 && now_ms() >= c->expire_at))
		client_ask_close(c, CLOSE_RECYCLE);
	c->x->aff_slot = affinity_request(cfg, p->method, &c->x->head,
	    p->content_length, (p->flags & F_CHUNKED) != 0, &c->x->aff_wait,
	    &unreadable);
	M_ADD(w->m->l.affinity_unreadable, (uint64_t)unreadable);
	if (c->x->aff_wait > 0)
		return 0;	/* exchange_process routes once the body is in */
	return exchange_connect(c);
}

/*
 * The request's backend choice, the one place it is made: by search
 * context, pinned binding or policy, then the server in that backend.
 * Sets c->x->gen, c->x->be, c->x->srv.  0, or -1 (answered 503).
 */
static int
exchange_pick_backend(struct client *c)
{
	const struct sw_config *cfg = c->w->gen->cfg;
	struct opclass oc;
	int method = (int)c->x->req.method, ri, rs;
	char ab[ADDR_STRLEN];

	c->x->gen = wgen_ref(c->w->gen);
	/* Classified once: the route and the resend rule both ask. */
	opclass_classify(method, c->x->head.buf != NULL ? c->x->head.buf +
	    c->x->head.url_off : "", c->x->head.url_len, &oc);
	c->x->idempotent = method == HTTP_OPTIONS || oc.op == OPCLASS_READ;
	ri = route_match_class(cfg, &oc);
	rs = c->x->route_slot = route_slot(cfg, ri);
	/*
	 * A reload to another policy releases pinned connections.  Only
	 * policy sticky reads the address (the key without its header).
	 */
	if ((c->x->be = wgen_route(c->x->gen, ri, c->x->aff_slot >= 0 ?
	    c->x->aff_slot : (c->rpinned & 1u << rs) &&
	    cfg->policy == POLICY_CONNECTION ? client_rbound(c, rs) : -1,
	    &c->x->head, cfg->policy == POLICY_STICKY ?
	    addr_format(&c->addr, ab) : "")) == NULL)
		return exchange_error(c, 503, "no_backend_exception",
		    "no backend has weight", -1);
	c->x->aff_routed = c->x->aff_slot >= 0 &&
	    c->x->be->conf->metric_slot == c->x->aff_slot;
	if (c->x->aff_routed)
		M_INC(c->x->be->m->affinity_hits);
	else {
		/* A search context's request does not move the binding. */
		client_bind(c, c->x->be->conf->metric_slot);
		if (client_rbind(c, rs, c->x->be->conf->metric_slot) == -1)
			return exchange_error(c, 503, "no_backend_exception",
			    "out of memory", -1);
		c->rpinned = cfg->policy == POLICY_CONNECTION ?
		    c->rpinned | 1u << rs : 0;
	}
	M_INC(c->x->be->m->requests);
	if ((c->x->srv = wbackend_pick_server(c->x->be, now_ms())) == NULL)
		return exchange_error(c, 503, "no_server_exception",
		    "no server of the backend is available", PERR_NO_SERVER);
	return 0;
}

/*
 * The last client address this worker thread formatted for
 * X-Forwarded-For, and its text: requests come from few addresses (a
 * handful of application servers, a load balancer), and no connection
 * holds its address as text (idle memory).
 */
static __thread struct sw_addr	xff_addr;
static __thread char		xff_text[ADDR_STRLEN];

/*
 * The request head as it goes upstream, onto out: the same bytes each
 * time for the same exchange (a resend builds it again).  0 or -1.
 */
static int
exchange_build_head(struct client *c, struct evbuffer *out)
{
	const struct sw_config	*cfg = c->w->gen->cfg;
	struct http_fwd		 fwd = { NULL, NULL, NULL };

	if (cfg->x_forwarded_for) {
		/* addr_set zeroes the padding: whole structs compare. */
		if (xff_text[0] == '\0' ||
		    memcmp(&xff_addr, &c->addr, sizeof(xff_addr)) != 0) {
			addr_format(&c->addr, xff_text);
			memcpy(&xff_addr, &c->addr, sizeof(xff_addr));
		}
		fwd.client_addr = xff_text;
	}
	if (cfg->x_forwarded_proto) {
		fwd.proto = c->tls ? "https" : "http";
		fwd.port = c->l->port;
	}
	return http_build_request(out, &c->x->head,
	    llhttp_method_name(c->x->req.method), &fwd);
}

/* Route the request and start sending it upstream.  0 or -1. */
static int
exchange_connect(struct client *c)
{
	struct worker		*w = c->w;
	const struct sw_config	*cfg = w->gen->cfg;
	struct evbuffer		*out;
	llhttp_t		*p = &c->x->req;

	if (exchange_pick_backend(c) == -1)
		return -1;
	if ((c->x->up = upstream_acquire(w, c->x->srv, &client_up_cbs, c,
	    0)) == NULL)
		return exchange_connect_failed(c, errno);
	out = conn_output(c->x->up->conn);
	/* Without its head, the body would be read upstream as a request. */
	if (exchange_build_head(c, out) == -1)
		return exchange_error(c, 503, "service_unavailable_exception",
		    "cannot build the request head: out of memory", -1);
	/*
	 * On a reused connection the request may have to go again
	 * (exchange_resend_ok).  Nothing is copied now: a read's head is
	 * built again, its body copied as it passes; a write is moved
	 * from the old connection's output.
	 */
	if (c->x->up->reused && c->x->head.buf != NULL) {
		c->x->queued = evbuffer_get_length(out);
		if (c->x->idempotent)
			c->x->retry_head = 1;
		else
			c->x->retry_move = 1;
	}
	/*
	 * No first-byte clock while the body is still on its way; with no
	 * body, the request is whole and the clock starts now.
	 */
	if (c->x->up->state != US_CONNECTING)
		upstream_timeouts(c->x->up, exchange_has_body(p) ? 0 :
		    cfg->first_byte_timeout_ms, cfg->io_timeout_ms);
	llhttp_init(&c->x->resp, HTTP_RESPONSE, &resp_settings);
	c->x->resp.data = c;
	http_head_reset(&c->x->rhead);
	conn_set_write_low(c->x->up->conn, OUT_LOW);
	return 0;
}

/* Run the request parser over the first contiguous input chunk. */
static llhttp_errno_t
exchange_feed(struct client *c, struct evbuffer *in, size_t *used,
    const char **data)
{
	struct evbuffer_iovec	 v;
	llhttp_errno_t		 e;
	const char		*d = empty;
	size_t			 n = 0;

	if (evbuffer_peek(in, -1, NULL, &v, 1) > 0) {
		d = v.iov_base;
		n = v.iov_len;
	}
	*data = d;
	c->x->req_paused = 0;
	e = llhttp_execute(&c->x->req, d, n);
	if (e == HPE_OK)
		*used = n;
	else if (e == HPE_PAUSED || e == HPE_PAUSED_UPGRADE)
		*used = (size_t)(llhttp_get_error_pos(&c->x->req) - d);
	else
		*used = 0;
	return e;
}

/*
 * llhttp 8 accepts a bare LF after the request line and lets obs-fold
 * (a line starting with white space) through: two classic ways for one
 * hop and the next to read different messages.  Check the raw head
 * bytes d[0..n), *prev being the byte before them.  Both directions.
 */
static int
exchange_head_lines_ok(unsigned char *prev, const char *d, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)d[i];

		if (*prev == '\n' && (ch == ' ' || ch == '\t'))
			return 0;
		if (ch == '\n' && *prev != '\r')
			return 0;
		*prev = ch;
	}
	return 1;
}

/*
 * Broken body framing: the exchange cannot go on.  The upstream
 * connection is closed, never pooled (exchange_error): what it was sent is
 * part of a request no one will finish.
 */
static void
exchange_bad_body(struct client *c, const char *why)
{
	char reason[200];

	c->x->close_after = 1;
	if (c->x->be != NULL)
		M_INC(c->w->m->l.bad_requests);
	snprintf(reason, sizeof(reason), "malformed request body: %s", why);
	exchange_error(c, 400, "illegal_argument_exception", reason, -1);
}

/* Parse and forward as much client input as the state allows. */
static void
exchange_process_in(struct client *c)
{
	struct evbuffer	*in;
	llhttp_errno_t	 e;
	const char	*data, *why;
	size_t		 used;
	int		 unreadable;

	while (c->state == CS_IDLE || c->state == CS_HEAD ||
	    (c->state == CS_PROXY && !c->x->req_done)) {
		in = conn_input(c->conn);
		if (c->state != CS_PROXY) {
			if (evbuffer_get_length(in) == 0) {
				if (c->peer_eof)	/* flush, then close */
					client_linger(c, CLOSE_CLIENT);
				else if (c->state == CS_HEAD && !c->x->head_timer) {
					/* A head cut short: the rest has its time. */
					c->x->head_timer = 1;
					client_timer(c, c->w->gen->cfg->header_timeout_ms);
				}
				return;
			}
			/* A request's first bytes: its exchange begins. */
			if (c->x == NULL && (c->x = exchange_get(c)) == NULL) {
				client_close(c, CLOSE_ERROR, "out of memory");
				return;
			}
			e = exchange_feed(c, in, &used, &data);
			if (e == HPE_OK || e == HPE_PAUSED) {
				if (!exchange_head_lines_ok(&c->x->scan_prev, data,
				    used)) {
					if (c->state == CS_IDLE)
						client_set_state(c, CS_HEAD);
					exchange_error(c, 400, "illegal_argument_exception",
					    "malformed request: bare LF or obs-fold "
					    "in the head", -1);
					return;
				}
			}
			evbuffer_drain(in, used);
			if (e == HPE_OK) {
				if (c->state == CS_IDLE) {
					/* Nothing begun (odd CRLFs): stay small. */
					exchange_put(c->x);
					c->x = NULL;
					return;
				}
				continue;
			}
			if (e == HPE_PAUSED) {
				llhttp_resume(&c->x->req);
				if (exchange_start_request(c) == -1)
					return;
				continue;
			}
			if (c->x->head.overflow && c->x->head.nhdrs == 0)
				exchange_error(c, 414, "too_long_http_line_exception",
				    "request line too long", -1);
			else if (c->x->head.overflow)
				exchange_error(c, 431, "too_long_http_header_exception",
				    "request header fields too large", -1);
			else {
				char reason[256];

				snprintf(reason, sizeof(reason), "malformed "
				    "request: %s", llhttp_get_error_reason(&c->x->req) ?
				    llhttp_get_error_reason(&c->x->req) :
				    llhttp_errno_name(e));
				if (c->state == CS_IDLE)
					client_set_state(c, CS_HEAD);
				exchange_error(c, 400, "illegal_argument_exception",
				    reason, -1);
			}
			return;
		}

		if (c->x->up == NULL) {
			/* Affinity: routing waits for a small body. */
			if (evbuffer_get_length(in) < c->x->aff_wait)
				return;
			c->x->aff_slot = affinity_request_body(c->w->gen->cfg,
			    c->x->req.method, &c->x->head, (const char *)
			    evbuffer_pullup(in, (ssize_t)c->x->aff_wait), c->x->aff_wait,
			    &unreadable);
			M_ADD(c->w->m->l.affinity_unreadable,
			    (uint64_t)unreadable);
			c->x->aff_wait = 0;
			if (exchange_connect(c) == -1)
				return;
			continue;
		}
		/* Body: stop while the upstream is behind. */
		if (conn_output_len(c->x->up->conn) >=
		    OUT_HIGH)
			client_up_out(c);
		if (conn_output_len(c->x->up->conn) >=
		    OUT_HIGH) {
			if (!c->in_paused) {
				c->in_paused = 1;
				conn_disable(c->conn, EV_READ);
			}
			return;
		}
		e = exchange_feed(c, in, &used, &data);
		if (used > 0 && (c->x->req.flags & F_CHUNKED) &&
		    http_chunked_scan(&c->x->req_ck, data, used, &why) == -1) {
			exchange_bad_body(c, why);
			return;
		}
		if (used > 0) {
			struct evbuffer *uout = conn_output(c->x->up->conn);

			if (c->x->retry_head || c->x->retry_move) {
				c->x->queued += used;
				if (c->x->queued > c->x->gen->cfg->retry_body_max)
					exchange_retry_drop(c);
				else if (c->x->retry_head &&
				    ((c->x->retry == NULL && (c->x->retry =
				    evbuffer_new()) == NULL) ||
				    evbuffer_add(c->x->retry, data, used) == -1))
					exchange_retry_drop(c);
			}
			evbuffer_remove_buffer(in, uout, used);
			c->x->req_bytes += used;
		}
		if (e == HPE_OK) {
			if (used == 0)
				return;		/* need more bytes */
			continue;
		}
		if (e == HPE_PAUSED || e == HPE_PAUSED_UPGRADE) {
			if (e == HPE_PAUSED_UPGRADE)
				llhttp_resume_after_upgrade(&c->x->req);
			else
				llhttp_resume(&c->x->req);
			if (!c->x->req_paused)
				continue;
			if ((c->x->req.flags & F_CHUNKED) &&
			    !http_chunked_done(&c->x->req_ck)) {
				/* llhttp saw an end where the strict scan did not. */
				exchange_bad_body(c, "chunked body ended early");
				return;
			}
			c->x->req_done = 1;
			/* From now on, the upstream owes us a first byte. */
			if (c->x->up != NULL && !c->x->up_byte)
				upstream_timeouts(c->x->up,
				    c->x->gen->cfg->first_byte_timeout_ms,
				    c->x->gen->cfg->io_timeout_ms);
			client_timeouts(c, 0, c->x->gen->cfg->client_timeout_ms);
			/*
			 * The client said close and sent it all: nothing more
			 * is read before that close (client_flushed), so a
			 * connection whose request came with it is never
			 * polled for reading (conn_enable_read_first).
			 */
			if (!c->x->keepalive && !c->tls &&
			    conn_input_len(c->conn) == 0)
				conn_disable(c->conn, EV_READ);
			if (c->x->resp_done)
				exchange_finish(c);
			return;
		}
		exchange_bad_body(c, llhttp_get_error_reason(&c->x->req) ?
		    llhttp_get_error_reason(&c->x->req) : "malformed body");
		return;
	}
}

/* Parse and forward client input, then send what that queued upstream. */
void
exchange_process(struct client *c)
{
	exchange_process_in(c);
	client_up_out(c);
}

/* ---- the upstream side --------------------------------------------------- */

/* Send the saved request again on a fresh connection.  0 or -1. */
static int
exchange_retry(struct client *c)
{
	struct upstream	*u;
	struct evbuffer	*saved = c->x->retry;
	int		 head = c->x->retry_head;
	char		 ab[ADDR_STRLEN];

	c->x->retry = NULL;
	c->x->retry_head = 0;
	/* A write: all of it is still queued on the old connection. */
	if (c->x->retry_move && (saved = evbuffer_new()) != NULL)
		evbuffer_add_buffer(saved, conn_output(c->x->up->conn));
	if (c->x->retry_move && saved == NULL)
		return exchange_connect_failed(c, ENOMEM);
	c->x->retry_move = 0;
	upstream_close(c->x->up);
	c->x->up = NULL;
	c->x->retried = 1;
	M_INC(c->x->be->m->retries);
	log_debug("client %s: retrying on a fresh connection to %s",
	    addr_format(&c->addr, ab), c->x->srv->conf->name);
	if ((u = upstream_acquire(c->w, c->x->srv, &client_up_cbs, c,
	    1)) == NULL) {
		int err = errno;

		if (saved != NULL)
			evbuffer_free(saved);
		return exchange_connect_failed(c, err);
	}
	c->x->up = u;
	/* A read: its head again, then the body bytes sent so far. */
	if (head && exchange_build_head(c, conn_output(u->conn)) == -1) {
		if (saved != NULL)
			evbuffer_free(saved);
		return exchange_connect_failed(c, ENOMEM);
	}
	if (saved != NULL) {
		evbuffer_add_buffer(conn_output(u->conn), saved);
		evbuffer_free(saved);
	}
	conn_set_write_low(u->conn, OUT_LOW);
	llhttp_init(&c->x->resp, HTTP_RESPONSE, &resp_settings);
	c->x->resp.data = c;
	http_head_reset(&c->x->rhead);
	if (c->x->req_done)
		upstream_timeouts(u, 0, c->x->gen->cfg->connect_timeout_ms);
	return 0;
}

/*
 * The reused connection under the request died before any answer: may
 * the request go again on a fresh one?  Only if no byte of it left for
 * the server (the classic race with a server closing an idle pooled
 * connection), or if it is idempotent (opclass: reads, OPTIONS).  A
 * write the server read before closing may have been done: sent twice,
 * a POST /idx/_doc is a duplicate document (#16), as nginx and HAProxy
 * also refuse.
 */
static int
exchange_resend_ok(struct client *c)
{
	size_t unsent = conn_output_len(c->x->up->conn);

	if (unsent >= c->x->queued)
		return 1;
	return c->x->idempotent;
}

/*
 * Write the response head to the client, deciding the connection's fate.
 * 0, or -1 when the head cannot be built (answered 502, exchange ended).
 */
static int
exchange_send_head(struct client *c)
{
	int flags = 0;

	/*
	 * A 204 has no length at all (RFC 9110 8.6); a 304's Content-Length
	 * is the representation's, and kept.
	 */
	if (c->x->status == 204)
		flags |= HB_DROP_CL | HB_DROP_TE;
	if (c->x->http10 && (c->x->resp.flags & F_CHUNKED)) {
		c->x->dechunk = 1;		/* HTTP/1.0 has no chunked encoding */
		c->x->close_after = 1;
		flags |= HB_DROP_TE;
	}
	if (llhttp_message_needs_eof(&c->x->resp))
		c->x->close_after = 1;	/* body ends when the upstream closes */
	if (!c->x->req_done)
		c->x->close_after = 1;	/* early answer: unread body follows */
	if (client_close_now_ok(c))
		c->x->close_after = 1;	/* drained or recycled */
	if (c->x->close_after || !c->x->keepalive)
		flags |= HB_CLOSE;
	else if (c->x->http10)
		flags |= HB_KEEPALIVE;
	if (http_build_response(conn_output(c->conn), &c->x->rhead,
	    c->x->status, flags) == -1) {
		/* Never a body without its head: end the exchange. */
		c->x->close_after = 1;
		return exchange_error(c, 502, "bad_gateway_exception",
		    "cannot build the response head: out of memory", -1);
	}
	c->x->resp_head_sent = 1;
	/* A body follows the head only when llhttp did not skip it. */
	c->x->resp_ck_on = (c->x->resp.flags & F_CHUNKED) &&
	    !(c->x->resp.flags & F_SKIPBODY);
	if (c->x->resp_ck_on)
		http_chunked_init(&c->x->resp_ck);
	c->x->aff = affinity_response(c->x->gen->cfg, c->x->req.method, &c->x->head,
	    &c->x->rhead, c->x->status, (c->x->resp.flags & F_CHUNKED) ? 0 :
	    c->x->resp.content_length, c->x->aff_routed);
	return 0;
}

/* Forward an interim (1xx) response to an HTTP/1.1 client. */
static void
exchange_send_interim(struct client *c)
{
	if (c->x->status == 101) {
		exchange_error(c, 502, "bad_gateway_exception",
		    "upstream switched protocols unasked", PERR_BAD_RESPONSE);
		return;
	}
	if (!c->x->http10)	/* no body, so no length (RFC 9110 8.6) */
		http_build_response(conn_output(c->conn), &c->x->rhead,
		    c->x->status, HB_DROP_CL | HB_DROP_TE);
	http_head_reset(&c->x->rhead);
}

/*
 * An upstream's chunk framing broke the rules: the answer is cut there
 * (a 502, or a close if its head went out) and the connection dropped.
 */
static void
exchange_bad_response_body(struct client *c, const char *why)
{
	char reason[200];

	snprintf(reason, sizeof(reason), "bad response from upstream %s: %s",
	    c->x->srv->conf->name, why);
	exchange_error(c, 502, "bad_gateway_exception", reason,
	    PERR_BAD_RESPONSE);
}

/* Parse and forward as much upstream input as the client can take. */
static void
exchange_upstream_in(struct client *c)
{
	struct evbuffer		*in, *out;
	struct evbuffer_iovec	 v;
	llhttp_errno_t		 e;
	const char		*why;
	size_t			 used;

	while (c->state == CS_PROXY && c->x->up != NULL && !c->x->resp_done) {
		in = conn_input(c->x->up->conn);
		out = conn_output(c->conn);
		/*
		 * After a pause at headers-complete, a body-less answer (204,
		 * 304, Content-Length: 0) ends without another input byte.
		 */
		if (evbuffer_get_length(in) == 0 && !c->x->resp_kick)
			return;
		if (evbuffer_get_length(out) >= OUT_HIGH)
			client_out(c);
		if (evbuffer_get_length(out) >= OUT_HIGH) {
			if (!c->x->up_paused) {
				c->x->up_paused = 1;
				conn_disable(c->x->up->conn, EV_READ);
				conn_set_write_low(c->conn, OUT_LOW);
			}
			return;
		}
		if (!c->x->up_byte) {
			c->x->up_byte = 1;
			/* Time between reads from now on, not to first byte. */
			upstream_timeouts(c->x->up, c->x->gen->cfg->io_timeout_ms,
			    c->x->gen->cfg->io_timeout_ms);
			exchange_retry_drop(c);	/* the server answers */
		}
		c->x->resp_kick = 0;
		if (evbuffer_peek(in, -1, NULL, &v, 1) < 1) {
			v.iov_base = (void *)empty;
			v.iov_len = 0;
		}
		e = llhttp_execute(&c->x->resp, v.iov_base, v.iov_len);
		if (e == HPE_OK)
			used = v.iov_len;
		else if (e == HPE_PAUSED)
			used = (size_t)(llhttp_get_error_pos(&c->x->resp) -
			    (const char *)v.iov_base);
		else {
			char reason[200];

			snprintf(reason, sizeof(reason), "bad response from "
			    "upstream %s: %s", c->x->srv->conf->name,
			    llhttp_get_error_reason(&c->x->resp) ?
			    llhttp_get_error_reason(&c->x->resp) :
			    llhttp_errno_name(e));
			exchange_error(c, 502, "bad_gateway_exception", reason,
			    PERR_BAD_RESPONSE);
			return;
		}
		if (!c->x->resp_head_sent &&
		    !exchange_head_lines_ok(&c->x->rscan_prev, v.iov_base, used)) {
			char reason[200];

			snprintf(reason, sizeof(reason), "bad response from "
			    "upstream %s: bare LF or obs-fold in the head",
			    c->x->srv->conf->name);
			exchange_error(c, 502, "bad_gateway_exception", reason,
			    PERR_BAD_RESPONSE);
			return;
		}
		if (c->x->resp_ck_on && used > 0 && http_chunked_scan(&c->x->resp_ck,
		    v.iov_base, used, &why) == -1) {
			exchange_bad_response_body(c, why);
			return;
		}
		c->x->resp_bytes += used;
		/* Head bytes were copied by the callbacks; body bytes move. */
		if (c->x->resp_head_sent && !c->x->dechunk)
			evbuffer_remove_buffer(in, out, used);
		else
			evbuffer_drain(in, used);
		if (c->x->resp_head_ready && !c->x->resp_head_sent &&
		    exchange_send_head(c) == -1)
			return;
		if (e != HPE_PAUSED)
			continue;
		llhttp_resume(&c->x->resp);
		if (!c->x->resp_msg_end) {
			c->x->resp_kick = 1;	/* paused at headers-complete */
			continue;
		}
		c->x->resp_msg_end = 0;
		if (!c->x->resp_head_ready) {
			exchange_send_interim(c);	/* a 1xx ended */
			continue;
		}
		if (c->x->resp_ck_on && !http_chunked_done(&c->x->resp_ck)) {
			exchange_bad_response_body(c, "chunked body ended early");
			return;
		}
		c->x->resp_done = 1;
		if (c->x->req_done)
			exchange_finish(c);
		return;
	}
}

/* Forward upstream input, then send what that queued to the client. */
void
exchange_upstream_read(struct client *c)
{
	exchange_upstream_in(c);
	client_out(c);
}

static void
exchange_upstream_readcb(struct conn *cn, void *arg)
{
	(void)cn;
	exchange_upstream_read(arg);
}

static void
exchange_upstream_writecb(struct conn *cn, void *arg)
{
	struct client *c = arg;

	/* The upstream drained what we sent: read the client again. */
	if (c->in_paused && c->state == CS_PROXY) {
		c->in_paused = 0;
		conn_enable(c->conn, EV_READ);
		exchange_process(c);
	}
}

/*
 * If the upstream failed for a TLS reason, answer 502 saying which, count
 * and log it, and return 1; else 0.
 */
static int
exchange_upstream_tls_error(struct client *c, struct conn *cn,
    const char *what)
{
	char tls_reason[160], reason[256], ab[ADDR_STRLEN];

	if (!tls_failure(conn_ssl(cn), conn_ssl_error(cn), tls_reason,
	    sizeof(tls_reason)))
		return 0;
	M_INC(c->x->be->m->tls_failures);
	snprintf(reason, sizeof(reason), "TLS %s with upstream %s failed: %s",
	    what, c->x->srv->conf->name, tls_reason);
	tls_log_limited("client %s: %s", addr_format(&c->addr, ab), reason);
	exchange_error(c, 502, "tls_exception", reason, PERR_TLS);
	return 1;
}

static void
exchange_upstream_eventcb(struct conn *cn, short what, void *arg)
{
	struct client		*c = arg;
	const struct sw_config	*cfg = c->x->gen->cfg;
	char			 reason[200];

	if (what & CONN_EV_CONNECTED) {
		c->x->up->state = US_BUSY;
		upstream_timeouts(c->x->up, c->x->req_done ?
		    cfg->first_byte_timeout_ms : 0, cfg->io_timeout_ms);
		return;
	}
	if (c->x->up->state == US_CONNECTING) {
		wserver_failed(c->x->srv, now_ms());
		if (exchange_upstream_tls_error(c, cn, "handshake"))
			return;
		if (what & CONN_EV_TIMEOUT) {
			snprintf(reason, sizeof(reason), "connect to upstream %s "
			    "timed out", c->x->srv->conf->name);
			exchange_error(c, 504, "timeout_exception", reason,
			    PERR_TIMEOUT);
		} else {
			snprintf(reason, sizeof(reason), "cannot connect to "
			    "upstream %s: %s", c->x->srv->conf->name,
			    evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
			exchange_error(c, 502, "connect_exception", reason,
			    PERR_CONNECT);
		}
		return;
	}
	if (what & CONN_EV_TIMEOUT) {
		snprintf(reason, sizeof(reason), "upstream %s did not answer "
		    "in time", c->x->srv->conf->name);
		exchange_error(c, 504, "timeout_exception", reason, PERR_TIMEOUT);
		return;
	}
	/* EOF or error. */
	if (!c->x->up_byte && c->x->up->reused && !c->x->retried &&
	    (c->x->retry_head || c->x->retry_move) && exchange_resend_ok(c)) {
		if (exchange_retry(c) == 0 && !c->x->req_done)
			exchange_process(c);
		return;
	}
	if ((what & CONN_EV_EOF) && c->x->resp_head_sent &&
	    llhttp_message_needs_eof(&c->x->resp)) {
		/* A close-delimited body ends here. */
		exchange_upstream_read(c);
		if (c->state != CS_PROXY || c->x->resp_done)
			return;
		c->x->resp_msg_end = 0;
		if (llhttp_finish(&c->x->resp) == HPE_OK || c->x->resp_msg_end) {
			c->x->resp_eof = 1;
			c->x->resp_done = 1;
			if (c->x->req_done)
				exchange_finish(c);
			else
				client_linger(c, CLOSE_CONN_CLOSE);
			return;
		}
	}
	if (c->x->up_byte)
		exchange_upstream_read(c);	/* deliver what did arrive */
	if (c->state != CS_PROXY || c->x->resp_done)
		return;
	/* A TLS 1.3 server refuses a client certificate after the handshake. */
	if (exchange_upstream_tls_error(c, cn, "session"))
		return;
	snprintf(reason, sizeof(reason), "upstream %s closed the connection%s%s",
	    c->x->srv->conf->name, c->x->up_byte ? " mid-response" : " mid-request",
	    !c->x->up_byte && c->x->up->reused && !c->x->retried ? " (not sent again: "
	    "it may have been processed)" : "");
	exchange_error(c, 502, "bad_gateway_exception", reason, PERR_RESET);
}
