/*
 * Unit tests for affinity: ids found in JSON (whole, cut off, hostile),
 * in URLs, the bounded table with its TTL, the request/response flow, and
 * compressed bodies (gzip, deflate, split, corrupt, cut off, bombs).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <zlib.h>

#include "../../src/affinity.c"

struct ids {
	char	s[8][64];
	int	n;
};

static void
collect(void *arg, const char *id, size_t len)
{
	struct ids *ids = arg;

	if (ids->n < 8)
		snprintf(ids->s[ids->n++], 64, "%.*s", (int)len, id);
}

static struct ids
scan(const char *json, int keys)
{
	struct ids ids = { .n = 0 };

	affinity_json_ids(json, strlen(json), keys, collect, &ids);
	return ids;
}

static void
test_json_ids(void **state)
{
	struct ids r;

	r = scan("{\"_scroll_id\":\"abc\",\"took\":1}", AFF_KEYS_RESPONSE);
	assert_int_equal(r.n, 1);
	assert_string_equal(r.s[0], "abc");
	/* Escapes a JSON encoder may use in base64 ids. */
	r = scan(" {\"took\" : 3, \"pit_id\" : \"a\\/b\\u003d\"}", AFF_KEYS_RESPONSE);
	assert_int_equal(r.n, 1);
	assert_string_equal(r.s[0], "a/b=");
	/* Request bodies: a list of ids, and pit.id after other keys. */
	r = scan("{\"scroll_id\":[\"x\",\"y\"]}", AFF_KEYS_REQUEST);
	assert_int_equal(r.n, 2);
	assert_string_equal(r.s[1], "y");
	r = scan("{\"query\":{\"match\":{\"t\":\"}\\\"{\"}},\"sort\":[1,{\"a\":[]}],"
	    "\"pit\":{\"keep_alive\":\"1m\",\"id\":\"P1\"}}", AFF_KEYS_REQUEST);
	assert_int_equal(r.n, 1);
	assert_string_equal(r.s[0], "P1");
	/* Keys belong to their side; id only when asked; nested ids ignored. */
	assert_int_equal(scan("{\"_scroll_id\":\"a\"}", AFF_KEYS_REQUEST).n, 0);
	assert_int_equal(scan("{\"id\":\"a\"}", AFF_KEYS_RESPONSE).n, 0);
	assert_int_equal(scan("{\"id\":\"a\"}", AFF_KEY_ID).n, 1);
	assert_int_equal(scan("{\"hits\":{\"_scroll_id\":\"a\"}}",
	    AFF_KEYS_RESPONSE).n, 0);
	assert_int_equal(scan("{\"pit\":\"P\"}", AFF_KEYS_REQUEST).n, 0);
}

/* A bounded prefix still gives the ids before the cut, never half an id. */
static void
test_json_cut_and_hostile(void **state)
{
	static char	deep[20000];
	struct ids	r;

	r = scan("{\"_scroll_id\":\"abc\",\"hits\":{\"hits\":[{\"_sou",
	    AFF_KEYS_RESPONSE);
	assert_int_equal(r.n, 1);
	assert_int_equal(scan("{\"_scroll_id\":\"ab", AFF_KEYS_RESPONSE).n, 0);
	assert_int_equal(scan("{\"_scroll_id\":\"a\\", AFF_KEYS_RESPONSE).n, 0);
	assert_int_equal(scan("{\"_scroll_id\":\"a\\u00", AFF_KEYS_RESPONSE).n, 0);
	assert_int_equal(scan("", AFF_KEYS_RESPONSE).n, 0);
	assert_int_equal(scan("[\"_scroll_id\",\"a\"]", AFF_KEYS_RESPONSE).n, 0);
	assert_int_equal(scan("{\"_scroll_id\":\"a\nb\"}", AFF_KEYS_RESPONSE).n, 0);
	assert_int_equal(scan("{\"x\":@,\"_scroll_id\":\"a\"}", AFF_KEYS_RESPONSE).n, 0);
	/* Deep nesting is refused, not recursed into without end. */
	deep[0] = '{';
	memcpy(deep + 1, "\"a\":", 4);
	memset(deep + 5, '[', sizeof(deep) - 6);
	assert_int_equal(scan(deep, AFF_KEYS_RESPONSE).n, 0);
	/* Every prefix of a real answer is safe and finds at most the id. */
	const char *full = "{\"_scroll_id\":\"FGluY2x1ZGU=\",\"took\":1,\"hits\":"
	    "{\"total\":{\"value\":1},\"hits\":[{\"_id\":\"1\",\"x\":[true,null,-1.5e3]}]}}";
	for (size_t n = 0; n <= strlen(full); n++) {
		struct ids p = { .n = 0 };

		affinity_json_ids(full, n, AFF_KEYS_RESPONSE, collect, &p);
		assert_int_equal(p.n, n >= 28 ? 1 : 0);
		if (p.n == 1)
			assert_string_equal(p.s[0], "FGluY2x1ZGU=");
	}
}

