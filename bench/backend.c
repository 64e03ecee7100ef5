/*
 * backend: a fast stand-in for a capture or target proxy, used by
 * `make run` (demo), the integration tests (fault injection) and the
 * bench (the baseline every proxy is compared with).
 *
 * One thread per -t, each with its own event_base and SO_REUSEPORT
 * listener.  Requests are parsed with llhttp and answered in order;
 * bodies are never kept whole (they are counted and hashed as they
 * stream).  Routes: see usage().
 *
 * With -C/-K it speaks TLS (for the proxy's upstream TLS tests):
 * /_backend/stats also tells the handshakes it did and how many resumed a
 * session, and /_test/echo the SNI name and client certificate subject
 * of its connection (-A CA: client certificates required).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/thread.h>

#include <llhttp.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#define OUT_LOW		(256 * 1024)
#define ECHO_BODY_MAX	4096
#define URL_MAX		8192

enum act {
	A_ROOT, A_SEARCH, A_SCROLL, A_PIT, A_ASYNC, A_BULK, A_OTHER, A_STATS, A_RESET, A_ECHO, A_STATUS,
	A_BYTES, A_CHUNKED, A_EOF, A_DELAY, A_HANG, A_CLOSE, A_RST, A_DIE_BODY,
	A_DIE_CHUNKED, A_GARBAGE, A_SLOW_HEADERS, A_NOTFOUND, A_BAD
};

struct thr {
	pthread_t		 t;
	struct event_base	*base;
	int			 fd;
	uint64_t		 normal;	/* normal requests, for -e */
};

struct conn {
	struct thr		*th;
	struct bufferevent	*bev;
	llhttp_t		 p;
	struct event		*timer;
	char			 url[URL_MAX];
	size_t			 url_len;
	struct evbuffer		*hdrs;		/* echo: JSON header pairs */
	char			 field[256];
	size_t			 field_len;
	int			 in_value;
	int			 nhdrs;
	int			 expect;	/* Expect: 100-continue seen */
	int			 keepalive;
	int			 busy;		/* answer in progress */
	enum act		 act;
	uint64_t		 arg;
	uint64_t		 body_len, fnv;
	char			 body[ECHO_BODY_MAX];
	uint64_t		 left;		/* streaming bytes left */
	int			 stream_chunked;
	int			 close_after;
	struct evbuffer		*pending;	/* -d: answer held back */
};

static const char	*opt_addr = "127.0.0.1", *opt_name = "backend";
static const char	*opt_log, *opt_fail_file;
static int		 opt_port, opt_threads = 1, opt_delay, opt_err_pct;
static int		 opt_err_status = 503, opt_quiet, log_fd = -1;
static uint64_t		 served, conns, handshakes, resumed;
static const char	*opt_cert, *opt_key, *opt_ca;
static SSL_CTX		*tls_ctx;

static uint64_t		 served, contexts;
static llhttp_settings_t settings;
static char		 pattern[65536];

static void	conn_free(struct conn *);
static void	conn_process(struct conn *);
static void	readcb(struct bufferevent *, void *);

/* Append s as a JSON string body (without quotes). */
static void
json_str(struct evbuffer *b, const char *s, size_t n)
{
	size_t i, run = 0;

	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch >= 0x20 && ch != '"' && ch != '\\')
			continue;
		evbuffer_add(b, s + run, i - run);
		if (ch == '"' || ch == '\\')
			evbuffer_add_printf(b, "\\%c", ch);
		else
			evbuffer_add_printf(b, "\\u%04x", ch);
		run = i + 1;
	}
	evbuffer_add(b, s + run, n - run);
}

static int
on_message_begin(llhttp_t *p)
{
	struct conn *c = p->data;

	c->url_len = 0;
	c->field_len = 0;
	c->in_value = 0;
	c->nhdrs = 0;
	c->expect = 0;
	c->body_len = 0;
	c->fnv = 0xcbf29ce484222325ULL;
	if (c->hdrs != NULL)
		evbuffer_drain(c->hdrs, evbuffer_get_length(c->hdrs));
	return 0;
}

static int
on_url(llhttp_t *p, const char *at, size_t n)
{
	struct conn *c = p->data;

	if (c->url_len + n >= URL_MAX)
		return -1;
	memcpy(c->url + c->url_len, at, n);
	c->url_len += n;
	c->url[c->url_len] = '\0';
	return 0;
}

