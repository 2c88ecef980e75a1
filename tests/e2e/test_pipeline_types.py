"""Delivery pipeline types against moto: aws_iam_policy,
aws_iam_role_policy_attachment, aws_ses_email_identity,
aws_cloudwatch_event_rule, aws_cloudwatch_event_target and the Code*
types. Each: create -> check with boto3 -> no-op plan -> update in place
-> drift shows and is reverted -> replace -> import into a fresh state ->
destroy, and a kill during create adopted where moto allows."""
import json

from family import FamilyCase

STACK = "pipe"
OWNER = {"cairn:stack": STACK}

TRUST = {"Version": "2012-10-17",
         "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                        "Principal": {"Service": "codebuild.amazonaws.com"}}]}


def policy(action, resource="*"):
    return {"Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": action, "Resource": resource}]}


class PipeCase(FamilyCase):
    STACK = STACK

    def stack_of(self, resources):
        doc = {"stack": self.STACK, "region": "us-east-1",
               "resources": {n: {"type": t, "properties": p} for n, (t, p) in
                             resources.items()}}
        self.write("stack.json", json.dumps(doc, indent=2))

    def ok_apply(self):
        r = self.apply()
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        return r

    def destroy(self):
        r = self.cairn("destroy", "--auto-approve", check=0)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(self.ids(), {})


class IamPolicy(PipeCase):
    def pol(self, arn):
        iam = self.boto("iam")
        try:
            return iam.get_policy(PolicyArn=arn)["Policy"]
        except iam.exceptions.NoSuchEntityException:
            return None

    def doc(self, arn):
        iam = self.boto("iam")
        v = iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
        return iam.get_policy_version(PolicyArn=arn, VersionId=v)["PolicyVersion"]["Document"]

    def tags(self, arn):
        return {t["Key"]: t["Value"]
                for t in self.boto("iam").list_policy_tags(PolicyArn=arn)["Tags"]}

    def attached(self, role):
        return sorted(p["PolicyArn"] for p in self.boto("iam").list_attached_role_policies(
            RoleName=role)["AttachedPolicies"])

    def test_lifecycle(self):
        props = {"name": "pipe-build", "path": "/ci/", "description": "Build access",
                 "policy": policy("s3:GetObject"), "tags": {"team": "ci"}}
        self.stack("pol", "aws_iam_policy", props)
        self.ok_apply()
        arn = self.ids()["pol"]
        self.assertTrue(arn.endswith(":policy/ci/pipe-build"), arn)
        p = self.pol(arn)
        self.assertEqual(p["Path"], "/ci/")
        self.assertEqual(p["Description"], "Build access")
        self.assertEqual(self.doc(arn), policy("s3:GetObject"))
        self.assertEqual(self.tags(arn), dict(OWNER, team="ci", **{"cairn:resource": "pol"}))
        self.assert_noop()

        # update in place: the document (a new default version) and tags;
        # six changes go through IAM's five-version limit
        for i in range(6):
            props.update(policy=policy(["s3:GetObject", "s3:PutObject%d" % i]),
                         tags={"team": "ci", "rev": str(i)})
            self.stack("pol", "aws_iam_policy", props)
            self.ok_apply()
        self.assertEqual(self.ids()["pol"], arn)
        self.assertEqual(self.doc(arn), props["policy"])
        self.assertEqual(self.tags(arn)["rev"], "5")
        self.assertLessEqual(len(self.boto("iam").list_policy_versions(
            PolicyArn=arn)["Versions"]), 5)
        self.assert_noop()

        # drift: a new default version made outside cairn (room made first)
        iam = self.boto("iam")
        old = [v for v in iam.list_policy_versions(PolicyArn=arn)["Versions"]
               if not v["IsDefaultVersion"]]
        iam.delete_policy_version(PolicyArn=arn, VersionId=old[0]["VersionId"])
        iam.create_policy_version(
            PolicyArn=arn, PolicyDocument=json.dumps(policy("ec2:*")), SetAsDefault=True)
        self.assert_drift("pol", "ec2:*")
        self.ok_apply()
        self.assertEqual(self.doc(arn), props["policy"])
        self.assert_noop()

        # replace: the description cannot change in place
        props["description"] = "Build access v2"
        self.stack("pol", "aws_iam_policy", props)
        p = self.cairn("plan")
        self.assertIn("forces replacement", p.stdout)
        self.ok_apply()
        self.assertEqual(self.pol(arn)["Description"], "Build access v2")

        self.import_fresh("pol", arn)
        self.destroy()
        self.assertIsNone(self.pol(arn))

    def test_attachment(self):
        iam = self.boto("iam")
        iam.create_role(RoleName="pipe-ci", AssumeRolePolicyDocument=json.dumps(TRUST))
        res = {"pol": ("aws_iam_policy", {"name": "pipe-att", "policy": policy("s3:*")}),
               "att": ("aws_iam_role_policy_attachment",
                       {"role": "pipe-ci", "policy_arn": "${pol.arn}"})}
        self.stack_of(res)
        self.ok_apply()
        arn = self.ids()["pol"]
        self.assertEqual(self.ids()["att"], "pipe-ci/" + arn)
        self.assertEqual(self.attached("pipe-ci"), [arn])
        self.assert_noop()

        # drift: detached outside cairn; the plan attaches it again
        iam.detach_role_policy(RoleName="pipe-ci", PolicyArn=arn)
        p = self.cairn("plan", "--detailed-exitcode")
        self.assertEqual(p.returncode, 2, p.stdout + p.stderr)
        self.ok_apply()
        self.assertEqual(self.attached("pipe-ci"), [arn])
        self.assert_noop()

        # replace: another role
        iam.create_role(RoleName="pipe-ci2", AssumeRolePolicyDocument=json.dumps(TRUST))
        res["att"][1]["role"] = "pipe-ci2"
        self.stack_of(res)
        self.ok_apply()
        self.assertEqual(self.attached("pipe-ci"), [])
        self.assertEqual(self.attached("pipe-ci2"), [arn])

        other = self.dir + "/other.db"
        self.cairn("--state", other, "import", "pol", arn, check=0)
        self.cairn("--state", other, "import", "att", "pipe-ci2/" + arn, check=0)
        self.assertEqual(self.ids("--state", other), {"pol": arn, "att": "pipe-ci2/" + arn})
        self.assert_noop("--state", other)
        r = self.cairn("--state", self.dir + "/x.db", "import", "att", "pipe-ci/" + arn)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("not found", r.stderr)

        # destroy detaches first, then deletes the policy
        self.destroy()
        self.assertEqual(self.attached("pipe-ci2"), [])
        self.assertIsNone(self.pol(arn))

    def test_adopted_after_kill_mid_create(self):
        self.stack("kill", "aws_iam_policy", {"name": "pipe-kill", "policy": policy("s3:*")})
        acct = self.boto("sts").get_caller_identity()["Account"]
        arn = "arn:aws:iam::%s:policy/pipe-kill" % acct
        self.kill_mid_create("kill", lambda: self.pol(arn) is not None)
        self.assertEqual(self.ids()["kill"], arn)
        self.destroy()
        self.assertIsNone(self.pol(arn))


