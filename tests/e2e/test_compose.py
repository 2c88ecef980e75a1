"""Composition (SPEC 3.1) against moto: count and for_each instances with
addresses, count.index / each.key / each.value, splat and whole-resource
references, locals and functions; apply -> boto3 checks (the cairn:resource
tag in its tag-safe spelling) -> no-op plan -> one key added and one removed
plans exactly one create and one delete -> destroy."""
import json
import os

from family import FamilyCase

STACK_YAML = """\
stack: comp
region: us-east-1
variables:
  services: {type: list, default: [api, web]}
  subnets: {type: number, default: 2}
locals:
  prefix: comp-${var.subnets}
  tables: '${{for s in var.services : s => upper(s)}}'
resources:
  vpc:
    type: aws_vpc
    properties:
      cidr_block: 10.20.0.0/16
  subnet:
    type: aws_subnet
    count: ${var.subnets}
    properties:
      vpc_id: ${vpc.id}
      cidr_block: ${cidrsubnet("10.20.0.0/16", 8, count.index)}
      tags: {Name: "${local.prefix}-${count.index}"}
  repo:
    type: aws_ecr_repository
    for_each: ${var.services}
    properties:
      name: ${local.prefix}-${each.key}
      tags: {Subnet: "${subnet[0].id}"}
  log:
    type: aws_cloudwatch_log_group
    for_each: ${local.tables}
    properties:
      name: /${local.prefix}/${each.key}/${each.value}
      tags: {Repo: '${repo[each.key].name}'}
  off:
    type: aws_sns_topic
    count: '${var.subnets > 5 ? 1 : 0}'
    properties:
      name: never
outputs:
  subnet_ids: {value: '${subnet[*].id}'}
  repo_names: {value: '${[for k, r in repo : r.name]}'}
"""


