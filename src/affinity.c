/*
 * affinity: the table of search context ids, and finding ids in URLs and
 * JSON.  See affinity.h for why the table is shared and when it is used.
 *
 * The table is set-associative: an id's 64-bit SipHash picks a bucket of
 * AFF_WAYS entries; a new id takes an empty or expired entry, else the
 * one closest to expiry.  So memory is fixed at start, inserts and
 * lookups are O(1), and nothing needs a sweep.  Ids are kept as hashes
 * only: a 64-bit collision between two live ids is not a practical
 * concern, and a stored hash leaks nothing of the id into core dumps.
 *
 * Compressed bodies (Content-Encoding gzip, x-gzip or deflate) are
 * inflated with zlib as they stream by, bounded on both sides: at most
 * AFFINITY_PEEK_MAX compressed bytes are fed and at most AFFINITY_PEEK_MAX
 * inflated bytes kept, so a zip bomb costs no more than a plain 64 KiB
 * peek (plus zlib's ~40 KiB of state, for id-bearing exchanges only).
 * Bodies are forwarded as they came: only the copy is inflated.  An
 * id-bearing body that cannot be read (unknown coding, corrupt, cut off,
 * too big to wait for) is reported to the caller, which counts it, and
 * logged at most once a second.
 *
 * The JSON reader below is not a parser of whole documents: it walks the
 * top-level object of a possibly truncated text, picking the string
 * values of a few keys, and gives up quietly at the first byte it does
 * not expect.  Every loop advances the cursor and stops at the end.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <llhttp.h>
#include <zlib.h>

#include "switchover/affinity.h"
#include "switchover/clock.h"
#include "switchover/config.h"
#include "switchover/http.h"
#include "switchover/log.h"
#include "switchover/router.h"

#define AFF_WAYS	4
#define ID_MAX		8192	/* longer ids are not tracked */
#define AFF_FREE(e, now)	((e)->h == 0 || (e)->expires <= (now))

struct aff_entry {
	uint64_t	h;		/* 0: empty */
	uint64_t	expires;	/* ms, monotonic */
	int		slot;
};

static struct {
	pthread_mutex_t	 lock;
	struct aff_entry *e;
	size_t		 nbuckets;	/* a power of 2 */
	uint64_t	 horizon;	/* no id lives past this (atomic) */
} tab = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* A body's Content-Encoding, as far as affinity can read it. */
enum aff_enc {
	AE_IDENTITY = 0,
	AE_GZIP,	/* gzip, x-gzip (a zlib stream is taken too) */
	AE_DEFLATE,	/* zlib stream, or raw deflate as some servers send */
	AE_UNKNOWN,	/* br, zstd, several codings: cannot be read */
};

enum aff_zstate {
	ZS_START = 0,	/* no byte fed yet: zlib not set up */
	ZS_RUN,
	ZS_END,		/* the stream ended */
	ZS_FULL,	/* a bound was reached: the rest is not looked at */
	ZS_BAD,		/* corrupt, or zlib could not be set up */
	ZS_CUT,		/* the body ended before the stream did */
};

/* A bounded streaming inflater (see the top of the file). */
struct aff_zin {
	z_stream	 z;
	enum aff_enc	 enc;
	enum aff_zstate	 state;
	size_t		 fed;		/* compressed bytes taken */
	int		 between;	/* gzip: a member ended, none begun */
};

struct affinity_resp {
	int		keys;
	struct aff_zin	zin;		/* enc AE_IDENTITY: a plain copy */
	size_t		len, cap;
	char		buf[];		/* cap bytes */
};

enum aff_kind {
	AK_NONE = 0,
	AK_SEARCH,	/* .../_search: may use a PIT, may start a scroll */
	AK_SCROLL,	/* _search/scroll: continues or clears a scroll */
	AK_PIT,		/* _search/point_in_time or _pit: opens or closes */
	AK_ASYNC,	/* _async_search, _plugins/_asynchronous_search */
};