class SesIdentity(PipeCase):
    def identities(self):
        return self.boto("ses").list_identities(IdentityType="EmailAddress")["Identities"]

    def test_lifecycle(self):
        self.stack("mail", "aws_ses_email_identity", {"email": "ops@example.com"})
        self.ok_apply()
        self.assertEqual(self.ids()["mail"], "ops@example.com")
        self.assertIn("ops@example.com", self.identities())
        shown = json.loads(self.cairn("state", "show", "mail", "--json", check=0).stdout)
        shown = shown.get("attributes", shown)
        self.assertTrue(shown["arn"].endswith(":identity/ops@example.com"), shown["arn"])
        self.assert_noop()

        # drift: deleted outside cairn -> the plan creates it again
        self.boto("ses").delete_identity(Identity="ops@example.com")
        p = self.cairn("plan", "--detailed-exitcode")
        self.assertEqual(p.returncode, 2, p.stdout + p.stderr)
        self.ok_apply()
        self.assertIn("ops@example.com", self.identities())

        # replace: another address
        self.stack("mail", "aws_ses_email_identity", {"email": "team@example.com"})
        p = self.cairn("plan")
        self.assertIn("forces replacement", p.stdout)
        self.ok_apply()
        self.assertEqual(self.identities(), ["team@example.com"])

        self.import_fresh("mail", "team@example.com")
        self.destroy()
        self.assertEqual(self.identities(), [])

    def test_adopted_after_kill_mid_create(self):
        self.stack("kill", "aws_ses_email_identity", {"email": "kill@example.com"})
        self.kill_mid_create("kill", lambda: "kill@example.com" in self.identities())
        self.destroy()
        self.assertEqual(self.identities(), [])


