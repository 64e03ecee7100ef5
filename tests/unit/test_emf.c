/*
 * Unit tests for emf: the CloudWatch Embedded Metric Format line (parsed
 * back and checked against the format's rules), the dimension value, the
 * [cloudwatch] keys, and the output: whole lines or none, through a pipe
 * whose reader stalls or has gone, and into a file that fills up.
 * Includes emf.c to drive the output without a timer.
 */
#define _GNU_SOURCE	/* pipe2 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <math.h>
#include <signal.h>
#include <sys/resource.h>

#include "../../src/emf.c"

/* The units CloudWatch accepts (PutMetricData's StandardUnit). */
static const char *const units[] = { "Seconds", "Microseconds",
    "Milliseconds", "Bytes", "Kilobytes", "Megabytes", "Gigabytes",
    "Terabytes", "Bits", "Kilobits", "Megabits", "Gigabits", "Terabits",
    "Percent", "Count", "Bytes/Second", "Kilobytes/Second",
    "Megabytes/Second", "Gigabytes/Second", "Terabytes/Second",
    "Bits/Second", "Kilobits/Second", "Megabits/Second", "Gigabits/Second",
    "Terabits/Second", "Count/Second", "None" };

static int
unit_ok(const char *u)
{
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (strcmp(units[i], u) == 0)
			return 1;
	return 0;
}

/*
 * Parse line and check it against the EMF specification: one JSON object
 * on one line, _aws.Timestamp in epoch ms, one directive with a namespace,
 * dimension sets whose every name is a top-level string, at most 100
 * metrics (30 dimensions), each with a Name, an allowed Unit and a
 * top-level numeric value.  Returns the parsed line.
 */
static json_t *
check_emf(const char *s, int64_t ts, const char *ns)
{
	json_error_t	 err;
	json_t		*o, *aws, *dirs, *d, *dims, *mets, *m;
	size_t		 i, j, k;

	assert_non_null(s);
	assert_true(strlen(s) < EMF_LINE_MAX);
	assert_int_equal(s[strlen(s) - 1], '\n');
	assert_ptr_equal(strchr(s, '\n'), s + strlen(s) - 1);
	o = json_loads(s, 0, &err);
	assert_non_null(o);
	assert_true(json_is_object(o));
	aws = json_object_get(o, "_aws");
	assert_true(json_is_object(aws));
	assert_true(json_is_integer(json_object_get(aws, "Timestamp")));
	assert_int_equal(json_integer_value(json_object_get(aws, "Timestamp")),
	    ts);
	dirs = json_object_get(aws, "CloudWatchMetrics");
	assert_true(json_is_array(dirs));
	assert_int_equal(json_array_size(dirs), 1);
	json_array_foreach(dirs, i, d) {
		assert_string_equal(json_string_value(json_object_get(d,
		    "Namespace")), ns);
		dims = json_object_get(d, "Dimensions");
		assert_true(json_is_array(dims));
		json_array_foreach(dims, j, m) {
			json_t *name;

			assert_true(json_is_array(m));
			assert_true(json_array_size(m) <= 30);
			json_array_foreach(m, k, name)
				assert_true(json_is_string(json_object_get(o,
				    json_string_value(name))));
		}
		mets = json_object_get(d, "Metrics");
		assert_true(json_is_array(mets));
		assert_true(json_array_size(mets) >= 1);
		assert_true(json_array_size(mets) <= 100);
		json_array_foreach(mets, j, m) {
			const char *name = json_string_value(json_object_get(m,
			    "Name"));

			assert_non_null(name);
			assert_true(unit_ok(json_string_value(json_object_get(m,
			    "Unit"))));
			assert_true(json_is_number(json_object_get(o, name)));
			/* Each metric named once. */
			for (k = 0; k < j; k++)
				assert_string_not_equal(name, json_string_value(
				    json_object_get(json_array_get(mets, k),
				    "Name")));
		}
	}
	return o;
}