int
affinity_init(size_t max_ids)
{
	size_t nb = 1;

	while (nb * AFF_WAYS < max_ids)
		nb <<= 1;
	if ((tab.e = calloc(nb * AFF_WAYS, sizeof(*tab.e))) == NULL)
		return -1;
	tab.nbuckets = nb;
	tab.horizon = 0;
	return 0;
}

void
affinity_free(void)
{
	free(tab.e);
	tab.e = NULL;
	tab.nbuckets = 0;
}

/* The id's hash; never 0, which marks an empty entry. */
static uint64_t
id_hash(const char *id, size_t len)
{
	uint64_t h = router_hash(id, len);

	return h != 0 ? h : 1;
}

/* No id lives past the horizon: push it out to t (under tab.lock). */
static void
aff_extend(uint64_t t)
{
	if (t > __atomic_load_n(&tab.horizon, __ATOMIC_RELAXED))
		__atomic_store_n(&tab.horizon, t, __ATOMIC_RELAXED);
}

void
affinity_put(const char *id, size_t len, int slot, uint64_t expires)
{
	uint64_t		 h = id_hash(id, len);
	struct aff_entry	*b, *pick = NULL;
	uint64_t		 now = now_ms();

	if (tab.e == NULL || len == 0)
		return;
	pthread_mutex_lock(&tab.lock);
	b = &tab.e[(h & (tab.nbuckets - 1)) * AFF_WAYS];
	/* The id's own entry, else a free one, else the nearest expiry. */
	for (int i = 0; i < AFF_WAYS; i++) {
		if (b[i].h == h) {
			pick = &b[i];
			break;
		}
		if (AFF_FREE(&b[i], now)) {
			if (pick == NULL || !AFF_FREE(pick, now))
				pick = &b[i];
		} else if (pick == NULL || (!AFF_FREE(pick, now) &&
		    b[i].expires < pick->expires))
			pick = &b[i];
	}
	pick->h = h;
	pick->expires = expires;
	pick->slot = slot;
	aff_extend(expires);
	pthread_mutex_unlock(&tab.lock);
}

int
affinity_get(const char *id, size_t len, uint64_t now, int ttl_ms)
{
	uint64_t		 h = id_hash(id, len);
	struct aff_entry	*b;
	int			 slot = -1;

	if (tab.e == NULL || len == 0 ||
	    __atomic_load_n(&tab.horizon, __ATOMIC_RELAXED) <= now)
		return -1;
	pthread_mutex_lock(&tab.lock);
	b = &tab.e[(h & (tab.nbuckets - 1)) * AFF_WAYS];
	for (int i = 0; i < AFF_WAYS; i++) {
		if (b[i].h != h || b[i].expires <= now)
			continue;
		slot = b[i].slot;
		/* In use: the context's keep-alive was renewed too. */
		if (b[i].expires < now + (uint64_t)ttl_ms) {
			b[i].expires = now + (uint64_t)ttl_ms;
			aff_extend(b[i].expires);
		}
		break;
	}
	pthread_mutex_unlock(&tab.lock);
	return slot;
}

/* May any id be remembered now?  (No lock: a hint to skip work.) */
static int
aff_any(void)
{
	return __atomic_load_n(&tab.horizon, __ATOMIC_RELAXED) > now_ms();
}

/* ---- JSON -------------------------------------------------------------- */

struct jcur {
	const char	*p, *end;
};

/* Skip JSON white space. */
static void
j_ws(struct jcur *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' ||
	    *j->p == '\n' || *j->p == '\r'))
		j->p++;
}

/* Value of one hex digit, or -1. */
static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
		return (c | 0x20) - 'a' + 10;
	return -1;
}

/*
 * The string at the cursor, unescaped into out (cap bytes; out may be
 * NULL to skip).  *n is its length, or cap + 1 when it did not fit.
 * 0, or -1 when malformed or cut off.
 */
