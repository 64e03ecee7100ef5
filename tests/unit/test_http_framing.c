/*
 * Unit tests for http's framing checks: the strict chunked-body scanner
 * (fed whole and one byte at a time: bytes arrive split anywhere), and
 * the hop-by-hop set a head's Connection lists name.  http.c is included
 * so its name comparisons can be counted: the work of building a head
 * must grow with the head, not with its headers times its list tokens.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <cmocka.h>

static unsigned long ncompares;

/* strncasecmp, counted. */
static int
counted_strncasecmp(const char *a, const char *b, size_t n)
{
	ncompares++;
	return strncasecmp(a, b, n);
}
#define strncasecmp counted_strncasecmp
#include "../../src/http.c"
#undef strncasecmp

/* Scan s whole, then one byte at a time: both must give the same. */
static int
scan(const char *s, size_t n, int *done)
{
	struct http_chunked	k1, k2;
	const char		*why = NULL;
	int			r1, r2 = 0;

	http_chunked_init(&k1);
	r1 = http_chunked_scan(&k1, s, n, &why);
	http_chunked_init(&k2);
	for (size_t i = 0; i < n && r2 == 0; i++)
		r2 = http_chunked_scan(&k2, s + i, 1, &why);
	assert_int_equal(r1, r2);
	assert_int_equal(http_chunked_done(&k1), http_chunked_done(&k2));
	if (r1 == -1)
		assert_non_null(why);
	*done = http_chunked_done(&k1);
	return r1;
}

#define SCAN(lit, done)	scan((lit), sizeof(lit) - 1, (done))

static void
test_chunked_valid(void **state)
{
	static const char *const ok[] = {
		"0\r\n\r\n",
		"1\r\nA\r\n0\r\n\r\n",
		"a\r\n0123456789\r\nA\r\n0123456789\r\n0\r\n\r\n",
		"0003\r\nabc\r\n0\r\n\r\n",
		"3;a\r\nabc\r\n0\r\n\r\n",
		"3;a=b\r\nabc\r\n0\r\n\r\n",
		"3;a=\"b c;=\"\r\nabc\r\n0\r\n\r\n",
		"3;a;b;c=d\r\nabc\r\n0\r\n\r\n",
		"3\r\na\r\n\r\n0\r\n\r\n",		/* CRLF inside data */
		"0\r\nX-T: v\r\n\r\n",
		"0\r\nX-T: v 1\t2\r\nY-T:\r\n\r\n",
		"0\r\nX-Hostname: h\r\n\r\n",
	};
	int done;

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		if (scan(ok[i], strlen(ok[i]), &done) != 0)
			fail_msg("refused: case %zu", i);
		assert_true(done);
	}
	/* 16 hex digits are the most a size may have: fine, and not done. */
	assert_int_equal(SCAN("ffffffffffffffff\r\n", &done), 0);
	assert_false(done);
}

static void
test_chunked_invalid(void **state)
{
	static const char *const bad[] = {
		"1\r\nAXX0\r\n\r\n",		/* data not followed by CRLF */
		"1\rXA\r\n0\r\n\r\n",		/* CR then a byte */
		"1\nA\r\n0\r\n\r\n",		/* bare LF after the size */
		"1\r\nA\n0\r\n\r\n",		/* bare LF after data */
		"1\r\nA\r0\r\n\r\n",		/* bare CR after data */
		"+1\r\nA\r\n0\r\n\r\n",
		"-1\r\nA\r\n0\r\n\r\n",
		"0x1\r\nA\r\n0\r\n\r\n",
		"00000000000000001\r\nA\r\n0\r\n\r\n",	/* 17 digits */
		" 1\r\nA\r\n0\r\n\r\n",
		"1 \r\nA\r\n0\r\n\r\n",
		"1 ;a\r\nA\r\n0\r\n\r\n",
		"1;\r\nA\r\n0\r\n\r\n",
		"1;=b\r\nA\r\n0\r\n\r\n",
		"1;a=\r\nA\r\n0\r\n\r\n",
		"1;a=b c\r\nA\r\n0\r\n\r\n",
		"1;a=\"b\r\nA\r\n0\r\n\r\n",
		"1;a=\"b\"c\r\nA\r\n0\r\n\r\n",
		"1;a=\"\\\"\"\r\nA\r\n0\r\n\r\n",	/* quoted-pair */
		"1;a=\"\x01\"\r\nA\r\n0\r\n\r\n",
		"\r\n",
		"0\n\r\n",
		"0\r\n\n",
		"0\r\n\rX",
		"0\r\nGET / HTTP/1.1\r\n\r\n",
		"0\r\nX A: b\r\n\r\n",
		"0\r\n: b\r\n\r\n",
		"0\r\n X: b\r\n\r\n",
		"0\r\nX-T: a\r\n b\r\n\r\n",	/* obs-fold */
		"0\r\nX-T: a\x01" "b\r\n\r\n",
		"0\r\nX-T: a\x7f\r\n\r\n",
		"0\r\nX-T: a\n\r\n",
		"0\r\nX-T: a\rb\r\n\r\n",
		"0\r\nContent-Length: 5\r\n\r\n",
		"0\r\ntransfer-ENCODING: chunked\r\n\r\n",
		"0\r\nHost: b\r\n\r\n",
		"0\r\nConnection: close\r\n\r\n",
		"0\r\n\r\nX",			/* a byte after the end */
	};
	int done;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (scan(bad[i], strlen(bad[i]), &done) != -1)
			fail_msg("accepted: case %zu", i);
		assert_false(done);
	}
	/* A NUL is a byte like any other to the scanner. */
	assert_int_equal(SCAN("1\0\r\nA\r\n0\r\n\r\n", &done), -1);
	assert_int_equal(SCAN("0\r\nX-T: a\0b\r\n\r\n", &done), -1);
}

