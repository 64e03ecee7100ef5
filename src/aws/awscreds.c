/*
 * awscreds: the SDKs' default credential chain, without blocking.
 *
 * Environment and shared files are read at once (small local files); the
 * ECS container endpoint and IMDSv2 are asked over awshttp, one step per
 * callback.  One fetch at a time: waiters queue on it and all hear its
 * result from the event loop.  Control thread only.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>
#include <event2/event.h>
#include <jansson.h>
#include <openssl/crypto.h>

#include "switchover/aws/awscreds.h"
#include "switchover/aws/awshttp.h"
#include "switchover/log.h"

#define REFRESH_MARGIN	300	/* seconds before expiry we stop using them */
#define META_TIMEOUT_MS	1000	/* the SDKs' metadata timeout */
#define ECS_HOST	"http://169.254.170.2"
#define IMDS_HOST	"http://169.254.169.254"

struct waiter {
	awscreds_cb	 cb;
	void		*arg;
	struct waiter	*next;
};

static struct {
	struct aws_creds	 cur;		/* access_key NULL: none */
	struct waiter		*waiters;
	int			 fetching;
	struct event_base	*base;
	char			 imds_token[256];
	char			*imds_base;
} C;

/* Free a credential set's strings, wiping the secret. */
static void
creds_clear(struct aws_creds *c)
{
	if (c->secret_key != NULL)
		OPENSSL_cleanse(c->secret_key, strlen(c->secret_key));
	if (c->token != NULL)
		OPENSSL_cleanse(c->token, strlen(c->token));
	free(c->access_key);
	free(c->secret_key);
	free(c->token);
	memset(c, 0, sizeof(*c));
	c->source = "none";
}

/* Take copies of the strings as the current credentials. */
static int
creds_set(const char *ak, const char *sk, const char *tok, time_t exp,
    const char *source)
{
	creds_clear(&C.cur);
	if ((C.cur.access_key = strdup(ak)) == NULL ||
	    (C.cur.secret_key = strdup(sk)) == NULL ||
	    (tok != NULL && *tok && (C.cur.token = strdup(tok)) == NULL)) {
		creds_clear(&C.cur);
		return -1;
	}
	C.cur.expires = exp;
	C.cur.source = source;
	return 0;
}

const struct aws_creds *
awscreds_current(void)
{
	if (C.cur.access_key == NULL)
		return NULL;
	if (C.cur.expires != 0 && C.cur.expires - REFRESH_MARGIN <= time(NULL))
		return NULL;
	return &C.cur;
}

const char *
awscreds_source(time_t *expires)
{
	*expires = C.cur.expires;
	return C.cur.source ? C.cur.source : "none";
}

/* Tell every waiter the outcome and forget them. */
static void
finish(const char *err)
{
	struct waiter *w = C.waiters;

	C.waiters = NULL;
	C.fetching = 0;
	if (err != NULL)
		log_warn("aws: no credentials: %s", err);
	else
		log_info("aws: credentials from %s%s", C.cur.source,
		    C.cur.expires ? " (temporary)" : "");
	while (w != NULL) {
		struct waiter *next = w->next;

		w->cb(err ? NULL : &C.cur, err, w->arg);
		free(w);
		w = next;
	}
}

/* "2026-11-24T10:00:00Z" -> time_t; 0 if unparsable. */
static time_t
parse_iso8601(const char *s)
{
	struct tm	 tm = { 0 };
	const char	*end;

	if (s == NULL || (end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm)) == NULL)
		return 0;
	return timegm(&tm);
}

/* Adopt {AccessKeyId, SecretAccessKey, Token, Expiration}; NULL or why not. */
static const char *
adopt_json(const char *body, const char *source)
{
	json_t		*j;
	const char	*ak, *sk, *tok, *exp;
	const char	*err = NULL;

	if ((j = json_loads(body, 0, NULL)) == NULL)
		return "credentials endpoint sent no JSON";
	ak = json_string_value(json_object_get(j, "AccessKeyId"));
	sk = json_string_value(json_object_get(j, "SecretAccessKey"));
	tok = json_string_value(json_object_get(j, "Token"));
	exp = json_string_value(json_object_get(j, "Expiration"));
	if (ak == NULL || sk == NULL)
		err = "credentials endpoint answer lacks AccessKeyId/SecretAccessKey";
	else if (creds_set(ak, sk, tok, parse_iso8601(exp), source) == -1)
		err = "out of memory";
	json_decref(j);
	return err;
}

