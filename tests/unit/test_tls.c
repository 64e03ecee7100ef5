/*
 * Unit tests for tls: contexts built from a config (certificates made
 * here, in memory, written to a temporary directory), every refusal
 * named FILE:LINE, contexts shared by clones, and the log rate limit.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "switchover/config.h"
#include "switchover/log.h"
#include "switchover/tls.h"

static char dir[64];

/* Write a fresh P-256 key to path; returns it. */
static EVP_PKEY *
write_key(const char *path)
{
	EVP_PKEY	*k = EVP_EC_gen("P-256");
	FILE		*f = fopen(path, "w");

	assert_non_null(k);
	assert_non_null(f);
	assert_int_equal(PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL), 1);
	fclose(f);
	return k;
}

/* Write a self-signed certificate for key k to path. */
static void
write_cert(const char *path, EVP_PKEY *k)
{
	X509	*x = X509_new();
	FILE	*f = fopen(path, "w");

	assert_non_null(f);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, k);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
	    (const unsigned char *)"localhost", -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	assert_true(X509_sign(x, k, EVP_sha256()) > 0);
	assert_int_equal(PEM_write_X509(f, x), 1);
	fclose(f);
	X509_free(x);
}

static int
setup(void **state)
{
	char		 p[128];
	EVP_PKEY	*a, *b;

	snprintf(dir, sizeof(dir), "/tmp/sw-tls-unit.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(p, sizeof(p), "%s/a.key", dir);
	a = write_key(p);
	snprintf(p, sizeof(p), "%s/a.crt", dir);
	write_cert(p, a);
	snprintf(p, sizeof(p), "%s/b.key", dir);
	b = write_key(p);
	snprintf(p, sizeof(p), "%s/junk.crt", dir);
	FILE *f = fopen(p, "w");
	fputs("-----BEGIN CERTIFICATE-----\nnot base64 at all\n", f);
	fclose(f);
	EVP_PKEY_free(a);
	EVP_PKEY_free(b);
	return 0;
}

static int
teardown(void **state)
{
	const char *names[] = { "a.key", "a.crt", "b.key", "junk.crt", "log" };
	char p[128];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, names[i]);
		unlink(p);
	}
	rmdir(dir);
	return 0;
}

/* Parse a config whose listener and backend use these TLS lines. */
static struct sw_config *
conf(const char *listener_tls, const char *backend_tls)
{
	char			 text[2048];
	struct config_errors	 e = { 0 };
	struct sw_config	*c;

	snprintf(text, sizeof(text),
	    "[listener]\n"
	    "address = 127.0.0.1:1\n"
	    "%s"
	    "[backend a]\n"
	    "servers = 127.0.0.1:2\n"
	    "weight = 1\n"
	    "%s", listener_tls, backend_tls);
	c = config_parse("t.conf", text, strlen(text), &e);
	assert_int_equal(e.n, 0);
	assert_non_null(c);
	return c;
}

/* Has an error containing needle? */
static int
has_error(const struct config_errors *e, const char *needle)
{
	for (size_t i = 0; i < e->n; i++)
		if (strstr(e->msgs[i], needle) != NULL)
			return 1;
	return 0;
}

