/*
 * loadgen: an HTTP/1.1 load generator that says which backend answered
 * each request, second by second, so a cutover can be watched and judged.
 *
 * N client connections, keep-alive (or one request per connection with
 * -C), closed loop or a fixed total rate (-R), for -d seconds or -n
 * requests.  Responses are read whole with llhttp (Content-Length,
 * chunked, or until EOF); the backend is the X-Backend header that
 * bench/backend puts on every answer.  SIGUSR1 sets a mark (the switch,
 * then the fallback): the summary gives latency before the first mark
 * and within -W seconds after each mark, and how long after each mark
 * the backend being left (-F) still served.
 *
 * Errors are counted by kind, never folded together: connect failures,
 * resets, a connection closed with a request unanswered, non-2xx
 * answers, timeouts, and unparsable answers.  A connection the server
 * closes gracefully after a complete answer is not an error: it is
 * counted as a reconnect and opened again.
 *
 * One thread, one event_base.  Connections live in one array for the
 * whole run; a connection's bufferevent is freed only from its own
 * callbacks' caller side via conn_reset(), never while llhttp runs.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include <llhttp.h>

#define MAX_CONNS	20000
#define MAX_SECONDS	3600
#define MAX_NAMES	8		/* distinct backends; more go to "other" */
#define MAX_MARKS	8
#define NAME_MAX_LEN	64
/* Latency buckets: 8 per power of two of microseconds (12.5% wide). */
#define SUB_BITS	3
#define NBUCKETS	(40 << SUB_BITS)

enum err_kind { E_CONNECT, E_RESET, E_CLOSED, E_HTTP, E_TIMEOUT, E_PARSE,
    E_MAX };
static const char *const err_names[E_MAX] = { "connect", "reset", "closed",
    "http", "timeout", "parse" };

struct sec {
	uint64_t	 by_name[MAX_NAMES + 1];	/* last: other/none */
	uint64_t	 errs[E_MAX];
	uint64_t	 reconnects;
	uint32_t	 hist[NBUCKETS];
};

struct conn {
	int			 id;
	struct bufferevent	*bev;
	llhttp_t		 p;
	struct event		*timer;		/* request timeout, redial */
	int			 busy;		/* a request is unanswered */
	int			 got_bytes;	/* of the current answer */
	int			 done;		/* answer complete */
	int			 connected;
	int			 sticky;	/* sends the sticky header */
	int			 parked;	/* in idle[], waiting for a slot */
	double			 t_sent;	/* when the request was due */
	char			 field[32];
	size_t			 field_len;
	int			 is_backend;	/* header being read is X-Backend */
	char			 name[NAME_MAX_LEN];
	size_t			 name_len;
};

static struct {
	const char	*addr, *path, *sticky_hdr;
	int		 port, nconns, seconds, close_each, json, sticky_pct;
	int		 timeout_ms;
	double		 rate, window;
	uint64_t	 max_reqs;
	long		 body_bytes;	/* -b: POST a body this long */
} opt = { "127.0.0.1", "/", "X-Client-Id", 0, 64, 10, 0, 0, 0,
    5000, 0, 2, 0, -1 };
static char		*body;		/* -b: NDJSON, as bench/post.lua */

static struct event_base	*base;
static struct sockaddr_in	 sin_dst;
static llhttp_settings_t	 settings;
static struct conn		*conns;
static struct sec		*secs;
static int			 nsecs;		/* rows allocated */
static char			 names[MAX_NAMES][NAME_MAX_LEN];
static int			 nnames;
static double			 t0, marks[MAX_MARKS];
static int			 nmarks;
static char			*leaving[MAX_MARKS];	/* -F: backend left at mark i */
static int			 nleaving;
static double			 last_leaving[MAX_MARKS]; /* its last answer */
static uint64_t			 sent, answered, slots_taken;
static int			 stopping, *idle, nidle;
static struct event		*tick, *stop_ev;

static void	conn_send(struct conn *);
static void	conn_dial(struct conn *);

