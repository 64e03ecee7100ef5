/*
 * config: INI parsing, validation, and the life of struct sw_config.
 *
 * Parsing collects every error ("FILE:LINE: message") instead of stopping
 * at the first, then runs a semantic pass over the whole file (no backend,
 * all weights zero, duplicate servers).  Nothing here touches the network:
 * server names that are not IP literals are resolved later, without
 * blocking, by the dns module.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "switchover/config.h"

#define MAX_CONFIG_SIZE	(1024 * 1024)

struct parse_ctx {
	const char		*file;
	int			 line;
	struct config_errors	*errs;
	struct sw_config	*cfg;
	struct sw_backend	*backend;	/* current [backend NAME], or NULL */
	struct sw_listener	*listener;	/* current [listener ...], or NULL */
	struct sw_route		*route;		/* current [route NAME], or NULL */
	char			 section[64];
};

static char	*trim(char *);
static void	 config_listener_free(struct sw_listener *);

/* Append one formatted error to errs. */
static void
cerr(struct parse_ctx *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void
cerr(struct parse_ctx *p, const char *fmt, ...)
{
	char	 buf[512];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	config_error(p->errs, p->file, p->line, "%s", buf);
}

void
config_error(struct config_errors *errs, const char *file, int line,
    const char *fmt, ...)
{
	char	 buf[1024], **m;
	int	 n;
	va_list	 ap;

	if (errs == NULL)
		return;
	n = snprintf(buf, sizeof(buf), "%s:%d: ", file, line);
	if (n < 0 || (size_t)n >= sizeof(buf))
		n = 0;
	va_start(ap, fmt);
	vsnprintf(buf + n, sizeof(buf) - (size_t)n, fmt, ap);
	va_end(ap);
	m = realloc(errs->msgs, (errs->n + 1) * sizeof(*m));
	if (m == NULL)
		return;
	errs->msgs = m;
	if ((m[errs->n] = strdup(buf)) != NULL)
		errs->n++;
}

void
config_errors_free(struct config_errors *e)
{
	for (size_t i = 0; i < e->n; i++)
		free(e->msgs[i]);
	free(e->msgs);
	e->msgs = NULL;
	e->n = 0;
}

int
config_parse_duration_ms(const char *s, int *out)
{
	char		*end;
	double		 v, mul = 1000;	/* bare numbers are seconds */

	errno = 0;
	v = strtod(s, &end);
	if (end == s || errno != 0 || v < 0 || !isfinite(v))
		return -1;
	if (strcmp(end, "ms") == 0)
		mul = 1;
	else if (strcmp(end, "s") == 0 || *end == '\0')
		mul = 1000;
	else if (strcmp(end, "m") == 0 || strcmp(end, "min") == 0)
		mul = 60000;
	else if (strcmp(end, "h") == 0)
		mul = 3600000;
	else
		return -1;
	v *= mul;
	if (v > INT_MAX)
		return -1;
	*out = (int)v;
	return 0;
}

int
config_parse_size(const char *s, size_t *out)
{
	char			*end;
	unsigned long long	 v, mul = 1;

	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0)
		return -1;
	if (*end == 'k' || *end == 'K')
		mul = 1024ULL, end++;
	else if (*end == 'm' || *end == 'M')
		mul = 1024ULL * 1024, end++;
	else if (*end == 'g' || *end == 'G')
		mul = 1024ULL * 1024 * 1024, end++;
	if (*end == 'b' || *end == 'B')
		end++;
	if (*end != '\0' || v > SIZE_MAX / mul)
		return -1;
	*out = (size_t)(v * mul);
	return 0;
}

int
config_parse_bool(const char *s, int *out)
{
	static const char *const yes[] = { "yes", "on", "true", "1" };
	static const char *const no[] = { "no", "off", "false", "0" };

	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(s, yes[i]) == 0)
			return *out = 1, 0;
		if (strcasecmp(s, no[i]) == 0)
			return *out = 0, 0;
	}
	return -1;
}

/* Parse a decimal integer in [lo, hi]. */
static int
parse_int(const char *s, long lo, long hi, int *out)
{
	char	*end;
	long	 v;

	if (*s == '\0')
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (*end != '\0' || errno != 0 || v < lo || v > hi)
		return -1;
	*out = (int)v;
	return 0;
}

int
config_split_hostport(const char *s, char **host, uint16_t *port)
{
	const char	*colon, *h = s;
	size_t		 hlen;
	int		 p;

	if (*s == '[') {
		const char *rb = strchr(s, ']');
		if (rb == NULL || rb[1] != ':')
			return -1;
		h = s + 1;
		hlen = (size_t)(rb - h);
		colon = rb + 1;
	} else {
		if ((colon = strrchr(s, ':')) == NULL)
			return -1;
		if (memchr(s, ':', (size_t)(colon - s)) != NULL)
			return -1;	/* bare IPv6 needs brackets */
		hlen = (size_t)(colon - s);
	}
	if (parse_int(colon + 1, 0, 65535, &p) == -1)
		return -1;
	for (size_t i = 0; i < hlen; i++) {
		unsigned char ch = (unsigned char)h[i];
		if (!isalnum(ch) && ch != '.' && ch != '-' && ch != ':' &&
		    ch != '_' && ch != '%')
			return -1;
	}
	if ((*host = strndup(h, hlen)) == NULL)
		return -1;
	*port = (uint16_t)p;
	return 0;
}

int
config_addr_literal(const char *host, uint16_t port,
    struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (*host == '\0' || strcmp(host, "*") == 0) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		sin->sin_addr.s_addr = htonl(INADDR_ANY);
		*len = sizeof(*sin);
		return 1;
	}
	if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		*len = sizeof(*sin);
		return 1;
	}
	if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		*len = sizeof(*sin6);
		return 1;
	}
	for (const char *c = host; *c; c++)
		if (!isalnum((unsigned char)*c) && *c != '.' && *c != '-' &&
		    *c != '_')
			return -1;
	return 0;
}