/*
 * Random texts over JSON's own characters, each in a buffer of exactly
 * its length (ASan sees any read past the end): no crash, no id longer
 * than the text.
 */
static void
test_json_random(void **state)
{
	static const char	 alpha[] = "{}[]\":,\\ u0aZ_scrolpitd-1e.tnf";
	uint32_t		 x = 2463534242u;

	for (int round = 0; round < 20000; round++) {
		size_t	 n = round % 97;
		char	*t = malloc(n + 1);
		struct ids r = { .n = 0 };

		for (size_t i = 0; i < n; i++) {
			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			t[i] = alpha[x % (sizeof(alpha) - 1)];
		}
		if (n > 0 && round % 3 == 0)
			t[0] = '{';
		affinity_json_ids(t, n, AFF_KEYS_RESPONSE | AFF_KEY_ID |
		    AFF_KEYS_REQUEST, collect, &r);
		for (int k = 0; k < r.n; k++)
			assert_true(strlen(r.s[k]) < n);
		free(t);
	}
}

static enum aff_kind
classify(const char *url, char *id, int *scroll)
{
	const char	*p;
	size_t		 n;
	enum aff_kind	 k = aff_classify(url, strlen(url), &p, &n, scroll);

	snprintf(id, 64, "%.*s", p != NULL ? (int)n : 0, p != NULL ? p : "");
	return k;
}

static void
test_urls(void **state)
{
	char	id[64], dec[64];
	int	sc;

	assert_int_equal(classify("/logs/_search?scroll=1m", id, &sc), AK_SEARCH);
	assert_int_equal(sc, 1);
	assert_int_equal(classify("/logs/_search?q=x", id, &sc), AK_SEARCH);
	assert_int_equal(sc, 0);
	assert_int_equal(classify("/_search/scroll/ID1", id, &sc), AK_SCROLL);
	assert_string_equal(id, "ID1");
	assert_int_equal(classify("/_search/scroll/ID1,ID2", id, &sc), AK_SCROLL);
	assert_string_equal(id, "ID1");
	assert_int_equal(classify("/_search/scroll?scroll=1m&scroll_id=ID3", id,
	    &sc), AK_SCROLL);
	assert_string_equal(id, "ID3");
	assert_int_equal(classify("/_search/scroll", id, &sc), AK_SCROLL);
	assert_string_equal(id, "");
	assert_int_equal(classify("/_async_search/status/A1", id, &sc), AK_ASYNC);
	assert_string_equal(id, "A1");
	assert_int_equal(classify("/_plugins/_asynchronous_search/A2", id, &sc),
	    AK_ASYNC);
	assert_string_equal(id, "A2");
	assert_int_equal(classify("/logs/_async_search", id, &sc), AK_ASYNC);
	assert_string_equal(id, "");
	assert_int_equal(classify("/logs/_pit?keep_alive=1m", id, &sc), AK_PIT);
	assert_int_equal(classify("/logs/_search/point_in_time", id, &sc), AK_PIT);
	assert_int_equal(classify("/my_search_index/_doc/1", id, &sc), AK_NONE);
	assert_int_equal(classify("/_searchable", id, &sc), AK_NONE);
	assert_int_equal(classify("", id, &sc), AK_NONE);
	assert_int_equal(classify("/_", id, &sc), AK_NONE);
	assert_int_equal(classify("/logs/_search/scroll_x", id, &sc), AK_SEARCH);
	assert_int_equal(classify("/a/_pit/x?scroll=1", id, &sc), AK_PIT);
	assert_int_equal(sc, 1);
	assert_int_equal(pct_decode("a%3Db%2f%zz%4", 13, dec, sizeof(dec)), 9);
	assert_memory_equal(dec, "a=b/%zz%4", 9);
	assert_int_equal(pct_decode("abcdef", 6, dec, 3), 0);	/* too long */
}

