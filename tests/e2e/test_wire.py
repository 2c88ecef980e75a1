"""Wire format of the platform types against botocore's models.

cairn runs the types' lifecycles through a recording proxy in front of moto;
every request it sends is decoded (JSON protocols: the body; query and ec2:
the form, walked along the operation's input shape, every parameter
accounted for) and validated with botocore's own parameter validator
against the operation's input shape. This covers the calls moto lacks or
gets wrong (ACM UpdateCertificateOptions, RDS ModifyDBSubnetGroup,
Application Auto Scaling tags, KMS rotation periods, ...), whose answers
here are moto's errors: what is checked is that AWS would take the request.
"""
import http.client
import http.server
import json
import re
import socketserver
import threading
import unittest
import urllib.parse

import botocore.session
from botocore.validate import ParamValidator

from family import FamilyCase

STACK = "wire"
# SigV4 credential scope service -> botocore service name
SERVICES = {"ec2": "ec2", "rds": "rds", "kms": "kms", "secretsmanager": "secretsmanager",
            "acm": "acm", "application-autoscaling": "application-autoscaling",
            "sts": "sts", "tagging": "resourcegroupstaggingapi", "ecs": "ecs",
            "dynamodb": "dynamodb", "ecr": "ecr", "elasticloadbalancing": "elbv2"}
SESSION = botocore.session.get_session()


