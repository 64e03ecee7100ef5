/*
 * fuzz_request: client bytes -> the request parser with the proxy's own
 * llhttp settings and callbacks (client.c and exchange.c are included,
 * so these are their statics, not copies) -> the checks exchange_start_request makes -> the
 * head http_build_request would send upstream.
 *
 * Input: the first byte picks how the rest is split into reads (1..255
 * bytes each, 0 = one read), since llhttp hands spans over in pieces at
 * read boundaries.  The rest is what a client sends on one connection:
 * pipelined requests follow one another.
 *
 * Invariants, for every request the proxy would forward:
 *  - the forwarded head re-parses strictly, to exactly its own length;
 *  - the method, the URL (byte for byte) and the body framing are the
 *    ones the proxy parsed: same Content-Length, chunked or not;
 *  - it has exactly one Host (HTTP/1.1), at most one Content-Length, never
 *    Content-Length and Transfer-Encoding together, and no hop-by-hop
 *    header; a Connection header is never forwarded.
 * An input the proxy refuses must stop the connection: nothing after it
 * is parsed.  A chunked body the strict scan (http_chunked_scan) accepted
 * whole ends exactly where llhttp says it ends.
 */
#include "../../src/client.c"
#include "../../src/exchange.c"

#include "fuzz.h"

#define FUZZ_MAX_HEAD	8192

/* Check one forwarded head against what the proxy parsed. */
static void
check_forwarded(struct client *c)
{
	struct http_fwd	 fwd = { "192.0.2.1", "http", "9200" };
	struct evbuffer	*out;
	struct reparse	 r;
	llhttp_t	 p;
	const char	*buf, *method = llhttp_method_name(c->x->req.method);
	size_t		 len, mlen = strlen(method);

	FUZZ_ASSERT((out = evbuffer_new()) != NULL);
	http_build_request(out, &c->x->head, method, &fwd);
	len = evbuffer_get_length(out);
	buf = (const char *)evbuffer_pullup(out, -1);
	FUZZ_ASSERT(reparse_head(HTTP_REQUEST, buf, len, &p, &r) == 0);
	FUZZ_ASSERT(p.method == c->x->req.method);
	FUZZ_ASSERT(p.http_major == 1 && p.http_minor == 1);
	/* The request target is forwarded byte for byte. */
	FUZZ_ASSERT(len > mlen + 1 + c->x->head.url_len);
	FUZZ_ASSERT(memcmp(buf + mlen + 1, c->x->head.buf + c->x->head.url_off,
	    c->x->head.url_len) == 0);
	FUZZ_ASSERT(buf[mlen + 1 + c->x->head.url_len] == ' ');
	/* Framing: the next hop sees the body the proxy sees. */
	FUZZ_ASSERT((p.flags & F_CHUNKED) == (c->x->req.flags & F_CHUNKED));
	FUZZ_ASSERT(p.content_length == c->x->req.content_length);
	FUZZ_ASSERT(r.n_cl <= 1);
	FUZZ_ASSERT(!(r.n_cl && r.n_te));
	FUZZ_ASSERT(r.n_host == 1 || (c->x->http10 && r.n_host == 0));
	FUZZ_ASSERT(r.hop == 0);
	FUZZ_ASSERT(r.n_conn == 0);
	evbuffer_free(out);
}

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int	 inited;
	struct client	 c;
	struct exchange	 x;
	const char	*d = (const char *)data, *why;
	size_t		 step, pos = 0;
	int		 in_body = 0;

	if (!inited) {
		client_global_init();
		log_set_level(LOG_LVL_ERR);
		inited = 1;
	}
	if (size < 1)
		return 0;
	step = data[0] ? data[0] : size;
	d++;
	size--;

	memset(&c, 0, sizeof(c));
	memset(&x, 0, sizeof(x));
	c.x = &x;
	/* HEAD, not IDLE: message_begin then needs no timer or worker. */
	c.state = CS_HEAD;
	c.addr.af = AF_UNSPEC;	/* logged as "local" */
	http_head_init(&c.x->head, FUZZ_MAX_HEAD);
	llhttp_init(&c.x->req, HTTP_REQUEST, &req_settings);
	c.x->req.data = &c;

	while (pos < size) {
		size_t		 n = size - pos < step ? size - pos : step;
		size_t		 used;
		llhttp_errno_t	 e;

		c.x->req_paused = 0;
		e = llhttp_execute(&c.x->req, d + pos, n);
		if (e == HPE_OK)
			used = n;
		else if (e == HPE_PAUSED || e == HPE_PAUSED_UPGRADE)
			used = (size_t)(llhttp_get_error_pos(&c.x->req) - (d + pos));
		else
			break;		/* the proxy answers 4xx and closes */
		FUZZ_ASSERT(used <= n);
		if (!in_body && !exchange_head_lines_ok(&c.x->scan_prev, d + pos, used))
			break;		/* bare LF or obs-fold: 400 */
		if (in_body && (c.x->req.flags & F_CHUNKED) && used > 0 &&
		    http_chunked_scan(&c.x->req_ck, d + pos, used, &why) == -1)
			break;		/* malformed framing: 400 */
		pos += used;
		if (e == HPE_OK)
			continue;
		if (e == HPE_PAUSED_UPGRADE) {
			llhttp_resume_after_upgrade(&c.x->req);
			continue;
		}
		llhttp_resume(&c.x->req);
		if (in_body) {
			if (c.x->req_paused) {
				/* Both readings agree on where the body ends. */
				FUZZ_ASSERT(!(c.x->req.flags & F_CHUNKED) ||
				    http_chunked_done(&c.x->req_ck));
				in_body = 0;	/* message complete */
			}
			continue;
		}
		/* Headers complete: the checks exchange_start_request makes. */
		{
			int status;

			c.x->http10 = c.x->req.http_major == 1 && c.x->req.http_minor == 0;
			if (exchange_head_refused(&c.x->req, &c.x->head, &status) != NULL)
				break;
		}
		check_forwarded(&c);
		http_chunked_init(&c.x->req_ck);
		in_body = 1;
	}
	http_head_free(&c.x->head);
	return 0;
}
