"""Hostile AWS answers through the fault proxy (faultproxy.py add_rule):
truncated bodies, answers cut mid-body, HTML instead of XML/JSON, a 200
carrying an error document, wrong content types, a stalled answer
(AWS_READ_TIMEOUT), a skewed server clock (RequestTimeTooSkewed /
SignatureDoesNotMatch), ExpiredToken mid-apply with refreshable
credentials, and a throttling storm.

Each case checks: no crash, a clear message naming the resource and the
cause when something fails, the state exact (what it records exists, what
AWS made is recorded or adopted), and a next apply that converges (exactly
one object per resource, checked with boto3, and a no-op plan).
"""
import datetime
import http.server
import json
import threading
import time

import harness
from faultproxy import FaultProxy
from harness import CairnTestCase

CRASH_MARKS = ("AddressSanitizer", "runtime error", "Segmentation fault", "core dumped",
               "Aborted", "LeakSanitizer")


def stack_text(stack):
    """Three protocols: a VPC (ec2), an SNS topic (query), an SSM parameter (json 1.1)."""
    return ("stack: %s\nregion: us-east-1\nresources:\n"
            "  vpc:\n    type: aws_vpc\n    properties:\n      cidr_block: 10.7.0.0/16\n"
            "  topic:\n    type: aws_sns_topic\n    properties:\n      name: %s-topic\n"
            "  param:\n    type: aws_ssm_parameter\n    properties:\n"
            "      name: /%s/param\n      type: String\n      value: hello\n"
            % (stack, stack, stack))


class HostileCase(CairnTestCase):
    def setUp(self):
        super().setUp()
        self.proxy = FaultProxy(self.moto.url).start()
        self.addCleanup(self.proxy.stop)
        self.env["AWS_ENDPOINT_URL"] = self.proxy.url
        self.stack = "h-" + self._testMethodName.replace("test_", "").replace("_", "-")[:40]
        self.write("stack.yaml", stack_text(self.stack))

    # --- checks -----------------------------------------------------------

    def apply(self, env=None, timeout=300):
        return self.cairn("apply", "--auto-approve", env=env, timeout=timeout)

    def assert_no_crash(self, p):
        out = p.stdout + p.stderr
        for mark in CRASH_MARKS:
            self.assertNotIn(mark, out)
        self.assertIn(p.returncode, (0, 1), out)

    def assert_failed(self, p, resource, *causes):
        """exit 1, and the message names the resource and the cause."""
        self.assert_no_crash(p)
        out = p.stdout + p.stderr
        self.assertEqual(p.returncode, 1, out)
        self.assertIn(resource, p.stderr + p.stdout)
        for c in causes:
            self.assertIn(c, out)

    def state_ids(self):
        out = self.cairn("state", "list", check=0).stdout
        return {l.split("\t")[0]: l.split("\t")[2] for l in out.strip().splitlines()}

    def aws_objects(self):
        """What AWS holds for this stack: name -> list of ids."""
        ec2 = self.boto("ec2")
        vpcs = [v["VpcId"] for v in ec2.describe_vpcs(Filters=[
            {"Name": "tag:cairn:stack", "Values": [self.stack]}])["Vpcs"]]
        topics = [t["TopicArn"] for t in self.boto("sns").list_topics()["Topics"]
                  if t["TopicArn"].endswith(":%s-topic" % self.stack)]
        params = [p["Name"] for p in self.boto("ssm").describe_parameters(
            ParameterFilters=[{"Key": "Name", "Values": ["/%s/param" % self.stack]}])
            ["Parameters"]]
        return {"vpc": vpcs, "topic": topics, "param": params}

    def assert_state_exact(self):
        """Every recorded object exists in AWS, and AWS holds at most one per resource."""
        ids = self.state_ids()
        aws = self.aws_objects()
        for name, objs in aws.items():
            self.assertLessEqual(len(objs), 1, "duplicate objects for %s: %s" % (name, objs))
            if name in ids:
                self.assertEqual(objs, [ids[name]], "state and AWS disagree on " + name)

    def assert_converges(self):
        """Without hostile answers the next apply finishes, one object each, no-op plan."""
        self.proxy.clear_rules()
        p = self.apply()
        self.assert_no_crash(p)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        ids = self.state_ids()
        aws = self.aws_objects()
        self.assertEqual(sorted(ids), ["param", "topic", "vpc"])
        for name, objs in aws.items():
            self.assertEqual(objs, [ids[name]], "after converging: %s %s" % (name, objs))
        p = self.cairn("plan", "--detailed-exitcode")
        self.assertEqual(p.returncode, 0, "plan not a no-op:\n" + p.stdout + p.stderr)