static int
j_string(struct jcur *j, char *out, size_t cap, size_t *n)
{
	size_t k = 0;

	if (j->p >= j->end || *j->p != '"')
		return -1;
	j->p++;
	while (j->p < j->end) {
		unsigned char ch = (unsigned char)*j->p++;

		if (ch == '"') {
			*n = k <= cap ? k : cap + 1;
			return 0;
		}
		if (ch < 0x20)
			return -1;
		if (ch == '\\') {
			if (j->p >= j->end)
				return -1;
			switch ((ch = (unsigned char)*j->p++)) {
			case '"': case '\\': case '/': break;
			case 'b': ch = '\b'; break;
			case 'f': ch = '\f'; break;
			case 'n': ch = '\n'; break;
			case 'r': ch = '\r'; break;
			case 't': ch = '\t'; break;
			case 'u': {
				int v = 0;

				if (j->end - j->p < 4)
					return -1;
				for (int i = 0; i < 4; i++) {
					int d = hexval(j->p[i]);

					if (d < 0)
						return -1;
					v = v * 16 + d;
				}
				j->p += 4;
				/* Ids are ASCII; others cannot match one. */
				ch = v < 0x80 ? (unsigned char)v : 0xff;
				break;
			}
			default:
				return -1;
			}
		}
		if (k < cap)
			out[k] = (char)ch;
		if (k <= cap)
			k++;
	}
	return -1;
}

/* Skip one value of any kind.  0, or -1 when malformed or cut off. */
static int
j_skip(struct jcur *j, int depth)
{
	size_t	n;
	char	close;

	j_ws(j);
	if (j->p >= j->end || depth > 64)
		return -1;
	if (*j->p == '"')
		return j_string(j, NULL, 0, &n);
	if (*j->p != '{' && *j->p != '[') {
		const char *start = j->p;

		while (j->p < j->end && *j->p != '\0' &&
		    strchr("0123456789+-.eEtruefalsn", *j->p) != NULL)
			j->p++;
		return j->p > start && j->p < j->end ? 0 : -1;
	}
	close = *j->p == '{' ? '}' : ']';
	j->p++;
	j_ws(j);
	if (j->p < j->end && *j->p == close) {
		j->p++;
		return 0;
	}
	for (;;) {
		if (close == '}') {
			j_ws(j);
			if (j_string(j, NULL, 0, &n) == -1)
				return -1;
			j_ws(j);
			if (j->p >= j->end || *j->p++ != ':')
				return -1;
		}
		if (j_skip(j, depth + 1) == -1)
			return -1;
		j_ws(j);
		if (j->p >= j->end)
			return -1;
		if (*j->p == close) {
			j->p++;
			return 0;
		}
		if (*j->p++ != ',')
			return -1;
	}
}

/* Hand each id of a string or an array of strings to fn.  0 or -1. */
static int
j_ids(struct jcur *j, void (*fn)(void *, const char *, size_t), void *arg)
{
	char	id[ID_MAX];
	size_t	n;

	if (j->p < j->end && *j->p == '"') {
		if (j_string(j, id, sizeof(id), &n) == -1)
			return -1;
		if (n > 0 && n <= sizeof(id))
			fn(arg, id, n);
		return 0;
	}
	if (j->p >= j->end || *j->p != '[')
		return j_skip(j, 0);
	j->p++;
	for (;;) {
		j_ws(j);
		if (j->p < j->end && *j->p == ']') {
			j->p++;
			return 0;
		}
		if (j_string(j, id, sizeof(id), &n) == -1)
			return -1;
		if (n > 0 && n <= sizeof(id))
			fn(arg, id, n);
		j_ws(j);
		if (j->p < j->end && *j->p == ',')
			j->p++;
	}
}

/* Is key one that holds ids (1), or the "pit" object (2), at this depth? */
static int
j_wanted(const char *k, size_t n, int keys, int depth)
{
#define IS(s)	(n == sizeof(s) - 1 && memcmp(k, s, n) == 0)
	if (depth == 1)
		return IS("id") ? 1 : 0;
	if ((keys & AFF_KEYS_RESPONSE) && (IS("_scroll_id") || IS("pit_id")))
		return 1;
	if ((keys & AFF_KEY_ID) && IS("id"))
		return 1;
	if ((keys & AFF_KEYS_REQUEST) && (IS("scroll_id") || IS("pit_id")))
		return 1;
	if ((keys & AFF_KEYS_REQUEST) && IS("pit"))
		return 2;
	return 0;
#undef IS
}

