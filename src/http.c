/*
 * http: header arenas, hop-by-hop rules, and building the heads a proxy
 * forwards.  Header values are copied byte for byte: clients sign requests
 * with SigV4, so the proxy never re-spaces or re-cases what it keeps.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>

#include "switchover/http.h"

void
http_head_init(struct http_head *h, size_t max)
{
	memset(h, 0, sizeof(*h));
	h->max = max;
}

void
http_head_reset(struct http_head *h)
{
	h->len = 0;
	h->url_off = h->url_len = 0;
	h->nhdrs = 0;
	h->last = 0;
	h->overflow = 0;
}

void
http_head_free(struct http_head *h)
{
	free(h->buf);
	free(h->hdrs);
	memset(h, 0, sizeof(*h));
}

/*
 * An idle keep-alive connection holds no head memory: between requests
 * http_head_release() hands a head's arena and header array to a small
 * per-thread cache (each worker is one thread), and the next head on the
 * thread takes them back without malloc.  Only first-size blocks are
 * kept; a worker empties its cache with http_head_cache_free() on exit.
 */
#define ARENA_FIRST	1024
#define HDRS_FIRST	16
#define CACHE_MAX	64
static __thread char		*cache_buf[CACHE_MAX];
static __thread struct http_hdr	*cache_hdrs[CACHE_MAX];
static __thread int		 ncache_buf, ncache_hdrs;

void
http_head_release(struct http_head *h)
{
	if (h->cap == ARENA_FIRST && ncache_buf < CACHE_MAX)
		cache_buf[ncache_buf++] = h->buf;
	else
		free(h->buf);
	if (h->hcap == HDRS_FIRST && ncache_hdrs < CACHE_MAX)
		cache_hdrs[ncache_hdrs++] = h->hdrs;
	else
		free(h->hdrs);
	h->buf = NULL;
	h->hdrs = NULL;
	h->cap = h->hcap = 0;
	http_head_reset(h);
}

void
http_head_cache_free(void)
{
	while (ncache_buf > 0)
		free(cache_buf[--ncache_buf]);
	while (ncache_hdrs > 0)
		free(cache_hdrs[--ncache_hdrs]);
}

/* Append bytes to the arena, NUL-terminated (the NUL is not counted). */
static int
arena_add(struct http_head *h, const char *p, size_t n)
{
	if (h->len + n + 1 > h->max) {
		h->overflow = 1;
		return -1;
	}
	if (h->cap == 0 && ncache_buf > 0) {
		h->buf = cache_buf[--ncache_buf];
		h->cap = ARENA_FIRST;
	}
	if (h->len + n + 1 > h->cap) {
		size_t	 cap = h->cap ? h->cap : ARENA_FIRST;
		char	*b;

		while (cap < h->len + n + 1)
			cap *= 2;
		if (cap > h->max)
			cap = h->max;
		if ((b = realloc(h->buf, cap)) == NULL) {
			h->overflow = 1;
			return -1;
		}
		h->buf = b;
		h->cap = cap;
	}
	memcpy(h->buf + h->len, p, n);
	h->len += n;
	h->buf[h->len] = '\0';
	return 0;
}

/* Close the current token: skip its terminating NUL in the arena. */
static int
arena_end_token(struct http_head *h)
{
	if (arena_add(h, "", 0) == -1)
		return -1;
	h->len++;	/* keep the NUL between tokens */
	return 0;
}

int
http_head_url(struct http_head *h, const char *p, size_t n)
{
	if (h->url_len == 0 && h->len == 0)
		h->url_off = 0;
	if (arena_add(h, p, n) == -1)
		return -1;
	h->url_len += (uint32_t)n;
	return 0;
}

int
http_head_field(struct http_head *h, const char *p, size_t n)
{
	if (h->last != 1) {
		struct http_hdr *hd;

		/* End the previous token (URL or value) first. */
		if (arena_end_token(h) == -1)
			return -1;
		if (h->nhdrs == HTTP_MAX_HEADERS) {
			h->overflow = 1;
			return -1;
		}
		if (h->hcap == 0 && ncache_hdrs > 0) {
			h->hdrs = cache_hdrs[--ncache_hdrs];
			h->hcap = HDRS_FIRST;
		}
		if (h->nhdrs == h->hcap) {
			size_t cap = h->hcap ? h->hcap * 2 : HDRS_FIRST;

			hd = realloc(h->hdrs, cap * sizeof(*hd));
			if (hd == NULL) {
				h->overflow = 1;
				return -1;
			}
			h->hdrs = hd;
			h->hcap = cap;
		}
		hd = &h->hdrs[h->nhdrs++];
		memset(hd, 0, sizeof(*hd));
		hd->name_off = (uint32_t)h->len;
		h->last = 1;
	}
	if (arena_add(h, p, n) == -1)
		return -1;
	h->hdrs[h->nhdrs - 1].name_len += (uint32_t)n;
	return 0;
}