/* Seconds since an arbitrary origin, monotonic. */
static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The per-second row for time t, or NULL once past the table. */
static struct sec *
row(double t)
{
	int i = (int)(t - t0);

	if (i < 0)
		i = 0;
	return i < nsecs ? &secs[i] : NULL;
}

/* Bucket of a latency in microseconds. */
static int
bucket(uint64_t us)
{
	int msb, b;

	if (us < (1u << SUB_BITS))
		return (int)us;
	msb = 63 - __builtin_clzll(us);
	b = ((msb - SUB_BITS + 1) << SUB_BITS) |
	    (int)((us >> (msb - SUB_BITS)) & ((1u << SUB_BITS) - 1));
	return b < NBUCKETS ? b : NBUCKETS - 1;
}

/* Upper bound, in microseconds, of a bucket. */
static uint64_t
bucket_top(int b)
{
	int e = b >> SUB_BITS;

	if (e == 0)
		return (uint64_t)b;
	return ((uint64_t)((1u << SUB_BITS) | (b & ((1u << SUB_BITS) - 1))) + 1)
	    << (e - 1);
}

/* The q-quantile (0..1) of a histogram, in microseconds; 0 if empty. */
static uint64_t
quantile(const uint32_t *h, double q)
{
	uint64_t total = 0, seen = 0, want;

	for (int b = 0; b < NBUCKETS; b++)
		total += h[b];
	if (total == 0)
		return 0;
	want = (uint64_t)ceil(q * (double)total);
	if (want == 0)
		want = 1;
	for (int b = 0; b < NBUCKETS; b++)
		if ((seen += h[b]) >= want)
			return bucket_top(b);
	return bucket_top(NBUCKETS - 1);
}

/* Index of a backend name, adding it; MAX_NAMES means "other". */
static int
name_index(const char *n)
{
	for (int i = 0; i < nnames; i++)
		if (strcmp(names[i], n) == 0)
			return i;
	if (nnames == MAX_NAMES)
		return MAX_NAMES;
	snprintf(names[nnames], NAME_MAX_LEN, "%s", n);
	return nnames++;
}

/* Count an error of a kind now. */
static void
count_err(enum err_kind k)
{
	struct sec *s = row(now());

	if (s != NULL)
		s->errs[k]++;
}

/* Append n bytes to buf (cap bytes, kept NUL-terminated).  0, or -1 if
 * they do not fit (buf is then unchanged). */
static int
append(char *buf, size_t *len, size_t cap, const char *at, size_t n)
{
	if (*len + n >= cap)
		return -1;
	memcpy(buf + *len, at, n);
	*len += n;
	buf[*len] = '\0';
	return 0;
}

static int
on_message_begin(llhttp_t *p)
{
	struct conn *c = p->data;

	c->name_len = 0;
	c->field_len = 0;
	c->is_backend = 0;
	return 0;
}

static int
on_header_field(llhttp_t *p, const char *at, size_t n)
{
	struct conn *c = p->data;

	if (c->field_len < sizeof(c->field) &&
	    append(c->field, &c->field_len, sizeof(c->field), at, n) == -1)
		c->field_len = sizeof(c->field);	/* too long: not ours */
	return 0;
}

static int
on_header_field_complete(llhttp_t *p)
{
	struct conn *c = p->data;

	c->is_backend = c->field_len < sizeof(c->field) &&
	    strcasecmp(c->field, "x-backend") == 0;
	if (c->is_backend)
		c->name_len = 0;
	c->field_len = 0;
	return 0;
}

static int
on_header_value(llhttp_t *p, const char *at, size_t n)
{
	struct conn *c = p->data;

	if (c->is_backend)
		(void)append(c->name, &c->name_len, NAME_MAX_LEN, at, n);
	return 0;
}

static int
on_header_value_complete(llhttp_t *p)
{
	struct conn *c = p->data;

	c->is_backend = 0;
	return 0;
}

/* Keep the backend's name; it goes into JSON, so only plain bytes. */
static int
on_headers_complete(llhttp_t *p)
{
	struct conn *c = p->data;

	for (size_t i = 0; i < c->name_len; i++)
		if ((unsigned char)c->name[i] < 0x20 || c->name[i] == '"' ||
		    c->name[i] == '\\' || (unsigned char)c->name[i] >= 0x7f)
			c->name[i] = '_';
	c->name[c->name_len] = '\0';
	return 0;
}