/* Walk an object, handing the ids of wanted keys to fn. */
static void
j_object(struct jcur *j, int keys, int depth,
    void (*fn)(void *, const char *, size_t), void *arg)
{
	char	key[16];
	size_t	n;
	int	want;

	j_ws(j);
	if (j->p >= j->end || *j->p != '{')
		return;
	j->p++;
	for (;;) {
		j_ws(j);
		if (j_string(j, key, sizeof(key), &n) == -1)
			return;
		j_ws(j);
		if (j->p >= j->end || *j->p++ != ':')
			return;
		j_ws(j);
		want = n <= sizeof(key) ? j_wanted(key, n, keys, depth) : 0;
		if (want == 2 && j->p < j->end && *j->p == '{')
			j_object(j, keys, depth + 1, fn, arg);
		else if ((want == 1 ? j_ids(j, fn, arg) : j_skip(j, 0)) == -1)
			return;
		j_ws(j);
		if (j->p >= j->end || *j->p++ != ',')
			return;
	}
}

void
affinity_json_ids(const char *text, size_t len, int keys,
    void (*fn)(void *, const char *, size_t), void *arg)
{
	struct jcur j = { text, text + len };

	j_object(&j, keys, 0, fn, arg);
}

/* ---- compressed bodies --------------------------------------------------- */

/* How the body of a message with head h is encoded. */
static enum aff_enc
aff_encoding(const struct http_head *h)
{
	static const struct {
		const char	*name;
		enum aff_enc	 enc;
	} codings[] = {
		{ "identity", AE_IDENTITY }, { "gzip", AE_GZIP },
		{ "x-gzip", AE_GZIP }, { "deflate", AE_DEFLATE },
	};
	const char	*v;
	size_t		 n;
	int		 i = http_head_find(h, "content-encoding");

	if (i < 0)
		return AE_IDENTITY;
	if (http_head_count(h, "content-encoding") > 1)
		return AE_UNKNOWN;
	v = http_hdr_value(h, (size_t)i);
	n = h->hdrs[i].val_len;
	while (n > 0 && (*v == ' ' || *v == '\t'))
		v++, n--;
	while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
		n--;
	for (size_t k = 0; k < sizeof(codings) / sizeof(codings[0]); k++)
		if (n == strlen(codings[k].name) &&
		    strncasecmp(v, codings[k].name, n) == 0)
			return codings[k].enc;
	return AE_UNKNOWN;
}

/*
 * Inflate in[0..n) into out, after the *outlen bytes already there, up
 * to cap.  Stops for good at either bound (ZS_FULL), at the end of the
 * stream, or at the first corrupt byte (ZS_BAD).  A gzip body of several
 * members is read on (its end is known only when the body ends: see
 * aff_zin_end); bytes after a deflate stream are ignored.
 */
