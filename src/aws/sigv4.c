/*
 * sigv4: AWS Signature Version 4 (canonical request, string to sign,
 * derived signing key, Authorization header) with OpenSSL's SHA-256 and
 * HMAC.  No state: every call builds its strings in a memory stream and
 * frees them before returning, and the secret never leaves the HMAC.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "switchover/aws/sigv4.h"

#define MAX_SIGNED_HEADERS	32
#define MAX_QUERY_PARAMS	64

/* Lower-case hex of n bytes. */
static void
hex(const unsigned char *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

void
sigv4_sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char	md[32];
	unsigned int	mdlen = sizeof(md);

	EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL);
	hex(md, sizeof(md), out);
}

void
sigv4_amzdate(time_t t, char out[17])
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm);
}

/* out = HMAC-SHA256(key, msg). */
static void
hmac(const void *key, size_t keylen, const char *msg, unsigned char out[32])
{
	unsigned char	tmp[32];
	unsigned int	len = sizeof(tmp);

	/* Through tmp: callers chain the key, so out may be the key itself. */
	HMAC(EVP_sha256(), key, (int)keylen, (const unsigned char *)msg,
	    strlen(msg), tmp, &len);
	memcpy(out, tmp, sizeof(tmp));
}

/* Order headers by lower-cased name, as the canonical request lists them. */
static int
header_cmp(const void *a, const void *b)
{
	const struct sigv4_header *x = *(const struct sigv4_header *const *)a;
	const struct sigv4_header *y = *(const struct sigv4_header *const *)b;

	return strcasecmp(x->name, y->name);
}

/* Order "k=v" parameters by key, then by value (byte order, encoded). */
static int
param_cmp(const void *a, const void *b)
{
	const char *x = *(const char *const *)a, *y = *(const char *const *)b;
	size_t kx = strcspn(x, "="), ky = strcspn(y, "=");
	int r = memcmp(x, y, kx < ky ? kx : ky);

	if (r != 0 || kx != ky)
		return r != 0 ? r : (kx < ky ? -1 : 1);
	return strcmp(x + kx, y + ky);
}

/* Header value trimmed, inner runs of spaces collapsed to one. */
static void
put_value(FILE *f, const char *v)
{
	int space = 0;

	while (*v == ' ' || *v == '\t')
		v++;
	for (; *v; v++) {
		if (*v == ' ' || *v == '\t') {
			space = 1;
			continue;
		}
		if (space)
			fputc(' ', f);
		space = 0;
		fputc(*v, f);
	}
}

/* The sorted query: every parameter gets "=", even when it has no value. */
static int
put_query(FILE *f, const char *query)
{
	char	*copy, *tok, *save = NULL, *params[MAX_QUERY_PARAMS];
	size_t	 n = 0;

	if (query == NULL || *query == '\0')
		return 0;
	if ((copy = strdup(query)) == NULL)
		return -1;
	for (tok = strtok_r(copy, "&", &save); tok != NULL;
	    tok = strtok_r(NULL, "&", &save)) {
		if (n == MAX_QUERY_PARAMS) {
			free(copy);
			return -1;
		}
		params[n++] = tok;
	}
	qsort(params, n, sizeof(*params), param_cmp);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s%s%s", i ? "&" : "", params[i],
		    strchr(params[i], '=') ? "" : "=");
	free(copy);
	return 0;
}

/* Write "a;b;c", the signed header names, lower case. */
static void
put_signed_names(FILE *f, const struct sigv4_header **h, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (i)
			fputc(';', f);
		for (const char *c = h[i]->name; *c; c++)
			fputc(tolower((unsigned char)*c), f);
	}
}

int
sigv4_authorization(const struct sigv4_request *req,
    const struct sigv4_scope *sc, char *out, size_t outlen)
{
	const struct sigv4_header	*sorted[MAX_SIGNED_HEADERS];
	FILE				*f = NULL;
	char				*creq = NULL, *names = NULL, *key = NULL;
	size_t				 creqlen = 0, nameslen = 0;
	char				 payload_hash[65], creq_hash[65];
	char				 date[9], sts[512], sig[65];
	unsigned char			 k[32], mac[32];
	int				 n, rc = -1;

	if (req->nheaders > MAX_SIGNED_HEADERS || strlen(sc->amzdate) != 16)
		return -1;
	for (size_t i = 0; i < req->nheaders; i++) {
		if (req->headers[i].name == NULL || *req->headers[i].name == '\0')
			return -1;
		sorted[i] = &req->headers[i];
	}
	qsort(sorted, req->nheaders, sizeof(*sorted), header_cmp);

	/* Canonical request. */
	if ((f = open_memstream(&names, &nameslen)) == NULL)
		goto fail;
	put_signed_names(f, sorted, req->nheaders);
	if (fclose(f) != 0)
		goto fail;
	if ((f = open_memstream(&creq, &creqlen)) == NULL)
		goto fail;
	fprintf(f, "%s\n%s\n", req->method, req->path);
	if (put_query(f, req->query) == -1) {
		fclose(f);
		goto fail;
	}
	fputc('\n', f);
	for (size_t i = 0; i < req->nheaders; i++) {
		for (const char *c = sorted[i]->name; *c; c++)
			fputc(tolower((unsigned char)*c), f);
		fputc(':', f);
		put_value(f, sorted[i]->value);
		fputc('\n', f);
	}
	sigv4_sha256_hex(req->payload != NULL ? req->payload : "",
	    req->payload_len, payload_hash);
	fprintf(f, "\n%s\n%s", names, payload_hash);
	if (fclose(f) != 0)
		goto fail;
	sigv4_sha256_hex(creq, creqlen, creq_hash);

	/* String to sign, signing key, signature. */
	memcpy(date, sc->amzdate, 8);
	date[8] = '\0';
	n = snprintf(sts, sizeof(sts), "AWS4-HMAC-SHA256\n%s\n%s/%s/%s/aws4_request\n%s",
	    sc->amzdate, date, sc->region, sc->service, creq_hash);
	if (n < 0 || (size_t)n >= sizeof(sts))
		goto fail;
	if (asprintf(&key, "AWS4%s", sc->secret_key) == -1) {
		key = NULL;
		goto fail;
	}
	hmac(key, strlen(key), date, k);
	hmac(k, sizeof(k), sc->region, k);
	hmac(k, sizeof(k), sc->service, k);
	hmac(k, sizeof(k), "aws4_request", k);
	hmac(k, sizeof(k), sts, mac);
	hex(mac, sizeof(mac), sig);

	n = snprintf(out, outlen, "AWS4-HMAC-SHA256 Credential=%s/%s/%s/%s/"
	    "aws4_request, SignedHeaders=%s, Signature=%s", sc->access_key,
	    date, sc->region, sc->service, names, sig);
	if (n >= 0 && (size_t)n < outlen)
		rc = 0;
fail:
	if (key != NULL) {
		OPENSSL_cleanse(key, strlen(key));
		free(key);
	}
	OPENSSL_cleanse(k, sizeof(k));
	free(creq);
	free(names);
	return rc;
}