class EventRuleTarget(PipeCase):
    def rule(self, name):
        ev = self.boto("events")
        try:
            return ev.describe_rule(Name=name)
        except ev.exceptions.ResourceNotFoundException:
            return None

    def targets(self, rule):
        ev = self.boto("events")
        try:
            return ev.list_targets_by_rule(Rule=rule)["Targets"]
        except ev.exceptions.ResourceNotFoundException:
            return None

    def test_lifecycle(self):
        topic = self.boto("sns").create_topic(Name="pipe-events")["TopicArn"]
        pattern = {"source": ["aws.codecommit"], "detail-type": ["CodeCommit Repository State Change"]}
        rule = {"name": "pipe-push", "description": "On push", "event_pattern": pattern,
                "tags": {"team": "ci"}}
        target = {"rule": "${push.name}", "arn": topic, "target_id": "notify",
                  "input_transformer": [{"input_paths": {"repo": "$.detail.repositoryName"},
                                         "input_template": "\"pushed <repo>\""}]}
        res = {"push": ("aws_cloudwatch_event_rule", rule),
               "notify": ("aws_cloudwatch_event_target", target)}
        self.stack_of(res)
        self.ok_apply()
        self.assertEqual(self.ids(), {"push": "pipe-push", "notify": "pipe-push/notify"})
        r = self.rule("pipe-push")
        self.assertEqual(r["Description"], "On push")
        self.assertEqual(json.loads(r["EventPattern"]), pattern)
        self.assertEqual(r["State"], "ENABLED")
        tags = {t["Key"]: t["Value"] for t in
                self.boto("events").list_tags_for_resource(ResourceARN=r["Arn"])["Tags"]}
        self.assertEqual(tags, dict(OWNER, team="ci", **{"cairn:resource": "push"}))
        (t,) = self.targets("pipe-push")
        self.assertEqual(t["Id"], "notify")
        self.assertEqual(t["Arn"], topic)
        self.assertEqual(t["InputTransformer"]["InputTemplate"], "\"pushed <repo>\"")
        self.assert_noop()

        # update in place: description, state, tags; the target's input
        rule.update(description="On push v2", state="DISABLED", tags={"team": "cd"})
        target.pop("input_transformer")
        target["input"] = '{"from":"cairn"}'
        self.stack_of(res)
        self.ok_apply()
        r = self.rule("pipe-push")
        self.assertEqual((r["Description"], r["State"]), ("On push v2", "DISABLED"))
        tags = {t["Key"]: t["Value"] for t in
                self.boto("events").list_tags_for_resource(ResourceARN=r["Arn"])["Tags"]}
        self.assertEqual(tags["team"], "cd")
        (t,) = self.targets("pipe-push")
        self.assertEqual(t["Input"], '{"from":"cairn"}')
        self.assertNotIn("InputTransformer", t)
        self.assert_noop()

        # drift: rule description, target removed
        self.boto("events").put_rule(Name="pipe-push", Description="Hacked",
                                     EventPattern=json.dumps(pattern), State="DISABLED")
        self.boto("events").remove_targets(Rule="pipe-push", Ids=["notify"])
        self.assert_drift("push", "Hacked")
        self.ok_apply()
        self.assertEqual(self.rule("pipe-push")["Description"], "On push v2")
        self.assertEqual(len(self.targets("pipe-push")), 1)
        self.assert_noop()

        # replace: a new rule name moves the target along
        rule["name"] = "pipe-push2"
        self.stack_of(res)
        p = self.cairn("plan")
        self.assertIn("forces replacement", p.stdout)
        self.ok_apply()
        self.assertIsNone(self.rule("pipe-push"))
        self.assertEqual(self.ids()["notify"], "pipe-push2/notify")
        self.assertEqual(len(self.targets("pipe-push2")), 1)

        other = self.dir + "/other.db"
        self.cairn("--state", other, "import", "push", "pipe-push2", check=0)
        self.cairn("--state", other, "import", "notify", "pipe-push2/notify", check=0)
        self.assert_noop("--state", other)

        self.destroy()
        self.assertIsNone(self.rule("pipe-push2"))

    def test_schedule_and_generated_target_id(self):
        fn = self.boto("sns").create_topic(Name="pipe-tick")["TopicArn"]
        res = {"tick": ("aws_cloudwatch_event_rule",
                        {"name": "pipe-tick", "schedule_expression": "rate(5 minutes)"}),
               "to_topic": ("aws_cloudwatch_event_target", {"rule": "${tick.name}", "arn": fn})}
        self.stack_of(res)
        self.ok_apply()
        self.assertEqual(self.rule("pipe-tick")["ScheduleExpression"], "rate(5 minutes)")
        self.assertEqual(self.ids()["to_topic"], "pipe-tick/cairn-to_topic")
        self.assertEqual([t["Id"] for t in self.targets("pipe-tick")], ["cairn-to_topic"])
        self.assert_noop()
        self.destroy()
        self.assertIsNone(self.rule("pipe-tick"))

    def test_adopted_after_kill_mid_create(self):
        self.stack("kill", "aws_cloudwatch_event_rule",
                   {"name": "pipe-kill", "schedule_expression": "rate(1 hour)"})
        self.kill_mid_create("kill", lambda: self.rule("pipe-kill") is not None)
        self.destroy()
        self.assertIsNone(self.rule("pipe-kill"))


