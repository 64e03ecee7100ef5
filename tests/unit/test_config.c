/* Unit tests for config: parsing, every error with its line, clones. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "switchover/config.h"

static struct sw_config *
parse(const char *text, struct config_errors *e)
{
	return config_parse("t.conf", text, strlen(text), e);
}

/* Is there an error message containing needle? */
static int
has_error(const struct config_errors *e, const char *needle)
{
	for (size_t i = 0; i < e->n; i++)
		if (strstr(e->msgs[i], needle) != NULL)
			return 1;
	return 0;
}

static const char good[] =
    "# comment\n"
    "[listener]\n"
    "address = 0.0.0.0:9200\n"
    "header_timeout = 500ms\n"
    "max_header_size = 32k\n"
    "[upstream]\n"
    "connect_timeout = 2s   # inline comment\n"
    "[backend source]\n"
    "servers = 127.0.0.1:19201, 127.0.0.1:19203\n"
    "weight = 1\n"
    "[backend target]\n"
    "servers = [::1]:19202 , target.example:9200\n"
    "weight = 0\n"
    "balance = least_conn\n";

static void
test_good(void **state)
{
	struct config_errors	 e = { 0 };
	struct sw_config	*c = parse(good, &e);

	assert_non_null(c);
	assert_int_equal(e.n, 0);
	assert_string_equal(c->listeners[0].address, "0.0.0.0:9200");
	assert_int_equal(c->nlisteners, 1);
	assert_false(c->listeners[0].tls.enabled);
	assert_int_equal(c->header_timeout_ms, 500);
	assert_int_equal(c->connect_timeout_ms, 2000);
	assert_int_equal(c->max_header_size, 32 * 1024);
	assert_int_equal(c->keepalive_timeout_ms, 60000);	/* default */
	assert_int_equal(c->nbackends, 2);
	assert_int_equal(c->backends[0].nservers, 2);
	assert_int_equal(c->backends[0].servers[1].port, 19203);
	assert_true(c->backends[0].servers[0].resolved);
	assert_int_equal(c->backends[1].weight, 0);
	assert_int_equal(c->backends[1].balance, BALANCE_LEAST_CONN);
	assert_string_equal(c->backends[1].servers[0].name, "[::1]:19202");
	assert_true(c->backends[1].servers[0].literal);
	assert_false(c->backends[1].servers[1].literal);
	assert_false(c->backends[1].servers[1].resolved);
	assert_string_equal(config_backend(c, "target")->name, "target");
	assert_null(config_backend(c, "nope"));

	struct sw_config *k = config_clone(c);
	assert_non_null(k);
	k->backends[0].weight = 7;
	assert_int_equal(c->backends[0].weight, 1);
	assert_string_equal(k->backends[1].servers[1].host, "target.example");
	assert_ptr_not_equal(k->backends[1].servers, c->backends[1].servers);
	config_unref(k);
	config_unref(c);
}

static void
test_errors_name_lines(void **state)
{
	struct config_errors	 e = { 0 };
	const char		*bad =
	    "[listener]\n"
	    "address = nowhere\n"			/* 2 */
	    "bogus = 1\n"				/* 3 */
	    "[backend source]\n"
	    "servers = 127.0.0.1:0, 1.2.3.4\n"		/* 5: two errors */
	    "weight = 1000\n"				/* 6 */
	    "[weird]\n"					/* 7 */
	    "x = y\n"
	    "[backend target]\n"
	    "servers = 127.0.0.1:1\n"
	    "weight = -1\n"				/* 11 */
	    "header_timeout = soon\n"			/* 12: wrong section */
	    "no equals sign\n";				/* 13 */

	assert_null(parse(bad, &e));
	assert_true(has_error(&e, "t.conf:2: address"));
	assert_true(has_error(&e, "t.conf:3: unknown key \"bogus\""));
	assert_true(has_error(&e, "t.conf:5: servers: \"127.0.0.1:0\""));
	assert_true(has_error(&e, "t.conf:5: servers: \"1.2.3.4\""));
	assert_true(has_error(&e, "t.conf:6: weight"));
	assert_true(has_error(&e, "t.conf:7: unknown section [weird]"));
	assert_true(has_error(&e, "t.conf:11: weight"));
	assert_true(has_error(&e, "t.conf:12: unknown key \"header_timeout\""));
	assert_true(has_error(&e, "t.conf:13: expected key = value"));
	assert_false(has_error(&e, "t.conf:8:"));	/* inside [weird] */
	config_errors_free(&e);
}