int
http_head_value(struct http_head *h, const char *p, size_t n)
{
	struct http_hdr *hd;

	if (h->nhdrs == 0)
		return -1;
	hd = &h->hdrs[h->nhdrs - 1];
	if (h->last != 2) {
		if (arena_end_token(h) == -1)
			return -1;
		hd->val_off = (uint32_t)h->len;
		h->last = 2;
	}
	if (arena_add(h, p, n) == -1)
		return -1;
	hd->val_len += (uint32_t)n;
	return 0;
}

int
http_head_find(const struct http_head *h, const char *name)
{
	size_t nlen = strlen(name);

	for (size_t i = 0; i < h->nhdrs; i++)
		if (h->hdrs[i].name_len == nlen &&
		    strncasecmp(http_hdr_name(h, i), name, nlen) == 0)
			return (int)i;
	return -1;
}

int
http_head_count(const struct http_head *h, const char *name)
{
	size_t	nlen = strlen(name);
	int	n = 0;

	for (size_t i = 0; i < h->nhdrs; i++)
		if (h->hdrs[i].name_len == nlen &&
		    strncasecmp(http_hdr_name(h, i), name, nlen) == 0)
			n++;
	return n;
}

/* Does the comma list v (length n) hold token t (case-insensitive)? */
static int
list_has(const char *v, size_t n, const char *t, size_t tlen)
{
	size_t i = 0;

	while (i < n) {
		size_t s, e;

		while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		s = i;
		while (i < n && v[i] != ',')
			i++;
		e = i;
		while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t'))
			e--;
		if (e - s == tlen && strncasecmp(v + s, t, tlen) == 0)
			return 1;
	}
	return 0;
}

int
http_head_has_token(const struct http_head *h, const char *name,
    const char *token)
{
	size_t nlen = strlen(name), tlen = strlen(token);

	for (size_t i = 0; i < h->nhdrs; i++)
		if (h->hdrs[i].name_len == nlen &&
		    strncasecmp(http_hdr_name(h, i), name, nlen) == 0 &&
		    list_has(http_hdr_value(h, i), h->hdrs[i].val_len, token,
		    tlen))
			return 1;
	return 0;
}

int
http_head_last_name_ok(const struct http_head *h)
{
	const char	*n;
	size_t		 len;

	if (h->nhdrs == 0 || h->last != 1)
		return 0;
	n = http_hdr_name(h, h->nhdrs - 1);
	len = h->hdrs[h->nhdrs - 1].name_len;
	if (len == 0)
		return 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)n[i];

		if (!isalnum(ch) && strchr("!#$%&'*+-.^_`|~", ch) == NULL)
			return 0;
	}
	return 1;
}

/* Is name (n bytes) equal to lit, ignoring case? */
static int
name_is(const char *name, size_t n, const char *lit)
{
	return strlen(lit) == n && strncasecmp(name, lit, n) == 0;
}

/*
 * The headers of a head that are not forwarded: the hop-by-hop names, and
 * every name a Connection header lists.  Collected once per head into a
 * bitmap: looking each header up in every Connection list cost a 64 KiB
 * head of `Connection: a,a,a,...` lists some 80 million instructions
 * (bench/hopcost.c).  Here the names go into a small hash table once,
 * and each listed token is hashed and looked up once: linear in the head.
 */
struct hopset {
	uint64_t	bits[(HTTP_MAX_HEADERS + 63) / 64];
};

#define HOP_SLOTS	256	/* > 2 * HTTP_MAX_HEADERS: short probes */

static int
hop_has(const struct hopset *hs, size_t i)
{
	return (hs->bits[i / 64] >> (i % 64)) & 1;
}

