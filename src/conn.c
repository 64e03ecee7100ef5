/*
 * conn: the connection I/O layer under client.c and upstream.c.
 *
 * A plain conn owns its socket, a read and a write event, and its input
 * and output evbuffers.  Reads go straight into space reserved at the
 * input's end (one readv, no FIONREAD: libevent's evbuffer_read asks the
 * kernel how much is there before every read, a system call per read),
 * sized small for the first read and larger once a read filled all it
 * was given (a body streaming in).  Writes go straight from the output's
 * chains (evbuffer_write_atmost: one writev); EV_WRITE is armed only
 * while the kernel would not take it all, or while connecting.
 *
 * Invariants:
 *  - rd_armed: the read event is added, iff reading is on, the conn is
 *    not connecting, and the input is below rd_high (when set); but
 *    not while conn_enable_read_first runs the callbacks of its read.  While
 *    reading is held back by rd_high only, an evbuffer callback on the
 *    input re-arms it once the input drains.
 *  - wr_armed: the write event is added, iff connecting or output waits
 *    after a write the kernel cut short.
 *  - busy counts callbacks under way; conn_free inside them closes the
 *    socket at once and leaves the memory to the outermost one.
 *  - What an idle keep-alive conn does not need, it does not hold: the
 *    write event is made the first time a write waits, and the two
 *    evbuffers when bytes first arrive (conn_shrink gives them back).
 *    What it does need is one allocation: the struct and, behind it,
 *    its read event (event_assign; the event_base is found from it).
 *
 * A TLS conn is a plain conn with an SSL object on the same socket
 * (OpenSSL's socket BIO, read-ahead on: one read() takes every record
 * the kernel holds).  SSL_read goes into space reserved at the input's
 * end; SSL_write takes at most 16 KiB of the output at a time, gathered
 * into one record, so a head and a small body leave in one write().
 * TLS adds these invariants:
 *  - hs: the handshake runs; reads and writes wait for it, and the
 *    events follow what it wants (hs_ww: writable, else readable).  Its
 *    end is reported as CONN_EV_CONNECTED on both sides.
 *  - wr_len: an SSL_write of that many bytes wanted to be called again
 *    (OpenSSL's rule: the same bytes, at least as many); the output
 *    keeps them until it succeeds.
 *  - rd_ww: an SSL_read wants the socket writable; wr_wr: an SSL_write
 *    wants it readable.  While either waits, the other direction's event
 *    is off, so a level-triggered readiness it cannot use never spins.
 *  - Bytes OpenSSL holds decrypted or read ahead get no readiness from
 *    the kernel: whenever reading is on and SSL_has_pending() says so,
 *    the read event is made active by hand (conn_tls_more).
 * Worker thread only.
 */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "switchover/conn.h"

/*
 * First read: a request or response head fits, and the chain libevent
 * allocates for it (size plus its header, rounded up to a power of two)
 * stays 16 KiB.
 */
#define READ_SMALL	(16384 - 128)
/* After a read that filled its space: a body is streaming, take more. */
#define READ_BIG	(65536 - 128)
/* When memory is short, try this before giving up. */
#define READ_MIN	4096
/* The most one SSL_write takes: one full TLS record. */
#define TLS_RECORD	16384

struct conn {
	int			 fd;
	unsigned		 tls:1;
	unsigned		 reading:1;	/* EV_READ enabled by the user */
	unsigned		 rd_armed:1;
	unsigned		 wr_armed:1;
	unsigned		 connecting:1;
	unsigned		 dead:1;	/* conn_free called */
	unsigned		 kick:1;	/* conn_trigger_read pending */
	unsigned		 full:1;	/* last read filled its space */
	unsigned		 wfail:1;	/* no write event could be made */
	unsigned		 defer:1;	/* conn_enable_read_first: arm after */
	unsigned		 hs:1;		/* TLS handshake under way */
	unsigned		 hs_ww:1;	/* ...and it waits to write */
	unsigned		 rd_ww:1;	/* SSL_read waits to write */
	unsigned		 wr_wr:1;	/* SSL_write waits to read */
	unsigned		 tls_more:1;	/* OpenSSL may hold more input */
	unsigned		 rd_end:2;	/* TLS EOF/error seen behind data */
	int			 busy;		/* callbacks under way */
	int			 conn_err;	/* connect() refused at once */
	int			 rd_ms, wr_ms;
	/* Watermarks: a few hundred KiB at most (conn_set_read_high). */
	uint32_t		 rd_high, wr_low;
	struct event		*rev;		/* in this allocation */
	/* The read timeout as a common timeout of the base, or NULL:
	 * conn_set_read_common; cleared when the read timeout changes. */
	const struct timeval	*rd_ctv;
	struct event		*wev;
	struct evbuffer		*in, *out;
	struct evbuffer_cb_entry *in_cb;	/* re-arm below rd_high */
	struct conn_tls		*t;		/* TLS only: past the read event */
	conn_data_cb		 readcb, writecb;
	conn_event_cb		 eventcb;
	void			*arg;
	/*
	 * The read event follows here, in the same allocation
	 * (event_get_struct_event_size() bytes: event_assign), since every
	 * conn, idle ones first, holds one: one malloc header less per
	 * connection.  Its event_base is the conn's.  A TLS conn's struct
	 * conn_tls comes after it.
	 */
};

