/*
 * Unit tests for elbv2: request bodies byte for byte, answers parsed,
 * and hostile answers (not XML, wrong namespace, extra actions, bad
 * weights) refused with a message.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "switchover/aws/elbv2.h"

#define NS	"xmlns=\"http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/\""
#define TG_A	"arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/A/1"
#define TG_B	"arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/B/2"
#define LSN	"arn:aws:elasticloadbalancing:us-east-1:1:listener/app/x/1/2"

static const char listeners[] =
    "<DescribeListenersResponse " NS "><DescribeListenersResult><Listeners>"
    "<member><ListenerArn>" LSN "</ListenerArn><DefaultActions><member>"
    "<Type>forward</Type><ForwardConfig><TargetGroups>"
    "<member><TargetGroupArn>" TG_A "</TargetGroupArn><Weight>1</Weight></member>"
    "<member><TargetGroupArn>" TG_B "</TargetGroupArn><Weight>0</Weight></member>"
    "</TargetGroups><TargetGroupStickinessConfig><Enabled>true</Enabled>"
    "<DurationSeconds>3600</DurationSeconds></TargetGroupStickinessConfig>"
    "</ForwardConfig></member></DefaultActions></member></Listeners>"
    "</DescribeListenersResult></DescribeListenersResponse>";

static int
parse(const char *xml, int rule, struct elbv2_forward *f, char *err)
{
	return elbv2_parse_forward(xml, strlen(xml), rule, f, err, 200);
}

static void
test_forward_roundtrip(void **state)
{
	struct elbv2_forward	 f;
	char			 err[200], *b;

	assert_int_equal(parse(listeners, 0, &f, err), 0);
	assert_int_equal(f.ntg, 2);
	assert_string_equal(f.tg[0].arn, TG_A);
	assert_int_equal(f.tg[0].weight, 1);
	assert_int_equal(f.tg[1].weight, 0);
	assert_true(f.sticky);
	assert_int_equal(f.sticky_s, 3600);
	assert_int_equal(elbv2_forward_find(&f, TG_B), 1);
	assert_int_equal(elbv2_forward_find(&f, "nope"), -1);
	f.tg[0].weight = 0;
	f.tg[1].weight = 999;
	b = elbv2_modify_body(LSN, NULL, &f, err, sizeof(err));
	assert_non_null(b);
	assert_string_equal(b, "Action=ModifyListener&Version=2015-12-01"
	    "&ListenerArn=arn%3Aaws%3Aelasticloadbalancing%3Aus-east-1%3A1%3A"
	    "listener%2Fapp%2Fx%2F1%2F2"
	    "&DefaultActions.member.1.Type=forward"
	    "&DefaultActions.member.1.ForwardConfig.TargetGroups.member.1."
	    "TargetGroupArn=arn%3Aaws%3Aelasticloadbalancing%3Aus-east-1%3A1%3A"
	    "targetgroup%2FA%2F1"
	    "&DefaultActions.member.1.ForwardConfig.TargetGroups.member.1.Weight=0"
	    "&DefaultActions.member.1.ForwardConfig.TargetGroups.member.2."
	    "TargetGroupArn=arn%3Aaws%3Aelasticloadbalancing%3Aus-east-1%3A1%3A"
	    "targetgroup%2FB%2F2"
	    "&DefaultActions.member.1.ForwardConfig.TargetGroups.member.2.Weight=999"
	    "&DefaultActions.member.1.ForwardConfig.TargetGroupStickinessConfig."
	    "Enabled=true"
	    "&DefaultActions.member.1.ForwardConfig.TargetGroupStickinessConfig."
	    "DurationSeconds=3600");
	free(b);
	/* With a rule ARN: ModifyRule and Actions. */
	b = elbv2_modify_body(LSN, "arn:r", &f, err, sizeof(err));
	assert_non_null(b);
	assert_non_null(strstr(b, "Action=ModifyRule&Version=2015-12-01&RuleArn=arn%3Ar&"
	    "Actions.member.1.Type=forward"));
	free(b);
	elbv2_forward_free(&f);
}

static void
test_modify_ranges(void **state)
{
	struct elbv2_forward	 f;
	char			 err[200];

	assert_int_equal(parse(listeners, 0, &f, err), 0);
	f.tg[1].weight = 1000;
	assert_null(elbv2_modify_body(LSN, NULL, &f, err, sizeof(err)));
	assert_string_equal(err, "weight 1000 is outside 0-999");
	f.tg[1].weight = -1;
	assert_null(elbv2_modify_body(LSN, NULL, &f, err, sizeof(err)));
	f.tg[1].weight = 5;
	f.sticky_s = 604801;
	assert_null(elbv2_modify_body(LSN, NULL, &f, err, sizeof(err)));
	assert_string_equal(err, "stickiness duration 604801 s is outside 1-604800");
	f.sticky_s = 0;
	assert_null(elbv2_modify_body(LSN, NULL, &f, err, sizeof(err)));
	f.sticky = 0;	/* disabled: no duration sent, none needed */
	char *b = elbv2_modify_body(LSN, NULL, &f, err, sizeof(err));
	assert_non_null(b);
	assert_null(strstr(b, "DurationSeconds"));
	assert_non_null(strstr(b, "Enabled=false"));
	free(b);
	elbv2_forward_free(&f);
}

