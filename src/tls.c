/*
 * tls: building OpenSSL contexts from the config, and the SSL objects
 * that carry TLS on both sides (conn.c runs them on its sockets).
 *
 * Control thread: tls_config_load(), tls_ctx_*().  Worker threads:
 * tls_accept(), tls_connect() and the helpers that read a connection's
 * state; they only read the contexts.
 *
 * Choices made once here, for every context:
 *  - TLS 1.2 at least (1.3 with tls_min_version = 1.3); only AEAD
 *    ciphers with forward secrecy for 1.2; OpenSSL's 1.3 suites.
 *  - No compression, no renegotiation (both were attack surfaces, and
 *    HTTP/1.1 needs neither).
 *  - SSL_MODE_RELEASE_BUFFERS: an idle keep-alive connection (client or
 *    pooled upstream) holds no 34 KiB of TLS buffers.
 *  - An EOF without close_notify is an EOF, not an error: many HTTP
 *    clients and servers close that way, and a close-delimited body is
 *    exactly as trustworthy as over plain TCP.
 *  - Listener resumption with stateless session tickets (1.2 and 1.3),
 *    no server-side cache: nothing shared to lock between workers.  A
 *    reload makes new ticket keys, so clients do one full handshake.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "switchover/config.h"
#include "switchover/log.h"
#include "switchover/tls.h"

/* TLS 1.2 suites: ECDHE key exchange and AEAD only (Mozilla "intermediate"). */
#define TLS12_CIPHERS \
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:" \
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:" \
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"

#define LOG_BURST	10	/* tls_log_limited lines per second */

static const unsigned char alpn_http11[] = "\x08http/1.1";

/* The reason of OpenSSL's oldest queued error, and clear the queue. */
static const char *
ossl_reason(char *buf, size_t len)
{
	unsigned long	 e = ERR_get_error();
	const char	*r;

	ERR_clear_error();
	if (e == 0)
		return "unknown error";
	if ((r = ERR_reason_error_string(e)) != NULL)
		return r;
	ERR_error_string_n(e, buf, len);
	return buf;
}

/* Say "[listener NAME]" or "[backend NAME]" for messages. */
static void
section_name(char *buf, size_t len, const char *kind, const char *name)
{
	snprintf(buf, len, "[%s%s%s]", kind, *name ? " " : "", name);
}

/* Settings shared by both sides.  0, or -1 with an error added. */
static int
ctx_common(SSL_CTX *ctx, const struct sw_tls *t, const char *file,
    const char *sect, struct config_errors *errs)
{
	char buf[256];

	SSL_CTX_set_min_proto_version(ctx, t->min_version == 13 ?
	    TLS1_3_VERSION : TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION
#ifdef SSL_OP_IGNORE_UNEXPECTED_EOF
	    | SSL_OP_IGNORE_UNEXPECTED_EOF
#endif
	    );
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	if (SSL_CTX_set_cipher_list(ctx, t->ciphers ? t->ciphers :
	    TLS12_CIPHERS) != 1) {
		config_error(errs, file, t->line, "%s tls_ciphers: \"%s\": %s",
		    sect, t->ciphers ? t->ciphers : TLS12_CIPHERS,
		    ossl_reason(buf, sizeof(buf)));
		return -1;
	}
	if (t->ciphersuites != NULL &&
	    SSL_CTX_set_ciphersuites(ctx, t->ciphersuites) != 1) {
		config_error(errs, file, t->line, "%s tls_ciphersuites: \"%s\": "
		    "%s", sect, t->ciphersuites, ossl_reason(buf, sizeof(buf)));
		return -1;
	}
	return 0;
}

/*
 * Load a certificate chain and its key into ctx and check they match.
 * The key may sit in the certificate file (t->key NULL).  0 or -1.
 */
static int
ctx_cert(SSL_CTX *ctx, const struct sw_tls *t, const char *file,
    struct config_errors *errs)
{
	const char	*key = t->key ? t->key : t->cert;
	int		 kline = t->key ? t->key_line : t->cert_line;
	char		 buf[256];

