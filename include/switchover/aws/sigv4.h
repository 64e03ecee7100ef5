/*
 * sigv4: AWS Signature Version 4 for one HTTP request, with OpenSSL.
 *
 * Pure functions, no I/O, no globals: callable from any thread.  The
 * caller lists every header it will send and wants signed (host and
 * x-amz-date at least, x-amz-security-token with temporary credentials);
 * the path must already be URI-encoded (switchover only ever signs "/").
 */
#ifndef SWITCHOVER_AWS_SIGV4_H
#define SWITCHOVER_AWS_SIGV4_H

#include <stddef.h>
#include <time.h>

struct sigv4_header {
	const char	*name;
	const char	*value;
};

struct sigv4_request {
	const char			*method;
	const char			*path;		/* encoded, e.g. "/" */
	const char			*query;		/* encoded "k=v&k2=v2", or "" */
	const struct sigv4_header	*headers;
	size_t				 nheaders;
	const void			*payload;
	size_t				 payload_len;
};

struct sigv4_scope {
	const char	*access_key;
	const char	*secret_key;
	const char	*region;
	const char	*service;	/* signing name: "elasticloadbalancing", "ecs" */
	const char	*amzdate;	/* "20150830T123600Z", also sent as X-Amz-Date */
};

/*
 * Write the Authorization header's value ("AWS4-HMAC-SHA256 Credential=...")
 * into out.  0, or -1 if out is too small, a header has no name, or
 * memory ran out.
 */
int	sigv4_authorization(const struct sigv4_request *,
	    const struct sigv4_scope *, char *out, size_t outlen);
/* Hex SHA-256 of data, the payload hash of the canonical request. */
void	sigv4_sha256_hex(const void *data, size_t len, char out[65]);
/* t as an X-Amz-Date ("YYYYMMDDTHHMMSSZ", UTC). */
void	sigv4_amzdate(time_t t, char out[17]);

#endif