/* The value of metric name in line o, and that the directive lists it. */
static double
val(json_t *o, const char *name)
{
	json_t	*mets = json_object_get(json_array_get(json_object_get(
		    json_object_get(o, "_aws"), "CloudWatchMetrics"), 0),
		    "Metrics"), *m;
	size_t	 i;
	int	 listed = 0;

	json_array_foreach(mets, i, m)
		listed |= strcmp(json_string_value(json_object_get(m, "Name")),
		    name) == 0;
	assert_true(listed);
	assert_true(json_is_number(json_object_get(o, name)));
	return json_number_value(json_object_get(o, name));
}

/* Is name absent both from the directive and from the values? */
static int
absent(json_t *o, const char *name)
{
	json_t	*mets = json_object_get(json_array_get(json_object_get(
		    json_object_get(o, "_aws"), "CloudWatchMetrics"), 0),
		    "Metrics"), *m;
	size_t	 i;

	json_array_foreach(mets, i, m)
		if (strcmp(json_string_value(json_object_get(m, "Name")),
		    name) == 0)
			return 0;
	return json_object_get(o, name) == NULL;
}

static void
test_render(void **state)
{
	struct backend_metrics	 w;
	struct emf_backend	 b = { "ALBSourceProxy-dev-TG", 7, &w, 3, NULL, NULL };
	char			*s;
	json_t			*o;

	memset(&w, 0, sizeof(w));
	w.requests = 11;
	w.responses[1] = 6;
	w.responses[3] = 3;
	w.responses_429 = 2;
	w.responses[4] = 1;
	w.errors[PERR_CONNECT] = 1;
	w.conns_opened = 2;
	w.conns_reused = 8;
	for (int i = 0; i < 5; i++) {
		hist_record(&w.latency, 100);
		hist_record(&w.latency, 2000);
	}
	s = emf_render("switchover", 1796000000123LL, &b);
	o = check_emf(s, 1796000000123LL, "switchover");
	assert_string_equal(json_string_value(json_object_get(o, "Backend")),
	    "ALBSourceProxy-dev-TG");
	assert_int_equal(val(o, "RequestCount"), 11);
	assert_int_equal(val(o, "HTTPCode_Target_2XX_Count"), 6);
	assert_int_equal(val(o, "HTTPCode_Target_3XX_Count"), 0);
	assert_int_equal(val(o, "HTTPCode_Target_4XX_Count"), 3);
	assert_int_equal(val(o, "HTTPCode_Target_429_Count"), 2);
	assert_int_equal(val(o, "HTTPCode_Target_5XX_Count"), 1);
	assert_int_equal(val(o, "HTTPCode_ELB_5XX_Count"), 1);
	assert_true(fabs(val(o, "TargetResponseTime") - 0.00105) < 1e-9);
	assert_true(fabs(val(o, "TargetResponseTimeP50") -
	    (double)hist_quantile(&w.latency, 0.5) / 1e6) < 1e-9);
	assert_true(fabs(val(o, "TargetResponseTimeP99") -
	    (double)hist_quantile(&w.latency, 0.99) / 1e6) < 1e-9);
	assert_true(val(o, "TargetResponseTimeP99") >= 0.002);
	assert_int_equal(val(o, "ActiveConnectionCount"), 3);
	assert_int_equal(val(o, "NewConnectionCount"), 2);
	assert_true(fabs(val(o, "ConnectionReuseRatio") - 0.8) < 1e-9);
	assert_int_equal(val(o, "Weight"), 7);
	json_decref(o);
	free(s);
}

/*
 * A route's line: dimensions Route and Backend, its own counts (the
 * proxy's answers among its 5xx), the route's weight, and none of the
 * backend's connection metrics or ELB errors.
 */