static void
test_hostile_answers(void **state)
{
	struct elbv2_forward	f;
	char			err[200];

	assert_int_equal(parse("<html>503 Service Unavailable", 0, &f, err), -1);
	assert_non_null(strstr(err, "not XML"));
	assert_int_equal(parse("<DescribeListenersResponse><x/></DescribeListenersResponse>",
	    0, &f, err), -1);
	assert_non_null(strstr(err, "namespace"));
	assert_int_equal(parse("<R " NS "><DefaultActions><member><Type>redirect"
	    "</Type></member></DefaultActions></R>", 0, &f, err), -1);
	assert_non_null(strstr(err, "no forward action"));
	assert_int_equal(parse("<R " NS "><DefaultActions><member><Type>"
	    "authenticate-oidc</Type></member><member><Type>forward</Type>"
	    "<TargetGroupArn>" TG_A "</TargetGroupArn></member></DefaultActions>"
	    "</R>", 0, &f, err), -1);
	assert_non_null(strstr(err, "2 actions"));
	assert_int_equal(parse("<R " NS "><DefaultActions><member><Type>forward"
	    "</Type><ForwardConfig><TargetGroups><member><TargetGroupArn>a"
	    "</TargetGroupArn><Weight>lots</Weight></member></TargetGroups>"
	    "</ForwardConfig></member></DefaultActions></R>", 0, &f, err), -1);
	assert_non_null(strstr(err, "bad weight"));
	/* Listener parsing does not read a rule's Actions, and vice versa. */
	assert_int_equal(parse(listeners, 1, &f, err), -1);
	/* A plain forward: one group, all traffic. */
	assert_int_equal(parse("<R " NS "><Rules><member><Actions><member><Type>"
	    "forward</Type><TargetGroupArn>" TG_A "</TargetGroupArn></member>"
	    "</Actions></member></Rules></R>", 1, &f, err), 0);
	assert_int_equal(f.ntg, 1);
	assert_int_equal(f.tg[0].weight, 1);
	elbv2_forward_free(&f);
}

static void
test_target_groups_and_health(void **state)
{
	const char *names[2] = { "A", "B" };
	char *arns[2] = { NULL, NULL }, err[200];
	struct elbv2_health h;
	const char *tgs = "<X " NS "><TargetGroups><member><TargetGroupName>B"
	    "</TargetGroupName><TargetGroupArn>" TG_B "</TargetGroupArn></member>"
	    "<member><TargetGroupName>A</TargetGroupName><TargetGroupArn>" TG_A
	    "</TargetGroupArn></member></TargetGroups></X>";
	const char *health = "<X " NS "><TargetHealthDescriptions>"
	    "<member><Target><Id>10.0.0.1</Id><Port>9200</Port></Target>"
	    "<TargetHealth><State>healthy</State></TargetHealth></member>"
	    "<member><Target><Id>10.0.0.2</Id><Port>9200</Port></Target>"
	    "<TargetHealth><State>draining</State><Reason>Target.Deregistration"
	    "InProgress</Reason></TargetHealth></member>"
	    "<member><Target><Id>10.0.0.3</Id></Target><TargetHealth><State>"
	    "initial</State></TargetHealth></member></TargetHealthDescriptions></X>";
	char *b = elbv2_target_groups_body(names, 2);

	assert_string_equal(b, "Action=DescribeTargetGroups&Version=2015-12-01"
	    "&Names.member.1=A&Names.member.2=B");
	free(b);
	assert_int_equal(elbv2_parse_target_groups(tgs, strlen(tgs), names, arns,
	    2, err, sizeof(err)), 0);
	assert_string_equal(arns[0], TG_A);
	assert_string_equal(arns[1], TG_B);
	free(arns[0]);
	free(arns[1]);
	names[1] = "C";
	arns[0] = arns[1] = NULL;
	assert_int_equal(elbv2_parse_target_groups(tgs, strlen(tgs), names, arns,
	    2, err, sizeof(err)), -1);
	assert_string_equal(err, "target group C not found");
	free(arns[0]);
	assert_int_equal(elbv2_parse_health(health, strlen(health), &h, err,
	    sizeof(err)), 0);
	assert_int_equal(h.total, 3);
	assert_int_equal(h.healthy, 1);
	assert_int_equal(h.draining, 1);
	assert_int_equal(h.other, 1);
	assert_string_equal(h.example,
	    "10.0.0.2:9200 draining (Target.DeregistrationInProgress)");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_forward_roundtrip),
		cmocka_unit_test(test_modify_ranges),
		cmocka_unit_test(test_hostile_answers),
		cmocka_unit_test(test_target_groups_and_health),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
