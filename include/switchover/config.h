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

enum sw_balance {
	BALANCE_ROUND_ROBIN = 0,
	BALANCE_LEAST_CONN,
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

struct sw_server {
	char			*host;		/* as written: name or literal */
	uint16_t		 port;
	char			*name;		/* "host:port", for logs/metrics */
	int			 resolved;	/* addr is valid */
	int			 literal;	/* host is an IP literal: never re-resolved */
	struct sockaddr_storage	 addr;
	socklen_t		 addrlen;
};

struct sw_backend {
	char			*name;
	int			 weight;	/* 0..SW_WEIGHT_MAX */
	int			 metric_slot;	/* stable index into metrics */
	enum sw_balance		 balance;
	struct sw_server	*servers;
	size_t			 nservers;
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

	/* [listener] */
	char			*listen;	/* "host:port" as written */
	struct sockaddr_storage	 listen_addr;
	socklen_t		 listen_addrlen;
	int			 backlog;
	int			 header_timeout_ms;
	int			 keepalive_timeout_ms;
	int			 client_timeout_ms;	/* I/O idle mid-request */
	size_t			 max_header_size;

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

	/* [state] */
	char			*state_file;
	char			*audit_log;

	struct sw_aws		 aws;

	struct sw_backend	 backends[SW_MAX_BACKENDS];
	size_t			 nbackends;
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

struct sw_config	*config_clone(const struct sw_config *);
struct sw_config	*config_ref(struct sw_config *);
void			 config_unref(struct sw_config *);

/* Find a backend by name; NULL if none. */
struct sw_backend	*config_backend(const struct sw_config *, const char *name);
/* Copy weights into the config if backends match; -1 with msg if not. */
int			 config_weights_valid(const int *w, size_t n);

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