/* Why a metadata answer is unusable, or NULL if it is a 200. */
static const char *
http_failure(const struct awshttp_resp *r, char *buf, size_t len)
{
	if (r->error != NULL)
		snprintf(buf, len, "%s", r->error);
	else if (r->status != 200)
		snprintf(buf, len, "HTTP %ld", r->status);
	else
		return NULL;
	return buf;
}

/*
 * The container endpoint or IMDS answered with credentials; arg names
 * the source ("container endpoint", "instance metadata").
 */
static void
creds_done(const struct awshttp_resp *r, void *arg)
{
	const char	*source = arg;
	char		 buf[300], why[400];
	const char	*err = http_failure(r, buf, sizeof(buf));

	if (err == NULL)
		err = adopt_json(r->body, source);
	if (err != NULL) {
		snprintf(why, sizeof(why), "%s: %s", source, err);
		finish(why);
	} else
		finish(NULL);
}

/* May a container-credentials URI be asked over plain HTTP? (SDK rule) */
static int
full_uri_allowed(const char *uri)
{
	static const char *const ok[] = { "http://127.", "http://localhost",
	    "http://[::1]", "http://169.254.170.2", "http://169.254.170.23",
	    "http://[fd00:ec2::23]" };

	if (strncmp(uri, "https://", 8) == 0)
		return 1;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (strncmp(uri, ok[i], strlen(ok[i])) == 0)
			return 1;
	return 0;
}

