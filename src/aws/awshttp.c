/*
 * awshttp: libcurl's multi interface on a libevent event_base, after
 * curl's hiperfifo example: curl tells us which sockets to watch
 * (CURLMOPT_SOCKETFUNCTION) and when to wake it (CURLMOPT_TIMERFUNCTION);
 * libevent tells curl when they are ready (curl_multi_socket_action).
 *
 * Control thread only.  A finished transfer's callback runs from the
 * event loop after curl is done with the handle, and the handle is freed
 * only after the callback returns, so a callback may start new requests.
 */
#include <stdlib.h>
#include <string.h>

#include "config.h"

#include <curl/curl.h>
#include <event2/event.h>

#include "switchover/aws/awshttp.h"
#include "switchover/log.h"

#define MAX_RESPONSE	(4 * 1024 * 1024)
#define AWS_MAX_CONNECTIONS	8	/* see FD_BUDGET_AWS in fdbudget.h */

struct xfer {
	CURL			*easy;
	struct curl_slist	*headers;
	char			*reqbody;
	char			*body;		/* response */
	size_t			 len;
	int			 toolarge;
	char			 errbuf[CURL_ERROR_SIZE];
	awshttp_cb		 cb;
	void			*arg;
	struct xfer		*next;		/* all transfers, for shutdown */
};

/* One per socket curl asks us to watch. */
struct sock {
	struct event		*ev;
};

static struct {
	struct event_base	*base;
	CURLM			*multi;
	struct event		*timer;
	struct xfer		*all;
	size_t			 n;
} H;

/* Unlink and free a transfer; curl must be done with it. */
static void
xfer_free(struct xfer *x)
{
	for (struct xfer **pp = &H.all; *pp != NULL; pp = &(*pp)->next)
		if (*pp == x) {
			*pp = x->next;
			break;
		}
	H.n--;
	curl_multi_remove_handle(H.multi, x->easy);
	curl_easy_cleanup(x->easy);
	curl_slist_free_all(x->headers);
	free(x->reqbody);
	free(x->body);
	free(x);
}

/* Hand every finished transfer to its callback, then free it. */
static void
check_done(void)
{
	CURLMsg	*m;
	int	 left;

	while ((m = curl_multi_info_read(H.multi, &left)) != NULL) {
		struct awshttp_resp	 r = { 0 };
		struct xfer		*x;

		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&x);
		curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &r.status);
		if (x->toolarge)
			r.error = "response larger than 4 MiB";
		else if (m->data.result != CURLE_OK)
			r.error = x->errbuf[0] ? x->errbuf :
			    curl_easy_strerror(m->data.result);
		if (r.error != NULL)
			r.status = 0;
		r.body = x->body ? x->body : "";
		r.len = x->len;
		curl_multi_remove_handle(H.multi, x->easy);
		x->cb(&r, x->arg);
		xfer_free(x);
	}
}

/* A watched socket is ready: tell curl. */
static void
sock_cb(evutil_socket_t fd, short what, void *arg)
{
	int running, action = 0;

	if (what & EV_READ)
		action |= CURL_CSELECT_IN;
	if (what & EV_WRITE)
		action |= CURL_CSELECT_OUT;
	curl_multi_socket_action(H.multi, fd, action, &running);
	check_done();
}

/* curl's timeout expired. */
static void
timer_cb(evutil_socket_t fd, short what, void *arg)
{
	int running;

	curl_multi_socket_action(H.multi, CURL_SOCKET_TIMEOUT, 0, &running);
	check_done();
}

/* CURLMOPT_SOCKETFUNCTION: watch, change or forget a socket. */
static int
socket_fn(CURL *e, curl_socket_t s, int what, void *userp, void *sockp)
{
	struct sock	*sk = sockp;
	short		 kind = EV_PERSIST;

	if (what == CURL_POLL_REMOVE) {
		if (sk != NULL) {
			event_free(sk->ev);
			free(sk);
		}
		curl_multi_assign(H.multi, s, NULL);
		return 0;
	}
	if (what & CURL_POLL_IN)
		kind |= EV_READ;
	if (what & CURL_POLL_OUT)
		kind |= EV_WRITE;
	if (sk == NULL) {
		if ((sk = calloc(1, sizeof(*sk))) == NULL)
			return -1;
		curl_multi_assign(H.multi, s, sk);
	} else
		event_free(sk->ev);
	if ((sk->ev = event_new(H.base, s, kind, sock_cb, NULL)) == NULL ||
	    event_add(sk->ev, NULL) == -1)
		return -1;
	return 0;
}

