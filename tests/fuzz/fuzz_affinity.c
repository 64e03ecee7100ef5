/*
 * fuzz_affinity: any bytes as a search response or request body ->
 * affinity_json_ids, the bounded JSON reader that finds scroll, PIT and
 * async-search ids in bodies streaming through the proxy (it sees at most
 * AFFINITY_PEEK_MAX bytes, often cut mid-token).
 *
 * Invariants: every id handed back (decoded into the reader's own
 * bounded buffer) is not empty and is no longer than the text; the
 * reader never reads past len (ASan: the input is copied into a buffer of
 * exactly len bytes); the same text gives the same ids.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "switchover/affinity.h"

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

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct seen	 a, b;
	char		*text;
	int		 keys;

	if (size < 1)
		return 0;
	keys = (data[0] & 7) ? (data[0] & 7) : AFF_KEYS_RESPONSE;
	size--;
	if ((text = malloc(size ? size : 1)) == NULL)
		return 0;
	memcpy(text, data + 1, size);
	a = (struct seen){ text, size, 0, 0 };
	b = a;
	affinity_json_ids(text, size, keys, found, &a);
	affinity_json_ids(text, size, keys, found, &b);
	FUZZ_ASSERT(a.n == b.n && a.sum == b.sum);
	free(text);
	return 0;
}
