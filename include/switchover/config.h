/*
 * config: the INI file -> a validated, immutable struct sw_config.
 *
 * A config is built once by config_load() (or copied by config_clone()),
 * never modified after it is published to the workers, and shared by
 * reference count: whoever holds a pointer holds a reference.  Changing
 * weights or server addresses means cloning, editing the clone, and
 * publishing the clone whole.
 */
#ifndef SWITCHOVER_CONFIG_H
#define SWITCHOVER_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define SW_MAX_BACKENDS		16
#define SW_MAX_SERVERS		64	/* per backend */
#define SW_WEIGHT_MAX		999
#define SW_MAX_LISTENERS	8
#define SW_MAX_ROUTES		16
/* Route metric slots: 0 is the default route, 1..SW_MAX_ROUTES the others. */
#define SW_ROUTE_SLOTS		(SW_MAX_ROUTES + 1)

struct ssl_ctx_st;	/* OpenSSL's SSL_CTX, built and owned by the tls module */

enum sw_balance {
	BALANCE_ROUND_ROBIN = 0,
	BALANCE_LEAST_CONN,
};

/* [routing] policy: how a request's backend is chosen. */
enum sw_policy {
	POLICY_REQUEST = 0,	/* per request, smooth weighted round robin */
	POLICY_CONNECTION,	/* per connection, by its first request */
	POLICY_STICKY,		/* by a hash of client IP or a header */
};

enum sw_aws_sync {
	AWS_SYNC_OFF = 0,
	AWS_SYNC_PUSH,		/* every weight change goes to the ALB */
	AWS_SYNC_PULL,		/* the ALB rule's weights come to us */
};

/* [aws]: see conf/switchover.conf.  Strings are NULL when not set. */
struct sw_aws {
	enum sw_aws_sync	 sync;
	char			*region;
	char			*listener_arn;
	char			*rule_arn;
	char			*source_tg;	/* name or ARN, backend "source" */
	char			*target_tg;	/* name or ARN, backend "target" */
	char			*ecs_cluster;
	char			*source_service;
	char			*target_service;
	int			 pull_interval_ms;
	int			 request_timeout_ms;
	int			 preflight_timeout_ms;
};

/* [cloudwatch]: metrics as CloudWatch Embedded Metric Format lines. */
struct sw_cloudwatch {
	char			*emf;		/* NULL: off; "stdout"; or a file */
	int			 interval_ms;	/* 10 s - 5 min */
	char			*namespace;	/* NULL: "switchover" */
	int			 by_route;	/* dimensions = route */
};

#define SW_RAMP_MAX_STEPS	32

enum sw_ramp_on_failure {
	RAMP_ON_FAILURE_ROLLBACK = 0,	/* all weight back to source at once */
	RAMP_ON_FAILURE_PAUSE,		/* hold the weights, wait for a person */
};

/* [ramp]: a progressive cutover, see conf/switchover.conf and ramp.h. */
struct sw_ramp {
	int			 steps[SW_RAMP_MAX_STEPS];	/* target % */
	size_t			 nsteps;
	int			 step_interval_ms;
	int			 check_interval_ms;
	int			 min_requests;
	double			 max_error_rate_delta;	/* percent points */
	double			 max_p99_ratio;
	int			 min_p99_ms;	/* target p99 below: always ok */
	int			 max_connect_errors;
	int			 failure_limit;
	enum sw_ramp_on_failure	 on_failure;
};

struct sw_server {
	char			*host;		/* as written: name or literal */
	uint16_t		 port;
	char			*name;		/* "host:port", for logs/metrics */
	int			 resolved;	/* addr is valid */
	int			 literal;	/* host is an IP literal: never re-resolved */
	struct sockaddr_storage	 addr;
	socklen_t		 addrlen;
};

/*
 * TLS settings of one listener or one backend, as written, plus the
 * context the tls module built from them (NULL: plain TCP).  The *_line
 * fields let a certificate that fails to load be reported as FILE:LINE.
 */
struct sw_tls {
	int			 enabled;	/* listener: has a cert; backend: tls = on */
	int			 verify;	/* backend: check the server's cert (-1 unset = on) */
	int			 min_version;	/* 12 or 13 (TLS 1.2, 1.3); 0: unset = 12 */
	char			*cert;		/* PEM, full chain */
	char			*key;		/* PEM; NULL: in the cert file */
	char			*ca_file;	/* backend: NULL = system CA store */
	char			*server_name;	/* backend: SNI + name check override */
	char			*ciphers;	/* TLS 1.2 list; NULL = default */
	char			*ciphersuites;	/* TLS 1.3 suites; NULL = default */
	int			 line;		/* where the section starts */
	int			 cert_line, key_line, ca_line;
	struct ssl_ctx_st	*ctx;
};

/* One [listener] or [listener NAME] section. */
struct sw_listener {
	char			*name;		/* "" for the unnamed [listener] */
	char			*address;	/* "host:port" as written */
	struct sockaddr_storage	 addr;
	socklen_t		 addrlen;
	struct sw_tls		 tls;
};

struct sw_backend {
	char			*name;
	int			 weight;	/* 0..SW_WEIGHT_MAX */
	int			 metric_slot;	/* stable index into metrics */
	enum sw_balance		 balance;
	struct sw_server	*servers;
	size_t			 nservers;
	struct sw_tls		 tls;
};

/* A [route NAME]'s operation filter. */
enum sw_route_op {
	ROUTE_OP_ANY = 0,
	ROUTE_OP_READ,
	ROUTE_OP_WRITE,
};

/*
 * One [route NAME]: which requests it takes (operation, index globs) and
 * the weights they use instead of the backends'.  See route.h.
 */
