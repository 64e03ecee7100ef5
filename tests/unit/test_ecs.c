/* Unit tests for ecs: bodies, and answers good, failed and hostile. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "switchover/aws/ecs.h"

static const char *const names[2] = { "capture-proxy", "target-proxy" };

static int
parse(const char *j, struct ecs_service *s, char *err)
{
	return ecs_parse_services(j, strlen(j), names, s, 2, err, 200);
}

static void
test_bodies(void **state)
{
	char *b = ecs_describe_body("c", names, 2);

	assert_string_equal(b, "{\"cluster\":\"c\",\"services\":"
	    "[\"capture-proxy\",\"target-proxy\"]}");
	free(b);
	b = ecs_update_body("c", "target-proxy", 3);
	assert_string_equal(b, "{\"cluster\":\"c\",\"service\":\"target-proxy\","
	    "\"desiredCount\":3}");
	free(b);
	assert_null(ecs_describe_body("c", names, 11));
}

static void
test_parse(void **state)
{
	struct ecs_service	s[2];
	char			err[200];

	/* Order in the answer does not matter; an ARN names a service too. */
	assert_int_equal(parse("{\"services\":[{\"serviceArn\":\"arn:aws:ecs:"
	    "us-east-1:1:service/c/target-proxy\",\"desiredCount\":0,"
	    "\"runningCount\":0},{\"serviceName\":\"capture-proxy\","
	    "\"desiredCount\":3,\"runningCount\":2,\"pendingCount\":1,"
	    "\"status\":\"ACTIVE\"}],\"failures\":[]}", s, err), 0);
	assert_int_equal(s[0].desired, 3);
	assert_int_equal(s[0].running, 2);
	assert_int_equal(s[0].pending, 1);
	assert_string_equal(s[0].status, "ACTIVE");
	assert_int_equal(s[1].desired, 0);

	assert_int_equal(parse("{\"services\":[],\"failures\":[{\"arn\":\"x\","
	    "\"reason\":\"MISSING\"}]}", s, err), -1);
	assert_string_equal(err, "service x: MISSING");
	assert_int_equal(parse("not json", s, err), -1);
	assert_non_null(strstr(err, "not a JSON object"));
	assert_int_equal(parse("[1,2]", s, err), -1);
	assert_int_equal(parse("{\"services\":[{\"serviceName\":\"capture-proxy\","
	    "\"desiredCount\":\"3\",\"runningCount\":1}]}", s, err), -1);
	assert_non_null(strstr(err, "capture-proxy"));
	assert_int_equal(parse("{\"services\":[{\"serviceName\":\"capture-proxy\","
	    "\"desiredCount\":-4,\"runningCount\":1}]}", s, err), -1);
	/* A name that merely ends like ours is not ours. */
	assert_int_equal(parse("{\"services\":[{\"serviceArn\":\"arn:x/"
	    "not-capture-proxy\",\"desiredCount\":1,\"runningCount\":1}]}", s,
	    err), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bodies),
		cmocka_unit_test(test_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