static int
on_message_complete(llhttp_t *p)
{
	struct conn *c = p->data;

	c->done = 1;
	return HPE_PAUSED;	/* one answer at a time; no pipelining */
}

/* Record a complete answer on c. */
static void
conn_answered(struct conn *c)
{
	double		 t = now();
	struct sec	*s = row(t);
	int		 status = c->p.status_code, ni;
	uint64_t	 us = (uint64_t)((t - c->t_sent) * 1e6);

	c->busy = 0;
	answered++;
	ni = c->name_len > 0 ? name_index(c->name) : MAX_NAMES;
	/* Only the latest mark is open: after a fallback, the backend the
	 * switch left answers again, and that says nothing of the switch. */
	if (nmarks > 0 && nmarks <= nleaving && ni < nnames &&
	    strcmp(names[ni], leaving[nmarks - 1]) == 0)
		last_leaving[nmarks - 1] = t;
	if (s == NULL)
		return;
	if (status < 200 || status > 299)
		s->errs[E_HTTP]++;
	s->by_name[ni]++;
	s->hist[bucket(us)]++;
}

/* Close c's socket and forget its state; the struct stays for reuse. */
static void
conn_reset(struct conn *c)
{
	if (c->bev != NULL)
		bufferevent_free(c->bev);
	c->bev = NULL;
	c->busy = 0;
	c->connected = 0;
	evtimer_del(c->timer);
}

/* c lost its connection: an error if a request was out (or the dial
 * failed), a reconnect if the server closed between answers; then dial
 * again, after a pause if dialling failed. */
static void
conn_lost(struct conn *c, enum err_kind why, int graceful)
{
	struct timeval	 pause = { 0, 100 * 1000 };
	struct sec	*s = row(now());

	if (c->busy || why == E_CONNECT)
		count_err(why);
	else if (graceful && s != NULL && !opt.close_each)
		s->reconnects++;
	conn_reset(c);
	if (stopping)
		return;
	if (why == E_CONNECT)
		evtimer_add(c->timer, &pause);	/* no dial storm */
	else
		conn_dial(c);
}

/* Feed what arrived to the parser; finish the answer when whole. */
static void
conn_readcb(struct bufferevent *bev, void *arg)
{
	struct conn	*c = arg;
	struct evbuffer	*in = bufferevent_get_input(bev);

	while (evbuffer_get_length(in) > 0) {
		struct evbuffer_iovec	 v;
		llhttp_errno_t		 e;
		size_t			 used;

		if (!c->busy) {		/* bytes nobody asked for */
			c->busy = 1;
			conn_lost(c, E_PARSE, 0);
			return;
		}
		c->got_bytes = 1;
		evbuffer_peek(in, -1, NULL, &v, 1);
		e = llhttp_execute(&c->p, v.iov_base, v.iov_len);
		used = e == HPE_OK ? v.iov_len :
		    (size_t)(llhttp_get_error_pos(&c->p) - (char *)v.iov_base);
		evbuffer_drain(in, used);
		if (e == HPE_PAUSED) {
			int keep = llhttp_should_keep_alive(&c->p);

			llhttp_resume(&c->p);
			conn_answered(c);
			evtimer_del(c->timer);
			if (!keep || opt.close_each) {
				conn_lost(c, E_CLOSED, 1);
				return;
			}
			if (evbuffer_get_length(in) > 0) {
				c->busy = 1;	/* unasked bytes */
				conn_lost(c, E_PARSE, 0);
				return;
			}
			conn_send(c);
			return;
		}
		if (e != HPE_OK) {
			conn_lost(c, E_PARSE, 0);
			return;
		}
	}
}