static int
on_header_field(llhttp_t *p, const char *at, size_t n)
{
	struct conn *c = p->data;

	if (c->in_value || c->field_len == 0) {
		/* A new header: close the previous pair, open this one. */
		if (c->hdrs != NULL)
			evbuffer_add_printf(c->hdrs, "%s[\"",
			    c->in_value ? "\"]," : c->nhdrs ? "\",\"\"]," : "");
		c->in_value = 0;
		c->field_len = 0;
		c->nhdrs++;
	}
	if (c->hdrs != NULL)
		json_str(c->hdrs, at, n);
	if (c->field_len + n < sizeof(c->field)) {
		memcpy(c->field + c->field_len, at, n);
		c->field_len += n;
		c->field[c->field_len] = '\0';
	}
	return 0;
}

static int
on_header_value(llhttp_t *p, const char *at, size_t n)
{
	struct conn *c = p->data;

	if (!c->in_value) {
		c->in_value = 1;
		if (c->hdrs != NULL)
			evbuffer_add(c->hdrs, "\",\"", 3);
	}
	if (c->hdrs != NULL)
		json_str(c->hdrs, at, n);
	if (strcasecmp(c->field, "expect") == 0 && n >= 12 &&
	    strncasecmp(at, "100-continue", 12) == 0)
		c->expect = 1;
	return 0;
}

/* Echo: the SNI name and client certificate subject of a TLS connection. */
static void
echo_tls(struct conn *c, struct evbuffer *b)
{
	SSL		*ssl = bufferevent_openssl_get_ssl(c->bev);
	X509		*peer;
	const char	*sni;
	char		 subject[256] = "";

	if (ssl == NULL)
		return;
	sni = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
	if ((peer = SSL_get_peer_certificate(ssl)) != NULL) {
		X509_NAME_oneline(X509_get_subject_name(peer), subject,
		    sizeof(subject));
		X509_free(peer);
	}
	evbuffer_add(b, ",\"tls_sni\":\"", 12);
	json_str(b, sni ? sni : "", sni ? strlen(sni) : 0);
	evbuffer_add(b, "\",\"tls_client\":\"", 16);
	json_str(b, subject, strlen(subject));
	evbuffer_add(b, "\"", 1);
}

/* Pick the route from the URL. */
static enum act
route(struct conn *c, uint64_t *arg)
{
	const char	*u = c->url;
	char		*end;
	static const struct { const char *pfx; enum act a; } num[] = {
		{ "/_test/status/", A_STATUS }, { "/_test/bytes/", A_BYTES },
		{ "/_test/chunked/", A_CHUNKED }, { "/_test/eof/", A_EOF },
		{ "/_test/delay/", A_DELAY },
		{ "/_test/slow-headers/", A_SLOW_HEADERS },
	};
	static const struct { const char *path; enum act a; } fixed[] = {
		{ "/_test/echo", A_ECHO }, { "/_test/hang", A_HANG },
		{ "/_test/close", A_CLOSE }, { "/_test/reset", A_RST },
		{ "/_test/die-mid-body", A_DIE_BODY },
		{ "/_test/die-mid-chunked", A_DIE_CHUNKED },
		{ "/_test/garbage", A_GARBAGE },
		{ "/_backend/stats", A_STATS }, { "/_backend/reset", A_RESET },
	};

	*arg = 0;
	for (size_t i = 0; i < sizeof(num) / sizeof(num[0]); i++) {
		size_t l = strlen(num[i].pfx);

		if (strncmp(u, num[i].pfx, l) == 0) {
			*arg = strtoull(u + l, &end, 10);
			return end == u + l ? A_BAD : num[i].a;
		}
	}
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		size_t l = strlen(fixed[i].path);

		if (strncmp(u, fixed[i].path, l) == 0 &&
		    (u[l] == '\0' || u[l] == '?'))
			return fixed[i].a;
	}
	if (strncmp(u, "/_test/", 7) == 0)
		return A_NOTFOUND;
	if (strstr(u, "/_search/scroll") != NULL)
		return A_SCROLL;
	if (c->p.method == HTTP_POST && (strstr(u, "/_search/point_in_time") ||
	    strstr(u, "/_pit")))
		return A_PIT;
	if (strstr(u, "/_async_search") != NULL)
		return A_ASYNC;
	if (strstr(u, "/_search") != NULL)
		return A_SEARCH;
	if (strstr(u, "/_bulk") != NULL)
		return A_BULK;
	if (strcmp(u, "/") == 0 || strncmp(u, "/?", 2) == 0)
		return A_ROOT;
	return A_OTHER;
}

