"""stacks/web-private.yaml as shipped: validate -> plan -> apply (checked with
boto3) -> no-op plan -> destroy (nothing left), against moto. The database
password never shows in the output."""
import json
import os
import shutil
import unittest

from harness import CairnTestCase

HERE = os.path.dirname(os.path.abspath(__file__))
STACK_FILE = os.path.join(HERE, "..", "..", "stacks", "web-private.yaml")
PASSWORD = "Stack-Passw0rd-grault"


class PrivateWebStack(CairnTestCase):
    def test_lifecycle(self):
        shutil.copy(STACK_FILE, os.path.join(self.dir, "stack.yaml"))
        args = ["--var", "env=e2e", "--var", "db_password=" + PASSWORD]
        self.cairn("validate", *args, check=0)
        p = self.cairn("plan", *args, "--detailed-exitcode", check=2)
        self.assertIn("Plan: 44 to add, 0 to change, 0 to destroy.", p.stdout)
        self.assertNotIn(PASSWORD, p.stdout + p.stderr)

        p = self.cairn("apply", *args, "--auto-approve", check=0)
        self.assertNotIn(PASSWORD, p.stdout + p.stderr)
        ids = dict(l.split("\t")[0::2] for l in
                   self.cairn("state", "list", *args, check=0).stdout.strip().splitlines())
        self.assertEqual(len(ids), 44)

        ec2 = self.boto("ec2")
        nats = ec2.describe_nat_gateways(Filter=[{"Name": "nat-gateway-id", "Values": [
            ids["nat_a"], ids["nat_b"]]}])["NatGateways"]
        self.assertEqual(sorted(n["SubnetId"] for n in nats),
                         sorted([ids["public_a"], ids["public_b"]]))
        rts = {r["RouteTableId"]: r for r in ec2.describe_route_tables(
            RouteTableIds=[ids["private_a_routes"], ids["private_b_routes"]])["RouteTables"]}
        self.assertIn(ids["nat_a"], [r.get("NatGatewayId") for r in
                                     rts[ids["private_a_routes"]]["Routes"]])
        ep = [e for e in ec2.describe_vpc_endpoints()["VpcEndpoints"]
              if e["VpcEndpointId"] == ids["s3_endpoint"]][0]
        self.assertEqual(sorted(ep["RouteTableIds"]),
                         sorted([ids["private_a_routes"], ids["private_b_routes"]]))
        db = self.boto("rds").describe_db_instances(
            DBInstanceIdentifier="webp-e2e")["DBInstances"][0]
        self.assertEqual(db["DBSubnetGroup"]["DBSubnetGroupName"], "webp-e2e")
        secret = json.loads(self.boto("secretsmanager").get_secret_value(
            SecretId=ids["db_secret"])["SecretString"])
        self.assertEqual(secret, {"username": "app", "password": PASSWORD})
        key_arn = self.boto("kms").describe_key(KeyId=ids["key"])["KeyMetadata"]["Arn"]
        self.assertEqual(self.boto("secretsmanager").describe_secret(
            SecretId=ids["db_secret"])["KmsKeyId"], key_arn)
        t = self.boto("application-autoscaling").describe_scalable_targets(
            ServiceNamespace="ecs", ResourceIds=["service/webp-e2e/app"])["ScalableTargets"]
        self.assertEqual((t[0]["MinCapacity"], t[0]["MaxCapacity"]), (2, 6))
        # HTTPS with the stack's certificate; HTTP redirects to it
        elb = self.boto("elbv2")
        listeners = {l["Port"]: l for l in elb.describe_listeners(
            LoadBalancerArn=ids["alb"])["Listeners"]}
        self.assertEqual(listeners[443]["Certificates"][0]["CertificateArn"], ids["cert"])
        self.assertEqual(listeners[80]["DefaultActions"][0]["Type"], "redirect")
        # the site's name: an alias to the load balancer
        lb = elb.describe_load_balancers(LoadBalancerArns=[ids["alb"]])["LoadBalancers"][0]
        sets = self.boto("route53").list_resource_record_sets(
            HostedZoneId=ids["zone"])["ResourceRecordSets"]
        site = [r for r in sets if r["Name"] == "app.example.com." and r["Type"] == "A"][0]
        self.assertEqual(site["AliasTarget"]["DNSName"].rstrip(".").lower(),
                         lb["DNSName"].lower())
        # the artifacts bucket: versioned, encrypted with the key, private, expiring
        s3 = self.boto("s3")
        self.assertEqual(ids["artifacts"], "webp-e2e-artifacts")
        self.assertEqual(s3.get_bucket_versioning(Bucket="webp-e2e-artifacts")["Status"],
                         "Enabled")
        sse = s3.get_bucket_encryption(Bucket="webp-e2e-artifacts")[
            "ServerSideEncryptionConfiguration"]["Rules"][0]["ApplyServerSideEncryptionByDefault"]
        self.assertEqual((sse["SSEAlgorithm"], sse["KMSMasterKeyID"]), ("aws:kms", key_arn))
        self.assertTrue(all(s3.get_public_access_block(Bucket="webp-e2e-artifacts")[
            "PublicAccessBlockConfiguration"].values()))
        self.assertEqual(s3.get_bucket_lifecycle_configuration(Bucket="webp-e2e-artifacts")[
            "Rules"][0]["NoncurrentVersionExpiration"]["NoncurrentDays"], 30)
        out = json.loads(self.cairn("output", "--json", *args, check=0).stdout)
        self.assertTrue(out["certificate_validation"]["value"][0]["resource_record_name"])

        p = self.cairn("plan", *args, "--detailed-exitcode")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)

        self.cairn("destroy", *args, "--auto-approve", check=0)
        self.assertEqual(self.cairn("state", "list", *args, check=0).stdout.strip(), "")
        self.assertEqual([n["State"] for n in ec2.describe_nat_gateways(Filter=[
            {"Name": "nat-gateway-id", "Values": [ids["nat_a"], ids["nat_b"]]}])["NatGateways"]
            if n["State"] not in ("deleted", "deleting")], [])
        self.assertEqual(self.boto("rds").describe_db_instances()["DBInstances"], [])
        self.assertNotIn("webp-e2e-artifacts",
                         [b["Name"] for b in s3.list_buckets()["Buckets"]])
        self.assertEqual(self.boto("route53").list_hosted_zones()["HostedZones"], [])


if __name__ == "__main__":
    unittest.main()
