"""Platform family (aws_iam_role, aws_cloudwatch_log_group, aws_ssm_parameter,
aws_cloudwatch_metric_alarm) against moto: create -> check with boto3 ->
no-op plan -> update in place -> drift shows and is reverted -> replace ->
import into a fresh state -> destroy. Plus: an SSM parameter's value never
shows in plan, state show or the -v request log."""
import json
import unittest

from family import FamilyCase

STACK = "plat"
OWNER = {"cairn:stack": STACK}

TRUST = {"Version": "2012-10-17",
         "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                        "Principal": {"Service": "ecs-tasks.amazonaws.com"}}]}


def policy(action, resource="*"):
    return {"Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": action, "Resource": resource}]}


class IamRole(FamilyCase):
    STACK = STACK

    def role(self, name):
        iam = self.boto("iam")
        try:
            return iam.get_role(RoleName=name)["Role"]
        except iam.exceptions.NoSuchEntityException:
            return None

    def managed(self, name):
        return sorted(p["PolicyArn"] for p in
                      self.boto("iam").list_attached_role_policies(RoleName=name)
                      ["AttachedPolicies"])

    def inline(self, name):
        iam = self.boto("iam")
        return {p: iam.get_role_policy(RoleName=name, PolicyName=p)["PolicyDocument"]
                for p in iam.list_role_policies(RoleName=name)["PolicyNames"]}

    def tags(self, name):
        return {t["Key"]: t["Value"]
                for t in self.boto("iam").list_role_tags(RoleName=name)["Tags"]}

    def make_policy(self, name):
        return self.boto("iam").create_policy(
            PolicyName=name, PolicyDocument=json.dumps(policy("s3:GetObject")))["Policy"]["Arn"]

    def test_lifecycle(self):
        pa, pb = self.make_policy("plat-a"), self.make_policy("plat-b")
        props = {"name": "plat-app", "path": "/svc/", "description": "App role",
                 "assume_role_policy": TRUST, "max_session_duration": 7200,
                 "permissions_boundary": pb, "managed_policy_arns": [pa],
                 "inline_policy": [{"name": "logs", "policy": policy("logs:PutLogEvents")}],
                 "tags": {"team": "core"}}
        self.stack("app", "aws_iam_role", props)
        self.apply()
        self.assertEqual(self.ids()["app"], "plat-app")
        r = self.role("plat-app")
        self.assertEqual(r["Path"], "/svc/")
        self.assertEqual(r["Description"], "App role")
        self.assertEqual(r["MaxSessionDuration"], 7200)
        self.assertEqual(r["AssumeRolePolicyDocument"], TRUST)
        self.assertEqual(r["PermissionsBoundary"]["PermissionsBoundaryArn"], pb)
        self.assertEqual(self.managed("plat-app"), [pa])
        self.assertEqual(self.inline("plat-app"), {"logs": policy("logs:PutLogEvents")})
        self.assertEqual(self.tags("plat-app"),
                         dict(OWNER, team="core", **{"cairn:resource": "app"}))
        shown = json.loads(self.cairn("state", "show", "app", "--json", check=0).stdout)
        shown = shown.get("attributes", shown)
        self.assertEqual(shown["arn"], r["Arn"])
        self.assertEqual(shown["unique_id"], r["RoleId"])
        self.assertTrue(shown["create_date"])
        self.assert_noop()

        # update in place: description, session, trust, policies, tags
        trust2 = json.loads(json.dumps(TRUST))
        trust2["Statement"][0]["Principal"]["Service"] = "ecs.amazonaws.com"
        props.update(description="App role v2", max_session_duration=3600,
                     permissions_boundary="",
                     assume_role_policy=trust2, managed_policy_arns=[pb],
                     inline_policy=[{"name": "logs", "policy": policy("logs:*")},
                                    {"name": "sqs", "policy": policy("sqs:SendMessage")}],
                     tags={"tier": "1"})
        self.stack("app", "aws_iam_role", props)
        self.apply()
        r2 = self.role("plat-app")
        self.assertEqual(r2["RoleId"], r["RoleId"])
        self.assertEqual(r2["Description"], "App role v2")
        self.assertEqual(r2["MaxSessionDuration"], 3600)
        self.assertEqual(r2["AssumeRolePolicyDocument"], trust2)
        self.assertNotIn("PermissionsBoundary", r2)
        self.assertEqual(self.managed("plat-app"), [pb])
        self.assertEqual(self.inline("plat-app"), {"logs": policy("logs:*"),
                                                   "sqs": policy("sqs:SendMessage")})
        self.assertEqual(self.tags("plat-app"),
                         dict(OWNER, tier="1", **{"cairn:resource": "app"}))
        self.assert_noop()

        # drift: description and an extra managed policy set outside cairn
        self.boto("iam").update_role(RoleName="plat-app", Description="Hacked")
        self.boto("iam").attach_role_policy(RoleName="plat-app", PolicyArn=pa)
        self.assert_drift("app", "Hacked", "plat-a")
        self.apply()
        self.assertEqual(self.role("plat-app")["Description"], "App role v2")
        self.assertEqual(self.managed("plat-app"), [pb])
        self.assert_noop()

        # replace: a new name is a new role; the old one goes with its policies
        props["name"] = "plat-app2"
        self.stack("app", "aws_iam_role", props)
        p = self.cairn("plan", "--detailed-exitcode")
        self.assertIn("forces replacement", p.stdout)
        self.apply()
        self.assertEqual(self.ids()["app"], "plat-app2")
        self.assertIsNone(self.role("plat-app"))
        self.assertEqual(self.managed("plat-app2"), [pb])
        self.assert_noop()

        self.import_fresh("app", "plat-app2")

        self.cairn("destroy", "--auto-approve", check=0)
        self.assertIsNone(self.role("plat-app2"))
        self.assertEqual(self.ids(), {})
        # the managed policies themselves are not the role's to delete
        self.boto("iam").get_policy(PolicyArn=pb)

    def test_policies_left_out_are_not_managed(self):
        props = {"name": "plat-bare", "assume_role_policy": TRUST}
        self.stack("bare", "aws_iam_role", props)
        self.apply()
        r = self.role("plat-bare")
        self.assertEqual(r["Path"], "/")
        self.assertEqual(r["MaxSessionDuration"], 3600)
        self.assert_noop()
        # a policy attached by someone else is not cairn's to detach ...
        pa = self.make_policy("plat-c")
        self.boto("iam").attach_role_policy(RoleName="plat-bare", PolicyArn=pa)
        self.assert_noop()
        # ... but destroy detaches it, or the role could not be deleted
        self.cairn("destroy", "--auto-approve", check=0)
        self.assertIsNone(self.role("plat-bare"))

    def test_missing_policy_fails_with_the_role_recorded(self):
        bad = "arn:aws:iam::123456789012:policy/plat-missing"
        props = {"name": "plat-err", "assume_role_policy": TRUST, "managed_policy_arns": [bad]}
        self.stack("err", "aws_iam_role", props)
        r = self.cairn("apply", "--auto-approve")
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        for w in ("err", "AttachRolePolicy", "NoSuchEntity"):
            self.assertIn(w, r.stderr)
        # the role exists and is recorded: the next apply only attaches
        self.assertEqual(self.ids(), {"err": "plat-err"})
        props["managed_policy_arns"] = [self.make_policy("plat-d")]
        self.stack("err", "aws_iam_role", props)
        p = self.cairn("plan")
        self.assertIn("1 to change", p.stdout)
        self.apply()
        self.assertEqual(self.managed("plat-err"), props["managed_policy_arns"])
        self.assert_noop()
        self.cairn("destroy", "--auto-approve", check=0)
        self.assertIsNone(self.role("plat-err"))

    def test_adopted_after_kill_mid_create(self):
        self.stack("kill", "aws_iam_role", {"name": "plat-kill", "assume_role_policy": TRUST})
        self.kill_mid_create("kill", lambda: self.role("plat-kill") is not None)
        self.assertEqual(self.ids()["kill"], "plat-kill")
        self.cairn("destroy", "--auto-approve", check=0)
        self.assertIsNone(self.role("plat-kill"))


