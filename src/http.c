/*
 * http: header arenas, hop-by-hop rules, and building the heads a proxy
 * forwards.  Header values are copied byte for byte: clients sign requests
 * with SigV4, so the proxy never re-spaces or re-cases what it keeps.
 */
#include <ctype.h>
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

/* Append bytes to the arena, NUL-terminated (the NUL is not counted). */
static int
arena_add(struct http_head *h, const char *p, size_t n)
{
	if (h->len + n + 1 > h->max) {
		h->overflow = 1;
		return -1;
	}
	if (h->len + n + 1 > h->cap) {
		size_t	 cap = h->cap ? h->cap : 1024;
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
		if (h->nhdrs == h->hcap) {
			size_t cap = h->hcap ? h->hcap * 2 : 16;

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

int
http_head_is_hop(const struct http_head *h, size_t i)
{
	static const char *const hop[] = { "connection", "keep-alive",
	    "proxy-connection", "te", "trailer", "upgrade",
	    "proxy-authenticate", "proxy-authorization" };
	const char	*n = http_hdr_name(h, i);
	size_t		 nl = h->hdrs[i].name_len;

	for (size_t k = 0; k < sizeof(hop) / sizeof(hop[0]); k++)
		if (name_is(n, nl, hop[k]))
			return 1;
	/*
	 * Headers the client names in Connection are hop-by-hop too, but a
	 * Connection header must never strip the framing or the Host: that
	 * would let one hop and the next disagree on where a request ends.
	 */
	if (name_is(n, nl, "content-length") || name_is(n, nl,
	    "transfer-encoding") || name_is(n, nl, "host"))
		return 0;
	for (size_t k = 0; k < h->nhdrs; k++)
		if (name_is(http_hdr_name(h, k), h->hdrs[k].name_len,
		    "connection") && list_has(http_hdr_value(h, k),
		    h->hdrs[k].val_len, n, nl))
			return 1;
	return 0;
}

/* Copy header i as "Name: value\r\n". */
static void
add_header(struct evbuffer *out, const struct http_head *h, size_t i)
{
	evbuffer_add(out, http_hdr_name(h, i), h->hdrs[i].name_len);
	evbuffer_add(out, ": ", 2);
	evbuffer_add(out, http_hdr_value(h, i), h->hdrs[i].val_len);
	evbuffer_add(out, "\r\n", 2);
}

int
http_build_request(struct evbuffer *out, const struct http_head *h,
    const char *method, const struct http_fwd *fwd)
{
	int xff_done = 0;

	evbuffer_add_printf(out, "%s ", method);
	evbuffer_add(out, h->buf + h->url_off, h->url_len);
	evbuffer_add(out, " HTTP/1.1\r\n", 11);
	for (size_t i = 0; i < h->nhdrs; i++) {
		const char	*n = http_hdr_name(h, i);
		size_t		 nl = h->hdrs[i].name_len;

		if (http_head_is_hop(h, i))
			continue;
		if (fwd->proto != NULL && (name_is(n, nl, "x-forwarded-proto") ||
		    name_is(n, nl, "x-forwarded-port")))
			continue;	/* ours replaces the client's, as an ALB */
		if (fwd->client_addr != NULL && !xff_done &&
		    name_is(n, nl, "x-forwarded-for") &&
		    http_head_count(h, "x-forwarded-for") == 1) {
			evbuffer_add(out, n, nl);
			evbuffer_add(out, ": ", 2);
			evbuffer_add(out, http_hdr_value(h, i), h->hdrs[i].val_len);
			evbuffer_add_printf(out, ", %s\r\n", fwd->client_addr);
			xff_done = 1;
			continue;
		}
		add_header(out, h, i);
	}
	if (fwd->client_addr != NULL && !xff_done)
		evbuffer_add_printf(out, "X-Forwarded-For: %s\r\n",
		    fwd->client_addr);
	if (fwd->proto != NULL)
		evbuffer_add_printf(out, "X-Forwarded-Proto: %s\r\n", fwd->proto);
	if (fwd->proto != NULL && fwd->port != NULL)
		evbuffer_add_printf(out, "X-Forwarded-Port: %s\r\n", fwd->port);
	return evbuffer_add(out, "\r\n", 2);
}

int
http_build_response(struct evbuffer *out, const struct http_head *h,
    int status, int flags)
{
	evbuffer_add_printf(out, "HTTP/1.1 %d ", status);
	if (h->url_len > 0)
		evbuffer_add(out, h->buf + h->url_off, h->url_len);
	else
		evbuffer_add_printf(out, "%s", http_reason(status));
	evbuffer_add(out, "\r\n", 2);
	for (size_t i = 0; i < h->nhdrs; i++) {
		const char	*n = http_hdr_name(h, i);
		size_t		 nl = h->hdrs[i].name_len;

		if (http_head_is_hop(h, i))
			continue;
		if ((flags & HB_DROP_TE) && name_is(n, nl, "transfer-encoding"))
			continue;
		if ((flags & HB_DROP_CL) && name_is(n, nl, "content-length"))
			continue;
		add_header(out, h, i);
	}
	if (flags & HB_CLOSE)
		evbuffer_add(out, "Connection: close\r\n", 19);
	else if (flags & HB_KEEPALIVE)
		evbuffer_add(out, "Connection: keep-alive\r\n", 24);
	return evbuffer_add(out, "\r\n", 2);
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
