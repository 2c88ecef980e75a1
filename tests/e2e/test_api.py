"""cairn api against moto in signature-checking mode: one or more operations
of every wire protocol (query: sts, elbv2, sns; ec2; json: dynamodb, ecs),
each checked independently with boto3; signature failures, per-service
endpoint overrides, AWS errors, usage errors and the redacted -v log."""
import json
import re

from harness import CairnTestCase, free_port


class ApiTest(CairnTestCase):

    def api(self, service, op, params=None, check=0, env=None, extra=()):
        args = list(extra) + ["api", service, op]
        if params is not None:
            args.append(json.dumps(params))
        p = self.cairn(*args, check=check, env=env)
        return json.loads(p.stdout) if check == 0 else p

    def test_sts_get_caller_identity(self):
        out = self.api("sts", "GetCallerIdentity")
        want = self.boto("sts").get_caller_identity()
        self.assertEqual(out["Account"], want["Account"])
        self.assertEqual(out["Arn"], want["Arn"])
        self.assertIn("cairn-test", out["Arn"])

    def test_ec2_create_and_describe_vpcs(self):
        out = self.api("ec2", "CreateVpc", {
            "CidrBlock": "10.42.0.0/16",
            "TagSpecifications": [{"ResourceType": "vpc",
                                   "Tags": [{"Key": "Name", "Value": "api test"}]}]})
        vpc_id = out["Vpc"]["VpcId"]
        seen = self.boto("ec2").describe_vpcs(VpcIds=[vpc_id])["Vpcs"]
        self.assertEqual(len(seen), 1)
        self.assertEqual(seen[0]["CidrBlock"], "10.42.0.0/16")
        self.assertIn({"Key": "Name", "Value": "api test"}, seen[0]["Tags"])
        # Another VPC that the filter must leave out.
        self.boto("ec2").create_vpc(CidrBlock="10.43.0.0/16")
        out = self.api("ec2", "DescribeVpcs", {"VpcIds": [vpc_id]})
        self.assertEqual([v["VpcId"] for v in out["Vpcs"]], [vpc_id])
        vpc = out["Vpcs"][0]
        self.assertEqual(vpc["CidrBlock"], "10.42.0.0/16")
        self.assertIs(vpc["IsDefault"], False)
        self.assertEqual(vpc["Tags"], [{"Key": "Name", "Value": "api test"}])
        out = self.api("ec2", "DescribeVpcs", {
            "Filters": [{"Name": "tag:Name", "Values": ["api test"]}]})
        self.assertEqual([v["VpcId"] for v in out["Vpcs"]], [vpc_id])

    def test_dynamodb_create_and_describe_table(self):
        out = self.api("dynamodb", "CreateTable", {
            "TableName": "api-table",
            "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
            "BillingMode": "PAY_PER_REQUEST"})
        self.assertEqual(out["TableDescription"]["TableName"], "api-table")
        seen = self.boto("dynamodb").describe_table(TableName="api-table")["Table"]
        self.assertEqual(seen["KeySchema"], [{"AttributeName": "id", "KeyType": "HASH"}])
        out = self.api("dynamodb", "DescribeTable", {"TableName": "api-table"})
        self.assertEqual(out["Table"]["TableArn"], seen["TableArn"])
        self.assertEqual(out["Table"]["BillingModeSummary"]["BillingMode"], "PAY_PER_REQUEST")

    def test_elbv2_target_groups(self):
        vpc_id = self.boto("ec2").create_vpc(CidrBlock="10.50.0.0/16")["Vpc"]["VpcId"]
        out = self.api("elbv2", "CreateTargetGroup", {
            "Name": "api-tg", "Protocol": "HTTP", "Port": 8080, "VpcId": vpc_id,
            "HealthCheckIntervalSeconds": 17, "Matcher": {"HttpCode": "200-299"},
            "Tags": [{"Key": "team", "Value": "web"}]})
        tg = out["TargetGroups"][0]
        self.assertEqual(tg["Port"], 8080)
        seen = self.boto("elbv2").describe_target_groups(Names=["api-tg"])["TargetGroups"][0]
        self.assertEqual(seen["TargetGroupArn"], tg["TargetGroupArn"])
        self.assertEqual(seen["HealthCheckIntervalSeconds"], 17)
        self.assertEqual(seen["Matcher"]["HttpCode"], "200-299")
        tags = self.boto("elbv2").describe_tags(ResourceArns=[tg["TargetGroupArn"]])
        self.assertEqual(tags["TagDescriptions"][0]["Tags"], [{"Key": "team", "Value": "web"}])
        out = self.api("elbv2", "DescribeTargetGroups", {"Names": ["api-tg"]})
        self.assertEqual(len(out["TargetGroups"]), 1)
        got = out["TargetGroups"][0]
        self.assertEqual(got["TargetGroupArn"], tg["TargetGroupArn"])
        self.assertIs(got["HealthCheckEnabled"], True)
        self.assertEqual(got["HealthCheckIntervalSeconds"], 17)

    def test_sns_topics(self):
        out = self.api("sns", "CreateTopic", {"Name": "api-topic",
                                               "Attributes": {"DisplayName": "Api Topic"}})
        arn = out["TopicArn"]
        attrs = self.boto("sns").get_topic_attributes(TopicArn=arn)["Attributes"]
        self.assertEqual(attrs["DisplayName"], "Api Topic")
        out = self.api("sns", "ListTopics")
        self.assertIn({"TopicArn": arn}, out["Topics"])
        out = self.api("sns", "GetTopicAttributes", {"TopicArn": arn})
        self.assertEqual(out["Attributes"]["DisplayName"], "Api Topic")

    def test_ecs_create_cluster(self):
        out = self.api("ecs", "CreateCluster", {"clusterName": "api-cluster"})
        self.assertEqual(out["cluster"]["clusterName"], "api-cluster")
        seen = self.boto("ecs").describe_clusters(clusters=["api-cluster"])["clusters"]
        self.assertEqual(seen[0]["clusterArn"], out["cluster"]["clusterArn"])

    def test_wrong_secret_is_refused(self):
        # moto's signature errors: query and json protocols say SignatureDoesNotMatch,
        # ec2 says AuthFailure (as EC2 does).
        sig = (r"SignatureDoesNotMatch: The request signature we calculated does not match "
               r"the signature you provided")
        for service, op, want in (("sts", "GetCallerIdentity", sig),
                                  ("sns", "ListTopics", sig),
                                  ("dynamodb", "ListTables", sig),
                                  ("ec2", "DescribeVpcs", r"AuthFailure: AWS was not able to "
                                   r"validate the provided access credentials")):
            p = self.api(service, op, check=1,
                         env={"AWS_SECRET_ACCESS_KEY": "wrong" + self.moto.secret[5:]})
            self.assertEqual(p.stdout, "")
            self.assertRegex(p.stderr, r"^cairn: error: " + want)

    def test_aws_error_code_and_message(self):
        p = self.api("ec2", "DescribeVpcs", {"VpcIds": ["vpc-00000000"]}, check=1)
        self.assertIn("cairn: error: InvalidVpcID.NotFound: ", p.stderr)
        p = self.api("dynamodb", "DescribeTable", {"TableName": "nope"}, check=1)
        self.assertIn("cairn: error: ResourceNotFoundException: ", p.stderr)

    def test_per_service_endpoint_override(self):
        closed = "http://127.0.0.1:%d" % free_port()
        env = {"AWS_ENDPOINT_URL": closed, "AWS_ENDPOINT_URL_EC2": self.moto.url,
               "AWS_MAX_ATTEMPTS": "1"}
        out = self.api("ec2", "DescribeVpcs", env=env)
        self.assertIsInstance(out["Vpcs"], list)
        p = self.api("sts", "GetCallerIdentity", check=1, env=env)
        self.assertIn("cairn: error: ", p.stderr)
        self.assertIn(closed, p.stderr)

    def test_verbose_log_is_redacted(self):
        p = self.cairn("-v", "api", "sts", "GetCallerIdentity", check=0)
        self.assertIn("Action=GetCallerIdentity", p.stderr)
        self.assertIn("200", p.stderr)
        self.assertNotIn(self.moto.secret, p.stderr)
        self.assertIsNone(re.search(r"[0-9a-f]{64}", p.stderr), p.stderr)
        self.assertEqual(json.loads(p.stdout)["Account"],
                         self.boto("sts").get_caller_identity()["Account"])

    def test_assume_role_profile(self):
        # role_arn + source_profile: cairn calls STS AssumeRole itself, then signs
        # with the temporary credentials.
        iam = self.boto("iam")
        trust = json.dumps({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}]})
        arn = iam.create_role(RoleName="api-deployer",
                              AssumeRolePolicyDocument=trust)["Role"]["Arn"]
        iam.put_role_policy(RoleName="api-deployer", PolicyName="all", PolicyDocument=json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
        config = self.write("config", "[profile deploy]\nrole_arn = %s\n"
                            "source_profile = base\nrole_session_name = api-e2e\n" % arn)
        creds = self.write("credentials", "[base]\naws_access_key_id = %s\n"
                           "aws_secret_access_key = %s\n" % (self.moto.key_id, self.moto.secret))
        env = {"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_PROFILE": "deploy",
               "AWS_CONFIG_FILE": config, "AWS_SHARED_CREDENTIALS_FILE": creds}
        out = self.api("sts", "GetCallerIdentity", env=env)
        self.assertIn(":assumed-role/api-deployer/api-e2e", out["Arn"])
        out = self.api("ec2", "DescribeVpcs", env=env)
        self.assertIsInstance(out["Vpcs"], list)
        # The -v log shows the AssumeRole exchange with its secrets hidden.
        p = self.cairn("-v", "api", "sts", "GetCallerIdentity", env=env, check=0)
        self.assertIn("Action=AssumeRole", p.stderr)
        self.assertIn("<SecretAccessKey>", p.stderr)
        self.assertIsNone(re.search(r"<SecretAccessKey>[^*<]", p.stderr), p.stderr)
        self.assertIsNone(re.search(r"<SessionToken>[^*<]", p.stderr), p.stderr)
        self.assertRegex(p.stderr, r"X-Amz-Security-Token: \*")
        self.assertNotIn(self.moto.secret, p.stderr)

    def test_usage_errors(self):
        p = self.cairn("api", "ec2", "DescribeVpcs", "{not json", check=1)
        self.assertIn("cairn api --help", p.stderr)
        p = self.cairn("api", "nosuch", "DoThing", check=1)
        self.assertIn("unknown service 'nosuch'", p.stderr)
        p = self.cairn("api", "ec2", check=1)
        self.assertIn("SERVICE and OPERATION", p.stderr)
        p = self.cairn("api", "ec2", "DescribeVpcs", "[1]", check=1)
        self.assertIn("object", p.stderr)

    def test_help_lists_commands_and_environment(self):
        p = self.cairn("--help", check=0)
        for cmd in ("plan", "apply", "destroy", "state", "show", "output", "api"):
            self.assertRegex(p.stdout, r"\n  %s +\S" % cmd)
        for var in ("CAIRN_STATE ", "CAIRN_STATE_KEY ", "CAIRN_STATE_KMS_KEY_ID",
                    "CAIRN_STATE_KEY_PREVIOUS", "AWS_ENDPOINT_URL", "AWS_READ_TIMEOUT"):
            self.assertIn(var, p.stdout.split("Environment:")[1])

    def test_version(self):
        p = self.cairn("version", check=0)
        lines = p.stdout.splitlines()
        self.assertEqual(lines[0], "cairn 0.1.0")
        for lib in ("libcurl", "OpenSSL", "jansson", "SQLite", "libyaml", "expat"):
            self.assertTrue(any(re.match(r"%s \d+\.\d+" % lib, ln) for ln in lines), p.stdout)
