"""Data and messaging family (aws_dynamodb_table, aws_sns_topic) against moto:
create -> check with boto3 -> no-op plan -> update in place -> drift shows and
is reverted -> replace -> import into a fresh state -> destroy."""
import json
import unittest

from family import FamilyCase

STACK = "data"


class DynamoDBTable(FamilyCase):
    STACK = STACK

    def describe(self, name):
        ddb = self.boto("dynamodb")
        try:
            return ddb.describe_table(TableName=name)["Table"]
        except ddb.exceptions.ResourceNotFoundException:
            return None

    def tags(self, arn):
        return {t["Key"]: t["Value"]
                for t in self.boto("dynamodb").list_tags_of_resource(ResourceArn=arn)["Tags"]}

    def gsis(self, table):
        return {g["IndexName"]: g for g in table.get("GlobalSecondaryIndexes", [])}

    def test_lifecycle(self):
        props = {"name": "data-orders", "billing_mode": "PROVISIONED",
                 "read_capacity": 5, "write_capacity": 5,
                 "hash_key": "pk", "range_key": "sk",
                 "attribute": [{"name": "pk", "type": "S"}, {"name": "sk", "type": "S"},
                               {"name": "customer", "type": "S"}],
                 "global_secondary_index": [{"name": "by_customer", "hash_key": "customer",
                                             "range_key": "sk", "projection_type": "INCLUDE",
                                             "non_key_attributes": ["total"],
                                             "read_capacity": 2, "write_capacity": 3}],
                 "ttl": {"attribute_name": "expires", "enabled": True},
                 "stream_enabled": True, "stream_view_type": "NEW_IMAGE",
                 "tags": {"team": "core"}}
        self.stack("orders", "aws_dynamodb_table", props)
        self.apply()
        self.assertEqual(self.ids()["orders"], "data-orders")
        t = self.describe("data-orders")
        self.assertEqual(t["TableStatus"], "ACTIVE")
        self.assertEqual(t["ProvisionedThroughput"]["ReadCapacityUnits"], 5)
        self.assertEqual(t["ProvisionedThroughput"]["WriteCapacityUnits"], 5)
        self.assertEqual({k["KeyType"]: k["AttributeName"] for k in t["KeySchema"]},
                         {"HASH": "pk", "RANGE": "sk"})
        self.assertEqual({a["AttributeName"]: a["AttributeType"] for a in t["AttributeDefinitions"]},
                         {"pk": "S", "sk": "S", "customer": "S"})
        g = self.gsis(t)["by_customer"]
        self.assertEqual(g["Projection"], {"ProjectionType": "INCLUDE",
                                           "NonKeyAttributes": ["total"]})
        self.assertEqual(g["ProvisionedThroughput"]["ReadCapacityUnits"], 2)
        self.assertEqual(g["ProvisionedThroughput"]["WriteCapacityUnits"], 3)
        self.assertEqual(t["StreamSpecification"], {"StreamEnabled": True,
                                                    "StreamViewType": "NEW_IMAGE"})
        ttl = self.boto("dynamodb").describe_time_to_live(TableName="data-orders")
        self.assertEqual(ttl["TimeToLiveDescription"]["TimeToLiveStatus"], "ENABLED")
        self.assertEqual(ttl["TimeToLiveDescription"]["AttributeName"], "expires")
        self.assertEqual(self.tags(t["TableArn"]),
                         {"team": "core", "cairn:stack": STACK, "cairn:resource": "orders"})
        shown = self.cairn("state", "show", "orders", "--json", check=0).stdout
        self.assertIn(t["LatestStreamArn"], shown)
        self.assert_noop()

        # update in place: capacity, a second index, tags
        props["read_capacity"] = 10
        props["attribute"].append({"name": "status", "type": "N"})
        props["global_secondary_index"].append({"name": "by_status", "hash_key": "status",
                                                "projection_type": "KEYS_ONLY",
                                                "read_capacity": 1, "write_capacity": 1})
        props["tags"] = {"team": "platform"}
        self.stack("orders", "aws_dynamodb_table", props)
        self.apply()
        self.assertEqual(self.ids()["orders"], "data-orders")
        t = self.describe("data-orders")
        self.assertEqual(t["ProvisionedThroughput"]["ReadCapacityUnits"], 10)
        self.assertEqual(sorted(self.gsis(t)), ["by_customer", "by_status"])
        self.assertEqual(self.gsis(t)["by_status"]["Projection"]["ProjectionType"], "KEYS_ONLY")
        self.assertEqual(self.tags(t["TableArn"])["team"], "platform")
        self.assert_noop()

        # drop the first index and its attribute; switch to on-demand billing
        props["global_secondary_index"] = props["global_secondary_index"][1:]
        props["attribute"] = [a for a in props["attribute"] if a["name"] != "customer"]
        props["billing_mode"] = "PAY_PER_REQUEST"
        props["stream_enabled"] = False
        del props["stream_view_type"]
        for k in ("read_capacity", "write_capacity"):
            del props[k]
            del props["global_secondary_index"][0][k]
        self.stack("orders", "aws_dynamodb_table", props)
        self.apply()
        t = self.describe("data-orders")
        self.assertEqual(t["BillingModeSummary"]["BillingMode"], "PAY_PER_REQUEST")
        self.assertEqual(sorted(self.gsis(t)), ["by_status"])
        self.assertFalse(t.get("StreamSpecification", {}).get("StreamEnabled", False))
        self.assert_noop()

        # drift: TTL switched off and a tag added outside cairn
        ddb = self.boto("dynamodb")
        ddb.update_time_to_live(TableName="data-orders", TimeToLiveSpecification={
            "Enabled": False, "AttributeName": "expires"})
        ddb.tag_resource(ResourceArn=t["TableArn"], Tags=[{"Key": "extra", "Value": "x"}])
        self.assert_drift("orders")
        self.apply()
        ttl = ddb.describe_time_to_live(TableName="data-orders")["TimeToLiveDescription"]
        self.assertEqual(ttl["TimeToLiveStatus"], "ENABLED")
        self.assertNotIn("extra", self.tags(t["TableArn"]))
        self.assert_noop()

        # replace: a new name makes a new table, the old one goes
        props["name"] = "data-orders2"
        self.stack("orders", "aws_dynamodb_table", props)
        p = self.cairn("plan")
        self.assertIn("must be replaced", p.stdout)
        self.apply()
        self.assertEqual(self.ids()["orders"], "data-orders2")
        self.assertIsNotNone(self.describe("data-orders2"))
        self.assertIsNone(self.describe("data-orders"))
        self.assert_noop()

        self.import_fresh("orders", "data-orders2")

        self.cairn("destroy", "--auto-approve", check=0)
        self.assertIsNone(self.describe("data-orders2"))
        self.assertEqual(self.ids(), {})

    def test_hash_key_forces_replacement(self):
        props = {"name": "data-keys", "billing_mode": "PAY_PER_REQUEST", "hash_key": "a",
                 "attribute": [{"name": "a", "type": "S"}]}
        self.stack("keys", "aws_dynamodb_table", props)
        self.apply()
        self.assert_noop()
        props["hash_key"] = "b"
        props["attribute"] = [{"name": "b", "type": "N"}]
        self.stack("keys", "aws_dynamodb_table", props)
        p = self.cairn("plan", "--detailed-exitcode")
        self.assertEqual(p.returncode, 2)
        self.assertIn("forces replacement", p.stdout)
        self.apply()
        t = self.describe("data-keys")
        self.assertEqual(t["KeySchema"], [{"AttributeName": "b", "KeyType": "HASH"}])
        self.assert_noop()
        self.cairn("destroy", "--auto-approve", check=0)
        self.assertIsNone(self.describe("data-keys"))

    def test_on_demand_to_provisioned_with_index(self):
        props = {"name": "data-bill", "billing_mode": "PAY_PER_REQUEST", "hash_key": "id",
                 "attribute": [{"name": "id", "type": "S"}, {"name": "g", "type": "S"}],
                 "global_secondary_index": [{"name": "by_g", "hash_key": "g",
                                             "projection_type": "ALL"}]}
        self.stack("t", "aws_dynamodb_table", props)
        self.apply()
        self.assert_noop()
        props.update({"billing_mode": "PROVISIONED", "read_capacity": 4, "write_capacity": 3})
        props["global_secondary_index"][0].update({"read_capacity": 2, "write_capacity": 1})
        self.stack("t", "aws_dynamodb_table", props)
        self.apply()
        t = self.describe("data-bill")
        self.assertEqual(t["BillingModeSummary"]["BillingMode"], "PROVISIONED")
        self.assertEqual((t["ProvisionedThroughput"]["ReadCapacityUnits"],
                          t["ProvisionedThroughput"]["WriteCapacityUnits"]), (4, 3))
        g = self.gsis(t)["by_g"]["ProvisionedThroughput"]
        self.assertEqual((g["ReadCapacityUnits"], g["WriteCapacityUnits"]), (2, 1))
        self.assert_noop()
        # an index capacity alone changes in place too
        props["global_secondary_index"][0]["read_capacity"] = 6
        self.stack("t", "aws_dynamodb_table", props)
        self.apply()
        g = self.gsis(self.describe("data-bill"))["by_g"]["ProvisionedThroughput"]
        self.assertEqual(g["ReadCapacityUnits"], 6)
        self.assert_noop()
        self.cairn("destroy", "--auto-approve", check=0)
        self.assertIsNone(self.describe("data-bill"))

    def test_ttl_move_and_key_checks(self):
        props = {"name": "data-ttl", "billing_mode": "PAY_PER_REQUEST", "hash_key": "id",
                 "attribute": [{"name": "id", "type": "S"}, {"name": "unused", "type": "S"}],
                 "ttl": {"attribute_name": "a"}}
        self.stack("t", "aws_dynamodb_table", props)
        p = self.cairn("apply", "--auto-approve")
        self.assertEqual(p.returncode, 1)
        self.assertIn("attribute 'unused' is not a key", p.stdout + p.stderr)
        self.assertIsNone(self.describe("data-ttl"))

        props["attribute"] = [{"name": "id", "type": "S"}]
        self.stack("t", "aws_dynamodb_table", props)
        self.apply()
        ddb = self.boto("dynamodb")
        ttl = ddb.describe_time_to_live(TableName="data-ttl")["TimeToLiveDescription"]
        self.assertEqual((ttl["TimeToLiveStatus"], ttl["AttributeName"]), ("ENABLED", "a"))
        self.assert_noop()
        props["ttl"] = {"attribute_name": "b"}
        self.stack("t", "aws_dynamodb_table", props)
        self.apply()
        ttl = ddb.describe_time_to_live(TableName="data-ttl")["TimeToLiveDescription"]
        self.assertEqual((ttl["TimeToLiveStatus"], ttl["AttributeName"]), ("ENABLED", "b"))
        self.assert_noop()
        props["ttl"] = {"attribute_name": "b", "enabled": False}
        self.stack("t", "aws_dynamodb_table", props)
        self.apply()
        ttl = ddb.describe_time_to_live(TableName="data-ttl")["TimeToLiveDescription"]
        self.assertEqual(ttl["TimeToLiveStatus"], "DISABLED")
        self.assert_noop()
        self.cairn("destroy", "--auto-approve", check=0)
        self.assertIsNone(self.describe("data-ttl"))

    def test_adopted_after_kill_mid_create(self):
        self.stack("kill", "aws_dynamodb_table", {
            "name": "data-kill", "billing_mode": "PAY_PER_REQUEST", "hash_key": "id",
            "attribute": [{"name": "id", "type": "S"}],
            "ttl": {"attribute_name": "expires", "enabled": True}})
        # killed before the TTL follow-up: the adopting run completes it
        self.kill_mid_create("kill", lambda: self.describe("data-kill") is not None)
        self.assertEqual(self.ids()["kill"], "data-kill")
        ttl = self.boto("dynamodb").describe_time_to_live(TableName="data-kill")
        self.assertEqual(ttl["TimeToLiveDescription"]["TimeToLiveStatus"], "ENABLED")
        self.cairn("destroy", "--auto-approve", check=0)
        self.assertIsNone(self.describe("data-kill"))

    def test_same_name_not_ours_is_not_adopted(self):
        self.boto("dynamodb").create_table(
            TableName="data-theirs", BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}])
        self.stack("t", "aws_dynamodb_table", {
            "name": "data-theirs", "billing_mode": "PAY_PER_REQUEST", "hash_key": "id",
            "attribute": [{"name": "id", "type": "S"}]})
        p = self.cairn("apply", "--auto-approve")
        self.assertEqual(p.returncode, 1)
        self.assertIn("ResourceInUseException", p.stdout + p.stderr)
        self.assertEqual(self.ids(), {})