/* Set defaults: what a careful operator would pick, ALB-like. */
static void
config_defaults(struct sw_config *c)
{
	c->refcnt = 1;
	c->workers = 0;			/* 0 = one per core */
	c->max_connections = 10000;
	c->x_forwarded_for = 1;
	c->x_forwarded_proto = 1;
	c->shutdown_timeout_ms = 30000;
	c->dns_refresh_ms = 30000;
	c->backlog = 1024;
	c->header_timeout_ms = 10000;
	c->keepalive_timeout_ms = 60000;
	c->client_timeout_ms = 60000;
	c->max_header_size = 64 * 1024;
	c->connect_timeout_ms = 5000;
	c->first_byte_timeout_ms = 60000;
	c->io_timeout_ms = 60000;
	c->pool_idle_timeout_ms = 50000;
	c->pool_max_idle = 64;
	c->admin_max_conns = 64;
	c->admin_request_timeout_ms = 10000;
	c->max_fails = 3;
	c->fail_timeout_ms = 10000;
	c->retry_body_max = 64 * 1024;
	c->drain_spread_ms = 5000;
	c->drain_on_weight_zero = 1;
	c->affinity = 1;
	c->affinity_ttl_ms = 3600000;
	c->affinity_max = 16384;
	c->aws.pull_interval_ms = 10000;
	c->aws.request_timeout_ms = 10000;
	c->aws.preflight_timeout_ms = 600000;
	c->cloudwatch.interval_ms = 60000;
	c->ramp.nsteps = 6;
	memcpy(c->ramp.steps, (const int[]){ 1, 5, 10, 25, 50, 100 },
	    6 * sizeof(int));
	c->ramp.step_interval_ms = 60000;
	c->ramp.check_interval_ms = 5000;
	c->ramp.min_requests = 100;
	c->ramp.max_error_rate_delta = 1.0;
	c->ramp.max_p99_ratio = 2.0;
	c->ramp.min_p99_ms = 20;
	c->ramp.max_connect_errors = 0;
	c->ramp.failure_limit = 2;
}

/* Replace *dst with a copy of v. */
static int
set_str(struct parse_ctx *p, char **dst, const char *v)
{
	char *s;

	if ((s = strdup(v)) == NULL) {
		cerr(p, "out of memory");
		return -1;
	}
	free(*dst);
	*dst = s;
	return 0;
}

/*
 * [admin] allowed_hosts: names (or IP literals, [v6] bracketed), each with
 * an optional :PORT, separated by commas or blanks.  0, or -1 after
 * naming every bad entry.
 */
static int
hosts_valid(struct parse_ctx *p, const char *v)
{
	const char	*s = v, *h;
	size_t		 n, hl;
	int		 rc = 0, any = 0;

	for (;;) {
		s += strspn(s, ", \t");
		if ((n = strcspn(s, ", \t")) == 0)
			break;
		any = 1;
		h = s;
		if (*h == '[') {
			const char *rb = memchr(h, ']', n);

			hl = rb == NULL ? 0 : (size_t)(rb - h) + 1;
		} else
			hl = strcspn(h, ":, \t");
		if (hl > n)
			hl = 0;
		if (hl > 0 && hl < n) {
			int port;
			char buf[8];
			size_t pl = n - hl - 1;

			if (h[hl] != ':' || pl == 0 || pl >= sizeof(buf))
				hl = 0;
			else {
				memcpy(buf, h + hl + 1, pl);
				buf[pl] = '\0';
				if (parse_int(buf, 1, 65535, &port) == -1)
					hl = 0;
			}
		}
		for (size_t i = *h == '[' ? 1 : 0; hl > 0 && i < hl -
		    (*h == '[' ? 1 : 0); i++) {
			unsigned char ch = (unsigned char)h[i];

			if (!isalnum(ch) && ch != '.' && ch != '-' &&
			    ch != '_' && !(ch == ':' && *h == '['))
				hl = 0;
		}
		if (hl == 0 || hl > 255 || (*h == '[' && hl < 3)) {
			cerr(p, "allowed_hosts: \"%.*s\" is not a host name "
			    "with an optional :PORT", (int)(n > 260 ? 260 : n), s);
			rc = -1;
		}
		s += n;
	}
	if (!any) {
		cerr(p, "allowed_hosts: empty: list host names, or remove it");
		rc = -1;
	}
	return rc;
}

/* Parse "a:1, b:2" into the current backend's server list. */
static void
parse_servers(struct parse_ctx *p, struct sw_backend *b, const char *v)
{
	char	*copy, *tok, *save = NULL;

	for (size_t i = 0; i < b->nservers; i++) {
		free(b->servers[i].host);
		free(b->servers[i].name);
	}
	free(b->servers);
	b->servers = NULL;
	b->nservers = 0;
	if ((copy = strdup(v)) == NULL)
		return;
	b->servers = calloc(SW_MAX_SERVERS, sizeof(*b->servers));
	if (b->servers == NULL)
		goto done;
	for (tok = strtok_r(copy, ", \t", &save); tok != NULL;
	    tok = strtok_r(NULL, ", \t", &save)) {
		struct sw_server	*s;
		char			*host = NULL;
		uint16_t		 port;
		int			 r;

		if (b->nservers == SW_MAX_SERVERS) {
			cerr(p, "too many servers in backend %s (max %d)",
			    b->name, SW_MAX_SERVERS);
			break;
		}
		if (config_split_hostport(tok, &host, &port) == -1 ||
		    port == 0 || *host == '\0') {
			cerr(p, "servers: \"%s\" is not host:port", tok);
			free(host);
			continue;
		}
		s = &b->servers[b->nservers];
		r = config_addr_literal(host, port, &s->addr, &s->addrlen);
		if (r == -1) {
			cerr(p, "servers: \"%s\" is not a valid host name", host);
			free(host);
			continue;
		}
		for (size_t i = 0; i < b->nservers; i++) {
			if (strcmp(b->servers[i].host, host) == 0 &&
			    b->servers[i].port == port) {
				cerr(p, "servers: %s listed twice", tok);
				r = -1;
			}
		}
		if (r == -1) {
			free(host);
			continue;
		}
		s->host = host;
		s->port = port;
		s->literal = s->resolved = r;
		if (asprintf(&s->name, "%s%s%s:%u", strchr(host, ':') ? "[" : "",
		    host, strchr(host, ':') ? "]" : "", port) == -1)
			s->name = NULL;
		b->nservers++;
	}
done:
	free(copy);
}

