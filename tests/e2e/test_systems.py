"""The three ready systems of stacks/ (SPEC 4, last paragraph) against moto,
one class per system: validate, plan, apply (checked with boto3), no-op plan,
a new image tag rolls every task definition and service, one more service in
the list adds exactly its resources, destroy, and boto3 finds nothing of the
stack left in any service it touched. Each class prints its resource count
and apply time (the README's table)."""
import json
import os
import re
import sys
import time

from harness import CairnTestCase, ROOT

STACKS = os.path.join(ROOT, "stacks")


class SystemCase(CairnTestCase):
    FILE = None          # stacks/... path
    STACK = None         # state name
    BASE = []            # --var arguments every command gets

    def run_ok(self, cmd, *args):
        return self.cairn(cmd, "-f", os.path.join(STACKS, self.FILE), *(self.BASE + list(args)),
                          check=0)

    def ids(self):
        out = self.cairn("state", "list", "--stack", self.STACK, check=0).stdout
        rows = [l.split("\t") for l in out.strip().splitlines() if l]
        return {r[0]: r[2] for r in rows if not r[0].startswith("data.")}

    def counts(self, plan):
        m = re.search(r"(\d+) to add, (\d+) to change, (\d+) to destroy", plan)
        self.assertIsNotNone(m, plan)
        return tuple(int(x) for x in m.groups())

    def assert_noop(self, *args):
        p = self.cairn("plan", "-f", os.path.join(STACKS, self.FILE), "--detailed-exitcode",
                       *(self.BASE + list(args)))
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)

    def apply_timed(self, *args):
        t0 = time.time()
        self.run_ok("apply", "--auto-approve", *args)
        return time.time() - t0

    def report(self, n, secs):
        sys.stderr.write("\n[%s] %d resources, apply %.1f s\n" % (self.STACK, n, secs))

    def services(self, cluster):
        ecs = self.boto("ecs")
        arns = ecs.list_services(cluster=cluster)["serviceArns"]
        if not arns:
            return {}
        return {s["serviceName"]: s for s in
                ecs.describe_services(cluster=cluster, services=arns)["services"]
                if s["status"] == "ACTIVE"}

    def images(self, cluster):
        ecs = self.boto("ecs")
        return {n: ecs.describe_task_definition(taskDefinition=s["taskDefinition"])
                ["taskDefinition"]["containerDefinitions"][0]["image"]
                for n, s in self.services(cluster).items()}

    def var_file(self, data):
        return self.write("extra.json", json.dumps(data))

    # what a destroyed stack must not leave behind, by service
    def assert_nothing_left(self, prefix):
        ec2 = self.boto("ec2")
        vpcs = ec2.describe_vpcs(Filters=[{"Name": "tag:cairn:stack", "Values": [self.STACK]}])
        self.assertEqual(vpcs["Vpcs"], [])
        self.assertEqual(ec2.describe_subnets(
            Filters=[{"Name": "tag:cairn:stack", "Values": [self.STACK]}])["Subnets"], [])
        self.assertEqual(ec2.describe_security_groups(
            Filters=[{"Name": "tag:cairn:stack", "Values": [self.STACK]}])["SecurityGroups"], [])
        self.assertEqual(ec2.describe_internet_gateways(
            Filters=[{"Name": "tag:cairn:stack", "Values": [self.STACK]}])["InternetGateways"], [])
        elb = self.boto("elbv2")
        self.assertEqual([l for l in elb.describe_load_balancers()["LoadBalancers"]
                          if l["LoadBalancerName"].startswith(prefix)], [])
        self.assertEqual([t for t in elb.describe_target_groups()["TargetGroups"]
                          if t["TargetGroupName"].startswith(prefix)], [])
        ecs = self.boto("ecs")
        live = [c for c in ecs.describe_clusters(clusters=ecs.list_clusters()["clusterArns"])
                ["clusters"] if c["status"] == "ACTIVE"] if ecs.list_clusters()["clusterArns"] else []
        self.assertEqual([c["clusterName"] for c in live if c["clusterName"].startswith(prefix)], [])
        self.assertEqual([a for a in ecs.list_task_definitions(status="ACTIVE")["taskDefinitionArns"]
                          if ("/" + prefix) in a], [])
        ecr = self.boto("ecr")
        self.assertEqual([r["repositoryName"] for r in ecr.describe_repositories()["repositories"]
                          if r["repositoryName"].startswith(prefix)], [])
        logs = self.boto("logs")
        self.assertEqual([g["logGroupName"] for g in logs.describe_log_groups()["logGroups"]
                          if prefix in g["logGroupName"]], [])
        iam = self.boto("iam")
        self.assertEqual([r["RoleName"] for r in iam.list_roles()["Roles"]
                          if r["RoleName"].startswith(prefix)], [])
        self.assertEqual([p["PolicyName"] for p in iam.list_policies(Scope="Local")["Policies"]
                          if p["PolicyName"].startswith(prefix)], [])
        sd = self.boto("servicediscovery")
        self.assertEqual([n["Name"] for n in sd.list_namespaces()["Namespaces"]
                          if n["Name"].startswith(prefix)], [])
        self.assertEqual(sd.list_services()["Services"], [])
        self.assertEqual(self.ids(), {})


