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

/* host_allowed on a NUL-terminated Host value. */
static int
host_ok(const struct admin_self *self, const char *allowed, const char *h)
{
	return host_allowed(self, allowed, h, strlen(h));
}

static void
test_host_matcher(void **state)
{
	struct admin_self v4, v6, any4, any6;
	const char *list = "switchover.internal, ops.example:8443 [::2]";

	assert_int_equal(self_init(&v4, "127.0.0.1", 9901), 0);
	assert_int_equal(self_init(&v6, "::1", 9901), 0);
	assert_int_equal(self_init(&any4, "0.0.0.0", 9901), 0);
	assert_int_equal(self_init(&any6, "::", 9901), 0);
	assert_int_equal(self_init(&v4, "localhost", 9901), -1);
	assert_int_equal(self_init(&v4, "127.0.0.1", 9901), 0);

	/* Its own address, with or without the port. */
	assert_true(host_ok(&v4, NULL, "127.0.0.1:9901"));
	assert_true(host_ok(&v4, NULL, "127.0.0.1"));
	assert_true(host_ok(&v6, NULL, "[::1]:9901"));
	assert_true(host_ok(&v6, NULL, "[::1]"));
	assert_true(host_ok(&v6, NULL, "[0:0::1]:9901"));	/* same address */
	assert_false(host_ok(&v4, NULL, "127.0.0.1:9902"));
	assert_false(host_ok(&v4, NULL, "127.0.0.2:9901"));
	assert_false(host_ok(&v4, NULL, "[::1]:9901"));
	assert_false(host_ok(&v6, NULL, "127.0.0.1:9901"));
	assert_false(host_ok(&v6, NULL, "::1"));		/* needs brackets */
	assert_false(host_ok(&v6, NULL, "[::1]9901"));
	/* A wildcard listener: any IP literal on its port, still no names. */
	assert_true(host_ok(&any4, NULL, "10.1.2.3:9901"));
	assert_true(host_ok(&any6, NULL, "[fd00::5]"));
	assert_false(host_ok(&any4, NULL, "10.1.2.3:80"));
	assert_false(host_ok(&any4, NULL, "evil.example:9901"));

	/* localhost, any case, an ending dot. */
	assert_true(host_ok(&v4, NULL, "localhost"));
	assert_true(host_ok(&v4, NULL, "LocalHost:9901"));
	assert_true(host_ok(&v4, NULL, "localhost.:9901"));
	assert_false(host_ok(&v4, NULL, "localhost:80"));
	assert_false(host_ok(&v4, NULL, "localhost.evil.example"));
	assert_false(host_ok(&v4, NULL, "evil-localhost"));

	/* Names: only those listed; a listed port replaces the listener's. */
	assert_false(host_ok(&v4, NULL, "switchover.internal"));
	assert_true(host_ok(&v4, list, "switchover.internal"));
	assert_true(host_ok(&v4, list, "SWITCHOVER.internal:9901"));
	assert_false(host_ok(&v4, list, "switchover.internal:9902"));
	assert_false(host_ok(&v4, list, "switchover.internal.evil.example"));
	assert_false(host_ok(&v4, list, "xswitchover.internal"));
	assert_false(host_ok(&v4, list, "switchover.interna"));
	assert_true(host_ok(&v4, list, "ops.example:8443"));
	assert_true(host_ok(&v4, list, "ops.example"));
	assert_false(host_ok(&v4, list, "ops.example:9901"));
	assert_true(host_ok(&v4, list, "[::2]:9901"));
	assert_false(host_ok(&v4, list, "::2"));

	/* Malformed. */
	assert_false(host_ok(&v4, list, ""));
	assert_false(host_ok(&v4, list, ":9901"));
	assert_false(host_ok(&v4, list, "127.0.0.1:"));
	assert_false(host_ok(&v4, list, "127.0.0.1:99010"));
	assert_false(host_ok(&v4, list, "127.0.0.1:+9901"));
	assert_false(host_ok(&v4, list, "127.0.0.1:9901:9901"));
	assert_false(host_ok(&v4, list, "127.0.0.1 "));
	assert_false(host_ok(&v4, list, "user@127.0.0.1"));
	assert_false(host_ok(&v4, list, "[127.0.0.1]"));
	assert_false(host_ok(&v4, list, "[switchover.internal]"));
	assert_false(host_allowed(&v4, list, "127.0.0.1\0evil", 14));
}

static void
test_origin_matcher(void **state)
{
	struct admin_self self;
	const char *list = "switchover.internal";

	assert_int_equal(self_init(&self, "127.0.0.1", 9901), 0);
	assert_true(origin_allowed(&self, NULL, "http://127.0.0.1:9901"));
	assert_true(origin_allowed(&self, NULL, "HTTP://localhost:9901"));
	assert_true(origin_allowed(&self, NULL, "http://localhost"));
	assert_true(origin_allowed(&self, list, "https://switchover.internal"));
	assert_false(origin_allowed(&self, NULL, "http://evil.example"));
	assert_false(origin_allowed(&self, NULL, "http://127.0.0.1:8080"));
	assert_false(origin_allowed(&self, NULL, "null"));
	assert_false(origin_allowed(&self, NULL, ""));
	assert_false(origin_allowed(&self, NULL, "127.0.0.1:9901"));
	assert_false(origin_allowed(&self, NULL, "ftp://127.0.0.1:9901"));
	assert_false(origin_allowed(&self, NULL, "http://127.0.0.1:9901/"));
	assert_false(origin_allowed(&self, NULL,
	    "http://127.0.0.1:9901.evil.example"));
	assert_false(origin_allowed(&self, NULL, "http://switchover.internal"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_loopback),
		cmocka_unit_test(test_host_matcher),
		cmocka_unit_test(test_origin_matcher),
		cmocka_unit_test(test_token_rules),
		cmocka_unit_test(test_token_file),
		cmocka_unit_test(test_alb_json),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
