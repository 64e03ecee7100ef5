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
 *    not connecting, and the input is below rd_high (when set).  While
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
 * A TLS conn wraps a bufferevent_openssl and passes every call through.
 * Worker thread only.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

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
	int			 busy;		/* callbacks under way */
	int			 conn_err;	/* connect() refused at once */
	int			 rd_ms, wr_ms;
	/* Watermarks: a few hundred KiB at most (conn_set_read_high). */
	uint32_t		 rd_high, wr_low;
	struct event		*rev;		/* plain: in this allocation */
	struct event		*wev;
	struct evbuffer		*in, *out;
	struct evbuffer_cb_entry *in_cb;	/* re-arm below rd_high */
	struct bufferevent	*bev;		/* TLS only */
	conn_data_cb		 readcb, writecb;
	conn_event_cb		 eventcb;
	void			*arg;
	/*
	 * A plain conn's read event follows here, in the same allocation
	 * (event_get_struct_event_size() bytes: event_assign), since every
	 * plain conn, idle ones first, holds one: one malloc header less
	 * per connection.  Its event_base is the conn's.
	 */
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
static void	conn_writeev(evutil_socket_t, short, void *);

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

/* Free what a plain conn holds (the socket is closed already). */
static void
conn_destroy(struct conn *c)
{
	if (c->rev != NULL) {
		event_del(c->rev);
		event_debug_unassign(c->rev);	/* memory goes with c */
	}
	if (c->wev != NULL)
		event_free(c->wev);
	if (c->in != NULL)
		evbuffer_free(c->in);	/* frees in_cb too */
	if (c->out != NULL)
		evbuffer_free(c->out);
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

/* Add or remove the read event so that it matches the invariant. */
static void
conn_rd_update(struct conn *c)
{
	struct timeval	tv;
	int		want, held;

	held = c->rd_high > 0 && c->in != NULL &&
	    evbuffer_get_length(c->in) >= c->rd_high;
	want = c->reading && !c->dead && !c->connecting && !held;
	if (want && !c->rd_armed) {
		if (event_add(c->rev, conn_tv(c->rd_ms, &tv)) == 0)
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

struct conn *
conn_plain(struct event_base *base, int fd)
{
	struct conn *c;

	if ((c = calloc(1, sizeof(*c) + event_get_struct_event_size())) ==
	    NULL)
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

/* TLS: the bufferevent's callbacks, passed on. */
static void
conn_tls_readcb(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;

	(void)bev;
	if (c->readcb != NULL)
		c->readcb(c, c->arg);
}

static void
conn_tls_writecb(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;

	(void)bev;
	if (c->writecb != NULL)
		c->writecb(c, c->arg);
}

static void
conn_tls_eventcb(struct bufferevent *bev, short what, void *arg)
{
	struct conn *c = arg;

	(void)bev;
	if (c->eventcb != NULL)
		c->eventcb(c, what, c->arg);
}

struct conn *
conn_tls(struct bufferevent *bev)
{
	struct conn *c;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		bufferevent_free(bev);
		return NULL;
	}
	c->tls = 1;
	c->fd = -1;
	c->bev = bev;
	return c;
}

void
conn_free(struct conn *c)
{
	if (c == NULL)
		return;
	if (c->tls) {
		/* libevent keeps the bufferevent until its callbacks end. */
		bufferevent_free(c->bev);
		free(c);
		return;
	}
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
	if (c->tls)
		bufferevent_setcb(c->bev, readcb ? conn_tls_readcb : NULL,
		    writecb ? conn_tls_writecb : NULL,
		    eventcb ? conn_tls_eventcb : NULL, c);
}

struct evbuffer *
conn_input(struct conn *c)
{
	if (c->tls)
		return bufferevent_get_input(c->bev);
	(void)conn_buffers(c);	/* made at the first read, normally */
	return c->in;
}

struct evbuffer *
conn_output(struct conn *c)
{
	if (c->tls)
		return bufferevent_get_output(c->bev);
	(void)conn_buffers(c);
	return c->out;
}

size_t
conn_input_len(struct conn *c)
{
	if (c->tls)
		return evbuffer_get_length(bufferevent_get_input(c->bev));
	return c->in != NULL ? evbuffer_get_length(c->in) : 0;
}

size_t
conn_output_len(struct conn *c)
{
	if (c->tls)
		return evbuffer_get_length(bufferevent_get_output(c->bev));
	return c->out != NULL ? evbuffer_get_length(c->out) : 0;
}

void
conn_shrink(struct conn *c)
{
	if (c->tls || c->dead || c->in == NULL || c->out == NULL ||
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
	return c->tls ? bufferevent_getfd(c->bev) : c->fd;
}

struct bufferevent *
conn_bev(struct conn *c)
{
	return c->tls ? c->bev : NULL;
}

int
conn_is_tls(const struct conn *c)
{
	return c->tls;
}

void
conn_enable(struct conn *c, short what)
{
	if (c->tls) {
		bufferevent_enable(c->bev, what);
		return;
	}
	if (what & EV_READ) {
		c->reading = 1;
		conn_rd_update(c);
	}
}

void
conn_disable(struct conn *c, short what)
{
	if (c->tls) {
		bufferevent_disable(c->bev, what);
		return;
	}
	if (what & EV_READ) {
		c->reading = 0;
		conn_rd_update(c);
	}
}

void
conn_set_read_high(struct conn *c, size_t high)
{
	if (c->tls) {
		bufferevent_setwatermark(c->bev, EV_READ, 0, high);
		return;
	}
	c->rd_high = high < UINT32_MAX ? (uint32_t)high : UINT32_MAX;
	conn_rd_update(c);
}

void
conn_set_write_low(struct conn *c, size_t low)
{
	if (c->tls)
		bufferevent_setwatermark(c->bev, EV_WRITE, low, 0);
	else
		c->wr_low = low < UINT32_MAX ? (uint32_t)low : UINT32_MAX;
}

void
conn_set_timeouts(struct conn *c, int read_ms, int write_ms)
{
	struct timeval r, w;

	if (c->tls) {
		bufferevent_set_timeouts(c->bev, conn_tv(read_ms, &r),
		    conn_tv(write_ms, &w));
		return;
	}
	/*
	 * Re-add: the new timeout counts now.  An event_add() without a
	 * timeout leaves a pending one's old timeout armed, so none is
	 * removed by hand (no epoll_ctl either way).
	 */
	if (read_ms != c->rd_ms) {
		c->rd_ms = read_ms;
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
	if (c->tls || c->dead || c->connecting || c->wr_armed ||
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
	if (c->tls) {
		bufferevent_trigger(c->bev, EV_READ,
		    BEV_TRIG_IGNORE_WATERMARKS | BEV_TRIG_DEFER_CALLBACKS);
		return;
	}
	if (c->dead)
		return;
	c->kick = 1;
	event_active(c->rev, EV_READ, 1);
}

/*
 * Read once into space reserved at the input's end.  Returns the bytes
 * read, 0 at EOF, -1 with errno on an error (EAGAIN included).
 */
static ssize_t
conn_read(struct conn *c)
{
	struct evbuffer_iovec	v[2];
	size_t			room = c->full ? READ_BIG : READ_SMALL, len;
	ssize_t			n;
	int			nv;
	size_t			got;

	if (conn_buffers(c) == -1) {
		errno = ENOMEM;
		return -1;
	}
	if (c->rd_high > 0) {
		len = evbuffer_get_length(c->in);
		if (room > c->rd_high - len)
			room = c->rd_high - len;
	}
	if ((nv = evbuffer_reserve_space(c->in, (ev_ssize_t)room, v, 2)) < 1) {
		room = room < READ_MIN ? room : READ_MIN;
		if ((nv = evbuffer_reserve_space(c->in, (ev_ssize_t)room, v,
		    2)) < 1) {
			errno = ENOMEM;
			return -1;
		}
	}
	/* Reserved space may exceed room: read no more than asked. */
	if (v[0].iov_len >= room) {
		v[0].iov_len = room;
		nv = 1;
	} else if (nv == 2 && v[0].iov_len + v[1].iov_len > room)
		v[1].iov_len = room - v[0].iov_len;
	got = v[0].iov_len + (nv == 2 ? v[1].iov_len : 0);
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
	ssize_t		 n;

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
		goto out;
	}
	if (what & EV_TIMEOUT) {
		c->reading = 0;
		conn_rd_update(c);
		conn_event(c, CONN_EV_READING | CONN_EV_TIMEOUT);
		goto out;
	}
	if (c->rd_high > 0 && c->in != NULL &&
	    evbuffer_get_length(c->in) >= c->rd_high) {
		conn_rd_update(c);
		goto out;
	}
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
out:
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
