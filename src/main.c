/*
 * main: command line, start-up, signals, reload and graceful shutdown.
 *
 * The main thread is the control thread: after start-up it runs its own
 * event_base with the signal events, DNS re-resolution and (when
 * configured) the admin API.  Workers are started last, once every
 * listening socket is bound, so a bad address fails before any traffic.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/thread.h>

#include "config.h"
#include "switchover/admin.h"
#include "switchover/affinity.h"
#include "switchover/aws/aws.h"
#include "switchover/client.h"
#include "switchover/config.h"
#include "switchover/dns.h"
#include "switchover/drain.h"
#include "switchover/emf.h"
#include "switchover/fdbudget.h"
#include "switchover/log.h"
#include "switchover/metrics.h"
#include "switchover/notify.h"
#include "switchover/ramp.h"
#include "switchover/runtime.h"
#include "switchover/state.h"
#include "switchover/stats.h"
#include "switchover/tls.h"
#include "switchover/worker.h"

static const char *config_path = SYSCONFDIR "/switchover.conf";
static int access_fd = -1;
static struct event *stop_ev;	/* while stopping: are the workers done? */

static void
usage(FILE *f)
{
	fprintf(f,
"usage: switchover [-t] [-d] [-c FILE]\n"
"       switchover -h | -V\n"
"\n"
"An HTTP/1.1 proxy that splits requests between search-cluster backends\n"
"by weight, for moving live traffic from a source cluster to a target.\n"
"\n"
"  -c FILE   configuration file (default %s)\n"
"  -t        check the configuration (certificates and keys load and\n"
"            match, CA files load), print \"configuration OK\" or every\n"
"            error as FILE:LINE: message, and exit (0 if OK, 1 if not)\n"
"  -d        log at debug level (overrides log_level)\n"
"  -h        this help\n"
"  -V        print the version\n"
"\n"
"Signals: SIGTERM/SIGINT stop accepting, finish in-flight requests (up to\n"
"[proxy] shutdown_timeout) and exit 0, meanwhile GET /healthz answers\n"
"503; a second SIGTERM/SIGINT exits at once (status 1).  SIGHUP re-reads\n"
"the configuration and its certificates and applies them without dropping\n"
"connections, or keeps the old ones, and reopens the log files.  A\n"
"backend whose weight drops to 0 has its client connections drained over\n"
"[drain] spread ([drain] on_weight_zero);\n"
"scrolls, PITs and async searches stay on the backend that created them\n"
"([affinity]).  [route NAME] sections split reads, writes or some\n"
"indices by their own weights (PUT /weights?route=NAME; switchover and\n"
"fallback move every route unless ?route=NAME).  Under systemd\n"
"(Type=notify, $NOTIFY_SOCKET) it reports\n"
"READY=1 once listening, RELOADING=1 then READY=1 around SIGHUP, and\n"
"STOPPING=1 at SIGTERM.\n"
"\n"
"Admin API ([admin] address, default 127.0.0.1:9901; use switchoverctl):\n"
"  GET|PUT /weights  POST /switchover  POST /fallback  GET /stats\n"
"  GET /metrics (Prometheus)  GET /healthz  POST /drain?backend=NAME\n"
"  POST /preflight (AWS; streams its steps as JSON lines)\n"
"  GET|POST /ramp  POST /ramp/pause|resume|abort: a cutover in steps,\n"
"  judged on the target's answers against the source's ([ramp])\n"
"  GET / (or /ui): a live dashboard of both backends, in a browser\n"
"Requests must name the admin API in Host (its address, localhost or\n"
"[admin] allowed_hosts), and a browser's changes must come from its own\n"
"origin: others get 403.\n"
"Weight changes are saved to [state] file before they are acknowledged\n"
"and win over the configuration file at start.\n"
"\n"
"With an [aws] section, ALB weights and ECS services follow the proxy\n"
"(with sync = push a weight change answers with the ALB's word);\n"
"credentials and endpoints come from the AWS SDKs' environment variables\n"
"(AWS_REGION, AWS_PROFILE, AWS_ENDPOINT_URL, ...): see the README.\n"
"With [cloudwatch] emf = stdout, one CloudWatch EMF line per backend per\n"
"interval goes to stdout.  See switchover(8) and switchover.conf(5).\n",
	    SYSCONFDIR "/switchover.conf");
}