static void
aff_zin_feed(struct aff_zin *zi, const char *in, size_t n, char *out,
    size_t *outlen, size_t cap)
{
	int r, wbits;

	if (zi->state != ZS_START && zi->state != ZS_RUN)
		return;
	if (n == 0)
		return;
	if (n > AFFINITY_PEEK_MAX - zi->fed)
		n = AFFINITY_PEEK_MAX - zi->fed;
	if (zi->state == ZS_START) {
		/*
		 * gzip: 15 + 32 reads a gzip or a zlib header.  deflate
		 * means a zlib stream (RFC 9110), but some servers send raw
		 * deflate: a zlib stream's first byte says method 8 with a
		 * window of at most 32 KiB (0x08, 0x18, ... 0x78).
		 */
		if (zi->enc == AE_GZIP)
			wbits = 15 + 32;
		else
			wbits = ((unsigned char)in[0] & 0x8f) == 0x08 ? 15 : -15;
		memset(&zi->z, 0, sizeof(zi->z));
		if (inflateInit2(&zi->z, wbits) != Z_OK) {
			zi->state = ZS_BAD;
			return;
		}
		zi->state = ZS_RUN;
	}
	zi->fed += n;
	zi->z.next_in = (Bytef *)(uintptr_t)in;
	zi->z.avail_in = (uInt)n;
	while (zi->z.avail_in > 0 && *outlen < cap) {
		zi->z.next_out = (Bytef *)out + *outlen;
		zi->z.avail_out = (uInt)(cap - *outlen);
		zi->between = 0;
		r = inflate(&zi->z, Z_NO_FLUSH);
		*outlen = cap - zi->z.avail_out;
		if (r == Z_STREAM_END) {
			/* gzip: another member may follow, in this piece or the next. */
			if (zi->enc == AE_GZIP && inflateReset(&zi->z) == Z_OK) {
				zi->between = 1;
				continue;
			}
			zi->state = ZS_END;
			break;
		}
		if (r != Z_OK) {
			zi->state = ZS_BAD;
			break;
		}
	}
	if (zi->state == ZS_RUN && (*outlen >= cap ||
	    zi->fed >= AFFINITY_PEEK_MAX))
		zi->state = ZS_FULL;
	zi->z.next_in = NULL;		/* in is the caller's */
	zi->z.avail_in = 0;
	if (zi->state != ZS_RUN)
		inflateEnd(&zi->z);	/* nothing more is fed: free zlib's state now */
}

/* The whole body was fed: free what the inflater still holds. */
static void
aff_zin_end(struct aff_zin *zi)
{
	if (zi->state == ZS_RUN)
		inflateEnd(&zi->z);
	if (zi->state == ZS_RUN && zi->between)
		zi->state = ZS_END;
	else if (zi->state == ZS_RUN || zi->state == ZS_START)
		zi->state = ZS_CUT;
}

/* After aff_zin_end: did the stream fail to read (corrupt or cut off)? */
static int
aff_zin_failed(const struct aff_zin *zi)
{
	return zi->state == ZS_BAD || zi->state == ZS_CUT;
}

/*
 * An id-bearing body could not be read: say so, a line a second at most
 * (with how many were not logged), as a flood of them must not fill the
 * disk.  Any thread.
 */
static void
aff_unreadable_log(const char *what, const char *why)
{
	static uint64_t	 last;		/* ms of the last line */
	static unsigned	 held;
	uint64_t	 now = now_ms(), prev;
	unsigned	 n;

	prev = __atomic_load_n(&last, __ATOMIC_RELAXED);
	if ((prev != 0 && now < prev + 1000) ||
	    !__atomic_compare_exchange_n(&last, &prev, now, 0,
	    __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
		__atomic_add_fetch(&held, 1, __ATOMIC_RELAXED);
		return;
	}
	n = __atomic_exchange_n(&held, 0, __ATOMIC_RELAXED);
	log_warn("affinity: %s not read (%s): search context affinity not "
	    "applied to it (%u more such not logged)", what, why, n);
}

/* Why a body could not be read, for the log. */
static const char *
aff_zin_why(const struct aff_zin *zi)
{
	if (zi->enc == AE_UNKNOWN)
		return "unknown Content-Encoding";
	if (zi->state == ZS_BAD)
		return "corrupt compressed body";
	if (zi->state == ZS_FULL)
		return "inflates past 64 KiB";
	return "compressed body cut off";
}

/* ---- requests ------------------------------------------------------------ */

/* Percent-decode s[0..n) into out (cap); the decoded length, or 0. */
static size_t
pct_decode(const char *s, size_t n, char *out, size_t cap)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		char ch = s[i];

		if (ch == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 &&
		    hexval(s[i + 2]) >= 0) {
			ch = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
			i += 2;
		}
		if (k == cap)
			return 0;
		out[k++] = ch;
	}
	return k;
}