class LearningPortal(SystemCase):
    FILE = "learning-portal/stack.yaml"
    STACK = "learning-portal"
    SERVICES = ["assessments", "content", "courses", "enrollments", "gateway", "users"]
    # per service: repo, log group, target group, rule, discovery, task, service
    PER_SERVICE = 7
    # vpc, 2 subnets, igw, route table, 2 associations, 2 security groups, alb,
    # listener, cluster, namespace, 2 roles, and 5 tables
    SHARED = 15 + 5

    def test_lifecycle(self):
        self.run_ok("validate")
        total = self.SHARED + self.PER_SERVICE * len(self.SERVICES)
        self.assertEqual(self.counts(self.run_ok("plan").stdout), (total, 0, 0))
        secs = self.apply_timed()
        ids = self.ids()
        self.assertEqual(len(ids), total)
        self.report(total, secs)

        ecs = self.boto("ecs")
        svcs = self.services("learning-portal")
        self.assertEqual(sorted(svcs), self.SERVICES)
        acct = self.boto("sts").get_caller_identity()["Account"]
        for name, s in svcs.items():
            td = ecs.describe_task_definition(taskDefinition=s["taskDefinition"])["taskDefinition"]
            self.assertEqual((td["cpu"], td["memory"]), ("256", "512"))
            self.assertEqual(td["requiresCompatibilities"], ["FARGATE"])
            c = td["containerDefinitions"][0]
            self.assertEqual(c["portMappings"][0]["containerPort"], 8080)
            self.assertEqual(c["image"], "%s.dkr.ecr.us-east-1.amazonaws.com/learning-portal/%s:latest"
                             % (acct, name))
            self.assertTrue(td["executionRoleArn"].endswith(":role/" + ids["execution_role"]))
            self.assertEqual(len(s["serviceRegistries"]), 1)
        repos = {r["repositoryName"] for r in self.boto("ecr").describe_repositories()["repositories"]}
        self.assertEqual(repos, {"learning-portal/" + n for n in self.SERVICES})
        ddb = self.boto("dynamodb")
        self.assertEqual(sorted(ddb.list_tables()["TableNames"]),
                         ["lp-" + n for n in self.SERVICES if n != "gateway"])
        users = ddb.describe_table(TableName="lp-users")["Table"]
        self.assertEqual([(g["IndexName"], g["KeySchema"][0]["AttributeName"])
                          for g in users["GlobalSecondaryIndexes"]], [("by-email", "email")])
        enr = ddb.describe_table(TableName="lp-enrollments")["Table"]
        self.assertEqual([(g["IndexName"], g["KeySchema"][0]["AttributeName"])
                          for g in enr["GlobalSecondaryIndexes"]], [("by-user", "user_id")])
        sd = self.boto("servicediscovery")
        ns = [n for n in sd.list_namespaces()["Namespaces"] if n["Name"] == "learning-portal.local"]
        self.assertEqual(len(ns), 1)
        self.assertEqual(sorted(s["Name"] for s in sd.list_services()["Services"]), self.SERVICES)
        rules = self.boto("elbv2").describe_rules(ListenerArn=ids["http"])["Rules"]
        paths = {r["Conditions"][0]["PathPatternConfig"]["Values"][0]
                 for r in rules if not r["IsDefault"]}
        self.assertEqual(paths, {"/"} | {"/" + n for n in self.SERVICES if n != "gateway"})
        self.assert_noop()

        # a new image tag: every task definition replaced, every service rolled
        n = len(self.SERVICES)
        self.assertEqual(self.counts(self.run_ok("plan", "--var", "image_tag=v2").stdout),
                         (n, n, n))
        self.run_ok("apply", "--auto-approve", "--var", "image_tag=v2")
        for name, image in self.images("learning-portal").items():
            self.assertTrue(image.endswith("/learning-portal/%s:v2" % name), image)
        self.assert_noop("--var", "image_tag=v2")

        # one more service: exactly its resources
        extra = self.var_file({"extra_services": {"quizzes": {
            "paths": ["/quizzes", "/quizzes/*"], "priority": 60,
            "table": {"hash_key": "quiz_id", "attributes": ["quiz_id"], "gsi": []}}}})
        args = ["--var", "image_tag=v2", "--var-file", extra]
        self.assertEqual(self.counts(self.run_ok("plan", *args).stdout),
                         (self.PER_SERVICE + 1, 0, 0))
        self.run_ok("apply", "--auto-approve", *args)
        self.assertIn("quizzes", self.services("learning-portal"))
        self.assertIn("lp-quizzes", ddb.list_tables()["TableNames"])
        self.assert_noop(*args)

        self.run_ok("destroy", "--auto-approve", *args)
        self.assert_nothing_left("lp")
        self.assert_nothing_left("learning-portal")
        self.assertEqual(ddb.list_tables()["TableNames"], [])