class LogGroup(FamilyCase):
    STACK = STACK

    def group(self, name):
        for g in self.boto("logs").describe_log_groups(logGroupNamePrefix=name)["logGroups"]:
            if g["logGroupName"] == name:
                return g
        return None

    def tags(self, arn):
        return self.boto("logs").list_tags_for_resource(resourceArn=arn)["tags"]

    def test_lifecycle(self):
        props = {"name": "/plat/app", "retention_in_days": 7, "tags": {"team": "core"}}
        self.stack("logs", "aws_cloudwatch_log_group", props)
        self.apply()
        self.assertEqual(self.ids()["logs"], "/plat/app")
        g = self.group("/plat/app")
        self.assertEqual(g["retentionInDays"], 7)
        arn = g["arn"][:-2] if g["arn"].endswith(":*") else g["arn"]
        self.assertEqual(self.tags(arn), dict(OWNER, team="core", **{"cairn:resource": "logs"}))
        shown = self.cairn("state", "show", "logs", "--json", check=0).stdout
        self.assertIn(json.dumps(arn), shown)
        self.assert_noop()

        # update in place: retention, tags
        props.update(retention_in_days=30, tags={"tier": "1"})
        self.stack("logs", "aws_cloudwatch_log_group", props)
        self.apply()
        self.assertEqual(self.ids()["logs"], "/plat/app")
        self.assertEqual(self.group("/plat/app")["retentionInDays"], 30)
        self.assertEqual(self.tags(arn),
                         dict(OWNER, tier="1", **{"cairn:resource": "logs"}))
        self.assert_noop()

        # back to keeping events forever: the retention policy goes
        props["retention_in_days"] = 0
        self.stack("logs", "aws_cloudwatch_log_group", props)
        self.apply()
        self.assertNotIn("retentionInDays", self.group("/plat/app"))
        self.assert_noop()

        # drift: a retention policy set outside cairn
        self.boto("logs").put_retention_policy(logGroupName="/plat/app", retentionInDays=14)
        self.assert_drift("logs", "retention_in_days")
        self.apply()
        self.assertNotIn("retentionInDays", self.group("/plat/app"))
        self.assert_noop()

        # replace: a new name is a new group
        props["name"] = "/plat/app2"
        self.stack("logs", "aws_cloudwatch_log_group", props)
        self.apply()
        self.assertEqual(self.ids()["logs"], "/plat/app2")
        self.assertIsNone(self.group("/plat/app"))
        self.assertIsNotNone(self.group("/plat/app2"))
        self.assert_noop()

        self.import_fresh("logs", "/plat/app2")

        self.cairn("destroy", "--auto-approve", check=0)
        self.assertIsNone(self.group("/plat/app2"))
        self.assertEqual(self.ids(), {})

    def test_adopted_after_kill_mid_create(self):
        self.stack("kill", "aws_cloudwatch_log_group",
                   {"name": "/plat/kill", "retention_in_days": 3})
        self.kill_mid_create("kill", lambda: self.group("/plat/kill") is not None)
        self.assertEqual(self.ids()["kill"], "/plat/kill")
        self.assertEqual(self.group("/plat/kill")["retentionInDays"], 3)
        self.cairn("destroy", "--auto-approve", check=0)
        self.assertIsNone(self.group("/plat/kill"))

    def test_kms_key(self):
        key = "arn:aws:kms:us-east-1:123456789012:key/plat-logs"
        self.stack("enc", "aws_cloudwatch_log_group", {"name": "/plat/enc", "kms_key_id": key})
        self.apply()
        self.assertEqual(self.group("/plat/enc")["kmsKeyId"], key)
        self.assertNotIn("retentionInDays", self.group("/plat/enc"))
        self.assert_noop()
        self.cairn("destroy", "--auto-approve", check=0)
        self.assertIsNone(self.group("/plat/enc"))

    def test_batch_refresh_and_deleted_outside(self):
        doc = {"stack": STACK, "region": "us-east-1", "resources": {
            "g%d" % i: {"type": "aws_cloudwatch_log_group",
                        "properties": {"name": "/plat/batch/%d" % i}} for i in range(3)}}
        self.write("stack.json", json.dumps(doc))
        self.apply()
        self.assertEqual(len(self.ids()), 3)
        self.assert_noop()
        self.boto("logs").delete_log_group(logGroupName="/plat/batch/1")
        p = self.cairn("plan", "--detailed-exitcode")
        self.assertEqual(p.returncode, 2, p.stdout + p.stderr)
        self.assertIn("Plan: 1 to add, 0 to change, 0 to destroy.", p.stdout)
        self.apply()
        self.assertIsNotNone(self.group("/plat/batch/1"))
        self.cairn("destroy", "--auto-approve", check=0)
        self.assertEqual([self.group("/plat/batch/%d" % i) for i in range(3)], [None] * 3)


