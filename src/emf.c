/*
 * emf: CloudWatch Embedded Metric Format lines, one per backend per
 * interval (and per route and backend with dimensions = route), from the
 * workers' summed counters.
 *
 * Control thread only.  The module keeps its own snapshot of the sums at
 * the last line (an interval may be 5 min, longer than the stats ring),
 * so a line's counts are exactly what happened between two lines.
 *
 * Output never blocks the control thread: whole lines go into `pending`
 * (capped at PENDING_MAX; a line that does not fit is dropped and
 * counted) and are written without blocking; what the reader does not
 * take yet waits for the descriptor to become writable.  Since only whole
 * lines enter `pending` and it is written in order, the stream is always
 * whole lines.  A regular file cannot say "later", only fail (ENOSPC): a
 * line cut short there is cut off again with ftruncate.
 *
 * stdout is the descriptor ECS's awslogs driver and systemd's journal
 * read.  We never set O_NONBLOCK on fd 1 itself (that flag belongs to the
 * open file, which stderr often shares): a socket is written with
 * MSG_DONTWAIT, a pipe or terminal through a fresh open of
 * /proc/self/fd/1, which is non-blocking on its own.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <jansson.h>

#include "switchover/config.h"
#include "switchover/emf.h"
#include "switchover/log.h"
#include "switchover/metrics.h"
#include "switchover/route.h"
#include "switchover/runtime.h"

#define PENDING_MAX	(64 * 1024)	/* a few intervals' worth */

static struct {
	struct event_base	*base;
	struct event		*timer;
	struct event		*wev;		/* fd writable again */
	struct evbuffer		*pending;	/* whole lines not yet written */
	int			 fd;		/* -1: not open (off or failed) */
	int			 own;		/* fd is ours to close */
	int			 sock;		/* write with send(MSG_DONTWAIT) */
	int			 reg;		/* a regular file */
	char			*target;	/* "stdout" or a path; NULL: off */
	int			 interval_ms;
	struct worker_metrics	*prev, *cur, *win;
	struct route_table	*rprev, *rcur, *rwin;	/* the same, routes */
	uint64_t		 written, dropped;
	time_t			 last_warn;
} emf = { .fd = -1 };

/* ---- rendering ------------------------------------------------------------ */

const char *
emf_dimension(const struct sw_config *c, const char *backend, char *buf,
    size_t len)
{
	const char *tg = NULL, *p, *e;

	if (strcmp(backend, "source") == 0)
		tg = c->aws.source_tg;
	else if (strcmp(backend, "target") == 0)
		tg = c->aws.target_tg;
	if (tg == NULL)
		return backend;
	/* arn:aws:elasticloadbalancing:R:A:targetgroup/NAME/ID -> NAME */
	if (strncmp(tg, "arn:", 4) == 0 &&
	    (p = strstr(tg, ":targetgroup/")) != NULL) {
		p += strlen(":targetgroup/");
		if ((e = strchr(p, '/')) == NULL)
			e = p + strlen(p);
		snprintf(buf, len, "%.*s", (int)(e - p), p);
		return *buf != '\0' ? buf : backend;
	}
	return tg;
}

/* Append metric name (unit) with value v to the directive and the line. */
static void
metric(json_t *line, json_t *defs, const char *name, const char *unit,
    json_t *v)
{
	json_array_append_new(defs, json_pack("{s:s, s:s}", "Name", name,
	    "Unit", unit));
	json_object_set_new(line, name, v);
}

