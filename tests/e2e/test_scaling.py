"""Application Auto Scaling (aws_appautoscaling_target,
aws_appautoscaling_policy) against moto, on an ECS service made with boto3:
create -> check with boto3 -> no-op plan -> update in place -> drift ->
replace -> import -> destroy -> a kill during create is adopted. moto keeps
no tags for these (test_wire checks the tag requests against botocore's
model), so the stacks here set none."""
import json
import unittest

from family import FamilyCase

STACK = "scale"
DIM = "ecs:service:DesiredCount"


class ScalingCase(FamilyCase):
    STACK = STACK

    def setUp(self):
        super().setUp()
        ecs = self.boto("ecs")
        ecs.create_cluster(clusterName="sc")
        ecs.register_task_definition(family="web", containerDefinitions=[
            {"name": "web", "image": "nginx", "memory": 128}])
        for name in ("web", "api"):
            ecs.create_service(cluster="sc", serviceName=name, taskDefinition="web",
                               desiredCount=1)

    def target(self, res):
        got = self.boto("application-autoscaling").describe_scalable_targets(
            ServiceNamespace="ecs", ResourceIds=[res])["ScalableTargets"]
        return got[0] if got else None

    def policy(self, res, name):
        got = self.boto("application-autoscaling").describe_scaling_policies(
            ServiceNamespace="ecs", ResourceId=res, PolicyNames=[name])["ScalingPolicies"]
        # (moto ignores PolicyNames)
        got = [p for p in got if p["PolicyName"] == name]
        return got[0] if got else None

    def target_props(self, res, lo=1, hi=4):
        return {"service_namespace": "ecs", "resource_id": res, "scalable_dimension": DIM,
                "min_capacity": lo, "max_capacity": hi}


class Target(ScalingCase):
    def test_lifecycle(self):
        props = self.target_props("service/sc/web")
        self.stack("tgt", "aws_appautoscaling_target", props)
        self.apply()
        tid = "ecs/service/sc/web/" + DIM
        self.assertEqual(self.ids()["tgt"], tid)
        t = self.target("service/sc/web")
        self.assertEqual((t["MinCapacity"], t["MaxCapacity"]), (1, 4))
        shown = self.cairn("state", "show", "tgt", "--json", check=0).stdout
        self.assertIn(t["ScalableTargetARN"], shown)
        self.assert_noop()

        # update in place: capacities
        props.update(min_capacity=2, max_capacity=6)
        self.stack("tgt", "aws_appautoscaling_target", props)
        self.assertIn("updated in place", self.cairn("plan").stdout)
        self.apply()
        self.assertEqual(self.ids()["tgt"], tid)
        t = self.target("service/sc/web")
        self.assertEqual((t["MinCapacity"], t["MaxCapacity"]), (2, 6))
        self.assert_noop()

        # drift: re-registered outside cairn
        self.boto("application-autoscaling").register_scalable_target(
            ServiceNamespace="ecs", ResourceId="service/sc/web", ScalableDimension=DIM,
            MinCapacity=1, MaxCapacity=9)
        self.assert_drift("tgt", "max_capacity")
        self.apply()
        self.assertEqual(self.target("service/sc/web")["MaxCapacity"], 6)
        self.assert_noop()

        # replace: another service
        props["resource_id"] = "service/sc/api"
        self.stack("tgt", "aws_appautoscaling_target", props)
        self.assertIn("forces replacement", self.cairn("plan").stdout)
        self.apply()
        self.assertIsNone(self.target("service/sc/web"))
        self.assertIsNotNone(self.target("service/sc/api"))
        self.assert_noop()

        self.import_fresh("tgt", "ecs/service/sc/api/" + DIM)
        self.cairn("destroy", "--auto-approve", check=0)
        self.assertIsNone(self.target("service/sc/api"))

    def test_import_bad_id(self):
        self.stack("tgt", "aws_appautoscaling_target", self.target_props("service/sc/web"))
        p = self.cairn("import", "tgt", "ecs/service/sc/nothing/" + DIM)
        self.assertEqual(p.returncode, 1)
        self.assertIn("not found", p.stderr)

    def test_adopted_after_kill_mid_create(self):
        self.stack("kill", "aws_appautoscaling_target", self.target_props("service/sc/web"))
        self.kill_mid_create("kill", lambda: self.target("service/sc/web"))
        self.assertEqual(self.ids()["kill"], "ecs/service/sc/web/" + DIM)
        self.cairn("destroy", "--auto-approve", check=0)
        self.assertIsNone(self.target("service/sc/web"))


