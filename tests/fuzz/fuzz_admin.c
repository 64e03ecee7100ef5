/*
 * fuzz_admin: any bytes as the body of PUT /weights (or of /switchover,
 * /fallback, whose only key is "reason") -> the admin API's own parsers,
 * reached without evhttp: body_parse (size, JSON, object), reason_parse,
 * weights_parse (admin.c is included for its static functions).
 *
 * Invariants: a refusal is a 400 or 413 with a type and a reason; an
 * accepted body names at least one backend, every weight it sets is what
 * the body said and lies in 0..999, and backends it does not name keep
 * the config's weight; an accepted reason is a short string without
 * control bytes.  Nothing leaks (ASan/LSan) and nothing is published.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/admin.c"

#include "fuzz.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sw_config	*c;
	struct admin_err	 e;
	json_t			*body, *v;
	const char		*reason, *key;
	int			 w[SW_MAX_BACKENDS];

	if (c == NULL)
		c = fuzz_config();
	memset(&e, 0, sizeof(e));
	if ((body = body_parse((const char *)data, size, size > 0 &&
	    data[0] == ' ', &e)) == NULL) {
		FUZZ_ASSERT(e.code == 400 || e.code == 413);
		FUZZ_ASSERT(e.type != NULL && e.reason[0] != '\0');
		FUZZ_ASSERT((e.code == 413) == (size > ADMIN_BODY_MAX));
		return 0;
	}
	FUZZ_ASSERT(json_is_object(body));
	if (reason_parse(body, &reason, &e) == -1) {
		FUZZ_ASSERT(e.code == 400 && e.type != NULL);
	} else if (reason != NULL) {
		FUZZ_ASSERT(strlen(reason) <= REASON_MAX);
		for (const char *s = reason; *s != '\0'; s++)
			FUZZ_ASSERT((unsigned char)*s >= 0x20 && *s != 0x7f);
	}
	if (weights_parse(c, body, w, &e) == -1) {
		FUZZ_ASSERT(e.code == 400 && e.type != NULL &&
		    e.reason[0] != '\0');
	} else {
		int named = 0;

		for (size_t i = 0; i < c->nbackends; i++)
			FUZZ_ASSERT(w[i] >= 0 && w[i] <= SW_WEIGHT_MAX);
		json_object_foreach(body, key, v) {
			struct sw_backend *be;

			if (strcmp(key, "reason") == 0 && json_is_string(v))
				continue;
			FUZZ_ASSERT((be = config_backend(c, key)) != NULL);
			FUZZ_ASSERT(w[be - c->backends] ==
			    (int)json_integer_value(v));
			named++;
		}
		FUZZ_ASSERT(named > 0);
		for (size_t i = 0; i < c->nbackends; i++)
			if (json_object_get(body, c->backends[i].name) == NULL)
				FUZZ_ASSERT(w[i] == c->backends[i].weight);
	}
	json_decref(body);
	return 0;
}
