"""Containers family (aws_ecs_cluster, aws_ecr_repository) against moto:
create -> check with boto3 -> no-op plan -> update in place -> drift shows and
is reverted -> replace -> import into a fresh state -> destroy."""
import json
import unittest

from family import FamilyCase

STACK = "ctr"


class EcsCluster(FamilyCase):

    def describe(self, name):
        ecs = self.boto("ecs")
        cs = ecs.describe_clusters(clusters=[name], include=["TAGS", "SETTINGS"])["clusters"]
        return cs[0] if cs else None

    def test_lifecycle(self):
        props = {"name": "ctr-cluster",
                 "setting": [{"name": "containerInsights", "value": "enabled"}],
                 "tags": {"team": "core"}}
        self.stack("cluster", "aws_ecs_cluster", props)
        self.apply()
        cid = self.ids()["cluster"]
        c = self.describe("ctr-cluster")
        self.assertEqual(c["status"], "ACTIVE")
        self.assertEqual(c["clusterArn"], cid)
        self.assertEqual(c["settings"], [{"name": "containerInsights", "value": "enabled"}])
        tags = {t["key"]: t["value"] for t in c["tags"]}
        self.assertEqual(tags, {"team": "core", "cairn:stack": STACK, "cairn:resource": "cluster"})
        shown = json.loads(self.cairn("state", "show", "cluster", "--json", check=0).stdout)
        self.assertIn(cid, json.dumps(shown))
        self.assert_noop()

        # update in place: settings and tags
        props["setting"] = [{"name": "containerInsights", "value": "disabled"}]
        props["tags"] = {"team": "platform", "env": "test"}
        self.stack("cluster", "aws_ecs_cluster", props)
        self.apply()
        self.assertEqual(self.ids()["cluster"], cid)
        c = self.describe("ctr-cluster")
        self.assertEqual(c["settings"], [{"name": "containerInsights", "value": "disabled"}])
        tags = {t["key"]: t["value"] for t in c["tags"]}
        self.assertEqual(tags, {"team": "platform", "env": "test", "cairn:stack": STACK,
                                "cairn:resource": "cluster"})
        self.assert_noop()

        # drift made outside cairn shows, and apply reverts it
        ecs = self.boto("ecs")
        ecs.update_cluster(cluster=cid, settings=[{"name": "containerInsights", "value": "enabled"}])
        ecs.untag_resource(resourceArn=cid, tagKeys=["env"])
        self.assert_drift("cluster")
        self.apply()
        c = self.describe("ctr-cluster")
        self.assertEqual(c["settings"], [{"name": "containerInsights", "value": "disabled"}])
        self.assertEqual({t["key"]: t["value"] for t in c["tags"]}.get("env"), "test")
        self.assert_noop()

        # replace: the name forces a new cluster
        props["name"] = "ctr-cluster2"
        self.stack("cluster", "aws_ecs_cluster", props)
        p = self.cairn("plan")
        self.assertIn("must be replaced", p.stdout)
        self.apply()
        new_id = self.ids()["cluster"]
        self.assertNotEqual(new_id, cid)
        self.assertEqual(self.describe("ctr-cluster2")["status"], "ACTIVE")
        self.assertEqual(self.describe("ctr-cluster")["status"], "INACTIVE")
        self.assert_noop()

        self.import_fresh("cluster", new_id)
        # the console shows the name: importing by it records the ARN as the id
        by_name = self.dir + "/by-name.db"
        self.cairn("--state", by_name, "import", "cluster", "ctr-cluster2", check=0)
        self.assertEqual(self.ids("--state", by_name), {"cluster": new_id})
        self.assert_noop("--state", by_name)

        self.cairn("destroy", "--auto-approve", check=0)
        self.assertEqual(self.describe("ctr-cluster2")["status"], "INACTIVE")
        self.assertEqual(self.ids(), {})

    def test_adopted_after_kill_mid_create(self):
        self.stack("cluster", "aws_ecs_cluster", {"name": "ctr-kill"})
        self.kill_mid_create("cluster", lambda: (self.describe("ctr-kill") or {}).get("status")
                             == "ACTIVE")
        self.assertEqual(self.ids()["cluster"], self.describe("ctr-kill")["clusterArn"])
        self.cairn("destroy", "--auto-approve", check=0)
        self.assertEqual(self.describe("ctr-kill")["status"], "INACTIVE")


