"""aws_ecs_service deployments against moto: deployment_controller,
deployment_circuit_breaker, the deployment percentages,
health_check_grace_period_seconds, enable_execute_command, propagate_tags,
force_new_deployment and wait_for_steady_state.

moto 5.2.1 drops deploymentConfiguration, healthCheckGracePeriodSeconds and
enableExecuteCommand on CreateService (UpdateService keeps them): the
lifecycle checks them with boto3 after an update, and test_wire checks that
CreateService carries them, against botocore's model. The rollout outcomes
come from moto's MOTO_ECS_SERVICE_RUNNING (a deployment that completes) and
MOTO_ECS_SERVICE_FAILED_TASKS, through tests/e2e/moto_ecs.py, which adds
the circuit breaker's FAILED state and service events moto lacks.
"""
import json
import sqlite3

from family import FamilyCase
from test_wire import Recorder, check_request

STACK = "ecsd"


class Base(FamilyCase):
    STACK = STACK

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        ec2, ecs = cls.moto.client("ec2"), cls.moto.client("ecs")
        vpc = ec2.create_vpc(CidrBlock="10.60.0.0/16")["Vpc"]["VpcId"]
        cls.subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.60.1.0/24",
                                       AvailabilityZone="us-east-1a")["Subnet"]["SubnetId"]
        cls.sg = ec2.create_security_group(GroupName="ecsd", Description="e2e",
                                           VpcId=vpc)["GroupId"]
        cls.cluster = ecs.create_cluster(clusterName="ecsd")["cluster"]["clusterArn"]
        cls.tds = [ecs.register_task_definition(
            family="ecsd", containerDefinitions=[{"name": "app", "image": "nginx:%s" % v}],
            cpu="256", memory="512", networkMode="awsvpc",
            requiresCompatibilities=["FARGATE"])["taskDefinition"]["taskDefinitionArn"]
            for v in ("1", "2")]

    def props(self, **more):
        p = {"name": "web", "cluster": self.cluster, "task_definition": self.tds[0],
             "desired_count": 2, "launch_type": "FARGATE",
             "network_configuration": {"subnets": [self.subnet],
                                       "security_groups": [self.sg]}}
        p.update(more)
        return p

    def describe(self, name="web"):
        s = self.boto("ecs").describe_services(cluster="ecsd", services=[name],
                                               include=["TAGS"])["services"]
        return s[0] if s else None

    def primary(self, name="web"):
        return [d for d in self.describe(name)["deployments"] if d["status"] == "PRIMARY"][0]

    def import_by_name(self, name):
        """Imports CLUSTER/SERVICE into a fresh state: recorded by its ARN,
        and the stack plans no change against it."""
        other = self.dir + "/other.db"
        self.cairn("--state", other, "import", "svc", "ecsd/" + name, check=0)
        self.assertEqual(self.ids("--state", other), {"svc": self.describe(name)["serviceArn"]})
        self.assert_noop("--state", other)

    def recorded(self, name="svc", *args):
        return json.loads(self.cairn("state", "show", name, "--json", *args,
                                     check=0).stdout)["attributes"]


ALL = {"deployment_controller": {"type": "ECS"},
       "deployment_circuit_breaker": {"enable": True, "rollback": True},
       "deployment_minimum_healthy_percent": 50, "deployment_maximum_percent": 150,
       "health_check_grace_period_seconds": 30, "enable_execute_command": True,
       "propagate_tags": "SERVICE"}


