/*
 * fuzz.h: what the fuzz targets share: an assertion that survives
 * NDEBUG, and a strict second parse of a head the proxy built, to check
 * that what it would send is one unambiguous message.
 */
#ifndef SWITCHOVER_FUZZ_H
#define SWITCHOVER_FUZZ_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <llhttp.h>

#include "switchover/config.h"

#define FUZZ_ASSERT(x) do {						\
	if (!(x)) {							\
		fprintf(stderr, "%s:%d: invariant broken: %s\n",	\
		    __FILE__, __LINE__, #x);				\
		abort();						\
	}								\
} while (0)

/* A small valid config with the defaults (affinity on) and backends
 * source (weight 3) and target (weight 1), for targets that drive
 * client.c (settings from c->gen->cfg) or the admin API's parsers. */
static inline struct sw_config *
fuzz_config(void)
{
	static const char text[] = "[listener]\naddress = 127.0.0.1:1\n"
	    "[admin]\naddress = off\n"
	    "[backend source]\nservers = 127.0.0.1:2\nweight = 3\n"
	    "[backend target]\nservers = 127.0.0.1:3\nweight = 1\n";
	struct config_errors	 e = { 0 };
	struct sw_config	*c = config_parse("fuzz", text, sizeof(text) - 1, &e);

	FUZZ_ASSERT(c != NULL);
	config_errors_free(&e);
	return c;
}

/* What a strict parser saw in a head the proxy built. */
struct reparse {
	char	name[64];	/* header name being collected */
	size_t	name_len;
	int	in_value;
	int	hop;		/* hop-by-hop headers seen */
	int	n_cl, n_te, n_host, n_conn;
	int	done;		/* headers complete reached */
};

/* Did the current header name equal lit (case-insensitive)? */
static inline int
reparse_is(const struct reparse *r, const char *lit)
{
	return strlen(lit) == r->name_len &&
	    strncasecmp(r->name, lit, r->name_len) == 0;
}

/* Classify the header whose name is complete. */
static inline void
reparse_count(struct reparse *r)
{
	static const char *const hop[] = { "keep-alive", "proxy-connection",
	    "te", "trailer", "upgrade", "proxy-authenticate",
	    "proxy-authorization" };

	for (size_t i = 0; i < sizeof(hop) / sizeof(hop[0]); i++)
		if (reparse_is(r, hop[i]))
			r->hop++;
	r->n_cl += reparse_is(r, "content-length");
	r->n_te += reparse_is(r, "transfer-encoding");
	r->n_host += reparse_is(r, "host");
	r->n_conn += reparse_is(r, "connection");
}

static inline int
reparse_on_field(llhttp_t *p, const char *at, size_t len)
{
	struct reparse *r = p->data;

	if (r->in_value) {
		r->name_len = 0;
		r->in_value = 0;
	}
	/* Names longer than the buffer cannot match a name we look for. */
	if (r->name_len + len <= sizeof(r->name))
		memcpy(r->name + r->name_len, at, len);
	r->name_len += len;
	return 0;
}

/* A name is complete: count it; a value (maybe empty) follows. */
static inline int
reparse_on_field_complete(llhttp_t *p)
{
	struct reparse *r = p->data;

	if (r->name_len > sizeof(r->name))
		r->name_len = sizeof(r->name) + 1;	/* matches nothing */
	reparse_count(r);
	r->in_value = 1;
	return 0;
}

static inline int
reparse_on_headers_complete(llhttp_t *p)
{
	struct reparse *r = p->data;

	r->done = 1;
	return HPE_PAUSED;
}

/*
 * Parse a whole head strictly (llhttp's defaults, no lenient flags).
 * Returns 0 when it ends exactly at the blank line, -1 otherwise.
 */
static inline int
reparse_head(llhttp_type_t type, const char *buf, size_t len,
    llhttp_t *p, struct reparse *r)
{
	llhttp_settings_t	s;
	llhttp_errno_t		e;

	llhttp_settings_init(&s);
	s.on_header_field = reparse_on_field;
	s.on_header_field_complete = reparse_on_field_complete;
	s.on_headers_complete = reparse_on_headers_complete;
	memset(r, 0, sizeof(*r));
	llhttp_init(p, type, &s);
	p->data = r;
	e = llhttp_execute(p, buf, len);
	if (e != HPE_PAUSED || !r->done)
		return -1;
	return llhttp_get_error_pos(p) == buf + len ? 0 : -1;
}

#endif