LIFECYCLE = {"rules": [{"rulePriority": 1, "description": "expire untagged",
                        "selection": {"tagStatus": "untagged", "countType": "sinceImagePushed",
                                      "countUnit": "days", "countNumber": 14},
                        "action": {"type": "expire"}}]}


class EcrRepository(FamilyCase):

    def describe(self, name):
        ecr = self.boto("ecr")
        try:
            return ecr.describe_repositories(repositoryNames=[name])["repositories"][0]
        except ecr.exceptions.RepositoryNotFoundException:
            return None

    def tags(self, arn):
        return {t["Key"]: t["Value"]
                for t in self.boto("ecr").list_tags_for_resource(resourceArn=arn)["tags"]}

    def lifecycle(self, name):
        text = self.boto("ecr").get_lifecycle_policy(repositoryName=name)["lifecyclePolicyText"]
        return json.loads(text)

    def test_lifecycle(self):
        props = {"name": "ctr/app", "image_tag_mutability": "IMMUTABLE",
                 "image_scanning_configuration": {"scan_on_push": True},
                 "lifecycle_policy": LIFECYCLE, "force_delete": True,
                 "tags": {"team": "core"}}
        self.stack("repo", "aws_ecr_repository", props)
        self.apply()
        rid = self.ids()["repo"]
        self.assertEqual(rid, "ctr/app")
        r = self.describe("ctr/app")
        self.assertEqual(r["imageTagMutability"], "IMMUTABLE")
        self.assertTrue(r["imageScanningConfiguration"]["scanOnPush"])
        self.assertEqual(self.lifecycle("ctr/app"), LIFECYCLE)
        self.assertEqual(self.tags(r["repositoryArn"]),
                         {"team": "core", "cairn:stack": STACK, "cairn:resource": "repo"})
        shown = self.cairn("state", "show", "repo", "--json", check=0).stdout
        self.assertIn(r["repositoryUri"], shown)
        self.assert_noop()

        # update in place
        props["image_tag_mutability"] = "MUTABLE"
        props["image_scanning_configuration"] = {"scan_on_push": False}
        props["lifecycle_policy"] = json.loads(json.dumps(LIFECYCLE))
        props["lifecycle_policy"]["rules"][0]["selection"]["countNumber"] = 30
        props["tags"] = {"team": "platform"}
        self.stack("repo", "aws_ecr_repository", props)
        self.apply()
        self.assertEqual(self.ids()["repo"], rid)
        r = self.describe("ctr/app")
        self.assertEqual(r["imageTagMutability"], "MUTABLE")
        self.assertFalse(r["imageScanningConfiguration"]["scanOnPush"])
        self.assertEqual(self.lifecycle("ctr/app")["rules"][0]["selection"]["countNumber"], 30)
        self.assertEqual(self.tags(r["repositoryArn"])["team"], "platform")
        self.assert_noop()

        # drift: mutability and the lifecycle policy changed outside cairn
        ecr = self.boto("ecr")
        ecr.put_image_tag_mutability(repositoryName="ctr/app", imageTagMutability="IMMUTABLE")
        ecr.put_lifecycle_policy(repositoryName="ctr/app", lifecyclePolicyText=json.dumps(LIFECYCLE))
        self.assert_drift("repo")
        self.apply()
        self.assertEqual(self.describe("ctr/app")["imageTagMutability"], "MUTABLE")
        self.assertEqual(self.lifecycle("ctr/app")["rules"][0]["selection"]["countNumber"], 30)
        self.assert_noop()

        # removing the lifecycle policy from the stack deletes it in AWS
        del props["lifecycle_policy"]
        self.stack("repo", "aws_ecr_repository", props)
        self.apply()
        with self.assertRaises(ecr.exceptions.LifecyclePolicyNotFoundException):
            ecr.get_lifecycle_policy(repositoryName="ctr/app")
        self.assert_noop()

        # replace: a new name; the old repository holds an image (force_delete)
        ecr.put_image(repositoryName="ctr/app", imageTag="v1", imageManifest=json.dumps(
            {"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
             "config": {"mediaType": "application/vnd.docker.container.image.v1+json",
                        "size": 1, "digest": "sha256:" + "a" * 64}, "layers": []}))
        props["name"] = "ctr/app2"
        self.stack("repo", "aws_ecr_repository", props)
        self.apply()
        self.assertEqual(self.ids()["repo"], "ctr/app2")
        self.assertIsNotNone(self.describe("ctr/app2"))
        self.assertIsNone(self.describe("ctr/app"))
        self.assert_noop()

        # force_delete lives only in cairn's state: an import reads it as its
        # default (false), like Terraform, so the stack says false here.
        props["force_delete"] = False
        self.stack("repo", "aws_ecr_repository", props)
        self.apply()
        self.assert_noop()
        self.import_fresh("repo", "ctr/app2")

        self.cairn("destroy", "--auto-approve", check=0)
        self.assertIsNone(self.describe("ctr/app2"))
        self.assertEqual(self.ids(), {})

    def test_not_empty_without_force_delete(self):
        self.stack("repo", "aws_ecr_repository", {"name": "ctr/keep"})
        self.apply()
        self.assert_noop()
        self.boto("ecr").put_image(repositoryName="ctr/keep", imageTag="v1", imageManifest=json.dumps(
            {"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
             "config": {"mediaType": "application/vnd.docker.container.image.v1+json",
                        "size": 1, "digest": "sha256:" + "b" * 64}, "layers": []}))
        p = self.cairn("destroy", "--auto-approve")
        self.assertEqual(p.returncode, 1)
        self.assertIn("RepositoryNotEmptyException", p.stdout + p.stderr)
        self.assertIn("force_delete", p.stdout + p.stderr)
        self.assertIsNotNone(self.describe("ctr/keep"))

    def test_adopted_after_kill_mid_create(self):
        self.stack("repo", "aws_ecr_repository", {"name": "ctr/kill"})
        self.kill_mid_create("repo", lambda: self.describe("ctr/kill") is not None)
        self.assertEqual(self.ids()["repo"], "ctr/kill")
        self.cairn("destroy", "--auto-approve", check=0)
        self.assertIsNone(self.describe("ctr/kill"))

    def test_same_name_not_ours_is_not_adopted(self):
        self.boto("ecr").create_repository(repositoryName="ctr/theirs")
        self.stack("repo", "aws_ecr_repository", {"name": "ctr/theirs"})
        p = self.cairn("apply", "--auto-approve")
        self.assertEqual(p.returncode, 1)
        self.assertIn("RepositoryAlreadyExistsException", p.stdout + p.stderr)
        self.assertEqual(self.ids(), {})


