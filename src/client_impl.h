/*
 * client_impl: what client.c (a downstream connection's life) and
 * exchange.c (one request forwarded and its answer relayed) share.
 * Private to those two files: every other module sees only the opaque
 * struct client of switchover/client.h.
 *
 * Runs on the worker thread only.
 */
#ifndef SWITCHOVER_CLIENT_IMPL_H
#define SWITCHOVER_CLIENT_IMPL_H

#include <netinet/in.h>
#include <stdint.h>

#include <event2/event.h>

#include <llhttp.h>

#include "switchover/addr.h"
#include "switchover/client.h"
#include "switchover/conn.h"
#include "switchover/http.h"
#include "switchover/route.h"
#include "switchover/wctx.h"
#include "switchover/wgen.h"

/* Output above this stops reading from the other side. */
#define OUT_HIGH	(256 * 1024)
/* ... and reading resumes when it drains below this. */
#define OUT_LOW		(64 * 1024)
/* Unparsed client input kept at most (pipelining, slow upstream connect). */
#define IN_HIGH		(128 * 1024)
/* After our FIN, how long a client's late bytes are read and discarded. */
#define LINGER_MS	2000
/*
 * A drain (or shutdown) closes an idle keep-alive connection only once it
 * has been quiet this long.  One that answered a moment ago is likely
 * sending its next request right now: closing it would race that request
 * (lost in flight, or an RST), so it is left to end after its next
 * response, which says Connection: close.
 */
#define DRAIN_QUIET_MS	1000
/* ... and how often it looks whether its last answer has left. */
#define DRAIN_POLL_MS	100

enum client_state {
	CS_IDLE = 0,	/* between requests, keep-alive timer running */
	CS_HEAD,	/* reading a request head, header timer running */
	CS_PROXY,	/* an exchange is under way */
	CS_CLOSING,	/* flushing the last bytes, then close */
	CS_DEAD,	/* closed, waiting to be freed */
};

/*
 * One request forwarded and its answer relayed: what a connection holds
 * only while an exchange is under way (parsers, heads, framing scans,
 * the upstream binding).  Taken from the worker thread's free list when
 * a request's first byte arrives, given back when the connection goes
 * idle, so an idle keep-alive client holds none of it.
 */
struct exchange {
	struct exchange		*next_free;
	llhttp_t		 req;
	struct http_head	 head;
	int			 req_paused;	/* req parser hit a callback pause */
	struct wgen		*gen;
	struct wbackend		*be;
	struct wserver		*srv;
	struct upstream		*up;
	unsigned		 http10:1;	/* client spoke HTTP/1.0 */
	unsigned		 keepalive:1;	/* client wants to keep the conn */
	unsigned		 close_after:1;	/* close when this exchange ends */
	unsigned		 req_done:1;	/* whole request forwarded */
	unsigned		 resp_head_ready:1;
	unsigned		 resp_head_sent:1;
	unsigned		 resp_done:1;
	unsigned		 resp_eof:1;	/* body ended by upstream EOF */
	unsigned		 up_byte:1;	/* any response byte arrived */
	unsigned		 retried:1;
	unsigned		 dechunk:1;	/* HTTP/1.0 client, chunked reply */
	unsigned		 is_head:1;	/* HEAD request */
	unsigned		 up_paused:1;	/* upstream reads stopped */
	unsigned		 resp_msg_end:1;	/* resp parser paused at a message end */
	unsigned		 resp_kick:1;	/* run the parser even with no input */
	unsigned		 resp_ck_on:1;	/* response body is chunked */
	unsigned		 aff_routed:1;	/* routed by a search context id */
	unsigned		 idempotent:1;	/* may be sent again (opclass) */
	unsigned		 head_timer:1;	/* header timer armed for this head */
	unsigned char		 scan_prev;	/* last head byte seen (line checks) */
	unsigned char		 rscan_prev;	/* the same, response head */
	int			 aff_slot;	/* that id's backend, or -1 */
	size_t			 aff_wait;	/* body bytes to see before routing */
	struct affinity_resp	*aff;		/* response being read for ids */
	struct evbuffer		*retry;		/* copy of the body sent (retry_head) */
	unsigned		 retry_head:1;	/* a read: resend head rebuilt + retry */
	unsigned		 retry_move:1;	/* a write: resend from the output */
	size_t			 queued;	/* bytes queued upstream to resend */
	llhttp_t		 resp;
	struct http_head	 rhead;
	/* Chunked framing checked as the bodies pass (http_chunked_scan). */
	struct http_chunked	 req_ck, resp_ck;
	int			 status;
	int			 route_slot;	/* this request's route, 0: default */
	uint64_t		 t_start;	/* us */
	uint64_t		 req_bytes, resp_bytes;
};