	if (access(t->cert, R_OK) == -1) {
		config_error(errs, file, t->cert_line, "tls_cert: cannot read "
		    "%s: %s", t->cert, strerror(errno));
		return -1;
	}
	if (SSL_CTX_use_certificate_chain_file(ctx, t->cert) != 1) {
		config_error(errs, file, t->cert_line, "tls_cert: %s is not a "
		    "PEM certificate chain: %s", t->cert,
		    ossl_reason(buf, sizeof(buf)));
		return -1;
	}
	if (access(key, R_OK) == -1) {
		config_error(errs, file, kline, "tls_key: cannot read %s: %s",
		    key, strerror(errno));
		return -1;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
		config_error(errs, file, kline, "tls_key: cannot use %s with "
		    "the certificate %s: %s", key, t->cert,
		    ossl_reason(buf, sizeof(buf)));
		return -1;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		config_error(errs, file, kline, "tls_key: %s does not match the "
		    "certificate %s: %s", key, t->cert,
		    ossl_reason(buf, sizeof(buf)));
		return -1;
	}
	return 0;
}

/* ALPN on a listener: HTTP/1.1 if offered; otherwise no ALPN at all. */
static int
alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
    const unsigned char *in, unsigned int inlen, void *arg)
{
	unsigned char *sel;

	if (SSL_select_next_proto(&sel, outlen, alpn_http11,
	    sizeof(alpn_http11) - 1, in, inlen) != OPENSSL_NPN_NEGOTIATED)
		return SSL_TLSEXT_ERR_NOACK;
	*out = sel;
	return SSL_TLSEXT_ERR_OK;
}

/* A listener's context. */
static SSL_CTX *
server_ctx(const struct sw_config *c, const struct sw_listener *l,
    struct config_errors *errs)
{
	SSL_CTX	*ctx;
	char	 sect[64], buf[256];

	section_name(sect, sizeof(sect), "listener", l->name);
	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL) {
		config_error(errs, c->path, l->tls.line, "%s cannot create a "
		    "TLS context: %s", sect, ossl_reason(buf, sizeof(buf)));
		return NULL;
	}
	if (ctx_common(ctx, &l->tls, c->path, sect, errs) == -1 ||
	    ctx_cert(ctx, &l->tls, c->path, errs) == -1)
		goto fail;
	SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_alpn_select_cb(ctx, alpn_select, NULL);
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

/* A backend's context: how to check its servers, and who we are. */
static SSL_CTX *
client_ctx(const struct sw_config *c, const struct sw_backend *b,
    struct config_errors *errs)
{
	const struct sw_tls	*t = &b->tls;
	SSL_CTX			*ctx;
	char			 sect[64], buf[256];

	section_name(sect, sizeof(sect), "backend", b->name);
	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL) {
		config_error(errs, c->path, t->line, "%s cannot create a TLS "
		    "context: %s", sect, ossl_reason(buf, sizeof(buf)));
		return NULL;
	}
	if (ctx_common(ctx, t, c->path, sect, errs) == -1)
		goto fail;
	if (t->cert != NULL && ctx_cert(ctx, t, c->path, errs) == -1)
		goto fail;
	if (t->verify) {
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
		if (t->ca_file != NULL && access(t->ca_file, R_OK) == -1) {
			config_error(errs, c->path, t->ca_line, "tls_ca_file: "
			    "cannot read %s: %s", t->ca_file, strerror(errno));
			goto fail;
		}
		if (t->ca_file != NULL ? SSL_CTX_load_verify_locations(ctx,
		    t->ca_file, NULL) != 1 :
		    SSL_CTX_set_default_verify_paths(ctx) != 1) {
			config_error(errs, c->path, t->ca_file ? t->ca_line :
			    t->line, "%s cannot load %s: %s", sect,
			    t->ca_file ? t->ca_file : "the system CA store",
			    ossl_reason(buf, sizeof(buf)));
			goto fail;
		}
	} else
		SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	/* Sessions are kept per server by the upstream pool, not here. */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT |
	    SSL_SESS_CACHE_NO_INTERNAL_STORE);
	SSL_CTX_set_alpn_protos(ctx, alpn_http11, sizeof(alpn_http11) - 1);
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

int
tls_config_load(struct sw_config *c, struct config_errors *errs)
{
	int rc = 0;

	for (size_t i = 0; i < c->nlisteners; i++) {
		struct sw_tls *t = &c->listeners[i].tls;

		if (!t->enabled || t->ctx != NULL)
			continue;
		if ((t->ctx = server_ctx(c, &c->listeners[i], errs)) == NULL)
			rc = -1;
	}
	for (size_t i = 0; i < c->nbackends; i++) {
		struct sw_backend *b = &c->backends[i];

		if (!b->tls.enabled || b->tls.ctx != NULL)
			continue;
		if ((b->tls.ctx = client_ctx(c, b, errs)) == NULL)
			rc = -1;
		else if (!b->tls.verify)
			log_warn("backend %s: tls_verify = off: its servers' "
			    "certificates are NOT checked, so anyone on the path "
			    "can read and change this traffic", b->name);
	}
	return rc;
}

