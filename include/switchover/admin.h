/*
 * admin: the operator's HTTP API on the control thread ([admin] address,
 * default 127.0.0.1:9901): weights, switchover/fallback, stats, metrics,
 * health.  Answers are JSON (errors in the proxy's shape); /metrics is
 * Prometheus text.  A bearer token ([admin] token_file) is required when
 * set, and must be set when the address is not loopback.  A request
 * whose Host is not the API itself, or a change a browser sends from
 * another origin, is refused (403).
 */
#ifndef SWITCHOVER_ADMIN_H
#define SWITCHOVER_ADMIN_H

#include <stddef.h>

struct event_base;
struct sw_config;

#define ADMIN_DEFAULT_ADDRESS	"127.0.0.1:9901"

/* Is c's admin setup acceptable (token rules)?  0, or -1 with err. */
int	admin_check(const struct sw_config *c, char *err, size_t errlen);
/* Listen on c's admin address on base.  0, or -1 with err (also "off"). */
int	admin_start(struct event_base *base, const struct sw_config *c,
	    char *err, size_t errlen);
void	admin_stop(void);

#endif
