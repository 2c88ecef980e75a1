"""stacks/usermgmt/usermgmt.yaml against moto: validate, plan, apply (checked
with boto3), no-op plan, a new image tag rolls both task definitions and
services, dev and prod side by side in one state, destroy leaves nothing."""
import os
import time

from harness import CairnTestCase

STACK_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "stacks",
                          "usermgmt", "usermgmt.yaml")


class UsermgmtStack(CairnTestCase):
    def run_ok(self, cmd, *args):
        return self.cairn(cmd, "-f", STACK_FILE, *args, check=0)

    def ids(self, env):
        out = self.cairn("state", "list", "--stack", "usermgmt-" + env, check=0).stdout
        return {l.split("\t")[0]: l.split("\t")[2] for l in out.strip().splitlines()}

    def services(self, env):
        ecs = self.boto("ecs")
        return {s["serviceName"]: s for s in ecs.describe_services(
            cluster="usermgmt-" + env, services=["usermgmt", "notification"])["services"]
            if s["status"] == "ACTIVE"}

    def test_apply_roll_destroy(self):
        self.run_ok("validate")
        plan = self.run_ok("plan", "--var", "env=dev").stdout
        self.assertIn("30 to add, 0 to change, 0 to destroy", plan)
        t0 = time.time()
        self.run_ok("apply", "--auto-approve", "--var", "env=dev")
        apply_s = time.time() - t0
        ids = self.ids("dev")
        self.assertEqual(len(ids), 30)

        # boto3: the routing, discovery, mail identity and policy
        elb = self.boto("elbv2")
        rules = elb.describe_rules(ListenerArn=ids["http"])["Rules"]
        paths = {r["Conditions"][0]["PathPatternConfig"]["Values"][0]: r["Actions"][0]["TargetGroupArn"]
                 for r in rules if not r["IsDefault"]}
        self.assertEqual(paths, {"/usermgmt": ids["usermgmt_tg"],
                                 "/notification": ids["notification_tg"]})
        svcs = self.services("dev")
        self.assertEqual(sorted(svcs), ["notification", "usermgmt"])
        self.assertEqual(svcs["usermgmt"]["taskDefinition"], ids["usermgmt_task"])
        sd = self.boto("servicediscovery")
        self.assertEqual(sd.get_namespace(Id=ids["namespace"])["Namespace"]["Name"],
                         "usermgmt-dev.local")
        self.assertIn("noreply@example.com",
                      self.boto("ses").list_identities()["Identities"])
        iam = self.boto("iam")
        attached = iam.list_attached_role_policies(RoleName="usermgmt-dev-notification")
        self.assertEqual([p["PolicyArn"] for p in attached["AttachedPolicies"]],
                         [ids["send_mail"]])
        td = self.boto("ecs").describe_task_definition(
            taskDefinition=ids["notification_task"])["taskDefinition"]
        self.assertEqual(td["containerDefinitions"][0]["image"], "notification:latest")
        p = self.cairn("plan", "-f", STACK_FILE, "--detailed-exitcode", "--var", "env=dev")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)

        # a new image tag: both task definitions are replaced, both services updated
        plan = self.run_ok("plan", "--var", "env=dev", "--var", "image_tag=v2").stdout
        self.assertIn("2 to add, 2 to change, 2 to destroy", plan)
        self.run_ok("apply", "--auto-approve", "--var", "env=dev", "--var", "image_tag=v2")
        svcs = self.services("dev")
        for name in ("usermgmt", "notification"):
            td = self.boto("ecs").describe_task_definition(
                taskDefinition=svcs[name]["taskDefinition"])["taskDefinition"]
            self.assertEqual(td["containerDefinitions"][0]["image"], name + ":v2")

        # prod beside dev, in the same state file
        self.run_ok("apply", "--auto-approve", "--var", "env=prod",
                    "--var", "sender_email=ops@example.com")
        self.assertEqual(len(self.ids("prod")), 30)
        self.assertEqual(sorted(self.services("prod")), ["notification", "usermgmt"])

        for env, extra in (("dev", ["--var", "image_tag=v2"]),
                           ("prod", [
                                     "--var", "sender_email=ops@example.com"])):
            self.run_ok("destroy", "--auto-approve", "--var", "env=" + env, *extra)
            self.assertEqual(self.ids(env), {})
        # nothing of either environment is left
        ecs = self.boto("ecs")
        arns = ecs.list_clusters()["clusterArns"]
        self.assertEqual([c for c in ecs.describe_clusters(clusters=arns)["clusters"]
                          if c["status"] == "ACTIVE"] if arns else [], [])
        self.assertEqual(elb.describe_load_balancers()["LoadBalancers"], [])
        self.assertEqual(elb.describe_target_groups()["TargetGroups"], [])
        self.assertEqual([n for n in sd.list_namespaces()["Namespaces"]], [])
        self.assertEqual(self.boto("ses").list_identities()["Identities"], [])
        self.assertEqual([r for r in iam.list_roles()["Roles"]
                          if r["RoleName"].startswith("usermgmt-")], [])
        self.assertEqual(iam.list_policies(Scope="Local")["Policies"], [])
        self.assertEqual([g for g in self.boto("logs").describe_log_groups()["logGroups"]
                          if g["logGroupName"].startswith("/usermgmt-")], [])
        vpcs = self.boto("ec2").describe_vpcs(
            Filters=[{"Name": "tag:cairn:stack", "Values": ["usermgmt-dev", "usermgmt-prod"]}])
        self.assertEqual(vpcs["Vpcs"], [])
        print("\nusermgmt: 30 resources, apply %.1f s" % apply_s)
