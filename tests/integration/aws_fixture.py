#!/usr/bin/env python3
"""boto3 helper for the AWS integration tests, against moto_server.

  aws_fixture.py ENDPOINT setup                  create VPC, ALB, target groups,
                                                 3 targets in the target TG,
                                                 listener (source 1 / target 0,
                                                 sticky 1 h), a /_bulk rule (7/3),
                                                 ECS cluster and services; print
                                                 shell assignments
  aws_fixture.py ENDPOINT weights LISTENER       print "SOURCE TARGET STICKY SECONDS"
  aws_fixture.py ENDPOINT rule-weights RULE      the same for a listener rule
  aws_fixture.py ENDPOINT watch LISTENER SECONDS print "SOURCE TARGET" each time
                                                 the listener's weights change
  aws_fixture.py ENDPOINT set-weights LISTENER S T
  aws_fixture.py ENDPOINT service CLUSTER NAME   print "DESIRED RUNNING"
  aws_fixture.py ENDPOINT scale CLUSTER NAME N   set desiredCount
  aws_fixture.py ENDPOINT deregister TG_NAME     remove every registered target
  aws_fixture.py ENDPOINT register TG_NAME N     exactly N targets registered
  aws_fixture.py ENDPOINT iam-user               create a user with a key; print it

Credentials: FIXTURE_KEY_ID / FIXTURE_SECRET, else "testing".
Exits 77 when boto3 or moto is missing."""
import os
import sys

try:
    import boto3
    import moto  # noqa: F401  (the server must be moto's)
except ImportError:
    sys.exit(77)

ep, cmd, args = sys.argv[1], sys.argv[2], sys.argv[3:]
kw = dict(endpoint_url=ep, region_name="us-east-1",
          aws_access_key_id=os.environ.get("FIXTURE_KEY_ID", "testing"),
          aws_secret_access_key=os.environ.get("FIXTURE_SECRET", "testing"))
elb = boto3.client("elbv2", **kw)
ecs = boto3.client("ecs", **kw)


def forward(listener):
    act = elb.describe_listeners(ListenerArns=[listener])["Listeners"][0]["DefaultActions"][0]
    return act["ForwardConfig"]


def targets(n):
    return [{"Id": f"10.0.1.{10 + i}", "Port": 9200} for i in range(n)]


def registered(arn):
    return [{"Id": d["Target"]["Id"], "Port": d["Target"]["Port"]}
            for d in elb.describe_target_health(TargetGroupArn=arn)["TargetHealthDescriptions"]]


def tg_arn(name):
    return elb.describe_target_groups(Names=[name])["TargetGroups"][0]["TargetGroupArn"]


if cmd == "setup":
    ec2 = boto3.client("ec2", **kw)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24",
                                 AvailabilityZone=f"us-east-1{z}")["Subnet"]["SubnetId"]
               for i, z in ((1, "a"), (2, "b"))]
    lb = elb.create_load_balancer(Name="migration-dev", Subnets=subnets,
                                  Type="application")["LoadBalancers"][0]["LoadBalancerArn"]
    tgs = []
    for name in ("ALBSourceProxy-dev-TG", "ALBTargetProxy-dev-TG"):
        tg = elb.create_target_group(Name=name, Protocol="HTTPS", Port=9200, VpcId=vpc,
                                     TargetType="ip", HealthCheckPath="/",
                                     Matcher={"HttpCode": "200-499"})
        tgs.append(tg["TargetGroups"][0]["TargetGroupArn"])
    elb.register_targets(TargetGroupArn=tgs[1], Targets=targets(3))
    listener = elb.create_listener(
        LoadBalancerArn=lb, Protocol="HTTP", Port=9200,
        DefaultActions=[{"Type": "forward", "ForwardConfig": {
            "TargetGroups": [{"TargetGroupArn": tgs[0], "Weight": 1},
                             {"TargetGroupArn": tgs[1], "Weight": 0}],
            "TargetGroupStickinessConfig": {"Enabled": True, "DurationSeconds": 3600}}}],
    )["Listeners"][0]["ListenerArn"]
    ecs.create_cluster(clusterName="migration-dev")
    ecs.register_task_definition(family="proxy", containerDefinitions=[
        {"name": "proxy", "image": "proxy", "memory": 512}])
    ecs.create_service(cluster="migration-dev", serviceName="capture-proxy",
                       taskDefinition="proxy", desiredCount=3)
    ecs.create_service(cluster="migration-dev", serviceName="target-proxy",
                       taskDefinition="proxy", desiredCount=0)
    rule = elb.create_rule(
        ListenerArn=listener, Priority=10,
        Conditions=[{"Field": "path-pattern", "Values": ["/_bulk*"]}],
        Actions=[{"Type": "forward", "ForwardConfig": {
            "TargetGroups": [{"TargetGroupArn": tgs[0], "Weight": 7},
                             {"TargetGroupArn": tgs[1], "Weight": 3}],
            "TargetGroupStickinessConfig": {"Enabled": False}}}])["Rules"][0]["RuleArn"]
    print(f"LISTENER_ARN={listener}\nRULE_ARN={rule}\n"
          f"SOURCE_TG_ARN={tgs[0]}\nTARGET_TG_ARN={tgs[1]}")
