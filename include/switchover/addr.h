/*
 * addr: a peer's IP address as a connection keeps it: binary (20 bytes,
 * where the text of an IPv6 address takes up to 46), made text only
 * when a log line, an access-log line, X-Forwarded-For or the sticky
 * key asks for it.  The text is what inet_ntop(3) writes.
 *
 * Any thread; no allocation.
 */
#ifndef SWITCHOVER_ADDR_H
#define SWITCHOVER_ADDR_H

#include <netinet/in.h>
#include <sys/socket.h>

/* Room for any address addr_format() writes, NUL included. */
#define ADDR_STRLEN	INET6_ADDRSTRLEN

struct sw_addr {
	sa_family_t		 af;	/* AF_INET, AF_INET6; else not IP */
	union {
		struct in_addr	 v4;
		struct in6_addr	 v6;
	}			 ip;
};

/* Keep sa's address (its port is not kept). */
void		 addr_set(struct sw_addr *, const struct sockaddr *sa);
/*
 * The address as text into buf (ADDR_STRLEN bytes): "192.0.2.1",
 * "2001:db8::1", or "local" for a peer that is not IP.  Returns buf.
 */
const char	*addr_format(const struct sw_addr *, char *buf);

#endif