/* Case-insensitive FNV-1a of n bytes. */
static uint32_t
hop_hash(const char *p, size_t n)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)p[i];

		h ^= (ch >= 'A' && ch <= 'Z') ? ch | 0x20 : ch;
		h *= 16777619u;
	}
	return h;
}

/* Is header i's name one of the fixed hop-by-hop names? */
static int
hop_fixed(const struct http_head *h, size_t i)
{
#define HOP(s)	{ s, sizeof(s) - 1 }
	/* Lengths kept beside the names: this runs for every header. */
	static const struct { const char *s; size_t n; } hop[] = {
		HOP("connection"), HOP("keep-alive"), HOP("proxy-connection"),
		HOP("te"), HOP("trailer"), HOP("upgrade"), HOP("http2-settings"),
		HOP("proxy-authenticate"), HOP("proxy-authorization") };
#undef HOP
	const char	*n = http_hdr_name(h, i);
	size_t		 nl = h->hdrs[i].name_len;

	for (size_t k = 0; k < sizeof(hop) / sizeof(hop[0]); k++)
		if (hop[k].n == nl && strncasecmp(n, hop[k].s, nl) == 0)
			return 1;
	return 0;
}

static void
hop_collect(const struct http_head *h, struct hopset *hs)
{
	uint8_t	 slot[HOP_SLOTS];	/* header index + 1; 0: empty */
	int	 nconn = 0;

	memset(hs, 0, sizeof(*hs));
	for (size_t i = 0; i < h->nhdrs; i++)
		if (hop_fixed(h, i)) {
			hs->bits[i / 64] |= (uint64_t)1 << (i % 64);
			nconn += name_is(http_hdr_name(h, i),
			    h->hdrs[i].name_len, "connection");
		}
	if (nconn == 0)
		return;
	/*
	 * Headers a Connection list may name.  Never the framing or the
	 * Host: that would let one hop and the next disagree on where a
	 * request ends.
	 */
	memset(slot, 0, sizeof(slot));
	for (size_t i = 0; i < h->nhdrs; i++) {
		const char	*n = http_hdr_name(h, i);
		size_t		 nl = h->hdrs[i].name_len, s;

		if (hop_has(hs, i) || name_is(n, nl, "content-length") ||
		    name_is(n, nl, "transfer-encoding") || name_is(n, nl, "host"))
			continue;
		for (s = hop_hash(n, nl) % HOP_SLOTS; slot[s] != 0;
		    s = (s + 1) % HOP_SLOTS)
			;
		slot[s] = (uint8_t)(i + 1);
	}
	for (size_t k = 0; k < h->nhdrs; k++) {
		const char	*v = http_hdr_value(h, k);
		size_t		 n = h->hdrs[k].val_len, i = 0;

		if (!name_is(http_hdr_name(h, k), h->hdrs[k].name_len,
		    "connection"))
			continue;
		while (i < n) {
			size_t b, e;

			while (i < n && (v[i] == ' ' || v[i] == '\t' ||
			    v[i] == ','))
				i++;
			b = i;
			while (i < n && v[i] != ',')
				i++;
			e = i;
			while (e > b && (v[e - 1] == ' ' || v[e - 1] == '\t'))
				e--;
			if (e == b)
				continue;
			/* Every header of that name: all sit in one probe run. */
			for (size_t s = hop_hash(v + b, e - b) % HOP_SLOTS;
			    slot[s] != 0; s = (s + 1) % HOP_SLOTS) {
				size_t j = slot[s] - 1;

				if (h->hdrs[j].name_len == e - b &&
				    strncasecmp(http_hdr_name(h, j), v + b,
				    e - b) == 0)
					hs->bits[j / 64] |= (uint64_t)1 << (j % 64);
			}
		}
	}
}

int
http_head_is_hop(const struct http_head *h, size_t i)
{
	struct hopset hs;

	hop_collect(h, &hs);
	return hop_has(&hs, i);
}

/*
 * Heads are built in one piece of the output evbuffer's own memory and
 * committed once: this is the per-request path, and an evbuffer_add per
 * piece (four per header) runs the output's callbacks each time, while
 * evbuffer_add_printf costs a vsnprintf.  head_open() reserves an upper
 * bound; put() appends; head_close() commits what was written.
 */
struct headw {
	struct evbuffer_iovec	 v;
	char			*p;
};

static void
put(struct headw *w, const void *s, size_t n)
{
	memcpy(w->p, s, n);
	w->p += n;
}

