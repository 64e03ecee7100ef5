/* Unit tests for state: the state file round trip, corrupt files, audit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <errno.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <cmocka.h>

#include "switchover/state.h"

static char dir[] = "/tmp/sw-state-test.XXXXXX";

/*
 * fsync(2) as state.c sees it: this definition in the test program wins
 * over libc's, so a test can make the directory's fsync fail (EIO), the
 * one step after the rename.
 */
static int fail_dir_fsync;

int
fsync(int fd)
{
	struct stat st;

	if (fail_dir_fsync && fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		errno = EIO;
		return -1;
	}
	return (int)syscall(SYS_fsync, fd);
}

/* path of NAME in the test's directory (static buffer). */
static const char *
in_dir(const char *name)
{
	static char buf[256];

	snprintf(buf, sizeof(buf), "%s/%s", dir, name);
	return buf;
}

/* Write text to NAME in the test's directory; its path. */
static const char *
put(const char *name, const char *text)
{
	const char	*p = in_dir(name);
	FILE		*f = fopen(p, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return p;
}

static void
test_round_trip(void **state)
{
	struct state_weights	 a = { 0 }, b;
	char			 err[256];
	char			 p[256];

	snprintf(p, sizeof(p), "%s", in_dir("state.json"));
	strcpy(a.w[0].name, "source");
	a.w[0].weight = 0;
	strcpy(a.w[1].name, "target");
	a.w[1].weight = 999;
	a.n = 2;
	assert_int_equal(state_save(p, &a, err, sizeof(err)), 0);
	assert_int_equal(access(in_dir("state.json.tmp"), F_OK), -1);
	assert_int_equal(state_load(p, &b, err, sizeof(err)), 1);
	assert_int_equal(b.n, 2);
	assert_string_equal(b.w[0].name, "source");
	assert_int_equal(b.w[0].weight, 0);
	assert_string_equal(b.w[1].name, "target");
	assert_int_equal(b.w[1].weight, 999);
	/* A second save replaces the first whole. */
	a.w[1].weight = 5;
	assert_int_equal(state_save(p, &a, err, sizeof(err)), 0);
	assert_int_equal(state_load(p, &b, err, sizeof(err)), 1);
	assert_int_equal(b.w[1].weight, 5);
}

/* A ramp's position goes with the weights; a file without one has none. */
static void
test_ramp_round_trip(void **state)
{
	struct state_weights	 a = { 0 }, b;
	char			 err[256], p[256];

	snprintf(p, sizeof(p), "%s", in_dir("ramp.json"));
	strcpy(a.w[0].name, "source");
	a.w[0].weight = 60;
	strcpy(a.w[1].name, "target");
	a.w[1].weight = 40;
	a.n = 2;
	a.ramp.active = 1;
	a.ramp.step = 1;
	a.ramp.nsteps = 3;
	a.ramp.steps[0] = 10;
	a.ramp.steps[1] = 40;
	a.ramp.steps[2] = 100;
	assert_int_equal(state_save(p, &a, err, sizeof(err)), 0);
	assert_int_equal(state_load(p, &b, err, sizeof(err)), 1);
	assert_int_equal(b.ramp.active, 1);
	assert_int_equal(b.ramp.step, 1);
	assert_int_equal(b.ramp.nsteps, 3);
	assert_int_equal(b.ramp.steps[2], 100);
	assert_int_equal(b.w[1].weight, 40);
	/* Without the ramp, the file is as before the ramp existed. */
	a.ramp.active = 0;
	assert_int_equal(state_save(p, &a, err, sizeof(err)), 0);
	assert_int_equal(state_load(p, &b, err, sizeof(err)), 1);
	assert_int_equal(b.ramp.active, 0);
	/* Corrupt ramp records are refused like corrupt weights. */
	assert_int_equal(state_load(put("r1.json", "{\"weights\":{\"source\""
	    ":1},\"ramp\":{\"step\":2,\"steps\":[50,100]}}"), &b, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "ramp step is not one of its steps"));
	assert_int_equal(state_load(put("r2.json", "{\"weights\":{\"source\""
	    ":1},\"ramp\":{\"step\":0,\"steps\":[50,40]}}"), &b, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "strictly increasing"));
	assert_int_equal(state_load(put("r3.json", "{\"weights\":{\"source\""
	    ":1},\"ramp\":[1]}"), &b, err, sizeof(err)), -1);
	assert_int_equal(b.n, 0);
	/* A ramp of one route keeps the route; a ramp without one has "". */
	a.ramp.active = 1;
	strcpy(a.ramp.route, "reads");
	assert_int_equal(state_save(p, &a, err, sizeof(err)), 0);
	assert_int_equal(state_load(p, &b, err, sizeof(err)), 1);
	assert_string_equal(b.ramp.route, "reads");
	assert_int_equal(state_load(put("r4.json", "{\"weights\":{\"source\""
	    ":1},\"ramp\":{\"step\":0,\"steps\":[50,100]}}"), &b, err,
	    sizeof(err)), 1);
	assert_string_equal(b.ramp.route, "");
	assert_int_equal(state_load(put("r5.json", "{\"weights\":{\"source\""
	    ":1},\"ramp\":{\"step\":0,\"steps\":[50,100],\"route\":\"a b\"}}"),
	    &b, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "ramp route is not a route name"));
	assert_int_equal(state_load(put("r6.json", "{\"weights\":{\"source\""
	    ":1},\"ramp\":{\"step\":0,\"steps\":[50,100],\"route\":7}}"), &b,
	    err, sizeof(err)), -1);
}

/*
 * Route weights go with the backends' under "routes", by name; a file
 * without them has none; corrupt route records are refused whole; an
 * audit line of a route names it.
 */
static void
test_routes(void **state)
{
	static const char conf[] = "[listener]\naddress = 127.0.0.1:1\n"
	    "[backend source]\nservers = 127.0.0.1:2\nweight = 1\n"
	    "[backend target]\nservers = 127.0.0.1:3\nweight = 0\n"
	    "[route reads]\noperation = read\nweights = source=9, target=1\n"
	    "[route logs]\nindices = logs-*\nweights = target=7\n";
	struct config_errors	 e = { 0 };
	struct sw_config	*c = config_parse("t.conf", conf, strlen(conf),
				    &e);
	struct state_weights	 a, b;
	const struct state_route *r;
	char			 err[256], p[256], line[512];
	FILE			*f;

	assert_non_null(c);
	snprintf(p, sizeof(p), "%s", in_dir("routes.json"));
	state_from_config(&a, c);
	assert_int_equal(a.nroutes, 2);
	assert_int_equal(state_save(p, &a, err, sizeof(err)), 0);
	assert_int_equal(state_load(p, &b, err, sizeof(err)), 1);
	assert_int_equal(b.n, 2);
	assert_int_equal(b.nroutes, 2);
	assert_non_null(r = state_route(&b, "logs"));
	assert_int_equal(r->n, 2);
	assert_string_equal(r->w[0].name, "source");
	assert_int_equal(r->w[0].weight, 0);
	assert_string_equal(r->w[1].name, "target");
	assert_int_equal(r->w[1].weight, 7);
	assert_non_null(r = state_route(&b, "reads"));
	assert_int_equal(r->w[0].weight, 9);
	assert_null(state_route(&b, "nope"));
	/* Without routes, the file is as before routes existed. */
	a.nroutes = 0;
	assert_int_equal(state_save(p, &a, err, sizeof(err)), 0);
	assert_int_equal(state_load(p, &b, err, sizeof(err)), 1);
	assert_int_equal(b.nroutes, 0);
	f = fopen(p, "r");
	assert_non_null(f);
	assert_non_null(fgets(line, sizeof(line), f));
	fclose(f);
	assert_null(strstr(line, "routes"));
	/* Corrupt route records. */
	assert_int_equal(state_load(put("ro1.json", "{\"weights\":{\"source\""
	    ":1},\"routes\":{\"r\":{\"source\":0}}}"), &b, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "route r: every weight is 0"));
	assert_int_equal(state_load(put("ro2.json", "{\"weights\":{\"source\""
	    ":1},\"routes\":{\"r\":{\"source\":1000}}}"), &b, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "route r: weight of source is not"));
	assert_int_equal(state_load(put("ro3.json", "{\"weights\":{\"source\""
	    ":1},\"routes\":[1]}"), &b, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "\"routes\" is not an object"));
	assert_int_equal(state_load(put("ro4.json", "{\"weights\":{\"source\""
	    ":1},\"routes\":{\"a b\":{\"source\":1}}}"), &b, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "is not a route name"));
	assert_int_equal(b.n, 0);
	/* An audit line of one route: its name, its old and new weights. */
	state_from_config(&a, c);
	b = a;
	b.routes[0].w[1].weight = 5;
	assert_int_equal(state_audit_route(in_dir("raudit.log"), "me", "why",
	    "reads", &a, &b, err, sizeof(err)), 0);
	f = fopen(in_dir("raudit.log"), "r");
	assert_non_null(f);
	assert_non_null(fgets(line, sizeof(line), f));
	fclose(f);
	assert_non_null(strstr(line, "\"old\":{\"source\":9,\"target\":1},"
	    "\"new\":{\"source\":9,\"target\":5},\"route\":\"reads\""));
	unlink(in_dir("raudit.log"));
	config_unref(c);
}

static void
test_missing_is_not_an_error(void **state)
{
	struct state_weights	sw;
	char			err[256] = "";

	assert_int_equal(state_load(in_dir("absent.json"), &sw, err,
	    sizeof(err)), 0);
	assert_int_equal(sw.n, 0);
}

static void
test_corrupt(void **state)
{
	static const char *const bad[] = {
		"",
		"{",
		"{\"weights\":{\"source\":1,",
		"[]",
		"{}",
		"{\"weights\":[1,0]}",
		"{\"weights\":{\"source\":\"1\"}}",
		"{\"weights\":{\"source\":1.5}}",
		"{\"weights\":{\"source\":-1}}",
		"{\"weights\":{\"source\":1000}}",
		"{\"weights\":{\"source\":0,\"target\":0}}",
		"{\"weights\":{\"bad name\":1}}",
		"{\"weights\":{\"source\":1,\"source\":2}}",
		"{\"weights\":{\"s0\":1,\"s1\":1,\"s2\":1,\"s3\":1,\"s4\":1,"
		    "\"s5\":1,\"s6\":1,\"s7\":1,\"s8\":1,\"s9\":1,\"s10\":1,"
		    "\"s11\":1,\"s12\":1,\"s13\":1,\"s14\":1,\"s15\":1,"
		    "\"s16\":1}}",
	};
	struct state_weights	sw;
	char			err[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *p = put("bad.json", bad[i]);

		err[0] = '\0';
		assert_int_equal(state_load(p, &sw, err, sizeof(err)), -1);
		/* The message names the file, for the operator. */
		assert_non_null(strstr(err, "bad.json"));
		assert_int_equal(sw.n, 0);
	}
	/* A directory is not a state file. */
	assert_int_equal(state_load(dir, &sw, err, sizeof(err)), -1);
}

static void
test_save_fails_cleanly(void **state)
{
	struct state_weights	a = { .n = 1 };
	char			err[256] = "";

	strcpy(a.w[0].name, "source");
	a.w[0].weight = 1;
	assert_int_equal(state_save("/nonexistent-dir/state.json", &a, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "/nonexistent-dir/state.json"));
}

/* An error after the rename is not "unchanged": the file has the weights. */
static void
test_error_after_rename(void **state)
{
	struct state_weights	 a = { 0 }, b;
	char			 err[256] = "", p[256];

	snprintf(p, sizeof(p), "%s", in_dir("after.json"));
	strcpy(a.w[0].name, "source");
	a.w[0].weight = 4;
	a.n = 1;
	fail_dir_fsync = 1;
	assert_int_equal(state_save(p, &a, err, sizeof(err)), 1);
	fail_dir_fsync = 0;
	assert_non_null(strstr(err, "saved, but"));
	assert_non_null(strstr(err, "fsync of the directory"));
	assert_int_equal(state_load(p, &b, err, sizeof(err)), 1);
	assert_int_equal(b.w[0].weight, 4);
	assert_int_equal(access(in_dir("after.json.tmp"), F_OK), -1);
	unlink(p);
}

/* The temporary is always a new file: a planted symlink is not followed. */
static void
test_tmp_symlink(void **state)
{
	struct state_weights	 a = { 0 }, b;
	char			 err[256], p[256], victim[256], buf[32] = "";
	FILE			*f;

	snprintf(p, sizeof(p), "%s", in_dir("link.json"));
	snprintf(victim, sizeof(victim), "%s", put("victim", "keep me\n"));
	assert_int_equal(symlink(victim, in_dir("link.json.tmp")), 0);
	strcpy(a.w[0].name, "target");
	a.w[0].weight = 9;
	a.n = 1;
	assert_int_equal(state_save(p, &a, err, sizeof(err)), 0);
	assert_non_null(f = fopen(victim, "r"));
	assert_non_null(fgets(buf, sizeof(buf), f));
	fclose(f);
	assert_string_equal(buf, "keep me\n");
	assert_int_equal(state_load(p, &b, err, sizeof(err)), 1);
	assert_int_equal(b.w[0].weight, 9);
	unlink(p);
	unlink(victim);
}

static void
test_audit_lines(void **state)
{
	struct state_weights	 o = { .n = 2 }, n = { .n = 2 };
	char			 err[256], line[512];
	const char		*p = in_dir("audit.log");
	FILE			*f;
	int			 lines = 0;

	strcpy(o.w[0].name, "source");
	strcpy(o.w[1].name, "target");
	n = o;
	o.w[0].weight = 1;
	n.w[1].weight = 1;
	assert_int_equal(state_audit(p, "127.0.0.1:5555", "step \"1\"", &o, &n,
	    err, sizeof(err)), 0);
	assert_int_equal(state_audit(p, "reload", NULL, &n, &o, err,
	    sizeof(err)), 0);
	assert_non_null(f = fopen(p, "r"));
	while (fgets(line, sizeof(line), f) != NULL) {
		lines++;
		assert_true(line[strlen(line) - 1] == '\n');
		if (lines == 1) {
			assert_non_null(strstr(line, "\"who\":\"127.0.0.1:5555\""));
			assert_non_null(strstr(line, "\"reason\":\"step \\\"1\\\"\""));
			assert_non_null(strstr(line, "\"old\":{\"source\":1,"
			    "\"target\":0},\"new\":{\"source\":0,\"target\":1}"));
		} else
			assert_non_null(strstr(line, "\"reason\":null"));
	}
	fclose(f);
	assert_int_equal(lines, 2);
}

/* Remove what the tests wrote. */
static int
teardown(void **state)
{
	static const char *const names[] = { "state.json", "bad.json",
	    "audit.log", "ramp.json", "r1.json", "r2.json", "r3.json",
	    "r4.json", "r5.json", "r6.json",
	    "routes.json", "ro1.json", "ro2.json", "ro3.json", "ro4.json" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		unlink(in_dir(names[i]));
	return rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_ramp_round_trip),
		cmocka_unit_test(test_routes),
		cmocka_unit_test(test_missing_is_not_an_error),
		cmocka_unit_test(test_corrupt),
		cmocka_unit_test(test_save_fails_cleanly),
		cmocka_unit_test(test_error_after_rename),
		cmocka_unit_test(test_tmp_symlink),
		cmocka_unit_test(test_audit_lines),
	};

	if (mkdtemp(dir) == NULL)
		return 1;
	return cmocka_run_group_tests(tests, NULL, teardown);
}