/*
 * A downstream connection: what it needs to notice its next request.
 * Every connection holds one all its life, idle ones too, so it is kept
 * small (one 160-byte heap chunk): the address in binary, the states and
 * reasons in a byte each.
 */
struct client {
	TAILQ_ENTRY(client)	 entry;
	struct worker		*w;
	struct wlistener	*l;		/* accepted on */
	struct conn		*conn;
	struct exchange		*x;		/* the exchange, or NULL: idle */
	struct event		*timer;		/* header, drain, linger; or NULL */
	/* Per route slot beyond 0: the backend slot its last request there
	 * took, -1; NULL until a request matched a route (client_rbind). */
	int8_t			*rbound;
	uint64_t		 nreq;		/* requests begun on this conn */
	uint64_t		 drain_due;	/* ms, monotonic; 0: not marked */
	uint64_t		 expire_at;	/* ms: max_connection_age; 0: none */
	uint64_t		 idle_at;	/* ms: became idle (or connected) */
	int			 to_read, to_write;	/* conn timeouts set, ms */
	int8_t			 slot;		/* bound backend's metric slot, -1 */
	int8_t			 rbound0;	/* rbound of route slot 0 */
	enum client_state	 state:8;
	enum close_reason	 ask_why:8;	/* why close_asked */
	enum close_reason	 why:8;		/* reason for a CLOSING close */
	unsigned		 close_asked:1;	/* close at the next safe point */
	unsigned		 lingering:1;	/* FIN sent, discarding input */
	unsigned		 notified:1;	/* TLS close_notify sent */
	unsigned		 in_paused:1;	/* client reads stopped: backpressure */
	unsigned		 peer_eof:1;	/* client half-closed */
	unsigned		 tls:1;		/* accepted on a TLS listener */
	/* Route slots whose binding is fixed (policy connection). */
	uint32_t		 rpinned;
	struct sw_addr		 addr;		/* the peer (addr_format) */
};
/*
 * The byte-wide fields above hold every value.  An idle connection's
 * struct client is one 144-byte heap chunk (glibc: size + 8, in 16-byte
 * steps); the per-route bindings (SW_ROUTE_SLOTS bytes) live apart and
 * only on connections that used a route, so a proxy without routes
 * does not carry them on every idle connection.
 */
_Static_assert(CS_DEAD < 256 && CLOSE_MAX < 256, "client: enum too wide");
_Static_assert(SW_MAX_BACKENDS <= INT8_MAX, "client: slot is an int8_t");
_Static_assert(SW_ROUTE_SLOTS <= 32, "client: rpinned is 32 bits");

/* client.c: the connection's state, timers and close paths. */
void	client_set_state(struct client *, enum client_state);
void	client_timer(struct client *, int ms);
void	client_idle_timer(struct client *);
void	client_timer_cache_free(void);
void	client_timeouts(struct client *, int read_ms, int write_ms);
void	client_out(struct client *);
void	client_up_out(struct client *);
void	client_bind(struct client *, int slot);
int	client_rbind(struct client *, int rs, int slot);

/* The backend slot c's last request on route slot rs took, or -1. */
static inline int
client_rbound(const struct client *c, int rs)
{
	if (rs == 0)
		return c->rbound0;
	return c->rbound != NULL ? c->rbound[rs] : -1;
}
void	client_ask_close(struct client *, enum close_reason);
int	client_close_now_ok(struct client *);
void	client_idle_close(struct client *);
void	client_close(struct client *, enum close_reason, const char *);
void	client_linger(struct client *, enum close_reason);

/* exchange.c: the request in, the upstream, the answer out. */
/* To this thread's free list (client_cache_free empties it). */
void	exchange_put(struct exchange *);
void	exchange_process(struct client *);
void	exchange_end(struct client *, int reusable);
int	exchange_error(struct client *, int status, const char *type,
	    const char *reason, int perr);
void	exchange_upstream_read(struct client *);

#endif /* SWITCHOVER_CLIENT_IMPL_H */