static void
test_chunked_limits(void **state)
{
	char	*s;
	size_t	 n;
	int	 done;

	(void)state;
	/* A size line of 4 KiB passes; one byte more does not. */
	s = malloc(8192 + 64);
	assert_non_null(s);
	memcpy(s, "1;", 2);
	memset(s + 2, 'e', 4096 - 4);
	memcpy(s + 4094, "\r\nA\r\n0\r\n\r\n", 10);
	assert_int_equal(scan(s, 4104, &done), 0);
	assert_true(done);
	memcpy(s, "1;", 2);
	memset(s + 2, 'e', 4096 - 3);
	memcpy(s + 4095, "\r\nA\r\n0\r\n\r\n", 10);
	assert_int_equal(scan(s, 4105, &done), -1);
	/* Trailers over 8 KiB are refused. */
	memcpy(s, "0\r\nX: ", 6);
	memset(s + 6, 'v', 8192);
	memcpy(s + 6 + 8192, "\r\n\r\n", 4);
	assert_int_equal(scan(s, 6 + 8192 + 4, &done), -1);
	free(s);
	/* Chunk data is skipped by count, not looked at. */
	n = 5 + 1000 + 7;
	s = malloc(n);
	assert_non_null(s);
	memcpy(s, "3e8\r\n", 5);
	memset(s + 5, '\n', 1000);
	memcpy(s + 1005, "\r\n0\r\n\r\n", 7);
	assert_int_equal(scan(s, n, &done), 0);
	assert_true(done);
	free(s);
}

/* Parse-free head building: name/value pairs into h. */
static void
head_add(struct http_head *h, const char *n, const char *v)
{
	assert_int_equal(http_head_field(h, n, strlen(n)), 0);
	assert_int_equal(http_head_value(h, v, strlen(v)), 0);
}

static char *
built(const struct http_head *h)
{
	struct http_fwd	 fwd = { NULL, NULL, NULL };
	struct evbuffer	*out = evbuffer_new();
	char		*s;
	size_t		 n;

	assert_non_null(out);
	assert_int_equal(http_build_request(out, h, "GET", &fwd), 0);
	n = evbuffer_get_length(out);
	s = malloc(n + 1);
	assert_non_null(s);
	evbuffer_remove(out, s, n);
	s[n] = '\0';
	evbuffer_free(out);
	return s;
}

static void
test_connection_names(void **state)
{
	struct http_head	 h;
	char			*s;

	(void)state;
	http_head_init(&h, 65536);
	assert_int_equal(http_head_url(&h, "/", 1), 0);
	head_add(&h, "Host", "a");
	head_add(&h, "X-A", "1");
	head_add(&h, "x-a", "2");		/* same name, other case */
	head_add(&h, "X-B", "3");
	head_add(&h, "X-C", "4");
	head_add(&h, "Connection", " , x-A ,, foo");
	head_add(&h, "Content-Length", "0");
	head_add(&h, "connection", "X-c\t, host, content-length");
	head_add(&h, "HTTP2-Settings", "AAMA");
	s = built(&h);
	assert_null(strstr(s, "X-A:"));
	assert_null(strstr(s, "x-a:"));
	assert_null(strstr(s, "X-C:"));
	assert_non_null(strstr(s, "X-B: 3\r\n"));
	assert_non_null(strstr(s, "Host: a\r\n"));
	assert_non_null(strstr(s, "Content-Length: 0\r\n"));
	assert_null(strstr(s, "onnection"));	/* either case */
	assert_null(strstr(s, "HTTP2-Settings"));
	assert_true(http_head_is_hop(&h, 1));
	assert_false(http_head_is_hop(&h, 3));
	free(s);
	http_head_free(&h);
}

/*
 * A 64 KiB head of 63 short headers and 63 `Connection: x-pad-zzz,...`
 * lists (tokens as long as the names, so a token-by-name scan compares
 * every pair): the old per-header rescan made some 400,000 name
 * comparisons; a hashed lookup makes a few per token at most.  Counted
 * comparisons, not time.
 */
static void
test_connection_lists_linear(void **state)
{
	struct http_head	 h;
	char			 name[32], *val, *s;
	size_t			 vlen = 0, ntok = 0;

	(void)state;
	val = malloc(1024);
	assert_non_null(val);
	while (vlen + 10 < 1000) {
		memcpy(val + vlen, "x-pad-zzz,", 10);
		vlen += 10;
		ntok++;
	}
	val[vlen] = '\0';
	http_head_init(&h, 128 * 1024);
	assert_int_equal(http_head_url(&h, "/", 1), 0);
	head_add(&h, "Host", "a");
	for (int i = 0; i < 63; i++) {
		snprintf(name, sizeof(name), "X-Pad-%03d", i);
		head_add(&h, name, "1");
		head_add(&h, "Connection", val);
	}
	assert_true(h.len > 60000);
	ncompares = 0;
	s = built(&h);
	/* Every X-Pad is kept: none is named. */
	assert_non_null(strstr(s, "X-Pad-062: 1\r\n"));
	printf("# %lu name comparisons for %zu list tokens\n", ncompares,
	    63 * ntok);
	if (ncompares > 2 * 63 * ntok)
		fail_msg("%lu name comparisons for %zu list tokens",
		    ncompares, 63 * ntok);
	free(s);
	free(val);
	http_head_free(&h);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_chunked_valid),
		cmocka_unit_test(test_chunked_invalid),
		cmocka_unit_test(test_chunked_limits),
		cmocka_unit_test(test_connection_names),
		cmocka_unit_test(test_connection_lists_linear),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