/* Connected, closed, or failed. */
static void
conn_eventcb(struct bufferevent *bev, short what, void *arg)
{
	struct conn *c = arg;

	if (what & BEV_EVENT_CONNECTED) {
		int one = 1;

		setsockopt(bufferevent_getfd(bev), IPPROTO_TCP, TCP_NODELAY,
		    &one, sizeof(one));
		c->connected = 1;
		conn_send(c);
		return;
	}
	/* An answer delimited by EOF: complete, and not an error.  The
	 * parser reports it through on_message_complete (paused). */
	if ((what & BEV_EVENT_EOF) && c->busy && llhttp_finish(&c->p) !=
	    HPE_INVALID_EOF_STATE && c->done) {
		conn_answered(c);
		conn_lost(c, E_CLOSED, 1);
		return;
	}
	if (!c->connected)
		conn_lost(c, E_CONNECT, 0);
	else if (what & BEV_EVENT_EOF)
		conn_lost(c, E_CLOSED, 1);
	else
		conn_lost(c, E_RESET, 0);
}

/* Request timeout on a busy connection, or the pause before a redial. */
static void
conn_timercb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;

	if (c->bev == NULL) {
		if (!stopping)
			conn_dial(c);
		return;
	}
	conn_lost(c, E_TIMEOUT, 0);
}

/* Open c's connection; the first request goes out once connected. */
static void
conn_dial(struct conn *c)
{
	struct bufferevent *bev;

	c->bev = bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL) {
		conn_lost(c, E_CONNECT, 0);
		return;
	}
	bufferevent_setcb(c->bev, conn_readcb, NULL, conn_eventcb, c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	llhttp_init(&c->p, HTTP_RESPONSE, &settings);
	c->p.data = c;
	c->got_bytes = 0;
	/* On -1 libevent may already have run conn_eventcb (which redials
	 * later); count the failure only once. */
	if (bufferevent_socket_connect(bev, (struct sockaddr *)&sin_dst,
	    sizeof(sin_dst)) == -1 && c->bev == bev)
		conn_lost(c, E_CONNECT, 0);
}

/* Whether one more request may go out now; takes its due time. */
static int
take_slot(double *due)
{
	double t = now();

	if (stopping || (opt.max_reqs > 0 && sent >= opt.max_reqs))
		return 0;
	if (opt.rate <= 0) {
		*due = t;
		return 1;
	}
	/* Open loop: request k is due at t0 + k / rate.  Latency counts
	 * from then, so a stalled proxy cannot hide its stall. */
	*due = t0 + (double)slots_taken / opt.rate;
	if (*due > t)
		return 0;
	slots_taken++;
	return 1;
}

/* Open loop: wake up when the next request is due. */
static void
arm_tick(void)
{
	double		 wait = t0 + (double)slots_taken / opt.rate - now();
	struct timeval	 tv = { 0, 0 };

	if (evtimer_pending(tick, NULL))
		return;
	if (wait > 0) {
		tv.tv_sec = (time_t)wait;
		tv.tv_usec = (suseconds_t)((wait - (double)tv.tv_sec) * 1e6);
	}
	evtimer_add(tick, &tv);
}

/* Send the next request on c, or park c until one is due. */
static void
conn_send(struct conn *c)
{
	struct evbuffer	*out = bufferevent_get_output(c->bev);
	struct timeval	 tv = { opt.timeout_ms / 1000,
	    (opt.timeout_ms % 1000) * 1000 };
	double		 due;

	if (!take_slot(&due)) {
		if (opt.max_reqs > 0 && sent >= opt.max_reqs && !stopping)
			event_active(stop_ev, 0, 0);
		else if (!stopping && opt.rate > 0) {
			/* A connection closed and redialled while parked is
			 * parked already: listing it twice would overrun
			 * idle[] and send it two requests at once. */
			if (!c->parked) {
				c->parked = 1;
				idle[nidle++] = c->id;
			}
			arm_tick();
		}
		return;
	}
	evbuffer_add_printf(out, "%s %s HTTP/1.1\r\nHost: %s:%d\r\n",
	    body != NULL ? "POST" : "GET", opt.path, opt.addr, opt.port);
	if (body != NULL)
		evbuffer_add_printf(out, "Content-Type: application/x-ndjson"
		    "\r\nContent-Length: %ld\r\n", opt.body_bytes);
	if (c->sticky)
		evbuffer_add_printf(out, "%s: client-%d\r\n", opt.sticky_hdr,
		    c->id);
	evbuffer_add_printf(out, "%s\r\n", opt.close_each ?
	    "Connection: close\r\n" : "");
	if (body != NULL)
		evbuffer_add_reference(out, body, (size_t)opt.body_bytes,
		    NULL, NULL);
	c->busy = 1;
	c->done = 0;
	c->got_bytes = 0;
	c->t_sent = due;
	sent++;
	evtimer_add(c->timer, &tv);
}