/* Section names: 1-32 of [A-Za-z0-9_-]. */
static int
valid_name(const char *name)
{
	return *name != '\0' && strlen(name) <= 32 &&
	    strspn(name, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") == strlen(name);
}

/*
 * [listener] (unnamed, may appear once and holds the shared options) or
 * [listener NAME]: find or add the listener the next keys belong to.
 */
static struct sw_listener *
parse_listener_section(struct parse_ctx *p, const char *name)
{
	struct sw_config	*c = p->cfg;
	struct sw_listener	*l;

	if (*name != '\0' && !valid_name(name)) {
		cerr(p, "listener name \"%s\" must be 1-32 of [A-Za-z0-9_-]",
		    name);
		snprintf(p->section, sizeof(p->section), "?");
		return NULL;
	}
	for (size_t i = 0; i < c->nlisteners; i++) {
		if (strcmp(c->listeners[i].name, name) != 0)
			continue;
		if (*name == '\0')
			return &c->listeners[i];
		cerr(p, "listener %s defined twice", name);
		snprintf(p->section, sizeof(p->section), "?");
		return NULL;
	}
	if (c->nlisteners == SW_MAX_LISTENERS) {
		cerr(p, "too many listeners (max %d)", SW_MAX_LISTENERS);
		snprintf(p->section, sizeof(p->section), "?");
		return NULL;
	}
	l = &c->listeners[c->nlisteners];
	memset(l, 0, sizeof(*l));
	if ((l->name = strdup(name)) == NULL) {
		cerr(p, "out of memory");
		snprintf(p->section, sizeof(p->section), "?");
		return NULL;
	}
	l->tls.line = p->line;
	c->nlisteners++;
	return l;
}

/*
 * The tls_* keys of a listener (server side) or a backend (client side).
 * Returns 1 if key was one of them (handled, errors reported), else 0.
 */
static int
parse_tls_key(struct parse_ctx *p, struct sw_tls *t, int backend,
    const char *key, const char *val)
{
	if (strcmp(key, "tls_cert") == 0) {
		t->cert_line = p->line;
		set_str(p, &t->cert, val);
	} else if (strcmp(key, "tls_key") == 0) {
		t->key_line = p->line;
		set_str(p, &t->key, val);
	} else if (strcmp(key, "tls_min_version") == 0) {
		if (strcmp(val, "1.2") == 0)
			t->min_version = 12;
		else if (strcmp(val, "1.3") == 0)
			t->min_version = 13;
		else
			cerr(p, "tls_min_version: \"%s\" is not 1.2 or 1.3", val);
	} else if (strcmp(key, "tls_ciphers") == 0)
		set_str(p, &t->ciphers, val);
	else if (strcmp(key, "tls_ciphersuites") == 0)
		set_str(p, &t->ciphersuites, val);
	else if (!backend)
		return 0;
	else if (strcmp(key, "tls") == 0) {
		if (config_parse_bool(val, &t->enabled) == -1)
			cerr(p, "tls: \"%s\" is not on or off", val);
	} else if (strcmp(key, "tls_verify") == 0) {
		if (config_parse_bool(val, &t->verify) == -1)
			cerr(p, "tls_verify: \"%s\" is not on or off", val);
	} else if (strcmp(key, "tls_ca_file") == 0) {
		t->ca_line = p->line;
		set_str(p, &t->ca_file, val);
	} else if (strcmp(key, "tls_server_name") == 0) {
		if (*val == '\0' || strlen(val) > 253 ||
		    strspn(val, "abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:_") != strlen(val))
			cerr(p, "tls_server_name: \"%s\" is not a host name or "
			    "IP address", val);
		else
			set_str(p, &t->server_name, val);
	} else
		return 0;
	return 1;
}

/* [route NAME]: add a route (file order is match order). */
static void
parse_route_section(struct parse_ctx *p, const char *name)
{
	struct sw_route *r;

	snprintf(p->section, sizeof(p->section), "?");
	if (!valid_name(name) || strcmp(name, "default") == 0) {
		cerr(p, "route name \"%s\" must be 1-32 of [A-Za-z0-9_-] and "
		    "not \"default\" (the backends' own weights)", name);
		return;
	}
	if (config_route(p->cfg, name) != NULL) {
		cerr(p, "route %s defined twice", name);
		return;
	}
	if (p->cfg->nroutes == SW_MAX_ROUTES) {
		cerr(p, "too many routes (max %d)", SW_MAX_ROUTES);
		return;
	}
	r = &p->cfg->routes[p->cfg->nroutes];
	memset(r, 0, sizeof(*r));
	r->metric_slot = -1;
	r->line = p->line;
	if ((r->name = strdup(name)) == NULL) {
		cerr(p, "out of memory");
		return;
	}
	p->cfg->nroutes++;
	p->route = r;
	snprintf(p->section, sizeof(p->section), "route");
}

/* Start a [section], [listener NAME], [backend NAME] or [route NAME]. */
static void
parse_section(struct parse_ctx *p, char *s)
{
	static const char *const plain[] = { "proxy", "upstream", "routing",
	    "drain", "affinity", "admin", "state", "aws", "cloudwatch", "ramp" };
	char	*name;

	p->backend = NULL;
	p->listener = NULL;
	p->route = NULL;
	p->section[0] = '\0';
	if (strcmp(s, "listener") == 0 || (strncmp(s, "listener", 8) == 0 &&
	    isspace((unsigned char)s[8]))) {
		snprintf(p->section, sizeof(p->section), "listener");
		p->listener = parse_listener_section(p, trim(s + 8));
		return;
	}
	if (strncmp(s, "backend", 7) == 0 && isspace((unsigned char)s[7])) {
		name = s + 8;
		while (isspace((unsigned char)*name))
			name++;
		if (!valid_name(name)) {
			cerr(p, "backend name \"%s\" must be 1-32 of [A-Za-z0-9_-]",
			    name);
			return;
		}
		if (config_backend(p->cfg, name) != NULL) {
			cerr(p, "backend %s defined twice", name);
			return;
		}
		if (p->cfg->nbackends == SW_MAX_BACKENDS) {
			cerr(p, "too many backends (max %d)", SW_MAX_BACKENDS);
			return;
		}
		p->backend = &p->cfg->backends[p->cfg->nbackends++];
		memset(p->backend, 0, sizeof(*p->backend));
		p->backend->weight = -1;
		p->backend->metric_slot = -1;
		p->backend->tls.verify = -1;
		p->backend->tls.line = p->line;
		if ((p->backend->name = strdup(name)) == NULL)
			p->cfg->nbackends--, p->backend = NULL;
		snprintf(p->section, sizeof(p->section), "backend");
		return;
	}
	if (strncmp(s, "route", 5) == 0 && isspace((unsigned char)s[5])) {
		parse_route_section(p, trim(s + 6));
		return;
	}
	for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
		if (strcmp(s, plain[i]) == 0) {
			snprintf(p->section, sizeof(p->section), "%s", plain[i]);
			return;
		}
	}
	cerr(p, "unknown section [%s]", s);
	snprintf(p->section, sizeof(p->section), "?");
}

#define KEY(sec, k)	(strcmp(p->section, sec) == 0 && strcmp(key, k) == 0)

/* Duration keys: section, key, field. */
static const struct {
	const char	*section, *key;
	size_t		 off;
} durations[] = {
	{ "proxy", "shutdown_timeout", offsetof(struct sw_config, shutdown_timeout_ms) },
	{ "proxy", "dns_refresh", offsetof(struct sw_config, dns_refresh_ms) },
	{ "listener", "header_timeout", offsetof(struct sw_config, header_timeout_ms) },
	{ "listener", "keepalive_timeout", offsetof(struct sw_config, keepalive_timeout_ms) },
	{ "listener", "client_timeout", offsetof(struct sw_config, client_timeout_ms) },
	{ "upstream", "connect_timeout", offsetof(struct sw_config, connect_timeout_ms) },
	{ "upstream", "first_byte_timeout", offsetof(struct sw_config, first_byte_timeout_ms) },
	{ "upstream", "io_timeout", offsetof(struct sw_config, io_timeout_ms) },
	{ "upstream", "pool_idle_timeout", offsetof(struct sw_config, pool_idle_timeout_ms) },
	{ "upstream", "fail_timeout", offsetof(struct sw_config, fail_timeout_ms) },
	{ "listener", "max_connection_age", offsetof(struct sw_config, max_connection_age_ms) },
	{ "drain", "spread", offsetof(struct sw_config, drain_spread_ms) },
	{ "affinity", "ttl", offsetof(struct sw_config, affinity_ttl_ms) },
	{ "aws", "pull_interval", offsetof(struct sw_config, aws.pull_interval_ms) },
	{ "aws", "request_timeout", offsetof(struct sw_config, aws.request_timeout_ms) },
	{ "aws", "preflight_timeout", offsetof(struct sw_config, aws.preflight_timeout_ms) },
	{ "cloudwatch", "interval", offsetof(struct sw_config, cloudwatch.interval_ms) },
	{ "ramp", "step_interval", offsetof(struct sw_config, ramp.step_interval_ms) },
	{ "ramp", "check_interval", offsetof(struct sw_config, ramp.check_interval_ms) },
	{ "ramp", "min_p99", offsetof(struct sw_config, ramp.min_p99_ms) },
};

