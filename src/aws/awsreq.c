/*
 * awsreq: sign (sigv4), send (awshttp), read AWS's error (XML or JSON),
 * retry what is worth retrying, and report once.
 *
 * A call owns its body and result strings until its callback returns;
 * it is freed after, never inside the callback.  Retries wait on a
 * per-call timer: full jitter over min(cap, base * 2^attempt), the SDKs'
 * "standard" retry mode.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>
#include <event2/event.h>
#include <event2/util.h>
#include <jansson.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include "switchover/aws/awscreds.h"
#include "switchover/aws/awshttp.h"
#include "switchover/aws/awsreq.h"
#include "switchover/aws/sigv4.h"
#include "switchover/log.h"

struct call {
	enum aws_service	 svc;
	char			*operation;
	char			*body;
	awsreq_cb		 cb;
	void			*arg;
	int			 attempts;
	struct event		*retry;
	struct call		*next;
};

static const struct {
	const char	*signing_name;	/* SigV4 service */
	const char	*endpoint_env;	/* SDK's per-service override */
	const char	*host_prefix;	/* regional endpoint host */
	const char	*content_type;
} services[AWS_NSERVICES] = {
	[AWS_ELBV2] = { "elasticloadbalancing",
	    "AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2", "elasticloadbalancing",
	    "application/x-www-form-urlencoded; charset=utf-8" },
	[AWS_ECS] = { "ecs", "AWS_ENDPOINT_URL_ECS", "ecs",
	    "application/x-amz-json-1.1" },
};

static struct {
	struct event_base	*base;
	struct awsreq_options	 o;
	char			*region;
	char			*endpoint[AWS_NSERVICES];
	struct call		*calls;
} R;

int
awsreq_is_throttle(const char *code)
{
	static const char *const throttles[] = { "Throttling",
	    "ThrottlingException", "ThrottledException", "TooManyRequestsException",
	    "RequestLimitExceeded", "RequestThrottled",
	    "RequestThrottledException", "ProvisionedThroughputExceededException",
	    "SlowDown", "BandwidthLimitExceeded", "PriorRequestNotComplete",
	    "EC2ThrottledException", "TransactionInProgressException" };

	for (size_t i = 0; code != NULL && i < sizeof(throttles) /
	    sizeof(throttles[0]); i++)
		if (strcmp(code, throttles[i]) == 0)
			return 1;
	return 0;
}

const char *
awsreq_endpoint(enum aws_service svc)
{
	return R.endpoint[svc];
}