class TestMalformedAnswers(HostileCase):
    def test_truncated_create_answers(self):
        # AWS made the objects; the answers are cut: cairn must find and
        # adopt them, not forget them (orphans) nor make them twice.
        self.proxy.add_rule("truncate", ops={"CreateVpc", "CreateTopic", "PutParameter"},
                            count=3)
        p = self.apply()
        self.assert_no_crash(p)
        self.assertEqual(self.proxy.hits.get("truncate"), 3)
        self.assert_state_exact()
        self.assert_converges()

    def test_connection_cut_mid_body(self):
        self.proxy.add_rule("cut", ops={"CreateVpc", "CreateTopic", "PutParameter"}, count=3)
        p = self.apply()
        self.assert_no_crash(p)
        self.assertEqual(self.proxy.hits.get("cut"), 3)
        self.assert_state_exact()
        self.assert_converges()

    def test_html_instead_of_xml_or_json(self):
        self.proxy.add_rule("html", ops={"CreateVpc", "CreateTopic", "PutParameter"}, count=3)
        p = self.apply()
        self.assert_no_crash(p)
        self.assert_state_exact()
        self.assert_converges()
        # A read that always answers HTML: plan fails naming the resource and the cause.
        self.proxy.add_rule("html", ops={"DescribeVpcs"})
        p = self.cairn("plan")
        self.assert_failed(p, "vpc", "malformed XML response")
        self.assert_converges()
        self.proxy.add_rule("html", ops={"GetParameter", "GetParameters", "DescribeParameters"})
        p = self.cairn("plan")
        self.assert_failed(p, "param", "malformed JSON response")
        self.assert_converges()

    def test_error_document_in_a_200(self):
        # A retryable code in a 200 is retried; a refusal in a 200 fails the resource.
        self.proxy.add_rule("error200", ops={"CreateTopic"}, count=1, code="InternalError")
        p = self.apply()
        self.assert_no_crash(p)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertEqual(self.proxy.hits.get("error200"), 1)
        self.cairn("destroy", "--auto-approve", check=0)
        self.proxy.add_rule("error200", ops={"CreateTopic"}, code="AccessDenied")
        p = self.apply()
        self.assert_failed(p, "topic", "AccessDenied")
        self.assert_state_exact()
        self.assertNotIn("topic", self.state_ids())
        self.assert_converges()

    def test_wrong_content_types(self):
        self.proxy.add_rule("ctype", ctype="text/html; charset=iso-8859-1")
        p = self.apply()
        self.assert_no_crash(p)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertGreater(self.proxy.hits.get("ctype", 0), 3)
        self.assert_converges()


class TestSlowAndSkewed(HostileCase):
    def test_stalled_answer_times_out_and_is_retried(self):
        self.proxy.add_rule("stall", ops={"CreateTopic"}, count=1, seconds=20)
        t0 = time.time()
        p = self.apply(env={"AWS_READ_TIMEOUT": "2"})
        self.assert_no_crash(p)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertLess(time.time() - t0, 18)
        self.assert_converges()

    def test_stalled_every_time_fails_clearly(self):
        self.proxy.add_rule("stall", ops={"CreateTopic"}, seconds=20)
        t0 = time.time()
        p = self.apply(env={"AWS_READ_TIMEOUT": "1.5", "AWS_MAX_ATTEMPTS": "2"})
        self.assert_failed(p, "topic", "timed out")
        self.assertLess(time.time() - t0, 19)
        self.assertEqual(sorted(self.state_ids()), ["param", "vpc"])
        self.assert_state_exact()
        self.assert_converges()

    def skew_case(self, code):
        self.proxy.skew_code = code
        self.proxy.set(clock_offset=3600)
        p = self.cairn("-v", "apply", "--auto-approve")
        self.assert_no_crash(p)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr[-3000:])
        self.assertGreaterEqual(self.proxy.hits.get("skew", 0), 1)
        self.assertIn("clock skew", p.stderr)
        # every later request is signed with the server's time: few refusals
        self.assertLessEqual(self.proxy.hits["skew"], 4)
        ids = self.state_ids()
        self.assertEqual(sorted(ids), ["param", "topic", "vpc"])
        self.assert_converges()

    def test_clock_skew_request_time_too_skewed(self):
        self.skew_case("RequestTimeTooSkewed")

    def test_clock_skew_signature_does_not_match(self):
        self.skew_case("SignatureDoesNotMatch")