#define PUTS(w, lit)	put((w), (lit), sizeof(lit) - 1)

/* Reserve max contiguous bytes of out.  0 or -1. */
static int
head_open(struct headw *w, struct evbuffer *out, size_t max)
{
	if (evbuffer_reserve_space(out, (ev_ssize_t)max, &w->v, 1) != 1)
		return -1;
	w->p = w->v.iov_base;
	return 0;
}

/* Commit what was put.  0 or -1. */
static int
head_close(struct headw *w, struct evbuffer *out)
{
	w->v.iov_len = (size_t)(w->p - (char *)w->v.iov_base);
	return evbuffer_commit_space(out, &w->v, 1);
}

/* Bytes every header of h takes as "Name: value\r\n". */
static size_t
headers_size(const struct http_head *h)
{
	size_t n = 0;

	for (size_t i = 0; i < h->nhdrs; i++)
		n += h->hdrs[i].name_len + h->hdrs[i].val_len + 4;
	return n;
}

/* Put header i as "Name: value\r\n", leaving off the CRLF if open. */
static void
put_header(struct headw *w, const struct http_head *h, size_t i, int open)
{
	put(w, http_hdr_name(h, i), h->hdrs[i].name_len);
	PUTS(w, ": ");
	put(w, http_hdr_value(h, i), h->hdrs[i].val_len);
	if (!open)
		PUTS(w, "\r\n");
}

/* Put "Name: value\r\n" for a NUL-terminated value. */
static void
put_line(struct headw *w, const char *name, size_t nl, const char *value)
{
	put(w, name, nl);
	put(w, value, strlen(value));
	PUTS(w, "\r\n");
}

int
http_build_request(struct evbuffer *out, const struct http_head *h,
    const char *method, const struct http_fwd *fwd)
{
	struct headw	 w;
	struct hopset	 hs;
	int		 xff_done = 0;
	size_t		 max, al = fwd->client_addr ? strlen(fwd->client_addr) : 0;

	max = strlen(method) + 1 + h->url_len + 11 + headers_size(h) +
	    sizeof("X-Forwarded-For: , \r\n") + al +
	    sizeof("X-Forwarded-Proto: \r\n") +
	    (fwd->proto ? strlen(fwd->proto) : 0) +
	    sizeof("X-Forwarded-Port: \r\n") +
	    (fwd->port ? strlen(fwd->port) : 0) + 2;
	if (head_open(&w, out, max) == -1)
		return -1;
	put(&w, method, strlen(method));
	PUTS(&w, " ");
	put(&w, h->buf + h->url_off, h->url_len);
	PUTS(&w, " HTTP/1.1\r\n");
	hop_collect(h, &hs);
	for (size_t i = 0; i < h->nhdrs; i++) {
		const char	*n = http_hdr_name(h, i);
		size_t		 nl = h->hdrs[i].name_len;

		if (hop_has(&hs, i))
			continue;
		if (fwd->proto != NULL && (name_is(n, nl, "x-forwarded-proto") ||
		    name_is(n, nl, "x-forwarded-port")))
			continue;	/* ours replaces the client's, as an ALB */
		if (fwd->client_addr != NULL && !xff_done &&
		    name_is(n, nl, "x-forwarded-for") &&
		    http_head_count(h, "x-forwarded-for") == 1) {
			put_header(&w, h, i, 1);
			PUTS(&w, ", ");
			put(&w, fwd->client_addr, al);
			PUTS(&w, "\r\n");
			xff_done = 1;
			continue;
		}
		put_header(&w, h, i, 0);
	}
	if (fwd->client_addr != NULL && !xff_done)
		put_line(&w, "X-Forwarded-For: ", 17, fwd->client_addr);
	if (fwd->proto != NULL)
		put_line(&w, "X-Forwarded-Proto: ", 19, fwd->proto);
	if (fwd->proto != NULL && fwd->port != NULL)
		put_line(&w, "X-Forwarded-Port: ", 18, fwd->port);
	PUTS(&w, "\r\n");
	return head_close(&w, out);
}