class Compose(FamilyCase):
    STACK = "comp"

    def test_count_for_each_lifecycle(self):
        self.write("stack.yaml", STACK_YAML)
        self.cairn("validate", check=0)
        p = self.cairn("plan", "--json", check=0)
        plan = json.loads(p.stdout)
        addrs = sorted(c["address"] for c in plan["changes"])
        self.assertEqual(addrs, ['log["api"]', 'log["web"]', 'repo["api"]', 'repo["web"]',
                                 "subnet[0]", "subnet[1]", "vpc"])
        names = {c["address"]: c["name"] for c in plan["changes"]}
        self.assertEqual(names['repo["api"]'], "repo")
        self.assertEqual(names["subnet[1]"], "subnet")
        self.assertEqual(plan["summary"]["create"], 7)
        self.apply()

        ids = self.ids()
        self.assertEqual(sorted(ids), sorted(addrs))
        ec2 = self.boto("ec2")
        subs = ec2.describe_subnets(SubnetIds=[ids["subnet[0]"], ids["subnet[1]"]])["Subnets"]
        by_cidr = {s["CidrBlock"]: {t["Key"]: t["Value"] for t in s["Tags"]} for s in subs}
        self.assertEqual(by_cidr["10.20.0.0/24"]["Name"], "comp-2-0")
        self.assertEqual(by_cidr["10.20.1.0/24"]["Name"], "comp-2-1")
        self.assertEqual(by_cidr["10.20.1.0/24"]["cairn:resource"], "subnet/1")
        ecr = self.boto("ecr")
        repos = {r["repositoryName"]: r for r in ecr.describe_repositories()["repositories"]}
        self.assertEqual(sorted(repos), ["comp-2-api", "comp-2-web"])
        tags = {t["Key"]: t["Value"] for t in
                ecr.list_tags_for_resource(resourceArn=repos["comp-2-api"]["repositoryArn"])["tags"]}
        self.assertEqual(tags, {"Subnet": ids["subnet[0]"], "cairn:stack": "comp",
                                "cairn:resource": "repo/api"})
        logs = self.boto("logs")
        groups = sorted(g["logGroupName"] for g in
                        logs.describe_log_groups(logGroupNamePrefix="/comp-2/")["logGroups"])
        self.assertEqual(groups, ["/comp-2/api/API", "/comp-2/web/WEB"])
        self.assertEqual(self.boto("sns").list_topics()["Topics"], [])
        out = json.loads(self.cairn("output", "--json", check=0).stdout)
        self.assertEqual(out["subnet_ids"]["value"], [ids["subnet[0]"], ids["subnet[1]"]])
        self.assertEqual(out["repo_names"]["value"], ["comp-2-api", "comp-2-web"])
        shown = json.loads(self.cairn("state", "show", 'repo["web"]', "--json", check=0).stdout)
        self.assertIn("comp-2-web", json.dumps(shown))
        self.assert_noop()
        # state rm and import take addresses
        self.cairn("state", "rm", 'repo["web"]', check=0)
        self.assertNotIn('repo["web"]', self.ids())
        self.cairn("import", 'repo["web"]', "comp-2-web", check=0)
        self.assertEqual(self.ids()['repo["web"]'], ids['repo["web"]'])
        self.assert_noop()

        # One key removed, one added: one delete and one create per resource,
        # never a renumbering of the others.
        self.write("stack.yaml", STACK_YAML.replace("default: [api, web]", "default: [web, worker]"))
        plan = json.loads(self.cairn("plan", "--json", check=0).stdout)
        acted = sorted((c["address"], c["action"]) for c in plan["changes"] if c["action"] != "noop")
        self.assertEqual(acted, [('log["api"]', "delete"), ('log["worker"]', "create"),
                                 ('repo["api"]', "delete"), ('repo["worker"]', "create")])
        self.apply()
        repos = sorted(r["repositoryName"] for r in ecr.describe_repositories()["repositories"])
        self.assertEqual(repos, ["comp-2-web", "comp-2-worker"])
        self.assertEqual(self.ids()['repo["web"]'], ids['repo["web"]'])
        self.assert_noop()

        # --target names one instance.
        self.cairn("destroy", "--auto-approve", "--target", 'log["web"]', check=0)
        self.assertNotIn('log["web"]', self.ids())
        # --target by the resource's name: every instance of it.
        self.cairn("destroy", "--auto-approve", "--target", "log", check=0)
        left = self.ids()
        self.assertEqual([a for a in left if a.startswith("log")], [])
        self.assertIn('repo["worker"]', left)
        self.cairn("destroy", "--auto-approve", check=0)
        self.assertEqual(self.ids(), {})
        self.assertEqual(ecr.describe_repositories()["repositories"], [])
        self.assertEqual(ec2.describe_subnets(Filters=[{"Name": "cidr-block",
                                                        "Values": ["10.20.0.0/24"]}])["Subnets"], [])

    def test_bad_repetition(self):
        self.write("stack.yaml", """\
stack: bad
variables:
  names: {type: list, default: [a, b, a]}
resources:
  vpc:
    type: aws_vpc
    properties: {cidr_block: 10.0.0.0/16}
  dup:
    type: aws_sns_topic
    for_each: ${var.names}
    properties: {name: "${each.key}"}
  late:
    type: aws_sns_topic
    for_each: ${[vpc.id]}
    properties: {name: x}
  both:
    type: aws_sns_topic
    count: 1
    for_each: [a]
    properties: {name: x}
  stray:
    type: aws_sns_topic
    properties: {name: "${each.key}-${count.index}"}
  two:
    type: aws_sns_topic
    count: 2
    properties: {name: "t-${count.index}", tags: {Other: "${dup[5].arn}"}}
  range:
    type: aws_sns_topic
    properties: {name: "t", tags: {Other: "${two[5].arn}"}}
""")
        p = self.cairn("validate", check=1)
        want = [
            "stack.yaml:10:15: error: 'for_each' list holds \"a\" more than once: each key must "
            "name one instance",
            "stack.yaml:14:15: error: the 'for_each' of resource 'late' depends on values known "
            "only after apply; it must be known when planning (use variables, locals and functions)",
            "stack.yaml:19:5: error: resource 'both' sets both 'count' and 'for_each': use one of them",
            "stack.yaml:23:25: error: '${each.key}' can only be used inside a resource with for_each "
            "(each is not defined outside a repeated block)",
            "stack.yaml:23:37: error: '${count.index}' can only be used inside a resource with count",
            "stack.yaml:30:44: error: '${two[5].arn}': resource 'two' has count = 2: write "
            "two[INDEX].ATTR with an index below 2, two[*].ATTR or ${two}",
        ]
        self.assertEqual(p.stderr.splitlines(), want + ["cairn: 6 errors in 'stack.yaml'"], p.stderr)
        self.assertFalse(os.path.exists(self.env["CAIRN_STATE"]))