/* Parse path and build its TLS contexts: a config ready to serve, or NULL. */
static struct sw_config *
load(const char *path, struct config_errors *errs)
{
	struct sw_config *c;

	if ((c = config_load(path, errs)) == NULL)
		return NULL;
	if (tls_config_load(c, errs) == -1) {
		config_unref(c);
		return NULL;
	}
	return c;
}

/*
 * Listening sockets are bound once, at start: a reload keeps them.  Same
 * listeners (by name, in order) with another address: keep the running
 * address and say so.  Listeners added or removed: -1, refuse the file.
 */
static int
reload_listeners(struct sw_config *c)
{
	if (c->nlisteners != rt.cfg->nlisteners)
		goto fail;
	for (size_t i = 0; i < c->nlisteners; i++) {
		struct sw_listener *l = &c->listeners[i];
		const struct sw_listener *ol = &rt.cfg->listeners[i];
		char *a;

		if (strcmp(l->name, ol->name) != 0)
			goto fail;
		if (strcmp(l->address, ol->address) == 0)
			continue;
		log_warn("reload: listener address %s applies only at restart: "
		    "still listening on %s", l->address, ol->address);
		if ((a = strdup(ol->address)) == NULL)
			return -1;
		free(l->address);
		l->address = a;
		l->addr = ol->addr;
		l->addrlen = ol->addrlen;
	}
	return 0;
fail:
	log_err("reload: listeners were added, removed or renamed: that needs "
	    "a restart");
	return -1;
}

/*
 * SIGHUP: reopen the access log (after rotation), or open c's changed
 * access_log, on the descriptor the workers write to (dup2): they never
 * see it closed.  Off at start: workers do not format lines at all, so
 * turning it on waits for a restart; turned off, lines go to /dev/null.
 */
static void
access_reopen(const struct sw_config *c)
{
	const char	*path = c->access_log;
	int		 off = path == NULL || strcmp(path, "off") == 0, fd;

	if (access_fd == -1) {
		if (!off)
			log_warn("reload: access_log %s applies only at restart "
			    "(it was off)", path);
		return;
	}
	fd = open(off ? "/dev/null" : path, O_WRONLY | O_CREAT | O_APPEND |
	    O_CLOEXEC, 0640);
	if (fd == -1) {
		log_err("reload: cannot open access log %s: %s: still writing "
		    "to the old one", path, strerror(errno));
		return;
	}
	if (dup3(fd, access_fd, O_CLOEXEC) == -1)
		log_err("reload: cannot switch the access log to %s: %s",
		    off ? "off" : path, strerror(errno));
	close(fd);
}

/* Print every error of a failed load. */
static void
print_errors(struct config_errors *e)
{
	for (size_t i = 0; i < e->n; i++)
		log_err("%s", e->msgs[i]);
}

/*
 * SIGHUP: parse the file into a fresh config and swap it in whole, or
 * keep the old one and say why.  A weight that changed in the file since
 * the last load wins; otherwise the running weight (set through the admin
 * API, say) stays, and the state file is kept in step before the swap.
 */
