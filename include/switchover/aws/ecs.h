/*
 * ecs: Amazon ECS (JSON 1.1) request bodies and answer parsing, with
 * jansson.  No I/O, like elbv2: aws.c sends and receives.
 */
#ifndef SWITCHOVER_AWS_ECS_H
#define SWITCHOVER_AWS_ECS_H

#include <stddef.h>

#define ECS_MAX_DESCRIBE	10	/* DescribeServices takes at most 10 */

struct ecs_service {
	int	desired, running, pending;
	char	status[32];		/* ACTIVE, DRAINING, INACTIVE */
};

/* DescribeServices body for n (<= 10) services; malloc'd, or NULL. */
char	*ecs_describe_body(const char *cluster, const char *const names[],
	    size_t n);
/*
 * Fill out[i] for names[i] (matched by serviceName or ARN suffix).
 * 0, or -1 with why in err (a failure AWS listed, a missing service,
 * an answer that is not the JSON expected).
 */
int	 ecs_parse_services(const char *json, size_t len,
	    const char *const names[], struct ecs_service out[], size_t n,
	    char *err, size_t errlen);
/* UpdateService body setting desiredCount; malloc'd, or NULL. */
char	*ecs_update_body(const char *cluster, const char *service, int desired);

#endif