/* The table: found until expiry, renewed on use, bounded in size. */
static void
test_table(void **state)
{
	uint64_t	t = now_ms();
	char		id[32];
	int		found = 0;

	assert_int_equal(affinity_init(16), 0);
	assert_int_equal(affinity_get("a", 1, t, 1000), -1);
	affinity_put("a", 1, 3, t + 1000);
	assert_int_equal(affinity_get("a", 1, t, 1000), 3);
	assert_int_equal(affinity_get("b", 1, t, 1000), -1);
	assert_int_equal(affinity_get("a", 1, t + 1000, 1000), -1);	/* expired */
	affinity_put("a", 1, 2, t + 1000);		/* a new owner wins */
	assert_int_equal(affinity_get("a", 1, t + 500, 1000), 2);	/* renews */
	assert_int_equal(affinity_get("a", 1, t + 1400, 1000), 2);
	for (int i = 0; i < 1000; i++) {
		int n = snprintf(id, sizeof(id), "id-%d", i);

		affinity_put(id, (size_t)n, 1, t + 10000 + (uint64_t)i);
	}
	for (int i = 0; i < 1000; i++) {
		int n = snprintf(id, sizeof(id), "id-%d", i);

		found += affinity_get(id, (size_t)n, t, 1) == 1;
	}
	assert_true(found <= 16);	/* 16 entries, whatever was put */
	assert_true(found >= 8);
	assert_int_equal(affinity_get("id-999", 6, t, 1), 1);	/* newest stays */
	affinity_free();
}

/* Live ids counted per backend, across many lock chunks; expired not. */
static void
test_count(void **state)
{
	uint64_t	t = now_ms();
	uint64_t	n[4];
	char		id[32];

	assert_int_equal(affinity_init(8192), 0);
	affinity_count(n, 4);
	assert_true(n[0] == 0 && n[1] == 0 && n[2] == 0 && n[3] == 0);
	for (int i = 0; i < 600; i++) {
		int k = snprintf(id, sizeof(id), "ctx-%d", i);

		/* 300 on slot 1, 200 on slot 2, 100 already expired. */
		affinity_put(id, (size_t)k, i < 300 ? 1 : 2, i < 500 ?
		    t + 60000 : t - 1);
	}
	affinity_put("far", 3, 9, t + 60000);	/* a slot beyond nslots */
	affinity_count(n, 4);
	/* Buckets of 4 may overflow: most, never more than was put. */
	assert_in_range(n[1], 280, 300);
	assert_in_range(n[2], 180, 200);
	assert_true(n[0] == 0 && n[3] == 0);
	affinity_free();
	affinity_count(n, 4);
	assert_true(n[1] == 0);
}

/* A head with url and one optional header. */
static void
head(struct http_head *h, const char *url, const char *name, const char *val)
{
	http_head_init(h, 65536);
	http_head_url(h, url, strlen(url));
	if (name != NULL) {
		http_head_field(h, name, strlen(name));
		http_head_value(h, val, strlen(val));
	}
}