class EcsDeployLifecycle(Base):

    def test_lifecycle(self):
        props = self.props(**ALL)
        self.stack("svc", "aws_ecs_service", props)
        self.apply()
        sid = self.ids()["svc"]
        s = self.describe()
        self.assertEqual(s["serviceArn"], sid)
        self.assertEqual(s["deploymentController"], {"type": "ECS"})
        self.assertEqual(s["propagateTags"], "SERVICE")
        # moto 5.2.1 drops these three on CreateService (test_wire checks
        # they are sent); if a newer moto keeps them, they must be right
        if "deploymentConfiguration" in s:
            self.assertEqual(s["deploymentConfiguration"]["minimumHealthyPercent"], 50)
        if "healthCheckGracePeriodSeconds" in s:
            self.assertEqual(s["healthCheckGracePeriodSeconds"], 30)
        if "enableExecuteCommand" in s:
            self.assertIs(s["enableExecuteCommand"], True)
        rec = self.recorded()
        for k, v in ALL.items():
            self.assertEqual(rec[k], v, k)
        self.assertIs(rec["wait_for_steady_state"], False)
        self.assertIs(rec["force_new_deployment"], False)
        self.assert_noop()

        # update in place: percentages, circuit breaker, grace, exec, tags propagation
        props.update(deployment_minimum_healthy_percent=75,
                     deployment_circuit_breaker={"enable": True, "rollback": False},
                     health_check_grace_period_seconds=60, enable_execute_command=False,
                     propagate_tags="TASK_DEFINITION")
        self.stack("svc", "aws_ecs_service", props)
        p = self.cairn("plan", check=0)
        self.assertIn("will be updated in place", p.stdout)
        self.assertNotIn("must be replaced", p.stdout)
        self.apply()
        self.assertEqual(self.ids()["svc"], sid)
        s = self.describe()
        self.assertEqual(s["deploymentConfiguration"], {
            "maximumPercent": 150, "minimumHealthyPercent": 75,
            "deploymentCircuitBreaker": {"enable": True, "rollback": False}})
        self.assertEqual(s["healthCheckGracePeriodSeconds"], 60)
        self.assertIs(s["enableExecuteCommand"], False)
        self.assertEqual(s["propagateTags"], "TASK_DEFINITION")
        self.assert_noop()

        # drift: the deployment configuration changed outside cairn
        self.boto("ecs").update_service(cluster="ecsd", service="web", deploymentConfiguration={
            "maximumPercent": 150, "minimumHealthyPercent": 10,
            "deploymentCircuitBreaker": {"enable": False, "rollback": False}},
            enableExecuteCommand=True)
        self.assert_drift("svc", "deployment_minimum_healthy_percent",
                          "deployment_circuit_breaker", "enable_execute_command")
        self.apply()
        s = self.describe()
        self.assertEqual(s["deploymentConfiguration"]["minimumHealthyPercent"], 75)
        self.assertEqual(s["deploymentConfiguration"]["deploymentCircuitBreaker"],
                         {"enable": True, "rollback": False})
        self.assertIs(s["enableExecuteCommand"], False)
        self.assert_noop()

        # force_new_deployment: turning it on starts a new deployment, and so
        # does every later change while it is on
        first = self.primary()["id"]
        props["force_new_deployment"] = True
        self.stack("svc", "aws_ecs_service", props)
        self.apply()
        second = self.primary()["id"]
        self.assertNotEqual(second, first)
        self.assert_noop()
        props["desired_count"] = 3
        self.stack("svc", "aws_ecs_service", props)
        self.apply()
        self.assertEqual(self.describe()["desiredCount"], 3)
        self.assertNotEqual(self.primary()["id"], second)
        self.assert_noop()

        # import into a fresh state (local attributes read as their defaults)
        props["force_new_deployment"] = False
        self.stack("svc", "aws_ecs_service", props)
        self.import_by_name("web")

        # replace: the deployment controller forces a new service
        props["deployment_controller"] = {"type": "CODE_DEPLOY"}
        self.stack("svc", "aws_ecs_service", props)
        p = self.cairn("plan", check=0)
        self.assertIn("must be replaced", p.stdout)
        self.assertIn("forces replacement", p.stdout)
        self.apply()
        self.assertEqual(self.describe()["deploymentController"], {"type": "CODE_DEPLOY"})
        self.assertEqual(self.recorded()["deployment_controller"], {"type": "CODE_DEPLOY"})
        self.assert_noop()

        self.cairn("destroy", "--auto-approve", check=0)
        self.assertEqual(self.describe()["status"], "INACTIVE")
        self.assertEqual(self.ids(), {})

    def test_left_out_is_no_diff(self):
        """A service without the new attributes plans no change after apply,
        and one adopted by import with AWS's defaults matches a stack that
        leaves them out."""
        self.stack("svc", "aws_ecs_service", self.props(name="plain"))
        self.apply()
        rec = self.recorded()
        self.assertEqual(rec["deployment_controller"], {"type": "ECS"})
        self.assertEqual(rec["deployment_circuit_breaker"], {"enable": False, "rollback": False})
        self.assertEqual((rec["deployment_minimum_healthy_percent"],
                          rec["deployment_maximum_percent"]), (100, 200))
        self.assertEqual(rec["propagate_tags"], "NONE")
        self.assert_noop()
        self.import_by_name("plain")
        self.cairn("destroy", "--auto-approve", check=0)

    def test_state_from_before_the_attributes(self):
        """A service recorded by a cairn without the deployment attributes
        plans no replacement, even without a refresh, and no change once
        refreshed."""
        self.stack("svc", "aws_ecs_service", self.props(name="old"))
        self.apply()
        db = sqlite3.connect(self.env["CAIRN_STATE"])
        attrs = json.loads(db.execute("SELECT attrs FROM resources WHERE name='svc'")
                           .fetchone()[0])
        for k in ALL.keys() | {"force_new_deployment", "wait_for_steady_state"}:
            del attrs[k]
        db.execute("UPDATE resources SET attrs=? WHERE name='svc'", (json.dumps(attrs),))
        db.commit()
        db.close()
        p = self.cairn("plan", "--refresh=false", check=None)
        self.assertNotIn("must be replaced", p.stdout)
        self.assertNotIn("deployment_controller", p.stdout)
        self.assert_noop()
        self.cairn("destroy", "--auto-approve", check=0)

    def test_wire(self):
        """What cairn sends, checked against botocore's model: CreateService
        carries every deployment attribute (moto drops three of them)."""
        rec = Recorder(self.moto.url)
        self.addCleanup(rec.stop)
        self.env = dict(self.env, AWS_ENDPOINT_URL=rec.url)
        props = self.props(name="wired", **ALL)
        self.stack("svc", "aws_ecs_service", props)
        self.apply()
        props.update(deployment_maximum_percent=180, health_check_grace_period_seconds=0,
                     enable_execute_command=False, propagate_tags="NONE",
                     force_new_deployment=True,
                     deployment_circuit_breaker={"enable": False, "rollback": False})
        self.stack("svc", "aws_ecs_service", props)
        self.apply()
        self.cairn("destroy", "--auto-approve", check=0)
        bodies = {}
        bad = []
        for headers, body in rec.requests:
            op, problems = check_request(headers, body)
            if problems:
                bad.append("%s: %s" % (op, "; ".join(problems)))
            if op in ("CreateService", "UpdateService") and op not in bodies:
                b = json.loads(body)
                if op == "CreateService" or "forceNewDeployment" in b:
                    bodies[op] = b
        self.assertEqual(bad, [])
        create = bodies["CreateService"]
        self.assertEqual(create["deploymentController"], {"type": "ECS"})
        self.assertEqual(create["deploymentConfiguration"], {
            "maximumPercent": 150, "minimumHealthyPercent": 50,
            "deploymentCircuitBreaker": {"enable": True, "rollback": True}})
        self.assertEqual(create["healthCheckGracePeriodSeconds"], 30)
        self.assertIs(create["enableExecuteCommand"], True)
        self.assertEqual(create["propagateTags"], "SERVICE")
        update = bodies["UpdateService"]
        self.assertIs(update["forceNewDeployment"], True)
        self.assertEqual(update["deploymentConfiguration"], {
            "maximumPercent": 180, "minimumHealthyPercent": 50,
            "deploymentCircuitBreaker": {"enable": False, "rollback": False}})
        self.assertEqual(update["healthCheckGracePeriodSeconds"], 0)
        self.assertIs(update["enableExecuteCommand"], False)
        self.assertEqual(update["propagateTags"], "NONE")


