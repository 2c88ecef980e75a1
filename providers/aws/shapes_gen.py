#!/usr/bin/env python3
"""Prints the shape table of providers/aws/shapes.c from botocore's models.

Development tool only (the build does not run it): it walks the input and
output shapes of the operations cairn uses and prints them in the compact
notation that shapes.c parses:

  @SERVICE                          starts a service section
  !Operation Input Output           '-' when the operation has no input/output
  Name{Member[/loc[/qname]]:T ...}  structure; loc '^' = name with a lowercase first letter
  Name[T/memberloc]                 list ('~' after ']' when flattened)
  Name<keyloc/valueloc:T>           map ('~' after '>' when flattened)

The REST protocols (rest-xml, rest-json) add where each member travels and
how the request is addressed:

  !Operation Input Output METHOD URI ROOT NS
                                    ROOT: the XML element that wraps the body
                                    ('-' when none), NS its xmlns ('-')
  Member/loc:T@L                    L: u uri label, q query string, h header,
                                    H header prefix map (x-amz-meta-), s status
  Name{...}=Member                  the structure's payload member

T is a shape name or a scalar code: s string/blob, i integer/long,
f float/double, b boolean, t timestamp, p IAM policy document (a string
that IAM returns URL-encoded).

Usage: python3 providers/aws/shapes_gen.py [SERVICE...] > /tmp/table.inc
"""
import gzip
import json
import os
import sys

import botocore

OPS = {
    "ec2": """CreateVpc DescribeVpcs DeleteVpc ModifyVpcAttribute DescribeVpcAttribute
        CreateSubnet DescribeSubnets DeleteSubnet ModifySubnetAttribute CreateInternetGateway
        DescribeInternetGateways AttachInternetGateway DetachInternetGateway
        DeleteInternetGateway CreateRouteTable DescribeRouteTables DeleteRouteTable CreateRoute
        ReplaceRoute DeleteRoute AssociateRouteTable DisassociateRouteTable CreateSecurityGroup
        DescribeSecurityGroups DeleteSecurityGroup AuthorizeSecurityGroupIngress
        AuthorizeSecurityGroupEgress RevokeSecurityGroupIngress RevokeSecurityGroupEgress
        CreateTags DeleteTags DescribeTags DescribeAvailabilityZones AllocateAddress
        DescribeAddresses ReleaseAddress AssociateAddress DisassociateAddress CreateNatGateway
        DescribeNatGateways DeleteNatGateway CreateVpcEndpoint DescribeVpcEndpoints
        ModifyVpcEndpoint DeleteVpcEndpoints""",
    "elbv2": """CreateLoadBalancer DescribeLoadBalancers DeleteLoadBalancer CreateTargetGroup
        DescribeTargetGroups DeleteTargetGroup CreateListener DescribeListeners DeleteListener
        CreateRule DescribeRules DeleteRule ModifyTargetGroup ModifyTargetGroupAttributes
        DescribeTargetGroupAttributes ModifyLoadBalancerAttributes
        DescribeLoadBalancerAttributes SetSubnets SetSecurityGroups SetIpAddressType
        ModifyListener ModifyRule SetRulePriorities AddTags RemoveTags DescribeTags""",
    "sns": """CreateTopic DeleteTopic GetTopicAttributes SetTopicAttributes ListTopics
        TagResource UntagResource ListTagsForResource Subscribe Unsubscribe
        ListSubscriptionsByTopic GetSubscriptionAttributes SetSubscriptionAttributes""",
    "sts": "GetCallerIdentity AssumeRole AssumeRoleWithWebIdentity",
    "iam": """CreateRole GetRole DeleteRole UpdateAssumeRolePolicy AttachRolePolicy
        DetachRolePolicy ListAttachedRolePolicies PutRolePolicy DeleteRolePolicy
        ListRolePolicies GetRolePolicy TagRole UntagRole ListRoleTags UpdateRole
        PutRolePermissionsBoundary DeleteRolePermissionsBoundary CreateUser CreateAccessKey
        PutUserPolicy CreatePolicy GetPolicy DeletePolicy GetPolicyVersion
        CreatePolicyVersion ListPolicyVersions DeletePolicyVersion TagPolicy UntagPolicy
        ListPolicyTags""",
    "cloudwatch": """PutMetricAlarm DescribeAlarms DeleteAlarms TagResource UntagResource
        ListTagsForResource""",
    "ses": """VerifyEmailIdentity GetIdentityVerificationAttributes DeleteIdentity
        ListIdentities""",
    "s3": """ListBuckets CreateBucket DeleteBucket HeadBucket GetBucketLocation
        GetBucketVersioning PutBucketVersioning ListObjectsV2 PutObject GetObject HeadObject
        DeleteObject GetBucketTagging PutBucketTagging DeleteBucketTagging ListObjectVersions
        GetBucketEncryption PutBucketEncryption DeleteBucketEncryption GetPublicAccessBlock
        PutPublicAccessBlock DeletePublicAccessBlock GetBucketLifecycleConfiguration
        PutBucketLifecycleConfiguration DeleteBucketLifecycle GetBucketPolicy PutBucketPolicy
        DeleteBucketPolicy""",
    "lambda": """ListFunctions GetFunction CreateFunction DeleteFunction ListTags TagResource
        UntagResource UpdateFunctionCode UpdateFunctionConfiguration AddPermission
        RemovePermission GetPolicy""",
    "route53": """ListHostedZones CreateHostedZone GetHostedZone DeleteHostedZone
        ListResourceRecordSets ChangeResourceRecordSets GetChange ChangeTagsForResource
        ListTagsForResource AssociateVPCWithHostedZone DisassociateVPCFromHostedZone
        UpdateHostedZoneComment ListHostedZonesByName""",
    "rds": """CreateDBSubnetGroup DescribeDBSubnetGroups ModifyDBSubnetGroup DeleteDBSubnetGroup
        CreateDBInstance DescribeDBInstances ModifyDBInstance DeleteDBInstance
        AddTagsToResource RemoveTagsFromResource ListTagsForResource""",
}

