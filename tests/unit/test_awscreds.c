/*
 * Unit tests for awscreds: the chain's order (environment, then shared
 * files by profile), the expiry margin, and the answer from the loop,
 * never from inside awscreds_fetch().  Container and IMDS endpoints are
 * exercised over HTTP in aws_auth.sh.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <unistd.h>

#include "../../src/aws/awscreds.c"

static char dir[] = "/tmp/sw-creds.XXXXXX";
static char credpath[128], confpath[128];

static int
setup(void **state)
{
	FILE *f;

	assert_non_null(mkdtemp(dir));
	snprintf(credpath, sizeof(credpath), "%s/credentials", dir);
	snprintf(confpath, sizeof(confpath), "%s/config", dir);
	f = fopen(credpath, "w");
	fputs("[default]\naws_access_key_id = AKIDDEFAULT\n"
	    "aws_secret_access_key = s1\n\n[ops]\n  aws_access_key_id=AKIDOPS\n"
	    "aws_secret_access_key= s2 \naws_session_token = tok\n", f);
	fclose(f);
	f = fopen(confpath, "w");
	fputs("[profile cfgonly]\nregion = us-east-1\naws_access_key_id = AKIDCFG\n"
	    "aws_secret_access_key = s3\n[cfgonly]\naws_access_key_id = WRONG\n", f);
	fclose(f);
	setenv("AWS_SHARED_CREDENTIALS_FILE", credpath, 1);
	setenv("AWS_CONFIG_FILE", confpath, 1);
	unsetenv("AWS_ACCESS_KEY_ID");
	unsetenv("AWS_SECRET_ACCESS_KEY");
	unsetenv("AWS_SESSION_TOKEN");
	return 0;
}

static int
teardown(void **state)
{
	unlink(credpath);
	unlink(confpath);
	rmdir(dir);
	awscreds_reset();
	return 0;
}

static void
test_shared_files(void **state)
{
	unsetenv("AWS_PROFILE");
	assert_int_equal(from_shared_files(), 0);
	assert_string_equal(C.cur.access_key, "AKIDDEFAULT");
	assert_null(C.cur.token);
	setenv("AWS_PROFILE", "ops", 1);
	assert_int_equal(from_shared_files(), 0);
	assert_string_equal(C.cur.access_key, "AKIDOPS");
	assert_string_equal(C.cur.secret_key, "s2");
	assert_string_equal(C.cur.token, "tok");
	/* The config file's section is "profile NAME". */
	setenv("AWS_PROFILE", "cfgonly", 1);
	assert_int_equal(from_shared_files(), 0);
	assert_string_equal(C.cur.access_key, "AKIDCFG");
	setenv("AWS_PROFILE", "nobody", 1);
	assert_int_equal(from_shared_files(), -1);
	unsetenv("AWS_PROFILE");
}

static int	 calls;
static char	 seen[64];

static void
got(const struct aws_creds *c, const char *err, void *arg)
{
	calls++;
	snprintf(seen, sizeof(seen), "%s %s", c ? c->access_key : "none",
	    c ? c->source : err);
}

static void
test_env_first_and_async(void **state)
{
	struct event_base *base = event_base_new();

	setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "senv", 1);
	calls = 0;
	assert_int_equal(awscreds_fetch(base, got, NULL), 0);
	assert_int_equal(awscreds_fetch(base, got, NULL), 0);	/* shares it */
	assert_int_equal(calls, 0);	/* never inside the call */
	event_base_loop(base, EVLOOP_ONCE);
	assert_int_equal(calls, 2);
	assert_string_equal(seen, "AKIDENV environment");
	assert_non_null(awscreds_current());
	unsetenv("AWS_ACCESS_KEY_ID");
	unsetenv("AWS_SECRET_ACCESS_KEY");

	/* Nothing anywhere and IMDS off: a clear error. */
	setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent", 1);
	setenv("AWS_CONFIG_FILE", "/nonexistent", 1);
	setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
	assert_int_equal(awscreds_fetch(base, got, NULL), 0);
	event_base_loop(base, EVLOOP_ONCE);
	assert_int_equal(calls, 3);
	assert_non_null(strstr(seen, "none none in the environment"));
	setenv("AWS_SHARED_CREDENTIALS_FILE", credpath, 1);
	setenv("AWS_CONFIG_FILE", confpath, 1);
	event_base_free(base);
}

static void
test_expiry(void **state)
{
	assert_int_equal(creds_set("A", "B", "T", time(NULL) + 3600, "x"), 0);
	assert_non_null(awscreds_current());
	/* Within five minutes of expiry they are no longer handed out. */
	assert_int_equal(creds_set("A", "B", "T", time(NULL) + 200, "x"), 0);
	assert_null(awscreds_current());
	assert_int_equal(parse_iso8601("2015-08-30T12:36:00Z"), 1440938160);
	assert_int_equal(parse_iso8601("yesterday"), 0);
	assert_true(full_uri_allowed("https://creds.example.com/x"));
	assert_true(full_uri_allowed("http://127.0.0.1:8080/x"));
	assert_true(full_uri_allowed("http://169.254.170.23/v1/credentials"));
	assert_false(full_uri_allowed("http://creds.example.com/x"));
	assert_int_equal(adopt_json("{\"AccessKeyId\":\"K\"}", "x") != NULL, 1);
	assert_null(adopt_json("{\"AccessKeyId\":\"K\",\"SecretAccessKey\":\"S\","
	    "\"Token\":\"T\",\"Expiration\":\"2099-01-01T00:00:00Z\"}", "ecs"));
	assert_string_equal(C.cur.token, "T");
	assert_true(C.cur.expires > time(NULL));
}