class Moves(FamilyCase):
    STACK = "mv"

    def test_rename_into_for_each_with_moved(self):
        self.write("stack.yaml", """\
stack: mv
region: us-east-1
resources:
  repo:
    type: aws_ecr_repository
    properties: {name: mv-api}
  log:
    type: aws_cloudwatch_log_group
    properties: {name: /mv/api, tags: {Repo: "${repo.name}"}}
""")
        self.cairn("apply", "--auto-approve", check=0)
        ids = self.ids()
        self.write("stack.yaml", """\
stack: mv
region: us-east-1
variables:
  services: {type: list, default: [api]}
moved:
  - {from: repo, to: 'repo["api"]'}
  - {from: log, to: 'log["api"]'}
resources:
  repo:
    type: aws_ecr_repository
    for_each: ${var.services}
    properties: {name: "mv-${each.key}"}
  log:
    type: aws_cloudwatch_log_group
    for_each: ${var.services}
    properties: {name: "/mv/${each.key}", tags: {Repo: '${repo[each.key].name}'}}
""")
        p = self.cairn("plan", "--detailed-exitcode", check=2)
        self.assertIn('# repo has moved to repo["api"]', p.stdout)
        self.assertIn('# log has moved to log["api"]', p.stdout)
        self.assertIn("Plan: 0 to add, 0 to change, 0 to destroy.", p.stdout)
        plan = json.loads(self.cairn("plan", "--json", check=0).stdout)
        moved = {c["address"]: c["moved_from"] for c in plan["changes"]}
        self.assertEqual(moved, {'repo["api"]': "repo", 'log["api"]': "log"})
        md = self.cairn("plan", "--markdown", check=0).stdout
        self.assertIn('| `->` | moved from `repo` | `repo["api"]` | aws_ecr_repository |', md)
        self.assertIn('| `->` | moved from `log` | `log["api"]` | aws_cloudwatch_log_group |', md)
        p = self.cairn("apply", "--auto-approve", check=0)
        self.assertIn("0 added, 0 changed, 0 destroyed", p.stdout)
        self.assertEqual(self.ids(), {'repo["api"]': ids["repo"], 'log["api"]': ids["log"]})
        repos = [r["repositoryName"] for r in self.boto("ecr").describe_repositories()["repositories"]]
        self.assertEqual(repos, ["mv-api"])
        self.assert_noop()

        # By hand: state mv, then the stack that names the new address plans nothing.
        self.cairn("state", "mv", 'log["api"]', "applog", check=0)
        self.assertIn("applog", self.ids())
        p = self.cairn("state", "mv", "nosuch", "x", check=1)
        self.assertIn("no resource 'nosuch'", p.stderr)
        p = self.cairn("state", "mv", "applog", 'repo["api"]', check=1)
        self.assertIn("already holds", p.stderr)

    def test_bad_moves(self):
        self.write("stack.yaml", """\
stack: mv
moved:
  - {from: a, to: b}
  - {from: gone, to: b}
  - {from: gone3, to: b}
  - {from: gone2, to: nowhere}
  - {from: 'x[', to: a}
resources:
  a: {type: aws_sns_topic, properties: {name: a}}
  b: {type: aws_sns_topic, properties: {name: b}}
""")
        p = self.cairn("validate", check=1)
        self.assertEqual(p.stderr.splitlines(), [
            "stack.yaml:3:12: error: moved from 'a', which is still declared: a move renames a "
            "resource that is no longer in the stack",
            "stack.yaml:5:23: error: two moves to 'b' (the other from 'gone')",
            "stack.yaml:6:23: error: moved to 'nowhere', which is not declared in the stack",
            "stack.yaml:7:12: error: invalid address 'x[': write NAME, NAME[N] or NAME[\"KEY\"]",
            "cairn: 4 errors in 'stack.yaml'"], p.stderr)


