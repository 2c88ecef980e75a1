"""A fault-injecting HTTP proxy between cairn and moto (tests and benchmarks).

cairn is pointed at it with AWS_ENDPOINT_URL; it forwards each request to
the upstream (moto) unchanged (the Host header included, so SigV4 still
verifies) after an optional added latency (and may hold the answer for
answer_latency_ms after moto gave it), or answers it with a fault:

  * a 503 ServiceUnavailable or a throttling error, in the wire format of the
    request's protocol (JSON error for X-Amz-Target / application/x-amz-json
    requests, EC2's <Response><Errors> for ec2, <ErrorResponse> for query);
  * a dropped connection (closed without any answer);
  * a lost answer, as when a network fails after AWS did the work: the
    request reaches moto and takes effect, then the connection is closed
    without its answer. Chosen either by rule (lose(pattern, times): a
    request whose body or X-Amz-Target holds pattern) or at random
    (lost_answer_rate, for requests whose "METHOD PATH" matches
    lost_answer_match).

Faults other than lost answers are injected before the request reaches
moto, so they never leave a half-done operation behind: a client that
retries correctly loses and duplicates nothing. Decisions come from a
seeded random generator, so a
run can be repeated. It counts requests and faults.

Hostile answers (tests/e2e/test_hostile.py) are rules added with
add_rule(kind, ops=..., service=..., count=...): each request whose
operation (Action= or X-Amz-Target) and signing service match a rule with
uses left is handled by the rule instead:

  * truncate  forwarded; the answer body cut in half (Content-Length fits);
  * cut       forwarded; the full Content-Length announced, half the body
              sent, the connection closed;
  * html      forwarded; answered 200 text/html with a broken HTML page;
  * ctype     forwarded; the answer's Content-Type replaced (ctype=...);
  * error200  not forwarded; a 200 carrying the protocol's error document
              (code=..., default InternalError);
  * stall     not forwarded; nothing sent for seconds=... then closed;
  * expired   not forwarded when signed with key_id=... or carrying
              X-Amz-Security-Token token=...; ExpiredToken in the
              protocol's format;
  * throttle  not forwarded; the protocol's throttling error.

A skewed server clock is set with set(clock_offset=SECONDS): every answer's
Date header is then the proxy's clock plus the offset, and a request whose
X-Amz-Date is more than 5 minutes from that time is refused (403,
skew_code, default RequestTimeTooSkewed) without being forwarded.

Use in-process (FaultProxy(upstream, ...).start(); .url; .stop()) or as a
program: python3 faultproxy.py UPSTREAM_URL [--port N] [--latency-ms N]
[--fault-rate R] [--drop-rate R] [--seed N].
"""
import argparse
import calendar
import email.utils
import http.client
import http.server
import json
import random
import re
import socketserver
import sys
import threading
import time
import urllib.parse

HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te",
              "trailer", "upgrade"}


