/*
 * fuzz_affinity: any bytes as a search response or request body ->
 * affinity_json_ids, the bounded JSON reader that finds scroll, PIT and
 * async-search ids in bodies streaming through the proxy (it sees at most
 * AFFINITY_PEEK_MAX bytes, often cut mid-token); and, when the first
 * byte has bit 3 set, the same bytes as a compressed body (gzip, x-gzip,
 * deflate or an unknown coding, from bits 4-5) inflated on the way, both
 * as a scroll answer fed in pieces (the second byte sets their size) and
 * as a scroll continuation's body.
 *
 * Invariants: every id handed back (decoded into the reader's own
 * bounded buffer) is not empty and is no longer than the text; the
 * reader never reads past len (ASan: the input is copied into a buffer of
 * exactly len bytes); the same text gives the same ids.  Inflating: no
 * crash or leak whatever the stream, at most one id learned per distinct
 * id-sized piece of the 64 KiB it may inflate, and an unknown coding is
 * never read.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "switchover/affinity.h"
#include "switchover/clock.h"
#include "switchover/http.h"

#include "fuzz.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

struct seen {
	const char	*text;
	size_t		 len;
	size_t		 n;
	uint64_t	 sum;	/* FNV-1a of the ids, to compare runs */
};

static void
found(void *arg, const char *id, size_t len)
{
	struct seen *s = arg;

	FUZZ_ASSERT(len > 0 && len <= s->len);
	s->n++;
	for (size_t i = 0; i < len; i++)
		s->sum = (s->sum ^ (unsigned char)id[i]) * 1099511628211ULL;
	s->sum = (s->sum ^ len) * 1099511628211ULL;
}

/* A head: url, and one header when name is not NULL. */
static void
fuzz_head(struct http_head *h, const char *url, const char *name,
    const char *val)
{
	http_head_init(h, 4096);
	FUZZ_ASSERT(http_head_url(h, url, strlen(url)) == 0);
	if (name != NULL) {
		FUZZ_ASSERT(http_head_field(h, name, strlen(name)) == 0);
		FUZZ_ASSERT(http_head_value(h, val, strlen(val)) == 0);
	}
}

/* text[0..size) as a compressed scroll answer and continuation body. */
static void
fuzz_inflate(const struct sw_config *cfg, const char *text, size_t size,
    unsigned mode, size_t step)
{
	static const char *const codings[] = { "gzip", "x-gzip", "deflate",
	    "br" };
	const char		*enc = codings[(mode >> 4) & 3];
	struct http_head	 req, resp, cont;
	struct affinity_resp	*ar;
	size_t			 wait;
	int			 unr, learned;

	fuzz_head(&req, "/logs/_search?scroll=1m", NULL, NULL);
	fuzz_head(&resp, "OK", "Content-Encoding", enc);
	fuzz_head(&cont, "/_search/scroll", "Content-Encoding", enc);
	ar = affinity_response(cfg, HTTP_POST, &req, &resp, 200, size, 0);
	FUZZ_ASSERT(ar != NULL);
	for (size_t off = 0; off < size; off += step)
		affinity_response_body(ar, text + off,
		    size - off < step ? size - off : step);
	learned = affinity_response_end(ar, 1, 1, cfg, &unr);
	/* An id takes at least a key, quotes and a byte: "id":"x" */
	FUZZ_ASSERT(learned >= 0 && learned <= AFFINITY_PEEK_MAX / 8);
	FUZZ_ASSERT(unr == 0 || unr == 1);
	if ((mode & 0x30) == 0x30)
		FUZZ_ASSERT(learned == 0 && unr == 1);	/* br: not read */
	if (size > 0 && size <= AFFINITY_PEEK_MAX) {
		(void)affinity_request(cfg, HTTP_POST, &cont, size, 0, &wait,
		    &unr);
		/* An id is remembered (the seed): a body is read if it can be. */
		if ((mode & 0x30) == 0x30)
			FUZZ_ASSERT(wait == 0 && unr == 1);
		else {
			FUZZ_ASSERT(wait == size && unr == 0);
			(void)affinity_request_body(cfg, HTTP_POST, &cont,
			    text, size, &unr);
		}
	}
	http_head_free(&req);
	http_head_free(&resp);
	http_head_free(&cont);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sw_config	*cfg;
	struct seen		 a, b;
	char			*text;
	int			 keys;
	unsigned		 mode;
	size_t			 step = 0;

	if (size < 1)
		return 0;
	mode = data[0];
	keys = (mode & 7) ? (mode & 7) : AFF_KEYS_RESPONSE;
	data++;
	size--;
	if ((mode & 0x08) && size > 0) {
		step = data[0] ? data[0] : 1;
		data++;
		size--;
	}
	if ((text = malloc(size ? size : 1)) == NULL)
		return 0;
	memcpy(text, data, size);
	if (mode & 0x08) {
		if (cfg == NULL) {
			cfg = fuzz_config();
			FUZZ_ASSERT(affinity_init(1024) == 0);
			/* Something remembered, so requests look for ids. */
			affinity_put("fuzz-seed", 9, 0, now_ms() + (1ULL << 40));
		}
		fuzz_inflate(cfg, text, size, mode, step);
		free(text);
		return 0;
	}
	a = (struct seen){ text, size, 0, 0 };
	b = a;
	affinity_json_ids(text, size, keys, found, &a);
	affinity_json_ids(text, size, keys, found, &b);
	FUZZ_ASSERT(a.n == b.n && a.sum == b.sum);
	free(text);
	return 0;
}