static void
reload(void)
{
	struct config_errors	 errs = { 0 };
	struct sw_config	*c;
	char			 err[512];

	log_info("reloading %s", config_path);
	if ((c = load(config_path, &errs)) == NULL || reload_listeners(c) == -1) {
		print_errors(&errs);
		config_errors_free(&errs);
		config_unref(c);
		log_err("reload failed: keeping the running configuration");
		return;
	}
	if (c->workers != rt.cfg->workers)
		log_warn("reload: workers apply only at restart");
	for (size_t i = 0; i < c->nbackends; i++) {
		struct sw_backend *ob = config_backend(rt.cfg, c->backends[i].name);

		/* Carry over addresses already resolved for the same names. */
		for (size_t j = 0; ob != NULL && j < c->backends[i].nservers; j++) {
			struct sw_server *s = &c->backends[i].servers[j];

			for (size_t k = 0; k < ob->nservers && !s->literal; k++)
				if (strcmp(ob->servers[k].name, s->name) == 0 &&
				    ob->servers[k].resolved) {
					s->addr = ob->servers[k].addr;
					s->addrlen = ob->servers[k].addrlen;
					s->resolved = 1;
				}
		}
	}
	if (aws_reload_check(c, err, sizeof(err)) == -1 ||
	    runtime_reload_weights(c, err, sizeof(err)) == -1) {
		log_err("reload failed: %s: keeping the running configuration",
		    err);
		config_unref(c);
		return;
	}
	c->workers = rt.cfg->workers;
	if (c->log_level != NULL) {
		enum log_level lvl;

		if (log_level_parse(c->log_level, &lvl) == 0)
			log_set_level(lvl);
	}
	if (log_reopen() == -1)
		log_err("reload: cannot reopen the log file: %s",
		    strerror(errno));
	access_reopen(c);
	emf_reopen();
	if (aws_reload(c) == -1)
		log_err("reload: the AWS module did not restart; see above");
	runtime_publish(c);
	dns_refresh();
	log_info("reload done");
}

/*
 * While stopping: end the control loop once every worker's loop has
 * ended.  Until then the control thread keeps serving (the admin API's
 * /healthz says 503, a second signal is heard).
 */
static void
stop_poll_cb(evutil_socket_t fd, short what, void *arg)
{
	for (size_t i = 0; i < rt.nworkers; i++)
		if (!__atomic_load_n(&rt.workers[i]->stopped, __ATOMIC_ACQUIRE))
			return;
	event_base_loopexit(rt.base, NULL);
}

static void
signal_cb(evutil_socket_t sig, short what, void *arg)
{
	const struct timeval	 tick = { 0, 50 * 1000 };

	if (sig == SIGHUP) {
		/* The service manager waits for READY=1, failed reload or not. */
		notify_reloading();
		reload();
		notify_ready("serving");
		return;
	}
	if (rt.stopping) {
		/* At once: no atexit work while workers still run. */
		log_warn("second signal %d: exiting now, in-flight requests "
		    "are cut off", (int)sig);
		_exit(1);
	}
	rt.stopping = 1;
	notify_stopping();
	log_info("signal %d: stopping: finishing in-flight requests (up to %d ms)",
	    (int)sig, rt.cfg->shutdown_timeout_ms);
	for (size_t i = 0; i < rt.nworkers; i++)
		worker_post_shutdown(rt.workers[i]);
	if ((stop_ev = event_new(rt.base, -1, EV_PERSIST, stop_poll_cb,
	    NULL)) == NULL || event_add(stop_ev, &tick) == -1) {
		log_warn("cannot watch the workers stop: the admin API stops "
		    "now");
		event_base_loopexit(rt.base, NULL);
	}
}

/*
 * One socket per listener per worker, SO_REUSEPORT, so the kernel
 * spreads connections.
 */
static int
listen_socket(const struct sw_listener *l, int backlog)
{
	int fd, one = 1;

	fd = socket(l->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) == -1 ||
	    bind(fd, (const struct sockaddr *)&l->addr, l->addrlen) == -1 ||
	    listen(fd, backlog) == -1) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/*
 * SO_REUSEPORT would let a second switchover silently share the port with
 * a first; make sure nobody else holds it by binding once without it.
 */