class Policy(ScalingCase):
    def doc(self, policy_props):
        return json.dumps({"stack": STACK, "region": "us-east-1", "resources": {
            "tgt": {"type": "aws_appautoscaling_target",
                    "properties": self.target_props("service/sc/web")},
            "cpu": {"type": "aws_appautoscaling_policy", "properties": policy_props}}})

    def test_target_tracking_lifecycle(self):
        props = {"name": "cpu50", "policy_type": "TargetTrackingScaling",
                 "service_namespace": "${tgt.service_namespace}",
                 "resource_id": "${tgt.resource_id}",
                 "scalable_dimension": "${tgt.scalable_dimension}",
                 "target_tracking_scaling_policy_configuration": {
                     "target_value": 50, "scale_in_cooldown": 60, "scale_out_cooldown": 30,
                     "predefined_metric_specification": {
                         "predefined_metric_type": "ECSServiceAverageCPUUtilization"}}}
        self.write("stack.json", self.doc(props))
        self.apply()
        pid = "ecs/service/sc/web/%s/cpu50" % DIM
        self.assertEqual(self.ids()["cpu"], pid)
        p = self.policy("service/sc/web", "cpu50")
        cfg = p["TargetTrackingScalingPolicyConfiguration"]
        self.assertEqual(cfg["TargetValue"], 50.0)
        self.assertEqual(cfg["PredefinedMetricSpecification"]["PredefinedMetricType"],
                         "ECSServiceAverageCPUUtilization")
        self.assertEqual((cfg["ScaleInCooldown"], cfg["ScaleOutCooldown"]), (60, 30))
        shown = self.cairn("state", "show", "cpu", "--json", check=0).stdout
        self.assertIn(p["PolicyARN"], shown)
        self.assert_noop()

        # update in place: the target value
        props["target_tracking_scaling_policy_configuration"]["target_value"] = 70
        self.write("stack.json", self.doc(props))
        self.assertIn("updated in place", self.cairn("plan").stdout)
        self.apply()
        self.assertEqual(self.policy("service/sc/web", "cpu50")[
            "TargetTrackingScalingPolicyConfiguration"]["TargetValue"], 70.0)
        self.assert_noop()

        # drift: put again outside cairn
        aas = self.boto("application-autoscaling")
        aas.put_scaling_policy(
            PolicyName="cpu50", ServiceNamespace="ecs", ResourceId="service/sc/web",
            ScalableDimension=DIM, PolicyType="TargetTrackingScaling",
            TargetTrackingScalingPolicyConfiguration={
                "TargetValue": 90.0, "ScaleInCooldown": 60, "ScaleOutCooldown": 30,
                "PredefinedMetricSpecification": {
                    "PredefinedMetricType": "ECSServiceAverageCPUUtilization"}})
        self.assert_drift("cpu", "target_value")
        self.apply()
        self.assertEqual(self.policy("service/sc/web", "cpu50")[
            "TargetTrackingScalingPolicyConfiguration"]["TargetValue"], 70.0)
        self.assert_noop()

        # replace: a new name
        props["name"] = "cpu70"
        self.write("stack.json", self.doc(props))
        self.assertIn("forces replacement", self.cairn("plan").stdout)
        self.apply()
        self.assertIsNone(self.policy("service/sc/web", "cpu50"))
        self.assertIsNotNone(self.policy("service/sc/web", "cpu70"))
        self.assert_noop()

        other = self.dir + "/other.db"
        self.cairn("--state", other, "import", "tgt", "ecs/service/sc/web/" + DIM, check=0)
        self.cairn("--state", other, "import", "cpu", "ecs/service/sc/web/%s/cpu70" % DIM,
                   check=0)
        self.assert_noop("--state", other)

        self.cairn("destroy", "--auto-approve", check=0)
        self.assertIsNone(self.policy("service/sc/web", "cpu70"))
        self.assertIsNone(self.target("service/sc/web"))

    def test_step_scaling(self):
        props = {"name": "steps", "service_namespace": "${tgt.service_namespace}",
                 "resource_id": "${tgt.resource_id}",
                 "scalable_dimension": "${tgt.scalable_dimension}",
                 "step_scaling_policy_configuration": {
                     "adjustment_type": "ChangeInCapacity", "cooldown": 60,
                     "metric_aggregation_type": "Maximum",
                     "step_adjustment": [{"metric_interval_lower_bound": 0,
                                          "scaling_adjustment": 1}]}}
        self.write("stack.json", self.doc(props))
        self.apply()
        p = self.policy("service/sc/web", "steps")
        self.assertEqual(p["PolicyType"], "StepScaling")
        cfg = p["StepScalingPolicyConfiguration"]
        self.assertEqual(cfg["AdjustmentType"], "ChangeInCapacity")
        self.assertEqual(cfg["StepAdjustments"][0]["ScalingAdjustment"], 1)
        self.assert_noop()
        self.cairn("destroy", "--auto-approve", check=0)
        self.assertIsNone(self.policy("service/sc/web", "steps"))

    def test_two_policies_read_together(self):
        """Policies of one target are read in one call; a change to one shows
        as drift of that one only."""
        def pol(name, value):
            return {"type": "aws_appautoscaling_policy", "properties": {
                "name": name, "policy_type": "TargetTrackingScaling",
                "service_namespace": "${tgt.service_namespace}",
                "resource_id": "${tgt.resource_id}",
                "scalable_dimension": "${tgt.scalable_dimension}",
                "target_tracking_scaling_policy_configuration": {
                    "target_value": value, "predefined_metric_specification": {
                        "predefined_metric_type": name}}}}
        self.write("stack.json", json.dumps({"stack": STACK, "region": "us-east-1", "resources": {
            "tgt": {"type": "aws_appautoscaling_target",
                    "properties": self.target_props("service/sc/web")},
            "cpu": pol("ECSServiceAverageCPUUtilization", 50),
            "mem": pol("ECSServiceAverageMemoryUtilization", 60)}}))
        self.apply()
        self.assert_noop()
        p = self.cairn("-v", "plan", check=0)
        self.assertEqual(p.stderr.count("DescribeScalingPolicies ->"), 1, p.stderr)
        self.boto("application-autoscaling").put_scaling_policy(
            PolicyName="ECSServiceAverageMemoryUtilization", ServiceNamespace="ecs",
            ResourceId="service/sc/web", ScalableDimension=DIM,
            PolicyType="TargetTrackingScaling",
            TargetTrackingScalingPolicyConfiguration={
                "TargetValue": 80.0, "PredefinedMetricSpecification": {
                    "PredefinedMetricType": "ECSServiceAverageMemoryUtilization"}})
        p = self.assert_drift("mem", "target_value")
        drift = p.stdout.split("Changed outside cairn:")[1].split("\n\n")[0]
        self.assertNotIn("cpu", drift)
        self.apply()
        self.assert_noop()
        self.cairn("destroy", "--auto-approve", check=0)
        self.assertIsNone(self.target("service/sc/web"))

    def test_adopted_after_kill_mid_create(self):
        self.boto("application-autoscaling").register_scalable_target(
            ServiceNamespace="ecs", ResourceId="service/sc/web", ScalableDimension=DIM,
            MinCapacity=1, MaxCapacity=3)
        self.stack("kill", "aws_appautoscaling_policy", {
            "name": "k", "policy_type": "TargetTrackingScaling", "service_namespace": "ecs",
            "resource_id": "service/sc/web", "scalable_dimension": DIM,
            "target_tracking_scaling_policy_configuration": {
                "target_value": 40, "predefined_metric_specification": {
                    "predefined_metric_type": "ECSServiceAverageCPUUtilization"}}})
        self.kill_mid_create("kill", lambda: self.policy("service/sc/web", "k"))
        self.assertEqual(self.ids()["kill"], "ecs/service/sc/web/%s/k" % DIM)
        self.cairn("destroy", "--auto-approve", check=0)
        self.assertIsNone(self.policy("service/sc/web", "k"))


if __name__ == "__main__":
    unittest.main()
