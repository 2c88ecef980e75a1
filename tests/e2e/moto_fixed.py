"""moto_server with two fixes to its signature check (moto 5.2.1).

moto recomputes the SigV4 signature of each request to check it, and gets
two cases wrong, so correctly signed requests (boto3's own included) are
refused with SignatureDoesNotMatch:

1. A request with no body that is not a form post (every GET and DELETE of
   the REST services: Lambda GetFunction, Route 53 GetHostedZone, ...):
   moto hashes its parsed parameters as if they were the payload. AWS
   hashes the empty body; so does this wrapper.
2. A percent-encoded path (Lambda ListTags/TagResource, whose ARN label has
   ':' encoded): moto signs the decoded path. AWS signs the path as sent
   (and, outside S3, encodes it once more); so does this wrapper.

Nothing else changes: authentication stays on and every other request is
checked exactly as moto checks it. Run it as moto_server:
    python3 tests/e2e/moto_fixed.py -H 127.0.0.1 -p PORT
"""
import sys
from urllib.parse import urlparse

from moto.core import authorization
from moto.iam import access_control
from moto.server import main

_orig_create_request = access_control.IAMRequestBase._create_aws_request


def _create_aws_request(self):
    form = "x-www-form-urlencoded" in (self._headers.get("Content-Type") or "")
    if not self._body and not form:
        saved = self._data
        self._data = b""
        try:
            return _orig_create_request(self)
        finally:
            self._data = saved
    return _orig_create_request(self)


_orig_authenticate = authorization.ActionAuthenticatorMixin._authenticate_and_authorize_action


def _authenticate(self, iam_request_cls, resource="*"):
    raw = getattr(self, "raw_path", None)
    if iam_request_cls is access_control.IAMRequest and raw and "%" in raw:
        # Check the signature over the path as sent, not the decoded one.
        decoded = self.uri
        parsed = urlparse(decoded)
        self.uri = raw + ("?" + parsed.query if parsed.query else "")
        try:
            return _orig_authenticate(self, iam_request_cls, resource)
        finally:
            self.uri = decoded
    return _orig_authenticate(self, iam_request_cls, resource)


access_control.IAMRequestBase._create_aws_request = _create_aws_request
authorization.ActionAuthenticatorMixin._authenticate_and_authorize_action = _authenticate

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