class Usermgmt(SystemCase):
    FILE = "usermgmt/stack.yaml"
    STACK = "usermgmt-dev"
    BASE = ["--var", "env=dev"]
    SERVICES = ["notification", "usermgmt"]
    # per service: task role, log group, target group, rule, discovery, task, service
    PER_SERVICE = 7
    # vpc, 4 subnets, igw, route table, 2 associations, 3 security groups, alb,
    # listener, namespace, cluster, db subnet group, db, execution role, ses
    # identity, send-mail policy and its one attachment
    SHARED = 22

    def test_lifecycle(self):
        self.run_ok("validate")
        self.cairn("validate", "-f", os.path.join(STACKS, self.FILE), "--var", "env=prod", check=0)
        total = self.SHARED + self.PER_SERVICE * len(self.SERVICES)
        self.assertEqual(self.counts(self.run_ok("plan").stdout), (total, 0, 0))
        secs = self.apply_timed()
        ids = self.ids()
        self.assertEqual(len(ids), total)
        self.report(total, secs)

        elb = self.boto("elbv2")
        rules = elb.describe_rules(ListenerArn=ids["http"])["Rules"]
        tgs = {t["TargetGroupArn"]: t["TargetGroupName"]
               for t in elb.describe_target_groups()["TargetGroups"]}
        paths = {r["Conditions"][0]["PathPatternConfig"]["Values"][0]:
                 tgs[r["Actions"][0]["TargetGroupArn"]] for r in rules if not r["IsDefault"]}
        self.assertEqual(paths, {"/usermgmt": "usermgmt-dev-usermgmt",
                                 "/notification": "usermgmt-dev-notification"})
        svcs = self.services("usermgmt-dev")
        self.assertEqual(sorted(svcs), self.SERVICES)
        sd = self.boto("servicediscovery")
        self.assertEqual(sd.get_namespace(Id=ids["namespace"])["Namespace"]["Name"],
                         "usermgmt-dev.local")
        self.assertEqual(sorted(s["Name"] for s in sd.list_services()["Services"]), self.SERVICES)
        db = self.boto("rds").describe_db_instances(
            DBInstanceIdentifier="usermgmt-dev-users")["DBInstances"][0]
        self.assertEqual(db["Engine"], "mysql")
        self.assertEqual(db["DBSubnetGroup"]["DBSubnetGroupName"], "usermgmt-dev")
        secret = db["MasterUserSecret"]["SecretArn"]
        self.assertIn("password", self.boto("secretsmanager").get_secret_value(
            SecretId=secret)["SecretString"])
        self.assertIn("noreply@example.com", self.boto("ses").list_identities()["Identities"])
        iam = self.boto("iam")
        attached = iam.list_attached_role_policies(RoleName="usermgmt-dev-notification")
        self.assertEqual([p["PolicyArn"] for p in attached["AttachedPolicies"]], [ids["send_mail"]])
        self.assertEqual(iam.list_attached_role_policies(
            RoleName="usermgmt-dev-usermgmt")["AttachedPolicies"], [])
        ecs = self.boto("ecs")
        td = ecs.describe_task_definition(
            taskDefinition=svcs["notification"]["taskDefinition"])["taskDefinition"]
        env = {e["name"]: e["value"] for e in td["containerDefinitions"][0]["environment"]}
        self.assertEqual(env["DB_SECRET_ARN"], secret)
        self.assertEqual(td["containerDefinitions"][0]["image"], "notification:latest")
        self.assert_noop()

        # a new image tag: both task definitions replaced, both services rolled
        n = len(self.SERVICES)
        self.assertEqual(self.counts(self.run_ok("plan", "--var", "image_tag=v2").stdout),
                         (n, n, n))
        self.run_ok("apply", "--auto-approve", "--var", "image_tag=v2")
        self.assertEqual(self.images("usermgmt-dev"),
                         {s: s + ":v2" for s in self.SERVICES})
        self.assert_noop("--var", "image_tag=v2")

        # one more service: exactly its resources
        extra = self.var_file({"extra_services": {"audit": {
            "priority": 30, "image": "audit", "mail": False}}})
        args = ["--var", "image_tag=v2", "--var-file", extra]
        self.assertEqual(self.counts(self.run_ok("plan", *args).stdout), (self.PER_SERVICE, 0, 0))
        self.run_ok("apply", "--auto-approve", *args)
        self.assertIn("audit", self.services("usermgmt-dev"))
        self.assert_noop(*args)

        # prod beside dev: the same file, another stack
        self.cairn("apply", "-f", os.path.join(STACKS, self.FILE), "--auto-approve",
                   "--var", "env=prod", "--var", "sender_email=ops@example.com", check=0)
        self.assertEqual(sorted(self.services("usermgmt-prod")), self.SERVICES)
        self.assertTrue(self.boto("rds").describe_db_instances(
            DBInstanceIdentifier="usermgmt-prod-users")["DBInstances"][0]["MultiAZ"])
        self.cairn("destroy", "-f", os.path.join(STACKS, self.FILE), "--auto-approve",
                   "--var", "env=prod", "--var", "sender_email=ops@example.com", check=0)

        self.run_ok("destroy", "--auto-approve", *args)
        self.assert_nothing_left("usermgmt")
        self.assertEqual(self.boto("rds").describe_db_instances()["DBInstances"], [])
        self.assertEqual(self.boto("rds").describe_db_subnet_groups()["DBSubnetGroups"], [])
        sm = self.boto("secretsmanager")
        self.assertEqual(sm.list_secrets()["SecretList"], [])
        self.assertEqual(self.boto("ses").list_identities()["Identities"], [])


