/*
 * Unit tests for admin: which addresses count as loopback, token rules,
 * the ALB's word in a weight change's answer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "../../src/admin.c"

static void
test_loopback(void **state)
{
	assert_true(is_loopback("127.0.0.1"));
	assert_true(is_loopback("127.255.0.9"));
	assert_true(is_loopback("::1"));
	assert_false(is_loopback("0.0.0.0"));
	assert_false(is_loopback("::"));
	assert_false(is_loopback("10.0.0.1"));
	assert_false(is_loopback("128.0.0.1"));
	assert_false(is_loopback("::ffff:10.0.0.1"));
	assert_false(is_loopback("localhost"));	/* names are not literals */
}

/* admin_check on a config with this [admin] section. */
static int
check_admin(const char *admin, char *err, size_t errlen)
{
	char			 text[512];
	struct config_errors	 e = { 0 };
	struct sw_config	*c;
	int			 r;

	snprintf(text, sizeof(text), "[listener]\naddress = 127.0.0.1:9200\n"
	    "[admin]\n%s\n[backend source]\nservers = 127.0.0.1:1\n"
	    "weight = 1\n", admin);
	c = config_parse("t.conf", text, strlen(text), &e);
	assert_non_null(c);
	err[0] = '\0';
	r = admin_check(c, err, errlen);
	config_unref(c);
	config_errors_free(&e);
	return r;
}

static void
test_token_rules(void **state)
{
	char err[256];

	assert_int_equal(check_admin("", err, sizeof(err)), 0);
	assert_int_equal(check_admin("address = 127.0.0.1:9901", err,
	    sizeof(err)), 0);
	assert_int_equal(check_admin("address = [::1]:9901", err,
	    sizeof(err)), 0);
	assert_int_equal(check_admin("address = off", err, sizeof(err)), 0);
	assert_int_equal(check_admin("address = 0.0.0.0:9901", err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "t.conf: [admin] address 0.0.0.0:9901 is "
	    "not loopback"));
	assert_int_equal(check_admin("address = [::]:9901", err, sizeof(err)),
	    -1);
	assert_int_equal(check_admin("address = 0.0.0.0:9901\ntoken_file = "
	    "/etc/t", err, sizeof(err)), 0);
}

static void
test_token_file(void **state)
{
	char	 path[] = "/tmp/sw-token.XXXXXX", err[256];
	int	 fd = mkstemp(path);
	unsigned char want[32];

	assert_true(fd != -1);
	assert_int_equal(write(fd, "abc\n", 4), 4);
	close(fd);
	assert_int_equal(load_token(path, err, sizeof(err)), 0);
	assert_true(adm.have_token);
	/* The trailing newline is not part of the token. */
	assert_int_equal(sha256("abc", 3, want), 0);
	assert_memory_equal(want, adm.token_hash, 32);
	/* Empty and NUL-carrying files are refused. */
	assert_true(truncate(path, 0) == 0);
	assert_int_equal(load_token(path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "must hold one token"));
	fd = open(path, O_WRONLY);
	assert_int_equal(write(fd, "a\0b", 3), 3);
	close(fd);
	assert_int_equal(load_token(path, err, sizeof(err)), -1);
	unlink(path);
	assert_int_equal(load_token(path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, path));
}

/* An outcome as the answer's "alb" object, compact. */
static char *
alb_text(const struct aws_outcome *o)
{
	json_t	*j = alb_json(o);
	char	*t = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);

	json_decref(j);
	return t;
}

static void
test_alb_json(void **state)
{
	struct aws_outcome	 ok = { 1, NULL, "the ALB accepted", 0 };
	struct aws_outcome	 no = { 0, "Throttling", "Rate \"exceeded\"", 1 };
	struct aws_outcome	 final = { 0, "InvalidParameterValue", NULL, 0 };
	char			*t;

	/* Accepted says only that: no message to parse. */
	assert_string_equal(t = alb_text(&ok), "{\"accepted\":true}");
	free(t);
	/* AWS's code and message verbatim, escaped as JSON. */
	assert_string_equal(t = alb_text(&no), "{\"accepted\":false,"
	    "\"code\":\"Throttling\",\"message\":\"Rate \\\"exceeded\\\"\","
	    "\"retrying\":true}");
	free(t);
	assert_string_equal(t = alb_text(&final), "{\"accepted\":false,"
	    "\"code\":\"InvalidParameterValue\",\"message\":\"\","
	    "\"retrying\":false}");
	free(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_loopback),
		cmocka_unit_test(test_token_rules),
		cmocka_unit_test(test_token_file),
		cmocka_unit_test(test_alb_json),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