def with_marker(svc_props):
    """The service plus an SSM parameter that depends on it."""
    return {"stack": STACK, "region": "us-east-1", "resources": {
        "svc": {"type": "aws_ecs_service", "properties": svc_props},
        "marker": {"type": "aws_ssm_parameter",
                   "properties": {"name": "/ecsd/service", "type": "String",
                                  "value": "${svc.arn}"}}}}


class EcsSteadyState(Base):
    """moto with every service running 2 tasks: its deployments complete."""
    MOTO_ENV = {"MOTO_ECS_SERVICE_RUNNING": "2"}

    def test_waits_until_completed(self):
        props = self.props(wait_for_steady_state=True,
                           deployment_circuit_breaker={"enable": True, "rollback": True})
        self.write("stack.json", json.dumps(with_marker(props)))
        self.apply()
        d = self.primary()
        self.assertEqual((d["rolloutState"], d["runningCount"]), ("COMPLETED", 2))
        self.assertIs(self.recorded()["wait_for_steady_state"], True)
        self.assertEqual(self.boto("ssm").get_parameter(Name="/ecsd/service")["Parameter"]
                         ["Value"], self.ids()["svc"])
        self.assert_noop()
        # an update waits too
        props["task_definition"] = self.tds[1]
        props["force_new_deployment"] = True
        self.write("stack.json", json.dumps(with_marker(props)))
        self.apply()
        self.assertEqual(self.describe()["taskDefinition"], self.tds[1])
        self.assert_noop()
        self.cairn("destroy", "--auto-approve", check=0)


