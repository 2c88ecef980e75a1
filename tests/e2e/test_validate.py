"""cairn validate, graph and schema: offline checks of a stack.

validate must report every error at its file:line:col and exit 1, make no
network call (it works with AWS pointed at a closed port) and create no
state file; graph prints DOT; schema lists and documents the types.
"""
import json
import os
import socket

from harness import CairnTestCase, free_port

DATA = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "data", "stacks")


def data(name):
    with open(os.path.join(DATA, name)) as f:
        return f.read()


BAD = """\
stack: bad
variables:
  env: {type: string, default: dev}
resources:
  vpc:
    type: aws_vpc
    properties:
      cidr: 10.0.0.0/16
      instance_tenancy: shared
  sub:
    type: aws_subnett
    properties: {}
  tg:
    type: aws_lb_target_group
    depends_on: [tg2]
    properties:
      name: tg-${var.envv}
      port: eighty
      vpc_id: ${vpcc.id}
  tg2:
    type: aws_lb_target_group
    properties:
      name: tg2
      port: 80
      vpc_id: ${tg.arn}
"""


class ValidateTest(CairnTestCase):
    def closed_port_env(self):
        # Nothing listens there: any AWS call would fail to connect.
        port = free_port()
        url = "http://127.0.0.1:%d" % port
        return {"AWS_ENDPOINT_URL": url, "AWS_ENDPOINT_URL_EC2": url, "AWS_ENDPOINT_URL_STS": url}

    def assert_no_state(self):
        self.assertFalse(os.path.exists(self.env["CAIRN_STATE"]), "validate created a state file")
        self.assertFalse(os.path.exists(os.path.join(self.dir, "cairn.db")))

    def test_valid_stack(self):
        self.write("stack.yaml", data("good.yaml"))
        p = self.cairn("validate", env=self.closed_port_env(), check=0)
        self.assertEqual(p.stdout, "Success! The stack is valid.\n")
        self.assertEqual(p.stderr, "")
        p = self.cairn("-q", "validate", env=self.closed_port_env(), check=0)
        self.assertEqual(p.stdout, "")
        self.assert_no_state()

    def test_valid_json_stack(self):
        self.write("stack.json", data("good.json"))
        self.cairn("validate", env=self.closed_port_env(), check=0)
        self.assert_no_state()

    def test_every_error_with_position(self):
        self.write("web.yaml", BAD)
        p = self.cairn("validate", "-f", "web.yaml", env=self.closed_port_env(), check=1)
        want = [
            "web.yaml:5:3: error: missing required attribute 'cidr_block' for aws_vpc",
            "web.yaml:8:7: error: unknown attribute 'cidr' for aws_vpc; did you mean 'cidr_block'?",
            "web.yaml:9:25: error: invalid value \"shared\" for 'instance_tenancy' of aws_vpc; "
            "allowed values: \"default\", \"dedicated\"",
            "web.yaml:11:11: error: unknown resource type 'aws_subnett'; did you mean 'aws_subnet'?",
            "web.yaml:13:3: error: dependency cycle: tg -> tg2 -> tg "
            "(tg at web.yaml:13:3, tg2 at web.yaml:20:3)",
            "web.yaml:17:16: error: unknown variable 'envv' in '${var.envv}'; did you mean 'env'?",
            "web.yaml:18:13: error: wrong type for 'port' of aws_lb_target_group: "
            "expected number, got string \"eighty\"",
            "web.yaml:19:15: error: reference to unknown resource 'vpcc' in '${vpcc.id}'; "
            "did you mean 'vpc'?",
        ]
        lines = p.stderr.splitlines()
        self.assertEqual(lines[:-1], want, p.stderr)
        self.assertEqual(lines[-1], "cairn: 8 errors in 'web.yaml'")
        self.assertEqual(p.stdout, "")
        self.assert_no_state()

    def test_syntax_error(self):
        self.write("stack.yaml", "stack: x\nresources:\n  a: [b\n")
        p = self.cairn("validate", env=self.closed_port_env(), check=1)
        self.assertRegex(p.stderr, r"^stack\.yaml:4:1: error: syntax error: ")
        self.write("s.json", '{"stack": "x",\n "resources": {"a": }}')
        p = self.cairn("validate", "-f", "s.json", check=1)
        self.assertTrue(p.stderr.startswith("s.json:2:21: error: syntax error: "), p.stderr)

    def test_variables_from_command_line(self):
        self.write("stack.yaml", "stack: s-${var.n}\nvariables:\n  n: {type: number}\n"
                   "resources: {}\n")
        p = self.cairn("validate", check=1)
        self.assertIn("stack.yaml:3:3: error: variable 'n' has no value", p.stderr)
        self.cairn("validate", "--var", "n=3", check=0)
        self.cairn("validate", env={"CAIRN_VAR_n": "4"}, check=0)
        self.write("vars.json", '{"n": 5}')
        self.cairn("validate", "--var-file", "vars.json", check=0)
        p = self.cairn("validate", "--var", "n=three", check=1)
        self.assertIn("error: variable 'n' (--var): expected a number, got \"three\"", p.stderr)
        p = self.cairn("validate", "--var", "n=1", "--var", "m=2", check=1)
        self.assertIn("error: --var 'm=2': no variable 'm' is declared in this stack", p.stderr)

    def test_expression_errors_with_position(self):
        # Each bad expression is reported at its own column inside the string.
        self.write("stack.yaml", """\
stack: expr
variables:
  azs: {type: list, default: [a, b]}
locals:
  loop: ${local.loop}
resources:
  vpc:
    type: aws_vpc
    properties:
      cidr_block: ${cidrsubnet("10.0.0.0/16", 8)}
      tags:
        A: ${nosuch(1)}
        B: ${upper([1])}
        C: x-${10 / 0}
        D: ${var.azs[length(var.azs)]}
        E: ${file("missing.txt")}
        F: ${1 +}
""")
        p = self.cairn("validate", env=self.closed_port_env(), check=1)
        want = [
            "stack.yaml:5:9: error: local value 'loop' depends on itself (a cycle of locals)",
            "stack.yaml:10:21: error: wrong number of arguments to cidrsubnet (2 given): "
            "cidrsubnet(prefix string, newbits number, netnum number)",
            "stack.yaml:12:14: error: unknown function 'nosuch'",
            "stack.yaml:13:14: error: wrong type for argument 1 of upper(str string): "
            "expected string, got list",
            "stack.yaml:14:19: error: division by zero",
            "stack.yaml:15:14: error: index 2 out of range for a list of 2 elements",
            "stack.yaml:16:14: error: file: no file 'missing.txt'",
            "stack.yaml:17:17: error: expected a value, found '}'",
        ]
        self.assertEqual(p.stderr.splitlines()[:-1], want, p.stderr)
        self.assertEqual(p.stderr.splitlines()[-1], "cairn: 8 errors in 'stack.yaml'")
        self.assert_no_state()

    def test_language_locals_anchors_templates(self):
        self.write("user-data.tftpl", "%{ for s in services ~}\nrun ${s} on ${port}\n%{ endfor ~}\n")
        self.write("stack.yaml", """\
stack: lang-${local.env}
region: us-east-1
variables:
  env: {type: string, default: production}
x-common: &common
  Team: platform
locals:
  env: ${substr(var.env, 0, 4)}
  cidrs: '${[for i in range(3) : cidrsubnet("10.0.0.0/16", 8, i)]}'
  script: '${templatefile("user-data.tftpl", {services = ["api", "web"], port = 80})}'
resources:
  vpc:
    type: aws_vpc
    properties:
      cidr_block: ${local.cidrs[2]}
      tags:
        <<: *common
        Name: '${var.env == "production" ? "prod" : "dev"}-${upper(local.env)}'
        Script: ${sha256(local.script)}
outputs:
  cidrs: {value: '${join(",", local.cidrs)}'}
""")
        self.cairn("validate", env=self.closed_port_env(), check=0)
        p = self.cairn("plan", "--refresh=false", "--json", env=self.closed_port_env(), check=0)
        plan = json.loads(p.stdout)
        self.assertEqual(plan["stack"], "lang-prod")
        after = plan["changes"][0]["after"]
        self.assertEqual(after["cidr_block"], "10.0.2.0/24")
        import hashlib
        script = "run api on 80\nrun web on 80\n"
        self.assertEqual(after["tags"], {"Team": "platform", "Name": "prod-PROD",
                                         "Script": hashlib.sha256(script.encode()).hexdigest()})
        self.assertEqual(plan["outputs"]["cidrs"]["value"], "10.0.0.0/24,10.0.1.0/24,10.0.2.0/24")
        self.assert_no_state()

    def test_no_stack_file(self):
        p = self.cairn("validate", check=1)
        self.assertIn("no stack file", p.stderr)


