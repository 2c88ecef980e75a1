"""aws_acm_certificate against moto: request with DNS validation -> check
with boto3 -> the validation records are known attributes -> no-op plan ->
update in place (options, tags) -> drift -> replace -> import into a fresh
state -> destroy -> a kill during the request is adopted."""
import json
import unittest

from family import FamilyCase

STACK = "cert"


class Certificate(FamilyCase):
    STACK = STACK

    def cert(self, arn):
        acm = self.boto("acm")
        try:
            return acm.describe_certificate(CertificateArn=arn)["Certificate"]
        except acm.exceptions.ResourceNotFoundException:
            return None

    def tags(self, arn):
        return {t["Key"]: t["Value"] for t in
                self.boto("acm").list_tags_for_certificate(CertificateArn=arn)["Tags"]}

    def owned(self, name):
        acm = self.boto("acm")
        return [c["CertificateArn"] for c in acm.list_certificates()["CertificateSummaryList"]
                if self.tags(c["CertificateArn"]).get("cairn:resource") == name]

    def shown(self, name):
        out = json.loads(self.cairn("state", "show", name, "--json", check=0).stdout)
        return out.get("attributes", out)

    def test_lifecycle(self):
        props = {"domain_name": "app.cert.example", "validation_method": "DNS",
                 "subject_alternative_names": ["www.cert.example"], "tags": {"team": "web"}}
        self.stack("tls", "aws_acm_certificate", props)
        self.apply()
        arn = self.ids()["tls"]
        c = self.cert(arn)
        self.assertEqual(c["DomainName"], "app.cert.example")
        self.assertEqual(sorted(c["SubjectAlternativeNames"]),
                         ["app.cert.example", "www.cert.example"])
        self.assertEqual(self.tags(arn), {"cairn:stack": STACK, "cairn:resource": "tls",
                                          "team": "web"})
        attrs = self.shown("tls")
        self.assertEqual(attrs["subject_alternative_names"], ["www.cert.example"])
        self.assertEqual(attrs["status"], "PENDING_VALIDATION")
        want = sorted((d["DomainName"], d["ResourceRecord"]["Name"], d["ResourceRecord"]["Value"])
                      for d in c["DomainValidationOptions"])
        got = sorted((d["domain_name"], d["resource_record_name"], d["resource_record_value"])
                     for d in attrs["domain_validation_options"])
        self.assertEqual(got, want)
        self.assertTrue(attrs["not_after"].endswith("Z"))
        self.assert_noop()

        # update in place: tags
        props["tags"] = {"team": "edge"}
        self.stack("tls", "aws_acm_certificate", props)
        self.assertIn("updated in place", self.cairn("plan").stdout)
        self.apply()
        self.assertEqual(self.ids()["tls"], arn)
        self.assertEqual(self.tags(arn)["team"], "edge")
        self.assert_noop()

        # drift: a tag removed outside cairn
        self.boto("acm").remove_tags_from_certificate(CertificateArn=arn,
                                                      Tags=[{"Key": "team"}])
        self.assert_drift("tls", "team")
        self.apply()
        self.assertEqual(self.tags(arn)["team"], "edge")
        self.assert_noop()

        # replace: another alternative name is another certificate
        props["subject_alternative_names"] = ["api.cert.example"]
        self.stack("tls", "aws_acm_certificate", props)
        self.assertIn("forces replacement", self.cairn("plan").stdout)
        self.apply()
        arn2 = self.ids()["tls"]
        self.assertNotEqual(arn2, arn)
        self.assertIsNone(self.cert(arn))
        self.assert_noop()

        self.import_fresh("tls", arn2)
        self.cairn("destroy", "--auto-approve", check=0)
        self.assertIsNone(self.cert(arn2))
        self.assertEqual(self.ids(), {})

    def test_options_change_in_place(self):
        """moto lacks UpdateCertificateOptions (test_wire checks the request
        against botocore's model): here only the plan is checked."""
        props = {"domain_name": "opt.cert.example"}
        self.stack("tls", "aws_acm_certificate", props)
        self.apply()
        arn = self.ids()["tls"]
        self.assertEqual(self.shown("tls")["validation_method"], "DNS")
        self.assertEqual(self.shown("tls")["options"],
                         {"certificate_transparency_logging_preference": "ENABLED"})
        props["options"] = {"certificate_transparency_logging_preference": "DISABLED"}
        self.stack("tls", "aws_acm_certificate", props)
        p = self.cairn("plan", "--detailed-exitcode")
        self.assertEqual(p.returncode, 2)
        self.assertIn("updated in place", p.stdout)
        self.assertIn('certificate_transparency_logging_preference = "ENABLED" -> "DISABLED"', p.stdout)
        self.cairn("destroy", "--auto-approve", check=0)
        self.assertIsNone(self.cert(arn))

    def test_adopted_after_kill_mid_create(self):
        self.stack("kill", "aws_acm_certificate", {"domain_name": "kill.cert.example"})
        self.kill_mid_create("kill", lambda: self.owned("kill"))
        self.assertEqual(len(self.owned("kill")), 1)
        self.cairn("destroy", "--auto-approve", check=0)
        self.assertEqual(self.owned("kill"), [])


if __name__ == "__main__":
    unittest.main()