static void
test_render_route(void **state)
{
	struct backend_metrics	 w;
	struct route_metrics	 r;
	struct emf_backend	 b = { "target", 3, &w, 9, "reads", &r };
	json_t			*o, *dims;
	char			*s;

	memset(&w, 0, sizeof(w));
	memset(&r, 0, sizeof(r));
	w.requests = 500;
	w.conns_opened = 4;
	w.errors[PERR_CONNECT] = 2;
	r.requests = 12;
	r.responses[1] = 9;
	r.responses[3] = 1;
	r.responses_429 = 1;
	r.responses[4] = 2;
	for (int i = 0; i < 12; i++)
		hist_record(&r.latency, 12000);
	s = emf_render("switchover", 7, &b);
	o = check_emf(s, 7, "switchover");
	assert_string_equal(json_string_value(json_object_get(o, "Route")),
	    "reads");
	assert_string_equal(json_string_value(json_object_get(o, "Backend")),
	    "target");
	dims = json_array_get(json_object_get(json_array_get(json_object_get(
	    json_object_get(o, "_aws"), "CloudWatchMetrics"), 0),
	    "Dimensions"), 0);
	assert_int_equal(json_array_size(dims), 2);
	assert_string_equal(json_string_value(json_array_get(dims, 0)),
	    "Route");
	assert_int_equal(val(o, "RequestCount"), 12);
	assert_int_equal(val(o, "HTTPCode_Target_2XX_Count"), 9);
	assert_int_equal(val(o, "HTTPCode_Target_4XX_Count"), 1);
	assert_int_equal(val(o, "HTTPCode_Target_429_Count"), 1);
	assert_int_equal(val(o, "HTTPCode_Target_5XX_Count"), 2);
	assert_true(val(o, "TargetResponseTimeP99") >= 0.012);
	assert_int_equal(val(o, "Weight"), 3);
	assert_true(absent(o, "HTTPCode_ELB_5XX_Count"));
	assert_true(absent(o, "ActiveConnectionCount"));
	assert_true(absent(o, "NewConnectionCount"));
	assert_true(absent(o, "ConnectionReuseRatio"));
	json_decref(o);
	free(s);
}

/* An idle interval: counts of 0, and no latency or reuse to average. */
static void
test_render_idle(void **state)
{
	struct backend_metrics	 w;
	struct emf_backend	 b = { "target", 0, &w, 0, NULL, NULL };
	char			*s;
	json_t			*o;

	memset(&w, 0, sizeof(w));
	s = emf_render("team/switchover", 5, &b);
	o = check_emf(s, 5, "team/switchover");
	assert_int_equal(val(o, "RequestCount"), 0);
	assert_int_equal(val(o, "Weight"), 0);
	assert_true(absent(o, "TargetResponseTime"));
	assert_true(absent(o, "TargetResponseTimeP50"));
	assert_true(absent(o, "TargetResponseTimeP99"));
	assert_true(absent(o, "ConnectionReuseRatio"));
	json_decref(o);
	free(s);
}

/* A line that would pass 16 KiB is not made at all. */
static void
test_render_too_long(void **state)
{
	struct backend_metrics	 w;
	struct emf_backend	 b = { NULL, 1, &w, 0, NULL, NULL };
	char			*dim = malloc(EMF_LINE_MAX);

	assert_non_null(dim);
	memset(&w, 0, sizeof(w));
	memset(dim, 'x', EMF_LINE_MAX - 1);
	dim[EMF_LINE_MAX - 1] = '\0';
	b.dimension = dim;
	assert_null(emf_render("switchover", 1, &b));
	dim[1000] = '\0';
	free(emf_render("switchover", 1, &b));	/* and a shorter one is */
	assert_non_null(b.dimension);
	free(dim);
}

static struct sw_config *
parse(const char *text, struct config_errors *e)
{
	return config_parse("t.conf", text, strlen(text), e);
}

#define BASE "[listener]\naddress = 127.0.0.1:9200\n" \
    "[backend source]\nservers = 127.0.0.1:1\nweight = 1\n" \
    "[backend target]\nservers = 127.0.0.1:2\nweight = 1\n" \
    "[backend other]\nservers = 127.0.0.1:3\nweight = 1\n"

/* The target group's name when [aws] names it, from a name or an ARN. */
static void
test_dimension(void **state)
{
	struct config_errors	 e = { 0 };
	struct sw_config	*c;
	char			 buf[64];

	c = parse(BASE "[aws]\nsource_target_group = ALBSourceProxy-dev-TG\n"
	    "target_target_group = arn:aws:elasticloadbalancing:us-east-1:"
	    "123456789012:targetgroup/ALBTargetProxy-dev-TG/0123456789abcdef\n",
	    &e);
	assert_non_null(c);
	assert_string_equal(emf_dimension(c, "source", buf, sizeof(buf)),
	    "ALBSourceProxy-dev-TG");
	assert_string_equal(emf_dimension(c, "target", buf, sizeof(buf)),
	    "ALBTargetProxy-dev-TG");
	assert_string_equal(emf_dimension(c, "other", buf, sizeof(buf)),
	    "other");
	config_unref(c);
	c = parse(BASE, &e);
	assert_non_null(c);
	assert_string_equal(emf_dimension(c, "source", buf, sizeof(buf)),
	    "source");
	config_unref(c);
}

