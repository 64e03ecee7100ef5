/*
 * fdbudget: how many client connections the open file limit can serve.
 *
 * A client connection takes two descriptors (itself and its upstream);
 * everything else that may hold descriptors at the same time comes off
 * the top: threads, listeners, logs and wake-ups, the admin API's
 * connections, the upstream pools' idle connections, DNS and AWS.  A pure
 * function of the config, so the arithmetic is tested and logged whole.
 */
#ifndef SWITCHOVER_FDBUDGET_H
#define SWITCHOVER_FDBUDGET_H

#include <stddef.h>

struct sw_config;

#define FD_BUDGET_DNS		4	/* evdns: a socket per name server */
#define FD_BUDGET_AWS		10	/* curl: AWS_MAX_CONNECTIONS + wake-ups */
#define FD_BUDGET_CLIENTS_MAX	1000000

struct fd_budget {
	long	limit;		/* the open file limit; -1: none */
	long	reserve;	/* 32 + 8 a worker: listeners, logs, eventfds */
	long	admin;		/* [admin] max_connections + its listener */
	long	pool_idle;	/* pool_max_idle x servers x workers, at most
				   clients (pools keep only what was used) */
	long	dns;		/* only when a server is a name */
	long	aws;		/* only with an [aws] module running */
	long	clients;	/* what is left, two descriptors each (>= 1) */
};

/* Fill b for c served by nworkers under an open file limit (-1: none). */
void	fd_budget(const struct sw_config *c, int nworkers, long limit,
	    struct fd_budget *b);
/* "open file limit 1024 = 48 reserved + ... + 2 x 300 clients", for logs. */
void	fd_budget_str(const struct fd_budget *b, char *buf, size_t len);

#endif