class WebExample(FamilyCase):
    STACK = "web-demo"

    def test_web_stack_with_for_each(self):
        root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        with open(os.path.join(root, "stacks", "web.yaml")) as f:
            self.write("stack.yaml", f.read())
        os.makedirs(os.path.join(self.dir, "modules"), exist_ok=True)
        with open(os.path.join(root, "stacks", "modules", "ecs-service.yaml")) as f:
            self.write("modules/ecs-service.yaml", f.read())
        self.apply()
        ids = self.ids()
        # the services: one module instance each
        ecs = self.boto("ecs")
        svcs = ecs.describe_services(cluster="web-demo", services=["web-demo-api", "web-demo-admin"])
        self.assertEqual(sorted(s["serviceArn"] for s in svcs["services"]),
                         sorted([ids['module.svc["api"].service'], ids['module.svc["admin"].service']]))
        api = [s for s in svcs["services"] if s["serviceName"] == "web-demo-api"][0]
        self.assertEqual(api["loadBalancers"], [{"targetGroupArn": ids['module.svc["api"].tg'],
                                                 "containerName": "api", "containerPort": 8080}])
        td = ecs.describe_task_definition(taskDefinition=ids['module.svc["api"].task'])["taskDefinition"]
        self.assertEqual(td["containerDefinitions"][0]["logConfiguration"]["options"]["awslogs-group"],
                         "/ecs/web-demo-api")
        alarms = sorted(a["AlarmName"] for a in self.boto("cloudwatch").describe_alarms()["MetricAlarms"])
        self.assertEqual(alarms, ["web-demo-admin-cpu", "web-demo-admin-memory",
                                  "web-demo-api-cpu", "web-demo-api-memory"])
        rules = self.boto("elbv2").describe_rules(ListenerArn=ids["http"])["Rules"]
        self.assertEqual(sorted(r["Priority"] for r in rules), ["10", "20", "default"])
        out = json.loads(self.cairn("output", "--json", check=0).stdout)
        self.assertEqual(out["services"]["value"], ["web-demo-admin", "web-demo-api"])
        for a in ('public["a"]', 'public["b"]', 'public_routes_assoc["a"]', 'public_routes_assoc["b"]'):
            self.assertIn(a, ids)
        ec2 = self.boto("ec2")
        subs = ec2.describe_subnets(SubnetIds=[ids['public["a"]'], ids['public["b"]']])["Subnets"]
        self.assertEqual(sorted((s["AvailabilityZone"], s["CidrBlock"]) for s in subs),
                         [("us-east-1a", "10.40.1.0/24"), ("us-east-1b", "10.40.2.0/24")])
        lb = self.boto("elbv2").describe_load_balancers(Names=["web-demo"])["LoadBalancers"][0]
        self.assertEqual(sorted(z["SubnetId"] for z in lb["AvailabilityZones"]),
                         sorted([ids['public["a"]'], ids['public["b"]']]))
        self.assert_noop()
        self.cairn("destroy", "--auto-approve", check=0)
        self.assertEqual(self.ids(), {})
        self.assertEqual(ec2.describe_subnets(SubnetIds=[])["Subnets"] and
                         [s for s in ec2.describe_subnets()["Subnets"] if s["CidrBlock"] == "10.40.1.0/24"], [])


SVC_MODULE = """\
description: a service's target group and log group
variables:
  name: {type: string}
  vpc_id: {type: string}
  port: {type: number, default: 80}
resources:
  tg:
    type: aws_lb_target_group
    properties:
      name: mod-${var.name}
      port: ${var.port}
      protocol: HTTP
      vpc_id: ${var.vpc_id}
  log:
    type: aws_cloudwatch_log_group
    properties:
      name: /mod/${var.name}
      tags: {Tg: "${tg.arn}"}
outputs:
  tg_arn: {value: "${tg.arn}"}
  label: {value: "${upper(var.name)}"}
"""