static void
test_semantic(void **state)
{
	struct config_errors e = { 0 };

	assert_null(parse("[listener]\naddress = 127.0.0.1:1\n"
	    "[backend a]\nservers = 127.0.0.1:2\nweight = 0\n"
	    "[backend b]\nservers = 127.0.0.1:3\nweight = 0\n", &e));
	assert_true(has_error(&e, "every backend has weight 0"));
	config_errors_free(&e);

	assert_null(parse("[listener]\naddress = 127.0.0.1:1\n", &e));
	assert_true(has_error(&e, "no [backend NAME] section"));
	config_errors_free(&e);

	assert_null(parse("[backend a]\nweight = 1\n"
	    "[backend a]\nservers = 127.0.0.1:3\n", &e));
	assert_true(has_error(&e, "backend a defined twice"));
	assert_true(has_error(&e, "[listener] address is missing"));
	assert_true(has_error(&e, "[backend a] has no servers"));
	config_errors_free(&e);

	assert_null(parse("[listener]\naddress = 127.0.0.1:1\n"
	    "[backend a]\nservers = 127.0.0.1:2, 127.0.0.1:2\nweight = 1\n", &e));
	assert_true(has_error(&e, "listed twice"));
	config_errors_free(&e);

	assert_null(parse("[listener]\naddress = 127.0.0.1:1\n"
	    "[backend a b]\nservers = 127.0.0.1:2\nweight = 1\n", &e));
	assert_true(has_error(&e, "backend name"));
	config_errors_free(&e);
}

static void
test_hostile(void **state)
{
	struct config_errors	e = { 0 };
	char			nul[] = "[listener]\naddress = 1\0\n";
	char			*big;

	assert_null(config_parse("t.conf", nul, sizeof(nul) - 1, &e));
	assert_true(has_error(&e, "NUL"));
	config_errors_free(&e);

	/* A very long line and many sections must not crash. */
	big = malloc(200000);
	memset(big, '[', 199999);
	big[199999] = '\0';
	assert_null(parse(big, &e));
	assert_true(e.n > 0);
	config_errors_free(&e);
	free(big);

	assert_null(parse("[backend x]\nservers = "
	    "1.1.1.1:1 1.1.1.1:2 1.1.1.1:3 1.1.1.1:4 1.1.1.1:5 1.1.1.1:6 "
	    "1.1.1.1:7 1.1.1.1:8 1.1.1.1:9 1.1.1.1:10 1.1.1.1:11 1.1.1.1:12 "
	    "1.1.1.1:13 1.1.1.1:14 1.1.1.1:15 1.1.1.1:16 1.1.1.1:17 "
	    "1.1.1.1:18 1.1.1.1:19 1.1.1.1:20 1.1.1.1:21 1.1.1.1:22 "
	    "1.1.1.1:23 1.1.1.1:24 1.1.1.1:25 1.1.1.1:26 1.1.1.1:27 "
	    "1.1.1.1:28 1.1.1.1:29 1.1.1.1:30 1.1.1.1:31 1.1.1.1:32 "
	    "1.1.1.1:33 1.1.1.1:34 1.1.1.1:35 1.1.1.1:36 1.1.1.1:37 "
	    "1.1.1.1:38 1.1.1.1:39 1.1.1.1:40 1.1.1.1:41 1.1.1.1:42 "
	    "1.1.1.1:43 1.1.1.1:44 1.1.1.1:45 1.1.1.1:46 1.1.1.1:47 "
	    "1.1.1.1:48 1.1.1.1:49 1.1.1.1:50 1.1.1.1:51 1.1.1.1:52 "
	    "1.1.1.1:53 1.1.1.1:54 1.1.1.1:55 1.1.1.1:56 1.1.1.1:57 "
	    "1.1.1.1:58 1.1.1.1:59 1.1.1.1:60 1.1.1.1:61 1.1.1.1:62 "
	    "1.1.1.1:63 1.1.1.1:64 1.1.1.1:65\n", &e));
	assert_true(has_error(&e, "too many servers"));
	config_errors_free(&e);
}

