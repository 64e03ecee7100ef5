/*
 * awshttp: HTTP requests on libcurl's multi interface, driven by a
 * libevent event_base (the control thread's).  Nothing here blocks:
 * sockets and timers are libevent events, and each request ends in
 * exactly one callback, from the event loop, never from inside
 * awshttp_send().
 *
 * Transport only: no signing, no retries (awsreq does both).
 */
#ifndef SWITCHOVER_AWS_AWSHTTP_H
#define SWITCHOVER_AWS_AWSHTTP_H

#include <stddef.h>

struct curl_slist;
struct event_base;

struct awshttp_resp {
	long		 status;	/* HTTP status; 0 when none came */
	const char	*body;		/* NUL-terminated, may hold NULs */
	size_t		 len;
	const char	*error;		/* transport error text, or NULL */
};

/* Called once per request; resp and its body live until it returns. */
typedef void (*awshttp_cb)(const struct awshttp_resp *resp, void *arg);

/* Start the client on base.  0, or -1 if libcurl cannot. */
int	awshttp_init(struct event_base *base);
/* Abandon requests in flight without calling back; free everything. */
void	awshttp_shutdown(void);
/*
 * Send METHOD url with headers (taken over, freed here in every case)
 * and body (copied).  0, or -1 if it could not be queued (no callback).
 */
int	awshttp_send(const char *method, const char *url,
	    struct curl_slist *headers, const void *body, size_t len,
	    int timeout_ms, awshttp_cb cb, void *arg);
/* Requests in flight (tests, status). */
size_t	awshttp_pending(void);

#endif
