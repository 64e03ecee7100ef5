/*
 * aws_driver: run one AWS module operation on its own event_base, the
 * way the admin API will, for the integration tests.
 *
 *   aws_driver -c FILE push SOURCE TARGET   push weights, print the outcome
 *   aws_driver -c FILE preflight            print each step and the outcome
 *   aws_driver -c FILE status               aws_status_json() after start
 *
 * Prints "step: ..." / "warn: ..." lines, then "ok: MESSAGE" or
 * "error: CODE: MESSAGE", then "status: JSON".  Exit 0 ok, 1 error,
 * 2 usage, 3 no outcome within -T seconds (default 60).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>

#include "switchover/aws/aws.h"
#include "switchover/config.h"
#include "switchover/log.h"
#include "switchover/runtime.h"

static int rc = 3;

static void
progress(const char *step, int warn, void *arg)
{
	printf("%s: %s\n", warn ? "warn" : "step", step);
	fflush(stdout);
}

static void
done(const struct aws_outcome *o, void *arg)
{
	if (o->ok)
		printf("ok: %s\n", o->message ? o->message : "");
	else
		printf("error: %s: %s\n", o->code, o->message ? o->message : "");
	rc = o->ok ? 0 : 1;
	event_base_loopexit(rt.base, NULL);
}

int
main(int argc, char *argv[])
{
	struct config_errors	 errs = { 0 };
	struct sw_config	*cfg, *c;
	const char		*path = NULL;
	struct timeval		 limit = { 60, 0 };
	char			*s;
	json_t			*st;
	int			 ch;

	while ((ch = getopt(argc, argv, "c:T:")) != -1) {
		if (ch == 'c')
			path = optarg;
		else if (ch == 'T')
			limit.tv_sec = atoi(optarg);
		else
			return 2;
	}
	argc -= optind;
	argv += optind;
	if (path == NULL || argc < 1)
		return 2;
	log_init(getenv("AWS_DRIVER_LOG"), LOG_LVL_DEBUG);
	if ((cfg = config_load(path, &errs)) == NULL) {
		for (size_t i = 0; i < errs.n; i++)
			fprintf(stderr, "%s\n", errs.msgs[i]);
		return 2;
	}
	rt.base = event_base_new();
	rt.cfg = cfg;
	runtime_assign_slots(cfg);
	if (aws_start(rt.base, cfg) == -1 || !aws_enabled()) {
		printf("error: NotStarted: the aws module did not start\n");
		return 1;
	}
	if (strcmp(argv[0], "push") == 0 && argc == 3) {
		c = config_clone(cfg);
		config_backend(c, "source")->weight = atoi(argv[1]);
		config_backend(c, "target")->weight = atoi(argv[2]);
		if (aws_push_weights(c, done, NULL) == -1)
			return 2;
		config_unref(c);
	} else if (strcmp(argv[0], "preflight") == 0) {
		if (aws_preflight(progress, done, NULL) == -1) {
			printf("error: NotStarted: preflight refused\n");
			return 1;
		}
	} else if (strcmp(argv[0], "status") == 0)
		rc = 0;
	else
		return 2;
	if (rc == 3) {
		event_base_loopexit(rt.base, &limit);
		event_base_dispatch(rt.base);
	}
	if (rc == 3)
		printf("error: Timeout: no outcome within %ld s\n",
		    (long)limit.tv_sec);
	st = aws_status_json();
	s = json_dumps(st, JSON_COMPACT);
	printf("status: %s\n", s);
	free(s);
	json_decref(st);
	aws_stop();
	config_unref(rt.cfg);
	event_base_free(rt.base);
	return rc;
}