static void
test_values(void **state)
{
	int	ms, b;
	size_t	sz;
	char	*host = NULL;
	uint16_t port;

	assert_int_equal(config_parse_duration_ms("1.5s", &ms), 0);
	assert_int_equal(ms, 1500);
	assert_int_equal(config_parse_duration_ms("2m", &ms), 0);
	assert_int_equal(ms, 120000);
	assert_int_equal(config_parse_duration_ms("10", &ms), 0);
	assert_int_equal(ms, 10000);
	assert_int_equal(config_parse_duration_ms("-1s", &ms), -1);
	assert_int_equal(config_parse_duration_ms("5 parsecs", &ms), -1);
	assert_int_equal(config_parse_duration_ms("99999999h", &ms), -1);
	assert_int_equal(config_parse_size("64k", &sz), 0);
	assert_int_equal(sz, 65536);
	assert_int_equal(config_parse_size("1g", &sz), 0);
	assert_int_equal(sz, 1024UL * 1024 * 1024);
	assert_int_equal(config_parse_size("k", &sz), -1);
	assert_int_equal(config_parse_bool("On", &b), 0);
	assert_int_equal(b, 1);
	assert_int_equal(config_parse_bool("maybe", &b), -1);
	assert_int_equal(config_split_hostport("[::1]:80", &host, &port), 0);
	assert_string_equal(host, "::1");
	assert_int_equal(port, 80);
	free(host);
	assert_int_equal(config_split_hostport("::1:80", &host, &port), -1);
	assert_int_equal(config_split_hostport("a:99999", &host, &port), -1);
	assert_int_equal(config_split_hostport("a b:1", &host, &port), -1);
}

static const char tls_good[] =
    "[listener]\n"
    "header_timeout = 2s\n"			/* shared only: not a socket */
    "[listener https]\n"
    "address = 0.0.0.0:9200\n"
    "tls_cert = /etc/sw/full.pem\n"		/* 5 */
    "tls_min_version = 1.3\n"
    "tls_ciphers = ECDHE-RSA-AES128-GCM-SHA256\n"
    "[listener plain]\n"
    "address = 127.0.0.1:9280\n"
    "[backend source]\n"			/* 10 */
    "servers = capture.example:9200\n"
    "weight = 1\n"
    "tls = on\n"
    "tls_ca_file = /etc/sw/ca.pem\n"		/* 14 */
    "tls_server_name = capture.internal\n"
    "tls_cert = /etc/sw/client.pem\n"
    "tls_key = /etc/sw/client.key\n"		/* 17 */
    "[backend target]\n"
    "servers = 10.0.0.2:9200\n"
    "weight = 0\n"
    "tls = on\n"
    "tls_verify = off\n";

static void
test_tls_keys(void **state)
{
	struct config_errors	 e = { 0 };
	struct sw_config	*c = parse(tls_good, &e), *k;

	assert_non_null(c);
	assert_int_equal(e.n, 0);
	assert_int_equal(c->header_timeout_ms, 2000);
	/* The unnamed [listener] with no address is options only. */
	assert_int_equal(c->nlisteners, 2);
	assert_string_equal(c->listeners[0].name, "https");
	assert_true(c->listeners[0].tls.enabled);
	assert_string_equal(c->listeners[0].tls.cert, "/etc/sw/full.pem");
	assert_null(c->listeners[0].tls.key);	/* key in the cert file */
	assert_int_equal(c->listeners[0].tls.cert_line, 5);
	assert_int_equal(c->listeners[0].tls.min_version, 13);
	assert_string_equal(c->listeners[0].tls.ciphers,
	    "ECDHE-RSA-AES128-GCM-SHA256");
	assert_string_equal(c->listeners[1].name, "plain");
	assert_string_equal(c->listeners[1].address, "127.0.0.1:9280");
	assert_false(c->listeners[1].tls.enabled);
	assert_int_equal(c->listeners[1].tls.min_version, 12);	/* default */

	assert_true(c->backends[0].tls.enabled);
	assert_int_equal(c->backends[0].tls.verify, 1);		/* default */
	assert_string_equal(c->backends[0].tls.ca_file, "/etc/sw/ca.pem");
	assert_int_equal(c->backends[0].tls.ca_line, 14);
	assert_string_equal(c->backends[0].tls.server_name, "capture.internal");
	assert_int_equal(c->backends[0].tls.key_line, 17);
	assert_true(c->backends[1].tls.enabled);
	assert_int_equal(c->backends[1].tls.verify, 0);
	assert_null(c->backends[1].tls.ca_file);		/* system store */

	/* A clone owns its own copies. */
	k = config_clone(c);
	assert_non_null(k);
	assert_int_equal(k->nlisteners, 2);
	assert_ptr_not_equal(k->listeners[0].tls.cert, c->listeners[0].tls.cert);
	assert_string_equal(k->listeners[0].tls.cert, "/etc/sw/full.pem");
	assert_ptr_not_equal(k->backends[0].tls.ca_file,
	    c->backends[0].tls.ca_file);
	assert_string_equal(k->backends[0].tls.server_name, "capture.internal");
	config_unref(c);
	assert_string_equal(k->listeners[1].name, "plain");
	config_unref(k);
}

