/*
 * http: the header block of one HTTP message, and the rewriting a proxy
 * does between receiving it and sending it on.
 *
 * A struct http_head owns one growing arena holding the raw URL (or
 * reason phrase) and every header name and value, byte for byte as
 * received; headers are kept as offsets so the arena may move.  It is
 * filled from llhttp's span callbacks, which may deliver a token in
 * several pieces.  Nothing here does I/O.
 */
#ifndef SWITCHOVER_HTTP_H
#define SWITCHOVER_HTTP_H

#include <stddef.h>
#include <stdint.h>

struct evbuffer;

struct http_hdr {
	uint32_t	name_off, name_len;
	uint32_t	val_off, val_len;
};

struct http_head {
	char		*buf;
	size_t		 len, cap, max;	/* max: limit on len (431 beyond) */
	uint32_t	 url_off, url_len;	/* URL, or reason phrase */
	struct http_hdr	*hdrs;
	size_t		 nhdrs, hcap;
	int		 last;		/* 0 none, 1 field, 2 value */
	int		 overflow;	/* a limit was hit */
};

#define HTTP_MAX_HEADERS	128

/* Flags for building heads. */
#define HB_CLOSE	0x01	/* say Connection: close */
#define HB_KEEPALIVE	0x02	/* say Connection: keep-alive (HTTP/1.0 peer) */
#define HB_DROP_TE	0x04	/* drop Transfer-Encoding (we de-chunk) */
#define HB_DROP_CL	0x08	/* drop Content-Length */

struct http_fwd {
	const char	*client_addr;	/* for X-Forwarded-For, or NULL */
	const char	*proto;		/* for X-Forwarded-Proto, or NULL */
	const char	*port;		/* for X-Forwarded-Port, or NULL */
};

void	 http_head_init(struct http_head *, size_t max);
void	 http_head_reset(struct http_head *);
void	 http_head_free(struct http_head *);
/* Give the head's memory to this thread's cache until it is used again
 * (an idle keep-alive connection); the head stays valid and empty. */
void	 http_head_release(struct http_head *);
/* Free this thread's cache (a worker thread on its way out). */
void	 http_head_cache_free(void);
/* Span appenders for llhttp callbacks: 0, or -1 when over the limit. */
int	 http_head_url(struct http_head *, const char *, size_t);
int	 http_head_field(struct http_head *, const char *, size_t);
int	 http_head_value(struct http_head *, const char *, size_t);

/* Header i's name/value. */
static inline const char *
http_hdr_name(const struct http_head *h, size_t i)
{
	return h->buf + h->hdrs[i].name_off;
}
static inline const char *
http_hdr_value(const struct http_head *h, size_t i)
{
	return h->buf + h->hdrs[i].val_off;
}

/* Index of the first header named name (case-insensitive), or -1. */
int	 http_head_find(const struct http_head *, const char *name);
/* How many headers are named name. */
int	 http_head_count(const struct http_head *, const char *name);
/* Does a comma-separated header name contain token (case-insensitive)? */
int	 http_head_has_token(const struct http_head *, const char *name,
	    const char *token);
/* Is the last header's name a non-empty RFC 9110 token? */
int	 http_head_last_name_ok(const struct http_head *);
/* Is this header dropped when forwarded (hop-by-hop, or named in Connection)? */
int	 http_head_is_hop(const struct http_head *, size_t i);

/*
 * Write the request line and headers to send upstream: always HTTP/1.1,
 * hop-by-hop headers removed, X-Forwarded-* added per fwd.
 */
int	 http_build_request(struct evbuffer *out, const struct http_head *,
	    const char *method, const struct http_fwd *fwd);
/* Write the status line and headers to send to the client. */
int	 http_build_response(struct evbuffer *out, const struct http_head *,
	    int status, int flags);
/*
 * A proxy-made error in the shape search clients parse:
 * {"error":{"type":"...","reason":"..."},"status":N}
 */
int	 http_error_response(struct evbuffer *out, int status,
	    const char *type, const char *reason, int flags);
const char *http_reason(int status);

/*
 * Chunked framing checked to the letter of RFC 9112 section 7.1, byte by
 * byte as a body passes (llhttp, built lenient, reads some malformed
 * framing one way and a next hop another: request smuggling).  Chunk
 * data is skipped by count, so a bulk body costs a few steps per chunk.
 * Refused: a size that is not 1 to 16 hex digits; any white space,
 * sign or "0x"; extensions other than ;name[=token|"quoted"] (no BWS,
 * no quoted-pair: llhttp refuses those too); a size line over 4 KiB;
 * chunk data not followed by exactly CRLF; a CR or LF alone anywhere; a
 * trailer field with a name that is not a token, a control byte or
 * obs-fold in its value, or one of Content-Length, Transfer-Encoding,
 * Host, Connection; trailers over 8 KiB.  Valid trailers pass on.
 */
struct http_chunked {
	uint64_t	 left;		/* chunk-data bytes still to come */
	uint32_t	 len;		/* bytes of the size line / trailers */
	uint8_t		 state;
	uint8_t		 ndig;		/* hex digits of the size so far */
	uint8_t		 nlen;		/* trailer name bytes seen */
	char		 name[18];	/* its start, lower case */
};

void	 http_chunked_init(struct http_chunked *);
/*
 * Check the next n body bytes.  0 if they are well framed so far; -1 if
 * not, with the reason in *why.  A byte after the end is an error.
 */
int	 http_chunked_scan(struct http_chunked *, const char *, size_t,
	    const char **why);
/* Has the last CRLF of the chunked body been seen? */
int	 http_chunked_done(const struct http_chunked *);

#endif
