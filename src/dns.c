/*
 * dns: resolve server names with evdns on the control thread.
 *
 * Each round looks up every non-literal server of the current config.
 * When all answers are in, a config whose addresses changed is cloned,
 * edited and published; answers for a config that was replaced meanwhile
 * are dropped (the next round resolves the new one).
 */
#include <arpa/inet.h>
#include <netdb.h>
#include <stdio.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include <event2/dns.h>
#include <event2/event.h>
#include <event2/util.h>

#include "switchover/config.h"
#include "switchover/dns.h"
#include "switchover/log.h"
#include "switchover/runtime.h"

struct lookup {
	size_t			 b, s;		/* backend, server index */
	struct sockaddr_storage	 addr;
	socklen_t		 addrlen;
	int			 ok;
};

static struct evdns_base	*dnsb;
static struct event		*tick;
static struct sw_config		*round_cfg;	/* config being resolved */
static struct lookup		*lookups;
static size_t			 nlookups, pending;

static void	dns_round_done(void);

/* One answer arrived. */
static void
dns_cb(int err, struct evutil_addrinfo *ai, void *arg)
{
	struct lookup *l = arg;

	if (err == 0 && ai != NULL && ai->ai_addrlen <= sizeof(l->addr)) {
		memcpy(&l->addr, ai->ai_addr, ai->ai_addrlen);
		l->addrlen = ai->ai_addrlen;
		l->ok = 1;
	} else if (err != EVUTIL_EAI_CANCEL && round_cfg != NULL) {
		struct sw_server *s = &round_cfg->backends[l->b].servers[l->s];

		log_warn("dns: cannot resolve %s: %s%s", s->host,
		    evutil_gai_strerror(err), s->resolved ?
		    " (keeping the last address)" : "");
	}
	if (ai != NULL)
		evutil_freeaddrinfo(ai);
	if (--pending == 0)
		dns_round_done();
}

/* Every answer is in: publish if an address changed. */
static void
dns_round_done(void)
{
	struct sw_config	*c;
	int			 changed = 0;

	if (round_cfg == NULL || round_cfg != rt.cfg)
		goto done;	/* superseded: the next round will do */
	for (size_t i = 0; i < nlookups; i++) {
		struct sw_server *s =
		    &round_cfg->backends[lookups[i].b].servers[lookups[i].s];

		if (lookups[i].ok && (!s->resolved || s->addrlen !=
		    lookups[i].addrlen || memcmp(&s->addr, &lookups[i].addr,
		    s->addrlen) != 0))
			changed = 1;
	}
	if (!changed)
		goto done;
	if ((c = config_clone(round_cfg)) == NULL) {
		log_err("dns: out of memory applying new addresses");
		goto done;
	}
	for (size_t i = 0; i < nlookups; i++) {
		struct sw_server *s =
		    &c->backends[lookups[i].b].servers[lookups[i].s];
		char buf[INET6_ADDRSTRLEN] = "?";

		if (!lookups[i].ok)
			continue;
		s->addr = lookups[i].addr;
		s->addrlen = lookups[i].addrlen;
		s->resolved = 1;
		if (s->addr.ss_family == AF_INET6)
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&s->addr)->
			    sin6_addr, buf, sizeof(buf));
		else
			inet_ntop(AF_INET, &((struct sockaddr_in *)&s->addr)->
			    sin_addr, buf, sizeof(buf));
		log_info("dns: %s is %s", s->name, buf);
	}
	runtime_publish(c);
done:
	if (round_cfg != NULL)
		config_unref(round_cfg);
	round_cfg = NULL;
	free(lookups);
	lookups = NULL;
	nlookups = 0;
}

void
dns_refresh(void)
{
	struct sw_config	*c = rt.cfg;
	struct evutil_addrinfo	 hints;
	size_t			 n = 0;

	if (round_cfg != NULL || dnsb == NULL)
		return;		/* a round is under way */
	for (size_t b = 0; b < c->nbackends; b++)
		for (size_t s = 0; s < c->backends[b].nservers; s++)
			n += !c->backends[b].servers[s].literal;
	if (n == 0)
		return;
	if ((lookups = calloc(n, sizeof(*lookups))) == NULL)
		return;
	round_cfg = config_ref(c);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = EVUTIL_AI_ADDRCONFIG;
	/* Count all first: an answer may come back before the loop ends. */
	for (size_t b = 0; b < c->nbackends; b++)
		for (size_t s = 0; s < c->backends[b].nservers; s++)
			if (!c->backends[b].servers[s].literal) {
				lookups[nlookups].b = b;
				lookups[nlookups].s = s;
				nlookups++;
			}
	pending = nlookups + 1;
	for (size_t i = 0; i < nlookups; i++) {
		struct sw_server	*s =
		    &c->backends[lookups[i].b].servers[lookups[i].s];
		char			 port[8];

		snprintf(port, sizeof(port), "%u", s->port);
		evdns_getaddrinfo(dnsb, s->host, port, &hints, dns_cb,
		    &lookups[i]);
	}
	if (--pending == 0)
		dns_round_done();
}

static void
tick_cb(evutil_socket_t fd, short what, void *arg)
{
	dns_refresh();
}

int
dns_start(struct event_base *base)
{
	struct timeval tv;
	int ms = rt.cfg->dns_refresh_ms > 0 ? rt.cfg->dns_refresh_ms : 30000;

	dnsb = evdns_base_new(base, EVDNS_BASE_INITIALIZE_NAMESERVERS |
	    EVDNS_BASE_DISABLE_WHEN_INACTIVE);
	if (dnsb == NULL) {
		log_warn("dns: no resolver configuration: names in servers "
		    "will not resolve");
		return -1;
	}
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	tick = event_new(base, -1, EV_PERSIST, tick_cb, NULL);
	if (tick == NULL)
		return -1;
	evtimer_add(tick, &tv);
	dns_refresh();
	return 0;
}

void
dns_stop(void)
{
	if (tick != NULL)
		event_free(tick);
	tick = NULL;
	if (dnsb != NULL)
		evdns_base_free(dnsb, 1);
	dnsb = NULL;
}