/*
 * What only a TLS conn needs, allocated with it: a plain conn stays as
 * small as it was.
 */
struct conn_tls {
	SSL			*ssl;
	unsigned long		 err;		/* OpenSSL's reason of a failure */
	int			 wr_len;	/* SSL_write to call again */
	int			 end_errno;	/* with rd_end: the error */
	int			 wr_errno;	/* a failed flush, to report */
};

/*
 * Empty evbuffers given back by idle conns, kept for the next request on
 * this worker thread (as http.c keeps head memory); conn_cache_free()
 * empties it when the worker ends.
 */
#define BUF_CACHE_MAX	256
static __thread struct evbuffer	*buf_cache[BUF_CACHE_MAX];
static __thread int		 nbuf_cache;

static void	conn_readev(evutil_socket_t, short, void *);
static void	conn_read_ready(struct conn *);
static void	conn_writeev(evutil_socket_t, short, void *);
static void	conn_tls_more(struct conn *);
static void	conn_tls_wr_update(struct conn *);
static void	conn_tls_flush(struct conn *);
static void	conn_tls_readable(struct conn *);
static void	conn_tls_writable(struct conn *);

/* ms to a timeval pointer, NULL for 0 (no timeout). */
static const struct timeval *
conn_tv(int ms, struct timeval *tv)
{
	if (ms <= 0)
		return NULL;
	tv->tv_sec = ms / 1000;
	tv->tv_usec = (ms % 1000) * 1000;
	return tv;
}

/* c's read timeout for event_add: its common timeout if it has one. */
static const struct timeval *
conn_rd_tv(struct conn *c, struct timeval *tv)
{
	return c->rd_ctv != NULL && c->rd_ms > 0 ? c->rd_ctv :
	    conn_tv(c->rd_ms, tv);
}

static void	conn_buf_put(struct evbuffer *);

/*
 * Free what a plain conn holds (the socket is closed already).  Its
 * queues, emptied, go to this thread's cache, as an idle conn's do
 * (conn_shrink): a connection that lives for one request would
 * otherwise make two evbuffers and free them again.
 */
static void
conn_destroy(struct conn *c)
{
	if (c->rev != NULL) {
		event_del(c->rev);
		event_debug_unassign(c->rev);	/* memory goes with c */
	}
	if (c->wev != NULL)
		event_free(c->wev);
	if (c->in != NULL) {
		if (c->in_cb != NULL)
			evbuffer_remove_cb_entry(c->in, c->in_cb);
		evbuffer_drain(c->in, evbuffer_get_length(c->in));
		conn_buf_put(c->in);
	}
	if (c->out != NULL) {
		evbuffer_drain(c->out, evbuffer_get_length(c->out));
		conn_buf_put(c->out);
	}
	if (c->t != NULL)
		SSL_free(c->t->ssl);	/* NULL is fine */
	free(c);
}

/* A callback is over: free c if it was freed meanwhile. */
static void
conn_release(struct conn *c)
{
	if (--c->busy == 0 && c->dead)
		conn_destroy(c);
}

/* Run the event callback (nothing if freed meanwhile). */
static void
conn_event(struct conn *c, short what)
{
	if (!c->dead && c->eventcb != NULL)
		c->eventcb(c, what, c->arg);
}

/* The input drained while reading was held back by rd_high. */
static void	conn_rd_update(struct conn *);

static void
conn_in_drained(struct evbuffer *buf, const struct evbuffer_cb_info *info,
    void *arg)
{
	(void)buf;
	if (info->n_deleted > 0)
		conn_rd_update(arg);
}

/* Is reading held back by rd_high? */
static int
conn_held(const struct conn *c)
{
	return c->rd_high > 0 && c->in != NULL &&
	    evbuffer_get_length(c->in) >= c->rd_high;
}