elif cmd in ("weights", "rule-weights"):
    if cmd == "weights":
        f = forward(args[0])
    else:
        f = elb.describe_rules(RuleArns=[args[0]])["Rules"][0]["Actions"][0]["ForwardConfig"]
    w = {g["TargetGroupArn"]: g["Weight"] for g in f["TargetGroups"]}
    st = f.get("TargetGroupStickinessConfig", {})
    print(w[tg_arn("ALBSourceProxy-dev-TG")], w[tg_arn("ALBTargetProxy-dev-TG")],
          str(st.get("Enabled", False)).lower(), st.get("DurationSeconds", 0))
elif cmd == "watch":
    import time
    end, last = time.monotonic() + float(args[1]), None
    while time.monotonic() < end:
        w = {g["TargetGroupArn"]: g["Weight"] for g in forward(args[0])["TargetGroups"]}
        now = (w[tg_arn("ALBSourceProxy-dev-TG")], w[tg_arn("ALBTargetProxy-dev-TG")])
        if now != last:
            print(*now, flush=True)
            last = now
        time.sleep(0.05)
elif cmd == "set-weights":
    st = forward(args[0]).get("TargetGroupStickinessConfig", {"Enabled": False})
    elb.modify_listener(ListenerArn=args[0], DefaultActions=[{"Type": "forward", "ForwardConfig": {
        "TargetGroups": [{"TargetGroupArn": tg_arn("ALBSourceProxy-dev-TG"), "Weight": int(args[1])},
                         {"TargetGroupArn": tg_arn("ALBTargetProxy-dev-TG"), "Weight": int(args[2])}],
        "TargetGroupStickinessConfig": st}}])
elif cmd == "service":
    s = ecs.describe_services(cluster=args[0], services=[args[1]])["services"][0]
    print(s["desiredCount"], s["runningCount"])
elif cmd == "deregister":
    old = registered(tg_arn(args[0]))
    if old:
        elb.deregister_targets(TargetGroupArn=tg_arn(args[0]), Targets=old)
elif cmd == "register":
    old = registered(tg_arn(args[0]))
    if old:
        elb.deregister_targets(TargetGroupArn=tg_arn(args[0]), Targets=old)
    if int(args[1]) > 0:
        elb.register_targets(TargetGroupArn=tg_arn(args[0]), Targets=targets(int(args[1])))
elif cmd == "scale":
    ecs.update_service(cluster=args[0], service=args[1], desiredCount=int(args[2]))
elif cmd == "iam-user":
    iam = boto3.client("iam", **kw)
    iam.create_user(UserName="switchover")
    key = iam.create_access_key(UserName="switchover")["AccessKey"]
    iam.put_user_policy(UserName="switchover", PolicyName="all", PolicyDocument=(
        '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}'))
    print(f"KEY_ID={key['AccessKeyId']}\nKEY_SECRET={key['SecretAccessKey']}")
else:
    sys.exit(f"unknown command {cmd}")