POLICY = {"Version": "2012-10-17",
          "Statement": [{"Sid": "owner", "Effect": "Allow",
                         "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
                         "Action": ["SNS:Publish", "SNS:Subscribe"],
                         "Resource": "arn:aws:sns:us-east-1:123456789012:data-events"}]}


class SnsTopic(FamilyCase):
    STACK = STACK

    def attrs(self, arn):
        sns = self.boto("sns")
        try:
            return sns.get_topic_attributes(TopicArn=arn)["Attributes"]
        except sns.exceptions.NotFoundException:
            return None

    def tags(self, arn):
        return {t["Key"]: t["Value"]
                for t in self.boto("sns").list_tags_for_resource(ResourceArn=arn)["Tags"]}

    def topic_arns(self):
        return [t["TopicArn"] for t in self.boto("sns").list_topics()["Topics"]]

    def test_lifecycle(self):
        props = {"name": "data-events", "display_name": "Events", "policy": POLICY,
                 "tags": {"team": "core"}}
        self.stack("events", "aws_sns_topic", props)
        self.apply()
        arn = self.ids()["events"]
        self.assertTrue(arn.endswith(":data-events"), arn)
        a = self.attrs(arn)
        self.assertEqual(a["DisplayName"], "Events")
        self.assertEqual(json.loads(a["Policy"]), POLICY)
        self.assertEqual(self.tags(arn),
                         {"team": "core", "cairn:stack": STACK, "cairn:resource": "events"})
        shown = self.cairn("state", "show", "events", "--json", check=0).stdout
        self.assertIn(a["Owner"], shown)
        self.assert_noop()

        # update in place: display name, policy, tags
        props["display_name"] = "Order events"
        props["policy"] = json.loads(json.dumps(POLICY))
        props["policy"]["Statement"][0]["Action"] = ["SNS:Publish"]
        props["tags"] = {"team": "platform", "tier": "1"}
        self.stack("events", "aws_sns_topic", props)
        self.apply()
        self.assertEqual(self.ids()["events"], arn)
        a = self.attrs(arn)
        self.assertEqual(a["DisplayName"], "Order events")
        self.assertEqual(json.loads(a["Policy"])["Statement"][0]["Action"], ["SNS:Publish"])
        self.assertEqual(self.tags(arn)["tier"], "1")
        self.assert_noop()

        # drift: display name changed outside cairn
        self.boto("sns").set_topic_attributes(TopicArn=arn, AttributeName="DisplayName",
                                              AttributeValue="Hacked")
        self.assert_drift("events", "Hacked")
        self.apply()
        self.assertEqual(self.attrs(arn)["DisplayName"], "Order events")
        self.assert_noop()

        # replace: a new name is a new topic
        props["name"] = "data-events2"
        self.stack("events", "aws_sns_topic", props)
        self.apply()
        new_arn = self.ids()["events"]
        self.assertNotEqual(new_arn, arn)
        self.assertTrue(new_arn.endswith(":data-events2"))
        self.assertNotIn(arn, self.topic_arns())
        self.assertIn(new_arn, self.topic_arns())
        self.assert_noop()

        self.import_fresh("events", new_arn)

        self.cairn("destroy", "--auto-approve", check=0)
        self.assertNotIn(new_arn, self.topic_arns())
        self.assertEqual(self.ids(), {})

    def test_default_policy_and_fifo(self):
        # No policy in the stack: AWS's default policy reads back without a diff.
        props = {"name": "data-orders.fifo", "fifo_topic": True,
                 "content_based_deduplication": True}
        self.stack("fifo", "aws_sns_topic", props)
        self.apply()
        arn = self.ids()["fifo"]
        a = self.attrs(arn)
        self.assertEqual(str(a["FifoTopic"]).lower(), "true")
        self.assertEqual(str(a["ContentBasedDeduplication"]).lower(), "true")
        self.assertIn("Statement", json.loads(a["Policy"]))
        self.assert_noop()

        props["content_based_deduplication"] = False
        self.stack("fifo", "aws_sns_topic", props)
        self.apply()
        self.assertEqual(self.ids()["fifo"], arn)
        self.assertEqual(str(self.attrs(arn)["ContentBasedDeduplication"]).lower(), "false")
        self.assert_noop()

        # fifo_topic forces a new topic (and a name without .fifo)
        props = {"name": "data-plain"}
        self.stack("fifo", "aws_sns_topic", props)
        self.apply()
        self.assertNotIn(arn, self.topic_arns())
        self.assertNotIn("FifoTopic", self.attrs(self.ids()["fifo"]))
        self.assert_noop()

        self.cairn("destroy", "--auto-approve", check=0)
        self.assertEqual([a for a in self.topic_arns() if "data-" in a], [])

    def test_adopted_after_kill_mid_create(self):
        self.stack("kill", "aws_sns_topic", {"name": "data-kill", "display_name": "Kill"})
        self.kill_mid_create("kill", lambda: any(a.endswith(":data-kill")
                                                 for a in self.topic_arns()))
        arn = self.ids()["kill"]
        self.assertEqual([a for a in self.topic_arns() if a.endswith(":data-kill")], [arn])
        self.assertEqual(self.attrs(arn)["DisplayName"], "Kill")
        self.cairn("destroy", "--auto-approve", check=0)
        self.assertNotIn(arn, self.topic_arns())


if __name__ == "__main__":
    unittest.main()