static void
test_tls_errors(void **state)
{
	struct config_errors	 e = { 0 };
	const char		*bad =
	    "[listener]\n"
	    "address = 127.0.0.1:1\n"
	    "tls_key = /k.pem\n"			/* 3: no cert */
	    "tls_min_version = 1.1\n"			/* 4 */
	    "[listener admin]\n"			/* 5 */
	    "address = 127.0.0.1:1\n"			/* same address */
	    "header_timeout = 1s\n"			/* 7: shared option */
	    "tls_verify = off\n"			/* 8: backend only */
	    "[listener admin]\n"			/* 9: twice */
	    "[listener bad name]\n"			/* 10 */
	    "[listener nowhere]\n"			/* 11: no address */
	    "[backend a]\n"				/* 12 */
	    "servers = 127.0.0.1:2\n"
	    "weight = 1\n"
	    "tls_ca_file = /ca.pem\n"			/* without tls = on */
	    "[backend b]\n"				/* 16 */
	    "servers = 127.0.0.1:3\n"
	    "weight = 1\n"
	    "tls = sometimes\n"				/* 19 */
	    "tls_server_name = bad name\n"		/* 20 */
	    "tls_verify = perhaps\n";			/* 21 */

	assert_null(parse(bad, &e));
	assert_true(has_error(&e, "t.conf:1: [listener] has tls_* keys but no "
	    "tls_cert"));
	assert_true(has_error(&e, "t.conf:4: tls_min_version: \"1.1\""));
	assert_true(has_error(&e, "t.conf:5: listeners (unnamed) and admin have "
	    "the same address"));
	assert_true(has_error(&e, "t.conf:7: header_timeout: only address and "
	    "tls_* keys go in [listener admin]"));
	assert_true(has_error(&e, "t.conf:8: tls_verify: only address"));
	assert_true(has_error(&e, "t.conf:9: listener admin defined twice"));
	assert_true(has_error(&e, "t.conf:10: listener name \"bad name\""));
	assert_true(has_error(&e, "t.conf:11: [listener nowhere] address is "
	    "missing"));
	assert_true(has_error(&e, "t.conf:12: [backend a] has tls_* keys but "
	    "not tls = on"));
	assert_true(has_error(&e, "t.conf:19: tls: \"sometimes\""));
	assert_true(has_error(&e, "t.conf:20: tls_server_name: \"bad name\""));
	assert_true(has_error(&e, "t.conf:21: tls_verify: \"perhaps\""));
	config_errors_free(&e);

	assert_null(parse("[listener]\naddress = 127.0.0.1:1\n"
	    "[backend a]\nservers = 127.0.0.1:2\nweight = 1\ntls = on\n"
	    "tls_key = /k.pem\n", &e));
	assert_true(has_error(&e, "[backend a] has tls_key but no tls_cert"));
	config_errors_free(&e);

	/* More listeners than sockets we keep per worker. */
	{
		char	buf[4096];
		size_t	n = 0;

		for (int i = 0; i <= SW_MAX_LISTENERS; i++)
			n += (size_t)snprintf(buf + n, sizeof(buf) - n,
			    "[listener l%d]\naddress = 127.0.0.1:%d\n", i, i + 1);
		snprintf(buf + n, sizeof(buf) - n,
		    "[backend a]\nservers = 127.0.0.1:2\nweight = 1\n");
		assert_null(parse(buf, &e));
		assert_true(has_error(&e, "too many listeners"));
		config_errors_free(&e);
	}
}

