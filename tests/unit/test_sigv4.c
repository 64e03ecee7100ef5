/*
 * Unit tests for sigv4: AWS's published test-suite vectors, and the same
 * requests (plus switchover's own, with a port and a session token)
 * signed by botocore at test time.  Vectors live in tests/unit/data/sigv4.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "switchover/aws/sigv4.h"

static const char *const vectors[] = {
	"get-vanilla", "get-vanilla-query-order-key-case", "post-vanilla-query",
	"post-x-www-form-urlencoded", "elbv2-modify-listener",
	"ecs-describe-services",
};

/* Read DIR/NAME.EXT whole; NULL if absent. */
static char *
slurp(const char *name, const char *ext)
{
	const char	*top = getenv("TOP_SRCDIR");
	char		 path[1024], *buf = NULL;
	size_t		 len = 0;
	FILE		*f, *m;
	int		 ch;

	snprintf(path, sizeof(path), "%s/tests/unit/data/sigv4/%s.%s",
	    top ? top : ".", name, ext);
	if ((f = fopen(path, "r")) == NULL)
		return NULL;
	m = open_memstream(&buf, &len);
	while ((ch = fgetc(f)) != EOF)
		fputc(ch, m);
	fclose(m);
	fclose(f);
	return buf;
}

/* Sign a .req in the suite's context; our Authorization value in out. */
static void
sign_req(char *raw, char *out, size_t outlen)
{
	struct sigv4_header	 h[16];
	struct sigv4_request	 r = { 0 };
	struct sigv4_scope	 sc = { "AKIDEXAMPLE",
	    "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "us-east-1", "service",
	    "20150830T123600Z" };
	char			*body, *line, *save = NULL, *target, *q;

	body = strstr(raw, "\n\n");
	assert_non_null(body);
	*body = '\0';
	body += 2;
	line = strtok_r(raw, "\n", &save);
	r.method = strtok_r(line, " ", &target);
	target = strtok_r(NULL, " ", &target);
	if ((q = strchr(target, '?')) != NULL)
		*q++ = '\0';
	r.path = target;
	r.query = q ? q : "";
	while ((line = strtok_r(NULL, "\n", &save)) != NULL) {
		char *colon = strchr(line, ':');

		assert_non_null(colon);
		*colon = '\0';
		h[r.nheaders].name = line;
		h[r.nheaders++].value = colon + 1;
	}
	r.headers = h;
	r.payload = body;
	r.payload_len = strlen(body);
	assert_int_equal(sigv4_authorization(&r, &sc, out, outlen), 0);
}

/* Every vector with a published .authz matches it exactly. */
static void
test_published_vectors(void **state)
{
	int checked = 0;

	for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		char *raw = slurp(vectors[i], "req");
		char *want = slurp(vectors[i], "authz");
		char  got[512];

		assert_non_null(raw);
		if (want != NULL) {
			want[strcspn(want, "\n")] = '\0';
			sign_req(raw, got, sizeof(got));
			assert_string_equal(got, want);
			checked++;
		}
		free(raw);
		free(want);
	}
	assert_int_equal(checked, 4);
}

/* Every vector, ours included, matches what botocore signs. */
static void
test_botocore_agrees(void **state)
{
	const char *top = getenv("TOP_SRCDIR");

	for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		char	 cmd[1024], want[512] = "", got[512], *raw;
		FILE	*p;
		int	 st;

		snprintf(cmd, sizeof(cmd), "python3 %s/tests/unit/botocore_sign.py "
		    "%s/tests/unit/data/sigv4/%s.req 2>&1", top ? top : ".",
		    top ? top : ".", vectors[i]);
		assert_non_null(p = popen(cmd, "r"));
		if (fgets(want, sizeof(want), p) == NULL)
			want[0] = '\0';
		st = pclose(p);
		if (WEXITSTATUS(st) == 77) {
			print_message("botocore is not installed: skipping the "
			    "botocore comparison\n");
			skip();
		}
		assert_int_equal(WEXITSTATUS(st), 0);
		want[strcspn(want, "\n")] = '\0';
		assert_non_null(raw = slurp(vectors[i], "req"));
		sign_req(raw, got, sizeof(got));
		assert_string_equal(got, want);
		free(raw);
	}
}

/* A changed byte anywhere signed changes the signature. */
static void
test_sensitivity(void **state)
{
	struct sigv4_header	 h[] = { { "Host", "127.0.0.1:5000" },
	    { "X-Amz-Date", "20150830T123600Z" } };
	struct sigv4_request	 r = { "POST", "/", "", h, 2, "a=1", 3 };
	struct sigv4_scope	 sc = { "AKID", "secret", "us-east-1", "ecs",
	    "20150830T123600Z" };
	char			 a[512], b[512], small[20];

	assert_int_equal(sigv4_authorization(&r, &sc, a, sizeof(a)), 0);
	h[0].value = "127.0.0.1:5001";
	assert_int_equal(sigv4_authorization(&r, &sc, b, sizeof(b)), 0);
	assert_string_not_equal(a, b);
	h[0].value = "127.0.0.1:5000";
	r.payload = "a=2";
	assert_int_equal(sigv4_authorization(&r, &sc, b, sizeof(b)), 0);
	assert_string_not_equal(a, b);
	assert_int_equal(sigv4_authorization(&r, &sc, small, sizeof(small)), -1);
	sc.amzdate = "2015";
	assert_int_equal(sigv4_authorization(&r, &sc, b, sizeof(b)), -1);
}

static void
test_helpers(void **state)
{
	char d[17], hx[65];

	sigv4_amzdate(1440938160, d);
	assert_string_equal(d, "20150830T123600Z");
	sigv4_sha256_hex("", 0, hx);
	assert_string_equal(hx, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b"
	    "934ca495991b7852b855");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_published_vectors),
		cmocka_unit_test(test_botocore_agrees),
		cmocka_unit_test(test_sensitivity),
		cmocka_unit_test(test_helpers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