/* Write text to the file name in the test's directory; its path in path. */
static void
put_file(char *path, size_t len, const char *name, const char *text)
{
	FILE	*f;

	snprintf(path, len, "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/*
 * Region from the config file, as the SDKs read it: the profile's section
 * ("default", else "profile NAME"; a bare [NAME] is not a profile there),
 * its "region" key, spaces around '=' or none; nothing when absent.
 */
static void
test_region(void **state)
{
	char	 path[160], buf[64];

	put_file(path, sizeof(path), "config-region",
	    "# a comment\n[default]\nregion = eu-west-1\noutput = json\n\n"
	    "[profile dev]\n  region=us-west-2  \n[dev2]\nregion = ap-south-1\n"
	    "[profile bare]\noutput = text\n[profile last]\nregion = sa-east-1");
	setenv("AWS_CONFIG_FILE", path, 1);
	unsetenv("AWS_PROFILE");
	assert_int_equal(awscreds_region(buf, sizeof(buf)), 0);
	assert_string_equal(buf, "eu-west-1");
	setenv("AWS_PROFILE", "dev", 1);
	assert_int_equal(awscreds_region(buf, sizeof(buf)), 0);
	assert_string_equal(buf, "us-west-2");
	setenv("AWS_PROFILE", "last", 1);	/* no newline at the end */
	assert_int_equal(awscreds_region(buf, sizeof(buf)), 0);
	assert_string_equal(buf, "sa-east-1");
	setenv("AWS_PROFILE", "dev2", 1);	/* [dev2] is not [profile dev2] */
	assert_int_equal(awscreds_region(buf, sizeof(buf)), -1);
	setenv("AWS_PROFILE", "bare", 1);	/* a profile without a region */
	assert_int_equal(awscreds_region(buf, sizeof(buf)), -1);
	setenv("AWS_PROFILE", "nobody", 1);
	assert_int_equal(awscreds_region(buf, sizeof(buf)), -1);
	setenv("AWS_CONFIG_FILE", "/nonexistent", 1);
	unsetenv("AWS_PROFILE");
	assert_int_equal(awscreds_region(buf, sizeof(buf)), -1);
	setenv("AWS_CONFIG_FILE", confpath, 1);
	unlink(path);
}

/* ini_each's callback for the test: "key=value;" appended to arg. */
struct ini_got {
	char	buf[512];
	int	calls, stop_after;
};

static int
ini_collect(const char *key, const char *value, void *arg)
{
	struct ini_got	*got = arg;
	size_t		 n = strlen(got->buf);

	snprintf(got->buf + n, sizeof(got->buf) - n, "%s=%s;", key, value);
	return ++got->calls == got->stop_after;
}

/*
 * The INI walker both readers share: the pairs of one section in file
 * order (every occurrence of the section), keys and values trimmed,
 * comments, key-less lines and other sections skipped; it stops when the
 * callback says so; 1 when the section is there, 0 when not or the file
 * cannot be read.
 */
static void
test_ini_each(void **state)
{
	char		 path[160];
	struct ini_got	 got;

	put_file(path, sizeof(path), "ini",
	    "top = before any section\n[a]\n  k1 =  v1  \n# k = comment\n"
	    "; k = comment\nno equals sign\nk2=v=2\n[b]\nk3 = v3\n"
	    "  [a]  \nk4 =\n[empty]\n[a b]\nk5 = v5");

	memset(&got, 0, sizeof(got));
	assert_int_equal(ini_each(path, "a", ini_collect, &got), 1);
	assert_string_equal(got.buf, "k1=v1;k2=v=2;k4=;");
	memset(&got, 0, sizeof(got));
	got.stop_after = 1;
	assert_int_equal(ini_each(path, "a", ini_collect, &got), 1);
	assert_string_equal(got.buf, "k1=v1;");
	memset(&got, 0, sizeof(got));
	assert_int_equal(ini_each(path, "a b", ini_collect, &got), 1);
	assert_string_equal(got.buf, "k5=v5;");	/* no newline at the end */
	memset(&got, 0, sizeof(got));
	assert_int_equal(ini_each(path, "empty", ini_collect, &got), 1);
	assert_int_equal(got.calls, 0);
	assert_int_equal(ini_each(path, "nobody", ini_collect, &got), 0);
	assert_int_equal(ini_each("/nonexistent", "a", ini_collect, &got), 0);
	assert_int_equal(ini_each(NULL, "a", ini_collect, &got), 0);
	assert_int_equal(got.calls, 0);
	unlink(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shared_files),
		cmocka_unit_test(test_env_first_and_async),
		cmocka_unit_test(test_expiry),
		cmocka_unit_test(test_region),
		cmocka_unit_test(test_ini_each),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