/* Does p[0..n) start with the whole segment(s) seg?  Just after, or NULL. */
static const char *
path_seg(const char *p, size_t n, const char *seg)
{
	size_t l = strlen(seg);

	if (l <= n && memcmp(p, seg, l) == 0 && (l == n || p[l] == '/'))
		return p + l;
	return NULL;
}

/*
 * What the URL is, and the id it carries in its path (after the API's
 * segment) or query (scroll_id=), if any.
 */
static enum aff_kind
aff_classify(const char *url, size_t len, const char **id, size_t *idlen,
    int *scroll_param)
{
	static const struct {
		const char	*seg;
		enum aff_kind	 kind;
	} segs[] = {	/* the longer of two with one prefix first */
		{ "/_search/scroll", AK_SCROLL },
		{ "/_search/point_in_time", AK_PIT },
		{ "/_search", AK_SEARCH },
		{ "/_pit", AK_PIT },
		{ "/_async_search", AK_ASYNC },
		{ "/_plugins/_asynchronous_search", AK_ASYNC },
	};
	const char	*q = memchr(url, '?', len), *after = NULL;
	size_t		 plen = q != NULL ? (size_t)(q - url) : len;
	enum aff_kind	 kind = AK_NONE;

	*id = NULL;
	*idlen = 0;
	*scroll_param = 0;
	/* One pass, looking closer only where a segment starts with "_". */
	for (size_t i = 0; i + 1 < plen && kind == AK_NONE; i++) {
		if (url[i] != '/' || url[i + 1] != '_')
			continue;
		for (size_t k = 0; k < sizeof(segs) / sizeof(segs[0]); k++)
			if ((after = path_seg(url + i, plen - i, segs[k].seg)) !=
			    NULL) {
				kind = segs[k].kind;
				break;
			}
	}
	if (kind == AK_NONE)
		return kind;
	if (after < url + plen && (kind == AK_SCROLL || kind == AK_ASYNC)) {
		const char *s = after + 1, *e = url + plen, *c;

		if (kind == AK_ASYNC && (size_t)(e - s) > 7 &&
		    memcmp(s, "status/", 7) == 0)
			s += 7;
		if ((c = memchr(s, ',', (size_t)(e - s))) != NULL)
			e = c;		/* a list: the first decides */
		*id = s;
		*idlen = (size_t)(e - s);
	}
	for (const char *p = q; p != NULL && p < url + len; ) {
		const char *amp = memchr(p + 1, '&', (size_t)(url + len - p - 1));
		const char *e = amp != NULL ? amp : url + len;

		p++;
		if ((size_t)(e - p) >= 7 && memcmp(p, "scroll=", 7) == 0)
			*scroll_param = 1;
		if (kind == AK_SCROLL && *id == NULL && (size_t)(e - p) > 10 &&
		    memcmp(p, "scroll_id=", 10) == 0) {
			*id = p + 10;
			*idlen = (size_t)(e - p - 10);
		}
		p = amp;
	}
	return kind;
}

/* The request's URL as a (pointer, length). */
static const char *
req_url(const struct http_head *h, size_t *len)
{
	*len = h->url_len;
	return h->buf != NULL ? h->buf + h->url_off : "";
}

/* Is a request of this kind about a context id, whatever else it says? */
static int
aff_names_context(enum aff_kind kind, int method)
{
	return kind == AK_SCROLL || (kind == AK_PIT && method == HTTP_DELETE);
}

