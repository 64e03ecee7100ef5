/*
 * ecs: the two ECS calls preflight needs, DescribeServices and
 * UpdateService, as JSON bodies and parsed answers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "switchover/aws/ecs.h"

char *
ecs_describe_body(const char *cluster, const char *const names[], size_t n)
{
	json_t	*j, *arr;
	char	*s = NULL;

	if (n > ECS_MAX_DESCRIBE)
		return NULL;
	if ((arr = json_array()) == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, json_string(names[i]));
	if ((j = json_pack("{s:s, s:o}", "cluster", cluster, "services",
	    arr)) != NULL)
		s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	return s;
}

char *
ecs_update_body(const char *cluster, const char *service, int desired)
{
	json_t	*j;
	char	*s = NULL;

	if ((j = json_pack("{s:s, s:s, s:i}", "cluster", cluster, "service",
	    service, "desiredCount", desired)) != NULL)
		s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	return s;
}

/* Does an ECS service object describe name (a name or an ARN)? */
static int
same_service(json_t *svc, const char *name)
{
	const char	*sn = json_string_value(json_object_get(svc, "serviceName"));
	const char	*arn = json_string_value(json_object_get(svc, "serviceArn"));
	size_t		 an, nn = strlen(name);

	if (sn != NULL && strcmp(sn, name) == 0)
		return 1;
	if (arn == NULL)
		return 0;
	if (strcmp(arn, name) == 0)
		return 1;
	an = strlen(arn);
	return an > nn && arn[an - nn - 1] == '/' && strcmp(arn + an - nn, name) == 0;
}

/* A non-negative integer member, or -1. */
static int
count(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    json_integer_value(v) > 100000)
		return -1;
	return (int)json_integer_value(v);
}

int
ecs_parse_services(const char *json, size_t len, const char *const names[],
    struct ecs_service out[], size_t n, char *err, size_t errlen)
{
	json_t	*j, *svcs, *fails, *v;
	size_t	 i, k;
	int	 rc = -1;

	if ((j = json_loadb(json, len, 0, NULL)) == NULL || !json_is_object(j)) {
		snprintf(err, errlen, "answer is not a JSON object (%zu bytes)",
		    len);
		goto done;
	}
	fails = json_object_get(j, "failures");
	json_array_foreach(fails, k, v) {
		const char *arn = json_string_value(json_object_get(v, "arn"));
		const char *why = json_string_value(json_object_get(v, "reason"));

		snprintf(err, errlen, "service %s: %s", arn ? arn : "?",
		    why ? why : "failure");
		goto done;
	}
	svcs = json_object_get(j, "services");
	for (i = 0; i < n; i++) {
		memset(&out[i], 0, sizeof(out[i]));
		out[i].desired = -1;
		json_array_foreach(svcs, k, v) {
			const char *st;

			if (!same_service(v, names[i]))
				continue;
			out[i].desired = count(v, "desiredCount");
			out[i].running = count(v, "runningCount");
			out[i].pending = count(v, "pendingCount");
			if (out[i].pending < 0)
				out[i].pending = 0;
			st = json_string_value(json_object_get(v, "status"));
			snprintf(out[i].status, sizeof(out[i].status), "%s",
			    st ? st : "");
			break;
		}
		if (out[i].desired < 0 || out[i].running < 0) {
			snprintf(err, errlen, "service %s: not in the answer, or "
			    "without desired/running counts", names[i]);
			goto done;
		}
	}
	rc = 0;
done:
	json_decref(j);
	return rc;
}