char *
emf_render(const char *ns, int64_t ts_ms, const struct emf_backend *b)
{
	static const char *const codes[4] = { "HTTPCode_Target_2XX_Count",
	    "HTTPCode_Target_3XX_Count", "HTTPCode_Target_4XX_Count",
	    "HTTPCode_Target_5XX_Count" };
	const struct backend_metrics	*w = b->win;
	const struct route_metrics	*r = b->route ? b->rwin : NULL;
	const struct hist		*h = r ? &r->latency : &w->latency;
	const uint64_t			*resp = r ? r->responses : w->responses;
	json_t				*line, *defs;
	char				*s = NULL, *out = NULL;
	size_t				 n;
	uint64_t			 nerr = 0;

	line = json_object();
	defs = json_array();
	if (line == NULL || defs == NULL)
		goto done;
	if (r != NULL)
		json_object_set_new(line, "_aws", json_pack("{s:I, s:[{s:s, "
		    "s:[[s, s]], s:O}]}", "Timestamp", (json_int_t)ts_ms,
		    "CloudWatchMetrics", "Namespace", ns, "Dimensions", "Route",
		    "Backend", "Metrics", defs));
	else
		json_object_set_new(line, "_aws", json_pack("{s:I, s:[{s:s, "
		    "s:[[s]], s:O}]}", "Timestamp", (json_int_t)ts_ms,
		    "CloudWatchMetrics", "Namespace", ns, "Dimensions",
		    "Backend", "Metrics", defs));
	if (r != NULL)
		json_object_set_new(line, "Route", json_string(b->route));
	json_object_set_new(line, "Backend", json_string(b->dimension));
	metric(line, defs, "RequestCount", "Count",
	    json_integer((json_int_t)(r ? r->requests : w->requests)));
	for (int k = 0; k < 4; k++)
		metric(line, defs, codes[k], "Count",
		    json_integer((json_int_t)resp[k + 1]));
	metric(line, defs, "HTTPCode_Target_429_Count", "Count",
	    json_integer((json_int_t)(r ? r->responses_429 :
	    w->responses_429)));
	/* Errors the proxy answered itself, as the ALB's own 5XX. */
	for (int e = 0; r == NULL && e < PERR_MAX; e++)
		nerr += w->errors[e];
	if (r == NULL)
		metric(line, defs, "HTTPCode_ELB_5XX_Count", "Count",
		    json_integer((json_int_t)nerr));
	/* No requests, no latency: a 0 would drag the averages down. */
	if (h->count > 0) {
		metric(line, defs, "TargetResponseTime", "Seconds",
		    json_real((double)h->sum_us / (double)h->count / 1e6));
		metric(line, defs, "TargetResponseTimeP50", "Seconds",
		    json_real((double)hist_quantile(h, 0.50) / 1e6));
		metric(line, defs, "TargetResponseTimeP99", "Seconds",
		    json_real((double)hist_quantile(h, 0.99) / 1e6));
	}
	if (r != NULL)
		goto weight;	/* connections are the backend's, not a route's */
	metric(line, defs, "ActiveConnectionCount", "Count",
	    json_integer((json_int_t)b->active));
	metric(line, defs, "NewConnectionCount", "Count",
	    json_integer((json_int_t)w->conns_opened));
	if (w->conns_opened + w->conns_reused > 0)
		metric(line, defs, "ConnectionReuseRatio", "None",
		    json_real((double)w->conns_reused /
		    (double)(w->conns_opened + w->conns_reused)));
weight:
	metric(line, defs, "Weight", "None", json_integer(b->weight));
	if ((s = json_dumps(line, JSON_COMPACT | JSON_PRESERVE_ORDER |
	    JSON_REAL_PRECISION(9))) == NULL)
		goto done;
	n = strlen(s);
	if (n + 1 > EMF_LINE_MAX || (out = malloc(n + 2)) == NULL)
		goto done;
	memcpy(out, s, n);
	out[n] = '\n';
	out[n + 1] = '\0';
done:
	free(s);
	json_decref(defs);
	json_decref(line);
	return out;
}

/* ---- output --------------------------------------------------------------- */

/* At most one warning a minute: a stuck reader must not flood the log. */
static void
emf_warn(const char *what)
{
	time_t now = time(NULL);

	if (now - emf.last_warn < 60)
		return;
	emf.last_warn = now;
	log_warn("cloudwatch: %s: %s (%llu lines dropped so far)", emf.target,
	    what, (unsigned long long)emf.dropped);
}

