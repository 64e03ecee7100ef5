/* Unit tests for http: header arenas, hop-by-hop rules, built heads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <cmocka.h>

#include <event2/buffer.h>
#include <llhttp.h>

#include "switchover/http.h"

struct ctx {
	struct http_head h;
};

static int on_url(llhttp_t *p, const char *a, size_t n)
{ return http_head_url(&((struct ctx *)p->data)->h, a, n); }
static int on_field(llhttp_t *p, const char *a, size_t n)
{ return http_head_field(&((struct ctx *)p->data)->h, a, n); }
static int on_value(llhttp_t *p, const char *a, size_t n)
{ return http_head_value(&((struct ctx *)p->data)->h, a, n); }

/* Parse req byte by byte (the worst split) into ctx. */
static int
parse_split(struct ctx *c, const char *req, size_t max)
{
	llhttp_settings_t	s;
	llhttp_t		p;

	llhttp_settings_init(&s);
	s.on_url = on_url;
	s.on_header_field = on_field;
	s.on_header_value = on_value;
	http_head_init(&c->h, max);
	llhttp_init(&p, HTTP_REQUEST, &s);
	p.data = c;
	for (size_t i = 0; req[i]; i++)
		if (llhttp_execute(&p, req + i, 1) != HPE_OK)
			return -1;
	return 0;
}

/* The head as text. */
static char *
drain(struct evbuffer *b)
{
	size_t	 n = evbuffer_get_length(b);
	char	*s = malloc(n + 1);

	evbuffer_remove(b, s, n);
	s[n] = '\0';
	return s;
}

static const char req[] =
    "POST /idx/_search?q=a%20b HTTP/1.1\r\n"
    "Host: search.example:9200\r\n"
    "Connection: keep-alive, X-Secret\r\n"
    "X-Secret: drop me\r\n"
    "Keep-Alive: timeout=5\r\n"
    "Authorization: AWS4-HMAC-SHA256  Credential=x,  Signature=y\r\n"
    "X-Forwarded-For: 10.0.0.1\r\n"
    "X-Forwarded-Proto: https\r\n"
    "Upgrade: h2c\r\n"
    "Content-Length: 2\r\n"
    "\r\n{}";

static void
test_head_split(void **state)
{
	struct ctx c;

	assert_int_equal(parse_split(&c, req, 4096), 0);
	assert_int_equal(c.h.url_len, strlen("/idx/_search?q=a%20b"));
	assert_memory_equal(c.h.buf + c.h.url_off, "/idx/_search?q=a%20b",
	    c.h.url_len);
	assert_int_equal(c.h.nhdrs, 9);
	assert_int_equal(http_head_find(&c.h, "HOST"), 0);
	assert_string_equal(http_hdr_value(&c.h, 0), "search.example:9200");
	assert_int_equal(http_head_count(&c.h, "x-forwarded-for"), 1);
	assert_true(http_head_has_token(&c.h, "connection", "x-secret"));
	assert_false(http_head_has_token(&c.h, "connection", "close"));
	http_head_free(&c.h);
}

static void
test_build_request(void **state)
{
	struct ctx		 c;
	struct evbuffer		*b = evbuffer_new();
	struct http_fwd		 fwd = { "127.0.0.9", "http", "9200" };
	char			*s;

	assert_int_equal(parse_split(&c, req, 4096), 0);
	http_build_request(b, &c.h, "POST", &fwd);
	s = drain(b);
	assert_non_null(strstr(s, "POST /idx/_search?q=a%20b HTTP/1.1\r\n"));
	assert_non_null(strstr(s, "\r\nHost: search.example:9200\r\n"));
	/* Values byte for byte: SigV4 signatures depend on them. */
	assert_non_null(strstr(s, "\r\nAuthorization: AWS4-HMAC-SHA256  "
	    "Credential=x,  Signature=y\r\n"));
	assert_non_null(strstr(s, "\r\nContent-Length: 2\r\n"));
	assert_non_null(strstr(s, "\r\nX-Forwarded-For: 10.0.0.1, 127.0.0.9\r\n"));
	assert_non_null(strstr(s, "\r\nX-Forwarded-Proto: http\r\n"));
	assert_non_null(strstr(s, "\r\nX-Forwarded-Port: 9200\r\n"));
	assert_null(strstr(s, "https"));	/* client's proto replaced */
	assert_null(strstr(s, "X-Secret"));	/* named in Connection */
	assert_null(strstr(s, "Keep-Alive"));
	assert_null(strstr(s, "Connection"));
	assert_null(strstr(s, "Upgrade"));
	assert_int_equal(strcmp(s + strlen(s) - 4, "\r\n\r\n"), 0);
	free(s);
	evbuffer_free(b);
	http_head_free(&c.h);
}