int
affinity_request(const struct sw_config *cfg, int method,
    const struct http_head *h, uint64_t clen, int chunked, size_t *body_wait,
    int *unreadable)
{
	const char	*url, *id, *why = NULL;
	size_t		 ulen, idlen, n;
	int		 scroll;
	enum aff_kind	 kind;
	enum aff_enc	 enc;
	char		 buf[ID_MAX];

	*body_wait = 0;
	*unreadable = 0;
	if (!cfg->affinity || !aff_any())
		return -1;
	url = req_url(h, &ulen);
	kind = aff_classify(url, ulen, &id, &idlen, &scroll);
	if (id != NULL && idlen > 0 &&
	    (n = pct_decode(id, idlen, buf, sizeof(buf))) > 0)
		return affinity_get(buf, n, now_ms(), cfg->affinity_ttl_ms);
	if (!(kind == AK_SCROLL || kind == AK_SEARCH ||
	    (kind == AK_PIT && method == HTTP_DELETE)) || (!chunked && clen == 0))
		return -1;
	/*
	 * Only a body can tell: a small one, with a known length, in a
	 * coding we read, and not held back by a client waiting for 100
	 * Continue (which the upstream would send, and we have not picked
	 * one).  A scroll or PIT request we cannot read is reported.
	 */
	if ((enc = aff_encoding(h)) == AE_UNKNOWN)
		why = "unknown Content-Encoding";
	else if (chunked)
		why = "chunked body";
	else if (clen > AFFINITY_PEEK_MAX)
		why = "body over 64 KiB";
	else if (http_head_find(h, "expect") >= 0)
		why = "Expect: 100-continue";
	else
		*body_wait = (size_t)clen;
	if (why != NULL && (aff_names_context(kind, method) ||
	    (enc == AE_UNKNOWN && kind == AK_SEARCH))) {
		*unreadable = 1;
		aff_unreadable_log(kind == AK_SEARCH ? "search request body" :
		    "scroll/PIT request body", why);
	}
	return -1;
}

struct found {
	const struct sw_config	*cfg;
	int			 slot;
	int			 n;
	uint64_t		 now;
};

/* affinity_json_ids callback: the first remembered id decides. */
static void
found_lookup(void *arg, const char *id, size_t len)
{
	struct found *f = arg;

	f->n++;
	if (f->slot < 0)
		f->slot = affinity_get(id, len, f->now, f->cfg->affinity_ttl_ms);
}

int
affinity_request_body(const struct sw_config *cfg, int method,
    const struct http_head *h, const char *body, size_t len, int *unreadable)
{
	struct found	 f = { cfg, -1, 0, now_ms() };
	struct aff_zin	 zi = { .enc = aff_encoding(h) };
	const char	*url, *id;
	size_t		 ulen, idlen, olen = 0;
	int		 scroll, keys = AFF_KEYS_REQUEST;
	enum aff_kind	 kind;
	char		*out;

	*unreadable = 0;
	url = req_url(h, &ulen);
	kind = aff_classify(url, ulen, &id, &idlen, &scroll);
	if (kind == AK_PIT)
		keys |= AFF_KEY_ID;
	if (zi.enc == AE_IDENTITY) {
		affinity_json_ids(body, len, keys, found_lookup, &f);
		return f.slot;
	}
	if (zi.enc == AE_UNKNOWN || (out = malloc(AFFINITY_PEEK_MAX)) == NULL)
		return -1;	/* affinity_request said why; or best effort */
	aff_zin_feed(&zi, body, len, out, &olen, AFFINITY_PEEK_MAX);
	aff_zin_end(&zi);
	affinity_json_ids(out, olen, keys, found_lookup, &f);
	free(out);
	/*
	 * A stream that did not read whole is reported unless it gave an id;
	 * past the bound, only where an id must be (a scroll or PIT request).
	 */
	if (f.n == 0 && (aff_zin_failed(&zi) || (zi.state == ZS_FULL &&
	    aff_names_context(kind, method)))) {
		*unreadable = 1;
		aff_unreadable_log(kind == AK_SEARCH ? "search request body" :
		    "scroll/PIT request body", aff_zin_why(&zi));
	}
	return f.slot;
}

/* ---- responses ----------------------------------------------------------- */