/* Lines in the first n bytes of pending. */
static uint64_t
pending_lines(size_t n)
{
	unsigned char	*p = evbuffer_pullup(emf.pending, (ev_ssize_t)n);
	uint64_t	 k = 0;

	for (size_t i = 0; p != NULL && i < n; i++)
		k += p[i] == '\n';
	return k;
}

/* Drop everything pending, counting the lines. */
static void
pending_drop(void)
{
	size_t n = evbuffer_get_length(emf.pending);

	emf.dropped += pending_lines(n);
	evbuffer_drain(emf.pending, n);
}

/*
 * A regular file took only part of what we wrote (ENOSPC): cut the file
 * back to the end of the last whole line, so no reader sees half a line.
 */
static void
file_trim(off_t start, const unsigned char *p, size_t wrote)
{
	size_t keep = wrote;

	while (keep > 0 && p[keep - 1] != '\n')
		keep--;
	if (keep == wrote)
		return;
	if (ftruncate(emf.fd, start + (off_t)keep) == -1)
		log_debug("cloudwatch: ftruncate: %s", strerror(errno));
	/* Without O_APPEND (stdout from a shell's >) the offset is ours. */
	lseek(emf.fd, start + (off_t)keep, SEEK_SET);
}

/* Write what is pending, without blocking. */
static void
flush(void)
{
	while (emf.fd != -1 && evbuffer_get_length(emf.pending) > 0) {
		size_t		 n = evbuffer_get_length(emf.pending);
		unsigned char	*p = evbuffer_pullup(emf.pending, -1);
		off_t		 start = emf.reg ? lseek(emf.fd, 0, SEEK_END) : 0;
		ssize_t		 r;

		if (p == NULL)
			return;
		r = emf.sock ? send(emf.fd, p, n, MSG_DONTWAIT | MSG_NOSIGNAL) :
		    write(emf.fd, p, n);
		if (r > 0) {
			emf.written += pending_lines((size_t)r);
			if (emf.reg && (size_t)r < n) {
				/* A short write to a file: the disk is full. */
				file_trim(start, p, (size_t)r);
				evbuffer_drain(emf.pending, (size_t)r);
				pending_drop();
				emf_warn("short write (disk full?)");
				return;
			}
			evbuffer_drain(emf.pending, (size_t)r);
			continue;
		}
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1 && (errno == EAGAIN || errno == EWOULDBLOCK) &&
		    !emf.reg) {
			/* The reader is slow: carry on when it has room. */
			if (emf.wev != NULL)
				event_add(emf.wev, NULL);
			return;
		}
		pending_drop();
		emf_warn(r == -1 ? strerror(errno) : "write returned 0");
		return;
	}
}

/* The descriptor can take more. */
static void
writable_cb(evutil_socket_t fd, short what, void *arg)
{
	flush();
}

/* Queue one whole line, or drop and count it. */
static void
emit(const char *line)
{
	size_t n = strlen(line);

	if (emf.fd == -1 ||
	    evbuffer_get_length(emf.pending) + n > PENDING_MAX ||
	    evbuffer_add(emf.pending, line, n) == -1) {
		emf.dropped++;
		emf_warn(emf.fd == -1 ? "not open" :
		    "the reader is not keeping up");
		return;
	}
	flush();
}

/* Close the output (pending lines are lost, and counted). */
static void
out_close(void)
{
	if (emf.wev != NULL)
		event_free(emf.wev);
	emf.wev = NULL;
	if (emf.pending != NULL)
		pending_drop();
	if (emf.own && emf.fd != -1)
		close(emf.fd);
	emf.fd = -1;
	emf.own = emf.sock = emf.reg = 0;
}