LOCATION = {"uri": "u", "querystring": "q", "header": "h", "headers": "H", "statusCode": "s"}

SCALAR = {"string": "s", "blob": "s", "integer": "i", "long": "i", "float": "f",
          "double": "f", "boolean": "b", "timestamp": "t"}


def load(service):
    base = os.path.join(os.path.dirname(botocore.__file__), "data", service)
    version = sorted(os.listdir(base))[-1]
    with gzip.open(os.path.join(base, version, "service-2.json.gz")) as f:
        return json.load(f)


def lower_first(s):
    return s[:1].lower() + s[1:]


def emit_service(service, ops):
    model = load(service)
    shapes = model["shapes"]
    out, seen, pending = [], set(), []

    def ref(name):
        if name == "policyDocumentType":
            return "p"
        t = shapes[name]["type"]
        if t in SCALAR:
            return SCALAR[t]
        if name not in seen:
            seen.add(name)
            pending.append(name)
        return name

    rest = model["metadata"]["protocol"].startswith("rest-")
    lines = ["@" + service]
    for op in ops.split():
        o = model["operations"][op]
        i = ref(o["input"]["shape"]) if "input" in o else "-"
        r = ref(o["output"]["shape"]) if "output" in o else "-"
        line = "!%s %s %s" % (op, i, r)
        if rest:
            root, ns = "-", "-"
            if "input" in o:
                body = shapes[o["input"]["shape"]]
                pay = body.get("payload")
                if pay:
                    mref = body["members"][pay]
                    if shapes[mref["shape"]]["type"] == "structure":
                        root = mref.get("locationName", pay)
                        ns = mref.get("xmlNamespace", {}).get("uri", "-")
                elif o["input"].get("locationName"):
                    root = o["input"]["locationName"]
                    ns = o["input"].get("xmlNamespace", {}).get("uri", "-")
            line += " %s %s %s %s" % (o["http"]["method"], o["http"]["requestUri"], root, ns)
        lines.append(line)
    while pending:
        name = pending.pop(0)
        s = shapes[name]
        if s["type"] == "structure":
            toks = []
            for m, mref in s["members"].items():
                tok = m
                loc, q = mref.get("locationName"), mref.get("queryName")
                if loc or q:
                    tok += "/" + ("^" if loc == lower_first(m) else (loc or m))
                    if q and q != (loc or m)[:1].upper() + (loc or m)[1:]:
                        tok += "/" + q
                tok += ":" + ref(mref["shape"])
                if mref.get("location") in LOCATION:
                    tok += "@" + LOCATION[mref["location"]]
                toks.append(tok)
            out.append("%s{%s}%s" % (name, " ".join(toks),
                                     "=" + s["payload"] if s.get("payload") else ""))
        elif s["type"] == "list":
            mloc = s["member"].get("locationName", "member")
            out.append("%s[%s/%s]%s" % (name, ref(s["member"]["shape"]), mloc,
                                        "~" if s.get("flattened") else ""))
        elif s["type"] == "map":
            out.append("%s<%s/%s:%s>%s" % (name, s["key"].get("locationName", "key"),
                                           s["value"].get("locationName", "value"),
                                           ref(s["value"]["shape"]),
                                           "~" if s.get("flattened") else ""))
    return lines + out


def c_lines(line, width=96):
    """Splits a long table line into C string pieces at spaces."""
    pieces, cur = [], ""
    for word in line.split(" "):
        if cur and len(cur) + len(word) + 1 > width:
            pieces.append(cur + " ")
            cur = word
        else:
            cur = cur + " " + word if cur else word
    pieces.append(cur)
    return "\t\"" + "\"\n\t\"".join(pieces) + "\","


def main():
    only = sys.argv[1:]
    for service, ops in OPS.items():
        if only and service not in only:
            continue
        for line in emit_service(service, ops):
            print(c_lines(line))


if __name__ == "__main__":
    sys.exit(main())