SECRET = "s3cr3t-Value-42"
SECRET2 = "n3w-Value-43"


class SsmParameter(FamilyCase):
    STACK = STACK

    def param(self, name):
        ssm = self.boto("ssm")
        try:
            return ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]
        except ssm.exceptions.ParameterNotFound:
            return None

    def meta(self, name):
        ps = self.boto("ssm").describe_parameters(
            ParameterFilters=[{"Key": "Name", "Values": [name]}])["Parameters"]
        return ps[0] if ps else None

    def tags(self, name):
        return {t["Key"]: t["Value"] for t in self.boto("ssm").list_tags_for_resource(
            ResourceType="Parameter", ResourceId=name)["TagList"]}

    def assert_hidden(self, p, *secrets):
        for s in secrets:
            self.assertNotIn(s, p.stdout)
            self.assertNotIn(s, p.stderr)

    def test_lifecycle(self):
        props = {"name": "/plat/db/password", "type": "SecureString", "value": SECRET,
                 "description": "DB password", "tags": {"team": "core"}}
        self.stack("pw", "aws_ssm_parameter", props)
        p = self.cairn("plan")
        self.assertIn("(sensitive)", p.stdout)
        self.assert_hidden(p, SECRET)
        p = self.cairn("-v", "apply", "--auto-approve", check=0)
        self.assert_hidden(p, SECRET)
        self.assertEqual(self.ids()["pw"], "/plat/db/password")
        prm = self.param("/plat/db/password")
        self.assertEqual(prm["Value"], SECRET)
        self.assertEqual(prm["Type"], "SecureString")
        self.assertEqual(prm["Version"], 1)
        m = self.meta("/plat/db/password")
        self.assertEqual(m["Description"], "DB password")
        self.assertEqual(m.get("Tier", "Standard"), "Standard")
        self.assertEqual(self.tags("/plat/db/password"),
                         dict(OWNER, team="core", **{"cairn:resource": "pw"}))
        for args in (("state", "show", "pw"), ("state", "show", "pw", "--json"),
                     ("-v", "plan"), ("-v", "refresh"), ("plan", "--json")):
            p = self.cairn(*args, check=0)
            self.assert_hidden(p, SECRET)
        shown = self.cairn("state", "show", "pw", check=0).stdout
        self.assertIn("(sensitive)", shown)
        self.assertIn(prm["ARN"], shown)
        self.assert_noop()

        # update in place: value, description, tags
        props.update(value=SECRET2, description="DB password v2",
                     tags={"tier": "1"})
        self.stack("pw", "aws_ssm_parameter", props)
        p = self.cairn("-v", "plan", "--detailed-exitcode")
        self.assertEqual(p.returncode, 2)
        self.assertIn("value", p.stdout)
        self.assert_hidden(p, SECRET, SECRET2)
        self.assert_hidden(self.cairn("plan", "--json"), SECRET, SECRET2)
        p = self.cairn("-v", "apply", "--auto-approve", check=0)
        self.assert_hidden(p, SECRET, SECRET2)
        prm = self.param("/plat/db/password")
        self.assertEqual(prm["Value"], SECRET2)
        self.assertEqual(prm["Version"], 2)
        self.assertEqual(self.meta("/plat/db/password")["Description"], "DB password v2")
        self.assertEqual(self.tags("/plat/db/password"),
                         dict(OWNER, tier="1", **{"cairn:resource": "pw"}))
        self.assert_noop()

        # the type changes in place too
        props["type"] = "String"
        self.stack("pw", "aws_ssm_parameter", props)
        self.apply()
        self.assertEqual(self.param("/plat/db/password")["Type"], "String")
        self.assertEqual(self.ids()["pw"], "/plat/db/password")
        self.assert_noop()

        # drift: the value overwritten outside cairn
        self.boto("ssm").put_parameter(Name="/plat/db/password", Value="hacked-Value",
                                       Type="String", Overwrite=True)
        p = self.assert_drift("pw", "value")
        self.assert_hidden(p, "hacked-Value", SECRET2)
        self.apply()
        self.assertEqual(self.param("/plat/db/password")["Value"], SECRET2)
        self.assert_noop()

        # replace: a new name is a new parameter
        props["name"] = "/plat/db/password2"
        self.stack("pw", "aws_ssm_parameter", props)
        self.apply()
        self.assertEqual(self.ids()["pw"], "/plat/db/password2")
        self.assertIsNone(self.param("/plat/db/password"))
        self.assertEqual(self.param("/plat/db/password2")["Value"], SECRET2)
        self.assert_noop()

        self.import_fresh("pw", "/plat/db/password2")

        self.cairn("destroy", "--auto-approve", check=0)
        self.assertIsNone(self.param("/plat/db/password2"))
        self.assertEqual(self.ids(), {})

    def test_key_id(self):
        props = {"name": "/plat/enc", "type": "SecureString", "value": SECRET}
        self.stack("enc", "aws_ssm_parameter", props)
        self.apply()
        self.assertEqual(self.meta("/plat/enc")["KeyId"], "alias/aws/ssm")
        self.assert_noop()
        props["key_id"] = "alias/plat"
        self.stack("enc", "aws_ssm_parameter", props)
        self.apply()
        self.assertEqual(self.meta("/plat/enc")["KeyId"], "alias/plat")
        self.assertEqual(self.param("/plat/enc")["Value"], SECRET)
        self.assertEqual(self.param("/plat/enc")["Version"], 2)
        self.assert_noop()
        self.cairn("destroy", "--auto-approve", check=0)
        self.assertIsNone(self.param("/plat/enc"))

    def test_tier(self):
        props = {"name": "/plat/big", "type": "String", "value": "v1", "tier": "Advanced",
                 "tags": {"team": "core"}}
        self.stack("big", "aws_ssm_parameter", props)
        self.apply()
        self.assertEqual(self.meta("/plat/big")["Tier"], "Advanced")
        self.assert_noop()
        # back to Standard: AWS needs the parameter put again (moto would
        # overwrite in place); the ownership tags come back with it
        props["tier"] = "Standard"
        self.stack("big", "aws_ssm_parameter", props)
        self.apply()
        self.assertEqual(self.meta("/plat/big")["Tier"], "Standard")
        self.assertEqual(self.param("/plat/big")["Value"], "v1")
        self.assertEqual(self.tags("/plat/big"),
                         dict(OWNER, team="core", **{"cairn:resource": "big"}))
        self.assert_noop()
        self.cairn("destroy", "--auto-approve", check=0)
        self.assertIsNone(self.param("/plat/big"))

    def test_batch_read_of_many(self):
        # more than one GetParameters call (10 names each)
        doc = {"stack": STACK, "region": "us-east-1", "resources": {
            "p%02d" % i: {"type": "aws_ssm_parameter",
                          "properties": {"name": "/plat/many/%02d" % i, "type": "String",
                                         "value": "v%d" % i}} for i in range(12)}}
        self.write("stack.json", json.dumps(doc))
        self.apply()
        self.assertEqual(len(self.ids()), 12)
        self.assert_noop()
        self.boto("ssm").put_parameter(Name="/plat/many/11", Value="changed", Type="String",
                                       Overwrite=True)
        self.boto("ssm").delete_parameter(Name="/plat/many/03")
        p = self.cairn("plan", "--detailed-exitcode")
        self.assertEqual(p.returncode, 2, p.stdout + p.stderr)
        self.assertIn("Plan: 1 to add, 1 to change, 0 to destroy.", p.stdout)
        self.apply()
        self.assertEqual(self.param("/plat/many/11")["Value"], "v11")
        self.assertEqual(self.param("/plat/many/03")["Value"], "v3")
        self.assert_noop()
        self.cairn("destroy", "--auto-approve", check=0)
        self.assertEqual(self.ids(), {})

    def test_adopted_after_kill_mid_create(self):
        self.stack("kill", "aws_ssm_parameter",
                   {"name": "/plat/kill", "type": "SecureString", "value": SECRET})
        self.kill_mid_create("kill", lambda: self.param("/plat/kill") is not None)
        self.assertEqual(self.ids()["kill"], "/plat/kill")
        self.cairn("destroy", "--auto-approve", check=0)
        self.assertIsNone(self.param("/plat/kill"))