/* Add or remove the read event so that it matches the invariant. */
static void
conn_rd_update(struct conn *c)
{
	struct timeval	tv;
	int		want, held;

	held = conn_held(c);
	want = c->reading && !c->dead && !c->connecting && !held && !c->defer;
	/* TLS: what the handshake or a waiting SSL_write needs comes first. */
	if (c->t != NULL && !c->dead)
		want = c->hs ? !c->hs_ww : !c->rd_ww && (want || c->wr_wr);
	if (want && !c->rd_armed) {
		if (event_add(c->rev, conn_rd_tv(c, &tv)) == 0)
			c->rd_armed = 1;
	} else if (!want && c->rd_armed) {
		event_del(c->rev);
		c->rd_armed = 0;
	}
	/* Watch the input only while it alone holds reading back. */
	if (c->reading && !c->dead && held) {
		if (c->in_cb == NULL)
			c->in_cb = evbuffer_add_cb(c->in, conn_in_drained, c);
		else
			evbuffer_cb_set_flags(c->in, c->in_cb,
			    EVBUFFER_CB_ENABLED);
	} else if (c->in_cb != NULL)
		evbuffer_cb_clear_flags(c->in, c->in_cb, EVBUFFER_CB_ENABLED);
	if (c->t != NULL && c->rd_armed)
		conn_tls_more(c);
}

/* Make the write event if not made yet.  0, or -1 (out of memory). */
static int
conn_wev(struct conn *c)
{
	if (c->wev == NULL && (c->wev = event_new(event_get_base(c->rev),
	    c->fd, EV_WRITE | EV_PERSIST, conn_writeev, c)) == NULL)
		return -1;
	return 0;
}

/*
 * Arm the write event (output waits, or a connect is under way), made
 * on first use.  If it cannot be made, the error is reported from the
 * loop through the read event.
 */
static void
conn_wr_arm(struct conn *c)
{
	struct timeval tv;

	if (c->wr_armed || c->dead)
		return;
	if (conn_wev(c) == -1) {
		c->wfail = 1;
		event_active(c->rev, EV_READ, 1);
		return;
	}
	if (event_add(c->wev, conn_tv(c->wr_ms, &tv)) == 0)
		c->wr_armed = 1;
}

/* An empty evbuffer, from the cache if it has one. */
static struct evbuffer *
conn_buf_get(void)
{
	return nbuf_cache > 0 ? buf_cache[--nbuf_cache] : evbuffer_new();
}

/* Keep an empty evbuffer for the next conn, or free it. */
static void
conn_buf_put(struct evbuffer *b)
{
	if (nbuf_cache < BUF_CACHE_MAX)
		buf_cache[nbuf_cache++] = b;
	else
		evbuffer_free(b);
}

void
conn_cache_free(void)
{
	while (nbuf_cache > 0)
		evbuffer_free(buf_cache[--nbuf_cache]);
}

/* Both byte queues, made when first needed.  0, or -1 (out of memory). */
static int
conn_buffers(struct conn *c)
{
	if (c->in == NULL && (c->in = conn_buf_get()) == NULL)
		return -1;
	if (c->out == NULL && (c->out = conn_buf_get()) == NULL)
		return -1;
	return 0;
}

static void
conn_wr_disarm(struct conn *c)
{
	if (c->wr_armed) {
		event_del(c->wev);	/* armed: made already */
		c->wr_armed = 0;
	}
}

/* A conn on fd, with extra zeroed bytes after it.  NULL: no memory. */
static struct conn *
conn_new(struct event_base *base, int fd, size_t extra)
{
	struct conn *c;

	if ((c = calloc(1, sizeof(*c) + event_get_struct_event_size() +
	    extra)) == NULL)
		return NULL;
	c->fd = fd;
	if (event_assign((struct event *)(c + 1), base, fd, EV_READ |
	    EV_PERSIST, conn_readev, c) == -1) {
		free(c);
		return NULL;
	}
	c->rev = (struct event *)(c + 1);
	return c;
}

struct conn *
conn_plain(struct event_base *base, int fd)
{
	return conn_new(base, fd, 0);
}

/*
 * TLS on socket fd: ssl (tls_accept/tls_connect) becomes the conn's.
 * The handshake starts at once: a server waits for the client's hello,
 * a client sends its own once the socket is writable (connected).
 */