struct sw_route {
	char			*name;
	enum sw_route_op	 op;
	char			**indices;	/* globs as written; nindices 0: any index */
	size_t			 nindices;
	int			 weights[SW_MAX_BACKENDS];	/* by backend index, 0..999 */
	int			 metric_slot;	/* stable across reloads, 1..SW_MAX_ROUTES; slot 0 = the default route */
	/* Parsing only: "source=9, target=1" as written, resolved once
	 * every backend is known (NULL after a successful parse). */
	char			*weights_spec;
	int			 line;		/* of the section header */
	int			 weights_line;
};

struct sw_config {
	int			 refcnt;
	char			*path;

	/* [proxy] */
	int			 workers;
	char			*log_level;
	char			*log_file;
	char			*access_log;
	int			 max_connections;
	int			 x_forwarded_for;
	int			 x_forwarded_proto;
	int			 shutdown_timeout_ms;
	int			 dns_refresh_ms;

	/* [listener] and [listener NAME]: sockets; the rest is shared */
	struct sw_listener	 listeners[SW_MAX_LISTENERS];
	size_t			 nlisteners;
	int			 backlog;
	int			 header_timeout_ms;
	int			 keepalive_timeout_ms;
	int			 client_timeout_ms;	/* I/O idle mid-request */
	size_t			 max_header_size;
	int			 max_connection_age_ms;	/* 0: no limit */
	int			 max_requests_per_conn;	/* 0: no limit */

	/* [routing] */
	enum sw_policy		 policy;
	char			*sticky_header;	/* NULL: key on client IP */

	/* [drain] */
	int			 drain_spread_ms;
	int			 drain_on_weight_zero;

	/* [affinity] */
	int			 affinity;	/* keep search contexts on their backend */
	int			 affinity_ttl_ms;
	int			 affinity_max;	/* ids remembered per worker */

	/* [upstream] */
	int			 connect_timeout_ms;
	int			 first_byte_timeout_ms;
	int			 io_timeout_ms;
	int			 pool_idle_timeout_ms;
	int			 pool_max_idle;
	int			 max_fails;
	int			 fail_timeout_ms;
	size_t			 retry_body_max;

	/* [admin] */
	char			*admin_listen;
	char			*admin_token_file;
	char			*admin_allowed_hosts;	/* "a.example, b:9901" */
	int			 admin_max_conns;
	int			 admin_request_timeout_ms;	/* whole request */

	/* [state] */
	char			*state_file;
	char			*audit_log;

	struct sw_aws		 aws;
	struct sw_cloudwatch	 cloudwatch;
	struct sw_ramp		 ramp;

	struct sw_backend	 backends[SW_MAX_BACKENDS];
	size_t			 nbackends;

	/* [route NAME] */
	struct sw_route		 routes[SW_MAX_ROUTES];	/* file order: first match wins */
	size_t			 nroutes;
};

/* Collected errors of one load: every one is "FILE:LINE: message". */
struct config_errors {
	char	**msgs;
	size_t	  n;
};

/*
 * Parse and validate PATH.  Returns a config with one reference, or NULL
 * with every error appended to errs (which the caller frees).
 */
struct sw_config	*config_load(const char *path, struct config_errors *errs);
/* Parse from memory (tests, fuzzing); name is used in messages. */
struct sw_config	*config_parse(const char *name, const char *text,
			    size_t len, struct config_errors *errs);
void			 config_errors_free(struct config_errors *);
/* Append "FILE:LINE: message" to errs (a NULL errs drops it). */
void			 config_error(struct config_errors *, const char *file,
			    int line, const char *fmt, ...)
			    __attribute__((format(printf, 4, 5)));

struct sw_config	*config_clone(const struct sw_config *);
struct sw_config	*config_ref(struct sw_config *);
void			 config_unref(struct sw_config *);

/* Find a backend by name; NULL if none. */
struct sw_backend	*config_backend(const struct sw_config *, const char *name);
/* Find a route by name; NULL if none. */
struct sw_route		*config_route(const struct sw_config *, const char *name);
/* Copy weights into the config if backends match; -1 with msg if not. */
int			 config_weights_valid(const int *w, size_t n);

/*
 * Ramp steps, strictly increasing target percentages 1-100 ending at
 * 100.  0, or -1 with a message in err.  Shared by [ramp] steps and a
 * POST /ramp body.
 */
int	 config_ramp_steps_check(const int *steps, size_t n, char *err,
	    size_t errlen);
/*
 * [route NAME] sections (config_route.c).  One key of a route
 * (operation, indices, weights): 0, or -1 with the message in err (the
 * caller adds FILE:LINE); weights is kept as written until
 * config_route_resolve() turns it into numbers by backend, once the
 * whole file is read.
 */
int	 config_route_key(struct sw_route *, const char *key, const char *val,
	    char *err, size_t errlen);
int	 config_route_resolve(const struct sw_config *, struct sw_route *,
	    char *err, size_t errlen);
/* Helpers shared with the admin API and state file. */
int	 config_parse_duration_ms(const char *s, int *out);
int	 config_parse_size(const char *s, size_t *out);
int	 config_parse_bool(const char *s, int *out);
/* "host:port", "[v6]:port" or ":port".  Fills host (malloc'd) and port. */
int	 config_split_hostport(const char *s, char **host, uint16_t *port);
/* Fill ss if host is an IP literal (or empty: any).  Returns 1, 0 (name), -1. */
int	 config_addr_literal(const char *host, uint16_t port,
	    struct sockaddr_storage *ss, socklen_t *len);

#endif