/* Open loop: hand due requests to parked connections. */
static void
tickcb(evutil_socket_t fd, short what, void *arg)
{
	while (nidle > 0 && !stopping) {
		struct conn	*c;
		double		 due;

		if (!take_slot(&due))
			break;
		slots_taken--;	/* conn_send takes it again */
		c = &conns[idle[--nidle]];
		c->parked = 0;
		/* Redialling: its connect callback sends. */
		if (c->connected && !c->busy)
			conn_send(c);
	}
	if (nidle > 0 && !stopping)
		arm_tick();
}

/* Duration over, total reached, or SIGINT: stop sending, let answers
 * in flight finish (up to the timeout), then leave the loop. */
static void
stopcb(evutil_socket_t fd, short what, void *arg)
{
	struct timeval	 tv = { 0, 10 * 1000 };
	int		 busy = 0;
	static double	 since;

	if (!stopping) {
		stopping = 1;
		since = now();
	}
	for (int i = 0; i < opt.nconns; i++)
		busy += conns[i].busy && conns[i].bev != NULL;
	if (busy == 0 || now() - since > opt.timeout_ms / 1000.0 + 1) {
		event_base_loopexit(base, NULL);
		return;
	}
	evtimer_add(stop_ev, &tv);
}

/* SIGUSR1: the switch (then the fallback) happens now. */
static void
markcb(evutil_socket_t fd, short what, void *arg)
{
	if (nmarks < MAX_MARKS) {
		last_leaving[nmarks] = -1;
		marks[nmarks++] = now();
	}
}

/* Merge into h the rows that overlap [from, to), or with whole set only
 * those inside it. */
static void
merge(uint32_t *h, double from, double to, int whole)
{
	memset(h, 0, sizeof(uint32_t) * NBUCKETS);
	for (int i = 0; i < nsecs; i++) {
		double a = t0 + i;

		if (a + 1 <= from || a >= to ||
		    (whole && (a < from || a + 1 > to)))
			continue;
		for (int b = 0; b < NBUCKETS; b++)
			h[b] += secs[i].hist[b];
	}
}

/* Rows that hold anything (the tail after the run may be empty). */
static int
rows_used(void)
{
	int n = opt.seconds < nsecs ? opt.seconds : nsecs;

	for (int i = n; i < nsecs; i++) {
		uint64_t any = secs[i].reconnects;

		for (int k = 0; k < MAX_NAMES + 1; k++)
			any += secs[i].by_name[k];
		for (int k = 0; k < E_MAX; k++)
			any += secs[i].errs[k];
		if (any)
			n = i + 1;
	}
	return n;
}