/* Heads are built in one reserved piece: byte-exact output for a head
 * of many headers, with every forwarded line added. */
static void
test_build_exact(void **state)
{
	struct ctx		 c;
	struct evbuffer		*b = evbuffer_new(), *in = evbuffer_new();
	struct evbuffer		*want = evbuffer_new();
	struct http_fwd		 fwd = { "192.168.100.200", "http", "9200" };
	char			*s, *raw, *w;

	evbuffer_add_printf(in, "GET /a HTTP/1.1\r\n");
	evbuffer_add_printf(want, "GET /a HTTP/1.1\r\n");
	for (int i = 0; i < 100; i++) {
		evbuffer_add_printf(in, "X-H%d: v%d  x\r\n", i, i);
		evbuffer_add_printf(want, "X-H%d: v%d  x\r\n", i, i);
	}
	evbuffer_add_printf(in, "\r\n");
	evbuffer_add_printf(want, "X-Forwarded-For: 192.168.100.200\r\n"
	    "X-Forwarded-Proto: http\r\nX-Forwarded-Port: 9200\r\n\r\n");
	raw = drain(in);
	w = drain(want);
	assert_int_equal(parse_split(&c, raw, 65536), 0);
	http_build_request(b, &c.h, "GET", &fwd);
	s = drain(b);
	assert_string_equal(s, w);
	free(s);
	free(w);
	free(raw);
	evbuffer_free(b);
	evbuffer_free(in);
	evbuffer_free(want);
	http_head_free(&c.h);
}

/* A released head keeps no memory; the next head on the thread reuses
 * the same blocks and parses as before. */
static void
test_release_reuse(void **state)
{
	struct ctx	 c;
	char		*buf;
	struct http_hdr	*hdrs;

	assert_int_equal(parse_split(&c, req, 4096), 0);
	buf = c.h.buf;
	hdrs = c.h.hdrs;
	http_head_release(&c.h);
	assert_null(c.h.buf);
	assert_null(c.h.hdrs);
	assert_int_equal(c.h.nhdrs, 0);
	assert_int_equal(parse_split(&c, req, 4096), 0);
	assert_ptr_equal(c.h.buf, buf);
	assert_ptr_equal(c.h.hdrs, hdrs);
	assert_int_equal(c.h.nhdrs, 9);
	assert_string_equal(http_hdr_value(&c.h, 0), "search.example:9200");
	http_head_release(&c.h);
	http_head_cache_free();		/* else LeakSanitizer complains */
	http_head_free(&c.h);
}

static void
test_connection_cannot_strip_framing(void **state)
{
	struct ctx		 c;
	struct evbuffer		*b = evbuffer_new();
	struct http_fwd		 fwd = { NULL, NULL, NULL };
	char			*s;

	assert_int_equal(parse_split(&c, "POST / HTTP/1.1\r\nHost: a\r\n"
	    "Connection: Content-Length, Host\r\nContent-Length: 1\r\n\r\n",
	    4096), 0);
	http_build_request(b, &c.h, "POST", &fwd);
	s = drain(b);
	assert_non_null(strstr(s, "Content-Length: 1\r\n"));
	assert_non_null(strstr(s, "Host: a\r\n"));
	assert_null(strstr(s, "X-Forwarded-For"));
	free(s);
	evbuffer_free(b);
	http_head_free(&c.h);
}