struct conn *
conn_tls(struct event_base *base, int fd, struct ssl_st *ssl)
{
	struct conn *c;

	if ((c = conn_new(base, fd, sizeof(struct conn_tls))) == NULL ||
	    conn_wev(c) == -1 ||
	    SSL_set_fd(ssl, fd) != 1) {
		ERR_clear_error();
		if (c != NULL)
			conn_destroy(c);
		SSL_free(ssl);
		return NULL;
	}
	/*
	 * Read-ahead: one read() takes what the kernel holds, not a record
	 * header and then its body.  A write retried after WANT_WRITE may
	 * come from another address (the output's chains move).
	 */
	SSL_set_read_ahead(ssl, 1);
	SSL_set_mode(ssl, SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	/* After the read event, in the same allocation (conn_new). */
	c->t = (struct conn_tls *)((char *)(c + 1) +
	    event_get_struct_event_size());
	c->t->ssl = ssl;
	c->tls = 1;
	c->hs = 1;
	c->hs_ww = !SSL_is_server(ssl);	/* a client speaks first */
	conn_rd_update(c);
	conn_tls_wr_update(c);
	return c;
}

void
conn_free(struct conn *c)
{
	if (c == NULL)
		return;
	if (c->dead)
		return;
	c->dead = 1;
	conn_wr_disarm(c);
	conn_rd_update(c);
	event_del(c->rev);	/* a pending conn_trigger_read */
	if (c->fd != -1)
		close(c->fd);
	c->fd = -1;
	if (c->busy == 0)
		conn_destroy(c);
}

int
conn_connect(struct conn *c, const struct sockaddr *sa, socklen_t len)
{
	if (c->tls) {
		errno = EINVAL;
		return -1;
	}
	if (conn_wev(c) == -1) {
		errno = ENOMEM;
		return -1;
	}
	c->connecting = 1;
	conn_rd_update(c);
	if (connect(c->fd, sa, len) == 0 || errno == EINPROGRESS) {
		conn_wr_arm(c);
		return 0;
	}
	if (errno == ECONNREFUSED || errno == ENETUNREACH ||
	    errno == EHOSTUNREACH) {
		/* The server's answer: reported from the loop, as a late one. */
		c->conn_err = errno;
		event_active(c->wev, EV_WRITE, 1);
		return 0;
	}
	c->connecting = 0;
	return -1;
}

void
conn_setcb(struct conn *c, conn_data_cb readcb, conn_data_cb writecb,
    conn_event_cb eventcb, void *arg)
{
	c->readcb = readcb;
	c->writecb = writecb;
	c->eventcb = eventcb;
	c->arg = arg;
}

struct evbuffer *
conn_input(struct conn *c)
{
	(void)conn_buffers(c);	/* made at the first read, normally */
	return c->in;
}

struct evbuffer *
conn_output(struct conn *c)
{
	(void)conn_buffers(c);
	return c->out;
}

size_t
conn_input_len(struct conn *c)
{
	return c->in != NULL ? evbuffer_get_length(c->in) : 0;
}

size_t
conn_output_len(struct conn *c)
{
	return c->out != NULL ? evbuffer_get_length(c->out) : 0;
}

void
conn_shrink(struct conn *c)
{
	if (c->dead || c->in == NULL || c->out == NULL ||
	    evbuffer_get_length(c->in) > 0 || evbuffer_get_length(c->out) > 0)
		return;
	if (c->in_cb != NULL)
		evbuffer_remove_cb_entry(c->in, c->in_cb);
	c->in_cb = NULL;
	conn_buf_put(c->in);
	conn_buf_put(c->out);
	c->in = c->out = NULL;
}

int
conn_fd(struct conn *c)
{
	return c->fd;
}

struct ssl_st *
conn_ssl(struct conn *c)
{
	return c->t != NULL ? c->t->ssl : NULL;
}

unsigned long
conn_ssl_error(struct conn *c)
{
	return c->t != NULL ? c->t->err : 0;
}

int
conn_is_tls(const struct conn *c)
{
	return c->tls;
}

void
conn_enable(struct conn *c, short what)
{
	if (what & EV_READ) {
		c->reading = 1;
		conn_rd_update(c);
	}
}

void
conn_disable(struct conn *c, short what)
{
	if (what & EV_READ) {
		c->reading = 0;
		conn_rd_update(c);
	}
}

void
conn_set_read_high(struct conn *c, size_t high)
{
	c->rd_high = high < UINT32_MAX ? (uint32_t)high : UINT32_MAX;
	conn_rd_update(c);
}

void
conn_set_write_low(struct conn *c, size_t low)
{
	c->wr_low = low < UINT32_MAX ? (uint32_t)low : UINT32_MAX;
}

void
conn_set_read_common(struct conn *c, int read_ms, const struct timeval *ctv)
{
	struct timeval r;

	if (read_ms == c->rd_ms && ctv == c->rd_ctv)
		return;
	c->rd_ms = read_ms;
	c->rd_ctv = read_ms > 0 ? ctv : NULL;
	if (c->rd_armed && read_ms > 0)
		event_add(c->rev, conn_rd_tv(c, &r));
	else if (c->rd_armed)
		event_remove_timer(c->rev);
}

void
conn_set_timeouts(struct conn *c, int read_ms, int write_ms)
{
	struct timeval r, w;

	/*
	 * Re-add: the new timeout counts now.  An event_add() without a
	 * timeout leaves a pending one's old timeout armed, so none is
	 * removed by hand (no epoll_ctl either way).
	 */
	if (read_ms != c->rd_ms) {
		c->rd_ms = read_ms;
		c->rd_ctv = NULL;
		if (c->rd_armed && read_ms > 0)
			event_add(c->rev, conn_tv(read_ms, &r));
		else if (c->rd_armed)
			event_remove_timer(c->rev);
	}
	if (write_ms != c->wr_ms) {
		c->wr_ms = write_ms;
		if (c->wr_armed && write_ms > 0)
			event_add(c->wev, conn_tv(write_ms, &w));
		else if (c->wr_armed)
			event_remove_timer(c->wev);
	}
}

/*
 * One writev of what the output holds.  Returns the bytes written, 0 if
 * the kernel took nothing for now, -1 on a socket error (errno set).
 */
static int
conn_write(struct conn *c)
{
	int n;

	if (c->out == NULL || evbuffer_get_length(c->out) == 0)
		return 0;
	n = evbuffer_write_atmost(c->out, c->fd, -1);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK ||
	    errno == EINTR))
		return 0;
	return n;
}