/* [aws] string keys, also walked by config_clone() and config_unref(). */
static const struct {
	const char	*key;
	size_t		 off;
} aws_strs[] = {
	{ "region", offsetof(struct sw_config, aws.region) },
	{ "listener_arn", offsetof(struct sw_config, aws.listener_arn) },
	{ "rule_arn", offsetof(struct sw_config, aws.rule_arn) },
	{ "source_target_group", offsetof(struct sw_config, aws.source_tg) },
	{ "target_target_group", offsetof(struct sw_config, aws.target_tg) },
	{ "ecs_cluster", offsetof(struct sw_config, aws.ecs_cluster) },
	{ "source_service", offsetof(struct sw_config, aws.source_service) },
	{ "target_service", offsetof(struct sw_config, aws.target_service) },
};
#define NAWS_STRS	(sizeof(aws_strs) / sizeof(aws_strs[0]))
#define AWS_STR(c, i)	(*(char **)((char *)(c) + aws_strs[i].off))

/*
 * [cloudwatch] keys.  A namespace is what CloudWatch accepts (1-255 of
 * letters, digits and . - _ / # : and space), minus AWS's own "AWS/".
 */
static void
parse_cloudwatch(struct parse_ctx *p, const char *key, const char *val)
{
	struct sw_cloudwatch *cw = &p->cfg->cloudwatch;

	if (strcmp(key, "emf") == 0) {
		if (*val == '\0')
			cerr(p, "emf: empty: say off, stdout or a file path");
		else if (strcmp(val, "off") == 0) {
			free(cw->emf);
			cw->emf = NULL;
		} else
			set_str(p, &cw->emf, val);
	} else if (strcmp(key, "namespace") == 0) {
		if (*val == '\0' || strlen(val) > 255 || strncmp(val, "AWS/", 4) ==
		    0 || strspn(val, "abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_/#: ") != strlen(val))
			cerr(p, "namespace: \"%s\" is not a CloudWatch namespace "
			    "(1-255 of A-Z a-z 0-9 . - _ / # : space, not AWS/...)",
			    val);
		else
			set_str(p, &cw->namespace, val);
	} else if (strcmp(key, "dimensions") == 0) {
		/* route: a line per route and backend besides the backends'. */
		if (strcmp(val, "backend") == 0)
			cw->by_route = 0;
		else if (strcmp(val, "route") == 0)
			cw->by_route = 1;
		else
			cerr(p, "dimensions: \"%s\" is not backend or route",
			    val);
	} else
		cerr(p, "unknown key \"%s\" in [cloudwatch]", key);
}