static void
test_limits(void **state)
{
	struct ctx	c;
	char		big[8192];

	memset(big, 0, sizeof(big));
	strcpy(big, "GET / HTTP/1.1\r\nHost: a\r\nX-Big: ");
	memset(big + strlen(big), 'x', 3000);
	strcat(big, "\r\n\r\n");
	assert_int_equal(parse_split(&c, big, 2048), -1);
	assert_true(c.h.overflow);
	http_head_free(&c.h);
}

static void
test_error_response(void **state)
{
	struct evbuffer	*b = evbuffer_new();
	char		*s;

	http_error_response(b, 502, "bad_gateway_exception",
	    "upstream \"x\" closed", HB_CLOSE);
	s = drain(b);
	assert_non_null(strstr(s, "HTTP/1.1 502 Bad Gateway\r\n"));
	assert_non_null(strstr(s, "Connection: close\r\n"));
	assert_non_null(strstr(s, "{\"error\":{\"type\":\"bad_gateway_exception\","
	    "\"reason\":\"upstream \\\"x\\\" closed\"},\"status\":502}"));
	/* Content-Length matches the body. */
	char *body = strstr(s, "\r\n\r\n") + 4;
	char want[64];
	snprintf(want, sizeof(want), "Content-Length: %zu\r\n", strlen(body));
	assert_non_null(strstr(s, want));
	free(s);
	evbuffer_free(b);
}

static void
test_build_response(void **state)
{
	struct ctx		 c;
	struct evbuffer		*b = evbuffer_new();
	char			*s;
	llhttp_settings_t	 st;
	llhttp_t		 p;
	const char		*resp = "HTTP/1.1 200 Fine\r\nTransfer-Encoding: "
	    "chunked\r\nKeep-Alive: x\r\nX-A: 1\r\n\r\n";

	llhttp_settings_init(&st);
	st.on_status = on_url;
	st.on_header_field = on_field;
	st.on_header_value = on_value;
	http_head_init(&c.h, 4096);
	llhttp_init(&p, HTTP_RESPONSE, &st);
	p.data = &c;
	assert_int_equal(llhttp_execute(&p, resp, strlen(resp)), HPE_OK);
	http_build_response(b, &c.h, 200, HB_DROP_TE | HB_CLOSE);
	s = drain(b);
	assert_non_null(strstr(s, "HTTP/1.1 200 Fine\r\n"));
	assert_null(strstr(s, "Transfer-Encoding"));
	assert_null(strstr(s, "Keep-Alive"));
	assert_non_null(strstr(s, "X-A: 1\r\n"));
	assert_non_null(strstr(s, "Connection: close\r\n"));
	free(s);
	evbuffer_free(b);
	http_head_free(&c.h);
}

/* Does head s (lines ending CRLF) carry a header called name (any case)? */
static int
has_header(const char *s, const char *name)
{
	size_t n = strlen(name);

	for (const char *l = s; l != NULL && *l != '\0'; ) {
		if (strncasecmp(l, name, n) == 0 && l[n] == ':')
			return 1;
		if ((l = strstr(l, "\r\n")) != NULL)
			l += 2;
	}
	return 0;
}

/*
 * Every hop-by-hop header of RFC 9110 7.6.1 is removed by name alone, in
 * both directions: no Connection header names it (a Connection header
 * would remove it whatever the fixed list says).  Names in odd case.
 */
static const char *const hops[] = { "Keep-Alive", "Proxy-Connection", "tE",
    "Trailer", "UPGRADE", "Proxy-Authorization", "proxy-authenticate" };