void
conn_flush(struct conn *c)
{
	if (c->t != NULL) {
		conn_tls_flush(c);
		return;
	}
	if (c->dead || c->connecting || c->wr_armed ||
	    c->out == NULL || evbuffer_get_length(c->out) == 0)
		return;
	/* A failed write is tried again from the loop, which reports it. */
	(void)conn_write(c);
	if (evbuffer_get_length(c->out) > 0)
		conn_wr_arm(c);
}

void
conn_trigger_read(struct conn *c)
{
	if (c->dead)
		return;
	c->kick = 1;
	event_active(c->rev, EV_READ, 1);
}

/*
 * Reserve the space for one read at the input's end, in v (one or two
 * pieces, *room bytes in all): small for a head, larger once a read
 * filled all it was given, never past rd_high.  The number of pieces,
 * or -1 with errno ENOMEM.  Plain and TLS reads share it.
 */
static int
conn_reserve(struct conn *c, struct evbuffer_iovec v[2], size_t *room)
{
	size_t	want = c->full ? READ_BIG : READ_SMALL, len;
	int	nv;

	if (conn_buffers(c) == -1) {
		errno = ENOMEM;
		return -1;
	}
	if (c->rd_high > 0) {
		len = evbuffer_get_length(c->in);
		if (want > c->rd_high - len)
			want = c->rd_high - len;
	}
	if ((nv = evbuffer_reserve_space(c->in, (ev_ssize_t)want, v, 2)) < 1) {
		want = want < READ_MIN ? want : READ_MIN;
		if ((nv = evbuffer_reserve_space(c->in, (ev_ssize_t)want, v,
		    2)) < 1) {
			errno = ENOMEM;
			return -1;
		}
	}
	/* Reserved space may exceed what we want: read no more. */
	if (v[0].iov_len >= want) {
		v[0].iov_len = want;
		nv = 1;
	} else if (nv == 2 && v[0].iov_len + v[1].iov_len > want)
		v[1].iov_len = want - v[0].iov_len;
	*room = v[0].iov_len + (nv == 2 ? v[1].iov_len : 0);
	return nv;
}

/*
 * Read once into space reserved at the input's end.  Returns the bytes
 * read, 0 at EOF, -1 with errno on an error (EAGAIN included).
 */
static ssize_t
conn_read(struct conn *c)
{
	struct evbuffer_iovec	v[2];
	ssize_t			n;
	int			nv;
	size_t			got;

	if ((nv = conn_reserve(c, v, &got)) == -1)
		return -1;
	n = readv(c->fd, (struct iovec *)v, nv);
	if (n <= 0) {
		int err = errno;

		evbuffer_commit_space(c->in, v, 0);
		errno = err;
		return n;
	}
	c->full = (size_t)n == got;
	if ((size_t)n <= v[0].iov_len) {
		v[0].iov_len = (size_t)n;
		nv = 1;
	} else
		v[1].iov_len = (size_t)n - v[0].iov_len;
	evbuffer_commit_space(c->in, v, nv);
	return n;
}

static void
conn_readev(evutil_socket_t fd, short what, void *arg)
{
	struct conn	*c = arg;

	(void)fd;
	c->busy++;
	if (c->wfail) {
		c->wfail = 0;
		conn_event(c, CONN_EV_WRITING | CONN_EV_ERROR);
		goto out;
	}
	if (c->kick) {
		/* Bytes already in: hand them over; the socket waits. */
		c->kick = 0;
		if (c->readcb != NULL)
			c->readcb(c, c->arg);
		if (c->t != NULL && !c->dead)
			conn_tls_more(c);	/* one activation served both */
		goto out;
	}
	if (what & EV_TIMEOUT) {
		c->reading = 0;
		conn_rd_update(c);
		conn_event(c, CONN_EV_READING | CONN_EV_TIMEOUT);
		goto out;
	}
	if (c->t != NULL) {
		conn_tls_readable(c);
		goto out;
	}
	if (c->rd_high > 0 && c->in != NULL &&
	    evbuffer_get_length(c->in) >= c->rd_high) {
		conn_rd_update(c);
		goto out;
	}
	conn_read_ready(c);
out:
	conn_release(c);
}

