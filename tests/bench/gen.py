"""Generated benchmark stacks: a realistic mix in blocks of ten resources.

Each block is one small service's infrastructure:

    vpc          aws_vpc               10.B.0.0/16, DNS hostnames on
    net_a..c     aws_subnet  x3        10.B.{1,2,3}.0/24 in us-east-1a/b/c
    web_sg       aws_security_group    HTTPS from anywhere, default egress
    db_sg        aws_security_group    5432 from the VPC, default egress
    tg           aws_lb_target_group   HTTP 8080, ip targets, /healthz
    events       aws_sns_topic
    table        aws_dynamodb_table    on-demand, string hash key
    repo         aws_ecr_repository    force_delete

so a stack of N resources has N/10 blocks. The subnets, groups and target
group reference their block's VPC, which gives the executor a two-level
dependency graph to schedule.

resources(n, tag) returns the stack as plain data (name, type, properties
with ${name.id} references); stack_json() renders it as a cairn stack file;
the boto3 baseline (baseline.py) walks the same data.
"""
import json

BLOCK = 10
REGION = "us-east-1"


def _block(b, tag):
    """The ten resources of block b; tag keeps names unique per run."""
    p = "b%d" % b
    vpc = p + "_vpc"
    ref = "${%s.id}" % vpc
    out = [(vpc, "aws_vpc", {
        "cidr_block": "10.%d.0.0/16" % b,
        "enable_dns_support": True,
        "enable_dns_hostnames": True,
        "tags": {"Name": "%s-%s" % (tag, p), "Block": str(b)},
    })]
    for i, az in enumerate("abc"):
        out.append(("%s_net_%s" % (p, az), "aws_subnet", {
            "vpc_id": ref,
            "cidr_block": "10.%d.%d.0/24" % (b, i + 1),
            "availability_zone": REGION + az,
            "tags": {"Name": "%s-%s-%s" % (tag, p, az)},
        }))
    egress = [{"from_port": 0, "to_port": 0, "protocol": "-1",
               "cidr_blocks": ["0.0.0.0/0"]}]
    out.append((p + "_web_sg", "aws_security_group", {
        "name": "%s-%s-web" % (tag, p),
        "description": "HTTPS from anywhere",
        "vpc_id": ref,
        "ingress": [{"from_port": 443, "to_port": 443, "protocol": "tcp",
                     "cidr_blocks": ["0.0.0.0/0"]}],
        "egress": egress,
    }))
    out.append((p + "_db_sg", "aws_security_group", {
        "name": "%s-%s-db" % (tag, p),
        "description": "PostgreSQL from the VPC",
        "vpc_id": ref,
        "ingress": [{"from_port": 5432, "to_port": 5432, "protocol": "tcp",
                     "cidr_blocks": ["10.%d.0.0/16" % b]}],
        "egress": egress,
    }))
    out.append((p + "_tg", "aws_lb_target_group", {
        "name": "%s-%s" % (tag, p),
        "port": 8080,
        "protocol": "HTTP",
        "vpc_id": ref,
        "target_type": "ip",
        "health_check": {"path": "/healthz"},
    }))
    out.append((p + "_events", "aws_sns_topic", {
        "name": "%s-%s-events" % (tag, p),
    }))
    out.append((p + "_table", "aws_dynamodb_table", {
        "name": "%s-%s-items" % (tag, p),
        "billing_mode": "PAY_PER_REQUEST",
        "hash_key": "id",
        "attribute": [{"name": "id", "type": "S"}],
    }))
    out.append((p + "_repo", "aws_ecr_repository", {
        "name": "%s/%s" % (tag, p),
        "force_delete": True,
    }))
    assert len(out) == BLOCK
    return out


def resources(n, tag):
    """n resources (a multiple of ten, at most 2560) as (name, type, props)."""
    if n % BLOCK or not 0 < n <= 256 * BLOCK:
        raise ValueError("stack size must be a multiple of %d up to %d" % (BLOCK, 256 * BLOCK))
    if len(tag) > 20:
        raise ValueError("tag too long for target group names: " + tag)
    out = []
    for b in range(n // BLOCK):
        out.extend(_block(b, tag))
    return out


def stack_json(name, res):
    """The cairn stack file (JSON) for resources(); name is the stack name."""
    doc = {"stack": name, "region": REGION,
           "resources": {r: {"type": t, "properties": p} for r, t, p in res}}
    return json.dumps(doc, indent=1, sort_keys=False) + "\n"


def counts(res):
    """{type: number of resources} for the report."""
    c = {}
    for _, t, _ in res:
        c[t] = c.get(t, 0) + 1
    return c
