/*
 * conn: one connected socket (client or upstream side) and its two byte
 * queues, whether it carries plain TCP or TLS.  The exchange code reads
 * conn_input(), writes into conn_output() and calls conn_flush(); it does
 * not know which kind it has.
 *
 * Plain TCP runs on bare events and our own system calls: one readv into
 * space reserved at the input's end (no FIONREAD first), writes straight
 * from the output's chains (writev), and EV_WRITE armed only while the
 * kernel would not take everything.  TLS runs on the same events with
 * an SSL object on the socket: SSL_read into the input, SSL_write from
 * the output (a head and a small body in one record), the handshake
 * ended by CONN_EV_CONNECTED on both sides.
 *
 * Callbacks mirror a bufferevent's: read (bytes arrived), write (output
 * drained to its low watermark after a write), event (CONN_EV_* flags,
 * the BEV_EVENT_* values).  A conn may be freed from inside its own
 * callbacks: the memory goes once the callback returns.
 *
 * Worker thread only.
 */
#ifndef SWITCHOVER_CONN_H
#define SWITCHOVER_CONN_H

#include <stddef.h>
#include <sys/socket.h>

struct conn;
struct event_base;
struct evbuffer;
struct ssl_st;

/* The same bits as libevent's BEV_EVENT_*. */
#define CONN_EV_READING		0x01
#define CONN_EV_WRITING		0x02
#define CONN_EV_EOF		0x10
#define CONN_EV_ERROR		0x20
#define CONN_EV_TIMEOUT		0x40
#define CONN_EV_CONNECTED	0x80

typedef void	(*conn_data_cb)(struct conn *, void *arg);
typedef void	(*conn_event_cb)(struct conn *, short what, void *arg);

/* A plain conn on socket fd (non-blocking); fd is the conn's from here. */
struct conn	*conn_plain(struct event_base *, int fd);
/*
 * A TLS conn on socket fd (for a client side, connect() issued) with
 * ssl from tls_accept/tls_connect; the handshake starts here.  ssl is
 * the conn's from here (freed at once if the conn cannot be made: NULL,
 * and fd stays the caller's); fd is the conn's once made.
 */
struct conn	*conn_tls(struct event_base *, int fd, struct ssl_st *ssl);
/* Close the socket and free the conn (later, if inside its callbacks). */
void		 conn_free(struct conn *);

/*
 * Plain conns: start connecting to sa.  0, or -1 with errno for a
 * failure of our own; a refusal is reported through the event callback.
 */
int		 conn_connect(struct conn *, const struct sockaddr *, socklen_t);

void		 conn_setcb(struct conn *, conn_data_cb readcb,
		    conn_data_cb writecb, conn_event_cb eventcb, void *arg);
/*
 * The byte queues.  A plain conn makes them at its first read (and
 * here if asked before: NULL only when out of memory); where a conn may
 * be idle, ask for lengths instead, which make nothing.
 */
struct evbuffer	*conn_input(struct conn *);
struct evbuffer	*conn_output(struct conn *);
size_t		 conn_input_len(struct conn *);
size_t		 conn_output_len(struct conn *);
/* Idle: give back both queues if empty (made again at the next read). */
void		 conn_shrink(struct conn *);
/* Worker thread, on exit: free the queues kept for reuse. */
void		 conn_cache_free(void);
int		 conn_fd(struct conn *);
/* The SSL object (for tls.c's questions), or NULL on a plain conn. */
struct ssl_st	*conn_ssl(struct conn *);
/* OpenSSL's reason of the conn's first TLS failure (0: none). */
unsigned long	 conn_ssl_error(struct conn *);
int		 conn_is_tls(const struct conn *);

/* Reading on or off.  Writing needs no switch: it follows the output. */
void		 conn_enable(struct conn *, short what);
/*
 * Reading on, after one read tried at once (plain conns; else as
 * conn_enable): a client's first request often arrives with its
 * connection, so an accept finds it there.  The callbacks run from
 * here as from the loop; the read event is armed only if reading is
 * still on when they return, so a connection that reads its one
 * request and turns reading off never touches the event set (no
 * epoll_ctl to add, none to remove).
 */
void		 conn_enable_read_first(struct conn *);
void		 conn_disable(struct conn *, short what);
/* Stop reading while the input holds high bytes or more (0: no cap). */
void		 conn_set_read_high(struct conn *, size_t high);
/* The write callback runs once the output is at low bytes or fewer. */
void		 conn_set_write_low(struct conn *, size_t low);
/* Read and write inactivity timeouts, ms (0: none); only changes cost. */
void		 conn_set_timeouts(struct conn *, int read_ms, int write_ms);
/*
 * The read timeout, read_ms, as ctv: the same duration made a common
 * timeout of the conn's base (event_base_init_common_timeout), which
 * outlives the conn.  libevent keeps such timeouts in a list per
 * duration, not in its min-heap, so thousands of idle connections with
 * one keep-alive timeout hold no heap slot.  Until the next change.
 */
void		 conn_set_read_common(struct conn *, int read_ms,
		    const struct timeval *ctv);
/*
 * Send what the output holds now; what the kernel does not take goes
 * out when the socket is writable.  During a TLS handshake, at its end.
 */
void		 conn_flush(struct conn *);
/* Run the read callback from the loop, on the bytes already in input. */
void		 conn_trigger_read(struct conn *);

#endif