/*
 * The socket is readable (or may be): read, and hand the bytes to the
 * read callback, or an EOF or error to the event callback.
 */
static void
conn_read_ready(struct conn *c)
{
	ssize_t n;

	n = conn_read(c);
	/*
	 * A read that filled its space (a 16 KiB _bulk behind its head) may
	 * have left the rest behind: take it now, with the larger size, so
	 * the callback sees the whole request and the upstream gets one
	 * write, not two a loop round apart.  An EOF or error found here is
	 * found again at the next readiness, after these bytes are handled.
	 */
	if (n > 0 && c->full && (c->rd_high == 0 ||
	    evbuffer_get_length(c->in) < c->rd_high)) {
		int err = errno;

		(void)conn_read(c);
		errno = err;
	}
	if (n > 0) {
		conn_rd_update(c);	/* at rd_high: hold reading */
		if (c->readcb != NULL)
			c->readcb(c, c->arg);
	} else if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK &&
	    errno != EINTR)) {
		c->reading = 0;
		conn_rd_update(c);
		conn_event(c, CONN_EV_READING |
		    (n == 0 ? CONN_EV_EOF : CONN_EV_ERROR));
	}
}

void
conn_enable_read_first(struct conn *c)
{
	if (c->tls || c->dead || c->connecting || c->rd_armed) {
		conn_enable(c, EV_READ);
		return;
	}
	/*
	 * Reading is on but its event not armed while the callbacks run:
	 * if they leave reading on, conn_rd_update arms it afterwards, and
	 * if they turn it off, no event was ever added or removed.
	 */
	c->reading = 1;
	c->defer = 1;
	c->busy++;
	conn_read_ready(c);
	c->defer = 0;
	if (!c->dead)
		conn_rd_update(c);
	conn_release(c);
}