/* Ask the ECS container endpoint; 0 started, -1 failed (finish() called). */
static int
ecs_start(const char *rel, const char *full)
{
	struct curl_slist	*h = NULL;
	char			*url = NULL, tok[4096] = "";
	const char		*tf = getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
	const char		*te = getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN");

	if (rel != NULL && *rel) {
		if (asprintf(&url, "%s%s", ECS_HOST, rel) == -1)
			url = NULL;
	} else if (!full_uri_allowed(full)) {
		finish("AWS_CONTAINER_CREDENTIALS_FULL_URI must be https or a "
		    "loopback/ECS address");
		return -1;
	} else
		url = strdup(full);
	if (tf != NULL && *tf) {
		FILE *f = fopen(tf, "r");

		if (f == NULL || fgets(tok, sizeof(tok), f) == NULL) {
			if (f != NULL)
				fclose(f);
			free(url);
			finish("cannot read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
			return -1;
		}
		fclose(f);
		tok[strcspn(tok, "\r\n")] = '\0';
	} else if (te != NULL)
		snprintf(tok, sizeof(tok), "%s", te);
	if (tok[0] != '\0') {
		char *hdr = NULL;

		if (asprintf(&hdr, "Authorization: %s", tok) != -1) {
			h = curl_slist_append(h, hdr);
			OPENSSL_cleanse(hdr, strlen(hdr));
			free(hdr);
		}
		OPENSSL_cleanse(tok, sizeof(tok));
	}
	if (url == NULL || awshttp_send("GET", url, h, NULL, 0, 5000, creds_done,
	    (void *)"container endpoint") == -1) {
		free(url);
		finish("cannot start the container credentials request");
		return -1;
	}
	free(url);
	return 0;
}

/* GET an IMDS path with the session token. */
static int
imds_get(const char *path, awshttp_cb cb)
{
	struct curl_slist	*h = NULL;
	char			 url[512], hdr[320];

	snprintf(url, sizeof(url), "%s%s", C.imds_base, path);
	snprintf(hdr, sizeof(hdr), "X-aws-ec2-metadata-token: %s", C.imds_token);
	h = curl_slist_append(h, hdr);
	return awshttp_send("GET", url, h, NULL, 0, META_TIMEOUT_MS, cb,
	    (void *)"instance metadata");
}

/* IMDSv2 step 2: the role name. */
static void
imds_role_done(const struct awshttp_resp *r, void *arg)
{
	char		 buf[300], why[400], path[300];
	const char	*err = http_failure(r, buf, sizeof(buf));
	size_t		 n;

	if (err == NULL && ((n = strcspn(r->body, "\r\n")) == 0 || n > 128 ||
	    strchr(r->body, '/') != NULL))
		err = "no IAM role attached to the instance";
	if (err == NULL) {
		snprintf(path, sizeof(path),
		    "/latest/meta-data/iam/security-credentials/%.*s", (int)n,
		    r->body);
		if (imds_get(path, creds_done) == 0)	/* step 3 */
			return;
		err = "cannot start the request";
	}
	snprintf(why, sizeof(why), "instance metadata: %s", err);
	finish(why);
}

/* IMDSv2 step 1: the session token. */
static void
imds_token_done(const struct awshttp_resp *r, void *arg)
{
	char		 buf[300], why[400];
	const char	*err = http_failure(r, buf, sizeof(buf));

	if (err == NULL && (r->len == 0 || r->len >= sizeof(C.imds_token)))
		err = "bad session token";
	if (err == NULL) {
		snprintf(C.imds_token, sizeof(C.imds_token), "%s", r->body);
		if (imds_get("/latest/meta-data/iam/security-credentials/",
		    imds_role_done) == 0)
			return;
		err = "cannot start the request";
	}
	snprintf(why, sizeof(why), "instance metadata (IMDSv2): %s", err);
	finish(why);
}

/* Start IMDSv2: PUT for a token first, as IMDSv1 may be switched off. */
static void
imds_start(void)
{
	const char		*ep = getenv("AWS_EC2_METADATA_SERVICE_ENDPOINT");
	struct curl_slist	*h = NULL;
	char			 url[512];

	free(C.imds_base);
	C.imds_base = strdup(ep != NULL && *ep ? ep : IMDS_HOST);
	if (C.imds_base != NULL && C.imds_base[0] != '\0' &&
	    C.imds_base[strlen(C.imds_base) - 1] == '/')
		C.imds_base[strlen(C.imds_base) - 1] = '\0';
	snprintf(url, sizeof(url), "%s/latest/api/token",
	    C.imds_base ? C.imds_base : IMDS_HOST);
	h = curl_slist_append(h, "X-aws-ec2-metadata-token-ttl-seconds: 21600");
	if (C.imds_base == NULL || awshttp_send("PUT", url, h, "", 0,
	    META_TIMEOUT_MS, imds_token_done, NULL) == -1)
		finish("instance metadata: cannot start the request");
}

/* Path of a shared file: the env override or ~/.aws/NAME. */
static char *
shared_path(const char *env, const char *name)
{
	const char	*v = getenv(env), *home = getenv("HOME");
	char		*p = NULL;

	if (v != NULL && *v) {
		if (v[0] == '~' && v[1] == '/' && home != NULL) {
			if (asprintf(&p, "%s%s", home, v + 1) == -1)
				return NULL;
			return p;
		}
		return strdup(v);
	}
	if (home == NULL || asprintf(&p, "%s/.aws/%s", home, name) == -1)
		return NULL;
	return p;
}

/*
 * Call cb(key, value, arg) for each "key = value" line of [section] in the
 * INI file at path, in file order and in every occurrence of the section
 * (key and value trimmed; comments, lines without '=' and other sections
 * skipped), until cb returns non-zero.  1 if the section is there, 0 if
 * not or the file cannot be read.  Values may be secrets: the line
 * buffer is cleansed.
 */
static int
ini_each(const char *path, const char *section,
    int (*cb)(const char *, const char *, void *), void *arg)
{
	FILE	*f;
	char	 line[2048];
	int	 in = 0, found = 0, stop = 0;

	if (path == NULL || (f = fopen(path, "r")) == NULL)
		return 0;
	while (!stop && fgets(line, sizeof(line), f) != NULL) {
		char *s = line, *e, *eq, *v;

		while (isspace((unsigned char)*s))
			s++;
		e = s + strlen(s);
		while (e > s && isspace((unsigned char)e[-1]))
			*--e = '\0';
		if (*s == '[') {
			char *rb = strchr(s, ']');

			if (rb != NULL)
				*rb = '\0';
			in = strcmp(s + 1, section) == 0;
			found |= in;
			continue;
		}
		if (!in || *s == '#' || *s == ';' || (eq = strchr(s, '=')) == NULL)
			continue;
		for (e = eq; e > s && isspace((unsigned char)e[-1]); e--)
			;
		*e = '\0';
		for (v = eq + 1; isspace((unsigned char)*v); v++)
			;
		stop = cb(s, v, arg);
	}
	OPENSSL_cleanse(line, sizeof(line));
	fclose(f);
	return found;
}

/* The keys of a profile's credentials, each left alone when absent. */
struct ini_keys {
	char	ak[256], sk[256], tok[2048];
};

static int
keys_cb(const char *key, const char *value, void *arg)
{
	struct ini_keys *k = arg;

	if (strcmp(key, "aws_access_key_id") == 0)
		snprintf(k->ak, sizeof(k->ak), "%s", value);
	else if (strcmp(key, "aws_secret_access_key") == 0)
		snprintf(k->sk, sizeof(k->sk), "%s", value);
	else if (strcmp(key, "aws_session_token") == 0)
		snprintf(k->tok, sizeof(k->tok), "%s", value);
	return 0;
}

/* Shared credentials file, then config file, for AWS_PROFILE.  0 if found. */
static int
from_shared_files(void)
{
	const char	*profile = getenv("AWS_PROFILE");
	struct ini_keys	 k = { "", "", "" };
	char		 sect[300];
	char		*cred = shared_path("AWS_SHARED_CREDENTIALS_FILE", "credentials");
	char		*conf = shared_path("AWS_CONFIG_FILE", "config");
	int		 rc = -1;

	if (profile == NULL || *profile == '\0')
		profile = "default";
	ini_each(cred, profile, keys_cb, &k);
	if (k.ak[0] == '\0' || k.sk[0] == '\0') {
		/* The config file names profiles "profile NAME", but not default. */
		if (strcmp(profile, "default") == 0)
			snprintf(sect, sizeof(sect), "default");
		else
			snprintf(sect, sizeof(sect), "profile %s", profile);
		k.ak[0] = k.sk[0] = k.tok[0] = '\0';
		ini_each(conf, sect, keys_cb, &k);
	}
	if (k.ak[0] != '\0' && k.sk[0] != '\0')
		rc = creds_set(k.ak, k.sk, k.tok, 0, "shared file");
	OPENSSL_cleanse(&k, sizeof(k));
	free(cred);
	free(conf);
	return rc;
}

/* One key's first non-empty value that fits, for profile_value. */
struct ini_value {
	const char	*key;
	char		*out;
	size_t		 len;
	int		 found;
};

static int
value_cb(const char *key, const char *value, void *arg)
{
	struct ini_value *w = arg;

	if (strcmp(key, w->key) == 0 && *value != '\0' &&
	    (size_t)snprintf(w->out, w->len, "%s", value) < w->len)
		w->found = 1;
	return w->found;
}

/*
 * The value of key in [section] of the INI file at path, into out.
 * 0 if there, else -1.
 */
static int
profile_value(const char *path, const char *section, const char *key,
    char *out, size_t len)
{
	struct ini_value w = { key, out, len, 0 };

	ini_each(path, section, value_cb, &w);
	return w.found ? 0 : -1;
}

int
awscreds_region(char *out, size_t len)
{
	const char	*profile = getenv("AWS_PROFILE");
	char		*conf = shared_path("AWS_CONFIG_FILE", "config");
	char		 sect[300];
	int		 rc;

	if (profile == NULL || *profile == '\0')
		profile = "default";
	/* The config file names profiles "profile NAME", but not default. */
	if (strcmp(profile, "default") == 0)
		snprintf(sect, sizeof(sect), "default");
	else
		snprintf(sect, sizeof(sect), "profile %s", profile);
	rc = profile_value(conf, sect, "region", out, len);
	free(conf);
	return rc;
}

/* Walk the chain from the top (run from the loop, never inside fetch). */
static void
chain_start(evutil_socket_t fd, short what, void *arg)
{
	const char *ak = getenv("AWS_ACCESS_KEY_ID");
	const char *sk = getenv("AWS_SECRET_ACCESS_KEY");
	const char *rel = getenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
	const char *full = getenv("AWS_CONTAINER_CREDENTIALS_FULL_URI");
	const char *off = getenv("AWS_EC2_METADATA_DISABLED");

	if (ak != NULL && *ak && sk != NULL && *sk) {
		if (creds_set(ak, sk, getenv("AWS_SESSION_TOKEN"), 0,
		    "environment") == -1)
			finish("out of memory");
		else
			finish(NULL);
		return;
	}
	if (from_shared_files() == 0) {
		finish(NULL);
		return;
	}
	if ((rel != NULL && *rel) || (full != NULL && *full)) {
		ecs_start(rel, full);
		return;
	}
	if (off != NULL && strcasecmp(off, "true") == 0) {
		finish("none in the environment or shared files, and instance "
		    "metadata is disabled (AWS_EC2_METADATA_DISABLED)");
		return;
	}
	imds_start();
}

int
awscreds_fetch(struct event_base *base, awscreds_cb cb, void *arg)
{
	struct waiter *w;

	if ((w = calloc(1, sizeof(*w))) == NULL)
		return -1;
	w->cb = cb;
	w->arg = arg;
	w->next = C.waiters;
	C.waiters = w;
	if (C.fetching)
		return 0;
	C.base = base;
	if (event_base_once(base, -1, EV_TIMEOUT, chain_start, NULL,
	    &(struct timeval){ 0, 0 }) == -1) {
		C.waiters = w->next;
		free(w);
		return -1;
	}
	C.fetching = 1;
	return 0;
}

void
awscreds_reset(void)
{
	while (C.waiters != NULL) {
		struct waiter *next = C.waiters->next;

		free(C.waiters);
		C.waiters = next;
	}
	creds_clear(&C.cur);
	free(C.imds_base);
	C.imds_base = NULL;
	C.fetching = 0;
}