class CodeCommit(PipeCase):
    """moto 5.2.1 has no CodeCommit tag calls (ListTagsForResource answers
    500): reads keep the recorded tags, so tags are checked only as the
    create call set them, and crash adoption (which needs the tags) is
    not testable here."""

    def repo(self, name):
        cc = self.boto("codecommit")
        try:
            return cc.get_repository(repositoryName=name)["repositoryMetadata"]
        except cc.exceptions.RepositoryDoesNotExistException:
            return None

    def test_lifecycle(self):
        props = {"repository_name": "pipe-app", "description": "App source"}
        self.stack("repo", "aws_codecommit_repository", props)
        self.ok_apply()
        self.assertEqual(self.ids()["repo"], "pipe-app")
        r = self.repo("pipe-app")
        self.assertEqual(r["repositoryDescription"], "App source")
        shown = json.loads(self.cairn("state", "show", "repo", "--json", check=0).stdout)
        shown = shown.get("attributes", shown)
        self.assertEqual(shown["arn"], r["Arn"])
        self.assertEqual(shown["clone_url_http"], r["cloneUrlHttp"])
        self.assertEqual(shown["repository_id"], r["repositoryId"])
        self.assert_noop()

        # drift: deleted outside cairn -> created again
        self.boto("codecommit").delete_repository(repositoryName="pipe-app")
        p = self.cairn("plan", "--detailed-exitcode")
        self.assertEqual(p.returncode, 2, p.stdout + p.stderr)
        self.ok_apply()
        self.assertIsNotNone(self.repo("pipe-app"))
        self.assert_noop()

        self.import_fresh("repo", "pipe-app")
        self.destroy()
        self.assertIsNone(self.repo("pipe-app"))


BUILDSPEC = """version: 0.2
phases:
  build:
    commands:
      - docker build -t app .
"""


class CodeBuild(PipeCase):
    """moto 5.2.1 has no UpdateProject: in-place changes are covered by
    the unit tests' wire format checks, not here."""

    def project(self, name):
        ps = self.boto("codebuild").batch_get_projects(names=[name])["projects"]
        return ps[0] if ps else None

    def role(self):
        iam = self.boto("iam")
        try:
            return iam.get_role(RoleName="pipe-cb")["Role"]["Arn"]
        except iam.exceptions.NoSuchEntityException:
            return iam.create_role(RoleName="pipe-cb",
                                   AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]["Arn"]

    def props(self, role, name="pipe-build"):
        return {"name": name, "description": "Builds the app", "service_role": role,
                "build_timeout": 30,
                # moto wants a location even for CODEPIPELINE source/artifacts
                "source": [{"type": "CODECOMMIT", "buildspec": BUILDSPEC,
                            "location": "https://git-codecommit.us-east-1.amazonaws.com"
                                        "/v1/repos/app", "git_clone_depth": 1}],
                "artifacts": [{"type": "S3", "location": "pipe-artifacts",
                               "packaging": "ZIP"}],
                "environment": [{"compute_type": "BUILD_GENERAL1_SMALL",
                                 "image": "aws/codebuild/standard:7.0",
                                 "type": "LINUX_CONTAINER", "privileged_mode": True,
                                 "environment_variable": [
                                     {"name": "REPO", "value": "app"},
                                     {"name": "TOKEN", "value": "/ci/token",
                                      "type": "PARAMETER_STORE"}]}],
                "logs_config": [{"cloudwatch_logs": [{"group_name": "/ci/build"}]}],
                "tags": {"team": "ci"}}

    def test_lifecycle(self):
        role = self.role()
        props = self.props(role)
        self.stack("build", "aws_codebuild_project", props)
        self.ok_apply()
        self.assertEqual(self.ids()["build"], "pipe-build")
        p = self.project("pipe-build")
        self.assertEqual(p["serviceRole"], role)
        self.assertEqual(p["timeoutInMinutes"], 30)
        self.assertEqual(p["source"]["type"], "CODECOMMIT")
        self.assertEqual(p["artifacts"]["location"], "pipe-artifacts")
        self.assertEqual(p["source"]["buildspec"], BUILDSPEC)
        self.assertTrue(p["environment"]["privilegedMode"])
        self.assertEqual(p["environment"]["environmentVariables"][1],
                         {"name": "TOKEN", "value": "/ci/token", "type": "PARAMETER_STORE"})
        self.assertEqual(p["logsConfig"]["cloudWatchLogs"]["groupName"], "/ci/build")
        self.assertEqual({t["key"]: t["value"] for t in p["tags"]},
                         dict(OWNER, team="ci", **{"cairn:resource": "build"}))
        self.assert_noop()

        # replace: a new name is a new project
        props["name"] = "pipe-build2"
        self.stack("build", "aws_codebuild_project", props)
        p = self.cairn("plan")
        self.assertIn("forces replacement", p.stdout)
        self.ok_apply()
        self.assertIsNone(self.project("pipe-build"))
        self.assertIsNotNone(self.project("pipe-build2"))
        self.assert_noop()

        self.import_fresh("build", "pipe-build2")
        self.destroy()
        self.assertIsNone(self.project("pipe-build2"))

    def test_adopted_after_kill_mid_create(self):
        self.stack("kill", "aws_codebuild_project", self.props(self.role(), "pipe-kill"))
        self.kill_mid_create("kill", lambda: self.project("pipe-kill") is not None)
        self.destroy()
        self.assertIsNone(self.project("pipe-kill"))