int
config_ramp_steps_check(const int *steps, size_t n, char *err, size_t errlen)
{
	if (n == 0 || n > SW_RAMP_MAX_STEPS) {
		snprintf(err, errlen, "steps: 1 to %d steps", SW_RAMP_MAX_STEPS);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		if (steps[i] < 1 || steps[i] > 100 ||
		    (i > 0 && steps[i] <= steps[i - 1])) {
			snprintf(err, errlen, "steps: percentages must be "
			    "1-100 and strictly increasing");
			return -1;
		}
	if (steps[n - 1] != 100) {
		snprintf(err, errlen, "steps: the last step must be 100");
		return -1;
	}
	return 0;
}

/* A [ramp] number in lo..hi (percent points, a ratio); 0 or -1. */
static int
parse_real(const char *s, double lo, double hi, double *out)
{
	char	*end;
	double	 v;

	errno = 0;
	v = strtod(s, &end);
	if (end == s || *end != '\0' || errno != 0 || !isfinite(v) || v < lo ||
	    v > hi)
		return -1;
	*out = v;
	return 0;
}

/* One key of [ramp] other than the durations. */
static void
parse_ramp_key(struct parse_ctx *p, const char *key, const char *val)
{
	struct sw_ramp	*r = &p->cfg->ramp;
	char		*copy, *tok, *save = NULL, err[128];
	int		 steps[SW_RAMP_MAX_STEPS];
	size_t		 n = 0;

	if (strcmp(key, "steps") == 0) {
		if ((copy = strdup(val)) == NULL) {
			cerr(p, "out of memory");
			return;
		}
		for (tok = strtok_r(copy, ", \t", &save); tok != NULL;
		    tok = strtok_r(NULL, ", \t", &save)) {
			if (n == SW_RAMP_MAX_STEPS ||
			    parse_int(tok, 1, 100, &steps[n]) == -1) {
				n = 0;
				break;
			}
			n++;
		}
		free(copy);
		if (n == 0)
			cerr(p, "steps: \"%s\" is not a list of percentages "
			    "1-100 (at most %d)", val, SW_RAMP_MAX_STEPS);
		else if (config_ramp_steps_check(steps, n, err,
		    sizeof(err)) == -1)
			cerr(p, "%s (got \"%s\")", err, val);
		else {
			memcpy(r->steps, steps, n * sizeof(int));
			r->nsteps = n;
		}
	} else if (strcmp(key, "min_requests") == 0) {
		if (parse_int(val, 1, 100000000, &r->min_requests) == -1)
			cerr(p, "min_requests: \"%s\" is not 1-100000000", val);
	} else if (strcmp(key, "max_error_rate_delta") == 0) {
		if (parse_real(val, 0, 100, &r->max_error_rate_delta) == -1)
			cerr(p, "max_error_rate_delta: \"%s\" is not a number "
			    "of percent points 0-100", val);
	} else if (strcmp(key, "max_p99_ratio") == 0) {
		if (parse_real(val, 1, 1000, &r->max_p99_ratio) == -1)
			cerr(p, "max_p99_ratio: \"%s\" is not a ratio 1-1000",
			    val);
	} else if (strcmp(key, "max_connect_errors") == 0) {
		if (parse_int(val, 0, 100000000, &r->max_connect_errors) == -1)
			cerr(p, "max_connect_errors: \"%s\" is not a count",
			    val);
	} else if (strcmp(key, "failure_limit") == 0) {
		if (parse_int(val, 1, 1000, &r->failure_limit) == -1)
			cerr(p, "failure_limit: \"%s\" is not 1-1000", val);
	} else if (strcmp(key, "on_failure") == 0) {
		if (strcmp(val, "rollback") == 0)
			r->on_failure = RAMP_ON_FAILURE_ROLLBACK;
		else if (strcmp(val, "pause") == 0)
			r->on_failure = RAMP_ON_FAILURE_PAUSE;
		else
			cerr(p, "on_failure: \"%s\" is not rollback or pause",
			    val);
	} else
		cerr(p, "unknown key \"%s\" in [ramp]", key);
}

/* Handle one key = value in the current section. */
static void
parse_kv(struct parse_ctx *p, const char *key, const char *val)
{
	struct sw_config	*c = p->cfg;
	size_t			 sz;

	if (p->section[0] == '\0') {
		cerr(p, "%s: key outside of any section", key);
		return;
	}
	if (strcmp(p->section, "?") == 0)
		return;		/* already reported the section */
	if (p->listener != NULL) {
		struct sw_listener *l = p->listener;

		if (parse_tls_key(p, &l->tls, 0, key, val))
			return;
		if (strcmp(key, "address") == 0) {
			char		*host = NULL;
			uint16_t	 port;

			if (config_split_hostport(val, &host, &port) == -1 ||
			    config_addr_literal(host, port, &l->addr,
			    &l->addrlen) != 1)
				cerr(p, "address: \"%s\" is not IP:PORT", val);
			else
				set_str(p, &l->address, val);
			free(host);
			return;
		}
		if (*l->name != '\0') {
			cerr(p, "%s: only address and tls_* keys go in [listener "
			    "%s]; the other listener options are shared and go "
			    "in [listener]", key, l->name);
			return;
		}
	}
	for (size_t i = 0; i < sizeof(durations) / sizeof(durations[0]); i++) {
		if (KEY(durations[i].section, durations[i].key)) {
			if (config_parse_duration_ms(val, (int *)((char *)c +
			    durations[i].off)) == -1)
				cerr(p, "%s: \"%s\" is not a duration "
				    "(like 500ms, 10s, 2m)", key, val);
			return;
		}
	}
	if (p->route != NULL) {
		char err[384];

		if (strcmp(key, "weights") == 0)
			p->route->weights_line = p->line;
		if (config_route_key(p->route, key, val, err, sizeof(err)) == -1)
			cerr(p, "%s", err);
		return;
	}
	if (strcmp(p->section, "backend") == 0) {
		struct sw_backend *b = p->backend;

		if (b == NULL)
			return;	/* bad header already reported */
		if (parse_tls_key(p, &b->tls, 1, key, val))
			return;
		if (strcmp(key, "servers") == 0)
			parse_servers(p, b, val);
		else if (strcmp(key, "weight") == 0) {
			if (parse_int(val, 0, SW_WEIGHT_MAX, &b->weight) == -1)
				cerr(p, "weight: \"%s\" is not an integer 0-%d",
				    val, SW_WEIGHT_MAX);
		} else if (strcmp(key, "balance") == 0) {
			if (strcmp(val, "round_robin") == 0)
				b->balance = BALANCE_ROUND_ROBIN;
			else if (strcmp(val, "least_conn") == 0)
				b->balance = BALANCE_LEAST_CONN;
			else
				cerr(p, "balance: \"%s\" is not round_robin or "
				    "least_conn", val);
		} else
			cerr(p, "unknown key \"%s\" in [backend %s]", key, b->name);
		return;
	}
	if (KEY("proxy", "workers")) {
		if (strcmp(val, "auto") == 0)
			c->workers = 0;
		else if (parse_int(val, 1, 256, &c->workers) == -1)
			cerr(p, "workers: \"%s\" is not auto or 1-256", val);
	} else if (KEY("proxy", "log_level")) {
		if (strcmp(val, "debug") && strcmp(val, "info") &&
		    strcmp(val, "warn") && strcmp(val, "error"))
			cerr(p, "log_level: \"%s\" is not debug, info, warn or "
			    "error", val);
		else
			set_str(p, &c->log_level, val);
	} else if (KEY("proxy", "log_file"))
		set_str(p, &c->log_file, val);
	else if (KEY("proxy", "access_log"))
		set_str(p, &c->access_log, val);
	else if (KEY("proxy", "max_connections")) {
		if (parse_int(val, 1, 1000000, &c->max_connections) == -1)
			cerr(p, "max_connections: \"%s\" is not 1-1000000", val);
	} else if (KEY("proxy", "x_forwarded_for")) {
		if (config_parse_bool(val, &c->x_forwarded_for) == -1)
			cerr(p, "x_forwarded_for: \"%s\" is not on or off", val);
	} else if (KEY("proxy", "x_forwarded_proto")) {
		if (config_parse_bool(val, &c->x_forwarded_proto) == -1)
			cerr(p, "x_forwarded_proto: \"%s\" is not on or off", val);
	} else if (KEY("listener", "backlog")) {
		if (parse_int(val, 1, 65535, &c->backlog) == -1)
			cerr(p, "backlog: \"%s\" is not 1-65535", val);
	} else if (KEY("listener", "max_header_size")) {
		if (config_parse_size(val, &sz) == -1 || sz < 1024 ||
		    sz > 1024 * 1024)
			cerr(p, "max_header_size: \"%s\" is not a size in "
			    "1k-1m", val);
		else
			c->max_header_size = sz;
	} else if (KEY("listener", "max_requests_per_connection")) {
		if (parse_int(val, 0, INT_MAX, &c->max_requests_per_conn) == -1)
			cerr(p, "max_requests_per_connection: \"%s\" is not a "
			    "count (0: no limit)", val);
	} else if (KEY("routing", "policy")) {
		if (strcmp(val, "request") == 0)
			c->policy = POLICY_REQUEST;
		else if (strcmp(val, "connection") == 0)
			c->policy = POLICY_CONNECTION;
		else if (strcmp(val, "sticky") == 0)
			c->policy = POLICY_STICKY;
		else
			cerr(p, "policy: \"%s\" is not request, connection or "
			    "sticky", val);
	} else if (KEY("routing", "sticky_key")) {
		if (strcmp(val, "client_ip") == 0) {
			free(c->sticky_header);
			c->sticky_header = NULL;
		} else if (strncmp(val, "header:", 7) == 0 && val[7] != '\0' &&
		    strspn(val + 7, "abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-.^_`|~") ==
		    strlen(val + 7))
			set_str(p, &c->sticky_header, val + 7);
		else
			cerr(p, "sticky_key: \"%s\" is not client_ip or "
			    "header:NAME", val);
	} else if (KEY("drain", "on_weight_zero")) {
		if (config_parse_bool(val, &c->drain_on_weight_zero) == -1)
			cerr(p, "on_weight_zero: \"%s\" is not yes or no", val);
	} else if (KEY("affinity", "enabled")) {
		if (config_parse_bool(val, &c->affinity) == -1)
			cerr(p, "enabled: \"%s\" is not yes or no", val);
	} else if (KEY("affinity", "max_ids")) {
		if (parse_int(val, 16, 1000000, &c->affinity_max) == -1)
			cerr(p, "max_ids: \"%s\" is not 16-1000000", val);
	} else if (KEY("upstream", "pool_max_idle")) {
		if (parse_int(val, 0, 100000, &c->pool_max_idle) == -1)
			cerr(p, "pool_max_idle: \"%s\" is not 0-100000", val);
	} else if (KEY("upstream", "max_fails")) {
		if (parse_int(val, 0, 1000, &c->max_fails) == -1)
			cerr(p, "max_fails: \"%s\" is not 0-1000", val);
	} else if (KEY("upstream", "retry_body_max")) {
		if (config_parse_size(val, &sz) == -1 || sz > 16 * 1024 * 1024)
			cerr(p, "retry_body_max: \"%s\" is not a size up to "
			    "16m", val);
		else
			c->retry_body_max = sz;
	} else if (KEY("admin", "address")) {
		char		*host = NULL;
		uint16_t	 port;
		struct sockaddr_storage ss;
		socklen_t	 len;

		if (strcmp(val, "off") != 0 &&
		    (config_split_hostport(val, &host, &port) == -1 ||
		    config_addr_literal(host, port, &ss, &len) != 1))
			cerr(p, "address: \"%s\" is not IP:PORT or off", val);
		else
			set_str(p, &c->admin_listen, val);
		free(host);
	} else if (KEY("admin", "token_file"))
		set_str(p, &c->admin_token_file, val);
	else if (KEY("admin", "max_connections")) {
		if (parse_int(val, 1, 10000, &c->admin_max_conns) == -1)
			cerr(p, "max_connections: \"%s\" is not 1-10000", val);
	} else if (KEY("admin", "request_timeout")) {
		int ms;

		if (config_parse_duration_ms(val, &ms) == -1 || ms < 100 ||
		    ms > 3600000)
			cerr(p, "request_timeout: \"%s\" is not a duration of "
			    "100ms-1h", val);
		else
			c->admin_request_timeout_ms = ms;
	} else if (KEY("admin", "allowed_hosts")) {
		if (hosts_valid(p, val) == 0)
			set_str(p, &c->admin_allowed_hosts, val);
	}
	else if (KEY("state", "file"))
		set_str(p, &c->state_file, val);
	else if (KEY("state", "audit_log"))
		set_str(p, &c->audit_log, val);
	else if (KEY("aws", "sync")) {
		static const char *const modes[] = { "off", "push", "pull" };
		size_t i;

		for (i = 0; i < 3 && strcmp(val, modes[i]) != 0; i++)
			;
		if (i == 3)
			cerr(p, "sync: \"%s\" is not off, push or pull", val);
		else
			c->aws.sync = (enum sw_aws_sync)i;
	} else if (strcmp(p->section, "cloudwatch") == 0)
		parse_cloudwatch(p, key, val);
	else if (strcmp(p->section, "ramp") == 0) {
		parse_ramp_key(p, key, val);
	} else if (strcmp(p->section, "aws") == 0) {
		for (size_t i = 0; i < NAWS_STRS; i++)
			if (strcmp(key, aws_strs[i].key) == 0) {
				if (*val != '\0')
					set_str(p, &AWS_STR(c, i), val);
				return;
			}
		cerr(p, "unknown key \"%s\" in [aws]", key);
	} else
		cerr(p, "unknown key \"%s\" in [%s]", key, p->section);
}

/* Trim white space at both ends, in place. */
static char *
trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

/* A section's TLS keys must make sense together. */
static void
config_check_tls(struct parse_ctx *p, struct sw_tls *t, const char *kind,
    const char *name)
{
	int backend = strcmp(kind, "backend") == 0;
	int other = t->key || t->ciphers || t->ciphersuites || t->min_version;

	p->line = t->line;
	if (!backend) {
		t->enabled = t->cert != NULL;
		if (!t->enabled && other)
			cerr(p, "[%s%s%s] has tls_* keys but no tls_cert", kind,
			    *name ? " " : "", name);
	} else {
		if (!t->enabled && (t->cert || other || t->ca_file ||
		    t->server_name || t->verify != -1))
			cerr(p, "[backend %s] has tls_* keys but not tls = on",
			    name);
		if (t->key != NULL && t->cert == NULL)
			cerr(p, "[backend %s] has tls_key but no tls_cert", name);
		if (t->verify == -1)
			t->verify = 1;
	}
	if (t->min_version == 0)
		t->min_version = 12;
	p->line = 0;
}

/*
 * Listeners: an unnamed [listener] that holds only shared options is not
 * a socket; every other one needs an address, and no two the same.
 */
static void
config_check_listeners(struct parse_ctx *p)
{
	struct sw_config *c = p->cfg;

	for (size_t i = 0; c->nlisteners > 1 && i < c->nlisteners; i++) {
		struct sw_listener *l = &c->listeners[i];

		if (*l->name != '\0' || l->address != NULL || l->tls.cert != NULL)
			continue;
		config_listener_free(l);
		memmove(l, l + 1, (c->nlisteners - i - 1) * sizeof(*l));
		c->nlisteners--;
		break;
	}
	if (c->nlisteners == 0)
		cerr(p, "[listener] address is missing");
	for (size_t i = 0; i < c->nlisteners; i++) {
		struct sw_listener *l = &c->listeners[i];

		config_check_tls(p, &l->tls, "listener", l->name);
		if (l->address == NULL) {
			p->line = l->tls.line;
			cerr(p, "[listener%s%s] address is missing",
			    *l->name ? " " : "", l->name);
			p->line = 0;
			continue;
		}
		for (size_t j = 0; j < i; j++)
			if (c->listeners[j].address != NULL &&
			    c->listeners[j].addrlen == l->addrlen &&
			    memcmp(&c->listeners[j].addr, &l->addr,
			    l->addrlen) == 0) {
				p->line = l->tls.line;
				cerr(p, "listeners %s and %s have the same "
				    "address %s", *c->listeners[j].name ?
				    c->listeners[j].name : "(unnamed)",
				    *l->name ? l->name : "(unnamed)",
				    l->address);
				p->line = 0;
			}
	}
}

/* [aws]: what sync and preflight need is there and looks like AWS's. */
static void
aws_check(struct parse_ctx *p)
{
	struct sw_aws	*a = &p->cfg->aws;
	int		 ecs = (a->ecs_cluster != NULL) + (a->source_service != NULL) +
			    (a->target_service != NULL);

	if (a->listener_arn && (strncmp(a->listener_arn, "arn:", 4) ||
	    !strstr(a->listener_arn, ":listener/")))
		cerr(p, "[aws] listener_arn \"%s\" is not a listener ARN",
		    a->listener_arn);
	if (a->rule_arn && (strncmp(a->rule_arn, "arn:", 4) ||
	    !strstr(a->rule_arn, ":listener-rule/")))
		cerr(p, "[aws] rule_arn \"%s\" is not a listener rule ARN",
		    a->rule_arn);
	if (a->region && (strlen(a->region) > 32 || strspn(a->region,
	    "abcdefghijklmnopqrstuvwxyz0123456789-") != strlen(a->region)))
		cerr(p, "[aws] region \"%s\" is not an AWS region name",
		    a->region);
	if (ecs != 0 && ecs != 3)
		cerr(p, "[aws] ecs_cluster, source_service and target_service "
		    "go together");
	if (a->sync == AWS_SYNC_OFF)
		return;
	if (a->listener_arn == NULL && a->rule_arn == NULL)
		cerr(p, "[aws] sync needs listener_arn (or rule_arn)");
	if (a->source_tg == NULL || a->target_tg == NULL)
		cerr(p, "[aws] sync needs source_target_group and "
		    "target_target_group");
	if (config_backend(p->cfg, "source") == NULL ||
	    config_backend(p->cfg, "target") == NULL)
		cerr(p, "[aws] sync needs backends named source and target");
	if (a->pull_interval_ms < 1000 || a->request_timeout_ms == 0)
		cerr(p, "[aws] pull_interval must be at least 1s and "
		    "request_timeout more than 0");
}

/* The semantic pass, after every line was read. */
static void
config_check(struct parse_ctx *p)
{
	struct sw_config	*c = p->cfg;
	int			 sum = 0;

	p->line = 0;
	config_check_listeners(p);
	if (c->nbackends == 0)
		cerr(p, "no [backend NAME] section: nothing to proxy to");
	for (size_t i = 0; i < c->nbackends; i++) {
		struct sw_backend *b = &c->backends[i];

		if (b->nservers == 0)
			cerr(p, "[backend %s] has no servers", b->name);
		config_check_tls(p, &b->tls, "backend", b->name);
		if (b->weight < 0) {
			cerr(p, "[backend %s] has no weight", b->name);
			continue;
		}
		sum += b->weight;
	}
	if (c->nbackends > 0 && sum == 0)
		cerr(p, "every backend has weight 0: no request could be "
		    "routed");
	for (size_t i = 0; i < c->nroutes; i++) {
		struct sw_route	*r = &c->routes[i];
		char		 err[384];

		if (config_route_resolve(c, r, err, sizeof(err)) == -1)
			config_error(p->errs, p->file, r->weights_line ?
			    r->weights_line : r->line, "%s", err);
	}
	aws_check(p);
	if (c->header_timeout_ms == 0 || c->keepalive_timeout_ms == 0 ||
	    c->connect_timeout_ms == 0 || c->first_byte_timeout_ms == 0 ||
	    c->io_timeout_ms == 0 || c->client_timeout_ms == 0)
		cerr(p, "timeouts must be greater than 0");
	if (c->affinity && c->affinity_ttl_ms == 0)
		cerr(p, "[affinity] ttl must be greater than 0");
	if (c->cloudwatch.interval_ms < 10000 ||
	    c->cloudwatch.interval_ms > 300000)
		cerr(p, "[cloudwatch] interval must be 10s-5m");
	if (c->ramp.step_interval_ms < 500 || c->ramp.check_interval_ms < 100 ||
	    c->ramp.check_interval_ms > c->ramp.step_interval_ms)
		cerr(p, "[ramp] step_interval must be at least 500ms and "
		    "check_interval 100ms up to step_interval");
}

struct sw_config *
config_parse(const char *name, const char *text, size_t len,
    struct config_errors *errs)
{
	struct parse_ctx	 p;
	struct sw_config	*c;
	char			*buf = NULL, *line, *next;
	size_t			 nerr0 = errs ? errs->n : 0;

	memset(&p, 0, sizeof(p));
	p.file = name;
	p.errs = errs;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	p.cfg = c;
	config_defaults(c);
	if ((c->path = strdup(name)) == NULL ||
	    (buf = malloc(len + 1)) == NULL) {
		cerr(&p, "out of memory");
		goto fail;
	}
	memcpy(buf, text, len);
	buf[len] = '\0';
	if (memchr(text, '\0', len) != NULL) {
		cerr(&p, "file contains a NUL byte");
		goto fail;
	}
	for (line = buf; line != NULL; line = next) {
		char *s, *eq, *hash;

		p.line++;
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		s = trim(line);
		if (*s == '\0' || *s == '#' || *s == ';')
			continue;
		if (*s == '[') {
			char *rb = strchr(s, ']');
			if (rb == NULL || *trim(rb + 1) != '\0') {
				cerr(&p, "malformed section header");
				snprintf(p.section, sizeof(p.section), "?");
				continue;
			}
			*rb = '\0';
			parse_section(&p, trim(s + 1));
			continue;
		}
		if ((eq = strchr(s, '=')) == NULL) {
			cerr(&p, "expected key = value");
			continue;
		}
		*eq = '\0';
		/* An inline comment starts with white space then # or ;. */
		for (hash = eq + 1; (hash = strpbrk(hash, "#;")) != NULL; hash++) {
			if (isspace((unsigned char)hash[-1])) {
				*hash = '\0';
				break;
			}
		}
		if (*trim(s) == '\0') {
			cerr(&p, "empty key");
			continue;
		}
		parse_kv(&p, trim(s), trim(eq + 1));
	}
	config_check(&p);
	if (errs != NULL && errs->n > nerr0)
		goto fail;
	free(buf);
	return c;
fail:
	free(buf);
	config_unref(c);
	return NULL;
}

struct sw_config *
config_load(const char *path, struct config_errors *errs)
{
	struct parse_ctx	 p = { .file = path, .errs = errs };
	struct sw_config	*c = NULL;
	FILE			*f;
	char			*buf = NULL;
	size_t			 n;

	if ((f = fopen(path, "r")) == NULL) {
		cerr(&p, "cannot open: %s", strerror(errno));
		return NULL;
	}
	if ((buf = malloc(MAX_CONFIG_SIZE + 1)) == NULL) {
		cerr(&p, "out of memory");
		goto done;
	}
	n = fread(buf, 1, MAX_CONFIG_SIZE + 1, f);
	if (ferror(f))
		cerr(&p, "read error: %s", strerror(errno));
	else if (n > MAX_CONFIG_SIZE)
		cerr(&p, "file larger than %d bytes", MAX_CONFIG_SIZE);
	else
		c = config_parse(path, buf, n, errs);
done:
	free(buf);
	fclose(f);
	return c;
}

struct sw_backend *
config_backend(const struct sw_config *c, const char *name)
{
	for (size_t i = 0; i < c->nbackends; i++)
		if (strcmp(c->backends[i].name, name) == 0)
			return (struct sw_backend *)&c->backends[i];
	return NULL;
}

struct sw_route *
config_route(const struct sw_config *c, const char *name)
{
	for (size_t i = 0; i < c->nroutes; i++)
		if (strcmp(c->routes[i].name, name) == 0)
			return (struct sw_route *)&c->routes[i];
	return NULL;
}

int
config_weights_valid(const int *w, size_t n)
{
	int sum = 0;

	for (size_t i = 0; i < n; i++) {
		if (w[i] < 0 || w[i] > SW_WEIGHT_MAX)
			return -1;
		sum += w[i];
	}
	return sum > 0 ? 0 : -1;
}

/* strdup that keeps NULL as NULL; sets *fail on allocation failure. */
static char *
dup_or_null(const char *s, int *fail)
{
	char *d;

	if (s == NULL)
		return NULL;
	if ((d = strdup(s)) == NULL)
		*fail = 1;
	return d;
}

/*
 * Make dst (a byte copy of src) own copies of src's strings: 0, or -1
 * when out of memory (dst is then still safe to route_conf_free()).
 */
static int
route_conf_copy(struct sw_route *r, const struct sw_route *src)
{
	int fail = 0;

	r->name = dup_or_null(src->name, &fail);
	r->weights_spec = dup_or_null(src->weights_spec, &fail);
	r->indices = NULL;
	if (src->nindices > 0 && (r->indices = calloc(src->nindices,
	    sizeof(*r->indices))) == NULL) {
		r->nindices = 0;
		return -1;
	}
	for (size_t j = 0; j < r->nindices; j++)
		r->indices[j] = dup_or_null(src->indices[j], &fail);
	return fail ? -1 : 0;
}

/* Free what a route owns (not the struct: it lives in the config). */
static void
route_conf_free(struct sw_route *r)
{
	for (size_t j = 0; j < r->nindices; j++)
		free(r->indices[j]);
	free(r->indices);
	free(r->name);
	free(r->weights_spec);
}

/* Copy TLS settings; the clone shares the built context (a reference). */
static void
tls_conf_dup(struct sw_tls *t, const struct sw_tls *src, int *fail)
{
	*t = *src;
	t->cert = dup_or_null(src->cert, fail);
	t->key = dup_or_null(src->key, fail);
	t->ca_file = dup_or_null(src->ca_file, fail);
	t->server_name = dup_or_null(src->server_name, fail);
	t->ciphers = dup_or_null(src->ciphers, fail);
	t->ciphersuites = dup_or_null(src->ciphersuites, fail);
	if (t->ctx != NULL)
		SSL_CTX_up_ref(t->ctx);
}

/* Free TLS settings and drop their context reference. */
static void
tls_conf_free(struct sw_tls *t)
{
	free(t->cert);
	free(t->key);
	free(t->ca_file);
	free(t->server_name);
	free(t->ciphers);
	free(t->ciphersuites);
	SSL_CTX_free(t->ctx);	/* NULL is fine */
	t->ctx = NULL;
}

/* Free what a listener owns (not the struct: it lives in the config). */
static void
config_listener_free(struct sw_listener *l)
{
	free(l->name);
	free(l->address);
	tls_conf_free(&l->tls);
}

struct sw_config *
config_clone(const struct sw_config *src)
{
	struct sw_config	*c;
	int			 fail = 0;

	if ((c = malloc(sizeof(*c))) == NULL)
		return NULL;
	memcpy(c, src, sizeof(*c));
	c->refcnt = 1;
	c->path = dup_or_null(src->path, &fail);
	c->log_level = dup_or_null(src->log_level, &fail);
	c->log_file = dup_or_null(src->log_file, &fail);
	c->access_log = dup_or_null(src->access_log, &fail);
	for (size_t i = 0; i < c->nlisteners; i++) {
		struct sw_listener *l = &c->listeners[i];

		l->name = dup_or_null(src->listeners[i].name, &fail);
		l->address = dup_or_null(src->listeners[i].address, &fail);
		tls_conf_dup(&l->tls, &src->listeners[i].tls, &fail);
	}
	c->admin_listen = dup_or_null(src->admin_listen, &fail);
	c->admin_token_file = dup_or_null(src->admin_token_file, &fail);
	c->admin_allowed_hosts = dup_or_null(src->admin_allowed_hosts, &fail);
	c->state_file = dup_or_null(src->state_file, &fail);
	c->audit_log = dup_or_null(src->audit_log, &fail);
	c->sticky_header = dup_or_null(src->sticky_header, &fail);
	for (size_t i = 0; i < NAWS_STRS; i++)
		AWS_STR(c, i) = dup_or_null(AWS_STR(src, i), &fail);
	c->cloudwatch.emf = dup_or_null(src->cloudwatch.emf, &fail);
	c->cloudwatch.namespace = dup_or_null(src->cloudwatch.namespace, &fail);
	for (size_t i = 0; i < c->nbackends; i++) {
		struct sw_backend *b = &c->backends[i];
		const struct sw_backend *sb = &src->backends[i];

		b->name = dup_or_null(sb->name, &fail);
		tls_conf_dup(&b->tls, &sb->tls, &fail);
		b->servers = calloc(SW_MAX_SERVERS, sizeof(*b->servers));
		if (b->servers == NULL) {
			fail = 1;
			b->nservers = 0;
			continue;
		}
		for (size_t j = 0; j < b->nservers; j++) {
			b->servers[j] = sb->servers[j];
			b->servers[j].host = dup_or_null(sb->servers[j].host, &fail);
			b->servers[j].name = dup_or_null(sb->servers[j].name, &fail);
		}
	}
	for (size_t i = 0; i < c->nroutes; i++)
		fail |= route_conf_copy(&c->routes[i], &src->routes[i]) == -1;
	if (fail) {
		config_unref(c);
		return NULL;
	}
	return c;
}

struct sw_config *
config_ref(struct sw_config *c)
{
	__atomic_add_fetch(&c->refcnt, 1, __ATOMIC_RELAXED);
	return c;
}

void
config_unref(struct sw_config *c)
{
	if (c == NULL || __atomic_sub_fetch(&c->refcnt, 1, __ATOMIC_ACQ_REL) > 0)
		return;
	for (size_t i = 0; i < c->nbackends; i++) {
		for (size_t j = 0; j < c->backends[i].nservers; j++) {
			free(c->backends[i].servers[j].host);
			free(c->backends[i].servers[j].name);
		}
		free(c->backends[i].servers);
		free(c->backends[i].name);
		tls_conf_free(&c->backends[i].tls);
	}
	for (size_t i = 0; i < c->nroutes; i++)
		route_conf_free(&c->routes[i]);
	for (size_t i = 0; i < c->nlisteners; i++)
		config_listener_free(&c->listeners[i]);
	free(c->path);
	free(c->log_level);
	free(c->log_file);
	free(c->access_log);
	free(c->admin_listen);
	free(c->admin_token_file);
	free(c->admin_allowed_hosts);
	free(c->state_file);
	free(c->audit_log);
	free(c->sticky_header);
	for (size_t i = 0; i < NAWS_STRS; i++)
		free(AWS_STR(c, i));
	free(c->cloudwatch.emf);
	free(c->cloudwatch.namespace);
	free(c);
}
