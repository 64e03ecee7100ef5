/*
 * fuzz_response: upstream bytes -> the response parser with the proxy's
 * own llhttp settings and callbacks (client.c and exchange.c included) ->
 * exchange_send_head, the code that writes the head a client receives.
 *
 * Input: byte 0 picks the read size (1..255, 0 = one read); byte 1 the
 * exchange: bit 0 a HEAD request, bit 1 an HTTP/1.0 client, bit 2 the
 * client wants keep-alive, bit 3 the request was fully sent.  The rest is
 * what the upstream answers.
 *
 * Invariants, for every head the proxy would send to its client:
 *  - it re-parses strictly, to exactly its own length, with the status
 *    the upstream sent, and its status line has no control byte;
 *  - no hop-by-hop header, at most one Connection header (the proxy's);
 *  - the body framing is the upstream's (same Content-Length, chunked or
 *    not), except for an HTTP/1.0 client of a chunked answer, which gets
 *    no Transfer-Encoding and "Connection: close" (the proxy de-chunks);
 *  - at most one Content-Length, never with Transfer-Encoding; none at
 *    all on a 1xx or 204 (no body follows them, whatever they say);
 *  - a chunked body the strict scan (http_chunked_scan) accepted whole
 *    ends where llhttp says it ends.
 */
#include "../../src/client.c"
#include "../../src/exchange.c"

#include "fuzz.h"

#define FUZZ_MAX_HEAD	8192

/* Check the head just written to the client's output, then drop it. */
static void
check_sent(struct client *c, int interim)
{
	struct evbuffer	*out = conn_output(c->conn);
	struct reparse	 r;
	llhttp_t	 p;
	size_t		 len = evbuffer_get_length(out);
	const char	*buf = (const char *)evbuffer_pullup(out, -1);

	if (interim && c->x->http10) {
		FUZZ_ASSERT(len == 0);	/* a 1.0 client never sees a 1xx */
		return;
	}
	FUZZ_ASSERT(reparse_head(HTTP_RESPONSE, buf, len, &p, &r) == 0);
	FUZZ_ASSERT(p.status_code == c->x->resp.status_code);
	/* The status line holds no control byte but its CRLF. */
	for (size_t i = 0; i < len && buf[i] != '\r'; i++)
		FUZZ_ASSERT((unsigned char)buf[i] >= 0x20 || buf[i] == '\t');
	FUZZ_ASSERT(r.hop == 0);
	FUZZ_ASSERT(r.n_conn <= 1);
	FUZZ_ASSERT(r.n_cl <= 1);
	FUZZ_ASSERT(!(r.n_cl && r.n_te));
	if (interim || c->x->status == 204) {
		FUZZ_ASSERT(r.n_cl == 0 && r.n_te == 0);
	} else if (c->x->dechunk) {
		FUZZ_ASSERT(r.n_te == 0);
		FUZZ_ASSERT(r.n_conn == 1 && !llhttp_should_keep_alive(&p));
	} else if (!interim) {
		FUZZ_ASSERT((p.flags & F_CHUNKED) == (c->x->resp.flags & F_CHUNKED));
		FUZZ_ASSERT(p.content_length == c->x->resp.content_length);
	}
	evbuffer_drain(out, len);
}

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct event_base	*base;
	static struct wgen		 gen;
	struct client			 c;
	struct exchange			 x;
	const char			*d = (const char *)data, *why;
	size_t				 step, pos = 0;
	int				 kick = 0, unreadable;

	if (base == NULL) {
		client_global_init();
		log_set_level(LOG_LVL_ERR);
		FUZZ_ASSERT((base = event_base_new()) != NULL);
		FUZZ_ASSERT(affinity_init(64) == 0);
		gen.cfg = fuzz_config();	/* affinity on, as by default */
	}
	if (size < 2)
		return 0;
	step = data[0] ? data[0] : size;

	memset(&c, 0, sizeof(c));
	memset(&x, 0, sizeof(x));
	c.x = &x;
	c.state = CS_PROXY;
	c.addr.af = AF_UNSPEC;	/* logged as "local" */
	c.x->is_head = data[1] & 1;
	c.x->http10 = (data[1] >> 1) & 1;
	c.x->keepalive = (data[1] >> 2) & 1;
	c.x->req_done = (data[1] >> 3) & 1;
	c.x->gen = &gen;
	/* The request it answers: a scroll search (its id is read from the
	 * body, the affinity path) or a plain GET. */
	c.x->req.method = HTTP_GET;
	http_head_init(&c.x->head, FUZZ_MAX_HEAD);
	FUZZ_ASSERT(http_head_url(&c.x->head, (data[1] & 16) ?
	    "/i/_search?scroll=1m" : "/", (data[1] & 16) ? 20 : 1) == 0);
	d += 2;
	size -= 2;
	/* A plain conn with no socket, never flushed: its output collects. */
	FUZZ_ASSERT((c.conn = conn_plain(base, -1)) != NULL);
	http_head_init(&c.x->rhead, FUZZ_MAX_HEAD);
	llhttp_init(&c.x->resp, HTTP_RESPONSE, &resp_settings);
	c.x->resp.data = &c;

	while (pos < size || kick) {
		size_t		 n = size - pos < step ? size - pos : step;
		size_t		 used;
		llhttp_errno_t	 e;

		kick = 0;
		e = llhttp_execute(&c.x->resp, d + pos, n);
		if (e == HPE_OK)
			used = n;
		else if (e == HPE_PAUSED)
			used = (size_t)(llhttp_get_error_pos(&c.x->resp) - (d + pos));
		else
			break;		/* the proxy answers 502 */
		FUZZ_ASSERT(used <= n);
		if (!c.x->resp_head_sent &&
		    !exchange_head_lines_ok(&c.x->rscan_prev, d + pos, used))
			break;		/* bare LF or obs-fold: 502 */
		if (c.x->resp_ck_on && used > 0 &&
		    http_chunked_scan(&c.x->resp_ck, d + pos, used, &why) == -1)
			break;		/* the answer is cut there */
		pos += used;
		if (c.x->resp_head_ready && !c.x->resp_head_sent) {
			exchange_send_head(&c);
			check_sent(&c, 0);
		}
		if (e != HPE_PAUSED)
			continue;
		llhttp_resume(&c.x->resp);
		if (!c.x->resp_msg_end) {
			kick = 1;	/* paused at headers-complete */
			continue;
		}
		c.x->resp_msg_end = 0;
		if (c.x->resp_head_ready) {
			/* Both readings agree on where the body ends. */
			FUZZ_ASSERT(!c.x->resp_ck_on || http_chunked_done(&c.x->resp_ck));
			break;		/* the exchange is done */
		}
		/* An interim (1xx) answer ended; 101 is refused with a 502. */
		if (c.x->status == 101)
			break;
		exchange_send_interim(&c);
		check_sent(&c, 1);
	}
	affinity_response_end(c.x->aff, -1, 0, NULL, &unreadable);
	conn_free(c.conn);
	http_head_free(&c.x->rhead);
	http_head_free(&c.x->head);
	return 0;
}
