/*
 * awsreq: one signed AWS API call, retried the way the SDKs retry:
 * throttling errors, 5xx and transport failures get capped exponential
 * backoff with full jitter; everything else is reported at once, with
 * AWS's error code and message verbatim.
 *
 * Control thread only; every call ends in exactly one callback, from the
 * event loop.
 */
#ifndef SWITCHOVER_AWS_AWSREQ_H
#define SWITCHOVER_AWS_AWSREQ_H

#include <stddef.h>

struct event_base;

enum aws_service {
	AWS_ELBV2 = 0,		/* Query API, XML answers */
	AWS_ECS,		/* JSON 1.1 */
	AWS_NSERVICES,
};

struct aws_result {
	int		 ok;		/* a 2xx answer */
	long		 status;	/* HTTP status, 0 if none came */
	const char	*body;		/* the answer, NUL-terminated */
	size_t		 len;
	const char	*code;		/* AWS error code, or ours (see below) */
	const char	*message;	/* AWS's message verbatim, or ours */
	int		 attempts;
};

/*
 * Codes of our own, for failures AWS did not name:
 * "TransportError" (no HTTP answer), "CredentialsError",
 * "InvalidResponse" (an error without a parsable body).
 */

typedef void (*awsreq_cb)(const struct aws_result *, void *arg);

struct awsreq_options {
	const char	*region;
	int		 timeout_ms;	/* per attempt */
	int		 max_attempts;
	int		 backoff_base_ms;
	int		 backoff_cap_ms;
};

/* Start the module on base (and awshttp).  0, or -1. */
int	awsreq_init(struct event_base *base, const struct awsreq_options *);
/* Drop calls in flight without calling back; free everything. */
void	awsreq_shutdown(void);
/*
 * Call SERVICE: ELBv2 with a form body ("Action=...&Version=..."), ECS
 * with the JSON body and the X-Amz-Target operation.  0, or -1 if the
 * call could not be queued (no callback then).
 */
int	awsreq_call(enum aws_service svc, const char *operation,
	    const char *body, awsreq_cb cb, void *arg);
/* The endpoint used for svc (env override, or the regional default). */
const char	*awsreq_endpoint(enum aws_service svc);
/* Is this AWS error code one the SDKs retry as throttling? */
int	awsreq_is_throttle(const char *code);

#endif