/* [routing], [drain], [affinity] and the recycling keys. */
static void
test_moving_keys(void **state)
{
	struct config_errors	 e = { 0 };
	struct sw_config	*c, *k;
	char			 text[1024];

	c = parse(good, &e);
	assert_non_null(c);
	assert_int_equal(c->policy, POLICY_REQUEST);
	assert_null(c->sticky_header);
	assert_int_equal(c->drain_spread_ms, 5000);
	assert_int_equal(c->drain_on_weight_zero, 1);
	assert_int_equal(c->max_connection_age_ms, 0);
	assert_int_equal(c->max_requests_per_conn, 0);
	assert_int_equal(c->affinity, 1);
	config_unref(c);

	snprintf(text, sizeof(text), "%s[routing]\npolicy = sticky\n"
	    "sticky_key = header:X-Opaque-Id\n[drain]\nspread = 2s\n"
	    "on_weight_zero = no\n[affinity]\nttl = 5m\nmax_ids = 100\n"
	    "[listener]\nmax_connection_age = 1h\n"
	    "max_requests_per_connection = 1000\n", good);
	c = parse(text, &e);
	assert_non_null(c);
	assert_int_equal(c->policy, POLICY_STICKY);
	assert_string_equal(c->sticky_header, "X-Opaque-Id");
	assert_int_equal(c->drain_spread_ms, 2000);
	assert_int_equal(c->drain_on_weight_zero, 0);
	assert_int_equal(c->affinity_ttl_ms, 300000);
	assert_int_equal(c->affinity_max, 100);
	assert_int_equal(c->max_connection_age_ms, 3600000);
	assert_int_equal(c->max_requests_per_conn, 1000);
	k = config_clone(c);		/* the header name is copied */
	assert_non_null(k);
	config_unref(c);
	assert_string_equal(k->sticky_header, "X-Opaque-Id");
	config_unref(k);

	snprintf(text, sizeof(text), "%s[routing]\npolicy = random\n"
	    "sticky_key = cookie:x\nsticky_key = header:\n"
	    "sticky_key = header:a b\n[drain]\nspread = soon\n"
	    "on_weight_zero = maybe\n[affinity]\nttl = 0\nmax_ids = 1\n"
	    "[listener]\nmax_requests_per_connection = -1\n", good);
	assert_null(parse(text, &e));
	assert_true(has_error(&e, "t.conf:16: policy"));
	assert_true(has_error(&e, "t.conf:17: sticky_key"));
	assert_true(has_error(&e, "t.conf:18: sticky_key"));
	assert_true(has_error(&e, "t.conf:19: sticky_key"));
	assert_true(has_error(&e, "t.conf:21: spread"));
	assert_true(has_error(&e, "t.conf:22: on_weight_zero"));
	assert_true(has_error(&e, "t.conf:25: max_ids"));
	assert_true(has_error(&e, "[affinity] ttl must be greater than 0"));
	assert_true(has_error(&e, "t.conf:27: max_requests_per_connection"));
	config_errors_free(&e);
}

/* [aws]: keys parsed, cloned, checked as a whole, errors with lines. */
static void
test_aws(void **state)
{
	struct config_errors	 e = { 0 };
	struct sw_config	*c, *k;
	char			 text[2048];

	snprintf(text, sizeof(text), "%s[aws]\nsync = push\nregion = eu-west-1\n"
	    "listener_arn = arn:aws:elasticloadbalancing:eu-west-1:1:listener/app/a/1/2\n"
	    "rule_arn =\nsource_target_group = ALBSourceProxy-dev-TG\n"
	    "target_target_group = ALBTargetProxy-dev-TG\npull_interval = 5s\n"
	    "ecs_cluster = migration-dev\nsource_service = capture-proxy\n"
	    "target_service = target-proxy\n", good);
	c = parse(text, &e);
	assert_non_null(c);
	assert_int_equal(c->aws.sync, AWS_SYNC_PUSH);
	assert_string_equal(c->aws.region, "eu-west-1");
	assert_null(c->aws.rule_arn);		/* empty means unset */
	assert_string_equal(c->aws.target_tg, "ALBTargetProxy-dev-TG");
	assert_int_equal(c->aws.pull_interval_ms, 5000);
	assert_int_equal(c->aws.request_timeout_ms, 10000);	/* default */
	k = config_clone(c);
	assert_non_null(k);
	assert_ptr_not_equal(k->aws.ecs_cluster, c->aws.ecs_cluster);
	assert_string_equal(k->aws.ecs_cluster, "migration-dev");
	config_unref(c);
	config_unref(k);

	snprintf(text, sizeof(text), "%s[aws]\nsync = sometimes\nregion = us-east-1.evil.com/\n"
	    "listener_arn = arn:aws:elasticloadbalancing:x:1:targetgroup/a/1\n"
	    "ecs_cluster = c\ncolour = blue\npull_interval = soon\n", good);
	assert_null(parse(text, &e));
	assert_true(has_error(&e, "t.conf:16: sync: \"sometimes\" is not off, push or pull"));
	assert_true(has_error(&e, "is not a listener ARN"));
	assert_true(has_error(&e, "t.conf:20: unknown key \"colour\" in [aws]"));
	assert_true(has_error(&e, "t.conf:21: pull_interval"));
	assert_true(has_error(&e, "is not an AWS region name"));
	assert_true(has_error(&e, "ecs_cluster, source_service and target_service go together"));
	config_errors_free(&e);

	/* sync needs its rule and both groups. */
	snprintf(text, sizeof(text), "%s[aws]\nsync = pull\n", good);
	assert_null(parse(text, &e));
	assert_true(has_error(&e, "sync needs listener_arn"));
	assert_true(has_error(&e, "sync needs source_target_group"));
	config_errors_free(&e);
}