/* Learn from a response, route by path and body, skip what cannot match. */
static void
test_flow(void **state)
{
	struct sw_config	 cfg = { .affinity = 1, .affinity_ttl_ms = 60000 };
	struct http_head	 req, resp, plain;
	struct affinity_resp	*ar;
	const char		*body = "{\"_scroll_id\":\"S1\",\"took\":1}";
	size_t			 wait;
	int			 unr;

	assert_int_equal(affinity_init(1024), 0);
	head(&req, "/logs/_search?scroll=1m", NULL, NULL);
	head(&resp, "OK", "Content-Type", "application/json");
	head(&plain, "/logs/_search", NULL, NULL);
	/* Nothing remembered: no request waits for its body. */
	assert_int_equal(affinity_request(&cfg, HTTP_POST, &plain, 100, 0,
	    &wait, &unr), -1);
	assert_int_equal(wait, 0);
	/* A plain search's answer is not read; an error answer neither. */
	assert_null(affinity_response(&cfg, HTTP_POST, &plain, &resp, 200, 0, 0));
	assert_null(affinity_response(&cfg, HTTP_POST, &req, &resp, 500, 0, 0));
	ar = affinity_response(&cfg, HTTP_POST, &req, &resp, 200,
	    strlen(body), 0);
	assert_non_null(ar);
	assert_int_equal(ar->cap, strlen(body));	/* sized to the body */
	affinity_response_body(ar, body, 10);
	affinity_response_body(ar, body + 10, strlen(body) - 10);
	assert_int_equal(affinity_response_end(ar, 5, 1, &cfg, &unr), 1);
	/* An answer cut short teaches nothing. */
	ar = affinity_response(&cfg, HTTP_POST, &req, &resp, 200, 0, 0);
	affinity_response_body(ar, "{\"_scroll_id\":\"S2\"}", 19);
	assert_int_equal(affinity_response_end(ar, 5, 0, &cfg, &unr), 0);

	struct http_head byp, byb, gz;
	head(&byp, "/_search/scroll/S1", NULL, NULL);
	assert_int_equal(affinity_request(&cfg, HTTP_GET, &byp, 0, 0, &wait, &unr), 5);
	head(&byb, "/_search/scroll", NULL, NULL);
	assert_int_equal(affinity_request(&cfg, HTTP_POST, &byb, 40, 0, &wait, &unr), -1);
	assert_int_equal(wait, 40);
	assert_int_equal(affinity_request_body(&cfg, HTTP_POST, &byb,
	    "{\"scroll\":\"1m\",\"scroll_id\":\"S1\"}", 32, &unr), 5);
	assert_int_equal(affinity_request_body(&cfg, HTTP_POST, &byb,
	    "{\"scroll_id\":\"S2\"}", 18, &unr), -1);
	/* Chunked or large bodies are not waited for: they stream. */
	assert_int_equal(affinity_request(&cfg, HTTP_POST, &byb, 40, 1, &wait, &unr), -1);
	assert_int_equal(wait, 0);
	assert_int_equal(affinity_request(&cfg, HTTP_POST, &byb,
	    AFFINITY_PEEK_MAX + 1, 0, &wait, &unr), -1);
	assert_int_equal(wait, 0);
	/* A client waiting for 100 Continue would wait for us: no wait. */
	struct http_head ex;
	head(&ex, "/_search/scroll", "Expect", "100-continue");
	assert_int_equal(affinity_request(&cfg, HTTP_POST, &ex, 40, 0, &wait, &unr), -1);
	assert_int_equal(wait, 0);
	http_head_free(&ex);
	/* A compressed answer is read too (test_compressed). */
	head(&gz, "OK", "Content-Encoding", "gzip");
	ar = affinity_response(&cfg, HTTP_POST, &req, &gz, 200, 0, 0);
	assert_non_null(ar);
	assert_int_equal(affinity_response_end(ar, 5, 0, &cfg, &unr), 0);
	/* Off means off. */
	cfg.affinity = 0;
	assert_int_equal(affinity_request(&cfg, HTTP_GET, &byp, 0, 0, &wait, &unr), -1);
	http_head_free(&req);
	http_head_free(&resp);
	http_head_free(&plain);
	http_head_free(&byp);
	http_head_free(&byb);
	http_head_free(&gz);
	affinity_free();
}

/* in[0..n) compressed with window bits wbits (31 gzip, 15 zlib, -15 raw). */
static unsigned char *
zip(const char *in, size_t n, int wbits, size_t *outlen)
{
	z_stream	 z = { 0 };
	size_t		 cap = n + 1024;
	unsigned char	*out = malloc(cap);

	assert_non_null(out);
	assert_int_equal(deflateInit2(&z, 9, Z_DEFLATED, wbits, 9,
	    Z_DEFAULT_STRATEGY), Z_OK);
	z.next_in = (Bytef *)(uintptr_t)in;
	z.avail_in = (uInt)n;
	z.next_out = out;
	z.avail_out = (uInt)cap;
	assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
	*outlen = cap - z.avail_out;
	deflateEnd(&z);
	return out;
}

/*
 * Feed a response body in pieces of step bytes to a collector for a
 * scroll answer with Content-Encoding enc; the ids learned for slot 7.
 */