static int
on_headers_complete(llhttp_t *p)
{
	struct conn *c = p->data;

	c->act = route(c, &c->arg);
	if (c->hdrs != NULL && c->nhdrs > 0)	/* close the last pair */
		evbuffer_add(c->hdrs, c->in_value ? "\"]" : "\",\"\"]",
		    c->in_value ? 2 : 5);
	if (log_fd != -1) {
		char line[URL_MAX + 32];
		int n = snprintf(line, sizeof(line), "%s %s\n",
		    llhttp_method_name(p->method), c->url);
		if (n > 0 && write(log_fd, line, (size_t)n) < 0)
			perror("backend: request log");
	}
	if (c->expect)
		evbuffer_add(bufferevent_get_output(c->bev),
		    "HTTP/1.1 100 Continue\r\n\r\n", 25);
	return 0;
}

static int
on_body(llhttp_t *p, const char *at, size_t n)
{
	struct conn *c = p->data;

	if (c->act == A_ECHO || c->act == A_SCROLL || c->act == A_SEARCH) {
		for (size_t i = 0; c->act == A_ECHO && i < n; i++) {
			c->fnv ^= (unsigned char)at[i];
			c->fnv *= 0x100000001b3ULL;
		}
		if (c->body_len < ECHO_BODY_MAX)
			memcpy(c->body + c->body_len, at,
			    n < ECHO_BODY_MAX - c->body_len ? n :
			    ECHO_BODY_MAX - c->body_len);
	}
	c->body_len += n;
	return 0;
}

static int
on_message_complete(llhttp_t *p)
{
	return HPE_PAUSED;	/* answer before parsing the next request */
}

/* Write a complete small response. */
static void
respond(struct conn *c, int status, const char *reason, struct evbuffer *body)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);
	size_t n = body ? evbuffer_get_length(body) : 0;

	evbuffer_add_printf(out, "HTTP/1.1 %d %s\r\nX-Backend: %s\r\n", status,
	    reason, opt_name);
	if (status != 204 && status != 304)
		evbuffer_add_printf(out, "Content-Type: application/json\r\n"
		    "Content-Length: %zu\r\n", n);
	evbuffer_add_printf(out, "%s\r\n", c->keepalive ? "" :
	    "Connection: close\r\n");
	if (body != NULL && status != 204 && status != 304 &&
	    c->p.method != HTTP_HEAD)
		evbuffer_add_buffer(out, body);
}

/* Refill the output while a streamed answer has bytes left. */
static void
stream_more(struct conn *c)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);

	while (c->left > 0 && evbuffer_get_length(out) < OUT_LOW * 2) {
		size_t n = c->left < sizeof(pattern) ? (size_t)c->left :
		    sizeof(pattern);

		if (c->stream_chunked) {
			n = n > 16384 ? 16384 : n;
			evbuffer_add_printf(out, "%zx\r\n", n);
			evbuffer_add_reference(out, pattern, n, NULL, NULL);
			evbuffer_add(out, "\r\n", 2);
		} else
			evbuffer_add_reference(out, pattern, n, NULL, NULL);
		c->left -= n;
	}
	if (c->left == 0 && c->busy) {
		if (c->stream_chunked)
			evbuffer_add(out, "0\r\n\r\n", 5);
		c->busy = 0;
	}
}

/*
 * Search contexts, as a cluster keeps them: a scroll or PIT id names the
 * backend that made it, and continuing it anywhere else is a 404.
 * Returns 0 when it wrote the answer, -1 for a plain search.
 */
static int
search_context(struct conn *c, struct evbuffer *b, int *status)
{
	char		 mine[80];
	const char	*body = c->body, *u = c->url;
	size_t		 blen = c->body_len < ECHO_BODY_MAX ? c->body_len :
			    ECHO_BODY_MAX;
	int		 n;

	if (c->act == A_PIT) {
		evbuffer_add_printf(b, "{\"pit_id\":\"pit-%s-%" PRIu64 "\","
		    "\"_shards\":{\"total\":1,\"successful\":1,\"skipped\":0,"
		    "\"failed\":0},\"creation_time\":0}\n", opt_name,
		    __atomic_add_fetch(&contexts, 1, __ATOMIC_RELAXED));
		return 0;
	}
	if (c->act == A_SEARCH && strstr(u, "scroll=") != NULL) {
		evbuffer_add_printf(b, "{\"_scroll_id\":\"scroll-%s-%" PRIu64
		    "\",\"took\":1,\"hits\":{\"hits\":[{\"_source\":{"
		    "\"served_by\":\"%s\"}}]}}\n", opt_name,
		    __atomic_add_fetch(&contexts, 1, __ATOMIC_RELAXED), opt_name);
		return 0;
	}
	if (c->act == A_ASYNC && c->p.method == HTTP_POST) {
		evbuffer_add_printf(b, "{\"id\":\"async-%s-%" PRIu64 "\","
		    "\"is_partial\":false,\"is_running\":false,\"response\":"
		    "{\"hits\":{\"hits\":[{\"_source\":{\"served_by\":\"%s\"}}]}}}\n",
		    opt_name, __atomic_add_fetch(&contexts, 1, __ATOMIC_RELAXED),
		    opt_name);
		return 0;
	}
	n = snprintf(mine, sizeof(mine), "%s-%s-", c->act == A_SCROLL ?
	    "scroll" : c->act == A_ASYNC ? "async" : "pit", opt_name);
	if (c->act == A_SEARCH && memmem(body, blen, "\"pit\"", 5) == NULL)
		return -1;
	if (memmem(body, blen, mine, (size_t)n) == NULL &&
	    strstr(u, mine) == NULL) {
		*status = 404;
		evbuffer_add_printf(b, "{\"error\":{\"type\":"
		    "\"search_context_missing_exception\",\"reason\":\"No "
		    "search context found on %s\"},\"status\":404}\n", opt_name);
		return 0;
	}
	if ((c->act == A_SCROLL || c->act == A_ASYNC) &&
	    c->p.method == HTTP_DELETE) {
		evbuffer_add_printf(b, "{\"succeeded\":true,\"num_freed\":1}\n");
		return 0;
	}
	evbuffer_add_printf(b, "{\"took\":1,\"hits\":{\"hits\":[{\"_source\":"
	    "{\"served_by\":\"%s\"}}]}}\n", opt_name);
	return 0;
}