PIPE_TRUST = {"Version": "2012-10-17",
              "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                             "Principal": {"Service": "codepipeline.amazonaws.com"}}]}


def pipeline_stages(topic):
    """Source -> build -> approval (SNS) -> ECS deploy + health-check Lambda."""
    return [
        {"name": "Source", "action": [{
            "name": "Source", "category": "Source", "owner": "AWS", "provider": "CodeCommit",
            "version": "1", "output_artifacts": ["src"],
            "configuration": {"RepositoryName": "app", "BranchName": "main",
                              "PollForSourceChanges": "false"}}]},
        {"name": "Build", "action": [{
            "name": "Build", "category": "Build", "owner": "AWS", "provider": "CodeBuild",
            "version": "1", "input_artifacts": ["src"], "output_artifacts": ["image"],
            "configuration": {"ProjectName": "pipe-build"}}]},
        {"name": "Approve", "action": [{
            "name": "Approve", "category": "Approval", "owner": "AWS", "provider": "Manual",
            "version": "1",
            "configuration": {"NotificationArn": topic, "CustomData": "Ship to production?"}}]},
        {"name": "Deploy", "action": [
            {"name": "Deploy", "category": "Deploy", "owner": "AWS", "provider": "ECS",
             "version": "1", "input_artifacts": ["image"],
             "configuration": {"ClusterName": "prod", "ServiceName": "app",
                               "FileName": "imagedefinitions.json"}},
            {"name": "HealthCheck", "category": "Invoke", "owner": "AWS", "provider": "Lambda",
             "version": "1", "run_order": 2,
             "configuration": {"FunctionName": "health-check", "UserParameters": "prod"}}]},
    ]


class CodePipeline(PipeCase):
    def pipeline(self, name):
        cp = self.boto("codepipeline")
        try:
            return cp.get_pipeline(name=name)
        except cp.exceptions.PipelineNotFoundException:
            return None

    def tags(self, arn):
        return {t["key"]: t["value"] for t in
                self.boto("codepipeline").list_tags_for_resource(resourceArn=arn)["tags"]}

    def setup_deps(self):
        iam = self.boto("iam")
        try:
            role = iam.get_role(RoleName="pipe-cp")["Role"]["Arn"]
        except iam.exceptions.NoSuchEntityException:
            role = iam.create_role(RoleName="pipe-cp", AssumeRolePolicyDocument=json.dumps(
                PIPE_TRUST))["Role"]["Arn"]
        topic = self.boto("sns").create_topic(Name="pipe-approvals")["TopicArn"]
        return role, topic

    def props(self, name="pipe-app"):
        role, topic = self.setup_deps()
        return {"name": name, "role_arn": role,
                "artifact_store": [{"location": "pipe-artifacts"}],
                "stage": pipeline_stages(topic), "tags": {"team": "cd"}}

    def test_lifecycle(self):
        props = self.props()
        self.stack("pipe", "aws_codepipeline", props)
        self.ok_apply()
        self.assertEqual(self.ids()["pipe"], "pipe-app")
        got = self.pipeline("pipe-app")
        p = got["pipeline"]
        self.assertEqual(p["roleArn"], props["role_arn"])
        self.assertEqual(p["artifactStore"], {"type": "S3", "location": "pipe-artifacts"})
        self.assertEqual([s["name"] for s in p["stages"]],
                         ["Source", "Build", "Approve", "Deploy"])
        approve = p["stages"][2]["actions"][0]
        self.assertEqual(approve["actionTypeId"], {"category": "Approval", "owner": "AWS",
                                                   "provider": "Manual", "version": "1"})
        self.assertEqual(approve["configuration"]["NotificationArn"],
                         props["stage"][2]["action"][0]["configuration"]["NotificationArn"])
        deploy = p["stages"][3]["actions"]
        self.assertEqual(deploy[0]["inputArtifacts"], [{"name": "image"}])
        self.assertEqual(deploy[1]["runOrder"], 2)
        arn = got["metadata"]["pipelineArn"]
        self.assertEqual(self.tags(arn), dict(OWNER, team="cd", **{"cairn:resource": "pipe"}))
        self.assert_noop()

        # update in place: a new build project, an extra test action, tags
        props["stage"][1]["action"][0]["configuration"]["ProjectName"] = "pipe-build2"
        props["stage"][1]["action"].append({
            "name": "Test", "category": "Test", "owner": "AWS", "provider": "CodeBuild",
            "version": "1", "input_artifacts": ["src"], "run_order": 2,
            "configuration": {"ProjectName": "pipe-itest"}})
        props["tags"] = {"team": "platform"}
        self.stack("pipe", "aws_codepipeline", props)
        self.ok_apply()
        p = self.pipeline("pipe-app")["pipeline"]
        self.assertEqual([a["name"] for a in p["stages"][1]["actions"]], ["Build", "Test"])
        self.assertEqual(p["stages"][1]["actions"][0]["configuration"]["ProjectName"],
                         "pipe-build2")
        self.assertEqual(self.tags(arn)["team"], "platform")
        self.assert_noop()

        # drift: the approval's message changed outside cairn
        p["stages"][2]["actions"][0]["configuration"]["CustomData"] = "Hacked"
        self.boto("codepipeline").update_pipeline(pipeline=p)
        self.assert_drift("pipe", "Hacked")
        self.ok_apply()
        p = self.pipeline("pipe-app")["pipeline"]
        self.assertEqual(p["stages"][2]["actions"][0]["configuration"]["CustomData"],
                         "Ship to production?")
        self.assert_noop()

        # replace: a new name
        props["name"] = "pipe-app2"
        self.stack("pipe", "aws_codepipeline", props)
        self.assertIn("forces replacement", self.cairn("plan").stdout)
        self.ok_apply()
        self.assertIsNone(self.pipeline("pipe-app"))
        self.assertIsNotNone(self.pipeline("pipe-app2"))

        self.import_fresh("pipe", "pipe-app2")
        self.destroy()
        self.assertIsNone(self.pipeline("pipe-app2"))

    def test_adopted_after_kill_mid_create(self):
        self.stack("kill", "aws_codepipeline", self.props("pipe-kill"))
        self.kill_mid_create("kill", lambda: self.pipeline("pipe-kill") is not None)
        self.destroy()
        self.assertIsNone(self.pipeline("pipe-kill"))


class CodeDeploy(PipeCase):
    """moto 5.2.1 has no DeleteApplication, DeleteDeploymentGroup,
    UpdateApplication or UpdateDeploymentGroup: destroy, renames and
    in-place group changes are covered by the unit tests' wire format
    checks; here the records are dropped with `state rm` instead."""

    def app(self, name):
        cd = self.boto("codedeploy")
        try:
            return cd.get_application(applicationName=name)["application"]
        except cd.exceptions.ApplicationDoesNotExistException:
            return None

    def group(self, app, name):
        cd = self.boto("codedeploy")
        try:
            return cd.get_deployment_group(applicationName=app,
                                           deploymentGroupName=name)["deploymentGroupInfo"]
        except (cd.exceptions.ApplicationDoesNotExistException,
                cd.exceptions.DeploymentGroupDoesNotExistException):
            return None

    def tags(self, arn):
        return {t["Key"]: t["Value"] for t in
                self.boto("codedeploy").list_tags_for_resource(ResourceArn=arn)["Tags"]}

    def forget(self, *names):
        for n in names:
            self.cairn("state", "rm", n, check=0)

    def test_ecs_blue_green(self):
        acct = self.boto("sts").get_caller_identity()["Account"]
        role = "arn:aws:iam::%s:role/pipe-codedeploy" % acct
        listener = ("arn:aws:elasticloadbalancing:us-east-1:%s:listener/app/pipe/1/2" % acct)
        test_listener = listener[:-1] + "3"
        group = {"app_name": "${app.name}", "deployment_group_name": "pipe-prod",
                 "service_role_arn": role,
                 "deployment_config_name": "CodeDeployDefault.ECSAllAtOnce",
                 "deployment_style": [{"deployment_option": "WITH_TRAFFIC_CONTROL",
                                       "deployment_type": "BLUE_GREEN"}],
                 "blue_green_deployment_config": [{
                     "deployment_ready_option": [{"action_on_timeout": "CONTINUE_DEPLOYMENT"}],
                     "terminate_blue_instances_on_deployment_success": [{
                         "action": "TERMINATE", "termination_wait_time_in_minutes": 5}]}],
                 "ecs_service": [{"cluster_name": "prod", "service_name": "app"}],
                 "load_balancer_info": [{"target_group_pair_info": [{
                     "prod_traffic_route": [{"listener_arns": [listener]}],
                     "test_traffic_route": [{"listener_arns": [test_listener]}],
                     "target_group": [{"name": "app-blue"}, {"name": "app-green"}]}]}],
                 "auto_rollback_configuration": [{"enabled": True,
                                                  "events": ["DEPLOYMENT_FAILURE"]}],
                 "tags": {"env": "prod"}}
        res = {"app": ("aws_codedeploy_app", {"name": "pipe-app", "compute_platform": "ECS",
                                              "tags": {"team": "cd"}}),
               "dg": ("aws_codedeploy_deployment_group", group)}
        self.stack_of(res)
        self.addCleanup(self.forget, "dg", "app")
        self.ok_apply()
        self.assertEqual(self.ids(), {"app": "pipe-app", "dg": "pipe-app:pipe-prod"})
        a = self.app("pipe-app")
        self.assertEqual(a["computePlatform"], "ECS")
        app_arn = "arn:aws:codedeploy:us-east-1:%s:application:pipe-app" % acct
        self.assertEqual(self.tags(app_arn), dict(OWNER, team="cd", **{"cairn:resource": "app"}))
        g = self.group("pipe-app", "pipe-prod")
        self.assertEqual(g["deploymentStyle"], {"deploymentOption": "WITH_TRAFFIC_CONTROL",
                                                "deploymentType": "BLUE_GREEN"})
        self.assertEqual(g["ecsServices"], [{"clusterName": "prod", "serviceName": "app"}])
        pair = g["loadBalancerInfo"]["targetGroupPairInfoList"][0]
        self.assertEqual(pair["targetGroups"], [{"name": "app-blue"}, {"name": "app-green"}])
        self.assertEqual(pair["prodTrafficRoute"]["listenerArns"], [listener])
        self.assertEqual(g["blueGreenDeploymentConfiguration"][
            "terminateBlueInstancesOnDeploymentSuccess"]["terminationWaitTimeInMinutes"], 5)
        dg_arn = "arn:aws:codedeploy:us-east-1:%s:deploymentgroup:pipe-app/pipe-prod" % acct
        self.assertEqual(self.tags(dg_arn), dict(OWNER, env="prod", **{"cairn:resource": "dg"}))
        self.assert_noop()

        # update in place: tags (the one change moto can make)
        res["app"][1]["tags"] = {"team": "platform"}
        group["tags"] = {"env": "production"}
        self.stack_of(res)
        self.ok_apply()
        self.assertEqual(self.tags(app_arn)["team"], "platform")
        self.assertEqual(self.tags(dg_arn)["env"], "production")
        self.assert_noop()

        # drift: a tag changed outside cairn
        self.boto("codedeploy").tag_resource(ResourceArn=app_arn,
                                             Tags=[{"Key": "team", "Value": "hacked"}])
        self.assert_drift("app", "hacked")
        self.ok_apply()
        self.assertEqual(self.tags(app_arn)["team"], "platform")

        # a plan for a new compute platform replaces; a new name renames
        res["app"][1]["compute_platform"] = "Server"
        self.stack_of(res)
        self.assertIn("forces replacement", self.cairn("plan").stdout)
        res["app"][1]["compute_platform"] = "ECS"
        res["app"][1]["name"] = "pipe-app2"
        self.stack_of(res)
        p = self.cairn("plan").stdout
        self.assertIn("~ app", p)

        other = self.dir + "/other.db"
        res["app"][1]["name"] = "pipe-app"
        self.stack_of(res)
        self.cairn("--state", other, "import", "app", "pipe-app", check=0)
        self.cairn("--state", other, "import", "dg", "pipe-app:pipe-prod", check=0)
        self.assert_noop("--state", other)

    def test_adopted_after_kill_mid_create(self):
        self.stack("kill", "aws_codedeploy_app", {"name": "pipe-kill", "compute_platform": "ECS"})
        self.addCleanup(self.forget, "kill")
        self.kill_mid_create("kill", lambda: self.app("pipe-kill") is not None)
        self.assertEqual(self.ids()["kill"], "pipe-kill")


LAMBDA_TRUST = {"Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                               "Principal": {"Service": "lambda.amazonaws.com"}}]}


def make_zip(path, body):
    import base64
    import hashlib
    import zipfile
    with zipfile.ZipFile(path, "w") as z:
        info = zipfile.ZipInfo("index.py", date_time=(2024, 1, 1, 0, 0, 0))
        z.writestr(info, body)
    with open(path, "rb") as f:
        return base64.b64encode(hashlib.sha256(f.read()).digest()).decode()


class LambdaFunction(PipeCase):
    def fn(self, name):
        lam = self.boto("lambda")
        try:
            return lam.get_function(FunctionName=name)
        except lam.exceptions.ResourceNotFoundException:
            return None

    def role(self):
        iam = self.boto("iam")
        try:
            return iam.get_role(RoleName="pipe-lambda")["Role"]["Arn"]
        except iam.exceptions.NoSuchEntityException:
            return iam.create_role(RoleName="pipe-lambda", AssumeRolePolicyDocument=json.dumps(
                LAMBDA_TRUST))["Role"]["Arn"]

    def props(self, name="pipe-check"):
        h = make_zip(self.dir + "/check.zip", "def handler(e, c):\n    return 'ok'\n")
        return {"function_name": name, "role": self.role(), "handler": "index.handler",
                "runtime": "python3.12", "filename": "check.zip", "source_code_hash": h,
                "timeout": 30, "environment": [{"variables": {"STAGE": "prod"}}],
                "tags": {"team": "cd"}}

    def test_lifecycle(self):
        props = self.props()
        res = {"check": ("aws_lambda_function", props),
               "allow_events": ("aws_lambda_permission",
                                {"function_name": "${check.function_name}",
                                 "action": "lambda:InvokeFunction",
                                 "principal": "events.amazonaws.com",
                                 "source_arn": "arn:aws:events:us-east-1:123456789012:rule/x"}),
               "allow_account": ("aws_lambda_permission",
                                 {"function_name": "${check.function_name}",
                                  "statement_id": "ops", "action": "lambda:InvokeFunction",
                                  "principal": "123456789012"})}
        self.stack_of(res)
        self.ok_apply()
        self.assertEqual(self.ids(), {"check": "pipe-check",
                                      "allow_events": "pipe-check/cairn-allow_events",
                                      "allow_account": "pipe-check/ops"})
        f = self.fn("pipe-check")
        c = f["Configuration"]
        self.assertEqual(c["CodeSha256"], props["source_code_hash"])
        self.assertEqual((c["Runtime"], c["Handler"], c["Timeout"]),
                         ("python3.12", "index.handler", 30))
        self.assertEqual(c["Environment"]["Variables"], {"STAGE": "prod"})
        self.assertEqual(f["Tags"], dict(OWNER, team="cd", **{"cairn:resource": "check"}))
        pol = json.loads(self.boto("lambda").get_policy(FunctionName="pipe-check")["Policy"])
        st = {x["Sid"]: x for x in pol["Statement"]}
        self.assertEqual(sorted(st), ["cairn-allow_events", "ops"])
        self.assertEqual(st["cairn-allow_events"]["Principal"],
                         {"Service": "events.amazonaws.com"})
        self.assertEqual(st["cairn-allow_events"]["Condition"]["ArnLike"]["AWS:SourceArn"],
                         "arn:aws:events:us-east-1:123456789012:rule/x")
        self.assert_noop()

        # a changed zip: a new hash sends the code again; settings in place
        props["source_code_hash"] = make_zip(self.dir + "/check.zip",
                                             "def handler(e, c):\n    return 'v2'\n")
        props["timeout"] = 60
        props["tags"] = {"team": "platform"}
        self.stack_of(res)
        self.ok_apply()
        c = self.fn("pipe-check")["Configuration"]
        self.assertEqual(c["CodeSha256"], props["source_code_hash"])
        self.assertEqual(c["Timeout"], 60)
        self.assertEqual(self.fn("pipe-check")["Tags"]["team"], "platform")
        self.assert_noop()

        # drift: the description changed outside cairn
        self.boto("lambda").update_function_configuration(FunctionName="pipe-check",
                                                          Description="Hacked")
        self.assert_drift("check", "Hacked")
        self.ok_apply()
        self.assertEqual(self.fn("pipe-check")["Configuration"].get("Description", ""), "")
        self.assert_noop()

        other = self.dir + "/other.db"
        self.cairn("--state", other, "import", "check", "pipe-check", check=0)
        self.cairn("--state", other, "import", "allow_events", "pipe-check/cairn-allow_events",
                   check=0)
        self.cairn("--state", other, "import", "allow_account", "pipe-check/ops", check=0)
        # AWS cannot say which local file the code came from: the first plan
        # after an import sets filename (and sends the same code again)
        p = self.cairn("--state", other, "plan").stdout
        self.assertIn('+ filename = "check.zip"', p)
        self.assertIn("0 to add, 1 to change, 0 to destroy", p)

        # replace: a new name
        props["function_name"] = "pipe-check2"
        self.stack_of(res)
        self.assertIn("forces replacement", self.cairn("plan").stdout)
        self.ok_apply()
        self.assertIsNone(self.fn("pipe-check"))
        self.assertIsNotNone(self.fn("pipe-check2"))
        self.destroy()
        self.assertIsNone(self.fn("pipe-check2"))

    def test_adopted_after_kill_mid_create(self):
        self.stack("kill", "aws_lambda_function", self.props("pipe-kill"))
        self.kill_mid_create("kill", lambda: self.fn("pipe-kill") is not None)
        self.destroy()
        self.assertIsNone(self.fn("pipe-kill"))