static void
test_hop_by_hop_request(void **state)
{
	struct http_fwd fwd = { NULL, NULL, NULL };

	for (size_t i = 0; i < sizeof(hops) / sizeof(hops[0]); i++) {
		struct ctx	 c;
		struct evbuffer	*b = evbuffer_new();
		char		 raw[256], *s;

		snprintf(raw, sizeof(raw), "GET / HTTP/1.1\r\nHost: a\r\n"
		    "%s: v\r\nX-Kept: 1\r\n\r\n", hops[i]);
		assert_int_equal(parse_split(&c, raw, 4096), 0);
		assert_int_equal(http_head_find(&c.h, "connection"), -1);
		assert_true(http_head_is_hop(&c.h, 1));
		assert_false(http_head_is_hop(&c.h, 2));
		http_build_request(b, &c.h, "GET", &fwd);
		s = drain(b);
		if (has_header(s, hops[i]))
			fail_msg("request: %s forwarded:\n%s", hops[i], s);
		assert_true(has_header(s, "X-Kept"));
		assert_true(has_header(s, "Host"));
		free(s);
		evbuffer_free(b);
		http_head_free(&c.h);
	}
}

static void
test_hop_by_hop_response(void **state)
{
	for (size_t i = 0; i < sizeof(hops) / sizeof(hops[0]); i++) {
		struct ctx		 c;
		struct evbuffer		*b = evbuffer_new();
		llhttp_settings_t	 st;
		llhttp_t		 p;
		char			 raw[256], *s;

		snprintf(raw, sizeof(raw), "HTTP/1.1 200 OK\r\n%s: v\r\n"
		    "X-Kept: 1\r\nContent-Length: 0\r\n\r\n", hops[i]);
		llhttp_settings_init(&st);
		st.on_status = on_url;
		st.on_header_field = on_field;
		st.on_header_value = on_value;
		http_head_init(&c.h, 4096);
		llhttp_init(&p, HTTP_RESPONSE, &st);
		p.data = &c;
		assert_int_equal(llhttp_execute(&p, raw, strlen(raw)), HPE_OK);
		assert_int_equal(http_head_find(&c.h, "connection"), -1);
		http_build_response(b, &c.h, 200, 0);
		s = drain(b);
		if (has_header(s, hops[i]))
			fail_msg("response: %s forwarded:\n%s", hops[i], s);
		assert_true(has_header(s, "X-Kept"));
		assert_true(has_header(s, "Content-Length"));
		free(s);
		evbuffer_free(b);
		http_head_free(&c.h);
	}
}

/* Header names must be non-empty tokens, checked as each name completes. */
static void
test_last_name_ok(void **state)
{
	static const struct { const char *name; int ok; } cases[] = {
		{ "Host", 1 }, { "X-Amz-Date", 1 }, { "a!#$%&'*+-.^_`|~9", 1 },
		{ "X A", 0 }, { "", 0 }, { "X\tA", 0 }, { "X:A", 0 },
		{ "X\"A", 0 }, { "X(A)", 0 }, { "\xc3\xa9", 0 },
	};
	struct http_head h;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *n = cases[i].name;

		http_head_init(&h, 4096);
		assert_false(http_head_last_name_ok(&h));	/* no header yet */
		http_head_url(&h, "/", 1);
		/* In two pieces, as llhttp may deliver it. */
		assert_int_equal(http_head_field(&h, n, strlen(n) / 2), 0);
		assert_int_equal(http_head_field(&h, n + strlen(n) / 2,
		    strlen(n) - strlen(n) / 2), 0);
		if (cases[i].ok != http_head_last_name_ok(&h))
			fail_msg("name \"%s\": expected %d", n, cases[i].ok);
		/* Once a value began, no name is "last" any more. */
		http_head_value(&h, "v", 1);
		assert_false(http_head_last_name_ok(&h));
		http_head_free(&h);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_head_split),
		cmocka_unit_test(test_build_request),
		cmocka_unit_test(test_build_exact),
		cmocka_unit_test(test_release_reuse),
		cmocka_unit_test(test_connection_cannot_strip_framing),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_error_response),
		cmocka_unit_test(test_build_response),
		cmocka_unit_test(test_hop_by_hop_request),
		cmocka_unit_test(test_hop_by_hop_response),
		cmocka_unit_test(test_last_name_ok),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