/* Answer the request that just completed.  Returns -1 if c was freed. */
static int
answer(struct conn *c)
{
	struct evbuffer	*b = evbuffer_new();
	struct evbuffer	*out = bufferevent_get_output(c->bev);
	int		 status = 200, fd;
	struct linger	 lg = { 1, 0 };

	if (c->act != A_STATS && c->act != A_RESET)
		__atomic_add_fetch(&served, 1, __ATOMIC_RELAXED);
	/* -F: while the file exists, every normal request fails with -E. */
	if (c->act <= A_OTHER && opt_fail_file != NULL &&
	    access(opt_fail_file, F_OK) == 0) {
		if (opt_err_status == 429)
			evbuffer_add_printf(b, "{\"error\":{\"root_cause\":[{"
			    "\"type\":\"rejected_execution_exception\","
			    "\"reason\":\"rejected execution (queue capacity "
			    "1000)\"}],\"type\":\"rejected_execution_"
			    "exception\",\"reason\":\"rejected execution "
			    "(queue capacity 1000)\"},\"status\":429}");
		else
			evbuffer_add_printf(b, "{\"error\":{\"type\":"
			    "\"injected\",\"reason\":\"injected by -F\"},"
			    "\"status\":%d}", opt_err_status);
		respond(c, opt_err_status, opt_err_status == 429 ?
		    "Too Many Requests" : "Injected", b);
		evbuffer_free(b);
		return 0;
	}
	if (c->act <= A_OTHER && opt_err_pct > 0) {
		uint64_t k = ++c->th->normal;

		if (k * (uint64_t)opt_err_pct / 100 !=
		    (k - 1) * (uint64_t)opt_err_pct / 100) {
			evbuffer_add_printf(b, "{\"error\":{\"type\":\"injected\","
			    "\"reason\":\"injected by -e\"},\"status\":%d}",
			    opt_err_status);
			respond(c, opt_err_status, "Injected", b);
			evbuffer_free(b);
			return 0;
		}
	}
	switch (c->act) {
	case A_ROOT:
		evbuffer_add_printf(b, "{\"name\":\"%s\",\"cluster_name\":\"%s\","
		    "\"version\":{\"number\":\"2.11.0\",\"distribution\":"
		    "\"opensearch\"},\"tagline\":\"The OpenSearch Project: "
		    "https://opensearch.org/\"}\n", opt_name, opt_name);
		break;
	case A_SCROLL:
	case A_PIT:
	case A_ASYNC:
	case A_SEARCH:
		if (search_context(c, b, &status) == 0)
			break;
		evbuffer_add_printf(b, "{\"took\":1,\"timed_out\":false,\"_shards\":"
		    "{\"total\":1,\"successful\":1,\"skipped\":0,\"failed\":0},"
		    "\"hits\":{\"total\":{\"value\":1,\"relation\":\"eq\"},"
		    "\"hits\":[{\"_index\":\"demo\",\"_id\":\"1\",\"_source\":"
		    "{\"served_by\":\"%s\"}}]}}\n", opt_name);
		break;
	case A_BULK:
		evbuffer_add_printf(b, "{\"took\":1,\"errors\":false,\"items\":[],"
		    "\"bytes\":%" PRIu64 "}\n", c->body_len);
		break;
	case A_OTHER:
		evbuffer_add_printf(b, "{\"name\":\"%s\",\"path\":\"", opt_name);
		json_str(b, c->url, c->url_len);
		evbuffer_add(b, "\"}\n", 3);
		break;
	case A_STATS:
		evbuffer_add_printf(b, "{\"name\":\"%s\",\"requests\":%" PRIu64
		    ",\"connections\":%" PRIu64 ",\"tls_handshakes\":%" PRIu64
		    ",\"tls_resumed\":%" PRIu64 "}\n", opt_name,
		    __atomic_load_n(&served, __ATOMIC_RELAXED),
		    __atomic_load_n(&conns, __ATOMIC_RELAXED),
		    __atomic_load_n(&handshakes, __ATOMIC_RELAXED),
		    __atomic_load_n(&resumed, __ATOMIC_RELAXED));
		break;
	case A_RESET:
		__atomic_store_n(&served, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&conns, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&handshakes, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&resumed, 0, __ATOMIC_RELAXED);
		evbuffer_add_printf(b, "{\"acknowledged\":true}\n");
		break;
	case A_ECHO:
		evbuffer_add_printf(b, "{\"method\":\"%s\",\"url\":\"",
		    llhttp_method_name(c->p.method));
		json_str(b, c->url, c->url_len);
		evbuffer_add_printf(b, "\",\"version\":\"%d.%d\",\"headers\":[",
		    c->p.http_major, c->p.http_minor);
		evbuffer_add_buffer(b, c->hdrs);
		evbuffer_add_printf(b, "],\"chunked\":%s,\"body_len\":%" PRIu64
		    ",\"body_fnv1a64\":\"%016" PRIx64 "\"",
		    (c->p.flags & F_CHUNKED) ? "true" : "false", c->body_len,
		    c->fnv);
		if (c->body_len <= ECHO_BODY_MAX) {
			evbuffer_add(b, ",\"body\":\"", 9);
			json_str(b, c->body, (size_t)c->body_len);
			evbuffer_add(b, "\"", 1);
		}
		echo_tls(c, b);
		evbuffer_add(b, "}\n", 2);
		break;
	case A_STATUS:
		status = (int)c->arg;
		if (status < 200 || status > 599) {
			status = 400;
			evbuffer_add_printf(b, "{\"error\":\"status out of range\"}\n");
		} else if (status != 204 && status != 304)
			evbuffer_add_printf(b, "{\"status\":%d}\n", status);
		break;
	case A_BYTES:
	case A_CHUNKED:
		c->left = c->arg;
		c->stream_chunked = c->act == A_CHUNKED;
		c->busy = 1;
		evbuffer_add_printf(out, "HTTP/1.1 200 OK\r\nX-Backend: %s\r\n"
		    "Content-Type: application/octet-stream\r\n", opt_name);
		if (c->stream_chunked)
			evbuffer_add_printf(out, "Transfer-Encoding: chunked\r\n");
		else
			evbuffer_add_printf(out, "Content-Length: %" PRIu64 "\r\n",
			    c->arg);
		evbuffer_add_printf(out, "%s\r\n", c->keepalive ? "" :
		    "Connection: close\r\n");
		if (c->p.method == HTTP_HEAD) {
			c->left = 0;
			c->busy = 0;
		} else
			stream_more(c);
		evbuffer_free(b);
		return 0;
	case A_EOF:
		c->left = c->arg;
		c->stream_chunked = 0;
		c->busy = 1;
		c->close_after = 1;
		evbuffer_add_printf(out, "HTTP/1.1 200 OK\r\nX-Backend: %s\r\n"
		    "Connection: close\r\n\r\n", opt_name);
		stream_more(c);
		evbuffer_free(b);
		return 0;
	case A_DELAY:
	case A_SLOW_HEADERS: {
		struct timeval tv = { (time_t)(c->arg / 1000),
		    (suseconds_t)(c->arg % 1000) * 1000 };

		c->busy = 1;
		if (c->act == A_SLOW_HEADERS)
			evbuffer_add(out, "HTTP/1.1 200 OK\r\n", 17);
		evtimer_add(c->timer, &tv);
		evbuffer_free(b);
		return 0;
	}
	case A_HANG:
		c->busy = 1;
		evbuffer_free(b);
		return 0;
	case A_CLOSE:
		evbuffer_free(b);
		conn_free(c);
		return -1;
	case A_RST:
		fd = bufferevent_getfd(c->bev);
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		evbuffer_free(b);
		conn_free(c);
		return -1;
	case A_DIE_BODY:
		evbuffer_add_printf(out, "HTTP/1.1 200 OK\r\nX-Backend: %s\r\n"
		    "Content-Length: 100000\r\n\r\n", opt_name);
		evbuffer_add(out, pattern, 1000);
		c->close_after = 1;
		c->keepalive = 0;
		evbuffer_free(b);
		return 0;
	case A_DIE_CHUNKED:
		evbuffer_add_printf(out, "HTTP/1.1 200 OK\r\nX-Backend: %s\r\n"
		    "Transfer-Encoding: chunked\r\n\r\n3e8\r\n", opt_name);
		evbuffer_add(out, pattern, 1000);
		evbuffer_add(out, "\r\n", 2);
		c->close_after = 1;
		c->keepalive = 0;
		evbuffer_free(b);
		return 0;
	case A_GARBAGE:
		evbuffer_add(out, "THIS IS NOT HTTP\r\n\r\n", 20);
		c->close_after = 1;
		c->keepalive = 0;
		evbuffer_free(b);
		return 0;
	case A_NOTFOUND:
		status = 404;
		evbuffer_add_printf(b, "{\"error\":\"no such test route\"}\n");
		break;
	case A_BAD:
		status = 400;
		evbuffer_add_printf(b, "{\"error\":\"bad number in path\"}\n");
		break;
	}
	if (c->act <= A_OTHER && opt_delay > 0) {
		/* -d: hold the answer back on a timer, never sleep. */
		struct timeval tv = { opt_delay / 1000, (opt_delay % 1000) * 1000 };

		c->pending = b;
		c->busy = 1;
		evtimer_add(c->timer, &tv);
		return 0;
	}
	respond(c, status, status == 200 ? "OK" : "Status", b);
	evbuffer_free(b);
	return 0;
}

