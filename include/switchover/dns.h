/*
 * dns: periodic, non-blocking re-resolution (evdns) of servers given by
 * name.  A change of address publishes a new config; a failed lookup
 * keeps the last good address.
 */
#ifndef SWITCHOVER_DNS_H
#define SWITCHOVER_DNS_H

struct event_base;

int	dns_start(struct event_base *);
/* Resolve now (after a reload). */
void	dns_refresh(void);
void	dns_stop(void);

#endif