class Recorder:
    """Forwards to moto and keeps (headers, body) of every request."""

    def __init__(self, upstream):
        u = urllib.parse.urlsplit(upstream)
        self.host, self.port = u.hostname, u.port
        self.requests = []
        rec = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, *args):
                pass

            def _handle(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                rec.requests.append((dict(self.headers.items()), body))
                conn = http.client.HTTPConnection(rec.host, rec.port, timeout=120)
                try:
                    conn.request(self.command, self.path, body=body,
                                 headers={k: v for k, v in self.headers.items()
                                          if k.lower() not in ("connection",)})
                    resp = conn.getresponse()
                    data = resp.read()
                    self.send_response(resp.status)
                    for k, v in resp.getheaders():
                        if k.lower() not in ("connection", "transfer-encoding",
                                             "content-length", "server", "date"):
                            self.send_header(k, v)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                finally:
                    conn.close()

            do_GET = do_POST = do_PUT = do_DELETE = _handle

        class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
            daemon_threads = True

        self.server = Server(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def _query_name(member_name, ref, ec2):
    if ec2:
        q = ref.serialization.get("queryName")
        if q:
            return q
        loc = ref.serialization.get("name")
        return loc[:1].upper() + loc[1:] if loc else member_name
    return ref.serialization.get("name", member_name)


def _decode(shape, prefix, form, used, ec2):
    """The value of shape at prefix in the flat form (None when absent)."""
    t = shape.type_name
    if t == "structure":
        out = {}
        for name, ref in shape.members.items():
            key = _query_name(name, ref, ec2)
            v = _decode(ref, prefix + key if not prefix else prefix + "." + key, form, used, ec2)
            if v is not None:
                out[name] = v
        return out or None
    if t == "list":
        if ec2 or shape.serialization.get("flattened"):
            base = prefix
        else:
            base = prefix + "." + shape.member.serialization.get("name", "member")
        out, i = [], 1
        while True:
            v = _decode(shape.member, "%s.%d" % (base, i), form, used, ec2)
            if v is None:
                break
            out.append(v)
            i += 1
        if not out and prefix in form and form[prefix] == "":
            used.add(prefix)      # an empty list is sent as "Name="
            return []
        return out or None
    if t == "map":
        base = prefix if shape.serialization.get("flattened") else prefix + ".entry"
        out, i = {}, 1
        while "%s.%d.key" % (base, i) in form:
            k = form["%s.%d.key" % (base, i)]
            used.add("%s.%d.key" % (base, i))
            out[k] = _decode(shape.value, "%s.%d.value" % (base, i), form, used, ec2)
            i += 1
        return out or None
    if prefix not in form:
        return None
    used.add(prefix)
    v = form[prefix]
    if t in ("integer", "long"):
        return int(v)
    if t in ("float", "double"):
        return float(v)
    if t == "boolean":
        if v not in ("true", "false"):
            raise AssertionError("%s: boolean %r" % (prefix, v))
        return v == "true"
    return v


def check_request(headers, body):
    """Validates one request against botocore's model: (operation, problems)."""
    auth = headers.get("Authorization", "")
    m = re.search(r"Credential=[^/]+/[^/]+/[^/]+/([^/]+)/", auth)
    svc = SERVICES.get(m.group(1) if m else "")
    if not svc:
        return None, ["unknown service in %r" % auth[:80]]
    model = SESSION.get_service_model(svc)
    target = headers.get("X-Amz-Target")
    if target:
        op = model.operation_model(target.split(".")[-1])
        params = json.loads(body or b"{}")
        problems = []
    else:
        form = dict(urllib.parse.parse_qsl(body.decode(), keep_blank_values=True))
        op = model.operation_model(form.pop("Action"))
        if form.pop("Version", None) != model.api_version:
            return op.name, ["wrong Version"]
        used = set()
        params = _decode(op.input_shape, "", form, used,
                         model.protocol == "ec2") if op.input_shape else {}
        params = params or {}
        problems = ["parameter %s is not in the model" % k for k in sorted(set(form) - used)]
    if op.input_shape is not None:
        report = ParamValidator().validate(params, op.input_shape)
        if report.has_errors():
            problems.append(report.generate_report())
    return op.name, problems


class Wire(FamilyCase):
    STACK = STACK

    def setUp(self):
        super().setUp()
        self.rec = Recorder(self.moto.url)
        self.addCleanup(self.rec.stop)
        self.env = dict(self.env, AWS_ENDPOINT_URL=self.rec.url)

    def doc(self, resources):
        self.write("stack.json", json.dumps({"stack": STACK, "region": "us-east-1",
                                             "resources": resources}))

    def run_all(self, *steps):
        for r in steps:
            self.doc(r)
            self.cairn("apply", "--auto-approve")
        self.cairn("destroy", "--auto-approve")

    def assert_wire(self, *must_have):
        seen = set()
        bad = []
        for headers, body in self.rec.requests:
            op, problems = check_request(headers, body)
            seen.add(op)
            if problems:
                bad.append("%s: %s" % (op, "; ".join(problems)))
        self.maxDiff = None
        self.assertEqual(bad, [])
        for op in must_have:
            self.assertIn(op, seen)

    def test_edge(self):
        ec2 = self.boto("ec2")
        vpc = ec2.create_vpc(CidrBlock="10.3.0.0/16")["Vpc"]["VpcId"]
        sn = ec2.create_subnet(VpcId=vpc, CidrBlock="10.3.1.0/24")["Subnet"]["SubnetId"]
        sg = ec2.create_security_group(GroupName="w", Description="w", VpcId=vpc)["GroupId"]
        rt = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
        eni = ec2.create_network_interface(SubnetId=sn)["NetworkInterface"]["NetworkInterfaceId"]
        base = {
            "ip": {"type": "aws_eip", "properties": {"tags": {"a": "1"}}},
            "nat": {"type": "aws_nat_gateway",
                    "properties": {"subnet_id": sn, "allocation_id": "${ip.id}"}},
            "gw": {"type": "aws_vpc_endpoint",
                   "properties": {"vpc_id": vpc, "service_name": "com.amazonaws.us-east-1.s3",
                                  "route_table_ids": [rt]}},
            "ifc": {"type": "aws_vpc_endpoint",
                    "properties": {"vpc_id": vpc, "vpc_endpoint_type": "Interface",
                                   "service_name": "com.amazonaws.us-east-1.ecr.api",
                                   "subnet_ids": [sn], "security_group_ids": [sg],
                                   "private_dns_enabled": True}}}
        changed = json.loads(json.dumps(base))
        changed["ip"]["properties"] = {"tags": {"b": "2"}, "network_interface": eni}
        changed["ifc"]["properties"].update(private_dns_enabled=False, security_group_ids=[],
                                            policy={"Version": "2012-10-17", "Statement": []})
        self.run_all(base, changed)
        self.assert_wire("AllocateAddress", "AssociateAddress", "CreateNatGateway",
                         "CreateVpcEndpoint", "ModifyVpcEndpoint", "DeleteVpcEndpoints",
                         "DeleteNatGateway", "ReleaseAddress", "CreateTags", "DeleteTags")

    def test_keys_and_secrets(self):
        base = {
            "key": {"type": "aws_kms_key",
                    "properties": {"deletion_window_in_days": 7, "tags": {"a": "1"}}},
            "al": {"type": "aws_kms_alias",
                   "properties": {"name": "alias/wire", "target_key_id": "${key.key_id}"}},
            "sec": {"type": "aws_secretsmanager_secret",
                    "properties": {"name": "wire/s", "recovery_window_in_days": 0,
                                   "kms_key_id": "${key.arn}"}},
            "ver": {"type": "aws_secretsmanager_secret_version",
                    "properties": {"secret_id": "${sec.id}", "secret_string": "x"}}}
        changed = json.loads(json.dumps(base))
        changed["key"]["properties"].update(enable_key_rotation=True,
                                            rotation_period_in_days=180, is_enabled=False,
                                            description="d", tags={"b": "2"})
        changed["sec"]["properties"].update(description="d", tags={"b": "2"}, policy={
            "Version": "2012-10-17", "Statement": []})
        changed["ver"]["properties"]["version_stages"] = ["AWSCURRENT", "blue"]
        self.run_all(base, changed)
        self.assert_wire("CreateKey", "EnableKeyRotation", "DisableKey", "UpdateKeyDescription",
                         "TagResource", "UntagResource", "CreateAlias", "DeleteAlias",
                         "ScheduleKeyDeletion", "CreateSecret", "UpdateSecret",
                         "PutResourcePolicy", "PutSecretValue", "UpdateSecretVersionStage",
                         "DeleteSecret")

    def test_certificate(self):
        base = {"tls": {"type": "aws_acm_certificate",
                        "properties": {"domain_name": "w.example",
                                       "subject_alternative_names": ["x.w.example"],
                                       "tags": {"a": "1"}}}}
        changed = json.loads(json.dumps(base))
        changed["tls"]["properties"].update(tags={"b": "2"}, options={
            "certificate_transparency_logging_preference": "DISABLED"})
        self.run_all(base, changed)
        self.assert_wire("RequestCertificate", "DescribeCertificate", "AddTagsToCertificate",
                         "RemoveTagsFromCertificate", "UpdateCertificateOptions",
                         "DeleteCertificate")

    def test_rds(self):
        ec2 = self.boto("ec2")
        vpc = ec2.create_vpc(CidrBlock="10.4.0.0/16")["Vpc"]["VpcId"]
        sns = [ec2.create_subnet(VpcId=vpc, CidrBlock="10.4.%d.0/24" % i,
                                 AvailabilityZone="us-east-1" + z)["Subnet"]["SubnetId"]
               for i, z in ((1, "a"), (2, "b"), (3, "c"))]
        sg = ec2.create_security_group(GroupName="w", Description="w", VpcId=vpc)["GroupId"]
        base = {
            "grp": {"type": "aws_db_subnet_group",
                    "properties": {"name": "wire", "subnet_ids": sns[:2], "tags": {"a": "1"}}},
            "db": {"type": "aws_db_instance",
                   "properties": {"identifier": "wire", "engine": "mysql",
                                  "instance_class": "db.t3.micro", "allocated_storage": 20,
                                  "username": "admin", "password": "Passw0rd-wire",
                                  "db_subnet_group_name": "${grp.name}",
                                  "vpc_security_group_ids": [sg], "skip_final_snapshot": True,
                                  "tags": {"a": "1"}}}}
        changed = json.loads(json.dumps(base))
        changed["grp"]["properties"].update(tags={"b": "2"})
        changed["db"]["properties"].update(instance_class="db.t3.small", password="Other-w0rd",
                                           apply_immediately=True, backup_retention_period=3,
                                           tags={"b": "2"})
        # moto deletes the group on ModifyDBSubnetGroup: its request is the last step
        last = json.loads(json.dumps(changed))
        del last["db"]
        last["grp"]["properties"]["subnet_ids"] = sns
        self.run_all(base, changed, last)
        self.assert_wire("CreateDBSubnetGroup", "CreateDBInstance", "ModifyDBInstance",
                         "AddTagsToResource", "RemoveTagsFromResource", "DeleteDBInstance",
                         "ModifyDBSubnetGroup")

    def test_scaling(self):
        ecs = self.boto("ecs")
        ecs.create_cluster(clusterName="w")
        ecs.register_task_definition(family="w", containerDefinitions=[
            {"name": "w", "image": "nginx", "memory": 128}])
        ecs.create_service(cluster="w", serviceName="w", taskDefinition="w", desiredCount=1)
        tgt = {"service_namespace": "ecs", "resource_id": "service/w/w",
               "scalable_dimension": "ecs:service:DesiredCount", "min_capacity": 1,
               "max_capacity": 3}
        pol = {"name": "p", "policy_type": "TargetTrackingScaling",
               "service_namespace": "${tgt.service_namespace}",
               "resource_id": "${tgt.resource_id}",
               "scalable_dimension": "${tgt.scalable_dimension}",
               "target_tracking_scaling_policy_configuration": {
                   "target_value": 50, "customized_metric_specification": {
                       "metric_name": "CPUUtilization", "namespace": "AWS/ECS",
                       "statistic": "Average",
                       "dimensions": [{"name": "ClusterName", "value": "w"}]}}}
        step = {"name": "s", "service_namespace": "${tgt.service_namespace}",
                "resource_id": "${tgt.resource_id}",
                "scalable_dimension": "${tgt.scalable_dimension}",
                "step_scaling_policy_configuration": {
                    "adjustment_type": "ChangeInCapacity", "cooldown": 60,
                    "step_adjustment": [{"metric_interval_lower_bound": 0,
                                         "scaling_adjustment": 1}]}}
        base = {"tgt": {"type": "aws_appautoscaling_target", "properties": tgt},
                "pol": {"type": "aws_appautoscaling_policy", "properties": pol},
                "step": {"type": "aws_appautoscaling_policy", "properties": step}}
        tagged = json.loads(json.dumps(base))
        tagged["tgt"]["properties"]["tags"] = {"a": "1"}
        self.run_all(base, tagged)
        self.assert_wire("RegisterScalableTarget", "TagResource", "PutScalingPolicy",
                         "DeleteScalingPolicy", "DeregisterScalableTarget")

    def test_checker_catches_a_bad_request(self):
        """The checker itself: an unknown member and a wrong type are caught."""
        op, problems = check_request(
            {"Authorization": "AWS4-HMAC-SHA256 Credential=AK/20260101/us-east-1/acm/aws4_request",
             "X-Amz-Target": "CertificateManager.UpdateCertificateOptions"},
            b'{"CertificateArn": "arn", "Options": {"Logging": "X"}}')
        self.assertEqual(op, "UpdateCertificateOptions")
        self.assertTrue(problems)
        op, problems = check_request(
            {"Authorization": "AWS4-HMAC-SHA256 Credential=AK/20260101/us-east-1/rds/aws4_request"},
            b"Action=ModifyDBSubnetGroup&Version=2014-10-31&DBSubnetGroupName=g"
            b"&SubnetIds.member.1=subnet-1")
        self.assertEqual(op, "ModifyDBSubnetGroup")
        self.assertTrue(any("SubnetIds.member.1" in p for p in problems), problems)
        op, problems = check_request(
            {"Authorization": "AWS4-HMAC-SHA256 Credential=AK/20260101/us-east-1/rds/aws4_request"},
            b"Action=ModifyDBSubnetGroup&Version=2014-10-31&DBSubnetGroupName=g"
            b"&SubnetIds.SubnetIdentifier.1=subnet-1")
        self.assertEqual(problems, [])


if __name__ == "__main__":
    unittest.main()