int
http_build_response(struct evbuffer *out, const struct http_head *h,
    int status, int flags)
{
	struct headw	 w;
	struct hopset	 hs;
	const char	*reason = h->url_len > 0 ? NULL : http_reason(status);
	char		 code[16];
	int		 cl = 3;

	if (status >= 100 && status <= 999) {	/* always, from llhttp */
		code[0] = (char)('0' + status / 100);
		code[1] = (char)('0' + status / 10 % 10);
		code[2] = (char)('0' + status % 10);
	} else
		cl = snprintf(code, sizeof(code), "%d", status);
	if (head_open(&w, out, 9 + (size_t)cl + 1 + (reason ? strlen(reason) :
	    h->url_len) + 2 + headers_size(h) +
	    sizeof("Connection: keep-alive\r\n") + 2) == -1)
		return -1;
	PUTS(&w, "HTTP/1.1 ");
	put(&w, code, (size_t)cl);
	PUTS(&w, " ");
	if (reason != NULL)
		put(&w, reason, strlen(reason));
	else
		put(&w, h->buf + h->url_off, h->url_len);
	PUTS(&w, "\r\n");
	hop_collect(h, &hs);
	for (size_t i = 0; i < h->nhdrs; i++) {
		const char	*n = http_hdr_name(h, i);
		size_t		 nl = h->hdrs[i].name_len;

		if (hop_has(&hs, i))
			continue;
		if ((flags & HB_DROP_TE) && name_is(n, nl, "transfer-encoding"))
			continue;
		if ((flags & HB_DROP_CL) && name_is(n, nl, "content-length"))
			continue;
		put_header(&w, h, i, 0);
	}
	if (flags & HB_CLOSE)
		PUTS(&w, "Connection: close\r\n");
	else if (flags & HB_KEEPALIVE)
		PUTS(&w, "Connection: keep-alive\r\n");
	PUTS(&w, "\r\n");
	return head_close(&w, out);
}

/* Append s JSON-escaped. */
static void
json_escape(struct evbuffer *out, const char *s)
{
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			evbuffer_add_printf(out, "\\%c", ch);
		else if (ch < 0x20)
			evbuffer_add_printf(out, "\\u%04x", ch);
		else
			evbuffer_add(out, s, 1);
	}
}

int
http_error_response(struct evbuffer *out, int status, const char *type,
    const char *reason, int flags)
{
	struct evbuffer	*body;
	int		 r;

	if ((body = evbuffer_new()) == NULL)
		return -1;
	evbuffer_add_printf(body, "{\"error\":{\"type\":\"");
	json_escape(body, type);
	evbuffer_add_printf(body, "\",\"reason\":\"");
	json_escape(body, reason);
	evbuffer_add_printf(body, "\"},\"status\":%d}\n", status);
	evbuffer_add_printf(out, "HTTP/1.1 %d %s\r\n"
	    "Content-Type: application/json; charset=UTF-8\r\n"
	    "Content-Length: %zu\r\n%s\r\n", status, http_reason(status),
	    evbuffer_get_length(body),
	    (flags & HB_CLOSE) ? "Connection: close\r\n" :
	    (flags & HB_KEEPALIVE) ? "Connection: keep-alive\r\n" : "");
	r = evbuffer_add_buffer(out, body);
	evbuffer_free(body);
	return r;
}

const char *
http_reason(int status)
{
	switch (status) {
	case 100: return "Continue";
	case 200: return "OK";
	case 204: return "No Content";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 411: return "Length Required";
	case 413: return "Payload Too Large";
	case 414: return "URI Too Long";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	default: return "Unknown";
	}
}

/* ---- chunked framing ---------------------------------------------------- */

enum {
	CK_SIZE0,	/* first hex digit of a chunk size */
	CK_SIZE,	/* more digits, ';' or CR */
	CK_EXT_NAME0,	/* first byte of an extension name */
	CK_EXT_NAME,
	CK_EXT_VAL0,	/* first byte of an extension value */
	CK_EXT_TOKEN,
	CK_EXT_QS,	/* inside a quoted-string */
	CK_EXT_QEND,	/* after its closing quote */
	CK_SIZE_LF,	/* the LF of the size line's CRLF */
	CK_DATA,	/* chunk data, skipped by count */
	CK_DATA_CR,	/* the CRLF after chunk data */
	CK_DATA_LF,
	CK_TR_START,	/* a trailer line, or the final CRLF */
	CK_TR_NAME,
	CK_TR_VALUE,
	CK_TR_LF,
	CK_END_LF,	/* the LF of the final CRLF */
	CK_DONE,
	CK_ERROR
};