struct affinity_resp *
affinity_response(const struct sw_config *cfg, int method,
    const struct http_head *req, const struct http_head *resp, int status,
    uint64_t clen, int routed)
{
	struct affinity_resp	*ar;
	const char		*url, *id;
	size_t			 ulen, idlen;
	int			 scroll, keys = AFF_KEYS_RESPONSE;
	enum aff_kind		 kind;
	enum aff_enc		 enc;

	if (!cfg->affinity || status < 200 || status > 299)
		return NULL;
	url = req_url(req, &ulen);
	kind = aff_classify(url, ulen, &id, &idlen, &scroll);
	switch (kind) {
	case AK_SEARCH:
		if (!scroll && !routed)
			return NULL;	/* the common case: no context */
		break;
	case AK_SCROLL:
		break;
	case AK_PIT:
	case AK_ASYNC:
		if (method != HTTP_POST || id != NULL)
			return NULL;	/* only creation names a new id */
		keys |= AFF_KEY_ID;
		break;
	default:
		return NULL;
	}
	/* A compressed body is inflated into buf: sized for the bound. */
	enc = aff_encoding(resp);
	if (enc != AE_IDENTITY)
		clen = enc == AE_UNKNOWN ? 0 : AFFINITY_PEEK_MAX;
	else
		clen = clen > 0 && clen < AFFINITY_PEEK_MAX ? clen :
		    AFFINITY_PEEK_MAX;
	if ((ar = malloc(sizeof(*ar) + clen)) == NULL)
		return NULL;	/* affinity is best effort */
	ar->keys = keys;
	ar->zin.enc = enc;
	ar->zin.state = ZS_START;
	ar->zin.fed = 0;
	ar->len = 0;
	ar->cap = (size_t)clen;
	return ar;
}

void
affinity_response_body(struct affinity_resp *ar, const char *p, size_t n)
{
	size_t room = ar->cap - ar->len;

	if (ar->zin.enc != AE_IDENTITY) {
		if (ar->zin.enc != AE_UNKNOWN)
			aff_zin_feed(&ar->zin, p, n, ar->buf, &ar->len, ar->cap);
		return;
	}
	if (n > room)
		n = room;
	memcpy(ar->buf + ar->len, p, n);
	ar->len += n;
}

/* affinity_json_ids callback: remember one id. */
static void
found_learn(void *arg, const char *id, size_t len)
{
	struct found *f = arg;

	affinity_put(id, len, f->slot, f->now + (uint64_t)f->cfg->affinity_ttl_ms);
	f->n++;
}

int
affinity_response_end(struct affinity_resp *ar, int slot, int complete,
    const struct sw_config *cfg, int *unreadable)
{
	struct found	f = { cfg, slot, 0, now_ms() };
	int		failed;

	*unreadable = 0;
	if (ar == NULL)
		return 0;
	aff_zin_end(&ar->zin);
	failed = ar->zin.enc == AE_UNKNOWN ||
	    (ar->zin.enc != AE_IDENTITY && aff_zin_failed(&ar->zin));
	if (complete && slot >= 0) {
		affinity_json_ids(ar->buf, ar->len, ar->keys, found_learn, &f);
		/* A body cut off short may still have given its ids. */
		if (failed && f.n == 0) {
			*unreadable = 1;
			aff_unreadable_log("search context response",
			    aff_zin_why(&ar->zin));
		}
	}
	free(ar);
	return f.n;
}

/*
 * The scan takes the lock a few hundred buckets at a time, so a request
 * waiting on it never waits for the whole table.
 */
void
affinity_count(uint64_t *n, size_t nslots)
{
	const size_t	chunk = 256;
	uint64_t	now = now_ms();

	memset(n, 0, nslots * sizeof(*n));
	for (size_t b0 = 0; tab.e != NULL && b0 < tab.nbuckets; b0 += chunk) {
		size_t end = b0 + chunk < tab.nbuckets ? b0 + chunk :
		    tab.nbuckets;

		pthread_mutex_lock(&tab.lock);
		for (size_t i = b0 * AFF_WAYS; i < end * AFF_WAYS; i++) {
			const struct aff_entry *e = &tab.e[i];

			if (!AFF_FREE(e, now) && e->slot >= 0 &&
			    (size_t)e->slot < nslots)
				n[e->slot]++;
		}
		pthread_mutex_unlock(&tab.lock);
	}
}