static int
learn(const struct sw_config *cfg, const char *enc, const unsigned char *body,
    size_t n, size_t step, int *unr, size_t *kept)
{
	struct http_head	 req, resp;
	struct affinity_resp	*ar;
	int			 learned;

	head(&req, "/logs/_search?scroll=1m", NULL, NULL);
	head(&resp, "OK", enc != NULL ? "Content-Encoding" : NULL, enc);
	ar = affinity_response(cfg, HTTP_POST, &req, &resp, 200, n, 0);
	assert_non_null(ar);
	for (size_t off = 0; off < n; off += step)
		affinity_response_body(ar, (const char *)body + off,
		    n - off < step ? n - off : step);
	if (kept != NULL)
		*kept = ar->len;
	/* Never more kept, nor more compressed bytes read, than the bound. */
	assert_true(ar->len <= AFFINITY_PEEK_MAX);
	assert_true(ar->zin.fed <= AFFINITY_PEEK_MAX);
	learned = affinity_response_end(ar, 7, 1, cfg, unr);
	http_head_free(&req);
	http_head_free(&resp);
	return learned;
}

/* A scroll continuation body sent with Content-Encoding enc: its slot. */
static int
route(const struct sw_config *cfg, const char *enc, const unsigned char *body,
    size_t n, int *unr)
{
	struct http_head	h;
	size_t			wait;
	int			slot;

	head(&h, "/_search/scroll", enc != NULL ? "Content-Encoding" : NULL, enc);
	assert_int_equal(affinity_request(cfg, HTTP_POST, &h, n, 0, &wait,
	    unr), -1);
	if (wait == 0) {	/* not to be read */
		http_head_free(&h);
		return -2;
	}
	assert_int_equal(wait, n);
	slot = affinity_request_body(cfg, HTTP_POST, &h, (const char *)body,
	    n, unr);
	http_head_free(&h);
	return slot;
}