/* Open emf.target for non-blocking writes.  0, or -1 (logged). */
static int
out_open(void)
{
	struct stat	st;
	int		fd;

	if (strcmp(emf.target, "stdout") == 0) {
		if (fstat(STDOUT_FILENO, &st) == -1)
			goto fail;
		emf.reg = S_ISREG(st.st_mode);
		emf.sock = S_ISSOCK(st.st_mode);
		if (emf.reg || emf.sock)
			fd = STDOUT_FILENO;
		else if ((fd = open("/proc/self/fd/1", O_WRONLY | O_NONBLOCK |
		    O_CLOEXEC)) != -1)
			emf.own = 1;
		else
			goto fail;
	} else {
		fd = open(emf.target, O_WRONLY | O_CREAT | O_APPEND |
		    O_NONBLOCK | O_CLOEXEC, 0640);
		if (fd == -1 || fstat(fd, &st) == -1) {
			if (fd != -1)
				close(fd);
			goto fail;
		}
		emf.own = 1;
		emf.reg = S_ISREG(st.st_mode);
		emf.sock = S_ISSOCK(st.st_mode);
	}
	emf.fd = fd;
	/* Regular files are always "ready" (and epoll refuses them). */
	if (!emf.reg && emf.base != NULL && (emf.wev = event_new(emf.base,
	    fd, EV_WRITE, writable_cb, NULL)) == NULL) {
		out_close();
		goto fail;
	}
	return 0;
fail:
	log_err("cloudwatch: cannot open %s for EMF lines: %s", emf.target,
	    strerror(errno));
	return -1;
}

/* ---- the interval --------------------------------------------------------- */

/* Wall-clock milliseconds since the epoch. */
static int64_t
epoch_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Write one rendered line, or count it dropped. */
static void
emit_line(char *line)
{
	if (line == NULL) {
		emf.dropped++;
		emf_warn("a line could not be made (out of memory?)");
		return;
	}
	emit(line);
	free(line);
}

/*
 * dimensions = route: one line per route (the default one as "default")
 * and backend, for the interval between the route sums rprev and rcur.
 */
static void
emit_routes(const char *ns, int64_t ts)
{
	const struct sw_config	*c = rt.cfg;
	struct route_table	*t;
	int			 w[SW_MAX_BACKENDS];

	runtime_route_metrics(emf.rcur);
	metrics_route_sub(emf.rwin, emf.rcur, emf.rprev);
	t = emf.rprev;
	emf.rprev = emf.rcur;
	emf.rcur = t;
	if (!c->cloudwatch.by_route)
		return;
	for (int ri = -1; ri < (int)c->nroutes; ri++) {
		route_weights(c, ri, w);
		for (size_t i = 0; i < c->nbackends; i++) {
			const struct sw_backend	*be = &c->backends[i];
			char			 dim[256];
			struct emf_backend	 b = {
				.weight = w[i],
				.win = &emf.win->b[be->metric_slot],
				.route = ri < 0 ? "default" : c->routes[ri].name,
				.rwin = metrics_route_get(emf.rwin, route_slot(c,
				    ri), be->metric_slot),
			};

			if (b.rwin == NULL)
				continue;
			b.dimension = emf_dimension(c, be->name, dim,
			    sizeof(dim));
			emit_line(emf_render(ns, ts, &b));
		}
	}
}

/* One line per backend for what happened since the last lines. */
static void
emit_interval(void)
{
	const struct sw_config	*c = rt.cfg;
	const char		*ns = c->cloudwatch.namespace ?
				    c->cloudwatch.namespace : "switchover";
	int64_t			 ts = epoch_ms();
	struct worker_metrics	*t;

	runtime_metrics(emf.cur);
	metrics_sub(emf.win, emf.cur, emf.prev);
	t = emf.prev;
	emf.prev = emf.cur;
	emf.cur = t;
	if (emf.fd == -1 && emf.target != NULL)
		out_open();	/* the file may be there now */
	for (size_t i = 0; i < c->nbackends; i++) {
		const struct sw_backend		*be = &c->backends[i];
		const struct backend_metrics	*all = &emf.prev->b[be->metric_slot];
		char				 dim[256];
		struct emf_backend		 b = {
			.weight = be->weight,
			.win = &emf.win->b[be->metric_slot],
			.active = all->conns_opened > all->conns_closed ?
			    all->conns_opened - all->conns_closed : 0,
		};

		b.dimension = emf_dimension(c, be->name, dim, sizeof(dim));
		emit_line(emf_render(ns, ts, &b));
	}
	emit_routes(ns, ts);
}

