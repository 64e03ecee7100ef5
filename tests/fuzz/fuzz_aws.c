/*
 * fuzz_aws: any bytes as an AWS answer -> the parsers the AWS module
 * trusts with what an endpoint (or something in the way: a proxy's HTML
 * error page, a truncated body) sends back.  The first byte picks the
 * parser: ELBv2 forward action (listener or rule), target groups, target
 * health (libxml2), or ECS services (jansson).
 *
 * Invariants: 0 or -1, never a crash or leak; a refusal says why; an
 * accepted forward has 1..ELBV2_MAX_TGS groups with ARNs and weights
 * 0..999, and unless stickiness is on with an out-of-range duration (the
 * writer refuses that) it can be written back whole as ModifyListener;
 * health counts add up; ECS counts are not negative.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "switchover/aws/ecs.h"
#include "switchover/aws/elbv2.h"
#include "switchover/log.h"

#include "fuzz.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
forward(const char *xml, size_t len, int rule)
{
	struct elbv2_forward	 f;
	char			 err[256] = "", *b;

	memset(&f, 0, sizeof(f));
	if (elbv2_parse_forward(xml, len, rule, &f, err, sizeof(err)) == -1) {
		FUZZ_ASSERT(err[0] != '\0');
		elbv2_forward_free(&f);
		return;
	}
	FUZZ_ASSERT(f.ntg >= 1 && f.ntg <= ELBV2_MAX_TGS);
	for (size_t i = 0; i < f.ntg; i++) {
		FUZZ_ASSERT(f.tg[i].arn != NULL);
		FUZZ_ASSERT(f.tg[i].weight >= 0 &&
		    f.tg[i].weight <= ELBV2_WEIGHT_MAX);
		FUZZ_ASSERT(elbv2_forward_find(&f, f.tg[i].arn) <= (int)i);
	}
	b = elbv2_modify_body("arn:aws:elasticloadbalancing:us-east-1:1:"
	    "listener/app/x/1/2", NULL, &f, err, sizeof(err));
	if (!f.sticky || (f.sticky_s >= 1 && f.sticky_s <= ELBV2_STICKY_MAX))
		FUZZ_ASSERT(b != NULL);
	free(b);
	elbv2_forward_free(&f);
}

static void
target_groups(const char *xml, size_t len)
{
	static const char *const names[2] = { "ALBSourceProxy-dev-TG",
	    "ALBTargetProxy-dev-TG" };
	char	*arns[2] = { NULL, NULL }, err[256] = "";

	if (elbv2_parse_target_groups(xml, len, names, arns, 2, err,
	    sizeof(err)) == -1)
		FUZZ_ASSERT(err[0] != '\0');
	else
		FUZZ_ASSERT(arns[0] != NULL && arns[1] != NULL);
	free(arns[0]);
	free(arns[1]);
}

static void
health(const char *xml, size_t len)
{
	struct elbv2_health	 h;
	char			 err[256] = "";

	memset(&h, 0, sizeof(h));
	if (elbv2_parse_health(xml, len, &h, err, sizeof(err)) == -1) {
		FUZZ_ASSERT(err[0] != '\0');
		return;
	}
	FUZZ_ASSERT(h.total >= 0 && h.healthy >= 0 && h.draining >= 0 &&
	    h.other >= 0);
	FUZZ_ASSERT(h.healthy + h.draining + h.other == h.total);
	FUZZ_ASSERT(memchr(h.example, '\0', sizeof(h.example)) != NULL);
}

static void
services(const char *json, size_t len)
{
	static const char *const names[2] = { "capture-proxy", "target-proxy" };
	struct ecs_service	 out[2];
	char			 err[256] = "";

	memset(out, 0, sizeof(out));
	if (ecs_parse_services(json, len, names, out, 2, err,
	    sizeof(err)) == -1) {
		FUZZ_ASSERT(err[0] != '\0');
		return;
	}
	for (int i = 0; i < 2; i++) {
		FUZZ_ASSERT(out[i].desired >= 0 && out[i].running >= 0 &&
		    out[i].pending >= 0);
		FUZZ_ASSERT(memchr(out[i].status, '\0',
		    sizeof(out[i].status)) != NULL);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char	*text = (const char *)data + 1;
	size_t		 len = size - 1;

	if (size < 1)
		return 0;
	log_set_level(LOG_LVL_ERR);
	switch (data[0] % 5) {
	case 0:
		forward(text, len, 0);
		break;
	case 1:
		forward(text, len, 1);
		break;
	case 2:
		target_groups(text, len);
		break;
	case 3:
		health(text, len);
		break;
	default:
		services(text, len);
		break;
	}
	return 0;
}