class MetricAlarm(FamilyCase):
    STACK = STACK

    def alarm(self, name):
        a = self.boto("cloudwatch").describe_alarms(AlarmNames=[name])["MetricAlarms"]
        return a[0] if a else None

    def tags(self, arn):
        return {t["Key"]: t["Value"] for t in
                self.boto("cloudwatch").list_tags_for_resource(ResourceARN=arn)["Tags"]}

    def test_lifecycle(self):
        sns = self.boto("sns")
        t1 = sns.create_topic(Name="plat-pager")["TopicArn"]
        t2 = sns.create_topic(Name="plat-mail")["TopicArn"]
        props = {"alarm_name": "plat-cpu", "comparison_operator": "GreaterThanThreshold",
                 "evaluation_periods": 2, "metric_name": "CPUUtilization",
                 "namespace": "AWS/ECS", "period": 60, "statistic": "Average",
                 "threshold": 80, "unit": "Percent", "alarm_description": "CPU high",
                 "alarm_actions": [t1], "ok_actions": [t2],
                 "dimensions": {"ClusterName": "web", "ServiceName": "api"},
                 "treat_missing_data": "breaching", "tags": {"team": "core"}}
        self.stack("cpu", "aws_cloudwatch_metric_alarm", props)
        self.apply()
        self.assertEqual(self.ids()["cpu"], "plat-cpu")
        a = self.alarm("plat-cpu")
        self.assertEqual(a["ComparisonOperator"], "GreaterThanThreshold")
        self.assertEqual(a["EvaluationPeriods"], 2)
        self.assertEqual(a["MetricName"], "CPUUtilization")
        self.assertEqual(a["Namespace"], "AWS/ECS")
        self.assertEqual(a["Period"], 60)
        self.assertEqual(a["Statistic"], "Average")
        self.assertEqual(a["Threshold"], 80.0)
        self.assertEqual(a["Unit"], "Percent")
        self.assertEqual(a["AlarmDescription"], "CPU high")
        self.assertTrue(a["ActionsEnabled"])
        self.assertEqual(a["AlarmActions"], [t1])
        self.assertEqual(a["OKActions"], [t2])
        self.assertEqual(a.get("InsufficientDataActions", []), [])
        self.assertEqual({d["Name"]: d["Value"] for d in a["Dimensions"]},
                         {"ClusterName": "web", "ServiceName": "api"})
        self.assertEqual(a["TreatMissingData"], "breaching")
        self.assertEqual(self.tags(a["AlarmArn"]),
                         dict(OWNER, team="core", **{"cairn:resource": "cpu"}))
        self.assert_noop()

        # update in place: threshold, periods, datapoints, actions, tags
        props.update(threshold=90.5, evaluation_periods=3, datapoints_to_alarm=2,
                     actions_enabled=False, alarm_actions=[t1, t2], ok_actions=[],
                     insufficient_data_actions=[t2], dimensions={"ClusterName": "web"},
                     tags={"tier": "1"})
        del props["unit"]
        self.stack("cpu", "aws_cloudwatch_metric_alarm", props)
        self.apply()
        self.assertEqual(self.ids()["cpu"], "plat-cpu")
        a = self.alarm("plat-cpu")
        self.assertEqual(a["Threshold"], 90.5)
        self.assertNotIn("Unit", a)
        self.assertEqual(a["EvaluationPeriods"], 3)
        self.assertEqual(a["DatapointsToAlarm"], 2)
        self.assertFalse(a["ActionsEnabled"])
        self.assertEqual(sorted(a["AlarmActions"]), sorted([t1, t2]))
        self.assertEqual(a.get("OKActions", []), [])
        self.assertEqual(a["InsufficientDataActions"], [t2])
        self.assertEqual(a["Dimensions"], [{"Name": "ClusterName", "Value": "web"}])
        self.assertEqual(self.tags(a["AlarmArn"]),
                         dict(OWNER, tier="1", **{"cairn:resource": "cpu"}))
        self.assert_noop()

        # drift: the threshold changed outside cairn
        cw = self.boto("cloudwatch")
        cw.put_metric_alarm(AlarmName="plat-cpu", ComparisonOperator="GreaterThanThreshold",
                            EvaluationPeriods=3, DatapointsToAlarm=2,
                            MetricName="CPUUtilization", Namespace="AWS/ECS", Period=60,
                            Statistic="Average", Threshold=99, AlarmDescription="CPU high",
                            ActionsEnabled=False, AlarmActions=[t1, t2],
                            InsufficientDataActions=[t2],
                            Dimensions=[{"Name": "ClusterName", "Value": "web"}],
                            TreatMissingData="breaching")
        self.assert_drift("cpu", "threshold")
        self.apply()
        self.assertEqual(self.alarm("plat-cpu")["Threshold"], 90.5)
        self.assert_noop()

        # replace: a new name is a new alarm
        props["alarm_name"] = "plat-cpu2"
        self.stack("cpu", "aws_cloudwatch_metric_alarm", props)
        self.apply()
        self.assertEqual(self.ids()["cpu"], "plat-cpu2")
        self.assertIsNone(self.alarm("plat-cpu"))
        self.assertIsNotNone(self.alarm("plat-cpu2"))
        self.assert_noop()

        self.import_fresh("cpu", "plat-cpu2")

        self.cairn("destroy", "--auto-approve", check=0)
        self.assertIsNone(self.alarm("plat-cpu2"))
        self.assertEqual(self.ids(), {})

    def test_adopted_after_kill_mid_create(self):
        props = {"alarm_name": "plat-kill", "comparison_operator": "LessThanThreshold",
                 "evaluation_periods": 1, "metric_name": "HealthyHostCount",
                 "namespace": "AWS/ApplicationELB", "period": 60, "statistic": "Minimum",
                 "threshold": 1}
        self.stack("kill", "aws_cloudwatch_metric_alarm", props)
        self.kill_mid_create("kill", lambda: self.alarm("plat-kill") is not None)
        self.assertEqual(self.ids()["kill"], "plat-kill")
        self.cairn("destroy", "--auto-approve", check=0)
        self.assertIsNone(self.alarm("plat-kill"))