/* [cloudwatch]: defaults, good values, and each bad one named. */
static void
test_config(void **state)
{
	static const struct {
		const char *text, *err;
	} bad[] = {
		{ "interval = 9s", "interval must be 10s-5m" },
		{ "interval = 301s", "interval must be 10s-5m" },
		{ "interval = soon", "is not a duration" },
		{ "namespace = AWS/ApplicationELB", "not a CloudWatch namespace" },
		{ "namespace = a\"b", "not a CloudWatch namespace" },
		{ "dimensions = backend,route",
		    "dimensions: \"backend,route\" is not backend or route" },
		{ "emf =", "emf: empty" },
		{ "period = 10s", "unknown key \"period\" in [cloudwatch]" },
	};
	struct config_errors	 e = { 0 };
	struct sw_config	*c, *d;
	char			 text[1024];

	c = parse(BASE, &e);
	assert_non_null(c);
	assert_null(c->cloudwatch.emf);
	assert_int_equal(c->cloudwatch.interval_ms, 60000);
	assert_null(c->cloudwatch.namespace);
	assert_int_equal(c->cloudwatch.by_route, 0);
	config_unref(c);
	c = parse(BASE "[cloudwatch]\ndimensions = route\n", &e);
	assert_non_null(c);
	assert_int_equal(c->cloudwatch.by_route, 1);
	d = config_clone(c);
	assert_non_null(d);
	assert_int_equal(d->cloudwatch.by_route, 1);
	config_unref(d);
	config_unref(c);
	c = parse(BASE "[cloudwatch]\nemf = stdout\ninterval = 5m\n"
	    "namespace = Migration/switchover-dev\ndimensions = backend\n", &e);
	assert_non_null(c);
	assert_string_equal(c->cloudwatch.emf, "stdout");
	assert_int_equal(c->cloudwatch.interval_ms, 300000);
	assert_string_equal(c->cloudwatch.namespace, "Migration/switchover-dev");
	d = config_clone(c);		/* a weight change keeps them */
	assert_non_null(d);
	assert_string_equal(d->cloudwatch.emf, "stdout");
	assert_string_equal(d->cloudwatch.namespace, "Migration/switchover-dev");
	config_unref(d);
	config_unref(c);
	c = parse(BASE "[cloudwatch]\nemf = stdout\nemf = off\n", &e);
	assert_non_null(c);
	assert_null(c->cloudwatch.emf);
	config_unref(c);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), BASE "[cloudwatch]\n%s\n",
		    bad[i].text);
		assert_null(parse(text, &e));
		assert_int_equal(e.n, 1);
		if (strstr(e.msgs[0], bad[i].err) == NULL)
			fail_msg("%s: got \"%s\"", bad[i].text, e.msgs[0]);
		config_errors_free(&e);
	}
}

/* A line of about n bytes (whole, newline-terminated). */
static char *
line_of(size_t n)
{
	struct backend_metrics	 w;
	char			 dim[8192];
	struct emf_backend	 b = { dim, 1, &w, 0, NULL, NULL };
	char			*s;
	size_t			 base;

	memset(&w, 0, sizeof(w));
	dim[0] = '\0';
	s = emf_render("switchover", 1, &b);
	assert_non_null(s);
	base = strlen(s);
	free(s);
	assert_true(n > base && n - base < sizeof(dim));
	memset(dim, 'd', n - base);
	dim[n - base] = '\0';
	s = emf_render("switchover", 1, &b);
	assert_non_null(s);
	assert_int_equal(strlen(s), n);
	return s;
}