/* CURLMOPT_TIMERFUNCTION: (re)arm or stop our one timer. */
static int
timer_fn(CURLM *m, long ms, void *userp)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	if (ms < 0)
		return evtimer_del(H.timer);
	return evtimer_add(H.timer, &tv);
}

/* CURLOPT_WRITEFUNCTION: collect the body, up to MAX_RESPONSE. */
static size_t
write_fn(char *p, size_t size, size_t n, void *arg)
{
	struct xfer	*x = arg;
	size_t		 len = size * n;
	char		*b;

	if (x->len + len > MAX_RESPONSE) {
		x->toolarge = 1;
		return 0;
	}
	if ((b = realloc(x->body, x->len + len + 1)) == NULL)
		return 0;
	memcpy(b + x->len, p, len);
	x->len += len;
	b[x->len] = '\0';
	x->body = b;
	return len;
}

int
awshttp_init(struct event_base *base)
{
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return -1;
	H.base = base;
	if ((H.multi = curl_multi_init()) == NULL ||
	    (H.timer = evtimer_new(base, timer_cb, NULL)) == NULL) {
		awshttp_shutdown();
		return -1;
	}
	curl_multi_setopt(H.multi, CURLMOPT_SOCKETFUNCTION, socket_fn);
	curl_multi_setopt(H.multi, CURLMOPT_TIMERFUNCTION, timer_fn);
	/* Bounded, for the descriptor budget (FD_BUDGET_AWS): more queue. */
	curl_multi_setopt(H.multi, CURLMOPT_MAX_TOTAL_CONNECTIONS,
	    (long)AWS_MAX_CONNECTIONS);
	return 0;
}

void
awshttp_shutdown(void)
{
	while (H.all != NULL)
		xfer_free(H.all);
	if (H.timer != NULL)
		event_free(H.timer);
	if (H.multi != NULL) {
		curl_multi_cleanup(H.multi);
		curl_global_cleanup();
	}
	memset(&H, 0, sizeof(H));
}

size_t
awshttp_pending(void)
{
	return H.n;
}

int
awshttp_send(const char *method, const char *url, struct curl_slist *headers,
    const void *body, size_t len, int timeout_ms, awshttp_cb cb, void *arg)
{
	struct xfer *x = NULL;

	if (H.multi == NULL || (x = calloc(1, sizeof(*x))) == NULL)
		goto fail;
	x->headers = headers;
	headers = NULL;
	x->cb = cb;
	x->arg = arg;
	if ((x->easy = curl_easy_init()) == NULL ||
	    (x->reqbody = malloc(len + 1)) == NULL)
		goto fail;
	if (len > 0)
		memcpy(x->reqbody, body, len);
	x->reqbody[len] = '\0';
	curl_easy_setopt(x->easy, CURLOPT_URL, url);
	curl_easy_setopt(x->easy, CURLOPT_CUSTOMREQUEST, method);
	if (strcmp(method, "GET") != 0) {
		curl_easy_setopt(x->easy, CURLOPT_POSTFIELDS, x->reqbody);
		curl_easy_setopt(x->easy, CURLOPT_POSTFIELDSIZE, (long)len);
	}
	curl_easy_setopt(x->easy, CURLOPT_HTTPHEADER, x->headers);
	curl_easy_setopt(x->easy, CURLOPT_WRITEFUNCTION, write_fn);
	curl_easy_setopt(x->easy, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(x->easy, CURLOPT_ERRORBUFFER, x->errbuf);
	curl_easy_setopt(x->easy, CURLOPT_PRIVATE, x);
	curl_easy_setopt(x->easy, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
	curl_easy_setopt(x->easy, CURLOPT_CONNECTTIMEOUT_MS, (long)timeout_ms);
	curl_easy_setopt(x->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(x->easy, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(x->easy, CURLOPT_USERAGENT, "switchover-aws/" PACKAGE_VERSION);
	x->next = H.all;
	H.all = x;
	H.n++;
	if (curl_multi_add_handle(H.multi, x->easy) != CURLM_OK) {
		xfer_free(x);
		return -1;
	}
	return 0;
fail:
	if (x != NULL) {
		if (x->easy != NULL)
			curl_easy_cleanup(x->easy);
		curl_slist_free_all(x->headers);
		free(x->reqbody);
		free(x);
	}
	curl_slist_free_all(headers);
	return -1;
}