class _CredsHandler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        srv = self.server
        with srv.lock:
            srv.fetches += 1
            c = srv.sessions[min(srv.fetches, len(srv.sessions)) - 1]
        exp = (datetime.datetime.utcnow() + datetime.timedelta(hours=1)).strftime(
            "%Y-%m-%dT%H:%M:%SZ")
        body = json.dumps({"AccessKeyId": c["AccessKeyId"],
                           "SecretAccessKey": c["SecretAccessKey"],
                           "Token": c["SessionToken"], "Expiration": exp}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class TestCredentialsAndThrottling(HostileCase):
    def creds_server(self):
        srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _CredsHandler)
        # Two sessions of an allow-all role from moto's STS, served one after the other.
        iam = self.boto("iam")
        trust = json.dumps({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}]})
        role = iam.create_role(RoleName="hostile-" + self.stack[-20:],
                               AssumeRolePolicyDocument=trust)["Role"]
        iam.put_role_policy(RoleName=role["RoleName"], PolicyName="all",
                            PolicyDocument=harness.ALLOW_ALL)
        sts = self.boto("sts")
        srv.sessions = [sts.assume_role(RoleArn=role["Arn"], RoleSessionName="s%d" % i)
                        ["Credentials"] for i in range(2)]
        srv.fetches = 0
        srv.lock = threading.Lock()
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        self.addCleanup(srv.server_close)
        self.addCleanup(srv.shutdown)
        return srv

    def test_expired_token_mid_apply_refreshes_once(self):
        srv = self.creds_server()
        env = {"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "",
               "AWS_CONTAINER_CREDENTIALS_FULL_URI":
               "http://127.0.0.1:%d/creds" % srv.server_address[1]}
        # The first session works for reading; every create made with it is refused.
        self.proxy.add_rule("expired", ops={"CreateVpc", "CreateTopic", "PutParameter"},
                            key_id=srv.sessions[0]["AccessKeyId"])
        p = self.cairn("-v", "apply", "--auto-approve", env=env)
        self.assert_no_crash(p)
        self.assertEqual(p.returncode, 0, "fetches %d\n" % srv.fetches + p.stderr[-6000:])
        self.assertGreaterEqual(self.proxy.hits.get("expired", 0), 1)
        self.assertEqual(srv.fetches, 2, "credentials fetched %d times" % srv.fetches)
        self.assertEqual(sorted(self.state_ids()), ["param", "topic", "vpc"])
        self.env.update(env)
        self.assert_converges()

    def test_expired_token_that_stays_expired_fails_clearly(self):
        self.proxy.add_rule("expired", ops={"CreateTopic"}, token="static-token")
        p = self.apply(env={"AWS_SESSION_TOKEN": "static-token"})
        # static credentials cannot be refreshed: the resource fails, naming the cause
        self.assert_failed(p, "topic", "ExpiredToken")
        self.assertEqual(self.proxy.hits.get("expired"), 1)
        self.assert_state_exact()
        self.assert_converges()

    def test_throttling_storm(self):
        self.proxy.add_rule("throttle", service="sns")
        t0 = time.time()
        p = self.apply(env={"AWS_MAX_ATTEMPTS": "3"})
        self.assert_failed(p, "topic", "Throttling")
        self.assertLess(time.time() - t0, 60)
        self.assertGreaterEqual(self.proxy.hits["throttle"], 3)
        self.assertEqual(sorted(self.state_ids()), ["param", "vpc"])
        self.assert_state_exact()
        self.assert_converges()
