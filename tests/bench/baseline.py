"""The baseline: the benchmark stack's creates as a plain sequential boto3 script.

    python3 baseline.py RESOURCES.json STACK_NAME

RESOURCES.json holds gen.resources() as a list of [name, type, props]. The
endpoint, region and key come from the usual AWS_* variables. One call
after another, in the stack's order, each resource tagged with the same
ownership tags cairn sets; no waiting, no reading back: what a careful
person would do by hand, minus the checks. Prints one JSON line:
{"seconds": S, "calls": N} where S is the time from the first create to
the last (client set-up and imports excluded, which favours the baseline).
"""
import json
import os
import sys
import time

import boto3
from botocore.config import Config


def tags_list(name, stack, props, key="Key", value="Value"):
    t = dict(props.get("tags") or {})
    t.update({"cairn:stack": stack, "cairn:resource": name})
    return [{key: k, value: v} for k, v in sorted(t.items())]


def main():
    path, stack = sys.argv[1], sys.argv[2]
    with open(path) as f:
        res = json.load(f)
    endpoint = os.environ["AWS_ENDPOINT_URL"]
    cfg = Config(retries={"mode": "standard"})
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    clients = {s: boto3.client(s, endpoint_url=endpoint, region_name=region, config=cfg)
               for s in ("ec2", "elbv2", "sns", "dynamodb", "ecr")}
    calls = [0]

    def count(**_):
        calls[0] += 1
    for c in clients.values():
        c.meta.events.register("before-send", count)
    ec2, elbv2 = clients["ec2"], clients["elbv2"]
    ids = {}

    def ref(v):
        # "${name.id}" -> the id created earlier
        return ids[v[2:-1].split(".")[0]] if v.startswith("${") else v

    start = time.monotonic()
    for name, typ, p in res:
        if typ == "aws_vpc":
            r = ec2.create_vpc(CidrBlock=p["cidr_block"], TagSpecifications=[
                {"ResourceType": "vpc", "Tags": tags_list(name, stack, p)}])
            ids[name] = r["Vpc"]["VpcId"]
            if p.get("enable_dns_hostnames"):
                ec2.modify_vpc_attribute(VpcId=ids[name], EnableDnsHostnames={"Value": True})
        elif typ == "aws_subnet":
            r = ec2.create_subnet(VpcId=ref(p["vpc_id"]), CidrBlock=p["cidr_block"],
                                  AvailabilityZone=p["availability_zone"], TagSpecifications=[
                                      {"ResourceType": "subnet",
                                       "Tags": tags_list(name, stack, p)}])
            ids[name] = r["Subnet"]["SubnetId"]
        elif typ == "aws_security_group":
            r = ec2.create_security_group(
                GroupName=p["name"], Description=p["description"], VpcId=ref(p["vpc_id"]),
                TagSpecifications=[{"ResourceType": "security-group",
                                    "Tags": tags_list(name, stack, p)}])
            ids[name] = r["GroupId"]
            perms = [{"IpProtocol": rule["protocol"], "FromPort": rule["from_port"],
                      "ToPort": rule["to_port"],
                      "IpRanges": [{"CidrIp": c} for c in rule["cidr_blocks"]]}
                     for rule in p.get("ingress", [])]
            if perms:
                ec2.authorize_security_group_ingress(GroupId=ids[name], IpPermissions=perms)
        elif typ == "aws_lb_target_group":
            r = elbv2.create_target_group(
                Name=p["name"], Port=p["port"], Protocol=p["protocol"],
                VpcId=ref(p["vpc_id"]), TargetType=p["target_type"],
                HealthCheckPath=p["health_check"]["path"], Tags=tags_list(name, stack, p))
            ids[name] = r["TargetGroups"][0]["TargetGroupArn"]
        elif typ == "aws_sns_topic":
            r = clients["sns"].create_topic(Name=p["name"], Tags=tags_list(name, stack, p))
            ids[name] = r["TopicArn"]
        elif typ == "aws_dynamodb_table":
            r = clients["dynamodb"].create_table(
                TableName=p["name"], BillingMode=p["billing_mode"],
                AttributeDefinitions=[{"AttributeName": a["name"], "AttributeType": a["type"]}
                                      for a in p["attribute"]],
                KeySchema=[{"AttributeName": p["hash_key"], "KeyType": "HASH"}],
                Tags=tags_list(name, stack, p))
            ids[name] = r["TableDescription"]["TableName"]
        elif typ == "aws_ecr_repository":
            r = clients["ecr"].create_repository(
                repositoryName=p["name"], tags=tags_list(name, stack, p, "Key", "Value"))
            ids[name] = r["repository"]["repositoryName"]
        else:
            raise SystemExit("baseline: no boto3 recipe for " + typ)
    seconds = time.monotonic() - start
    print(json.dumps({"seconds": round(seconds, 3), "calls": calls[0]}))


if __name__ == "__main__":
    main()
