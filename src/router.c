/*
 * router: weighted backend choice and server balancing.  Pure functions:
 * callers own all state, so every worker runs them lock-free on its own.
 */
#include "switchover/router.h"

int
router_swrr(const int *weights, int *cur, size_t n)
{
	int	best = -1, total = 0;

	for (size_t i = 0; i < n; i++) {
		if (weights[i] <= 0)
			continue;
		cur[i] += weights[i];
		total += weights[i];
		if (best == -1 || cur[i] > cur[best])
			best = (int)i;
	}
	if (best != -1)
		cur[best] -= total;
	return best;
}

int
router_rr(const struct router_server *s, size_t n, size_t *cursor)
{
	for (size_t k = 0; k < n; k++) {
		size_t i = (*cursor + k) % n;

		if (s[i].usable) {
			*cursor = (i + 1) % n;
			return (int)i;
		}
	}
	return -1;
}

int
router_least_conn(const struct router_server *s, size_t n, size_t *cursor)
{
	int best = -1;

	for (size_t k = 0; k < n; k++) {
		size_t i = (*cursor + k) % n;

		if (s[i].usable && (best == -1 || s[i].active < s[best].active))
			best = (int)i;
	}
	if (best != -1)
		*cursor = ((size_t)best + 1) % n;
	return best;
}

#define ROTL(x, b)	(uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND do {							\
	v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0; v0 = ROTL(v0, 32);	\
	v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2;				\
	v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0;				\
	v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2; v2 = ROTL(v2, 32);	\
} while (0)

/* SipHash-2-4 (Aumasson and Bernstein) of p[0..len) under key (k0, k1). */
uint64_t
router_siphash(uint64_t k0, uint64_t k1, const void *key, size_t len)
{
	const unsigned char	*p = key;
	uint64_t		 v0 = k0 ^ 0x736f6d6570736575ULL;
	uint64_t		 v1 = k1 ^ 0x646f72616e646f6dULL;
	uint64_t		 v2 = k0 ^ 0x6c7967656e657261ULL;
	uint64_t		 v3 = k1 ^ 0x7465646279746573ULL;
	uint64_t		 m, b = (uint64_t)len << 56;
	size_t			 i, tail = len & 7;

	for (i = 0; i + 8 <= len; i += 8) {
		m = 0;
		for (int k = 7; k >= 0; k--)
			m = m << 8 | p[i + (size_t)k];
		v3 ^= m;
		SIPROUND;
		SIPROUND;
		v0 ^= m;
	}
	for (size_t k = 0; k < tail; k++)
		b |= (uint64_t)p[i + k] << (8 * k);
	v3 ^= b;
	SIPROUND;
	SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

/*
 * The key is fixed, not secret: a sticky hash picks a backend, it indexes
 * no table an attacker could flood, and it must agree across workers,
 * hosts and restarts.
 */
uint64_t
router_hash(const void *key, size_t len)
{
	return router_siphash(0x7377697463686f76ULL, 0x65722d737469636bULL,
	    key, len);
}

int
router_sticky(const int *weights, size_t n, uint64_t hash)
{
	uint64_t	total = 0, point, acc = 0;

	for (size_t i = 0; i < n; i++)
		if (weights[i] > 0)
			total += (uint64_t)weights[i];
	if (total == 0)
		return -1;
	/*
	 * floor(u * total) with u = the top 32 bits / 2^32, in integers:
	 * backend i owns points [acc_i, acc_i + w_i), i.e. u in
	 * [acc_i / total, (acc_i + w_i) / total) exactly.
	 */
	point = ((hash >> 32) * total) >> 32;
	for (size_t i = 0; i < n; i++) {
		if (weights[i] <= 0)
			continue;
		acc += (uint64_t)weights[i];
		if (point < acc)
			return (int)i;
	}
	return -1;	/* not reached: point < total */
}