/* Ids inside gzip and deflate bodies, both ways, however they are cut. */
static void
test_compressed(void **state)
{
	struct sw_config	 cfg = { .affinity = 1, .affinity_ttl_ms = 60000 };
	const char		*ans = "{\"_scroll_id\":\"GZ1\",\"took\":3,"
	    "\"hits\":{\"total\":{\"value\":0},\"hits\":[]}}";
	const char		*cont = "{\"scroll\":\"1m\",\"scroll_id\":\"GZ1\"}";
	static const struct {
		const char	*enc;
		int		 wbits;
	} codings[] = {
		{ "gzip", 31 }, { "x-gzip", 31 }, { "GZIP", 31 },
		{ "deflate", 15 }, { "deflate", -15 },	/* zlib, raw */
	};
	unsigned char		*z;
	size_t			 zn, kept;
	int			 unr;

	assert_int_equal(affinity_init(1024), 0);
	for (size_t i = 0; i < sizeof(codings) / sizeof(codings[0]); i++) {
		/* Answer: whole, in 7-byte pieces, one byte at a time. */
		z = zip(ans, strlen(ans), codings[i].wbits, &zn);
		static const size_t steps[] = { 1, 7, SIZE_MAX };

		for (size_t k = 0; k < 3; k++) {
			size_t step = steps[k] < zn ? steps[k] : zn;

			affinity_free();
			assert_int_equal(affinity_init(1024), 0);
			assert_int_equal(learn(&cfg, codings[i].enc, z, zn, step,
			    &unr, NULL), 1);
			assert_int_equal(unr, 0);
			assert_int_equal(affinity_get("GZ1", 3, now_ms(), 1), 7);
		}
		free(z);
		/* The continuation, compressed the same way, goes there. */
		z = zip(cont, strlen(cont), codings[i].wbits, &zn);
		assert_int_equal(route(&cfg, codings[i].enc, z, zn, &unr), 7);
		assert_int_equal(unr, 0);
		free(z);
	}

	/* Two gzip members make one body. */
	{
		unsigned char	*a, *b, both[512];
		size_t		 an, bn;

		a = zip(ans, 10, 31, &an);
		b = zip(ans + 10, strlen(ans) - 10, 31, &bn);
		memcpy(both, a, an);
		memcpy(both + an, b, bn);
		affinity_free();
		assert_int_equal(affinity_init(1024), 0);
		assert_int_equal(learn(&cfg, "gzip", both, an + bn, 5, &unr,
		    NULL), 1);
		assert_int_equal(unr, 0);
		free(a);
		free(b);
	}

	/* Corrupt: nothing learned, nothing routed, each reported. */
	z = zip(ans, strlen(ans), 31, &zn);
	z[10] ^= 0x55;		/* the first bytes after the gzip header */
	z[11] ^= 0xaa;
	assert_int_equal(learn(&cfg, "gzip", z, zn, zn, &unr, NULL), 0);
	assert_int_equal(unr, 1);
	free(z);
	z = zip(cont, strlen(cont), 31, &zn);
	memset(z + 10, 0xff, zn - 10);
	assert_int_equal(route(&cfg, "gzip", z, zn, &unr), -1);
	assert_int_equal(unr, 1);
	/* Not compressed at all, though it says so. */
	assert_int_equal(route(&cfg, "gzip", (const unsigned char *)cont,
	    strlen(cont), &unr), -1);
	assert_int_equal(unr, 1);
	free(z);

	/* Cut off before its id: reported; cut off after it: learned. */
	z = zip(ans, strlen(ans), 31, &zn);
	assert_int_equal(learn(&cfg, "gzip", z, 6, 6, &unr, NULL), 0);
	assert_int_equal(unr, 1);
	assert_int_equal(learn(&cfg, "gzip", z, zn - 8, 3, &unr, NULL), 1);
	assert_int_equal(unr, 0);
	free(z);

	/* An unknown coding is not read, and said so, both ways. */
	assert_int_equal(learn(&cfg, "br", (const unsigned char *)ans,
	    strlen(ans), 4, &unr, &kept), 0);
	assert_int_equal(unr, 1);
	assert_int_equal(kept, 0);
	assert_int_equal(route(&cfg, "br", (const unsigned char *)cont,
	    strlen(cont), &unr), -2);
	assert_int_equal(unr, 1);
	assert_int_equal(route(&cfg, "gzip, br", (const unsigned char *)cont,
	    strlen(cont), &unr), -2);
	assert_int_equal(unr, 1);
	/* A plain search with an unreadable body is not a context request. */
	{
		struct http_head	h;
		size_t			wait;

		head(&h, "/logs/_search", NULL, NULL);
		assert_int_equal(affinity_request(&cfg, HTTP_POST, &h,
		    AFFINITY_PEEK_MAX + 1, 0, &wait, &unr), -1);
		assert_int_equal(unr, 0);
		http_head_free(&h);
	}

	/*
	 * Bombs: 32 MiB of padding in a few dozen KiB of gzip.  At most
	 * 64 KiB is inflated and kept; an id before the padding is still
	 * learned, a continuation whose id would come after it is reported.
	 */
	{
		size_t	 pad = 32u << 20, n;
		char	*big = malloc(pad + 128);

		assert_non_null(big);
		n = (size_t)sprintf(big, "{\"_scroll_id\":\"BOMB1\",\"pad\":\"");
		memset(big + n, 'a', pad);
		n += pad;
		n += (size_t)sprintf(big + n, "\"}");
		z = zip(big, n, 31, &zn);
		assert_true(zn < AFFINITY_PEEK_MAX);
		assert_int_equal(learn(&cfg, "gzip", z, zn, 4096, &unr, &kept), 1);
		assert_int_equal(kept, AFFINITY_PEEK_MAX);
		assert_int_equal(unr, 0);
		assert_int_equal(affinity_get("BOMB1", 5, now_ms(), 1), 7);
		free(z);
		n = (size_t)sprintf(big, "{\"scroll\":\"1m\",\"pad\":\"");
		memset(big + n, 'a', pad);
		n += pad;
		n += (size_t)sprintf(big + n, "\",\"scroll_id\":\"BOMB1\"}");
		z = zip(big, n, 31, &zn);
		assert_int_equal(route(&cfg, "gzip", z, zn, &unr), -1);
		assert_int_equal(unr, 1);
		free(z);
		free(big);
	}
	affinity_free();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_ids),
		cmocka_unit_test(test_json_cut_and_hostile),
		cmocka_unit_test(test_json_random),
		cmocka_unit_test(test_urls),
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_count),
		cmocka_unit_test(test_flow),
		cmocka_unit_test(test_compressed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