class Modules(FamilyCase):
    STACK = "mods"

    def test_module_for_each_lifecycle(self):
        os.makedirs(os.path.join(self.dir, "modules"), exist_ok=True)
        self.write("modules/svc.yaml", SVC_MODULE)
        self.write("stack.yaml", """\
stack: mods
region: us-east-1
variables:
  services: {type: list, default: [api, web]}
resources:
  vpc:
    type: aws_vpc
    properties: {cidr_block: 10.30.0.0/16}
  topic:
    type: aws_sns_topic
    properties:
      name: mods-events
      tags: {Api: '${module.svc["api"].tg_arn}', Label: '${module.svc["web"].label}'}
modules:
  svc:
    source: ./modules/svc.yaml
    for_each: ${var.services}
    inputs:
      name: ${each.key}
      vpc_id: ${vpc.id}
outputs:
  arns: {value: '${[for s in var.services : module.svc[s].tg_arn]}'}
""")
        self.cairn("validate", check=0)
        dot = self.cairn("graph", check=0).stdout
        self.assertIn('subgraph "cluster_module.svc[\\"api\\"]" {', dot)
        self.assertIn('"module.svc[\\"api\\"].log" [label="log (aws_cloudwatch_log_group)"];', dot)
        self.assertIn('"module.svc[\\"api\\"].log" -> "module.svc[\\"api\\"].tg";', dot)
        self.apply()
        ids = self.ids()
        self.assertEqual(sorted(ids), sorted([
            "vpc", "topic", 'module.svc["api"].tg', 'module.svc["api"].log',
            'module.svc["web"].tg', 'module.svc["web"].log']))
        elb = self.boto("elbv2")
        tg = elb.describe_target_groups(Names=["mod-api"])["TargetGroups"][0]
        self.assertEqual(tg["TargetGroupArn"], ids['module.svc["api"].tg'])
        tags = {t["Key"]: t["Value"] for t in
                elb.describe_tags(ResourceArns=[tg["TargetGroupArn"]])["TagDescriptions"][0]["Tags"]}
        self.assertEqual(tags["cairn:resource"], "module.svc/api.tg")
        sns = self.boto("sns")
        arn = [t["TopicArn"] for t in sns.list_topics()["Topics"] if t["TopicArn"].endswith(":mods-events")][0]
        ttags = {t["Key"]: t["Value"] for t in sns.list_tags_for_resource(ResourceArn=arn)["Tags"]}
        self.assertEqual(ttags["Api"], tg["TargetGroupArn"])
        self.assertEqual(ttags["Label"], "WEB")
        out = json.loads(self.cairn("output", "--json", check=0).stdout)
        self.assertEqual(out["arns"]["value"], [ids['module.svc["api"].tg'], ids['module.svc["web"].tg']])
        self.assert_noop()
        plan = json.loads(self.cairn("plan", "--json", check=0).stdout)
        names = {c["address"]: c["name"] for c in plan["changes"]}
        self.assertEqual(names['module.svc["web"].log'], "log")
        self.cairn("destroy", "--auto-approve", "--target", 'module.svc["web"].log', check=0)
        self.assertNotIn('module.svc["web"].log', self.ids())
        self.cairn("destroy", "--auto-approve", check=0)
        self.assertEqual(self.ids(), {})
        self.assertEqual(elb.describe_target_groups()["TargetGroups"], [])

    def test_module_errors(self):
        os.makedirs(os.path.join(self.dir, "modules"), exist_ok=True)
        self.write("modules/a.yaml", """\
variables:
  name: {type: string}
modules:
  again:
    source: ./a.yaml
    inputs: {name: x}
resources:
  t:
    type: aws_sns_topic
    properties: {name: "${var.name}", bogus: 1}
""")
        self.write("modules/b.yaml", "stack: nope\nvariables:\n  need: {type: string}\nresources: {}\n")
        self.write("stack.yaml", """\
stack: bad
modules:
  a:
    source: modules/a.yaml
    inputs: {name: n, extra: 1}
  b:
    source: modules/b.yaml
  c:
    source: modules/missing.yaml
  d:
    inputs: {}
resources:
  t:
    type: aws_sns_topic
    properties: {name: "${module.a.nope}"}
""")
        p = self.cairn("validate", check=1)
        self.assertEqual(p.stderr.splitlines(), [
            "modules/a.yaml:5:13: error: module 'again': source './a.yaml' includes itself "
            "(in module 'a' called at stack.yaml:3:3)",
            "modules/a.yaml:10:39: error: unknown attribute 'bogus' for aws_sns_topic "
            "(in module 'a' called at stack.yaml:3:3)",
            "modules/b.yaml:1:1: error: a module file has no 'stack': the calling stack's applies "
            "(in module 'b' called at stack.yaml:6:3)",
            "stack.yaml:5:23: error: module 'a' has no input 'extra' (its variables are its inputs)",
            "stack.yaml:6:3: error: module 'b' needs input 'need' (declared without a default in "
            "modules/b.yaml)",
            "stack.yaml:9:13: error: module 'c': no file 'modules/missing.yaml'",
            "stack.yaml:10:3: error: module 'd' has no 'source' (the path of its file)",
            "stack.yaml:15:25: error: module 'a' has no output 'nope' in '${module.a.nope}'",
            "cairn: 8 errors in 'stack.yaml'"], p.stderr)