class Pipeline(SystemCase):
    FILE = "pipeline/stack.yaml"
    STACK = "pipeline"
    SERVICES = ["inventory", "orders", "payments"]
    ENVS = ["production", "staging"]
    # per service and env: log group, blue + green target groups, rule, SSM
    # parameter, task, service, three alarms
    PER_DEPLOYMENT = 10
    # per service: ECR repository, CodeBuild project
    PER_SERVICE = 2
    # vpc, 6 subnets, igw, eip, nat, 2 route tables, 6 associations, 2
    # security groups; per env cluster, alb, listener; topic, 4 roles,
    # policy, attachment; codecommit, build log group, integration-test
    # project, lambda, pipeline; events role, rule, target
    SHARED = 20 + 6 + 7 + 5 + 3

    def setUp(self):
        super().setUp()
        # the Lambda's filename is relative to the working directory (as in
        # Terraform), the stack's header says to run it from stacks/pipeline
        os.symlink(os.path.join(STACKS, "pipeline", "build"), os.path.join(self.dir, "build"))

    def test_lifecycle(self):
        self.run_ok("validate")
        n = len(self.SERVICES)
        total = self.SHARED + self.PER_SERVICE * n + self.PER_DEPLOYMENT * n * len(self.ENVS)
        self.assertEqual(self.counts(self.run_ok("plan").stdout), (total, 0, 0))
        secs = self.apply_timed()
        ids = self.ids()
        self.assertEqual(len(ids), total)
        self.report(total, secs)

        ec2 = self.boto("ec2")
        subs = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [ids["vpc"]]}])["Subnets"]
        self.assertEqual(sorted(s["AvailabilityZone"] for s in subs),
                         sorted(["us-east-1a", "us-east-1b", "us-east-1c"] * 2))
        elb = self.boto("elbv2")
        tgs = {t["TargetGroupName"] for t in elb.describe_target_groups()["TargetGroups"]}
        self.assertEqual(tgs, {"pl-%s-%s-%s" % (e, s, c) for e in self.ENVS
                               for s in self.SERVICES for c in ("blue", "green")})
        for env in self.ENVS:
            svcs = self.services("pipeline-" + env)
            self.assertEqual(sorted(svcs), self.SERVICES)
            self.assertEqual(svcs["orders"]["desiredCount"], 1 if env == "staging" else 2)
        ecr = self.boto("ecr")
        for s in self.SERVICES:
            pol = json.loads(ecr.get_lifecycle_policy(
                repositoryName="pipeline/" + s)["lifecyclePolicyText"])
            self.assertEqual(len(pol["rules"]), 2)
        logs = self.boto("logs")
        groups = {g["logGroupName"]: g.get("retentionInDays")
                  for g in logs.describe_log_groups(logGroupNamePrefix="/pipeline/")["logGroups"]}
        self.assertEqual(set(groups.values()), {14})
        self.assertEqual(len(groups), 1 + n * len(self.ENVS))
        alarms = self.boto("cloudwatch").describe_alarms()["MetricAlarms"]
        self.assertEqual(len(alarms), 3 * n * len(self.ENVS))
        self.assertEqual({a["AlarmActions"][0] for a in alarms}, {ids["alerts"]})
        ssm = self.boto("ssm")
        cfg = json.loads(ssm.get_parameter(Name="/pipeline/production/orders/config")
                         ["Parameter"]["Value"])
        self.assertEqual((cfg["env"], cfg["service"], cfg["table"]), ("production", "orders", "orders"))
        self.assertEqual(self.boto("codecommit").get_repository(repositoryName="pipeline-app")
                         ["repositoryMetadata"]["repositoryName"], "pipeline-app")
        projects = self.boto("codebuild").list_projects()["projects"]
        self.assertEqual(sorted(projects), sorted(["pipeline-" + s for s in self.SERVICES]
                                                  + ["pipeline-integration-tests"]))
        got = self.boto("codepipeline").get_pipeline(name="pipeline")
        p, p_arn = got["pipeline"], got["metadata"]["pipelineArn"]
        stages = [s["name"] for s in p["stages"]]
        self.assertEqual(stages, ["Source", "Build", "DeployStaging", "VerifyStaging", "Approve",
                                  "DeployProduction"])
        approve = p["stages"][4]["actions"][0]
        self.assertEqual(approve["actionTypeId"]["provider"], "Manual")
        self.assertEqual(approve["configuration"]["NotificationArn"], ids["alerts"])
        self.assertEqual(sorted(a["name"] for a in p["stages"][1]["actions"]), self.SERVICES)
        ev = self.boto("events")
        targets = ev.list_targets_by_rule(Rule="pipeline-on-push")["Targets"]
        self.assertEqual([(t["Arn"], t["RoleArn"].split("/")[-1]) for t in targets],
                         [(p_arn, "pipeline-events")])
        fn = self.boto("lambda").get_function(FunctionName="pipeline-health-check")
        self.assertEqual(fn["Configuration"]["Handler"], "index.handler")
        self.assert_noop()

        # a new image tag: six task definitions replaced, six services rolled
        d = n * len(self.ENVS)
        self.assertEqual(self.counts(self.run_ok("plan", "--var", "image_tag=v2").stdout),
                         (d, d, d))
        self.run_ok("apply", "--auto-approve", "--var", "image_tag=v2")
        for env in self.ENVS:
            for name, image in self.images("pipeline-" + env).items():
                self.assertTrue(image.endswith("/pipeline/%s:v2" % name), image)
        self.assert_noop("--var", "image_tag=v2")

        # one more service: its repository, build project and both
        # environments' resources; the pipeline gains its actions in place
        extra = self.var_file({"extra_services": {"shipping": {
            "priority": 40, "config": {"carrier": "ups"}}}})
        args = ["--var", "image_tag=v2", "--var-file", extra]
        self.assertEqual(self.counts(self.run_ok("plan", *args).stdout),
                         (self.PER_SERVICE + self.PER_DEPLOYMENT * len(self.ENVS), 1, 0))
        self.run_ok("apply", "--auto-approve", *args)
        self.assertIn("shipping", self.services("pipeline-production"))
        p = self.boto("codepipeline").get_pipeline(name="pipeline")["pipeline"]
        self.assertIn("shipping", [a["name"] for a in p["stages"][5]["actions"]])
        self.assert_noop(*args)

        self.run_ok("destroy", "--auto-approve", *args)
        self.assert_nothing_left("pl-")
        self.assert_nothing_left("pipeline")
        self.assertEqual(ec2.describe_nat_gateways(Filters=[{"Name": "state", "Values": ["available", "pending"]}])
                         ["NatGateways"], [])
        self.assertEqual(ec2.describe_addresses()["Addresses"], [])
        self.assertEqual(self.boto("cloudwatch").describe_alarms()["MetricAlarms"], [])
        self.assertEqual(ssm.describe_parameters()["Parameters"], [])
        self.assertEqual(self.boto("sns").list_topics()["Topics"], [])
        cc = self.boto("codecommit")   # moto has no ListRepositories
        with self.assertRaises(cc.exceptions.RepositoryDoesNotExistException):
            cc.get_repository(repositoryName="pipeline-app")
        self.assertEqual(self.boto("codebuild").list_projects()["projects"], [])
        self.assertEqual(self.boto("codepipeline").list_pipelines()["pipelines"], [])
        self.assertEqual(self.boto("lambda").list_functions()["Functions"], [])
        self.assertEqual(ev.list_rules(NamePrefix="pipeline")["Rules"], [])
