/*
 * metrics: histogram arithmetic, backend slots, and summing workers.
 *
 * The histogram has exact buckets for 0..15 us, then 8 buckets per
 * power of two: at most 12.5 % relative error, 312 buckets from 1 us to
 * 12 days, and every power of two in microseconds is a bucket boundary,
 * which lets Prometheus "le" bounds be exact.
 */
#include <sys/mman.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "switchover/metrics.h"

static char		*slot_names[SW_MAX_BACKENDS];
static int		 nslots;
static pthread_mutex_t	 slot_lock = PTHREAD_MUTEX_INITIALIZER;

size_t
hist_index(uint64_t us)
{
	unsigned	e;
	size_t		idx;

	if (us < HIST_LINEAR)
		return (size_t)us;
	e = 63u - (unsigned)__builtin_clzll(us);		/* >= 4 */
	idx = HIST_LINEAR + (size_t)(e - 4) * HIST_SUB +
	    (size_t)((us >> (e - HIST_SUB_BITS)) & (HIST_SUB - 1));
	return idx < HIST_BUCKETS ? idx : HIST_BUCKETS - 1;
}

uint64_t
hist_upper(size_t idx)
{
	size_t		 o, s;

	if (idx < HIST_LINEAR)
		return idx;
	o = (idx - HIST_LINEAR) / HIST_SUB + 4;
	s = (idx - HIST_LINEAR) % HIST_SUB;
	return ((uint64_t)(HIST_SUB + s + 1) << (o - HIST_SUB_BITS)) - 1;
}

void
hist_record(struct hist *h, uint64_t us)
{
	M_INC(h->count);
	M_ADD(h->sum_us, us);
	if (us > M_GET(h->max_us))
		__atomic_store_n(&h->max_us, us, __ATOMIC_RELAXED);
	M_INC(h->b[hist_index(us)]);
}

void
hist_add(struct hist *dst, const struct hist *src)
{
	uint64_t m = M_GET(src->max_us);

	dst->count += M_GET(src->count);
	dst->sum_us += M_GET(src->sum_us);
	if (m > dst->max_us)
		dst->max_us = m;
	for (size_t i = 0; i < HIST_BUCKETS; i++)
		dst->b[i] += M_GET(src->b[i]);
}

void
hist_sub(struct hist *dst, const struct hist *a, const struct hist *b)
{
	size_t top = 0;

	dst->count = a->count - b->count;
	dst->sum_us = a->sum_us - b->sum_us;
	for (size_t i = 0; i < HIST_BUCKETS; i++) {
		dst->b[i] = a->b[i] - b->b[i];
		if (dst->b[i] != 0)
			top = i;
	}
	/* The window's max is only known to its bucket. */
	dst->max_us = dst->count ? hist_upper(top) : 0;
	if (dst->count && a->max_us < dst->max_us)
		dst->max_us = a->max_us;
}

uint64_t
hist_quantile(const struct hist *h, double q)
{
	uint64_t	rank, seen = 0;

	if (h->count == 0)
		return 0;
	if (q <= 0)
		q = 0;
	rank = (uint64_t)(q * (double)h->count + 0.999999);
	if (rank == 0)
		rank = 1;
	if (rank > h->count)
		rank = h->count;
	for (size_t i = 0; i < HIST_BUCKETS; i++) {
		seen += h->b[i];
		if (seen >= rank) {
			uint64_t u = hist_upper(i);
			return u < h->max_us ? u : h->max_us;
		}
	}
	return h->max_us;
}

int
metrics_slot(const char *name)
{
	int slot = -1;

	pthread_mutex_lock(&slot_lock);
	for (int i = 0; i < nslots; i++)
		if (strcmp(slot_names[i], name) == 0) {
			slot = i;
			goto done;
		}
	if (nslots < SW_MAX_BACKENDS &&
	    (slot_names[nslots] = strdup(name)) != NULL)
		slot = nslots++;
done:
	pthread_mutex_unlock(&slot_lock);
	return slot;
}

const char *
metrics_slot_name(int slot)
{
	return slot >= 0 && slot < nslots ? slot_names[slot] : NULL;
}

int
metrics_nslots(void)
{
	return nslots;
}

/* Every field of a route_metrics before its histogram is a uint64_t. */
#define ROUTE_NFIX	(offsetof(struct route_metrics, latency) / 8)

void
metrics_route(struct worker_metrics *m, int rs, int bs, int status,
    uint64_t us)
{
	struct route_metrics *r;

	if (m->routes == NULL || rs < 0 || rs >= SW_ROUTE_SLOTS || bs < 0 ||
	    bs >= SW_MAX_BACKENDS)
		return;
	r = &m->routes->c[bs][rs];
	M_INC(r->requests);
	if (status >= 100 && status < 600)
		M_INC(r->responses[status / 100 - 1]);
	if (status == 429)
		M_INC(r->responses_429);
	hist_record(&r->latency, us);
}

const struct route_metrics *
metrics_route_get(const struct route_table *t, int rs, int bs)
{
	if (t == NULL || rs < 0 || rs >= SW_ROUTE_SLOTS || bs < 0 ||
	    bs >= SW_MAX_BACKENDS)
		return NULL;
	return &t->c[bs][rs];
}