class _Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        # a client killed mid-request (the SIGKILL tests) is expected, not an error
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class FaultProxy:
    """The proxy. Rates are probabilities per request (0 <= rate <= 1)."""

    def __init__(self, upstream, port=0, latency_ms=0, fault_rate=0.0, drop_rate=0.0, seed=0,
                 answer_latency_ms=0, lost_answer_rate=0.0, lost_answer_match=None,
                 lost_answer_first=0):
        u = urllib.parse.urlsplit(upstream)
        self.up_host, self.up_port = u.hostname, u.port or 80
        self.latency_ms = latency_ms
        # held after upstream answered, before passing the answer on: the
        # work is done in AWS while the client still waits
        self.answer_latency_ms = answer_latency_ms
        self.fault_rate = fault_rate
        self.drop_rate = drop_rate
        self.lost_answer_rate = lost_answer_rate
        self.lost_answer_match = re.compile(lost_answer_match) if lost_answer_match else None
        self.lost_answers = 0  # requests forwarded whose answer was dropped
        # The first N matching answers are lost whatever the rate: a test's
        # minimum does not then depend on how many requests a loaded machine
        # happened to make.
        self.lost_answer_first = lost_answer_first
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.requests = 0      # requests received
        self.inflight = 0      # requests being handled now (held, forwarded, answered)
        self.forwarded = 0     # requests that reached upstream
        self.faults = 0        # 503 / throttling answers
        self.drops = 0         # connections dropped
        self.lost = 0          # answers dropped after upstream did the work
        self.lose_rules = []   # [pattern, times left]
        self.rules = []        # hostile rules, see add_rule
        self.hits = {}         # kind -> requests a hostile rule or the skew check handled
        self.clock_offset = 0  # seconds the "server clock" is ahead of ours
        self.skew_code = "RequestTimeTooSkewed"
        self.server = _Server(("127.0.0.1", port), self._handler())
        self.port = self.server.server_address[1]
        self.url = "http://127.0.0.1:%d" % self.port
        self.thread = None

    def start(self):
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def wait_idle(self, timeout=30.0):
        """Waits until no request is held or in flight: what a killed client
        sent has reached upstream (or been dropped) before the next run looks,
        as on a real network, where nothing a dead process sent arrives much
        later. Returns False if requests were still in flight at the timeout."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            with self.lock:
                if self.inflight == 0:
                    return True
            time.sleep(0.02)
        return False

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def set(self, **kw):
        """Changes latency_ms / fault_rate / drop_rate while running."""
        with self.lock:
            for k, v in kw.items():
                setattr(self, k, v)

    def lose(self, pattern, times=1):
        """Drops the answer of the next `times` requests matching pattern."""
        with self.lock:
            self.lose_rules.append([pattern, times])

    def _losing(self, body, target):
        with self.lock:
            for rule in self.lose_rules:
                if rule[1] > 0 and (rule[0].encode() in body or rule[0] in target):
                    rule[1] -= 1
                    self.lost += 1
                    return True
        return False

    def add_rule(self, kind, ops=None, service=None, count=None, **params):
        """Handles matching requests the hostile way KIND (see the module
        doc); ops: operation names (None: any); service: signing name;
        count: how many requests (None: every one)."""
        rule = dict(params, kind=kind, ops=set(ops) if ops else None, service=service,
                    left=count)
        with self.lock:
            self.rules.append(rule)
        return rule

    def clear_rules(self):
        with self.lock:
            self.rules = []
            self.clock_offset = 0

    def _rule_for(self, service, op, headers):
        with self.lock:
            for r in self.rules:
                if r["left"] is not None and r["left"] <= 0:
                    continue
                if r["ops"] is not None and op not in r["ops"]:
                    continue
                if r["service"] and r["service"] != service:
                    continue
                if r["kind"] == "expired" and not self._uses(headers, r):
                    continue
                if r["left"] is not None:
                    r["left"] -= 1
                self.hits[r["kind"]] = self.hits.get(r["kind"], 0) + 1
                return dict(r)
        return None

    @staticmethod
    def _uses(headers, rule):
        """True when the request is signed with the rule's key_id or token."""
        if rule.get("token") and headers.get("X-Amz-Security-Token") == rule["token"]:
            return True
        key = re.search(r"Credential=([^/]+)/", headers.get("Authorization", ""))
        return bool(rule.get("key_id") and key and key.group(1) == rule["key_id"])

    def _skewed(self, headers):
        """True when the request's signing time is off the server clock."""
        with self.lock:
            offset = self.clock_offset
        if not offset:
            return False
        stamp = headers.get("X-Amz-Date", "")
        try:
            t = calendar.timegm(time.strptime(stamp, "%Y%m%dT%H%M%SZ"))
        except ValueError:
            return True
        if abs(t - (time.time() + offset)) <= 300:
            return False
        with self.lock:
            self.hits["skew"] = self.hits.get("skew", 0) + 1
        return True

    def _decide(self):
        with self.lock:
            self.requests += 1
            r = self.rng.random()
            if r < self.drop_rate:
                self.drops += 1
                return "drop", self.latency_ms
            if r < self.drop_rate + self.fault_rate:
                self.faults += 1
                return ("503" if self.rng.random() < 0.5 else "throttle"), self.latency_ms
            self.forwarded += 1
            return "forward", self.latency_ms

    def _lose_answer(self, method, path):
        if not self.lost_answer_match or not self.lost_answer_match.search(method + " " + path):
            return False
        with self.lock:
            if self.lost_answer_first > 0:
                self.lost_answer_first -= 1
            elif self.rng.random() >= self.lost_answer_rate:
                return False
            self.lost_answers += 1
            return True

    def _handler(self):
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Without this every answer waits for a delayed ACK (~40 ms).
            disable_nagle_algorithm = True

            def log_message(self, *args):
                pass

            def date_time_string(self, timestamp=None):
                # The server's clock, skewed when the test says so.
                return email.utils.formatdate((timestamp or time.time()) + proxy.clock_offset,
                                              usegmt=True)

            def _service_op(self, body):
                auth = self.headers.get("Authorization", "")
                m = re.search(r"Credential=[^/]+/[^/]+/[^/]+/([^/]+)/", auth)
                target = self.headers.get("X-Amz-Target", "")
                if target:
                    op = target.rsplit(".", 1)[-1]
                else:
                    q = urllib.parse.parse_qs(body.decode("utf-8", "replace"))
                    op = (q.get("Action") or [""])[0]
                return (m.group(1) if m else ""), op

            def _is_json(self):
                return bool(self.headers.get("X-Amz-Target")) or \
                    "amz-json" in self.headers.get("Content-Type", "")

            def _error(self, status, service, code, message):
                """Answers an AWS error in the request's protocol."""
                if self._is_json():
                    body = json.dumps({"__type": code, "message": message}).encode()
                    self._answer(status, "application/x-amz-json-1.1", body)
                elif service == "ec2":
                    body = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Errors><Error>"
                            "<Code>%s</Code><Message>%s</Message></Error></Errors>"
                            "<RequestID>faultproxy</RequestID></Response>"
                            % (code, message)).encode()
                    self._answer(status, "text/xml", body)
                else:
                    body = ("<ErrorResponse><Error><Type>Sender</Type><Code>%s</Code>"
                            "<Message>%s</Message></Error><RequestId>faultproxy</RequestId>"
                            "</ErrorResponse>" % (code, message)).encode()
                    self._answer(status, "text/xml", body)

            def _upstream(self, body):
                """Forwards; returns (status, content type, body, extra headers)."""
                conn = http.client.HTTPConnection(proxy.up_host, proxy.up_port, timeout=120)
                try:
                    headers = {k: v for k, v in self.headers.items()
                               if k.lower() not in HOP_BY_HOP}
                    conn.request(self.command, self.path, body=body, headers=headers)
                    resp = conn.getresponse()
                    data = resp.read()
                    extra = [(k, v) for k, v in resp.getheaders()
                             if k.lower() not in HOP_BY_HOP | {"content-length", "content-type",
                                                               "server", "date"}]
                    return resp.status, resp.getheader("Content-Type", "text/xml"), data, extra
                finally:
                    conn.close()

            def _hostile(self, rule, service, body):
                kind = rule["kind"]
                if kind == "stall":
                    time.sleep(rule.get("seconds", 30))
                    self.close_connection = True
                    return
                if kind == "throttle":
                    self._fault("throttle")
                    return
                if kind == "expired":
                    code = "ExpiredTokenException" if self._is_json() else "ExpiredToken"
                    self._error(400, service, code, "The security token included in the "
                                "request is expired")
                    return
                if kind == "error200":
                    self._error(200, service, rule.get("code", "InternalError"),
                                "an error document in a 200 answer (faultproxy)")
                    return
                status, ctype, data, extra = self._upstream(body)
                if kind == "truncate":
                    self._answer(status, ctype, data[:len(data) // 2], extra)
                elif kind == "cut":
                    self.send_response(status)
                    self.send_header("Content-Type", ctype)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data[:len(data) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                elif kind == "html":
                    self._answer(200, "text/html", b"<html><head><title>502</title></head>"
                                 b"<body><p>Bad gateway<br></body></html>")
                elif kind == "ctype":
                    self._answer(status, rule.get("ctype", "text/html"), data, extra)
                else:
                    raise ValueError("unknown hostile kind %r" % kind)

            def _body(self):
                n = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(n) if n else b""

            def _answer(self, status, ctype, body, extra=()):
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                for k, v in extra:
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)

            def _fault(self, kind):
                ctype = self.headers.get("Content-Type", "")
                auth = self.headers.get("Authorization", "")
                m = re.search(r"Credential=[^/]+/[^/]+/[^/]+/([^/]+)/", auth)
                service = m.group(1) if m else ""
                status = 503 if kind == "503" else 400
                if self.headers.get("X-Amz-Target") or "amz-json" in ctype:
                    code = "ServiceUnavailableException" if kind == "503" else "ThrottlingException"
                    body = ('{"__type":"%s","message":"injected by faultproxy"}' % code).encode()
                    self._answer(status, "application/x-amz-json-1.1", body)
                elif service == "s3":
                    # S3 throttles with 503 SlowDown, and a HEAD answer has no
                    # body: the status alone must say what it is, as on S3.
                    code = "ServiceUnavailable" if kind == "503" else "SlowDown"
                    body = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>%s</Code>"
                            "<Message>injected by faultproxy</Message>"
                            "<RequestId>faultproxy</RequestId></Error>" % code).encode()
                    self._answer(503, "application/xml", b"" if self.command == "HEAD" else body)
                elif service == "ec2":
                    code = "Unavailable" if kind == "503" else "RequestLimitExceeded"
                    body = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Errors><Error>"
                            "<Code>%s</Code><Message>injected by faultproxy</Message></Error>"
                            "</Errors><RequestID>faultproxy</RequestID></Response>" % code).encode()
                    self._answer(status, "text/xml", body)
                else:
                    code = "ServiceUnavailable" if kind == "503" else "Throttling"
                    body = ("<ErrorResponse><Error><Type>Sender</Type><Code>%s</Code>"
                            "<Message>injected by faultproxy</Message></Error>"
                            "<RequestId>faultproxy</RequestId></ErrorResponse>" % code).encode()
                    self._answer(status, "text/xml", body)

            def _forward(self, body, lose=False):
                conn = http.client.HTTPConnection(proxy.up_host, proxy.up_port, timeout=120)
                try:
                    headers = {k: v for k, v in self.headers.items()
                               if k.lower() not in HOP_BY_HOP}
                    conn.request(self.command, self.path, body=body, headers=headers)
                    resp = conn.getresponse()
                    data = resp.read()
                    if proxy.answer_latency_ms:
                        time.sleep(proxy.answer_latency_ms / 1000.0)
                    if lose or proxy._lose_answer(self.command, self.path):
                        self.close_connection = True
                        return
                    extra = [(k, v) for k, v in resp.getheaders()
                             if k.lower() not in HOP_BY_HOP | {"content-length", "content-type",
                                                               "server", "date"}]
                    self._answer(resp.status, resp.getheader("Content-Type", "text/xml"), data,
                                 extra)
                finally:
                    conn.close()

            def _handle(self):
                with proxy.lock:
                    proxy.inflight += 1
                try:
                    self._handle_counted()
                finally:
                    with proxy.lock:
                        proxy.inflight -= 1

            def _handle_counted(self):
                body = self._body()
                if proxy.rules or proxy.clock_offset:
                    service, op = self._service_op(body)
                    if proxy._skewed(self.headers):
                        self._error(403, service, proxy.skew_code,
                                    "The difference between the request time and the "
                                    "current time is too large.")
                        return
                    rule = proxy._rule_for(service, op, self.headers)
                    if rule:
                        self._hostile(rule, service, body)
                        return
                kind, latency = proxy._decide()
                if latency:
                    time.sleep(latency / 1000.0)
                if kind == "drop":
                    self.close_connection = True
                    return
                if kind == "forward":
                    self._forward(body, proxy._losing(body, self.headers.get("X-Amz-Target", "")))
                else:
                    self._fault(kind)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = _handle

        return Handler


def main():
    ap = argparse.ArgumentParser(description="fault-injecting HTTP proxy")
    ap.add_argument("upstream")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--latency-ms", type=int, default=0)
    ap.add_argument("--fault-rate", type=float, default=0.0)
    ap.add_argument("--drop-rate", type=float, default=0.0)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    p = FaultProxy(a.upstream, a.port, a.latency_ms, a.fault_rate, a.drop_rate, a.seed)
    print(p.url, flush=True)
    try:
        p.server.serve_forever()
    except KeyboardInterrupt:
        pass
    print("requests=%d forwarded=%d faults=%d drops=%d"
          % (p.requests, p.forwarded, p.faults, p.drops), flush=True)


if __name__ == "__main__":
    main()