static void
tick_cb(evutil_socket_t fd, short what, void *arg)
{
	emit_interval();
}

/* Follow c's [cloudwatch]: output, interval.  0, or -1: out of memory. */
static int
configure(const struct sw_config *c)
{
	const struct sw_cloudwatch	*cw = &c->cloudwatch;
	struct timeval			 tv = { cw->interval_ms / 1000,
					    (cw->interval_ms % 1000) * 1000 };
	int				 same;

	if (emf.timer == NULL)
		return 0;	/* stopped */
	same = (emf.target == NULL) == (cw->emf == NULL) &&
	    (cw->emf == NULL || strcmp(emf.target, cw->emf) == 0);
	if (!same) {
		out_close();
		free(emf.target);
		emf.target = NULL;
		if (cw->emf != NULL && (emf.target = strdup(cw->emf)) == NULL)
			return -1;
		if (emf.target != NULL)
			log_info("cloudwatch: EMF lines every %d s to %s",
			    cw->interval_ms / 1000, emf.target);
		/* One that will not open is tried again at every interval. */
		if (emf.target != NULL)
			out_open();
	}
	if (emf.target == NULL) {
		evtimer_del(emf.timer);
		return 0;
	}
	if (!same || cw->interval_ms != emf.interval_ms ||
	    !evtimer_pending(emf.timer, NULL)) {
		emf.interval_ms = cw->interval_ms;
		evtimer_add(emf.timer, &tv);
	}
	return 0;
}

/* After every publish: a reload may have changed [cloudwatch]. */
static void
publish_hook(const struct sw_config *old, const struct sw_config *cur,
    void *arg)
{
	configure(cur);
}

int
emf_start(struct event_base *base)
{
	emf.base = base;
	if ((emf.pending = evbuffer_new()) == NULL ||
	    (emf.prev = calloc(1, sizeof(*emf.prev))) == NULL ||
	    (emf.cur = calloc(1, sizeof(*emf.cur))) == NULL ||
	    (emf.win = calloc(1, sizeof(*emf.win))) == NULL ||
	    (emf.rprev = metrics_route_table_new()) == NULL ||
	    (emf.rcur = metrics_route_table_new()) == NULL ||
	    (emf.rwin = metrics_route_table_new()) == NULL ||
	    (emf.timer = event_new(base, -1, EV_PERSIST, tick_cb, NULL)) ==
	    NULL || runtime_on_publish(publish_hook, NULL) == -1)
		goto fail;
	runtime_metrics(emf.prev);
	runtime_route_metrics(emf.rprev);
	configure(rt.cfg);	/* a file that will not open is retried */
	return 0;
fail:
	emf_stop();
	return -1;
}

void
emf_reopen(void)
{
	if (emf.target == NULL || strcmp(emf.target, "stdout") == 0)
		return;
	flush();
	out_close();
	out_open();
}

void
emf_stop(void)
{
	if (emf.timer != NULL && emf.target != NULL && emf.cur != NULL) {
		emit_interval();	/* the last, partial interval */
		if (emf.wev != NULL)
			event_del(emf.wev);
		flush();
	}
	if (emf.timer != NULL)
		event_free(emf.timer);
	emf.timer = NULL;
	out_close();
	if (emf.pending != NULL)
		evbuffer_free(emf.pending);
	emf.pending = NULL;
	free(emf.prev);
	free(emf.cur);
	free(emf.win);
	emf.prev = emf.cur = emf.win = NULL;
	metrics_route_table_free(emf.rprev);
	metrics_route_table_free(emf.rcur);
	metrics_route_table_free(emf.rwin);
	emf.rprev = emf.rcur = emf.rwin = NULL;
	free(emf.target);
	emf.target = NULL;
	emf.base = NULL;
}

void
emf_counts(uint64_t *written, uint64_t *dropped)
{
	*written = emf.written;
	*dropped = emf.dropped;
}