#define CK_LINE_MAX	4096	/* a chunk-size line, extensions included */
#define CK_TRAILER_MAX	8192	/* the whole trailer section */

void
http_chunked_init(struct http_chunked *k)
{
	memset(k, 0, sizeof(*k));
	k->state = CK_SIZE0;
}

int
http_chunked_done(const struct http_chunked *k)
{
	return k->state == CK_DONE;
}

/* RFC 9110 tchar. */
static int
is_tchar(unsigned char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	    (ch >= '0' && ch <= '9') ||
	    (ch != '\0' && strchr("!#$%&'*+-.^_`|~", ch) != NULL);
}

static int
hex_value(unsigned char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	ch |= 0x20;
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	return -1;
}

/* Framing and routing fields a trailer must not carry. */
static int
trailer_name_refused(const struct http_chunked *k)
{
	static const char *const refused[] = { "content-length",
	    "transfer-encoding", "host", "connection" };

	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
		if (strlen(refused[i]) == k->nlen &&
		    memcmp(k->name, refused[i], k->nlen) == 0)
			return 1;
	return 0;
}

/* One byte of a chunk extension: the next state, or CK_ERROR. */
static unsigned
ext_step(unsigned state, unsigned char ch)
{
	switch (state) {
	case CK_EXT_NAME0:
		return is_tchar(ch) ? CK_EXT_NAME : CK_ERROR;
	case CK_EXT_VAL0:
		if (ch == '"')
			return CK_EXT_QS;
		return is_tchar(ch) ? CK_EXT_TOKEN : CK_ERROR;
	case CK_EXT_QS:
		/* qdtext: HTAB, SP, VCHAR but '"' and '\\', obs-text */
		if (ch == '"')
			return CK_EXT_QEND;
		if ((ch < 0x20 && ch != '\t') || ch == 0x7f || ch == '\\')
			return CK_ERROR;
		return CK_EXT_QS;
	default:	/* CK_EXT_NAME, CK_EXT_TOKEN, CK_EXT_QEND */
		if (is_tchar(ch) && state != CK_EXT_QEND)
			return state;
		if (ch == '=' && state == CK_EXT_NAME)
			return CK_EXT_VAL0;
		if (ch == ';')
			return CK_EXT_NAME0;
		if (ch == '\r')
			return CK_SIZE_LF;
		return CK_ERROR;
	}
}

/* One byte of the trailer section: the next state, or CK_ERROR and why. */
static unsigned
trailer_step(struct http_chunked *k, unsigned state, unsigned char ch,
    const char **why)
{
	switch (state) {
	case CK_TR_START:
		if (ch == '\r')
			return CK_END_LF;
		if (!is_tchar(ch)) {
			*why = ch == ' ' || ch == '\t' ? "obs-fold or white "
			    "space in the trailers" : "invalid trailer field name";
			return CK_ERROR;
		}
		k->nlen = 0;
		/* FALLTHROUGH */
	case CK_TR_NAME:
		if (ch == ':') {
			if (trailer_name_refused(k)) {
				*why = "framing or routing field in the "
				    "trailers";
				return CK_ERROR;
			}
			return CK_TR_VALUE;
		}
		if (!is_tchar(ch)) {
			*why = "invalid trailer field name";
			return CK_ERROR;
		}
		if (k->nlen < sizeof(k->name))
			k->name[k->nlen++] = (char)(ch >= 'A' && ch <= 'Z' ?
			    ch | 0x20 : ch);
		else
			k->nlen = UINT8_MAX;	/* longer than any refused */
		return CK_TR_NAME;
	case CK_TR_VALUE:
		if (ch == '\r')
			return CK_TR_LF;
		if ((ch < 0x20 && ch != '\t') || ch == 0x7f) {
			*why = "control character in a trailer field";
			return CK_ERROR;
		}
		return CK_TR_VALUE;
	case CK_TR_LF:
		if (ch != '\n') {
			*why = "CR without LF in the trailers";
			return CK_ERROR;
		}
		return CK_TR_START;
	default:	/* CK_END_LF */
		if (ch != '\n') {
			*why = "CR without LF at the end of a chunked body";
			return CK_ERROR;
		}
		return CK_DONE;
	}
}

/*
 * The state lives in locals while a buffer is scanned, written back once:
 * through k, every byte reloaded and stored it (a char pointer may alias
 * k), which cost twice what llhttp spends on the same bytes (bench/
 * chunked-cost -k 256).  Line lengths are counted only where a line can
 * grow: a size has at most 16 digits, so only its extensions count.
 */