static int
listen_probe(const struct sw_listener *l)
{
	int fd, one = 1, r;

	fd = socket(l->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	r = bind(fd, (const struct sockaddr *)&l->addr, l->addrlen);
	close(fd);
	return r;
}

/*
 * Client connections the open file limit can serve (fd_budget: each
 * client may need a second descriptor upstream; threads, listeners,
 * logs, the admin API, idle pooled connections, DNS and AWS come first).
 * Accepting beyond this would leave clients we cannot connect anywhere
 * (502s for everyone), so the cap pauses accepting instead, like nginx's
 * worker_connections check.  The sum is logged.
 */
static int
fd_client_cap(const struct sw_config *c, int nworkers)
{
	struct rlimit		rl;
	struct fd_budget	b;
	char			desc[512];
	long			limit = -1;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
		limit = rl.rlim_cur > 100000000 ? 100000000 : (long)rl.rlim_cur;
	fd_budget(c, nworkers, limit, &b);
	fd_budget_str(&b, desc, sizeof(desc));
	log_info("descriptors: %s", desc);
	return (int)b.clients;
}

int
main(int argc, char *argv[])
{
	struct config_errors	 errs = { 0 };
	struct sw_config	*cfg;
	struct event		*sigs[4];
	const int		 signums[4] = { SIGTERM, SIGINT, SIGHUP, 0 };
	sigset_t		 held;
	enum log_level		 lvl = LOG_LVL_INFO;
	int			 ch, test_only = 0, debug = 0, nworkers;
	static int		 fds[256][SW_MAX_LISTENERS];
	int			 maxc;
	char			 err[512];
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};

	while ((ch = getopt_long(argc, argv, "c:dhtV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			config_path = optarg;
			break;
		case 'd':
			debug = 1;
			break;
		case 't':
			test_only = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("switchover %s\n", PACKAGE_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "switchover: unexpected argument: %s\n",
		    argv[optind]);
		usage(stderr);
		return 2;
	}

	/*
	 * Until the loop's handlers are in, a SIGHUP would kill the process
	 * and a SIGTERM would skip the graceful stop: hold them pending.
	 * Worker threads inherit the mask, so these signals always reach
	 * the control thread.
	 */
	sigemptyset(&held);
	for (int i = 0; signums[i] != 0; i++)
		sigaddset(&held, signums[i]);
	pthread_sigmask(SIG_BLOCK, &held, NULL);

	if ((cfg = load(config_path, &errs)) == NULL) {
		for (size_t i = 0; i < errs.n; i++)
			fprintf(stderr, "%s\n", errs.msgs[i]);
		config_errors_free(&errs);
		return 1;
	}
	if (test_only) {
		struct state_weights sw;
		int bad = admin_check(cfg, err, sizeof(err)) == -1 ||
		    (cfg->state_file != NULL &&
		    state_load(cfg->state_file, &sw, err, sizeof(err)) == -1);

		if (bad)
			fprintf(stderr, "%s\n", err);
		else
			printf("configuration OK\n");
		config_unref(cfg);
		return bad;
	}
	if (cfg->log_level != NULL)
		log_level_parse(cfg->log_level, &lvl);
	if (debug)
		lvl = LOG_LVL_DEBUG;
	if (log_init(cfg->log_file, lvl) == -1)
		fatal("cannot open log file %s: %s", cfg->log_file,
		    strerror(errno));
	if (cfg->access_log != NULL && strcmp(cfg->access_log, "off") != 0) {
		access_fd = open(cfg->access_log, O_WRONLY | O_CREAT | O_APPEND |
		    O_CLOEXEC, 0640);
		if (access_fd == -1)
			fatal("cannot open access log %s: %s", cfg->access_log,
			    strerror(errno));
	}
	signal(SIGPIPE, SIG_IGN);
	if (evthread_use_pthreads() == -1)
		fatal("libevent has no pthreads support");
	client_global_init();
	/* Saved weights win over the file's, before any worker sees either. */
	if (runtime_restore(cfg, err, sizeof(err)) == -1)
		fatal("state file: %s", err);
	if (runtime_assign_slots(cfg) == -1)
		fatal("too many backends");

	nworkers = cfg->workers;
	if (nworkers == 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		nworkers = n > 0 ? (int)n : 1;
	}
	if (nworkers > 256)
		nworkers = 256;
	for (size_t j = 0; j < cfg->nlisteners; j++) {
		const struct sw_listener *l = &cfg->listeners[j];

		if (listen_probe(l) == -1)
			fatal("cannot listen on %s: %s", l->address,
			    strerror(errno));
		for (int i = 0; i < nworkers; i++)
			if ((fds[i][j] = listen_socket(l, cfg->backlog)) == -1)
				fatal("cannot listen on %s: %s", l->address,
				    strerror(errno));
	}

	if ((rt.base = event_base_new()) == NULL)
		fatal("event_base_new failed");
	rt.cfg = cfg;
	rt.nworkers = (size_t)nworkers;
	if ((rt.workers = calloc(rt.nworkers, sizeof(*rt.workers))) == NULL)
		fatal("out of memory");
	maxc = cfg->max_connections;
	if (maxc > (ch = fd_client_cap(cfg, nworkers))) {
		maxc = ch;
		log_warn("max_connections %d lowered to %d: the open file limit "
		    "(ulimit -n) allows no more (see \"descriptors:\" above)",
		    cfg->max_connections, maxc);
	}
	maxc = (maxc + nworkers - 1) / nworkers;
	for (int i = 0; i < nworkers; i++)
		if ((rt.workers[i] = worker_new(i, cfg, fds[i], access_fd,
		    maxc)) == NULL)
			fatal("cannot create worker %d", i);
	for (int i = 0; signums[i] != 0; i++) {
		sigs[i] = evsignal_new(rt.base, signums[i], signal_cb, NULL);
		if (sigs[i] == NULL || evsignal_add(sigs[i], NULL) == -1)
			fatal("cannot install signal handler");
	}
	dns_start(rt.base);
	if (stats_start(rt.base) == -1)
		fatal("cannot start the metrics history: out of memory");
	if (emf_start(rt.base) == -1)
		fatal("cannot start the CloudWatch EMF lines: out of memory");
	if (admin_start(rt.base, cfg, err, sizeof(err)) == -1)
		fatal("%s", err);
	if (drain_init() == -1)
		fatal("cannot register the drain hook");
	if (affinity_init((size_t)cfg->affinity_max) == -1)
		fatal("out of memory for the affinity table");
	if (aws_start(rt.base, cfg) == -1)
		fatal("aws: cannot start; see above");
	if (ramp_init(rt.base) == -1)
		fatal("cannot start the ramp: out of memory");
	for (int i = 0; i < nworkers; i++)
		if (worker_start(rt.workers[i]) == -1)
			fatal("cannot start worker thread %d", i);
	pthread_sigmask(SIG_UNBLOCK, &held, NULL);	/* to signal_cb now */
	log_info("switchover %s with %d workers", PACKAGE_VERSION, nworkers);
	for (size_t j = 0; j < cfg->nlisteners; j++)
		log_info("listening on %s (%s%s%s)", cfg->listeners[j].address,
		    cfg->listeners[j].tls.enabled ? "https" : "http",
		    *cfg->listeners[j].name ? ", " : "", cfg->listeners[j].name);
	for (size_t i = 0; i < cfg->nbackends; i++)
		log_info("backend %s: weight %d, %zu servers", cfg->backends[i].name,
		    cfg->backends[i].weight, cfg->backends[i].nservers);
	notify_ready("serving");	/* every listener is bound by now */

	event_base_dispatch(rt.base);

	for (size_t i = 0; i < rt.nworkers; i++)
		worker_join(rt.workers[i]);
	log_info("stopped");
	admin_stop();
	emf_stop();
	ramp_shutdown();
	stats_stop();
	aws_stop();
	dns_stop();
	for (size_t i = 0; i < rt.nworkers; i++)
		worker_free(rt.workers[i]);
	free(rt.workers);
	affinity_free();
	for (int i = 0; signums[i] != 0; i++)
		event_free(sigs[i]);
	if (stop_ev != NULL)
		event_free(stop_ev);
	config_unref(rt.cfg);
	event_base_free(rt.base);
	if (access_fd != -1)
		close(access_fd);
	log_close();
	return 0;
}