static void
conn_writeev(evutil_socket_t fd, short what, void *arg)
{
	struct conn	*c = arg;
	int		 n, err = 0, connected = 0;
	socklen_t	 len = sizeof(err);

	(void)fd;
	c->busy++;
	if (what & EV_TIMEOUT) {
		conn_wr_disarm(c);
		conn_event(c, CONN_EV_WRITING | CONN_EV_TIMEOUT);
		goto out;
	}
	if (c->t != NULL) {
		conn_tls_writable(c);
		goto out;
	}
	if (c->connecting) {
		if ((err = c->conn_err) == 0 &&
		    getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
			err = errno;
		if (err == EINPROGRESS)
			goto out;	/* not yet */
		c->connecting = 0;
		if (err != 0) {
			conn_wr_disarm(c);
			errno = err;
			conn_event(c, CONN_EV_ERROR);
			goto out;
		}
		connected = 1;
		conn_rd_update(c);
		conn_event(c, CONN_EV_CONNECTED);
		if (c->dead)
			goto out;
	}
	if ((n = conn_write(c)) < 0) {
		conn_wr_disarm(c);
		conn_event(c, CONN_EV_WRITING | CONN_EV_ERROR);
		goto out;
	}
	if (c->dead)
		goto out;
	if (conn_output_len(c) == 0)
		conn_wr_disarm(c);
	else
		conn_wr_arm(c);
	if ((n > 0 || connected) && conn_output_len(c) <= c->wr_low &&
	    c->writecb != NULL)
		c->writecb(c, c->arg);
out:
	conn_release(c);
}

/* ---- TLS ---------------------------------------------------------------- */

#define END_EOF		1
#define END_ERROR	2

/*
 * Classify a failed SSL call (ret its return value, err the errno right
 * after it): -1 with errno EAGAIN when it waits for the socket (rd/wr
 * say which way), else END_EOF or END_ERROR with errno set and
 * OpenSSL's reason kept in ssl_err.  Leaves the error queue empty, as
 * the next SSL call needs it.
 */
static int
conn_tls_fail(struct conn *c, int ret, int err, int *want_w)
{
	unsigned long	e;
	int		rc;

	*want_w = 0;
	switch (SSL_get_error(c->t->ssl, ret)) {
	case SSL_ERROR_WANT_WRITE:
		*want_w = 1;
		/* FALLTHROUGH */
	case SSL_ERROR_WANT_READ:
		ERR_clear_error();
		errno = EAGAIN;
		return -1;
	case SSL_ERROR_ZERO_RETURN:	/* close_notify, or a bare EOF */
		rc = END_EOF;
		break;
	case SSL_ERROR_SYSCALL:
		/* OpenSSL 1.1 says a bare EOF this way, errno 0. */
		rc = err == 0 ? END_EOF : END_ERROR;
		errno = err;
		break;
	default:
		rc = END_ERROR;
		errno = EPROTO;
		break;
	}
	/* The oldest queued error is the cause; bare codes name none. */
	while ((e = ERR_get_error()) != 0)
		if (c->t->err == 0 && ERR_GET_LIB(e) != 0)
			c->t->err = e;
	return rc;
}

/* Arm or disarm the write event as the TLS invariants say. */
static void
conn_tls_wr_update(struct conn *c)
{
	int want;

	want = !c->dead && (c->hs ? c->hs_ww :
	    c->rd_ww || (!c->wr_wr && c->t->wr_len > 0));
	if (want)
		conn_wr_arm(c);
	else
		conn_wr_disarm(c);
}

/*
 * Bytes OpenSSL holds get no readiness from the kernel: while reading
 * is on and may use them, run the read event by hand.
 */
static void
conn_tls_more(struct conn *c)
{
	if ((c->tls_more || c->rd_end) && c->rd_armed && c->reading &&
	    !c->hs && !c->rd_ww && !conn_held(c))
		event_active(c->rev, EV_READ, 1);
}

/*
 * One step of the handshake.  At its end: CONNECTED, then what was
 * queued meanwhile (an upstream's request) goes out.  A failure is
 * reported as an error (an EOF, if the peer just went away).
 */
static void
conn_tls_handshake(struct conn *c)
{
	int n, err, ww, rc;

	n = SSL_do_handshake(c->t->ssl);
	err = errno;
	if (n == 1) {
		c->hs = 0;
		c->hs_ww = 0;
		/* The first request may have come with the handshake's end. */
		c->tls_more = SSL_has_pending(c->t->ssl) != 0;
		conn_rd_update(c);
		conn_tls_wr_update(c);
		conn_event(c, CONN_EV_CONNECTED);
		if (c->dead)
			return;
		if (conn_output_len(c) > 0)
			conn_tls_flush(c);
		if (!c->dead && c->writecb != NULL &&
		    conn_output_len(c) <= c->wr_low)
			c->writecb(c, c->arg);
		return;
	}
	if ((rc = conn_tls_fail(c, n, err, &ww)) == -1) {
		c->hs_ww = ww;
		conn_rd_update(c);
		conn_tls_wr_update(c);
		return;
	}
	/* Nothing more to do on this conn: both events off. */
	c->hs = 0;
	c->hs_ww = 0;
	c->reading = 0;
	err = errno;
	conn_rd_update(c);
	conn_tls_wr_update(c);
	errno = err;
	conn_event(c, rc == END_EOF ? CONN_EV_READING | CONN_EV_EOF :
	    CONN_EV_ERROR);
}

/*
 * SSL_read into space reserved at the input's end, record after record
 * while OpenSSL holds more and room is left.  Returns the bytes read;
 * or 0 at EOF, -1 with errno on an error (EAGAIN: waits for the
 * socket).  An EOF or error behind bytes read is kept in rd_end and
 * returned by the next call.
 */
static ssize_t
conn_tls_read(struct conn *c)
{
	struct evbuffer_iovec	v[2];
	size_t			got = 0, off = 0, total, len;
	int			nv, i = 0, n, err, ww, rc = 0;

	if (c->rd_end) {
		rc = c->rd_end;
		c->rd_end = 0;
		errno = c->t->end_errno;
		return rc == END_EOF ? 0 : -1;
	}
	if ((nv = conn_reserve(c, v, &total)) == -1)
		return -1;
	c->tls_more = 0;
	while (i < nv) {
		len = v[i].iov_len - off;
		n = SSL_read(c->t->ssl, (char *)v[i].iov_base + off,
		    len > INT_MAX ? INT_MAX : (int)len);
		err = errno;
		if (n <= 0) {
			if ((rc = conn_tls_fail(c, n, err, &ww)) == -1) {
				c->rd_ww = ww;
				rc = 0;
			}
			break;
		}
		got += (size_t)n;
		if ((off += (size_t)n) == v[i].iov_len) {
			i++;
			off = 0;
		}
		if (!SSL_has_pending(c->t->ssl))
			break;
		/* Room ran out with bytes left in OpenSSL: read them later. */
		if (i == nv)
			c->tls_more = 1;
	}
	err = errno;
	c->full = got == total;
	if (got <= v[0].iov_len) {
		v[0].iov_len = got;
		nv = 1;
	} else
		v[1].iov_len = got - v[0].iov_len;
	evbuffer_commit_space(c->in, v, got > 0 ? nv : 0);
	if (got > 0) {
		c->rd_end = rc;
		c->t->end_errno = err;
		return (ssize_t)got;
	}
	errno = rc == 0 ? EAGAIN : err;
	return rc == END_EOF ? 0 : -1;
}

/*
 * SSL_write from the output, at most a record at a time, until it is
 * empty or OpenSSL waits for the socket.  Bytes that span chains are
 * gathered first, so a head and its body leave as one record.  Returns
 * the bytes written, or -1 with errno on an error.
 */
static int
conn_tls_write(struct conn *c)
{
	static __thread unsigned char	 gather[TLS_RECORD];
	struct evbuffer_iovec		 v;
	size_t				 len;
	const void			*p;
	int				 n, err, ww, total = 0;

	while (c->out != NULL && (len = evbuffer_get_length(c->out)) > 0) {
		/* A retry asks again for what was asked (OpenSSL's rule). */
		if (c->t->wr_len > 0 && (size_t)c->t->wr_len <= len)
			len = (size_t)c->t->wr_len;
		else if (len > TLS_RECORD)
			len = TLS_RECORD;
		if (evbuffer_peek(c->out, (ev_ssize_t)len, NULL, &v, 1) >= 1 &&
		    v.iov_len >= len)
			p = v.iov_base;
		else {
			evbuffer_copyout(c->out, gather, len);
			p = gather;
		}
		n = SSL_write(c->t->ssl, p, (int)len);
		err = errno;
		if (n > 0) {
			evbuffer_drain(c->out, (size_t)n);
			c->t->wr_len = 0;
			total += n;
			continue;
		}
		if (conn_tls_fail(c, n, err, &ww) == -1) {
			c->t->wr_len = (int)len;
			c->wr_wr = !ww;
			return total;
		}
		c->t->wr_len = 0;
		if (errno == 0)
			errno = EPIPE;
		return -1;
	}
	return total;
}

/* conn_flush on TLS: write now; a failure is reported from the loop. */
static void
conn_tls_flush(struct conn *c)
{
	if (c->dead || c->hs || c->t->wr_len > 0 || c->t->wr_errno != 0 ||
	    c->out == NULL || evbuffer_get_length(c->out) == 0)
		return;
	if (conn_tls_write(c) < 0) {
		c->t->wr_errno = errno;
		event_active(c->wev, EV_WRITE, 1);
		return;
	}
	conn_tls_wr_update(c);
	if (c->wr_wr)
		conn_rd_update(c);
}

/* The socket is readable: the handshake, a waiting write, or a read. */
static void
conn_tls_readable(struct conn *c)
{
	ssize_t n;

	if (c->hs) {
		conn_tls_handshake(c);
		return;
	}
	if (c->wr_wr) {
		c->wr_wr = 0;
		conn_tls_writable(c);
		if (c->dead)
			return;
	}
	if (!c->reading || conn_held(c) || c->rd_ww) {
		conn_rd_update(c);
		return;
	}
	n = conn_tls_read(c);
	if (n > 0) {
		conn_rd_update(c);	/* at rd_high: hold reading */
		if (c->readcb != NULL)
			c->readcb(c, c->arg);
	} else if (n == 0 || errno != EAGAIN) {
		int err = errno;

		c->reading = 0;
		conn_rd_update(c);
		errno = err;
		conn_event(c, CONN_EV_READING |
		    (n == 0 ? CONN_EV_EOF : CONN_EV_ERROR));
		return;
	} else {
		/* Waiting: for more bytes, or (rd_ww) to write first. */
		conn_rd_update(c);
		conn_tls_wr_update(c);
	}
	if (!c->dead)
		conn_tls_more(c);
}

/* The socket is writable: the handshake, a waiting read, or a write. */
static void
conn_tls_writable(struct conn *c)
{
	int n;

	if (c->t->wr_errno != 0) {
		errno = c->t->wr_errno;
		c->t->wr_errno = 0;
		conn_wr_disarm(c);
		conn_event(c, CONN_EV_WRITING | CONN_EV_ERROR);
		return;
	}
	if (c->hs) {
		conn_tls_handshake(c);
		return;
	}
	if (c->rd_ww) {
		/* The read goes again from the loop. */
		c->rd_ww = 0;
		c->tls_more = 1;
		conn_rd_update(c);
	}
	if ((n = conn_tls_write(c)) < 0) {
		conn_wr_disarm(c);
		conn_event(c, CONN_EV_WRITING | CONN_EV_ERROR);
		return;
	}
	conn_tls_wr_update(c);
	conn_rd_update(c);	/* a write that waits to read */
	if (n > 0 && conn_output_len(c) <= c->wr_low && c->writecb != NULL)
		c->writecb(c, c->arg);
}