/* Print the per-second table and the summary. */
static void
report(void)
{
	int		 n = rows_used();
	uint64_t	 tot_err[E_MAX] = { 0 }, tot_by[MAX_NAMES + 1] = { 0 };
	uint64_t	 errs = 0, reconn = 0;
	uint32_t	 h[NBUCKETS];

	if (!opt.json) {
		printf("%4s", "sec");
		for (int i = 0; i < nnames; i++)
			printf(" %9.9s", names[i]);
		printf(" %9s %7s %5s %5s %6s %4s %7s %5s %6s %8s %8s %8s\n",
		    "other", "connect", "reset", "closed", "http", "tmo", "parse",
		    "recon", "p50ms", "p99ms", "maxms", "");
	}
	for (int i = 0; i < n; i++) {
		struct sec *s = &secs[i];

		for (int k = 0; k < E_MAX; k++)
			tot_err[k] += s->errs[k];
		for (int k = 0; k <= MAX_NAMES; k++)
			tot_by[k] += s->by_name[k];
		reconn += s->reconnects;
		if (opt.json) {
			const char *sep = "";

			printf("{\"sec\":%d,\"backends\":{", i);
			for (int k = 0; k < nnames; k++)
				printf("%s\"%s\":%" PRIu64, k ? "," : "",
				    names[k], s->by_name[k]);
			printf("},\"other\":%" PRIu64 ",\"errors\":{",
			    s->by_name[MAX_NAMES]);
			for (int k = 0; k < E_MAX; k++)
				printf("%s\"%s\":%" PRIu64, k ? "," : "",
				    err_names[k], s->errs[k]);
			printf("},\"reconnects\":%" PRIu64 ",\"p50_us\":%" PRIu64
			    ",\"p99_us\":%" PRIu64 ",\"max_us\":%" PRIu64
			    ",\"hist\":[", s->reconnects, quantile(s->hist, .5),
			    quantile(s->hist, .99), quantile(s->hist, 1));
			for (int b = 0; b < NBUCKETS; b++)
				if (s->hist[b]) {
					printf("%s[%" PRIu64 ",%u]", sep,
					    bucket_top(b), s->hist[b]);
					sep = ",";
				}
			printf("]}\n");
			continue;
		}
		printf("%4d", i);
		for (int k = 0; k < nnames; k++)
			printf(" %9" PRIu64, s->by_name[k]);
		printf(" %9" PRIu64, s->by_name[MAX_NAMES]);
		printf(" %7" PRIu64 " %5" PRIu64 " %6" PRIu64 " %4" PRIu64
		    " %7" PRIu64 " %5" PRIu64, s->errs[E_CONNECT],
		    s->errs[E_RESET], s->errs[E_CLOSED], s->errs[E_HTTP],
		    s->errs[E_TIMEOUT], s->errs[E_PARSE]);
		printf(" %5" PRIu64 " %6.2f %8.2f %8.2f\n", s->reconnects,
		    quantile(s->hist, .5) / 1e3, quantile(s->hist, .99) / 1e3,
		    quantile(s->hist, 1) / 1e3);
	}
	for (int k = 0; k < E_MAX; k++)
		errs += tot_err[k];

	/* Summary: one JSON object, or the same facts as lines. */
	if (opt.json)
		printf("{\"summary\":{\"sent\":%" PRIu64 ",\"answered\":%" PRIu64
		    ",\"errors\":%" PRIu64 ",\"reconnects\":%" PRIu64
		    ",\"backends\":{", sent, answered, errs, reconn);
	else
		printf("\nsent %" PRIu64 ", answered %" PRIu64 ", errors %" PRIu64
		    ", reconnects %" PRIu64 "\nby backend:", sent, answered, errs,
		    reconn);
	for (int k = 0; k < nnames; k++)
		printf(opt.json ? "%s\"%s\":%" PRIu64 : "%s %s %" PRIu64,
		    k ? (opt.json ? "," : ",") : "", names[k], tot_by[k]);
	printf(opt.json ? "},\"other\":%" PRIu64 ",\"errors_by_kind\":{" :
	    ", other %" PRIu64 "\nerrors by kind:", tot_by[MAX_NAMES]);
	for (int k = 0; k < E_MAX; k++)
		printf(opt.json ? "%s\"%s\":%" PRIu64 : "%s %s %" PRIu64,
		    k ? "," : "", err_names[k], tot_err[k]);
	merge(h, t0, nmarks ? marks[0] : t0 + n, 1);
	printf(opt.json ? "},\"before\":{\"p50_us\":%" PRIu64 ",\"p99_us\":%"
	    PRIu64 "}" : "\nlatency before the first mark: p50 %" PRIu64
	    " us, p99 %" PRIu64 " us", quantile(h, .5), quantile(h, .99));
	if (opt.json)
		printf(",\"marks\":[");
	for (int m = 0; m < nmarks; m++) {
		double	conv = -1;

		merge(h, marks[m], marks[m] + opt.window, 0);
		if (m < nleaving)
			conv = last_leaving[m] < 0 ? 0 :
			    last_leaving[m] - marks[m];
		if (opt.json) {
			printf("%s{\"at\":%.3f,\"p50_us\":%" PRIu64 ",\"p99_us\":%"
			    PRIu64, m ? "," : "", marks[m] - t0,
			    quantile(h, .5), quantile(h, .99));
			if (conv >= 0)
				printf(",\"leaving_last_s\":%.3f", conv);
			printf("}");
		} else {
			printf("\nmark %d at %.3f s: next %.1f s p50 %" PRIu64
			    " us, p99 %" PRIu64 " us", m + 1, marks[m] - t0,
			    opt.window, quantile(h, .5), quantile(h, .99));
			if (conv >= 0)
				printf("; %s last answered %.3f s after it",
				    leaving[m], conv);
		}
	}
	printf(opt.json ? "]}}\n" : "\n");
}

