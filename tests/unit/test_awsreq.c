/*
 * Unit tests for awsreq's pure parts: reading AWS errors from XML and
 * JSON bodies, which codes are throttling, endpoint overrides.  The
 * retry loop itself is exercised against a stub in aws_faults.sh.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../src/aws/awsreq.c"

static int
perr(const char *body, char *code, char *msg)
{
	code[0] = msg[0] = '\0';
	return parse_error(body, strlen(body), code, 128, msg, 256);
}

static void
test_parse_error(void **state)
{
	char code[128], msg[256];

	assert_int_equal(perr("<ErrorResponse xmlns=\"x\"><Error><Type>Sender"
	    "</Type><Code>ValidationError</Code><Message>Weight &lt; 0</Message>"
	    "</Error><RequestId>1</RequestId></ErrorResponse>", code, msg), 0);
	assert_string_equal(code, "ValidationError");
	assert_string_equal(msg, "Weight < 0");
	/* moto's 403 for ECS is XML too. */
	assert_int_equal(perr("\n <Response><Errors><Error><Code>"
	    "SignatureDoesNotMatch</Code><Message>no</Message></Error></Errors>"
	    "</Response>", code, msg), 0);
	assert_string_equal(code, "SignatureDoesNotMatch");
	assert_int_equal(perr("{\"__type\":\"com.amazonaws.ecs#"
	    "ClusterNotFoundException\",\"message\":\"Cluster not found.\"}",
	    code, msg), 0);
	assert_string_equal(code, "ClusterNotFoundException");
	assert_string_equal(msg, "Cluster not found.");
	assert_int_equal(perr("{\"__type\":\"ThrottlingException\","
	    "\"Message\":\"Rate exceeded\"}", code, msg), 0);
	assert_string_equal(msg, "Rate exceeded");
	assert_int_equal(perr("<html><body>Bad Gateway</body></html>", code, msg), -1);
	assert_int_equal(perr("{\"message\":\"no type\"}", code, msg), -1);
	assert_int_equal(perr("", code, msg), -1);
	assert_int_equal(perr("<<<", code, msg), -1);
	assert_int_equal(perr("{\"__type\":", code, msg), -1);
}

static void
test_throttle_codes(void **state)
{
	assert_true(awsreq_is_throttle("Throttling"));
	assert_true(awsreq_is_throttle("ThrottlingException"));
	assert_true(awsreq_is_throttle("TooManyRequestsException"));
	assert_true(awsreq_is_throttle("RequestLimitExceeded"));
	assert_false(awsreq_is_throttle("ValidationError"));
	assert_false(awsreq_is_throttle("throttling"));
	assert_false(awsreq_is_throttle(NULL));
}

static void
test_endpoints(void **state)
{
	char *e;

	R.region = "eu-west-1";
	unsetenv("AWS_ENDPOINT_URL");
	unsetenv("AWS_ENDPOINT_URL_ECS");
	unsetenv("AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2");
	e = endpoint_for(AWS_ELBV2);
	assert_string_equal(e, "https://elasticloadbalancing.eu-west-1.amazonaws.com");
	free(e);
	setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:5000/", 1);
	setenv("AWS_ENDPOINT_URL_ECS", "http://127.0.0.1:6000", 1);
	e = endpoint_for(AWS_ELBV2);
	assert_string_equal(e, "http://127.0.0.1:5000");	/* slash trimmed */
	free(e);
	e = endpoint_for(AWS_ECS);
	assert_string_equal(e, "http://127.0.0.1:6000");	/* service wins */
	free(e);
	R.region = NULL;
}

static void
test_split_url(void **state)
{
	char		 host[64];
	const char	*path;

	split_url("http://127.0.0.1:5000", host, sizeof(host), &path);
	assert_string_equal(host, "127.0.0.1:5000");
	assert_string_equal(path, "/");
	split_url("https://vpce.example.com/prefix", host, sizeof(host), &path);
	assert_string_equal(host, "vpce.example.com");
	assert_string_equal(path, "/prefix");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_error),
		cmocka_unit_test(test_throttle_codes),
		cmocka_unit_test(test_endpoints),
		cmocka_unit_test(test_split_url),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