/* Point the output at fd, as out_open() would. */
static void
out_set(int fd, int reg)
{
	memset(&emf, 0, sizeof(emf));
	emf.fd = fd;
	emf.own = 1;
	emf.reg = reg;
	emf.target = strdup("test");
	emf.pending = evbuffer_new();
	assert_non_null(emf.pending);
}

static void
out_reset(void)
{
	out_close();
	evbuffer_free(emf.pending);
	free(emf.target);
	memset(&emf, 0, sizeof(emf));
	emf.fd = -1;
}

/* What a reader got so far. */
static char	got[1 << 20];
static size_t	ngot;

/* Read what fd has now (a stream may stop mid-line: that is the reader's). */
static void
read_some(int fd)
{
	ssize_t r;

	while (ngot < sizeof(got) - 1 &&
	    (r = read(fd, got + ngot, sizeof(got) - 1 - ngot)) > 0)
		ngot += (size_t)r;
	got[ngot] = '\0';
}

/* Everything the reader got is whole lines that parse; how many. */
static size_t
got_lines(void)
{
	size_t lines = 0;

	assert_true(ngot == 0 || got[ngot - 1] == '\n');
	for (char *p = got, *e; *p != '\0'; p = e + 1) {
		json_t *o;

		e = strchr(p, '\n');
		*e = '\0';
		o = json_loads(p, 0, NULL);
		assert_non_null(o);
		json_decref(o);
		lines++;
	}
	ngot = 0;
	return lines;
}

/*
 * A reader that stops reading: the pipe fills, then PENDING_MAX more,
 * then lines are dropped and counted; the writer never blocks (the pipe
 * is non-blocking) and what the reader gets is whole lines only, even
 * though a 3000-byte write to a nearly full pipe goes in part.
 */
static void
test_out_stalled_pipe(void **state)
{
	int	 p[2];
	char	*l = line_of(3000);		/* not a divisor of 64 KiB */
	size_t	 n;
	int	 i;

	assert_int_equal(pipe2(p, O_NONBLOCK), 0);
	out_set(p[1], 0);
	for (i = 0; i < 200; i++)
		emit(l);
	assert_true(emf.dropped > 0);
	assert_true(evbuffer_get_length(emf.pending) <= PENDING_MAX);
	/* The reader catches up: what was pending goes out on "writable". */
	read_some(p[0]);
	flush();
	read_some(p[0]);
	assert_int_equal(evbuffer_get_length(emf.pending), 0);
	n = got_lines();
	assert_int_equal(n, emf.written);
	assert_int_equal(emf.written + emf.dropped, 200);
	out_reset();
	close(p[0]);
	free(l);
}

/* A reader that is gone (EPIPE): lines are dropped, nothing crashes. */
static void
test_out_closed_pipe(void **state)
{
	int	 p[2];
	char	*l = line_of(1500);

	signal(SIGPIPE, SIG_IGN);
	assert_int_equal(pipe2(p, O_NONBLOCK), 0);
	close(p[0]);
	out_set(p[1], 0);
	for (int i = 0; i < 10; i++)
		emit(l);
	assert_int_equal(emf.written, 0);
	assert_int_equal(emf.dropped, 10);
	assert_int_equal(evbuffer_get_length(emf.pending), 0);
	out_reset();
	free(l);
}

/*
 * A file that fills up (RLIMIT_FSIZE stands in for a full disk): the
 * line cut short is cut off the file, which holds whole lines only.
 */
static void
test_out_full_file(void **state)
{
	char		 path[] = "/tmp/test_emf.XXXXXX";
	char		*l = line_of(1500);
	struct rlimit	 old, small;
	int		 fd = mkstemp(path);
	struct stat	 st;

	assert_true(fd != -1);
	signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	small = old;
	small.rlim_cur = 3600;		/* 2 lines and a bit */
	out_set(fd, 1);
	/* Nothing printed while the limit holds: this process's log too. */
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
	for (int i = 0; i < 4; i++)
		emit(l);
	setrlimit(RLIMIT_FSIZE, &old);
	assert_int_equal(emf.written, 2);
	assert_int_equal(emf.dropped, 2);
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(st.st_size, 3000);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	emf.own = 0;
	out_reset();
	read_some(fd);
	assert_int_equal(got_lines(), 2);
	close(fd);
	unlink(path);
	free(l);
}