struct ssl_st *
tls_accept(struct ssl_ctx_st *ctx)
{
	SSL *ssl;

	if ((ssl = SSL_new(ctx)) == NULL) {
		ERR_clear_error();
		errno = ENOMEM;
		return NULL;
	}
	SSL_set_accept_state(ssl);
	return ssl;
}

struct ssl_st *
tls_connect(const struct sw_tls *t, const char *host,
    struct ssl_session_st *sess)
{
	SSL		*ssl;
	const char	*name = t->server_name ? t->server_name : host;
	unsigned char	 ip[16];
	int		 is_ip;

	if ((ssl = SSL_new(t->ctx)) == NULL)
		goto fail;
	/* SNI carries names only (RFC 6066); an address is checked as one. */
	is_ip = inet_pton(AF_INET, name, ip) == 1 ||
	    inet_pton(AF_INET6, name, ip) == 1;
	if (!is_ip && SSL_set_tlsext_host_name(ssl, name) != 1)
		goto fail;
	if (t->verify) {
		SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
		if (is_ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl),
		    name) != 1 : SSL_set1_host(ssl, name) != 1)
			goto fail;
	}
	if (sess != NULL)
		SSL_set_session(ssl, sess);
	SSL_set_connect_state(ssl);
	return ssl;
fail:
	/* Our own shortage, never the server's fault (exchange_connect_failed). */
	ERR_clear_error();
	SSL_free(ssl);
	errno = ENOMEM;
	return NULL;
}

void
tls_close_notify(struct ssl_st *ssl)
{
	if (ssl != NULL && SSL_is_init_finished(ssl) && SSL_shutdown(ssl) < 0)
		ERR_clear_error();
}

int
tls_handshake_done(struct ssl_st *ssl)
{
	return ssl == NULL || SSL_is_init_finished(ssl);
}

int
tls_failure(struct ssl_st *ssl, unsigned long err, char *buf, size_t len)
{
	long		 v;
	const char	*r = NULL;
	char		 tmp[256];

	if (ssl == NULL)
		return 0;
	if (err != 0 && (r = ERR_reason_error_string(err)) == NULL) {
		ERR_error_string_n(err, tmp, sizeof(tmp));
		r = tmp;
	}
	v = SSL_get_verify_result(ssl);
	if (v != X509_V_OK && !SSL_is_init_finished(ssl))
		snprintf(buf, len, "%s%s%s", r ? r : "", r ? ": " : "",
		    X509_verify_cert_error_string(v));
	else if (r != NULL)
		snprintf(buf, len, "%s", r);
	else
		return 0;	/* a socket error: the caller says which */
	return 1;
}

void
tls_session_keep(struct ssl_st *ssl, struct ssl_session_st **slot)
{
	SSL_SESSION *s;

	if (ssl == NULL || (s = SSL_get1_session(ssl)) == NULL)
		return;
	if (s == *slot || !SSL_SESSION_is_resumable(s)) {
		SSL_SESSION_free(s);
		return;
	}
	SSL_SESSION_free(*slot);
	*slot = s;
}

void
tls_session_free(struct ssl_session_st *s)
{
	SSL_SESSION_free(s);	/* NULL is fine */
}

void
tls_log_limited(const char *fmt, ...)
{
	static uint64_t	 window;	/* the second being counted */
	static unsigned	 logged, held;
	struct timespec	 ts;
	uint64_t	 now, cur;
	unsigned	 n;
	va_list		 ap;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (uint64_t)ts.tv_sec;
	cur = __atomic_load_n(&window, __ATOMIC_RELAXED);
	if (now != cur && __atomic_compare_exchange_n(&window, &cur, now, 0,
	    __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
		__atomic_store_n(&logged, 0, __ATOMIC_RELAXED);
		if ((n = __atomic_exchange_n(&held, 0, __ATOMIC_RELAXED)) > 0)
			log_warn("tls: %u more such lines were not logged", n);
	}
	if (__atomic_fetch_add(&logged, 1, __ATOMIC_RELAXED) >= LOG_BURST) {
		__atomic_add_fetch(&held, 1, __ATOMIC_RELAXED);
		return;
	}
	va_start(ap, fmt);
	log_vmsg(LOG_LVL_WARN, fmt, ap);
	va_end(ap);
}