STACK_YAML = """
stack: plat
region: us-east-1
resources:
  alerts:
    type: aws_sns_topic
    properties: {name: plat-alerts}
  task_role:
    type: aws_iam_role
    properties:
      name: plat-task
      assume_role_policy:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Action: sts:AssumeRole
            Principal: {Service: ecs-tasks.amazonaws.com}
      inline_policy:
        - name: logs
          policy:
            Version: "2012-10-17"
            Statement:
              - {Effect: Allow, Action: ["logs:PutLogEvents"], Resource: "${app_logs.arn}"}
  app_logs:
    type: aws_cloudwatch_log_group
    properties: {name: "/plat/${stack.name}/app", retention_in_days: 14}
  role_param:
    type: aws_ssm_parameter
    properties: {name: /plat/task-role, type: String, value: "${task_role.arn}"}
  errors:
    type: aws_cloudwatch_metric_alarm
    properties:
      alarm_name: plat-errors
      comparison_operator: GreaterThanOrEqualToThreshold
      evaluation_periods: 1
      metric_name: IncomingLogEvents
      namespace: AWS/Logs
      period: 300
      statistic: Sum
      threshold: 1000
      dimensions: {LogGroupName: "${app_logs.name}"}
      alarm_actions: ["${alerts.arn}"]
"""