class BatchRead(FamilyCase):
    """Several clusters and repositories refresh through DescribeClusters /
    DescribeRepositories batches, one of each deleted outside cairn."""

    def test_batch_refresh_with_one_gone(self):
        res = {}
        for i in range(3):
            res["cluster%d" % i] = {"type": "aws_ecs_cluster",
                                    "properties": {"name": "batch-c%d" % i}}
            res["repo%d" % i] = {"type": "aws_ecr_repository",
                                 "properties": {"name": "batch-r%d" % i,
                                                "tags": {"n": str(i)}}}
        self.write("stack.json", json.dumps({"stack": STACK, "region": "us-east-1",
                                             "resources": res}))
        self.apply()
        ids = self.ids()
        self.assertEqual(len(ids), 6)
        self.assert_noop()

        self.boto("ecs").delete_cluster(cluster=ids["cluster1"])
        self.boto("ecr").delete_repository(repositoryName="batch-r2")
        self.boto("ecr").tag_resource(
            resourceArn=self.boto("ecr").describe_repositories(
                repositoryNames=["batch-r0"])["repositories"][0]["repositoryArn"],
            tags=[{"Key": "n", "Value": "drifted"}])
        p = self.cairn("plan", "--detailed-exitcode")
        self.assertEqual(p.returncode, 2, p.stdout + p.stderr)
        self.assertIn("Plan: 2 to add, 1 to change, 0 to destroy.", p.stdout)
        self.apply()
        self.assert_noop()
        ecs = self.boto("ecs")
        cs = ecs.describe_clusters(clusters=["batch-c%d" % i for i in range(3)])["clusters"]
        self.assertEqual([c["status"] for c in cs], ["ACTIVE"] * 3)
        ecr = self.boto("ecr")
        rs = ecr.describe_repositories(repositoryNames=["batch-r%d" % i for i in range(3)])
        self.assertEqual(len(rs["repositories"]), 3)
        r0 = [r for r in rs["repositories"] if r["repositoryName"] == "batch-r0"][0]
        tags = ecr.list_tags_for_resource(resourceArn=r0["repositoryArn"])
        self.assertIn({"Key": "n", "Value": "0"}, tags["tags"])
        self.cairn("destroy", "--auto-approve", check=0)
        self.assertEqual(ecr.describe_repositories()["repositories"], [])


if __name__ == "__main__":
    unittest.main()
