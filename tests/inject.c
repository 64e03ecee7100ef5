/*
 * inject: an LD_PRELOAD fault injector for the proxy's allocation-failure
 * paths (tests/integration/allocfail.sh).  Each knob is an environment
 * variable; unset, the call goes through untouched.
 *
 *   SW_INJECT_TLS_FAIL=N      every Nth SSL_set_fd fails, as OpenSSL's
 *                             does when it cannot make the socket BIO:
 *                             conn_tls() cannot put TLS on the socket
 *   SW_INJECT_RESERVE_MIN=B   evbuffer_reserve_space of B bytes or more
 *                             fails, as when memory runs out (a head is
 *                             built in one reserved block)
 *
 * Counters are atomic: worker threads call in at the same time.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>

#include <event2/buffer.h>

#include <openssl/ssl.h>

typedef int (*set_fd_fn)(SSL *, int);
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

int
SSL_set_fd(SSL *ssl, int fd)
{
	static set_fd_fn	 real;
	long			 every = knob("SW_INJECT_TLS_FAIL");

	if (real == NULL)
		real = (set_fd_fn)dlsym(RTLD_NEXT, "SSL_set_fd");
	if (every > 0 && __atomic_add_fetch(&tls_calls, 1,
	    __ATOMIC_RELAXED) % (unsigned long)every == 0)
		return 0;
	return real(ssl, fd);
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