/* A body of n bytes of bulk-style NDJSON lines, the last one cut short. */
static char *
ndjson(long n)
{
	static const char	 line[] = "{\"index\":{\"_index\":\"bench\"}}\n"
	    "{\"field\":\"value\"}\n";
	char			*b;

	if ((b = malloc((size_t)n + 1)) == NULL)
		return NULL;
	for (long i = 0; i < n; i++)
		b[i] = line[i % (long)(sizeof(line) - 1)];
	return b;
}

static void
usage(FILE *f)
{
	fprintf(f,
"usage: loadgen -p PORT [-a ADDR] [-c CONNS] [-d SECONDS | -n REQUESTS]\n"
"               [-R RATE] [-C] [-u PATH] [-t TIMEOUT_MS] [-s PCT [-H NAME]]\n"
"               [-F BACKEND,...] [-W SECONDS] [-b BYTES] [-j]\n"
"HTTP/1.1 load that counts, second by second, which backend answered\n"
"(the X-Backend header), errors by kind and latency.\n"
"  -c CONNS    client connections (default 64)\n"
"  -d SECONDS  run time (default 10);  -n REQUESTS  stop after this many\n"
"  -R RATE     total requests per second, open loop (default: closed loop)\n"
"  -C          a new connection per request (Connection: close)\n"
"  -s PCT      PCT%% of connections send \"NAME: client-<i>\" (-H, default\n"
"              X-Client-Id), for sticky routing\n"
"  -t MS       an answer not complete after MS is a timeout (default 5000)\n"
"  -F A[,B..]  the backend each mark (SIGUSR1) moves away from (the switch,\n"
"              then the fallback): report how long after it A still answered\n"
"  -W SECONDS  latency after each mark: the seconds that overlap this\n"
"              window (default 2); \"before\": whole seconds before mark 1\n"
"  -b BYTES    POST a body of BYTES (NDJSON, as bench/post.lua) to PATH\n"
"  -j          JSON lines: one per second, then {\"summary\":...}\n");
}