/* Unlink and free a call. */
static void
call_free(struct call *c)
{
	for (struct call **pp = &R.calls; *pp != NULL; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	if (c->retry != NULL)
		event_free(c->retry);
	free(c->operation);
	free(c->body);
	free(c);
}

/* Report the outcome and free the call. */
static void
call_done(struct call *c, struct aws_result *res)
{
	res->attempts = c->attempts;
	if (!res->ok)
		log_debug("aws: %s failed after %d attempt(s): %s: %s",
		    c->operation, c->attempts, res->code, res->message);
	c->cb(res, c->arg);
	call_free(c);
}

/* Find the first element named name (any namespace) under n. */
static xmlNode *
xml_find(xmlNode *n, const char *name)
{
	for (; n != NULL; n = n->next) {
		xmlNode *f;

		if (n->type == XML_ELEMENT_NODE &&
		    strcmp((const char *)n->name, name) == 0)
			return n;
		if ((f = xml_find(n->children, name)) != NULL)
			return f;
	}
	return NULL;
}

/*
 * Read AWS's error code and message from an XML (Query, or any 403) or
 * JSON (__type, message) body into code/msg.  0 if a code was found.
 */
static int
parse_error(const char *body, size_t len, char *code, size_t clen,
    char *msg, size_t mlen)
{
	const char	*p = body;
	int		 rc = -1;

	while (p < body + len && (*p == ' ' || *p == '\n' || *p == '\r' ||
	    *p == '\t'))
		p++;
	if (p < body + len && *p == '<') {
		xmlDoc	*doc = xmlReadMemory(body, (int)len, NULL, NULL,
		    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
		xmlNode	*root = doc ? xmlDocGetRootElement(doc) : NULL;
		xmlNode	*c = xml_find(root, "Code"), *m = xml_find(root, "Message");
		xmlChar	*s;

		if (c != NULL && (s = xmlNodeGetContent(c)) != NULL) {
			snprintf(code, clen, "%s", (char *)s);
			xmlFree(s);
			rc = code[0] ? 0 : -1;
		}
		if (m != NULL && (s = xmlNodeGetContent(m)) != NULL) {
			snprintf(msg, mlen, "%s", (char *)s);
			xmlFree(s);
		}
		xmlFreeDoc(doc);
	} else if (p < body + len && *p == '{') {
		json_t		*j = json_loadb(body, len, 0, NULL);
		const char	*t = json_string_value(json_object_get(j, "__type"));
		const char	*m = json_string_value(json_object_get(j, "message"));

		if (m == NULL)
			m = json_string_value(json_object_get(j, "Message"));
		if (t != NULL && *t) {
			/* "com.amazonaws.ecs#ThrottlingException" -> the name */
			const char *hash = strrchr(t, '#');

			snprintf(code, clen, "%s", hash ? hash + 1 : t);
			rc = 0;
		}
		if (m != NULL)
			snprintf(msg, mlen, "%s", m);
		json_decref(j);
	}
	return rc;
}

static void	call_attempt(struct call *);

/* The retry timer fired. */
static void
retry_cb(evutil_socket_t fd, short what, void *arg)
{
	call_attempt(arg);
}

/* Wait, then try again; or report res if attempts are spent. */
static void
call_retry(struct call *c, struct aws_result *res)
{
	unsigned int	 r;
	long		 cap;
	struct timeval	 tv;

	if (c->attempts >= R.o.max_attempts) {
		call_done(c, res);
		return;
	}
	cap = (long)R.o.backoff_base_ms << (c->attempts < 20 ? c->attempts : 20);
	if (cap > R.o.backoff_cap_ms)
		cap = R.o.backoff_cap_ms;
	evutil_secure_rng_get_bytes(&r, sizeof(r));
	cap = cap > 0 ? (long)(r % (unsigned long)(cap + 1)) : 0;
	tv.tv_sec = cap / 1000;
	tv.tv_usec = (cap % 1000) * 1000;
	log_info("aws: %s: %s: %s; retry %d in %ld ms", c->operation, res->code,
	    res->message, c->attempts, cap);
	if (evtimer_add(c->retry, &tv) == -1)
		call_done(c, res);
}

/* One HTTP answer: done, retry, or fail. */
static void
http_done(const struct awshttp_resp *r, void *arg)
{
	struct call		*c = arg;
	struct aws_result	 res = { 0 };
	char			 code[128] = "", msg[1024] = "";

	res.status = r->status;
	res.body = r->body;
	res.len = r->len;
	if (r->error != NULL) {
		snprintf(code, sizeof(code), "TransportError");
		snprintf(msg, sizeof(msg), "%s: %s", R.endpoint[c->svc], r->error);
	} else if (r->status >= 200 && r->status < 300) {
		res.ok = 1;
	} else if (parse_error(r->body, r->len, code, sizeof(code), msg,
	    sizeof(msg)) == -1) {
		snprintf(code, sizeof(code), "InvalidResponse");
		snprintf(msg, sizeof(msg), "HTTP %ld with an unreadable error "
		    "body (%zu bytes)", r->status, r->len);
	}
	res.code = code[0] ? code : NULL;
	res.message = msg;
	if (!res.ok && (r->error != NULL || r->status >= 500 ||
	    awsreq_is_throttle(code))) {
		call_retry(c, &res);
		return;
	}
	call_done(c, &res);
}

/* Authority ("host:port") and path of an endpoint URL. */
static void
split_url(const char *url, char *host, size_t hlen, const char **path)
{
	const char	*h = strstr(url, "://");
	size_t		 n;

	h = h ? h + 3 : url;
	n = strcspn(h, "/?");
	snprintf(host, hlen, "%.*s", (int)n, h);
	*path = h[n] == '/' ? h + n : "/";
}

/* Add "Name: value" to a curl header list (NULL on failure). */
static struct curl_slist *
add_header(struct curl_slist *l, const char *name, const char *value)
{
	struct curl_slist	*n;
	char			*s;

	if (asprintf(&s, "%s: %s", name, value) == -1) {
		curl_slist_free_all(l);
		return NULL;
	}
	if ((n = curl_slist_append(l, s)) == NULL)
		curl_slist_free_all(l);
	free(s);
	return n;
}

/* Sign with creds and send one attempt. */
static void
call_send(struct call *c, const struct aws_creds *cr)
{
	struct sigv4_header	 h[5];
	struct sigv4_request	 rq = { 0 };
	struct sigv4_scope	 sc;
	struct curl_slist	*l = NULL;
	struct aws_result	 res = { 0 };
	char			 date[17], host[256], authz[1024], target[160];
	const char		*path;
	size_t			 n = 0;

	sigv4_amzdate(time(NULL), date);
	split_url(R.endpoint[c->svc], host, sizeof(host), &path);
	h[n++] = (struct sigv4_header){ "Host", host };
	h[n++] = (struct sigv4_header){ "Content-Type",
	    services[c->svc].content_type };
	h[n++] = (struct sigv4_header){ "X-Amz-Date", date };
	if (cr->token != NULL)
		h[n++] = (struct sigv4_header){ "X-Amz-Security-Token", cr->token };
	if (c->svc == AWS_ECS) {
		snprintf(target, sizeof(target),
		    "AmazonEC2ContainerServiceV20141113.%s", c->operation);
		h[n++] = (struct sigv4_header){ "X-Amz-Target", target };
	}
	rq = (struct sigv4_request){ "POST", path, "", h, n, c->body,
	    strlen(c->body) };
	sc = (struct sigv4_scope){ cr->access_key, cr->secret_key, R.region,
	    services[c->svc].signing_name, date };
	if (sigv4_authorization(&rq, &sc, authz, sizeof(authz)) == -1)
		goto fail;
	for (size_t i = 0; i < n; i++)
		if ((l = add_header(l, h[i].name, h[i].value)) == NULL)
			goto fail;
	/* No "Expect: 100-continue" round trip for bodies over 1 KiB. */
	if ((l = curl_slist_append(l, "Expect:")) == NULL ||
	    (l = add_header(l, "Authorization", authz)) == NULL)
		goto fail;
	c->attempts++;
	if (awshttp_send("POST", R.endpoint[c->svc], l, c->body,
	    strlen(c->body), R.o.timeout_ms, http_done, c) == 0)
		return;
	l = NULL;
fail:
	curl_slist_free_all(l);
	res.code = "TransportError";
	res.message = "cannot build or queue the request";
	call_done(c, &res);
}

/* Credentials arrived (or not) for a call waiting on them. */
static void
creds_ready(const struct aws_creds *cr, const char *err, void *arg)
{
	struct call		*c = arg;
	struct aws_result	 res = { 0 };

	if (cr == NULL) {
		res.code = "CredentialsError";
		res.message = err;
		call_done(c, &res);
		return;
	}
	call_send(c, cr);
}

/* Make one attempt: with cached credentials, or after fetching them. */
static void
call_attempt(struct call *c)
{
	const struct aws_creds	*cr = awscreds_current();
	struct aws_result	 res = { 0 };

	if (cr != NULL) {
		call_send(c, cr);
		return;
	}
	if (awscreds_fetch(R.base, creds_ready, c) == -1) {
		res.code = "CredentialsError";
		res.message = "out of memory";
		call_done(c, &res);
	}
}

int
awsreq_call(enum aws_service svc, const char *operation, const char *body,
    awsreq_cb cb, void *arg)
{
	static const struct timeval	 now = { 0, 0 };
	struct call			*c;

	if (R.base == NULL || (c = calloc(1, sizeof(*c))) == NULL)
		return -1;
	c->svc = svc;
	c->cb = cb;
	c->arg = arg;
	c->next = R.calls;
	R.calls = c;
	if ((c->operation = strdup(operation)) == NULL ||
	    (c->body = strdup(body)) == NULL ||
	    (c->retry = evtimer_new(R.base, retry_cb, c)) == NULL ||
	    evtimer_add(c->retry, &now) == -1) {
		call_free(c);
		return -1;
	}
	/* The first attempt starts from the loop, so cb never runs in here. */
	return 0;
}

/* The endpoint for svc: AWS_ENDPOINT_URL_<SERVICE>, AWS_ENDPOINT_URL, or AWS's. */
static char *
endpoint_for(enum aws_service svc)
{
	const char	*v = getenv(services[svc].endpoint_env);
	char		*e = NULL;
	size_t		 n;

	if (v == NULL || *v == '\0')
		v = getenv("AWS_ENDPOINT_URL");
	if (v != NULL && *v != '\0') {
		if ((e = strdup(v)) != NULL && (n = strlen(e)) > 0 &&
		    e[n - 1] == '/' && strstr(e, "://") + 3 < e + n - 1)
			e[n - 1] = '\0';
		return e;
	}
	if (asprintf(&e, "https://%s.%s.amazonaws.com%s",
	    services[svc].host_prefix, R.region,
	    strncmp(R.region, "cn-", 3) == 0 ? ".cn" : "") == -1)
		return NULL;
	return e;
}

int
awsreq_init(struct event_base *base, const struct awsreq_options *o)
{
	R.base = base;
	R.o = *o;
	if ((R.region = strdup(o->region)) == NULL)
		goto fail;
	R.o.region = R.region;
	for (int s = 0; s < AWS_NSERVICES; s++)
		if ((R.endpoint[s] = endpoint_for((enum aws_service)s)) == NULL)
			goto fail;
	if (awshttp_init(base) == -1)
		goto fail;
	return 0;
fail:
	awsreq_shutdown();
	return -1;
}

void
awsreq_shutdown(void)
{
	while (R.calls != NULL)
		call_free(R.calls);
	awshttp_shutdown();
	awscreds_reset();
	free(R.region);
	for (int s = 0; s < AWS_NSERVICES; s++)
		free(R.endpoint[s]);
	memset(&R, 0, sizeof(R));
}