/* Delay elapsed: finish the pending answer. */
static void
timercb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;

	c->busy = 0;
	if (c->pending != NULL) {
		respond(c, 200, "OK", c->pending);
		evbuffer_free(c->pending);
		c->pending = NULL;
	} else if (c->act == A_SLOW_HEADERS) {
		evbuffer_add_printf(bufferevent_get_output(c->bev),
		    "X-Backend: %s\r\nContent-Length: 3\r\n%s\r\nok\n", opt_name,
		    c->keepalive ? "" : "Connection: close\r\n");
	} else {
		struct evbuffer *b = evbuffer_new();

		evbuffer_add_printf(b, "{\"name\":\"%s\",\"delayed_ms\":%" PRIu64
		    "}\n", opt_name, c->arg);
		respond(c, 200, "OK", b);
		evbuffer_free(b);
	}
	if (!c->keepalive)
		c->close_after = 1;
	conn_process(c);
}

/* Parse and answer requests until one is pending or input runs out. */
static void
conn_process(struct conn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);

	while (!c->busy && !c->close_after) {
		struct evbuffer_iovec	v;
		const char		*d = "";
		size_t			 n = 0, used;
		llhttp_errno_t		 e;

		if (evbuffer_peek(in, -1, NULL, &v, 1) > 0) {
			d = v.iov_base;
			n = v.iov_len;
		}
		e = llhttp_execute(&c->p, d, n);
		used = e == HPE_OK ? n : (size_t)(llhttp_get_error_pos(&c->p) - d);
		evbuffer_drain(in, used);
		if (e == HPE_PAUSED) {
			llhttp_resume(&c->p);
			c->keepalive = llhttp_should_keep_alive(&c->p);
			if (answer(c) == -1)
				return;
			if (!c->keepalive)
				c->close_after = 1;
			continue;
		}
		if (e != HPE_OK) {
			struct evbuffer *b = evbuffer_new();

			evbuffer_add_printf(b, "{\"error\":\"bad request\"}\n");
			c->keepalive = 0;
			respond(c, 400, "Bad Request", b);
			evbuffer_free(b);
			c->close_after = 1;
			break;
		}
		if (n == 0 || evbuffer_get_length(in) == 0)
			break;
	}
	if (c->close_after && !c->busy &&
	    evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
		conn_free(c);
}

