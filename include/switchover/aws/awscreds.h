/*
 * awscreds: AWS credentials found the way the AWS SDKs find them:
 * environment, shared credentials/config files (AWS_PROFILE), ECS
 * container credentials, EC2 instance metadata (IMDSv2).
 *
 * Control thread only.  Temporary credentials are dropped five minutes
 * before they expire, so the next call fetches fresh ones.  Secrets are
 * never logged: only where credentials came from and when they expire.
 */
#ifndef SWITCHOVER_AWS_AWSCREDS_H
#define SWITCHOVER_AWS_AWSCREDS_H

#include <stddef.h>
#include <time.h>

struct event_base;

struct aws_creds {
	char		*access_key;
	char		*secret_key;
	char		*token;		/* NULL for long-term keys */
	time_t		 expires;	/* 0: never */
	const char	*source;	/* "environment", "shared file", ... */
};

/* Called once per fetch: creds, or NULL and why. */
typedef void (*awscreds_cb)(const struct aws_creds *creds, const char *err,
		    void *arg);

/* Cached credentials good for five more minutes, or NULL. */
const struct aws_creds	*awscreds_current(void);
/*
 * Walk the chain; cb runs from the event loop (never inside this call)
 * once credentials are found or every source failed.  Callers that ask
 * while a fetch is running share it.  0, or -1 if out of memory.
 */
int	awscreds_fetch(struct event_base *base, awscreds_cb cb, void *arg);
/* Where the last credentials came from ("none" yet), and their expiry. */
const char	*awscreds_source(time_t *expires);
/*
 * The region of the profile (AWS_PROFILE, else default) in the shared
 * config file (AWS_CONFIG_FILE, else ~/.aws/config), as the SDKs read
 * it.  0 with the region in out, or -1 when there is none.
 */
int	awscreds_region(char *out, size_t len);
/* Forget cached credentials and waiters (shutdown, tests). */
void	awscreds_reset(void);

#endif
