/*
 * affinity: search contexts stay on the backend that created them.
 *
 * A scroll, a point in time (PIT) or an async search lives in one
 * cluster: continuing it on the other fails.  Responses that create or
 * renew such a context carry its id (_scroll_id, pit_id, or id of a PIT
 * or async search), which is remembered with the backend that answered;
 * a request naming a remembered id (in its path, query or small JSON
 * body) goes to that backend, whatever its weight, until the id has not
 * been seen for [affinity] ttl.
 *
 * The table is one per process, shared by the workers: a client may
 * continue a scroll on a new connection, which SO_REUSEPORT can hand to
 * any worker, so a per-worker table would miss.  It is guarded by one
 * mutex, taken only by requests and responses that carry or may carry a
 * context id (scroll, PIT, async search, or a search with a body while
 * any id is remembered); the critical section is a 4-entry bucket
 * probe.  Ordinary traffic never touches it.
 *
 * Nothing is buffered whole: response bodies are copied up to
 * AFFINITY_PEEK_MAX bytes as they stream by (the ids come first in the
 * JSON these APIs return), and a request body is looked at only when it
 * has a Content-Length of at most AFFINITY_PEEK_MAX.  Bodies compressed
 * with gzip or deflate are inflated on the way (the copy, never what is
 * forwarded), at most AFFINITY_PEEK_MAX bytes in and out.  A body that
 * may name an id but cannot be read is reported (*unreadable), so the
 * caller can count it: affinity was not applied to it.
 */
#ifndef SWITCHOVER_AFFINITY_H
#define SWITCHOVER_AFFINITY_H

#include <stddef.h>
#include <stdint.h>

#define AFFINITY_PEEK_MAX	(64 * 1024)

struct http_head;
struct sw_config;
struct affinity_resp;

/* Size the table for max_ids (applies until exit).  0, or -1. */
int	affinity_init(size_t max_ids);
void	affinity_free(void);

/*
 * Route a request by the context id it names, if any.  Returns the
 * metric slot of the backend that owns the id, or -1.  Sets *body_wait
 * to the body length to wait for (and call affinity_request_body with)
 * when only the body can tell, else 0.  Sets *unreadable when the
 * request may name an id in a body that will not be read.
 */
int	affinity_request(const struct sw_config *, int method,
	    const struct http_head *req, uint64_t content_length, int chunked,
	    size_t *body_wait, int *unreadable);
/*
 * The body (all of it, len <= AFFINITY_PEEK_MAX, as sent: compressed if
 * the head says so) names: slot or -1.  *unreadable as above.
 */
int	affinity_request_body(const struct sw_config *, int method,
	    const struct http_head *req, const char *body, size_t len,
	    int *unreadable);

/*
 * At a response head: a collector when the response may carry a context
 * id (NULL when not).  clen: its Content-Length, 0 if unknown; routed:
 * the request was routed by affinity.
 */
struct affinity_resp *affinity_response(const struct sw_config *,
	    int method, const struct http_head *req, const struct http_head *resp,
	    int status, uint64_t clen, int routed);
/* Body bytes as they stream by (copied or inflated, bounded). */
void	affinity_response_body(struct affinity_resp *, const char *, size_t);
/*
 * The exchange ended: when complete is set, remember the ids found for
 * the backend in slot.  Frees ar.  Returns how many ids were learned;
 * sets *unreadable when a complete body could not be read for them.
 */
int	affinity_response_end(struct affinity_resp *ar, int slot, int complete,
	    const struct sw_config *, int *unreadable);

/* Call fn for each context id in a JSON text (exported for tests). */
#define AFF_KEYS_RESPONSE	0x01	/* _scroll_id, pit_id */
#define AFF_KEY_ID		0x02	/* id (PIT, async search) */
#define AFF_KEYS_REQUEST	0x04	/* scroll_id, pit_id, pit.id */
void	affinity_json_ids(const char *text, size_t len, int keys,
	    void (*fn)(void *, const char *, size_t), void *arg);
/* Live ids per backend: n[slot] for slots below nslots (control thread). */
void	affinity_count(uint64_t *n, size_t nslots);
/* Remember / look up one id directly (tests). */
void	affinity_put(const char *id, size_t len, int slot, uint64_t expires_ms);
int	affinity_get(const char *id, size_t len, uint64_t now_ms, int ttl_ms);

#endif
