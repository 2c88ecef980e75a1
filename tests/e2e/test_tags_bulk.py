"""Tags read in bulk: the batch reads of aws_sns_topic and aws_dynamodb_table
take the tags of all their resources from the Resource Groups Tagging API
(GetResources) instead of one tag call per resource. A no-op plan saves those
calls; tag drift still shows; a resource that lost its stack tag, or every
resource where the tagging API is denied, is read the per-resource way."""
import http.server
import json
import threading
import unittest

from faultproxy import FaultProxy
from harness import CairnTestCase

TOPICS = ["t0", "t1", "t2"]
TABLES = ["d0", "d1", "d2"]


class DeniedTagging:
    """A tagging API endpoint that answers every call with AccessDeniedException,
    as AWS does for an account without tag:GetResources."""

    def __init__(self):
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with owner.lock:
                    owner.calls += 1
                body = json.dumps({"__type": "AccessDeniedException",
                                   "message": "not authorized to perform: tag:GetResources"})
                self.send_response(400)
                self.send_header("Content-Type", "application/x-amz-json-1.1")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body.encode())

        self.lock = threading.Lock()
        self.calls = 0
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class BulkTags(CairnTestCase):
    made = 0   # stacks made so far: one moto serves the whole class

    def setUp(self):
        super().setUp()
        BulkTags.made += 1
        stack = "bulk%d" % BulkTags.made
        resources = {}
        for n in TOPICS:
            resources[n] = {"type": "aws_sns_topic",
                            "properties": {"name": stack + "-" + n, "tags": {"team": "core", "n": n}}}
        for n in TABLES:
            resources[n] = {"type": "aws_dynamodb_table",
                            "properties": {"name": stack + "-" + n, "billing_mode": "PAY_PER_REQUEST",
                                           "hash_key": "id",
                                           "attribute": [{"name": "id", "type": "S"}],
                                           "tags": {"team": "core", "n": n}}}
        self.write("stack.json", json.dumps({"stack": stack, "region": "us-east-1",
                                             "resources": resources}))
        self.cairn("apply", "--auto-approve", check=0)
        out = self.cairn("state", "list", check=0).stdout
        self.ids = {l.split("\t")[0]: l.split("\t")[2] for l in out.strip().splitlines()}
        self.proxy = FaultProxy(self.moto.url).start()
        self.addCleanup(self.proxy.stop)

    def table_arn(self, n):
        return self.boto("dynamodb").describe_table(TableName=self.ids[n])["Table"]["TableArn"]

    def plan(self, denied=None):
        """plan --detailed-exitcode through the counting proxy: (result, requests)."""
        env = {"AWS_ENDPOINT_URL": self.proxy.url}
        if denied:
            env["AWS_ENDPOINT_URL_RESOURCE_GROUPS_TAGGING_API"] = denied.url
        before = self.proxy.requests
        p = self.cairn("plan", "--detailed-exitcode", env=env)
        return p, self.proxy.requests - before

    def denied(self):
        d = DeniedTagging()
        self.addCleanup(d.stop)
        return d

    def test_noop_plan_saves_the_tag_calls(self):
        bulk, n_bulk = self.plan()
        self.assertEqual(bulk.returncode, 0, bulk.stdout + bulk.stderr)
        d = self.denied()
        per, n_per = self.plan(denied=d)
        self.assertEqual(per.returncode, 0, per.stdout + per.stderr)
        # one GetResources per type instead of one tag call per resource
        self.assertEqual(d.calls, 2)
        self.assertEqual(n_per - n_bulk, len(TOPICS) + len(TABLES) - 2)

    def test_tag_drift_shows_either_way(self):
        sns, ddb = self.boto("sns"), self.boto("dynamodb")
        sns.tag_resource(ResourceArn=self.ids["t1"], Tags=[{"Key": "team", "Value": "hacked"}])
        ddb.untag_resource(ResourceArn=self.table_arn("d2"), TagKeys=["n"])
        for denied in (None, self.denied()):
            p, _ = self.plan(denied=denied)
            self.assertEqual(p.returncode, 2, p.stdout + p.stderr)
            drift = p.stdout.split("Changed outside cairn:")[1]
            self.assertIn("hacked", drift)
            self.assertIn("d2", drift)
            self.assertNotIn("t0", drift)
            self.assertNotIn("d1", drift)
        self.cairn("apply", "--auto-approve", check=0)
        tags = {t["Key"]: t["Value"]
                for t in sns.list_tags_for_resource(ResourceArn=self.ids["t1"])["Tags"]}
        self.assertEqual(tags["team"], "core")
        tags = {t["Key"]: t["Value"]
                for t in ddb.list_tags_of_resource(ResourceArn=self.table_arn("d2"))["Tags"]}
        self.assertEqual(tags["n"], "d2")

    def test_lost_stack_tag_is_read_per_resource(self):
        # The bulk read finds resources by their stack tag: without it the
        # user tags must still read back, not as removed.
        self.boto("sns").untag_resource(ResourceArn=self.ids["t0"], TagKeys=["cairn:stack"])
        self.boto("dynamodb").untag_resource(ResourceArn=self.table_arn("d0"),
                                             TagKeys=["cairn:stack"])
        p, _ = self.plan()
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)

    def test_deleted_outside_shows_as_gone(self):
        # the tagging API may still list what is gone; existence comes from
        # the type's own describe call
        self.boto("sns").delete_topic(TopicArn=self.ids["t2"])
        self.boto("dynamodb").delete_table(TableName=self.ids["d1"])
        p, _ = self.plan()
        self.assertEqual(p.returncode, 2, p.stdout + p.stderr)
        self.assertIn("+ t2 (aws_sns_topic)", p.stdout)
        self.assertIn("+ d1 (aws_dynamodb_table)", p.stdout)


if __name__ == "__main__":
    unittest.main()
