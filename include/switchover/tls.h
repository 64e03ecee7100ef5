/*
 * tls: OpenSSL contexts for listeners (server side) and backends (client
 * side), and the TLS bufferevents made from them.
 *
 * Contexts are built on the control thread by tls_config_load() whenever
 * a file is loaded (start, SIGHUP, -t) and hang off the config
 * (struct sw_tls .ctx): a clone shares them by reference and the last
 * config_unref() drops them.  A context is never changed once built, so
 * every worker makes SSL objects from it without a lock of ours; each
 * SSL object holds its own reference to its context, so a reload never
 * pulls a certificate from under a live connection.
 */
#ifndef SWITCHOVER_TLS_H
#define SWITCHOVER_TLS_H

#include <stddef.h>

struct bufferevent;
struct config_errors;
struct event_base;
struct ssl_ctx_st;
struct ssl_session_st;
struct sw_config;
struct sw_tls;

/*
 * Build the context of every TLS listener and backend of cfg: load and
 * match certificates and keys, CA files, cipher lists.  Returns 0, or -1
 * with every problem appended to errs as FILE:LINE: message.  Says
 * loudly when a backend does not verify its servers.
 */
int	tls_config_load(struct sw_config *cfg, struct config_errors *errs);

/*
 * tls_accept and tls_connect return NULL with errno ENOMEM when the
 * bufferevent cannot be made; fd then stays open, the caller's to close.
 */
/* A bufferevent that runs the server handshake on accepted socket fd. */
struct bufferevent *tls_accept(struct event_base *, int fd,
	    struct ssl_ctx_st *);
/*
 * A bufferevent that runs the client handshake on fd (connect() already
 * issued) with SNI and the certificate name check for host, or for
 * t->server_name when set; sess (may be NULL) is offered for resumption.
 */
struct bufferevent *tls_connect(struct event_base *, int fd,
	    const struct sw_tls *t, const char *host,
	    struct ssl_session_st *sess);

/*
 * Send close_notify on bev (TLS, handshake done; else nothing): it tells
 * the peer the stream ended whole, so only a clean end may say it.  One
 * non-blocking try, just before the bufferevent is freed.
 */
void	tls_close_notify(struct bufferevent *);
/* Did the TLS handshake of bev complete?  (1 for plain ones, or NULL.) */
int	tls_handshake_done(struct bufferevent *);
/*
 * Why a TLS bufferevent failed, from OpenSSL's error queue and the
 * certificate verification result, into buf.  Returns 1 if there was a
 * TLS reason, 0 if none (a plain socket error, or not TLS at all).
 */
int	tls_failure(struct bufferevent *, char *buf, size_t len);
/*
 * Keep bev's session for resuming the next connection: replaces *slot
 * when bev has a resumable session.
 */
void	tls_session_keep(struct bufferevent *, struct ssl_session_st **slot);
void	tls_session_free(struct ssl_session_st *);

/*
 * Log a warning unless more than a few such lines were logged in this
 * second (a scan or a broken client must not flood the log); what was
 * held back is counted in the next line.  Any thread.
 */
void	tls_log_limited(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));

#endif