class GraphSchemaTest(CairnTestCase):
    def test_graph(self):
        self.write("stack.yaml", data("good.yaml"))
        p = self.cairn("graph", check=0)
        out = p.stdout
        self.assertTrue(out.startswith("digraph cairn {\n"), out)
        self.assertTrue(out.endswith("}\n"), out)
        for node in ('"vpc" [label="vpc (aws_vpc)"];', '"public_a" [label="public_a (aws_subnet)"];',
                     '"web_sg" [label="web_sg (aws_security_group)"];',
                     '"api_tg" [label="api_tg (aws_lb_target_group)"];'):
            self.assertIn(node, out)
        edges = sorted(l.strip() for l in out.splitlines() if "->" in l)
        self.assertEqual(edges, ['"api_tg" -> "vpc";', '"public_a" -> "vpc";',
                                 '"web_sg" -> "public_a";', '"web_sg" -> "vpc";'])
        # nodes come in dependency order: vpc before its dependents
        self.assertLess(out.index('"vpc" [label'), out.index('"public_a" [label'))
        self.assertFalse(os.path.exists(self.env["CAIRN_STATE"]))

    def test_graph_invalid_stack(self):
        self.write("stack.yaml", data("cycle.yaml"))
        p = self.cairn("graph", check=1)
        self.assertEqual(p.stdout, "")
        self.assertIn("dependency cycle: a -> c -> b -> a", p.stderr)

    def test_schema_list(self):
        p = self.cairn("schema", check=0)
        lines = p.stdout.splitlines()
        types = [l.split()[0] for l in lines]
        self.assertIn("aws_vpc", types)
        self.assertIn("aws_subnet", types)
        self.assertEqual(types, sorted(types))
        vpc = [l for l in lines if l.startswith("aws_vpc ")][0]
        self.assertIn("virtual private cloud", vpc.lower())
        p = self.cairn("schema", "--json", check=0)
        self.assertIn("aws_vpc", json.loads(p.stdout))

    def test_schema_type(self):
        p = self.cairn("schema", "aws_vpc", check=0)
        out = p.stdout
        self.assertTrue(out.startswith("aws_vpc: "), out)
        self.assertIn("  cidr_block: string, required, forces replacement\n", out)
        self.assertIn("  instance_tenancy: string, optional\n", out)
        self.assertIn('      default: "default"\n', out)
        self.assertIn('      allowed: ["default","dedicated"]\n', out)
        self.assertIn("  id: string, computed (read-only)\n", out)
        p = self.cairn("schema", "aws_lb_target_group", check=0)
        self.assertIn("  health_check: object, optional, computed when unset\n", p.stdout)
        self.assertIn("      health_check.path: string, optional\n", p.stdout)

    def test_schema_json(self):
        p = self.cairn("schema", "aws_vpc", "--json", check=0)
        doc = json.loads(p.stdout)
        self.assertEqual(doc["type"], "aws_vpc")
        self.assertTrue(doc["attributes"]["cidr_block"]["required"])

    def test_schema_unknown_type(self):
        p = self.cairn("schema", "aws_vcp", check=1)
        self.assertEqual(p.stdout, "")
        self.assertIn("unknown resource type 'aws_vcp'; did you mean 'aws_vpc'?", p.stderr)
