/*
 * addr: peer addresses kept in binary, formatted on demand.
 *
 * An IPv4 address is formatted here, without printf: X-Forwarded-For
 * asks for it on every request, and inet_ntop's sprintf costs more than
 * the rest of building the request head.  IPv6 goes to inet_ntop (its
 * zero compression is not worth writing twice).
 */
#include <arpa/inet.h>
#include <string.h>

#include "switchover/addr.h"

void
addr_set(struct sw_addr *a, const struct sockaddr *sa)
{
	memset(a, 0, sizeof(*a));
	a->af = sa->sa_family;
	if (sa->sa_family == AF_INET)
		a->ip.v4 = ((const struct sockaddr_in *)sa)->sin_addr;
	else if (sa->sa_family == AF_INET6)
		a->ip.v6 = ((const struct sockaddr_in6 *)sa)->sin6_addr;
}

/* One octet in decimal, no leading zeros; returns the end. */
static char *
addr_octet(char *p, unsigned v)
{
	if (v >= 100)
		*p++ = (char)('0' + v / 100);
	if (v >= 10)
		*p++ = (char)('0' + v / 10 % 10);
	*p++ = (char)('0' + v % 10);
	return p;
}

const char *
addr_format(const struct sw_addr *a, char *buf)
{
	const unsigned char	*b;
	char			*p = buf;

	switch (a->af) {
	case AF_INET:
		b = (const unsigned char *)&a->ip.v4;	/* network order */
		for (int i = 0; i < 4; i++) {
			if (i > 0)
				*p++ = '.';
			p = addr_octet(p, b[i]);
		}
		*p = '\0';
		return buf;
	case AF_INET6:
		if (inet_ntop(AF_INET6, &a->ip.v6, buf, ADDR_STRLEN) != NULL)
			return buf;
		break;
	}
	return strcpy(buf, "local");
}
