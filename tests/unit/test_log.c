/*
 * Unit tests for log: a reopen keeps the descriptor number (threads write
 * to it unlocked), and rate-limited lines are bounded and accounted for.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "../../src/log.c"

static char dir[] = "/tmp/sw-log-test.XXXXXX";

/* path of NAME in the test's directory (static buffer). */
static const char *
in_dir(const char *name)
{
	static char buf[256];

	snprintf(buf, sizeof(buf), "%s/%s", dir, name);
	return buf;
}

/* Lines of path that contain needle. */
static int
count(const char *path, const char *needle)
{
	FILE	*f = fopen(path, "r");
	char	 line[4096];
	int	 n = 0;

	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		n += strstr(line, needle) != NULL;
	fclose(f);
	return n;
}

static void
test_reopen_keeps_descriptor(void **state)
{
	char		 path[256], old[256];
	struct stat	 a, b;
	int		 fd;

	snprintf(path, sizeof(path), "%s", in_dir("main.log"));
	snprintf(old, sizeof(old), "%s", in_dir("main.log.1"));
	assert_int_equal(log_init(path, LOG_LVL_INFO), 0);
	fd = log_fd;
	log_info("first line");
	assert_int_equal(rename(path, old), 0);
	assert_int_equal(log_reopen(), 0);
	assert_int_equal(log_fd, fd);
	assert_int_equal(fstat(log_fd, &a), 0);
	assert_int_equal(stat(path, &b), 0);
	assert_true(a.st_ino == b.st_ino && a.st_dev == b.st_dev);
	log_info("second line");
	assert_int_equal(count(old, "first line"), 1);
	assert_int_equal(count(old, "second line"), 0);
	assert_int_equal(count(path, "second line"), 1);
	assert_int_equal(fcntl(log_fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
	log_close();
	unlink(path);
	unlink(old);
}

static void
test_limited(void **state)
{
	static struct log_limit	 l;
	char			 path[256];

	snprintf(path, sizeof(path), "%s", in_dir("limited.log"));
	assert_int_equal(log_init(path, LOG_LVL_INFO), 0);
	/* Within one second (the window starts at the first line). */
	l.window = 0;
	for (int i = 0; i < 100; i++)
		log_limited(&l, LOG_LVL_INFO, "bad request %d", i);
	/* Unless the second turned meanwhile, 10 lines and 90 held. */
	assert_true(count(path, "bad request") <= 2 * LOG_LIMIT_BURST);
	assert_int_equal(count(path, "bad request") + (int)l.held, 100);
	/* The next second's first line says how many were suppressed. */
	{
		unsigned held = l.held;
		char want[64];

		l.window--;
		log_limited(&l, LOG_LVL_INFO, "bad request late");
		snprintf(want, sizeof(want), "suppressed %u more such lines",
		    held);
		assert_int_equal(count(path, want), held > 0);
		assert_int_equal(count(path, "bad request late"), 1);
		assert_int_equal(l.held, 0);
	}
	/* Below the level: neither logged nor counted. */
	log_limited(&l, LOG_LVL_DEBUG, "debug flood");
	assert_int_equal(count(path, "debug flood"), 0);
	assert_int_equal(l.held, 0);
	log_close();
	unlink(path);
}

static int
setup(void **state)
{
	return mkdtemp(dir) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	return rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reopen_keeps_descriptor),
		cmocka_unit_test(test_limited),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