static void
test_ramp(void **state)
{
	struct config_errors	 e = { 0 };
	struct sw_config	*c;
	char			 text[2048];

	/* Defaults, as documented. */
	c = parse(good, &e);
	assert_non_null(c);
	assert_int_equal(c->ramp.nsteps, 6);
	assert_int_equal(c->ramp.steps[0], 1);
	assert_int_equal(c->ramp.steps[5], 100);
	assert_int_equal(c->ramp.step_interval_ms, 60000);
	assert_int_equal(c->ramp.check_interval_ms, 5000);
	assert_int_equal(c->ramp.min_requests, 100);
	assert_int_equal(c->ramp.failure_limit, 2);
	assert_int_equal(c->ramp.on_failure, RAMP_ON_FAILURE_ROLLBACK);
	config_unref(c);

	/* Test-friendly short intervals are accepted. */
	snprintf(text, sizeof(text), "%s[ramp]\nsteps = 10, 50,100\n"
	    "step_interval = 1s\ncheck_interval = 500ms\nmin_requests = 5\n"
	    "max_error_rate_delta = 0.5\nmax_p99_ratio = 1.5\n"
	    "max_connect_errors = 3\nfailure_limit = 1\non_failure = pause\n",
	    good);
	c = parse(text, &e);
	assert_non_null(c);
	assert_int_equal(c->ramp.nsteps, 3);
	assert_int_equal(c->ramp.steps[1], 50);
	assert_int_equal(c->ramp.step_interval_ms, 1000);
	assert_int_equal(c->ramp.check_interval_ms, 500);
	assert_true(c->ramp.max_error_rate_delta == 0.5);
	assert_true(c->ramp.max_p99_ratio == 1.5);
	assert_int_equal(c->ramp.max_connect_errors, 3);
	assert_int_equal(c->ramp.on_failure, RAMP_ON_FAILURE_PAUSE);
	config_unref(c);

	/* Every bad key named with FILE:LINE, all of them at once. */
	snprintf(text, sizeof(text), "%s[ramp]\nsteps = 10, 5, 100\n"
	    "max_p99_ratio = fast\non_failure = panic\nmin_requests = 0\n"
	    "colour = blue\nsteps = 10, 50\nstep_interval = soon\n"
	    "max_error_rate_delta = nan\n", good);
	assert_null(parse(text, &e));
	assert_true(has_error(&e, "t.conf:16: steps: percentages must be "
	    "1-100 and strictly increasing"));
	assert_true(has_error(&e, "t.conf:17: max_p99_ratio: \"fast\""));
	assert_true(has_error(&e, "t.conf:18: on_failure: \"panic\" is not "
	    "rollback or pause"));
	assert_true(has_error(&e, "t.conf:19: min_requests"));
	assert_true(has_error(&e, "t.conf:20: unknown key \"colour\" in "
	    "[ramp]"));
	assert_true(has_error(&e, "t.conf:21: steps: the last step must be "
	    "100"));
	assert_true(has_error(&e, "t.conf:22: step_interval"));
	assert_true(has_error(&e, "t.conf:23: max_error_rate_delta"));
	config_errors_free(&e);

	/* The semantic pass: a check interval longer than a step. */
	snprintf(text, sizeof(text), "%s[ramp]\nstep_interval = 1s\n"
	    "check_interval = 2s\n", good);
	assert_null(parse(text, &e));
	assert_true(has_error(&e, "[ramp] step_interval must be at least "
	    "500ms and check_interval 100ms up to step_interval"));
	config_errors_free(&e);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_errors_name_lines),
		cmocka_unit_test(test_semantic),
		cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_tls_keys),
		cmocka_unit_test(test_tls_errors),
		cmocka_unit_test(test_moving_keys),
		cmocka_unit_test(test_aws),
		cmocka_unit_test(test_ramp),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