int
main(int argc, char *argv[])
{
	struct event_config	*ec;
	struct event		*sig_mark, *sig_int, *sig_term;
	struct timeval		 dur;
	int		 ch;

	while ((ch = getopt(argc, argv, "a:p:c:d:n:R:Cu:t:s:H:F:W:b:jh")) != -1) {
		switch (ch) {
		case 'a': opt.addr = optarg; break;
		case 'p': opt.port = atoi(optarg); break;
		case 'c': opt.nconns = atoi(optarg); break;
		case 'd': opt.seconds = atoi(optarg); break;
		case 'n': opt.max_reqs = strtoull(optarg, NULL, 10); break;
		case 'R': opt.rate = atof(optarg); break;
		case 'C': opt.close_each = 1; break;
		case 'u': opt.path = optarg; break;
		case 't': opt.timeout_ms = atoi(optarg); break;
		case 's': opt.sticky_pct = atoi(optarg); break;
		case 'H': opt.sticky_hdr = optarg; break;
		case 'F':
			for (char *f = strtok(optarg, ","); f != NULL &&
			    nleaving < MAX_MARKS; f = strtok(NULL, ","))
				leaving[nleaving++] = f;
			break;
		case 'W': opt.window = atof(optarg); break;
		case 'b': opt.body_bytes = strtol(optarg, NULL, 10); break;
		case 'j': opt.json = 1; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	sin_dst.sin_family = AF_INET;
	sin_dst.sin_port = htons((uint16_t)opt.port);
	if (opt.port <= 0 || opt.port > 65535 || opt.nconns < 1 ||
	    opt.nconns > MAX_CONNS || opt.seconds < 1 ||
	    opt.seconds > MAX_SECONDS || opt.timeout_ms < 1 ||
	    opt.timeout_ms > 600000 || opt.rate < 0 || opt.sticky_pct < 0 ||
	    opt.sticky_pct > 100 || opt.window <= 0 || opt.path[0] != '/' ||
	    strpbrk(opt.path, " \r\n") != NULL ||
	    opt.body_bytes < -1 || opt.body_bytes > 64L << 20 ||
	    inet_pton(AF_INET, opt.addr, &sin_dst.sin_addr) != 1) {
		fprintf(stderr, "loadgen: bad arguments\n");
		usage(stderr);
		return 2;
	}
	if (opt.body_bytes >= 0 && (body = ndjson(opt.body_bytes)) == NULL) {
		fprintf(stderr, "loadgen: out of memory\n");
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	llhttp_settings_init(&settings);
	settings.on_message_begin = on_message_begin;
	settings.on_header_field = on_header_field;
	settings.on_header_field_complete = on_header_field_complete;
	settings.on_header_value = on_header_value;
	settings.on_header_value_complete = on_header_value_complete;
	settings.on_headers_complete = on_headers_complete;
	settings.on_message_complete = on_message_complete;

	/* Rows for the run, plus the tail in which late answers land. */
	nsecs = opt.seconds + opt.timeout_ms / 1000 + 3;
	/* A precise timer: open-loop requests go out on time, not on the
	 * next millisecond. */
	if ((ec = event_config_new()) == NULL ||
	    event_config_set_flag(ec, EVENT_BASE_FLAG_PRECISE_TIMER) == -1 ||
	    (base = event_base_new_with_config(ec)) == NULL ||
	    (secs = calloc((size_t)nsecs, sizeof(*secs))) == NULL ||
	    (conns = calloc((size_t)opt.nconns, sizeof(*conns))) == NULL ||
	    (idle = calloc((size_t)opt.nconns, sizeof(*idle))) == NULL) {
		fprintf(stderr, "loadgen: out of memory\n");
		return 1;
	}
	stop_ev = evtimer_new(base, stopcb, NULL);
	event_config_free(ec);
	tick = evtimer_new(base, tickcb, NULL);
	sig_mark = evsignal_new(base, SIGUSR1, markcb, NULL);
	sig_int = evsignal_new(base, SIGINT, stopcb, NULL);
	sig_term = evsignal_new(base, SIGTERM, stopcb, NULL);
	evsignal_add(sig_mark, NULL);
	evsignal_add(sig_int, NULL);
	evsignal_add(sig_term, NULL);
	dur.tv_sec = opt.seconds;
	dur.tv_usec = 0;
	evtimer_add(stop_ev, &dur);
	t0 = now();
	for (int i = 0; i < opt.nconns; i++) {
		conns[i].id = i;
		conns[i].sticky = (uint64_t)i * 100 / (uint64_t)opt.nconns <
		    (uint64_t)opt.sticky_pct;
		conns[i].timer = evtimer_new(base, conn_timercb, &conns[i]);
		conn_dial(&conns[i]);
	}
	event_base_dispatch(base);
	report();
	for (int i = 0; i < opt.nconns; i++) {
		conn_reset(&conns[i]);
		event_free(conns[i].timer);
	}
	event_free(tick);
	event_free(stop_ev);
	event_free(sig_mark);
	event_free(sig_int);
	event_free(sig_term);
	event_base_free(base);
	free(secs);
	free(conns);
	free(idle);
	free(body);
	return 0;
}
