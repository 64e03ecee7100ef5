/*
 * tls: OpenSSL contexts for listeners (server side) and backends (client
 * side), and the SSL objects made from them for conn_tls().
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

struct config_errors;
struct ssl_ctx_st;
struct ssl_session_st;
struct ssl_st;
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
 * tls_accept and tls_connect return NULL with errno ENOMEM when the SSL
 * object cannot be made; conn_tls() puts it on a socket.
 */
/* An SSL object for the server side of an accepted connection. */
struct ssl_st	*tls_accept(struct ssl_ctx_st *);
/*
 * An SSL object for the client side, with SNI and the certificate name
 * check for host, or for t->server_name when set; sess (may be NULL) is
 * offered for resumption.
 */
struct ssl_st	*tls_connect(const struct sw_tls *t, const char *host,
		    struct ssl_session_st *sess);

/*
 * The questions below take conn_ssl() of a conn: NULL for a plain one.
 *
 * Send close_notify (handshake done; else nothing): it tells the peer
 * the stream ended whole, so only a clean end may say it.  One
 * non-blocking try, just before the conn is freed.
 */
void	tls_close_notify(struct ssl_st *);
/* Did the TLS handshake complete?  (1 for plain ones, NULL.) */
int	tls_handshake_done(struct ssl_st *);
/*
 * Why a TLS conn failed, from err (conn_ssl_error(): OpenSSL's reason
 * when it failed) and the certificate verification result, into buf.
 * Returns 1 if there was a TLS reason, 0 if none (a plain socket error,
 * or not TLS at all).
 */
int	tls_failure(struct ssl_st *, unsigned long err, char *buf,
	    size_t len);
/*
 * Keep the session for resuming the next connection: replaces *slot
 * when it is resumable.
 */
void	tls_session_keep(struct ssl_st *, struct ssl_session_st **slot);
void	tls_session_free(struct ssl_session_st *);

/*
 * Log a warning unless more than a few such lines were logged in this
 * second (a scan or a broken client must not flood the log); what was
 * held back is counted in the next line.  Any thread.
 */
void	tls_log_limited(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));

#endif