int
http_chunked_scan(struct http_chunked *k, const char *p, size_t n,
    const char **why)
{
	const unsigned char	*s = (const unsigned char *)p, *end = s + n;
	unsigned		 state = k->state, ndig = k->ndig;
	uint64_t		 left = k->left;
	uint32_t		 len = k->len;
	unsigned char		 ch;
	int			 v;

	while (s < end) {
		if (state == CK_DATA) {
			size_t			 take = (size_t)(end - s);
			const unsigned char	*q;
			uint64_t		 size = 0;
			unsigned		 nd = 0;

			if (take > left)
				take = (size_t)left;
			s += take;
			left -= take;
			if (left > 0)
				continue;
			state = CK_DATA_CR;
			/*
			 * The common boundary in one go: CRLF, a size without
			 * extensions, CRLF.  Anything else, or a boundary split
			 * across reads, goes byte by byte below.
			 */
			if (end - s < 5 || s[0] != '\r' || s[1] != '\n')
				continue;
			for (q = s + 2; q < end && nd < 16 &&
			    (v = hex_value(*q)) >= 0; q++, nd++)
				size = size << 4 | (uint64_t)v;
			if (nd == 0 || end - q < 2 || q[0] != '\r' || q[1] != '\n')
				continue;
			s = q + 2;
			left = size;
			ndig = nd;
			len = 0;
			state = size > 0 ? CK_DATA : CK_TR_START;
			continue;
		}
		ch = *s++;
		switch (state) {
		case CK_SIZE0:
		case CK_SIZE:
			if ((v = hex_value(ch)) >= 0) {
				if (++ndig > 16)
					goto fail_digits;
				left = left << 4 | (uint64_t)v;
				state = CK_SIZE;
			} else if (state == CK_SIZE0)
				goto fail_size;
			else if (ch == '\r')
				state = CK_SIZE_LF;
			else if (ch == ';') {
				len = ndig + 2;		/* with ';' and the LF */
				state = CK_EXT_NAME0;
			} else
				goto fail_after_size;
			break;
		case CK_SIZE_LF:
			if (ch != '\n')
				goto fail_size_cr;
			len = 0;
			state = left > 0 ? CK_DATA : CK_TR_START;
			break;
		case CK_DATA_CR:
			if (ch != '\r')
				goto fail_data;
			state = CK_DATA_LF;
			break;
		case CK_DATA_LF:
			if (ch != '\n')
				goto fail_data;
			ndig = 0;
			state = CK_SIZE0;
			break;
		case CK_EXT_NAME0:
		case CK_EXT_NAME:
		case CK_EXT_VAL0:
		case CK_EXT_TOKEN:
		case CK_EXT_QS:
		case CK_EXT_QEND:
			if (++len > CK_LINE_MAX)
				goto fail_line;
			if ((state = ext_step(state, ch)) == CK_ERROR)
				goto fail_ext;
			break;
		case CK_TR_START:
		case CK_TR_NAME:
		case CK_TR_VALUE:
		case CK_TR_LF:
		case CK_END_LF:
			if (++len > CK_TRAILER_MAX) {
				*why = "trailer section too large";
				goto fail;
			}
			if ((state = trailer_step(k, state, ch, why)) == CK_ERROR)
				goto fail;
			break;
		case CK_DONE:
			*why = "bytes after the end of a chunked body";
			goto fail;
		default:
			*why = "malformed chunked body";
			goto fail;
		}
	}
	k->state = (uint8_t)state;
	k->ndig = (uint8_t)ndig;
	k->left = left;
	k->len = len;
	return 0;
fail_digits:
	*why = "chunk size over 16 hex digits";
	goto fail;
fail_size:
	*why = "chunk size is not a hex number";
	goto fail;
fail_after_size:
	*why = "invalid character after the chunk size";
	goto fail;
fail_size_cr:
	*why = "CR without LF in a chunk-size line";
	goto fail;
fail_data:
	*why = "chunk data not followed by CRLF";
	goto fail;
fail_line:
	*why = "chunk-size line too long";
	goto fail;
fail_ext:
	*why = "invalid chunk extension";
fail:
	k->state = CK_ERROR;	/* every later call fails too */
	return -1;
}