/*
 * A socket (systemd's journal stream, say) that is a blocking one: lines
 * go with MSG_DONTWAIT, so a reader that stalls never blocks us.
 */
static void
test_out_blocking_socket(void **state)
{
	int	 sv[2];
	char	*l = line_of(3000);
	int	 fl;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	fl = fcntl(sv[0], F_GETFL);
	assert_int_equal(fl & O_NONBLOCK, 0);
	out_set(sv[0], 0);
	emf.sock = 1;
	for (int i = 0; i < 300; i++)
		emit(l);		/* would hang here if it blocked */
	assert_true(emf.dropped > 0);
	fcntl(sv[1], F_SETFL, O_NONBLOCK);
	read_some(sv[1]);
	flush();
	read_some(sv[1]);
	flush();
	read_some(sv[1]);
	assert_int_equal(evbuffer_get_length(emf.pending), 0);
	assert_int_equal(got_lines(), emf.written);
	assert_int_equal(emf.written + emf.dropped, 300);
	emf.own = 0;
	out_reset();
	close(sv[0]);
	close(sv[1]);
	free(l);
}

/*
 * emf = stdout on a pipe (ECS, docker): the lines get a descriptor of
 * their own, non-blocking, and fd 1 itself (shared with stderr, often)
 * stays blocking.
 */
static void
test_out_stdout_pipe(void **state)
{
	int	p[2], saved = dup(STDOUT_FILENO), ok_fd, own, nb1, nbfd;

	assert_true(saved != -1);
	assert_int_equal(pipe(p), 0);
	fflush(stdout);
	assert_int_equal(dup2(p[1], STDOUT_FILENO), STDOUT_FILENO);
	out_set(-1, 0);
	free(emf.target);
	emf.target = strdup("stdout");
	ok_fd = out_open();
	own = emf.own;
	nbfd = emf.fd != -1 && (fcntl(emf.fd, F_GETFL) & O_NONBLOCK) != 0;
	nb1 = (fcntl(STDOUT_FILENO, F_GETFL) & O_NONBLOCK) != 0;
	emit("{\"a\":1}\n");
	out_reset();
	dup2(saved, STDOUT_FILENO);	/* cmocka may print again */
	close(saved);
	close(p[1]);
	assert_int_equal(ok_fd, 0);
	assert_true(own);
	assert_true(nbfd);
	assert_false(nb1);
	read_some(p[0]);
	close(p[0]);
	assert_int_equal(got_lines(), 1);
}

/*
 * A file that cannot be opened yet (its directory is missing) is said
 * once and tried again at every interval: the timer runs regardless.
 */
static void
test_configure_retries(void **state)
{
	struct event_base	*base = event_base_new();
	struct config_errors	 e = { 0 };
	struct sw_config	*c;

	assert_non_null(base);
	c = parse(BASE "[cloudwatch]\nemf = /nonexistent-dir/emf.jsonl\n"
	    "interval = 10s\n", &e);
	assert_non_null(c);
	memset(&emf, 0, sizeof(emf));
	emf.fd = -1;
	emf.base = base;
	emf.pending = evbuffer_new();
	emf.timer = event_new(base, -1, EV_PERSIST, tick_cb, NULL);
	assert_non_null(emf.timer);
	configure(c);
	assert_int_equal(emf.fd, -1);
	assert_true(evtimer_pending(emf.timer, NULL));
	event_free(emf.timer);
	emf.timer = NULL;
	out_reset();
	config_unref(c);
	event_base_free(base);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_render),
		cmocka_unit_test(test_render_route),
		cmocka_unit_test(test_render_idle),
		cmocka_unit_test(test_render_too_long),
		cmocka_unit_test(test_dimension),
		cmocka_unit_test(test_config),
		cmocka_unit_test(test_out_stalled_pipe),
		cmocka_unit_test(test_out_closed_pipe),
		cmocka_unit_test(test_out_full_file),
		cmocka_unit_test(test_out_blocking_socket),
		cmocka_unit_test(test_out_stdout_pipe),
		cmocka_unit_test(test_configure_retries),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
