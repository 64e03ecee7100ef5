/*
 * inject: an LD_PRELOAD fault injector for the proxy's allocation-failure
 * paths (tests/integration/allocfail.sh).  Each knob is an environment
 * variable; unset, the call goes through untouched.
 *
 *   SW_INJECT_TLS_FAIL=N      every Nth bufferevent_openssl_socket_new
 *                             fails, through libevent's own failure path
 *                             (so what it frees is what a real failure
 *                             frees: with BEV_OPT_CLOSE_ON_FREE, the SSL)
 *   SW_INJECT_RESERVE_MIN=B   evbuffer_reserve_space of B bytes or more
 *                             fails, as when memory runs out (a head is
 *                             built in one reserved block)
 *
 * Counters are atomic: worker threads call in at the same time.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>

#include <openssl/ssl.h>

typedef struct bufferevent *(*bev_ssl_new_fn)(struct event_base *,
    evutil_socket_t, SSL *, enum bufferevent_ssl_state, int);
typedef int (*reserve_fn)(struct evbuffer *, ev_ssize_t,
    struct evbuffer_iovec *, int);

static unsigned long	tls_calls;

/* The value of environment variable name, or 0. */
static long
knob(const char *name)
{
	const char *v = getenv(name);

	return v != NULL ? strtol(v, NULL, 10) : 0;
}

struct bufferevent *
bufferevent_openssl_socket_new(struct event_base *base, evutil_socket_t fd,
    SSL *ssl, enum bufferevent_ssl_state state, int options)
{
	static bev_ssl_new_fn	 real;
	long			 every = knob("SW_INJECT_TLS_FAIL");
	int			 other;

	if (real == NULL)
		real = (bev_ssl_new_fn)dlsym(RTLD_NEXT,
		    "bufferevent_openssl_socket_new");
	if (every > 0 && __atomic_add_fetch(&tls_calls, 1,
	    __ATOMIC_RELAXED) % (unsigned long)every == 0 &&
	    (other = socket(AF_INET, SOCK_STREAM, 0)) != -1) {
		struct bufferevent *bev;

		/*
		 * An SSL already bound to another socket is refused by
		 * libevent's own error path, which frees what a failure
		 * frees.  The socket BIO does not own "other".
		 */
		SSL_set_fd(ssl, other);
		bev = real(base, fd, ssl, state, options);
		close(other);
		return bev;
	}
	return real(base, fd, ssl, state, options);
}

int
evbuffer_reserve_space(struct evbuffer *buf, ev_ssize_t size,
    struct evbuffer_iovec *vec, int n_vec)
{
	static reserve_fn	 real;
	long			 min = knob("SW_INJECT_RESERVE_MIN");

	if (real == NULL)
		real = (reserve_fn)dlsym(RTLD_NEXT, "evbuffer_reserve_space");
	if (min > 0 && size >= min)
		return -1;
	return real(buf, size, vec, n_vec);
}