static void
readcb(struct bufferevent *bev, void *arg)
{
	conn_process(arg);
}

static void
writecb(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;

	if (c->left > 0) {
		stream_more(c);
		if (!c->busy)
			conn_process(c);
		return;
	}
	if (c->close_after && !c->busy &&
	    evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		conn_free(c);
	else if (!c->busy)
		conn_process(c);
}

static void
eventcb(struct bufferevent *bev, short what, void *arg)
{
	if (what & BEV_EVENT_CONNECTED) {	/* a TLS handshake finished */
		__atomic_add_fetch(&handshakes, 1, __ATOMIC_RELAXED);
		if (SSL_session_reused(bufferevent_openssl_get_ssl(bev)))
			__atomic_add_fetch(&resumed, 1, __ATOMIC_RELAXED);
		return;
	}
	conn_free(arg);
}

/* -C/-K/-A: the server context, or exit. */
static void
tls_setup(void)
{
	if ((tls_ctx = SSL_CTX_new(TLS_server_method())) == NULL ||
	    SSL_CTX_use_certificate_chain_file(tls_ctx, opt_cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(tls_ctx, opt_key ? opt_key : opt_cert,
	    SSL_FILETYPE_PEM) != 1 ||
	    (opt_ca != NULL &&
	    SSL_CTX_load_verify_locations(tls_ctx, opt_ca, NULL) != 1)) {
		fprintf(stderr, "backend: TLS setup failed:\n");
		ERR_print_errors_fp(stderr);
		exit(1);
	}
	if (opt_ca != NULL)
		SSL_CTX_set_verify(tls_ctx, SSL_VERIFY_PEER |
		    SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
#ifdef SSL_OP_IGNORE_UNEXPECTED_EOF
	SSL_CTX_set_options(tls_ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
#endif
	SSL_CTX_set_session_id_context(tls_ctx, (const unsigned char *)"bk", 2);
}

static void
conn_free(struct conn *c)
{
	if (c->timer != NULL)
		event_free(c->timer);
	if (c->hdrs != NULL)
		evbuffer_free(c->hdrs);
	if (c->pending != NULL)
		evbuffer_free(c->pending);
	bufferevent_free(c->bev);
	free(c);
}

static void
acceptcb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
    int len, void *arg)
{
	struct thr	*th = arg;
	struct conn	*c;
	int		 one = 1;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		close(fd);
		return;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	__atomic_add_fetch(&conns, 1, __ATOMIC_RELAXED);
	c->th = th;
	if (tls_ctx != NULL) {
		c->bev = bufferevent_openssl_socket_new(th->base, fd,
		    SSL_new(tls_ctx), BUFFEREVENT_SSL_ACCEPTING,
		    BEV_OPT_CLOSE_ON_FREE);
		if (c->bev != NULL)
			bufferevent_openssl_set_allow_dirty_shutdown(c->bev, 1);
	} else
		c->bev = bufferevent_socket_new(th->base, fd,
		    BEV_OPT_CLOSE_ON_FREE);
	if (c->bev == NULL) {
		free(c);
		close(fd);
		return;
	}
	c->timer = evtimer_new(th->base, timercb, c);
	c->hdrs = evbuffer_new();
	llhttp_init(&c->p, HTTP_REQUEST, &settings);
	c->p.data = c;
	bufferevent_setcb(c->bev, readcb, writecb, eventcb, c);
	bufferevent_setwatermark(c->bev, EV_WRITE, OUT_LOW, 0);
	bufferevent_setwatermark(c->bev, EV_READ, 0, 1024 * 1024);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
}

static void *
thr_main(void *arg)
{
	struct thr *th = arg;

	event_base_dispatch(th->base);
	return NULL;
}

static void
stopcb(evutil_socket_t sig, short what, void *arg)
{
	exit(0);
}

static void
usage(FILE *f)
{
	fprintf(f,
"usage: backend -p PORT [-a ADDR] [-n NAME] [-t THREADS] [-d DELAY_MS]\n"
"               [-e ERROR_PCT] [-E STATUS] [-F FAIL_FILE] [-L REQUEST_LOG] [-q]\n"
"               [-C CERT [-K KEY] [-A CLIENT_CA]]\n"
"A keep-alive HTTP/1.1 server that stands in for a search cluster.\n"
"  GET /              OpenSearch-like info naming -n\n"
"  */_search*         a small hits answer      */_bulk*  reads the body, says its size\n"
"  */_search?scroll=  also a _scroll_id naming -n; _search/scroll with another's: 404\n"
"  POST */_search/point_in_time, */_pit   a pit_id naming -n; a search with another's: 404\n"
"  POST */_async_search  an id naming -n; GET/DELETE _async_search/<another's>: 404\n"
"  /_backend/stats    requests served          POST /_backend/reset  zero it\n"
"  /_test/echo        method, url, headers, body length and FNV-1a hash\n"
"  /_test/status/N  /_test/bytes/N  /_test/chunked/N  /_test/eof/N  /_test/delay/MS\n"
"  /_test/hang  /_test/close  /_test/reset  /_test/die-mid-body\n"
"  /_test/die-mid-chunked  /_test/garbage  /_test/slow-headers/MS\n"
"-e PCT answers exactly PCT%% of normal requests (per thread) with -E (503).\n"
"-F FILE answers every normal request with -E while FILE exists (tests turn\n"
"  a healthy backend bad mid-run); -E 429 sends OpenSearch's\n"
"  rejected_execution_exception body.\n"
"-C/-K speak TLS with this PEM certificate chain and key; -A also requires\n"
"client certificates signed by CLIENT_CA.  /_backend/stats then tells\n"
"tls_handshakes and tls_resumed; /_test/echo the connection's tls_sni and\n"
"tls_client (certificate subject).\n");
}


/*
 * A worker thread's event base.  With -d, the delay must hold against a
 * precise clock: libevent's default CLOCK_MONOTONIC_COARSE lags by up
 * to a tick (4 ms at HZ=250), so a 20 ms answer could come 16 ms after
 * the request, and tests bound latency from below by the delay.
 */
static struct event_base *
backend_base(void)
{
	struct event_config	*cfg;
	struct event_base	*base;

	if (opt_delay <= 0)
		return event_base_new();
	if ((cfg = event_config_new()) == NULL)
		return NULL;
	event_config_set_flag(cfg, EVENT_BASE_FLAG_PRECISE_TIMER);
	base = event_base_new_with_config(cfg);
	event_config_free(cfg);
	return base;
}
int
main(int argc, char *argv[])
{
	struct sockaddr_in	 sin = { .sin_family = AF_INET };
	struct thr		*th;
	struct event_base	*mb;
	struct event		*s1, *s2;
	int			 ch, one = 1;

	while ((ch = getopt(argc, argv, "a:p:n:t:d:e:E:F:L:qhC:K:A:")) != -1) {
		switch (ch) {
		case 'a': opt_addr = optarg; break;
		case 'p': opt_port = atoi(optarg); break;
		case 'n': opt_name = optarg; break;
		case 't': opt_threads = atoi(optarg); break;
		case 'd': opt_delay = atoi(optarg); break;
		case 'e': opt_err_pct = atoi(optarg); break;
		case 'E': opt_err_status = atoi(optarg); break;
		case 'F': opt_fail_file = optarg; break;
		case 'L': opt_log = optarg; break;
		case 'q': opt_quiet = 1; break;
		case 'C': opt_cert = optarg; break;
		case 'K': opt_key = optarg; break;
		case 'A': opt_ca = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (opt_port <= 0 || opt_port > 65535 || opt_threads < 1 ||
	    opt_threads > 64 || opt_err_pct < 0 || opt_err_pct > 100 ||
	    inet_pton(AF_INET, opt_addr, &sin.sin_addr) != 1 ||
	    strlen(opt_name) > 64 || strpbrk(opt_name, "\"\\") != NULL) {
		fprintf(stderr, "backend: bad arguments\n");
		usage(stderr);
		return 2;
	}
	if (opt_log != NULL && (log_fd = open(opt_log, O_WRONLY | O_CREAT |
	    O_APPEND | O_CLOEXEC, 0644)) == -1) {
		perror(opt_log);
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	if ((opt_key != NULL || opt_ca != NULL) && opt_cert == NULL) {
		fprintf(stderr, "backend: -K and -A need -C\n");
		return 2;
	}
	if (opt_cert != NULL)
		tls_setup();
	memset(pattern, 'x', sizeof(pattern));
	llhttp_settings_init(&settings);
	settings.on_message_begin = on_message_begin;
	settings.on_url = on_url;
	settings.on_header_field = on_header_field;
	settings.on_header_value = on_header_value;
	settings.on_headers_complete = on_headers_complete;
	settings.on_body = on_body;
	settings.on_message_complete = on_message_complete;
	sin.sin_port = htons((uint16_t)opt_port);
	if ((th = calloc((size_t)opt_threads, sizeof(*th))) == NULL)
		return 1;
	for (int i = 0; i < opt_threads; i++) {
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

		if (fd == -1 ||
		    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
		    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) ||
		    bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
		    listen(fd, 1024) == -1) {
			fprintf(stderr, "backend: cannot listen on %s:%d: %s\n",
			    opt_addr, opt_port, strerror(errno));
			return 1;
		}
		th[i].base = backend_base();
		if (th[i].base == NULL || evconnlistener_new(th[i].base, acceptcb, &th[i],
		    LEV_OPT_CLOSE_ON_FREE, -1, fd) == NULL)
			return 1;
	}
	for (int i = 0; i < opt_threads; i++)
		pthread_create(&th[i].t, NULL, thr_main, &th[i]);
	if (!opt_quiet) {
		printf("backend %s listening on %s:%d\n", opt_name, opt_addr,
		    opt_port);
		fflush(stdout);
	}
	mb = event_base_new();
	s1 = evsignal_new(mb, SIGTERM, stopcb, NULL);
	s2 = evsignal_new(mb, SIGINT, stopcb, NULL);
	evsignal_add(s1, NULL);
	evsignal_add(s2, NULL);
	event_base_dispatch(mb);
	return 0;
}