class PlatformStack(FamilyCase):
    """The four types together, wired by references, in one YAML stack."""
    STACK = STACK

    def test_stack(self):
        self.write("stack.yaml", STACK_YAML)
        self.cairn("validate", check=0)
        p = self.cairn("plan", "--detailed-exitcode")
        self.assertEqual(p.returncode, 2, p.stdout + p.stderr)
        self.assertIn("Plan: 5 to add, 0 to change, 0 to destroy.", p.stdout)
        self.apply()
        ids = self.ids()
        self.assertEqual(set(ids), {"alerts", "task_role", "app_logs", "role_param", "errors"})
        role = self.boto("iam").get_role(RoleName="plat-task")["Role"]
        prm = self.boto("ssm").get_parameter(Name="/plat/task-role")["Parameter"]
        self.assertEqual(prm["Value"], role["Arn"])
        doc = self.boto("iam").get_role_policy(RoleName="plat-task",
                                               PolicyName="logs")["PolicyDocument"]
        self.assertEqual(doc["Statement"][0]["Resource"],
                         "arn:aws:logs:us-east-1:123456789012:log-group:/plat/plat/app")
        a = self.boto("cloudwatch").describe_alarms(AlarmNames=["plat-errors"])["MetricAlarms"][0]
        self.assertEqual(a["AlarmActions"], [ids["alerts"]])
        self.assertEqual(a["Dimensions"], [{"Name": "LogGroupName", "Value": "/plat/plat/app"}])
        self.assert_noop()

        # a new log group name replaces the group and updates what refers to it
        self.write("stack.yaml", STACK_YAML.replace("/plat/${stack.name}/app",
                                                    "/plat/${stack.name}/api"))
        self.apply()
        self.assertEqual(self.ids()["app_logs"], "/plat/plat/api")
        doc = self.boto("iam").get_role_policy(RoleName="plat-task",
                                               PolicyName="logs")["PolicyDocument"]
        self.assertTrue(doc["Statement"][0]["Resource"].endswith(":log-group:/plat/plat/api"))
        a = self.boto("cloudwatch").describe_alarms(AlarmNames=["plat-errors"])["MetricAlarms"][0]
        self.assertEqual(a["Dimensions"], [{"Name": "LogGroupName", "Value": "/plat/plat/api"}])
        self.assert_noop()

        self.cairn("destroy", "--auto-approve", check=0)
        self.assertEqual(self.ids(), {})
        self.assertEqual(self.boto("logs").describe_log_groups(
            logGroupNamePrefix="/plat/")["logGroups"], [])
        self.assertEqual(self.boto("cloudwatch").describe_alarms()["MetricAlarms"], [])
        self.assertEqual(self.boto("ssm").describe_parameters()["Parameters"], [])
        self.assertNotIn("plat-task", [r["RoleName"] for r in
                                       self.boto("iam").list_roles()["Roles"]])


if __name__ == "__main__":
    unittest.main()
