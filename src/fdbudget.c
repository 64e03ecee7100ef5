/*
 * fdbudget: the open file limit shared out, client connections last.
 * Pure: no system calls, so the start-up log and the unit test see the
 * same arithmetic.
 */
#include <stdio.h>
#include <string.h>

#include "switchover/config.h"
#include "switchover/fdbudget.h"

void
fd_budget(const struct sw_config *c, int nworkers, long limit,
    struct fd_budget *b)
{
	long	servers = 0, left;
	int	names = 0;

	memset(b, 0, sizeof(*b));
	b->limit = limit;
	for (size_t i = 0; i < c->nbackends; i++) {
		servers += (long)c->backends[i].nservers;
		for (size_t j = 0; j < c->backends[i].nservers; j++)
			names |= !c->backends[i].servers[j].literal;
	}
	b->reserve = 32 + 8 * (long)nworkers;
	if (c->admin_listen == NULL || strcmp(c->admin_listen, "off") != 0)
		b->admin = c->admin_max_conns + 1;
	b->pool_idle = (long)c->pool_max_idle * servers * nworkers;
	b->dns = names ? FD_BUDGET_DNS : 0;
	b->aws = c->aws.sync != AWS_SYNC_OFF || c->aws.ecs_cluster != NULL ?
	    FD_BUDGET_AWS : 0;
	if (limit < 0) {
		b->clients = FD_BUDGET_CLIENTS_MAX;
		return;
	}
	/*
	 * A pool only keeps connections that clients once used, so it
	 * never holds more idle ones than there are clients: count
	 * min(pool cap, clients), and 2 x clients + that must fit.
	 */
	left = limit - b->reserve - b->admin - b->dns - b->aws;
	if ((left - b->pool_idle) / 2 >= b->pool_idle)
		b->clients = (left - b->pool_idle) / 2;
	else {
		b->clients = left / 3;
		b->pool_idle = b->clients;
	}
	if (b->clients > FD_BUDGET_CLIENTS_MAX)
		b->clients = FD_BUDGET_CLIENTS_MAX;
	if (b->clients < 1) {
		b->clients = 1;
		b->pool_idle = 0;
	}
}

void
fd_budget_str(const struct fd_budget *b, char *buf, size_t len)
{
	if (b->limit < 0) {
		snprintf(buf, len, "no open file limit");
		return;
	}
	snprintf(buf, len, "open file limit %ld = %ld reserved + %ld admin + "
	    "%ld idle upstream + %ld DNS + %ld AWS + 2 x %ld "
	    "clients%s", b->limit, b->reserve, b->admin, b->pool_idle, b->dns,
	    b->aws, b->clients, b->reserve + b->admin + b->pool_idle + b->dns +
	    b->aws + 2 * b->clients > b->limit ? " (overdrawn: at least one "
	    "client is served)" : "");
}