/*
 * Straight from mmap: its pages are the kernel's zero page until
 * written, whereas calloc may take them from the heap and clear them all
 * (1 MB more RSS, measured, for the 9 tables of a 2-worker proxy).
 */
struct route_table *
metrics_route_table_new(void)
{
	void *p = mmap(NULL, sizeof(struct route_table), PROT_READ |
	    PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

void
metrics_route_table_free(struct route_table *t)
{
	if (t != NULL)
		munmap(t, sizeof(*t));
}

int
metrics_routes_alloc(struct worker_metrics *m)
{
	return (m->routes = metrics_route_table_new()) == NULL ? -1 : 0;
}

void
metrics_routes_free(struct worker_metrics *m)
{
	metrics_route_table_free(m->routes);
	m->routes = NULL;
}

/* Backend slots whose route cells can hold anything. */
static size_t
route_backends(void)
{
	int n = metrics_nslots();

	return n < SW_MAX_BACKENDS ? (size_t)n : SW_MAX_BACKENDS;
}

void
metrics_route_sum(struct route_table *out, struct worker_metrics *const *per,
    size_t n)
{
	size_t nb = route_backends();

	memset(out->c, 0, nb * sizeof(out->c[0]));
	for (size_t w = 0; w < n; w++) {
		const struct route_table *src = per[w]->routes;

		for (size_t b = 0; src != NULL && b < nb; b++)
			for (size_t r = 0; r < SW_ROUTE_SLOTS; r++) {
				const struct route_metrics *s = &src->c[b][r];
				struct route_metrics *d = &out->c[b][r];

				for (size_t i = 0; i < ROUTE_NFIX; i++)
					((uint64_t *)d)[i] += __atomic_load_n(
					    &((const uint64_t *)s)[i],
					    __ATOMIC_RELAXED);
				hist_add(&d->latency, &s->latency);
			}
	}
}

void
metrics_route_sub(struct route_table *out, const struct route_table *a,
    const struct route_table *b)
{
	for (size_t s = 0; s < route_backends(); s++)
		for (size_t r = 0; r < SW_ROUTE_SLOTS; r++) {
			const struct route_metrics	*ra = &a->c[s][r];
			const struct route_metrics	*rb = &b->c[s][r];
			struct route_metrics		*ro = &out->c[s][r];

			for (size_t i = 0; i < ROUTE_NFIX; i++)
				((uint64_t *)ro)[i] = ((const uint64_t *)ra)[i] -
				    ((const uint64_t *)rb)[i];
			hist_sub(&ro->latency, &ra->latency, &rb->latency);
		}
}

void
metrics_sum(struct worker_metrics *out, struct worker_metrics *const *per,
    size_t n)
{
	memset(out, 0, sizeof(*out));
	for (size_t w = 0; w < n; w++) {
		const uint64_t	*src = (const uint64_t *)&per[w]->l;
		uint64_t	*dst = (uint64_t *)&out->l;

		for (size_t i = 0; i < sizeof(out->l) / 8; i++)
			dst[i] += __atomic_load_n(&src[i], __ATOMIC_RELAXED);
		for (size_t b = 0; b < SW_MAX_BACKENDS; b++) {
			const struct backend_metrics	*sb = &per[w]->b[b];
			struct backend_metrics		*db = &out->b[b];
			size_t				 nfix;

			/* Every field before the histogram is a uint64_t. */
			nfix = offsetof(struct backend_metrics, latency) / 8;
			for (size_t i = 0; i < nfix; i++)
				((uint64_t *)db)[i] += __atomic_load_n(
				    &((const uint64_t *)sb)[i], __ATOMIC_RELAXED);
			hist_add(&db->latency, &sb->latency);
		}
	}
}

void
metrics_sub(struct worker_metrics *out, const struct worker_metrics *a,
    const struct worker_metrics *b)
{
	const size_t nfix = offsetof(struct backend_metrics, latency) / 8;

	for (size_t i = 0; i < sizeof(out->l) / 8; i++)
		((uint64_t *)&out->l)[i] = ((const uint64_t *)&a->l)[i] -
		    ((const uint64_t *)&b->l)[i];
	for (size_t s = 0; s < SW_MAX_BACKENDS; s++) {
		for (size_t i = 0; i < nfix; i++)
			((uint64_t *)&out->b[s])[i] =
			    ((const uint64_t *)&a->b[s])[i] -
			    ((const uint64_t *)&b->b[s])[i];
		hist_sub(&out->b[s].latency, &a->b[s].latency,
		    &b->b[s].latency);
	}
}

const char *
metrics_error_name(enum proxy_error e)
{
	static const char *const names[PERR_MAX] = { "connect", "timeout",
	    "reset", "bad_response", "no_server", "tls" };

	return e < PERR_MAX && names[e] != NULL ? names[e] : "unknown";
}

const char *
metrics_close_name(enum close_reason r)
{
	static const char *const names[CLOSE_MAX] = { "client",
	    "keepalive_timeout", "header_timeout", "io_timeout", "bad_request",
	    "upstream_error", "connection_close", "shutdown", "drain", "error",
	    "recycled" };

	return r < CLOSE_MAX && names[r] != NULL ? names[r] : "unknown";
}