class EcsFailedRollout(Base):
    """moto whose tasks fail to start: with moto_ecs.py's circuit breaker,
    every deployment ends FAILED, with the service's events."""
    MOTO_ENV = {"MOTO_ECS_SERVICE_FAILED_TASKS": "3"}
    MOTO_SCRIPT = "moto_ecs.py"

    def test_failed_rollout_fails_the_resource(self):
        props = self.props(wait_for_steady_state=True,
                           deployment_circuit_breaker={"enable": True, "rollback": True})
        self.write("stack.json", json.dumps(with_marker(props)))
        p = self.cairn("apply", "--auto-approve")
        out = p.stdout + p.stderr
        self.assertEqual(p.returncode, 1, out)
        self.assertIn("svc (aws_ecs_service): create failed", out)
        self.assertIn("failed: ECS deployment circuit breaker: tasks failed to start.", out)
        self.assertIn("the service's last events:", out)
        self.assertIn("(service web) (deployment ecs-svc/", out)
        self.assertIn("deployment failed: tasks failed to start.", out)
        self.assertIn("(service web) has started 1 tasks", out)
        self.assertIn("skipped: marker (create; waits for svc)", out)
        # the service is recorded as AWS has it; its dependent was not made
        s = self.describe()
        self.assertEqual(self.ids(), {"svc": s["serviceArn"]})
        rec = self.recorded()
        self.assertEqual(rec["task_definition"], s["taskDefinition"])
        self.assertEqual(rec["desired_count"], s["desiredCount"])
        self.assertEqual(self.primary()["rolloutState"], "FAILED")
        ssm = self.boto("ssm")
        self.assertEqual(ssm.get_parameters(Names=["/ecsd/service"])["Parameters"], [])

        # the next apply has only the dependent left to do
        p = self.cairn("plan", check=0)
        self.assertIn("Plan: 1 to add, 0 to change, 0 to destroy.", p.stdout)
        self.apply()
        self.assertEqual(ssm.get_parameter(Name="/ecsd/service")["Parameter"]["Value"],
                         s["serviceArn"])

        # a new task definition fails the same way: the update is recorded
        # as deployed (this moto does not roll back)
        props["task_definition"] = self.tds[1]
        self.write("stack.json", json.dumps(with_marker(props)))
        p = self.cairn("apply", "--auto-approve")
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn("svc (aws_ecs_service): update failed", p.stdout + p.stderr)
        self.assertEqual(self.recorded()["task_definition"], self.describe()["taskDefinition"])

        # without the wait, the same outcome is not cairn's to judge
        props["wait_for_steady_state"] = False
        props["desired_count"] = 3
        self.write("stack.json", json.dumps(with_marker(props)))
        self.apply()
        self.assertEqual(self.describe()["desiredCount"], 3)
        self.assert_noop()

        self.cairn("destroy", "--auto-approve", check=0)
        self.assertEqual(self.describe()["status"], "INACTIVE")
        self.assertEqual(self.ids(), {})