static void
test_good_contexts(void **state)
{
	char			 l[256], b[512];
	struct config_errors	 e = { 0 };
	struct sw_config	*c, *k;
	SSL			*ssl;

	snprintf(l, sizeof(l), "tls_cert = %s/a.crt\ntls_key = %s/a.key\n",
	    dir, dir);
	snprintf(b, sizeof(b), "tls = on\ntls_ca_file = %s/a.crt\n"
	    "tls_cert = %s/a.crt\ntls_key = %s/a.key\n", dir, dir, dir);
	c = conf(l, b);
	assert_int_equal(tls_config_load(c, &e), 0);
	assert_int_equal(e.n, 0);
	assert_non_null(c->listeners[0].tls.ctx);
	assert_non_null(c->backends[0].tls.ctx);
	assert_int_equal(SSL_CTX_get_min_proto_version(c->listeners[0].tls.ctx),
	    TLS1_2_VERSION);
	assert_int_equal(SSL_CTX_get_verify_mode(c->backends[0].tls.ctx),
	    SSL_VERIFY_PEER);

	/* A clone shares the contexts, and outlives the original. */
	k = config_clone(c);
	assert_ptr_equal(k->listeners[0].tls.ctx, c->listeners[0].tls.ctx);
	config_unref(c);
	ssl = SSL_new(k->listeners[0].tls.ctx);
	assert_non_null(ssl);
	SSL_free(ssl);
	config_unref(k);

	/* A backend that checks nothing, TLS 1.3 only; a plain listener. */
	snprintf(b, sizeof(b), "tls = on\ntls_verify = off\ntls_min_version = 1.3\n");
	c = conf("", b);
	assert_int_equal(tls_config_load(c, &e), 0);
	assert_null(c->listeners[0].tls.ctx);		/* plain listener */
	assert_int_equal(SSL_CTX_get_verify_mode(c->backends[0].tls.ctx),
	    SSL_VERIFY_NONE);
	assert_int_equal(SSL_CTX_get_min_proto_version(c->backends[0].tls.ctx),
	    TLS1_3_VERSION);
	config_unref(c);
}

static void
test_refusals(void **state)
{
	/* %s is the certificate directory; every case must be refused. */
	static const struct {
		const char *listener, *backend, *errors[2];
	} cases[] = {
		{ "tls_cert = %s/none.crt\n", "tls = on\ntls_ca_file = /no/ca.pem\n",
		  { "t.conf:3: tls_cert: cannot read", "t.conf:8: tls_ca_file: "
		    "cannot read /no/ca.pem: No such file" } },
		{ "tls_cert = %s/junk.crt\n", "",
		  { "t.conf:3: tls_cert: ", "junk.crt is not a PEM certificate "
		    "chain" } },
		/* The key of another certificate. */
		{ "tls_cert = %1$s/a.crt\ntls_key = %1$s/b.key\n", "",
		  { "t.conf:4: tls_key: ", "b.key" } },
		/* No tls_key, and no key in the certificate file. */
		{ "tls_cert = %s/a.crt\n", "",
		  { "t.conf:3: tls_key: cannot use", "a.crt" } },
		{ "", "tls = on\ntls_ciphers = NOT-A-CIPHER\n",
		  { "t.conf:3: [backend a] tls_ciphers", "NOT-A-CIPHER" } },
	};
	struct config_errors	 e = { 0 };
	struct sw_config	*c;
	char			 l[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(l, sizeof(l), cases[i].listener, dir);
		c = conf(l, cases[i].backend);
		assert_int_equal(tls_config_load(c, &e), -1);
		for (size_t j = 0; j < 2; j++)
			if (!has_error(&e, cases[i].errors[j]))
				fail_msg("case %zu: no error \"%s\"", i,
				    cases[i].errors[j]);
		assert_null(c->listeners[0].tls.ctx);
		config_errors_free(&e);
		config_unref(c);
	}
}

static void
test_log_limit(void **state)
{
	char	 p[128], line[512];
	FILE	*f;
	int	 n = 0;

	snprintf(p, sizeof(p), "%s/log", dir);
	assert_int_equal(log_init(p, LOG_LVL_INFO), 0);
	for (int i = 0; i < 1000; i++)
		tls_log_limited("handshake failed %d", i);
	log_close();
	assert_non_null(f = fopen(p, "r"));
	while (fgets(line, sizeof(line), f) != NULL)
		n++;
	fclose(f);
	/* 10 a second; the loop may straddle one second boundary. */
	assert_true(n >= 10);
	assert_true(n <= 21);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_contexts),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_log_limit),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
